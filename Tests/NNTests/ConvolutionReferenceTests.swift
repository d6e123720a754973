// Conv3d and ConvTranspose3d against a direct implementation of their definitions (PyTorch's
// semantics), on seeded random cases: forward y and backward dx, dW, db through every path the
// layers take (slabs of channels, samples side by side with a remainder, the 1³ ↔ k³ products,
// the kernel-4 stride-2 loops, one or two workers, buffers resized between calls), and the slab
// products themselves with budgets small enough to split them.
//
// The reference never unfolds anything: it lists every (volume voxel, column voxel, tap) triple
// of a convolution from the definition and sums over it in double precision. "Volume" is the
// side a Conv3d reads (its input; a ConvTranspose3d's output), "columns" the other side, one
// voxel per Conv3d output. Both layers' weights are then W[column channel, volume channel, tap].
import NN
import XCTest

final class ConvolutionReferenceTests: XCTestCase {

    private var savedThreads = ComputeThreads.count

    override func setUp() { savedThreads = ComputeThreads.count }

    override func tearDown() { ComputeThreads.count = savedThreads }

    /// 150 random cases, then three whose products the layers split into slabs at their 1 MB
    /// budget.
    func testLayersMatchTheDefinitionOnRandomCases() {
        var cases = (0..<150).map { LayerCase.random(seed: 1000 + UInt64($0)) }
        cases += LayerCase.slabSplitting
        var coverage = Coverage()
        for layerCase in cases {
            coverage.count(layerCase)
            check(layerCase)
        }
        print("ConvolutionReference: \(cases.count) layer cases, \(coverage)")
        XCTAssertGreaterThan(coverage.remainders, 10,
                             "too few side-by-side groups with a remainder")
        XCTAssertGreaterThan(coverage.fullyConnected, 10, "too few fully connected passes")
        XCTAssertGreaterThan(coverage.stride2Kernel4, 10, "too few kernel-4 stride-2 passes")
    }

    /// `multiplyUnfolded` and `foldProduct` with budgets from below one channel's slab to all
    /// channels at once, on random geometries and side-by-side counts.
    func testSlabProductsMatchTheDefinitionForSmallBudgets() {
        for index in 0..<200 { checkSlabProducts(seed: 5000 + UInt64(index)) }
    }

    /// A worker's last group can hold fewer samples than the group size the layer reserved
    /// scratch for, and a smaller group fits more channels in a slab: at 64 columns and k = 4 a
    /// group of 5 fits 12 channels (245,760 floats), a group of 4 fits 16 (262,144). With 16
    /// volume-side channels, batch 5 of 4×4×8 → 8×8×16 on two workers (shares 2 and 3, groups
    /// of 3) or batch 9 of 4³ → 8³ (shares 4 and 5) once ran the smaller group's slab past the
    /// scratch (heap corruption, then a crash); `slabScratchSize` now covers every group size
    /// up to the reserved one.
    func testRemainderGroupsFitTheScratchReservedForFullGroups() {
        let cases = [
            LayerCase(seed: 4, flavor: .slabSplitting, isTransposed: true, kernel: 4, stride: 2,
                      padding: 1, inputChannels: 1, outputChannels: 16, hasBias: false,
                      threads: 2,
                      passes: [LayerCase.Pass(batch: 5, extent: SIMD3(4, 4, 8)),
                               LayerCase.Pass(batch: 9, extent: SIMD3(4, 4, 4))],
                      secondPassWantsInputGradient: true),
            LayerCase(seed: 5, flavor: .slabSplitting, isTransposed: false, kernel: 4, stride: 2,
                      padding: 1, inputChannels: 16, outputChannels: 1, hasBias: false,
                      threads: 2,
                      passes: [LayerCase.Pass(batch: 5, extent: SIMD3(8, 8, 16)),
                               LayerCase.Pass(batch: 9, extent: SIMD3(8, 8, 8))],
                      secondPassWantsInputGradient: true),
        ]
        for layerCase in cases { check(layerCase) }
    }

    // MARK: - Layers

