// ConvTranspose3d: forward and backward, as PyTorch's torch.nn.ConvTranspose3d (groups 1,
// dilation 1, output_padding 0, https://pytorch.org/docs/stable/generated/torch.nn.ConvTranspose3d.html).

/// A 3-D transposed convolution: the adjoint of `Conv3d` with the same weight tensor.
///
/// - input `x`: N × Cin × D × H × W
/// - weight: Cin × Cout × k × k × k (PyTorch layout), bias: Cout (optional)
/// - output `y`: N × Cout × oD × oH × oW with `o = (i − 1)·s − 2p + k`
///
/// Per sample, `y[n] = fold(Wᵀ · x[n])` with W viewed as Cin × (Cout·k³): every input voxel
/// scatters a k³ block into the output. The fold is Conv3d's unfold run backwards, with the
/// convolution reading the *output* volume.
public final class ConvTranspose3d: Layer {

    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    public let weight: Parameter
    public let bias: Parameter?
    public var isTraining = true {
        didSet { if isTraining { (isFrozen, frozenWeights) = (false, nil) } }
    }

    /// From `freezeForInference()` until training mode: the weights no longer change, and for
    /// kernel 4, stride 2, padding 1 they are also regrouped by tap class.
    private var isFrozen = false
    private var frozenWeights: TapClassWeights?
    private var input: Tensor?
    private var geometry: ConvolutionGeometry?
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private var workspace = Workspace()

