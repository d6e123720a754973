// A frozen ConvTranspose3d (kernel 4, stride 2, padding 1) regroups its weights by tap class and
// skips the products its padding crops. It must give the plain forward pass's output, up to the
// order of float additions, for any shape, slab size, batch and thread count, and must return
// to the plain path once it trains again.
import NN
import XCTest

final class BorderSkippingTests: XCTestCase {

    private var savedThreads = ComputeThreads.count

    override func setUp() { savedThreads = ComputeThreads.count }

    override func tearDown() { ComputeThreads.count = savedThreads }

    /// Geometry level, against `foldProduct`: cubes and boxes of 1–5 voxels per axis (odd ones
    /// take the scalar tails), 1–40 output channels, slabs from 16 channels to all.
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
            for budget in [1, ConvolutionGeometry.classProductFloats] {
                var actual = [Float](repeating: .nan, count: g.volumeSize)
                var classScratch = [Float](
                    repeating: .nan,
                    count: g.borderSkippingScratchSize(inputChannels: cin, budget: budget))
                g.foldProductSkippingBorder(weights: regrouped, x: x, scratch: &classScratch,
                                            into: &actual, budget: budget)
                Self.assertClose(actual, expected, "extent \(n), \(cin)→\(cout), budget \(budget)")
            }
        }
    }

    /// Layer level: batches 1–3 on 1 and 2 threads give the unfrozen layer's output; training
    /// mode, or a weight wanting its gradient again, gives it exactly.
    func testFrozenLayerMatchesThePlainLayerAndThawsForTraining() {
        for threads in [1, 2] {
            ComputeThreads.count = threads
            for batch in 1...3 {
                var random = SplitMix64(seed: UInt64(threads * 10 + batch))
                let (plain, frozen) = (Self.layer(), Self.layer())
                let weight = Self.normals(plain.weight.value.count, &random)
                plain.weight.value.data.update(from: weight, count: weight.count)
                frozen.weight.value.data.update(from: weight, count: weight.count)
                plain.isTraining = false
                frozen.freezeForInference()
                XCTAssertFalse(frozen.isTraining)
                XCTAssertFalse(frozen.weight.requiresGradient)
                let x = Tensor(shape: [batch, 5, 4, 4, 4],
                               values: Self.normals(batch * 5 * 64, &random))
                let expected = plain(x).toArray()
                let context = "batch \(batch), \(threads) threads"
                Self.assertClose(frozen(x).toArray(), expected, context)

                frozen.weight.requiresGradient = true
                XCTAssertEqual(frozen(x).toArray(), expected, context + ", gradient wanted")
                frozen.weight.requiresGradient = false
                frozen.isTraining = true
                frozen.isTraining = false
                XCTAssertEqual(frozen(x).toArray(), expected, context + ", after training mode")
            }
        }
    }

    private static func layer() -> ConvTranspose3d {
        ConvTranspose3d(inputChannels: 5, outputChannels: 16, kernelSize: 4, stride: 2,
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