    /// Two forward–backward passes on one layer object (the second with another batch size and
    /// sometimes other extents), each output checked when returned, parameter gradients checked
    /// as they accumulate on top of a random starting gradient.
    private func check(_ c: LayerCase) {
        ComputeThreads.count = c.threads
        var random = SplitMix64(seed: c.seed)
        let layer: Layer = c.isTransposed
            ? ConvTranspose3d(inputChannels: c.inputChannels, outputChannels: c.outputChannels,
                              kernelSize: c.kernel, stride: c.stride, padding: c.padding,
                              bias: c.hasBias)
            : Conv3d(inputChannels: c.inputChannels, outputChannels: c.outputChannels,
                     kernelSize: c.kernel, stride: c.stride, padding: c.padding, bias: c.hasBias)
        let weight = layer.parameters[0]
        let bias = c.hasBias ? layer.parameters[1] : nil
        fillNormal(weight.value, &random)
        fillNormal(weight.gradient, &random)
        if let bias {
            fillNormal(bias.value, &random)
            fillNormal(bias.gradient, &random)
        }
        let weights = weight.value.toArray()
        let biases = bias?.value.toArray()
        var expectedWeightGradient = Sums(weight.gradient.toArray())
        var expectedBiasGradient = bias.map { Sums($0.gradient.toArray()) }

        for (index, pass) in c.passes.enumerated() {
            let name = "pass \(index + 1) of \(c)"
            let taps = c.taps(inputExtent: pass.extent)
            let (volumeChannels, columnChannels) = c.isTransposed
                ? (c.outputChannels, c.inputChannels) : (c.inputChannels, c.outputChannels)
            let outputExtent = c.isTransposed ? taps.volumeExtent : taps.columnExtent
            let outputShape = [pass.batch, c.outputChannels, outputExtent.x, outputExtent.y,
                               outputExtent.z]

            let x = Tensor(shape: [pass.batch, c.inputChannels, pass.extent.x, pass.extent.y,
                                   pass.extent.z])
            fillNormal(x, &random)
            let y = layer.forward(x)
            guard y.shape == outputShape else {
                XCTFail("y shape \(y.shape), expected \(outputShape) — \(name)")
                return
            }
            var expectedY = c.isTransposed
                ? Reference.volume(fromColumns: x.toArray(), weights: weights, batch: pass.batch,
                                   volumeChannels: volumeChannels,
                                   columnChannels: columnChannels, taps: taps)
                : Reference.columns(fromVolume: x.toArray(), weights: weights, batch: pass.batch,
                                    volumeChannels: volumeChannels,
                                    columnChannels: columnChannels, taps: taps)
            if let biases { expectedY.addBias(biases, batch: pass.batch) }
            assertClose(y.toArray(), expectedY, "y", name)

            let dy = Tensor(shape: outputShape)
            fillNormal(dy, &random)
            let wantsInputGradient = index == 0 || c.secondPassWantsInputGradient
            let dx = layer.backward(dy, needsInputGradient: wantsInputGradient)
            if wantsInputGradient {
                guard let dx, dx.shape == x.shape else {
                    XCTFail("dx shape \(dx?.shape ?? []), expected \(x.shape) — \(name)")
                    return
                }
                let expectedDx = c.isTransposed
                    ? Reference.columns(fromVolume: dy.toArray(), weights: weights,
                                        batch: pass.batch, volumeChannels: volumeChannels,
                                        columnChannels: columnChannels, taps: taps)
                    : Reference.volume(fromColumns: dy.toArray(), weights: weights,
                                       batch: pass.batch, volumeChannels: volumeChannels,
                                       columnChannels: columnChannels, taps: taps)
                assertClose(dx.toArray(), expectedDx, "dx", name)
            } else {
                XCTAssertNil(dx, "dx returned though not asked for — \(name)")
            }

            let (volume, columns) = c.isTransposed ? (dy.toArray(), x.toArray())
                                                   : (x.toArray(), dy.toArray())
            expectedWeightGradient.add(
                Reference.weights(volume: volume, columns: columns, batch: pass.batch,
                                  volumeChannels: volumeChannels, columnChannels: columnChannels,
                                  taps: taps))
            assertClose(weight.gradient.toArray(), expectedWeightGradient, "dW", name)
            if let bias {
                expectedBiasGradient!.add(Reference.channelSums(dy.toArray(), batch: pass.batch,
                                                                channels: c.outputChannels))
                assertClose(bias.gradient.toArray(), expectedBiasGradient!, "db", name)
            }
        }
    }

