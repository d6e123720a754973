// Conv3d: forward and backward, as PyTorch's torch.nn.Conv3d (groups 1, dilation 1,
// https://pytorch.org/docs/stable/generated/torch.nn.Conv3d.html).

/// A 3-D convolution (cross-correlation, zero padding).
///
/// - input `x`: N × Cin × D × H × W
/// - weight: Cout × Cin × k × k × k (PyTorch layout), bias: Cout (optional)
/// - output `y`: N × Cout × oD × oH × oW with `o = floor((i + 2p − k)/s) + 1`
///
/// Per sample, `y[n] = W · unfold(x[n])` with W viewed as Cout × (Cin·k³). The unfolded matrix
/// never exists whole: each worker unfolds one cache-sized slab of channels at a time
/// (`multiplyUnfolded`), for one sample or for a small group of samples side by side when their
/// outputs are small (`SideBySide`).
public final class Conv3d: Layer {

    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    public let weight: Parameter
    public let bias: Parameter?
    public var isTraining = true

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
    ///   - padding: zero padding p on both sides of every axis.
    ///   - bias: whether a per-channel bias is added.
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1,
                padding: Int = 0, bias: Bool = false) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        let k = kernelSize
        weight = Parameter(name: "weight", shape: [outputChannels, inputChannels, k, k, k])
        self.bias = bias ? Parameter(name: "bias", shape: [outputChannels]) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    /// y[n, co, o] = Σ_{ci,k} x[n, ci, o·s − p + k] · w[co, ci, k] (+ b[co]).
    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 5 && x.shape[1] == inputChannels,
                     "Conv3d expects N×\(inputChannels)×D×H×W, got \(x.shape)")
        let g = ConvolutionGeometry(channels: inputChannels,
                                    inputExtent: SIMD3(x.shape[2], x.shape[3], x.shape[4]),
                                    kernel: kernelSize, stride: stride, padding: padding)
        let batch = x.shape[0]
        input = x
        geometry = g
        output.resize(to: [batch, outputChannels, g.outputExtent.x, g.outputExtent.y,
                           g.outputExtent.z])
        let (xData, yData, wData) = (x.data, output.data, weight.value.data)
        let (cout, rows, columns) = (outputChannels, g.rows, g.columns)

        if g.isFullyConnected {
            // 1. The unfolded sample is the sample itself: Y (N×Cout) = X (N×K) · Wᵀ, one
            //    product per worker's samples.
            ComputeThreads.distribute(batch) { _, samples in
                BLAS.gemm(transposeB: true, m: samples.count, n: cout, k: rows,
                          a: xData + samples.lowerBound * rows, lda: rows, b: wData, ldb: rows,
                          c: yData + samples.lowerBound * cout, ldc: cout)
            }
        } else {
            // 1. Per group of samples side by side: Y (Cout × S·L) = W (Cout×K) · columns (K × S·L),
            //    one slab of unfolded channels at a time, then scattered to y[n].
            let workers = ComputeThreads.workers(for: batch)
            let group = SideBySide.samples(columns: columns,
                                           available: (batch + workers - 1) / workers)
            workspace.reserve(workers: workers, slab: g.slabScratchSize(count: group),
                              products: group > 1 ? cout * columns * group : 0)
            let (scratches, products) = (workspace.slabPointers, workspace.productPointers)
            let run = { (worker: Int, samples: Range<Int>) in
                let groupStarts = Swift.stride(from: samples.lowerBound, to: samples.upperBound,
                                               by: group)
                for first in groupStarts {
                    let count = min(group, samples.upperBound - first)
                    let y = yData + first * cout * columns
                    g.multiplyUnfolded(xData + first * g.volumeSize, count: count,
                                       scratch: scratches[worker],
                                       product: (UnsafePointer(wData), cout,
                                                 count == 1 ? y : products[worker]),
                                       weightGradient: nil)
                    if count > 1 {
                        SideBySide.scatter(products[worker], channels: cout, length: columns,
                                           count: count, into: y)
                    }
                }
            }
            ComputeThreads.distribute(batch, run)
        }

        // 2. Bias, broadcast over every output voxel.
        if let bias {
            let b = bias.value.data
            for n in 0..<batch {
                for co in 0..<cout {
                    let row = yData + (n * cout + co) * columns
                    let value = b[co]
                    for index in 0..<columns { row[index] += value }
                }
            }
        }
        return output
    }

    /// Backward of `y = W · unfold(x) + b`:
    ///   dW += dy[n] · unfold(x[n])ᵀ,  db += Σ dy,  dx[n] = fold(Wᵀ · dy[n]).
    /// Parameters whose `requiresGradient` is false are skipped, with their work.
    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let x = input, let g = geometry else { preconditionFailure("backward before forward") }
        precondition(dy.shape == output.shape, "Conv3d gradient shape \(dy.shape) ≠ \(output.shape)")
        let batch = x.shape[0]
        let (cout, rows, columns) = (outputChannels, g.rows, g.columns)
        let (xData, dyData, wData) = (x.data, dy.data, weight.value.data)
        if needsInputGradient { inputGradient.resize(to: x.shape) }
        let dxData = inputGradient.data
        let wantsWeightGradient = weight.requiresGradient

        if g.isFullyConnected {
            // dW (Cout×K) += dYᵀ (Cout×N) · X (N×K);  dX (N×K) = dY (N×Cout) · W (Cout×K), the
            // workers taking samples.
            if wantsWeightGradient {
                BLAS.addTransposedProduct(m: cout, n: rows, k: batch, a: dyData, b: xData,
                                          c: weight.gradient.data)
            }
            if needsInputGradient {
                ComputeThreads.distribute(batch) { _, samples in
                    BLAS.gemm(m: samples.count, n: rows, k: cout,
                              a: dyData + samples.lowerBound * cout, lda: cout, b: wData,
                              ldb: rows, c: dxData + samples.lowerBound * rows, ldc: rows)
                }
            }
        } else if wantsWeightGradient || needsInputGradient {
            let workers = ComputeThreads.workers(for: batch)
            let weightCount = wantsWeightGradient ? weight.value.count : 0
            let group = SideBySide.samples(columns: columns,
                                           available: (batch + workers - 1) / workers)
            workspace.reserve(workers: workers, slab: g.slabScratchSize(count: group),
                              weightGradients: weightCount,
                              products: group > 1 ? cout * columns * group : 0)
            let scratches = workspace.slabPointers
            let weightGradients = workspace.weightGradientPointers
            let products = workspace.productPointers
            let run = { (worker: Int, samples: Range<Int>) in
                // Each worker sums its samples' dW privately; the sums are added in worker order.
                let dW = weightGradients[worker]
                dW.update(repeating: 0, count: weightCount)
                let groupStarts = Swift.stride(from: samples.lowerBound, to: samples.upperBound,
                                               by: group)
                for first in groupStarts {
                    let count = min(group, samples.upperBound - first)
                    // dY of the group as Cout × S·L, side by side like the columns.
                    let dyGroup = SideBySide.group(dyData + first * cout * columns, channels: cout,
                                                   length: columns, count: count,
                                                   scratch: products[worker])
                    if wantsWeightGradient {
                        g.multiplyUnfolded(xData + first * g.volumeSize, count: count,
                                           scratch: scratches[worker], product: nil,
                                           weightGradient: (dyGroup, cout, dW))
                    }
                    if needsInputGradient {
                        g.foldProduct(weights: wData, inner: cout, sideBySide: dyGroup,
                                      count: count, scratch: scratches[worker],
                                      into: dxData + first * g.volumeSize)
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
            for n in 0..<batch {
                for co in 0..<cout {
                    let row = dyData + (n * cout + co) * columns
                    var sum: Float = 0
                    for index in 0..<columns { sum += row[index] }
                    db[co] += sum
                }
            }
        }
        return needsInputGradient ? inputGradient : nil
    }
}

/// Per-worker scratch buffers, grown on demand and kept for the layer's lifetime.
struct Workspace {

    private var slabBuffers: [Tensor] = []
    private var weightGradientBuffers: [Tensor] = []
    private var productBuffers: [Tensor] = []

    /// A slab of unfolded rows or of a product waiting to be folded (`slabScratchSize`).
    var slabPointers: [UnsafeMutablePointer<Float>] { slabBuffers.map { $0.data } }
    var weightGradientPointers: [UnsafeMutablePointer<Float>] {
        weightGradientBuffers.map { $0.data }
    }
    /// Channels × S·L matrices: a group's inputs, outputs or gradients side by side.
    var productPointers: [UnsafeMutablePointer<Float>] { productBuffers.map { $0.data } }

    /// Every kind gets one buffer per worker, possibly empty, so that indexing by worker is
    /// always valid.
    mutating func reserve(workers: Int, slab: Int, weightGradients: Int = 0, products: Int = 0) {
        Self.grow(&slabBuffers, workers: workers, size: slab)
        Self.grow(&weightGradientBuffers, workers: workers, size: weightGradients)
        Self.grow(&productBuffers, workers: workers, size: products)
    }

    private static func grow(_ buffers: inout [Tensor], workers: Int, size: Int) {
        while buffers.count < workers { buffers.append(Tensor(shape: [0])) }
        for buffer in buffers where buffer.count < size { buffer.resize(to: [size]) }
    }
}

/// Several samples in one matrix product. At 4³ and 8³ a sample's product has only 64 or 512
/// columns, too few for sgemm to repay packing the weights, so a worker puts a group of S
/// samples side by side (K × S·L) and runs one product per slab for the group.
enum SideBySide {

    /// Columns (S·L) a group aims at; sgemm runs near its full rate from about here.
    static let targetColumns = 512

    /// Samples per group for a layer with `columns` output voxels per sample, when a worker
    /// has `available` samples. (Memory does not limit the group: only one slab of its
    /// unfolded matrix exists at a time.)
    static func samples(columns: Int, available: Int) -> Int {
        max(1, min(available, targetColumns / max(1, columns)))
    }

    /// target (C × count·L)[c, s·L + l] = source (count × C × L)[s, c, l].
    static func gather(_ source: UnsafePointer<Float>, channels: Int, length: Int, count: Int,
                       into target: UnsafeMutablePointer<Float>) {
        let width = count * length
        for s in 0..<count {
            for c in 0..<channels {
                (target + c * width + s * length).update(
                    from: source + (s * channels + c) * length, count: length)
            }
        }
    }

    /// The group's C × count·L matrix: the samples themselves when there is one, else
    /// gathered into `scratch`.
    static func group(_ source: UnsafePointer<Float>, channels: Int, length: Int, count: Int,
                      scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        guard count > 1 else { return source }
        gather(source, channels: channels, length: length, count: count, into: scratch)
        return UnsafePointer(scratch)
    }

    /// The inverse of `gather`: target (count × C × L)[s, c, l] = source (C × count·L)[c, s·L + l].
    static func scatter(_ source: UnsafePointer<Float>, channels: Int, length: Int, count: Int,
                        into target: UnsafeMutablePointer<Float>) {
        let width = count * length
        for s in 0..<count {
            for c in 0..<channels {
                (target + (s * channels + c) * length).update(
                    from: source + c * width + s * length, count: length)
            }
        }
    }
}
