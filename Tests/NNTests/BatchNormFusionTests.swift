// BatchNorm3d with a fused activation against the two layers it replaces, and its blocked
// statistics against a Double reference.
import NN
import XCTest

final class BatchNormFusionTests: XCTestCase {

    /// N × C × D × H × W = 3 × 3 × 2 × 3 × 3: rows of 18, so every row has a vector of 16 and a
    /// scalar tail of 2. Channel 0 holds −4…4 in equal numbers (batch mean exactly 0) with β 0,
    /// so p = γ·x̂ + β is exactly 0 wherever x is; channel 1 is pushed below 0 by β; channel 2
    /// is random around 0.
    private func fixture(_ layer: BatchNorm3d, _ random: inout SplitMix64) -> Tensor {
        let x = Tensor(shape: [3, 3, 2, 3, 3])
        for n in 0..<3 {
            for index in 0..<18 {
                x.data[(n * 3 + 0) * 18 + index] = Float((n * 18 + index) % 9) - 4
                x.data[(n * 3 + 1) * 18 + index] = Float(random.normal())
                x.data[(n * 3 + 2) * 18 + index] = Float(0.5 + random.normal())
            }
        }
        for (c, (gamma, beta)) in [(Float(0.7), Float(0)), (0.5, -3), (1.3, 0.2)].enumerated() {
            layer.weight.value.data[c] = gamma
            layer.bias.value.data[c] = beta
            // Running mean 0 on channel 0, so evaluation mode also meets p = 0 exactly.
            layer.runningMean.data[c] = c == 0 ? 0 : Float(0.3 * random.normal())
            layer.runningVariance.data[c] = Float(0.5 + random.uniform())
        }
        return x
    }

    private func copyState(from source: BatchNorm3d, to target: BatchNorm3d) {
        target.weight.value.copy(from: source.weight.value)
        target.bias.value.copy(from: source.bias.value)
        target.runningMean.copy(from: source.runningMean)
        target.runningVariance.copy(from: source.runningVariance)
    }

    private func assertClose(_ got: Tensor, _ expected: Tensor, _ what: String,
                             line: UInt = #line) {
        Golden.assertClose(got.toArray(), expected.toArray(), rtol: 1e-6, a: 1e-6,
                           relative: 1e-6, what, line: line)
    }

    /// Fused forward and backward (dx, dγ, dβ, running statistics) equal BatchNorm3d followed
    /// by `separate`, in the given mode.
    private func compare(_ activation: BatchNorm3d.Activation, with separate: Layer,
                         training: Bool, line: UInt = #line) {
        var random = SplitMix64(seed: 5)
        let fused = BatchNorm3d(channels: 3, activation: activation)
        let x = fixture(fused, &random)
        let plain = BatchNorm3d(channels: 3)
        copyState(from: fused, to: plain)
        fused.isTraining = training
        plain.isTraining = training
        separate.isTraining = training

        let y = fused(x).toArray()
        let preActivation = plain(x)
        let zeros = preActivation.toArray().filter { $0 == 0 }.count
        let negatives = preActivation.toArray().filter { $0 < 0 }.count
        XCTAssertGreaterThanOrEqual(zeros, 6, "pre-activations exactly 0", line: line)
        XCTAssertGreaterThan(negatives, 54, "negative pre-activations", line: line)
        let reference = separate(preActivation)
        Golden.assertClose(y, reference.toArray(), rtol: 1e-6, a: 1e-6, relative: 1e-6,
                           "\(activation) training \(training): y", line: line)

        let dy = Tensor(shape: x.shape)
        for index in 0..<dy.count { dy.data[index] = Float(random.normal()) }
        let dx = fused.backward(dy, needsInputGradient: true)!
        let dp = separate.backward(dy, needsInputGradient: true)!
        let referenceDx = plain.backward(dp, needsInputGradient: true)!
        assertClose(dx, referenceDx, "\(activation) training \(training): dx", line: line)
        assertClose(fused.weight.gradient, plain.weight.gradient, "dγ", line: line)
        assertClose(fused.bias.gradient, plain.bias.gradient, "dβ", line: line)
        assertClose(fused.runningMean, plain.runningMean, "running mean", line: line)
        assertClose(fused.runningVariance, plain.runningVariance, "running variance", line: line)
    }

    func testFusedReLUTrainingMatchesSeparateLayers() {
        compare(.relu, with: ReLU(), training: true)
    }

    func testFusedReLUEvaluationMatchesSeparateLayers() {
        compare(.relu, with: ReLU(), training: false)
    }

    func testFusedLeakyReLUTrainingMatchesSeparateLayers() {
        compare(.leakyReLU(slope: 0.2), with: LeakyReLU(slope: 0.2), training: true)
    }

    func testFusedLeakyReLUEvaluationMatchesSeparateLayers() {
        compare(.leakyReLU(slope: 0.2), with: LeakyReLU(slope: 0.2), training: false)
    }

    /// Skipping the input gradient still accumulates dγ and dβ, and returns nil.
    func testFusedBackwardWithoutInputGradient() {
        var random = SplitMix64(seed: 8)
        let layer = BatchNorm3d(channels: 3, activation: .relu)
        let twin = BatchNorm3d(channels: 3, activation: .relu)
        let x = fixture(layer, &random)
        copyState(from: layer, to: twin)
        let dy = Tensor(shape: x.shape)
        for index in 0..<dy.count { dy.data[index] = Float(random.normal()) }
        _ = layer(x)
        _ = twin(x)
        XCTAssertNil(layer.backward(dy, needsInputGradient: false))
        _ = twin.backward(dy, needsInputGradient: true)
        XCTAssertEqual(layer.weight.gradient.toArray(), twin.weight.gradient.toArray())
        XCTAssertEqual(layer.bias.gradient.toArray(), twin.bias.gradient.toArray())
    }

    /// The batch mean and variance, summed in Float vector lanes per block and in Double across
    /// blocks, stay within a few 1e-7 of a Double sum, even for a mean 1000 times the spread
    /// and rows longer than one block.
    func testBatchStatisticsMatchDoubleSums() {
        var random = SplitMix64(seed: 3)
        let x = Tensor(shape: [3, 2, 17, 16, 16])  // rows of 4352: one block and a part
        for index in 0..<x.count {
            x.data[index] = Float(index / 4352 % 2 == 0 ? 1000 + random.normal() : random.normal())
        }
        let layer = BatchNorm3d(channels: 2, momentum: 1)
        _ = layer(x)
        let spatial = 4352
        for c in 0..<2 {
            var values: [Double] = []
            for n in 0..<3 {
                let row = x.data + (n * 2 + c) * spatial
                values += (0..<spatial).map { Double(row[$0]) }
            }
            let mean = values.reduce(0, +) / Double(values.count)
            let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            let unbiased = squares / Double(values.count - 1)
            XCTAssertEqual(Double(layer.runningMean.data[c]), mean,
                           accuracy: 1e-6 * max(1, abs(mean)), "mean of channel \(c)")
            XCTAssertEqual(Double(layer.runningVariance.data[c]), unbiased,
                           accuracy: 1e-6 * unbiased, "variance of channel \(c)")
        }
    }
}