    // MARK: - Slab products

    /// One random geometry, `count` volumes side by side, a random budget:
    ///   P (m × width) = A (m × rows) · U,  dW (m × rows) += B (m × width) · Uᵀ,
    ///   volumes = fold(Aᵀ · B),
    /// each result followed by a guard that must stay untouched, as must the scratch's.
    private func checkSlabProducts(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let kernel = Int.random(in: 1...4, using: &random)
        let stride = Int.random(in: 1...3, using: &random)
        let padding = Int.random(in: 0...2, using: &random)
        let extent = randomConvolutionExtent(kernel: kernel, padding: padding, upTo: 6, &random)
        let g = ConvolutionGeometry(channels: Int.random(in: 1...6, using: &random),
                                    inputExtent: extent, kernel: kernel, stride: stride,
                                    padding: padding)
        let count = Int.random(in: 1...4, using: &random)
        let m = Int.random(in: 1...4, using: &random)
        let width = count * g.columns
        let perChannel = kernel * kernel * kernel * width
        let budget = Bool.random(using: &random)
            ? Int.random(in: 1..<perChannel + 1, using: &random)
            : perChannel * Int.random(in: 1...g.channels, using: &random)
                + Int.random(in: 0..<perChannel, using: &random)
        let mode = Int.random(in: 0...2, using: &random)  // both products, P only, dW only
        let name = "\(g.channels) channels \(extent.x)×\(extent.y)×\(extent.z) k \(kernel) "
            + "s \(stride) p \(padding), \(count) side by side, m \(m), budget \(budget), "
            + "mode \(mode), seed \(seed)"
        let expectedSlab = max(1, min(g.channels, budget / perChannel))
        XCTAssertEqual(g.slabChannels(count: count, budget: budget), expectedSlab, name)

        let taps = Taps(volumeExtent: extent, columnExtent: g.outputExtent, kernel: kernel,
                        stride: stride, padding: padding)
        XCTAssertEqual(taps.columnVoxels, g.columns, "output extent — \(name)")
        let volumes = normals(count * g.volumeSize, &random)
        let weights = normals(m * g.rows, &random)
        let outer = normals(m * width, &random)  // B, m × count·columns
        let startingGradient = normals(m * g.rows, &random)

        let guardSize = 32
        let sentinel: Float = 98765
        func guarded(_ values: [Float]) -> [Float] {
            values + [Float](repeating: sentinel, count: guardSize)
        }
        var scratch = guarded([Float](repeating: .nan,
                                      count: g.slabScratchSize(count: count, budget: budget)))
        var product = guarded([Float](repeating: .nan, count: m * width))
        var gradient = guarded(startingGradient)
        var folded = guarded([Float](repeating: .nan, count: count * g.volumeSize))
        let withProduct = mode != 2, withGradient = mode != 1
        volumes.withUnsafeBufferPointer { v in
            weights.withUnsafeBufferPointer { a in
                outer.withUnsafeBufferPointer { b in
                    scratch.withUnsafeMutableBufferPointer { s in
                        product.withUnsafeMutableBufferPointer { p in
                            gradient.withUnsafeMutableBufferPointer { d in
                                g.multiplyUnfolded(
                                    v.baseAddress!, count: count, scratch: s.baseAddress!,
                                    product: withProduct ? (a.baseAddress!, m, p.baseAddress!)
                                                         : nil,
                                    weightGradient: withGradient
                                        ? (b.baseAddress!, m, d.baseAddress!) : nil,
                                    budget: budget)
                            }
                        }
                        folded.withUnsafeMutableBufferPointer {
                            g.foldProduct(weights: a.baseAddress!, inner: m,
                                          sideBySide: b.baseAddress!, count: count,
                                          scratch: s.baseAddress!, into: $0.baseAddress!,
                                          budget: budget)
                        }
                    }
                }
            }
        }
        for (what, buffer) in [("scratch", scratch), ("P", product), ("dW", gradient),
                               ("folded volumes", folded)] {
            XCTAssertEqual(Array(buffer.suffix(guardSize)),
                           [Float](repeating: sentinel, count: guardSize),
                           "\(what) written past its end — \(name)")
        }

        // The side-by-side matrices (m × count·columns) as batches (count × m × columns).
        let outerAsBatch = Reference.batchOrder(sideBySide: outer, rows: m, count: count,
                                                columns: g.columns)
        if withProduct {
            let expected = Reference.columns(fromVolume: volumes, weights: weights, batch: count,
                                             volumeChannels: g.channels, columnChannels: m,
                                             taps: taps)
            let got = Reference.batchOrder(sideBySide: Array(product.prefix(m * width)),
                                           rows: m, count: count, columns: g.columns)
            assertClose(got, expected, "P = A·U", name)
        }
        if withGradient {
            var expected = Sums(startingGradient)
            expected.add(Reference.weights(volume: volumes, columns: outerAsBatch, batch: count,
                                           volumeChannels: g.channels, columnChannels: m,
                                           taps: taps))
            assertClose(Array(gradient.prefix(m * g.rows)), expected, "dW += B·Uᵀ", name)
        } else {
            XCTAssertEqual(Array(gradient.prefix(m * g.rows)), startingGradient,
                           "dW written though not asked for — \(name)")
        }
        let expectedFold = Reference.volume(fromColumns: outerAsBatch, weights: weights,
                                            batch: count, volumeChannels: g.channels,
                                            columnChannels: m, taps: taps)
        assertClose(Array(folded.prefix(count * g.volumeSize)), expectedFold, "fold(Aᵀ·B)", name)
    }

