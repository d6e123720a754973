// A frozen ConvTranspose3d computes each sample alone with single-threaded products, and for
// kernel 4, stride 2, padding 1 regroups its weights by tap class to skip the products its
// padding crops. It must give the plain forward pass's output up to the order of float
// additions, for any shape, slab size, batch and thread count; the same bits for a sample
// whatever its batch and the thread count; and the plain path again once it trains.
import NN
import XCTest

final class BorderSkippingTests: XCTestCase {

    private var savedThreads = ComputeThreads.count

    override func setUp() { savedThreads = ComputeThreads.count }

    override func tearDown() { ComputeThreads.count = savedThreads }

    /// Geometry level, against `foldProduct`: cubes and boxes of 1–5 voxels per axis (odd ones
    /// take the scalar tails), 1–40 output channels, slabs of 16 channels or all, on one thread
    /// or shared between two.
    func testClassProductsFoldToThePlainProduct() {
        var random = SplitMix64(seed: 5)
        let extents = [SIMD3(4, 4, 4), SIMD3(1, 1, 1), SIMD3(2, 3, 5), SIMD3(5, 2, 4),
                       SIMD3(3, 3, 3), SIMD3(4, 1, 8)]
        for (index, n) in extents.enumerated() {
            let (cin, cout) = (1 + index % 4, [1, 3, 16, 40, 17, 24][index])
            let g = ConvolutionGeometry(channels: cout, inputExtent: 2 &* n, kernel: 4, stride: 2,
                                        padding: 1)
            let weight = Self.normals(cin * cout * 64, &random)
            let x = Self.normals(cin * n.x * n.y * n.z, &random)
            var expected = [Float](repeating: 0, count: g.volumeSize)
            var scratch = [Float](repeating: 0, count: g.slabScratchSize(count: 1))
            g.foldProduct(weights: weight, inner: cin, sideBySide: x, count: 1,
                          scratch: &scratch, into: &expected)
            let regrouped = TapClassWeights(weight: weight, inputChannels: cin,
                                            outputChannels: cout)
            for (budget, shared) in [(1, false), (1, true),
                                     (ConvolutionGeometry.classProductFloats, true)] {
                var actual = [Float](repeating: .nan, count: g.volumeSize)
                var classScratch = [Float](
                    repeating: .nan,
                    count: g.borderSkippingScratchSize(inputChannels: cin, budget: budget))
                g.foldProductSkippingBorder(weights: regrouped, x: x, scratch: &classScratch,
                                            into: &actual, shared: shared, budget: budget)
                Self.assertClose(actual, expected,
                                 "extent \(n), \(cin)→\(cout), budget \(budget), shared \(shared)")
            }
        }
    }

    /// Layer level, for a layer that skips the border (5 → 40 channels from 4³) and one that
    /// takes the plain path (3 → 8 from 10³, two slabs of output channels): on 1–4 threads
    /// (more threads than samples included) and batches of 1–3, a frozen layer gives the plain layer's output up to float
    /// rounding, and every sample the same bits as alone on one thread; training mode, or a
    /// weight wanting its gradient again, gives the plain output exactly.
    func testFrozenLayerMatchesThePlainLayerIsBatchIndependentAndThaws() {
        for (cin, cout, side) in [(5, 40, 4), (3, 8, 10)] {
            var random = SplitMix64(seed: UInt64(cout))
            let layers = (plain: Self.layer(cin, cout), frozen: Self.layer(cin, cout))
            let weight = Self.normals(layers.plain.weight.value.count, &random)
            layers.plain.weight.value.data.update(from: weight, count: weight.count)
            layers.frozen.weight.value.data.update(from: weight, count: weight.count)
            layers.plain.isTraining = false
            layers.frozen.freezeForInference()
            XCTAssertFalse(layers.frozen.isTraining)
            XCTAssertFalse(layers.frozen.weight.requiresGradient)
            let sampleSize = cin * side * side * side
            let samples = (0..<3).map { _ in Self.normals(sampleSize, &random) }
            ComputeThreads.count = 1
            let alone = samples.map {
                layers.frozen(Tensor(shape: [1, cin, side, side, side], values: $0)).toArray()
            }
            for threads in [4, 3, 2, 1] {
                ComputeThreads.count = threads
                for batch in 1...3 {
                    let context = "\(cin)→\(cout) from \(side)³, batch \(batch), \(threads) threads"
                    let x = Tensor(shape: [batch, cin, side, side, side],
                                   values: samples[..<batch].flatMap { $0 })
                    let expected = layers.plain(x).toArray()
                    let actual = layers.frozen(x).toArray()
                    Self.assertClose(actual, expected, context)
                    XCTAssertTrue(actual == alone[..<batch].flatMap { $0 }, context + ", bits")

                    layers.frozen.weight.requiresGradient = true
                    XCTAssertTrue(layers.frozen(x).toArray() == expected, context + ", gradient")
                    layers.frozen.weight.requiresGradient = false
                }
            }
            layers.frozen.isTraining = true
            layers.frozen.isTraining = false
            let x = Tensor(shape: [1, cin, side, side, side], values: samples[0])
            XCTAssertTrue(layers.frozen(x).toArray() == layers.plain(x).toArray(),
                          "after training mode")
        }
    }

    private static func layer(_ cin: Int, _ cout: Int) -> ConvTranspose3d {
        ConvTranspose3d(inputChannels: cin, outputChannels: cout, kernelSize: 4, stride: 2,
                        padding: 1)
    }

    private static func normals(_ count: Int, _ random: inout SplitMix64) -> [Float] {
        (0..<count).map { _ in Float(random.normal()) }
    }

    /// Equal up to float rounding: the class products add the same terms in another order.
    private static func assertClose(_ actual: [Float], _ expected: [Float], _ context: String,
                                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, context, file: file, line: line)
        let worst = zip(actual, expected).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-5, context, file: file, line: line)
    }
}