    /// - Parameters:
    ///   - inputChannels: Cin.
    ///   - outputChannels: Cout.
    ///   - kernelSize: k, the same along D, H and W.
    ///   - stride: s along every axis.
    ///   - padding: p, cropped from both sides of every output axis.
    ///   - bias: whether a per-channel bias is added.
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1,
                padding: Int = 0, bias: Bool = false) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        let k = kernelSize
        weight = Parameter(name: "weight", shape: [inputChannels, outputChannels, k, k, k])
        self.bias = bias ? Parameter(name: "bias", shape: [outputChannels]) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    /// Promises that the weights no longer change, for a layer that only generates. Forward
    /// passes then compute every sample alone with single-threaded products in fixed slabs of
    /// output channels, so that a sample's output is the same bits whatever its batch and the
    /// thread count; and for kernel 4, stride 2, padding 1 the weights are regrouped once so
    /// that inputs of at most 8³ skip the products the padding crops (`skipsCroppedBorder`).
    /// Sets evaluation mode and stops the parameters' gradients; training mode, or a weight
    /// requiring its gradient again, returns to the plain path. Writing the weights afterwards
    /// is the one change it cannot notice, so freeze only layers nothing trains any more.
    public func freezeForInference() {
        isTraining = false
        isFrozen = true
        parameters.forEach { $0.requiresGradient = false }
        guard kernelSize == 4, stride == 2, padding == 1 else { return }
        frozenWeights = TapClassWeights(weight: weight.value.data, inputChannels: inputChannels,
                                        outputChannels: outputChannels)
    }

    /// The output extent for an input extent: `(i − 1)·s − 2p + k` per axis.
    public func outputExtent(for inputExtent: SIMD3<Int>) -> SIMD3<Int> {
        (inputExtent &- 1) &* stride &- 2 &* padding &+ kernelSize
    }

    /// y[n, co, i·s − p + k] += x[n, ci, i] · w[ci, co, k] (+ b[co]).
    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 5 && x.shape[1] == inputChannels,
                     "ConvTranspose3d expects N×\(inputChannels)×D×H×W, got \(x.shape)")
        let inExtent = SIMD3(x.shape[2], x.shape[3], x.shape[4])
        let outExtent = outputExtent(for: inExtent)
        // The convolution whose adjoint this is reads the output volume.
        let g = ConvolutionGeometry(channels: outputChannels, inputExtent: outExtent,
                                    kernel: kernelSize, stride: stride, padding: padding)
        precondition(g.outputExtent == inExtent, "inconsistent transposed-convolution geometry")
        let batch = x.shape[0]
        input = x
        geometry = g
        output.resize(to: [batch, outputChannels, outExtent.x, outExtent.y, outExtent.z])
        let (xData, yData, wData) = (x.data, output.data, weight.value.data)
        let (cin, rows, columns) = (inputChannels, g.rows, g.columns)

        let frozen = isFrozen && !weight.requiresGradient
        if frozen, let regrouped = frozenWeights, g.skipsCroppedBorder {
            // 1. Frozen, small inputs: each sample's products without the cropped border, on
            //    one thread each, or shared between two when there are fewer samples than
            //    threads (the same products either way).
            let shared = batch < ComputeThreads.count
            workspace.reserve(workers: shared ? 1 : ComputeThreads.workers(for: batch),
                              slab: g.borderSkippingScratchSize(inputChannels: cin))
            let scratches = workspace.slabPointers
            let run = { (worker: Int, samples: Range<Int>) in
                for n in samples {
                    g.foldProductSkippingBorder(weights: regrouped, x: xData + n * cin * columns,
                                                scratch: scratches[worker],
                                                into: yData + n * g.volumeSize, shared: shared)
                }
            }
            if shared {
                BLAS.setThreads(1)
                run(0, 0..<batch)
            } else {
                ComputeThreads.parallelRanges(batch, blasThreads: 1, run)
            }
        } else if g.isFullyConnected {
            // 1. A 1³ input scattering a whole k³ block: Y (N×Cout·k³) = X (N×Cin) · W, one
            //    product per worker's samples. For one or two samples (and always when frozen,
            //    so that a sample's row does not depend on the rows beside it) a matrix-vector
            //    product each, because sgemm would copy all of W (13 MB in the 32³ generator)
            //    into its packed layout to use it for one or two rows.
            let run = { (_: Int, samples: Range<Int>) in
                if frozen || samples.count <= 2 {
                    for n in samples {
                        BLAS.gemv(transposeA: true, m: cin, n: rows, a: wData, lda: rows,
                                  x: xData + n * cin, y: yData + n * rows)
                    }
                } else {
                    BLAS.gemm(m: samples.count, n: rows, k: cin,
                              a: xData + samples.lowerBound * cin, lda: cin, b: wData, ldb: rows,
                              c: yData + samples.lowerBound * rows, ldc: rows)
                }
            }
            frozen ? ComputeThreads.parallelRanges(batch, blasThreads: 1, run)
                   : ComputeThreads.distribute(batch, run)
        } else if frozen {
            // 1. Frozen, large inputs: each sample alone, one slab of output channels at a time.
            let slab = g.slabChannels(count: 1)
            let split = Self.frozenSplit(batch: batch, channels: outputChannels, slab: slab)
            workspace.reserve(workers: split.workers,
                              slab: g.slabScratchSize(count: 1))
            let scratches = workspace.slabPointers
            Self.eachFrozenSample(batch: batch, channels: outputChannels, slab: slab) {
                worker, n, channels in
                g.foldProduct(weights: wData, inner: cin, sideBySide: xData + n * cin * columns,
                              count: 1, outputChannels: channels, scratch: scratches[worker],
                              into: yData + n * g.volumeSize)
            }
        } else {
            // 1. Per group of samples side by side: columns (Cout·k³ × S·L) = Wᵀ · X (Cin × S·L),
            //    folded into y[n] one slab of output channels at a time.
            let workers = ComputeThreads.workers(for: batch)
            let group = SideBySide.samples(columns: columns,
                                           available: (batch + workers - 1) / workers)
            workspace.reserve(workers: workers, slab: g.slabScratchSize(count: group),
                              products: group > 1 ? cin * columns * group : 0)
            let (scratches, products) = (workspace.slabPointers, workspace.productPointers)
            let run = { (worker: Int, samples: Range<Int>) in
                let groupStarts = Swift.stride(from: samples.lowerBound, to: samples.upperBound,
                                               by: group)
                for first in groupStarts {
                    let count = min(group, samples.upperBound - first)
                    let xGroup = SideBySide.group(xData + first * cin * columns, channels: cin,
                                                  length: columns, count: count,
                                                  scratch: products[worker])
                    g.foldProduct(weights: wData, inner: cin, sideBySide: xGroup, count: count,
                                  scratch: scratches[worker], into: yData + first * g.volumeSize)
                }
            }
            ComputeThreads.distribute(batch, run)
        }

        // 2. Bias, broadcast over every output voxel.
        if let bias {
            let b = bias.value.data
            let voxels = outExtent.x * outExtent.y * outExtent.z
            for n in 0..<batch {
                for co in 0..<outputChannels {
                    let row = yData + (n * outputChannels + co) * voxels
                    let value = b[co]
                    for index in 0..<voxels { row[index] += value }
                }
            }
        }
        return output
    }

    /// Whether `eachFrozenSample` gives the workers a sample's slabs rather than samples, and
    /// how many workers it uses: the one decision both the scratch and the split follow.
    private static func frozenSplit(batch: Int, channels: Int, slab: Int)
        -> (bySlabs: Bool, slabs: Int, workers: Int)
    {
        let slabs = (channels + slab - 1) / slab
        let bySlabs = batch < ComputeThreads.count && slabs > 1
        return (bySlabs, slabs, ComputeThreads.workers(for: bySlabs ? slabs : batch))
    }

    /// Runs `body(worker, sample, outputChannels)` over every sample and all its output
    /// channels with OpenBLAS on one thread: the workers take samples, or, with fewer samples
    /// than workers, each sample's slabs of `slab` output channels. Every slab is the same
    /// products either way, so a sample's output does not depend on its batch or the thread
    /// count (OpenBLAS splitting a product among its threads rounds some entries differently).
    private static func eachFrozenSample(batch: Int, channels: Int, slab: Int,
                                         _ body: (Int, Int, Range<Int>) -> Void) {
        let split = frozenSplit(batch: batch, channels: channels, slab: slab)
        if split.bySlabs {
            for n in 0..<batch {
                ComputeThreads.parallelRanges(split.slabs, blasThreads: 1) { worker, part in
                    body(worker, n, part.lowerBound * slab..<min(channels, part.upperBound * slab))
                }
            }
        } else {
            ComputeThreads.parallelRanges(batch, blasThreads: 1) { worker, samples in
                for n in samples { body(worker, n, 0..<channels) }
            }
        }
    }

    /// Backward of `y = fold(Wᵀ · x) + b`, with `u = unfold(dy[n])`:
    ///   dx[n] = W · u,  dW += x[n] · uᵀ,  db += Σ dy.
    /// Parameters whose `requiresGradient` is false are skipped, with their work.
    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let x = input, let g = geometry else { preconditionFailure("backward before forward") }
        precondition(dy.shape == output.shape,
                     "ConvTranspose3d gradient shape \(dy.shape) ≠ \(output.shape)")
        let batch = x.shape[0]
        let (cin, rows, columns) = (inputChannels, g.rows, g.columns)
        let (xData, dyData, wData) = (x.data, dy.data, weight.value.data)
        if needsInputGradient { inputGradient.resize(to: x.shape) }
        let dxData = inputGradient.data
        let wantsWeightGradient = weight.requiresGradient

        if g.isFullyConnected {
            // dW (Cin×Cout·k³) += Xᵀ (Cin×N) · dY (N×Cout·k³);  dX (N×Cin) = dY · Wᵀ, the
            // workers taking samples.
            if wantsWeightGradient {
                BLAS.addTransposedProduct(m: cin, n: rows, k: batch, a: xData, b: dyData,
                                          c: weight.gradient.data)
            }
            if needsInputGradient {
                ComputeThreads.distribute(batch) { _, samples in
                    BLAS.gemm(transposeB: true, m: samples.count, n: cin, k: rows,
                              a: dyData + samples.lowerBound * rows, lda: rows, b: wData,
                              ldb: rows, c: dxData + samples.lowerBound * cin, ldc: cin)
                }
            }
        } else if wantsWeightGradient || needsInputGradient {
            let workers = ComputeThreads.workers(for: batch)
            let weightCount = wantsWeightGradient ? weight.value.count : 0
            let group = SideBySide.samples(columns: columns,
                                           available: (batch + workers - 1) / workers)
            // Products hold the group's x and, after it, its dx (Cin × S·L each).
            let productSize = cin * columns * group
            workspace.reserve(workers: workers, slab: g.slabScratchSize(count: group),
                              weightGradients: weightCount,
                              products: group > 1 ? 2 * productSize : 0)
            let scratches = workspace.slabPointers
            let weightGradients = workspace.weightGradientPointers
            let products = workspace.productPointers
            let run = { (worker: Int, samples: Range<Int>) in
                let dW = weightGradients[worker]
                dW.update(repeating: 0, count: weightCount)
                let groupStarts = Swift.stride(from: samples.lowerBound, to: samples.upperBound,
                                               by: group)
                for first in groupStarts {
                    let count = min(group, samples.upperBound - first)
                    let dx = dxData + first * cin * columns
                    let dxGroup = count == 1 ? dx : products[worker] + productSize
                    let xGroup = { SideBySide.group(xData + first * cin * columns, channels: cin,
                                                    length: columns, count: count,
                                                    scratch: products[worker]) }
                    g.multiplyUnfolded(dyData + first * g.volumeSize, count: count,
                                       scratch: scratches[worker],
                                       product: needsInputGradient
                                           ? (UnsafePointer(wData), cin, dxGroup) : nil,
                                       weightGradient: wantsWeightGradient
                                           ? (xGroup(), cin, dW) : nil)
                    if needsInputGradient && count > 1 {
                        SideBySide.scatter(dxGroup, channels: cin, length: columns, count: count,
                                           into: dx)
                    }
                }
            }
            ComputeThreads.distribute(batch, run)
            let dW = weight.gradient.data
            for worker in 0..<workers {
                let partial = weightGradients[worker]
                for index in 0..<weightCount { dW[index] += partial[index] }
            }
        }

        if let bias, bias.requiresGradient {
            let db = bias.gradient.data
            let voxels = g.volumeSize / outputChannels
            for n in 0..<batch {
                for co in 0..<outputChannels {
                    let row = dyData + (n * outputChannels + co) * voxels
                    var sum: Float = 0
                    for index in 0..<voxels { sum += row[index] }
                    db[co] += sum
                }
            }
        }
        return needsInputGradient ? inputGradient : nil
    }
}