    // MARK: - Comparison

    /// |got − expected| ≤ 1e-4 · max(1, Σ|terms|) for every element: float rounding grows with
    /// the magnitude of what was summed, not with the (possibly cancelled) result. One failure
    /// line per tensor, with the count and the first offender.
    private func assertClose(_ got: [Float], _ expected: Sums, _ what: String, _ name: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        guard got.count == expected.values.count else {
            XCTFail("\(what): \(got.count) values, expected \(expected.values.count) — \(name)",
                    file: file, line: line)
            return
        }
        var bad = 0
        var first: Int?
        for index in got.indices {
            let error = abs(Double(got[index]) - expected.values[index])
            if !(error <= 1e-4 * max(1, expected.scales[index])) {
                bad += 1
                if first == nil { first = index }
            }
        }
        if let first {
            XCTFail("\(what): \(bad) of \(got.count) values differ, first at \(first): got "
                    + "\(got[first]), expected \(expected.values[first]) — \(name)",
                    file: file, line: line)
        }
    }
}

// MARK: - Cases

/// One randomized layer test: the layer, the thread count and two passes.
private struct LayerCase: CustomStringConvertible {

    /// A forward–backward pass: batch size and input extent (D, H, W).
    struct Pass {
        var batch: Int
        var extent: SIMD3<Int>
    }

    enum Flavor: String {
        case general
        /// Padding 0 and a kernel covering the whole Conv3d input: the 1³ ↔ k³ products.
        case fullyConnected = "fully connected"
        /// Kernel 4, stride 2, padding 1 on even extents: the models' layers.
        case stride2Kernel4 = "kernel-4 stride-2"
        /// Fixed shapes whose products split into slabs at the layers' own budget.
        case slabSplitting = "slab splitting"
    }

    var seed: UInt64
    var flavor: Flavor
    var isTransposed: Bool
    var kernel: Int
    var stride: Int
    var padding: Int
    var inputChannels: Int
    var outputChannels: Int
    var hasBias: Bool
    var threads: Int
    var passes: [Pass]
    var secondPassWantsInputGradient: Bool

    var description: String {
        let layer = isTransposed ? "ConvTranspose3d" : "Conv3d"
        let shapes = passes.map {
            "\($0.batch)×\(inputChannels)×\($0.extent.x)×\($0.extent.y)×\($0.extent.z)"
        }
        return "\(layer)(\(inputChannels) → \(outputChannels), k \(kernel), s \(stride), "
            + "p \(padding)\(hasBias ? ", bias" : "")), \(threads) thread(s), x "
            + shapes.joined(separator: " then ")
            + (secondPassWantsInputGradient ? "" : " (no dx 2nd)")
            + " [\(flavor.rawValue), seed \(seed)]"
    }

    /// The convolution's triples for an input extent; its extents come from the layers' doc
    /// comments: Conv3d o = floor((i + 2p − k)/s) + 1, ConvTranspose3d o = (i − 1)·s − 2p + k.
    func taps(inputExtent i: SIMD3<Int>) -> Taps {
        if isTransposed {
            let volume = (i &- 1) &* stride &- 2 &* padding &+ kernel
            return Taps(volumeExtent: volume, columnExtent: i, kernel: kernel, stride: stride,
                        padding: padding)
        }
        let columns = (i &+ 2 &* padding &- kernel) / stride &+ 1
        return Taps(volumeExtent: i, columnExtent: columns, kernel: kernel, stride: stride,
                    padding: padding)
    }

    /// Multiply-adds of one reference product over both passes; cases above a cap are drawn
    /// again so that the test stays quick in a debug build.
    var work: Int {
        passes.reduce(0) {
            let columns = taps(inputExtent: $1.extent).columnVoxels
            return $0 + $1.batch * inputChannels * outputChannels * kernel * kernel * kernel
                * columns
        }
    }

    static func random(seed: UInt64) -> LayerCase {
        var random = SplitMix64(seed: seed)
        while true {
            let c = draw(seed: seed, &random)
            if c.work <= 250_000 { return c }
        }
    }

    private static func draw(seed: UInt64, _ random: inout SplitMix64) -> LayerCase {
        let isTransposed = Bool.random(using: &random)
        let flavorDraw = Int.random(in: 0..<20, using: &random)
        let flavor: Flavor = flavorDraw < 4 ? .fullyConnected
            : flavorDraw < 9 ? .stride2Kernel4 : .general
        var (kernel, stride, padding) = (4, 2, 1)
        switch flavor {
        case .general, .slabSplitting:
            kernel = Int.random(in: 1...4, using: &random)
            stride = Int.random(in: 1...3, using: &random)
            padding = Int.random(in: 0...2, using: &random)
        case .fullyConnected:
            kernel = Bool.random(using: &random) ? 4 : Int.random(in: 1...3, using: &random)
            stride = Int.random(in: 1...3, using: &random)
            padding = 0
        case .stride2Kernel4:
            break
        }

        func extent() -> SIMD3<Int> {
            switch (flavor, isTransposed) {
            case (.fullyConnected, false): return SIMD3(repeating: kernel)
            case (.fullyConnected, true): return SIMD3(repeating: 1)
            case (.stride2Kernel4, false):
                // Rows of 16 and 24 voxels reach the four-at-a-time loops' middle blocks.
                let w = Int.random(in: 0..<6, using: &random) == 0
                    ? [16, 24].randomElement(using: &random)!
                    : 2 * Int.random(in: 1...4, using: &random)
                return SIMD3(2 * Int.random(in: 1...4, using: &random),
                             2 * Int.random(in: 1...4, using: &random), w)
            case (.stride2Kernel4, true):
                let w = Int.random(in: 0..<6, using: &random) == 0
                    ? [8, 12].randomElement(using: &random)!
                    : Int.random(in: 1...4, using: &random)
                return SIMD3(Int.random(in: 1...4, using: &random),
                             Int.random(in: 1...4, using: &random), w)
            case (_, false):
                return randomConvolutionExtent(kernel: kernel, padding: padding, upTo: 7,
                                               &random)
            case (_, true):
                while true {
                    let i = SIMD3(Int.random(in: 1...4, using: &random),
                                  Int.random(in: 1...4, using: &random),
                                  Int.random(in: 1...4, using: &random))
                    let volume = (i &- 1) &* stride &- 2 &* padding &+ kernel
                    if volume.min() >= 1 { return i }
                }
            }
        }

        let firstBatch = Int.random(in: 1...9, using: &random)
        var secondBatch = firstBatch
        while secondBatch == firstBatch { secondBatch = Int.random(in: 1...9, using: &random) }
        let firstExtent = extent()
        let secondExtent = Int.random(in: 0..<3, using: &random) == 0 ? extent() : firstExtent
        return LayerCase(seed: seed, flavor: flavor, isTransposed: isTransposed, kernel: kernel,
                         stride: stride, padding: padding,
                         inputChannels: Int.random(in: 1...5, using: &random),
                         outputChannels: Int.random(in: 1...5, using: &random),
                         hasBias: Bool.random(using: &random),
                         threads: Int.random(in: 1...2, using: &random),
                         passes: [Pass(batch: firstBatch, extent: firstExtent),
                                  Pass(batch: secondBatch, extent: secondExtent)],
                         secondPassWantsInputGradient: Bool.random(using: &random))
    }

    /// Kernel 4, stride 2, padding 1 with more channels on the volume side than the 1 MB budget
    /// (2¹⁸ floats) holds: 9 where 8 fit, for 8 samples of 4³ columns side by side (64 taps ×
    /// 512 columns per channel) and for one sample of 8³; 13 where 12 fit, for the group of 5
    /// of a batch of 9 on two workers.
    static let slabSplitting: [LayerCase] = [
        LayerCase(seed: 1, flavor: .slabSplitting, isTransposed: false, kernel: 4, stride: 2,
                  padding: 1, inputChannels: 9, outputChannels: 2, hasBias: true, threads: 1,
                  passes: [Pass(batch: 8, extent: SIMD3(8, 8, 8)),
                           Pass(batch: 1, extent: SIMD3(16, 16, 16))],
                  secondPassWantsInputGradient: true),
        LayerCase(seed: 2, flavor: .slabSplitting, isTransposed: true, kernel: 4, stride: 2,
                  padding: 1, inputChannels: 2, outputChannels: 9, hasBias: true, threads: 1,
                  passes: [Pass(batch: 8, extent: SIMD3(4, 4, 4)),
                           Pass(batch: 1, extent: SIMD3(8, 8, 8))],
                  secondPassWantsInputGradient: true),
        LayerCase(seed: 3, flavor: .slabSplitting, isTransposed: false, kernel: 4, stride: 2,
                  padding: 1, inputChannels: 13, outputChannels: 1, hasBias: false, threads: 2,
                  passes: [Pass(batch: 9, extent: SIMD3(8, 8, 8)),
                           Pass(batch: 1, extent: SIMD3(16, 16, 16))],
                  secondPassWantsInputGradient: true),
    ]
}

/// How many passes reached each path, by the layers' rules (`SideBySide`: groups of up to
/// 512 / columns samples within a worker's contiguous share of the batch).
private struct Coverage: CustomStringConvertible {

    var passes = 0, sideBySide = 0, remainders = 0, fullyConnected = 0, stride2Kernel4 = 0
    var twoWorkers = 0

    mutating func count(_ c: LayerCase) {
        for pass in c.passes {
            passes += 1
            let taps = c.taps(inputExtent: pass.extent)
            let volume = taps.volumeExtent
            if c.padding == 0 && volume == SIMD3(repeating: c.kernel) {
                fullyConnected += 1
                continue
            }
            if c.kernel == 4 && c.stride == 2 && c.padding == 1
                && volume.min() >= 2 && volume % 2 == SIMD3(repeating: 0) {
                stride2Kernel4 += 1
            }
            let workers = max(1, min(c.threads, pass.batch))
            if workers == 2 { twoWorkers += 1 }
            let available = (pass.batch + workers - 1) / workers
            let group = max(1, min(available, 512 / max(1, taps.columnVoxels)))
            guard group > 1 else { continue }
            sideBySide += 1
            let shares = (0..<workers).map {
                pass.batch * ($0 + 1) / workers - pass.batch * $0 / workers
            }
            if shares.contains(where: { $0 % group != 0 }) { remainders += 1 }
        }
    }

    var description: String {
        "\(passes) passes: \(sideBySide) side by side (\(remainders) with a remainder), "
            + "\(fullyConnected) fully connected, \(stride2Kernel4) kernel-4 stride-2, "
            + "\(twoWorkers) on two workers"
    }
}

// MARK: - Reference

/// Every (volume voxel, column voxel, tap) with volume = column·s − p + tap along each axis and
/// inside the volume; voxels are flat D·H·W indices, taps flat (kd, kh, kw).
private struct Taps {

    let volumeExtent: SIMD3<Int>
    let columnExtent: SIMD3<Int>
    let kernel: Int
    private(set) var triples: [(volume: Int, column: Int, tap: Int)] = []

    init(volumeExtent: SIMD3<Int>, columnExtent: SIMD3<Int>, kernel: Int, stride: Int,
         padding: Int) {
        self.volumeExtent = volumeExtent
        self.columnExtent = columnExtent
        self.kernel = kernel
        let (v, o) = (volumeExtent, columnExtent)
        for od in 0..<o.x {
            for oh in 0..<o.y {
                for ow in 0..<o.z {
                    for kd in 0..<kernel {
                        for kh in 0..<kernel {
                            for kw in 0..<kernel {
                                let (d, h, w) = (od * stride - padding + kd,
                                                 oh * stride - padding + kh,
                                                 ow * stride - padding + kw)
                                guard (0..<v.x).contains(d), (0..<v.y).contains(h),
                                      (0..<v.z).contains(w) else { continue }
                                triples.append((volume: (d * v.y + h) * v.z + w,
                                                column: (od * o.y + oh) * o.z + ow,
                                                tap: (kd * kernel + kh) * kernel + kw))
                            }
                        }
                    }
                }
            }
        }
    }

    var volumeVoxels: Int { volumeExtent.x * volumeExtent.y * volumeExtent.z }
    var columnVoxels: Int { columnExtent.x * columnExtent.y * columnExtent.z }
    var count: Int { kernel * kernel * kernel }
}

/// Expected values in double precision with Σ|terms| beside each, the scale of its rounding.
private struct Sums {

    var values: [Double]
    var scales: [Double]

    init(count: Int) {
        values = [Double](repeating: 0, count: count)
        scales = values
    }

    init(_ start: [Float]) {
        values = start.map(Double.init)
        scales = values.map(abs)
    }

    mutating func add(_ other: Sums) {
        for index in values.indices {
            values[index] += other.values[index]
            scales[index] += other.scales[index]
        }
    }

    /// + b[c] on every voxel of channel c, for N × C × voxels values.
    mutating func addBias(_ bias: [Float], batch: Int) {
        let voxels = values.count / (batch * bias.count)
        for index in values.indices {
            let b = Double(bias[index / voxels % bias.count])
            values[index] += b
            scales[index] += abs(b)
        }
    }
}

/// The three sums of a convolution, straight from the definitions (N × C × voxels tensors,
/// W[column channel, volume channel, tap]).
private enum Reference {

    /// C[n, cc, o] = Σ V[n, vc, v] · W[cc, vc, t]: Conv3d's forward pass
    /// (y[n, co, o] = Σ x[n, ci, o·s − p + k] · w[co, ci, k]), ConvTranspose3d's input gradient.
    static func columns(fromVolume volume: [Float], weights: [Float], batch: Int,
                        volumeChannels: Int, columnChannels: Int, taps: Taps) -> Sums {
        var sums = Sums(count: batch * columnChannels * taps.columnVoxels)
        for n in 0..<batch {
            for (v, o, t) in taps.triples {
                for cc in 0..<columnChannels {
                    let target = (n * columnChannels + cc) * taps.columnVoxels + o
                    for vc in 0..<volumeChannels {
                        let voxel = (n * volumeChannels + vc) * taps.volumeVoxels + v
                        let term = Double(volume[voxel])
                            * Double(weights[(cc * volumeChannels + vc) * taps.count + t])
                        sums.values[target] += term
                        sums.scales[target] += abs(term)
                    }
                }
            }
        }
        return sums
    }

    /// V[n, vc, v] = Σ C[n, cc, o] · W[cc, vc, t]: ConvTranspose3d's forward pass
    /// (y[n, co, i·s − p + k] += x[n, ci, i] · w[ci, co, k]), Conv3d's input gradient.
    static func volume(fromColumns columns: [Float], weights: [Float], batch: Int,
                       volumeChannels: Int, columnChannels: Int, taps: Taps) -> Sums {
        var sums = Sums(count: batch * volumeChannels * taps.volumeVoxels)
        for n in 0..<batch {
            for (v, o, t) in taps.triples {
                for vc in 0..<volumeChannels {
                    let target = (n * volumeChannels + vc) * taps.volumeVoxels + v
                    for cc in 0..<columnChannels {
                        let column = (n * columnChannels + cc) * taps.columnVoxels + o
                        let term = Double(columns[column])
                            * Double(weights[(cc * volumeChannels + vc) * taps.count + t])
                        sums.values[target] += term
                        sums.scales[target] += abs(term)
                    }
                }
            }
        }
        return sums
    }

    /// W[cc, vc, t] = Σ_n Σ C[n, cc, o] · V[n, vc, v]: both layers' weight gradients.
    static func weights(volume: [Float], columns: [Float], batch: Int, volumeChannels: Int,
                        columnChannels: Int, taps: Taps) -> Sums {
        var sums = Sums(count: columnChannels * volumeChannels * taps.count)
        for n in 0..<batch {
            for (v, o, t) in taps.triples {
                for cc in 0..<columnChannels {
                    let c = Double(columns[(n * columnChannels + cc) * taps.columnVoxels + o])
                    for vc in 0..<volumeChannels {
                        let target = (cc * volumeChannels + vc) * taps.count + t
                        let voxel = (n * volumeChannels + vc) * taps.volumeVoxels + v
                        let term = c * Double(volume[voxel])
                        sums.values[target] += term
                        sums.scales[target] += abs(term)
                    }
                }
            }
        }
        return sums
    }

    /// db[c] = Σ_n Σ_voxels dy[n, c, voxel].
    static func channelSums(_ values: [Float], batch: Int, channels: Int) -> Sums {
        var sums = Sums(count: channels)
        let voxels = values.count / (batch * channels)
        for (index, value) in values.enumerated() {
            sums.values[index / voxels % channels] += Double(value)
            sums.scales[index / voxels % channels] += Double(abs(value))
        }
        return sums
    }

    /// (count × rows × columns)[s, r, o] = (rows × count·columns)[r, s·columns + o].
    static func batchOrder(sideBySide matrix: [Float], rows: Int, count: Int,
                           columns: Int) -> [Float] {
        var batch = [Float](repeating: 0, count: matrix.count)
        for r in 0..<rows {
            for s in 0..<count {
                for o in 0..<columns {
                    batch[(s * rows + r) * columns + o] = matrix[(r * count + s) * columns + o]
                }
            }
        }
        return batch
    }
}

// MARK: - Random values

/// An input extent with i + 2p ≥ k on every axis, each at most `limit` (at least 1).
private func randomConvolutionExtent(kernel: Int, padding: Int, upTo limit: Int,
                                     _ random: inout SplitMix64) -> SIMD3<Int> {
    let low = max(1, kernel - 2 * padding)
    let high = max(low, limit)
    return SIMD3(Int.random(in: low...high, using: &random),
                 Int.random(in: low...high, using: &random),
                 Int.random(in: low...high, using: &random))
}

private func normals(_ count: Int, _ random: inout SplitMix64) -> [Float] {
    (0..<count).map { _ in Float(random.normal()) }
}

private func fillNormal(_ tensor: Tensor, _ random: inout SplitMix64) {
    for index in 0..<tensor.count { tensor.data[index] = Float(random.normal()) }
}
