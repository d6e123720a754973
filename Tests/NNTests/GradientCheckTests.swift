// Finite-difference checks for what the golden file does not cover: biases, odd kernel sizes,
// strides and paddings, non-cubic inputs, other leaky slopes, batch norm with a fused activation.
import NN
import XCTest

final class GradientCheckTests: XCTestCase {

    private func randomTensor(_ shape: [Int], _ random: inout SplitMix64, scale: Double = 1) -> Tensor {
        let tensor = Tensor(shape: shape)
        for i in 0..<tensor.count { tensor.data[i] = Float(scale * random.normal()) }
        return tensor
    }

    /// L = Σ y ⊙ dy; compares analytic ∂L/∂(input and every parameter) with central
    /// differences on a handful of elements of each.
    private func check(_ layer: Layer, inputShape: [Int], file: StaticString = #filePath,
                       line: UInt = #line) {
        var random = SplitMix64(seed: 11)
        let x = randomTensor(inputShape, &random)
        for parameter in layer.parameters {
            for i in 0..<parameter.value.count { parameter.value.data[i] = Float(0.3 * random.normal()) }
        }
        let y = layer(x)
        let dy = randomTensor(y.shape, &random)
        let dx = layer.backward(dy, needsInputGradient: true)!.toArray()
        let parameterGradients = layer.parameters.map { $0.gradient.toArray() }

        func loss() -> Double {
            let out = layer(x)
            var total = 0.0
            for i in 0..<out.count { total += Double(out.data[i]) * Double(dy.data[i]) }
            return total
        }
        func numeric(_ pointer: UnsafeMutablePointer<Float>) -> Double {
            let saved = pointer.pointee
            let h: Float = 1e-2
            pointer.pointee = saved + h
            let plus = loss()
            pointer.pointee = saved - h
            let minus = loss()
            pointer.pointee = saved
            return (plus - minus) / Double(2 * h)
        }
        let probes = stride(from: 0, to: x.count, by: max(1, x.count / 23))
        for i in probes {
            let expected = numeric(x.data + i)
            XCTAssertEqual(Double(dx[i]), expected, accuracy: 2e-3 * max(1, abs(expected)),
                           "dx[\(i)]", file: file, line: line)
        }
        for (parameter, gradient) in zip(layer.parameters, parameterGradients) {
            for i in stride(from: 0, to: parameter.value.count, by: max(1, parameter.value.count / 17)) {
                let expected = numeric(parameter.value.data + i)
                XCTAssertEqual(Double(gradient[i]), expected, accuracy: 2e-3 * max(1, abs(expected)),
                               "\(parameter.name)[\(i)]", file: file, line: line)
            }
        }
    }

    func testConv3dWithBiasOddKernelNonCubicInput() {
        check(Conv3d(inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2, padding: 1,
                     bias: true), inputShape: [2, 2, 5, 6, 7])
    }

    func testConv3dStride1Padding2() {
        check(Conv3d(inputChannels: 1, outputChannels: 2, kernelSize: 2, stride: 1, padding: 2,
                     bias: true), inputShape: [1, 1, 3, 3, 3])
    }

    func testConvTranspose3dWithBiasOddKernel() {
        check(ConvTranspose3d(inputChannels: 3, outputChannels: 2, kernelSize: 3, stride: 2,
                              padding: 1, bias: true), inputShape: [2, 3, 3, 4, 2])
    }

    func testConvTranspose3dFullyConnectedWithBias() {
        check(ConvTranspose3d(inputChannels: 5, outputChannels: 2, kernelSize: 4, stride: 1,
                              padding: 0, bias: true), inputShape: [3, 5, 1, 1, 1])
    }

    /// The models' kernel-4 stride-2 path on non-cubic extents, with a batch of five so that
    /// the samples grouped side by side leave a remainder.
    func testConv3dStride2Kernel4NonCubicBatchOfFive() {
        check(Conv3d(inputChannels: 2, outputChannels: 3, kernelSize: 4, stride: 2, padding: 1,
                     bias: true), inputShape: [5, 2, 4, 6, 2])
    }

    func testConvTranspose3dStride2Kernel4NonCubicBatchOfFive() {
        check(ConvTranspose3d(inputChannels: 3, outputChannels: 2, kernelSize: 4, stride: 2,
                              padding: 1, bias: true), inputShape: [5, 3, 2, 3, 1])
    }

    func testLeakyReLUOtherSlope() {
        check(LeakyReLU(slope: 0.05), inputShape: [2, 3, 2, 2, 2])
    }

    func testBatchNormTrainingWithLargeBatch() {
        check(BatchNorm3d(channels: 3), inputShape: [5, 3, 2, 3, 2])
    }

    func testBatchNormWithFusedReLU() {
        check(BatchNorm3d(channels: 3, activation: .relu), inputShape: [5, 3, 2, 3, 2])
    }

    func testBatchNormWithFusedLeakyReLU() {
        check(BatchNorm3d(channels: 3, activation: .leakyReLU(slope: 0.2)),
              inputShape: [5, 3, 2, 3, 2])
    }

    func testSplitMix64MatchesTheDocumentedAlgorithm() {
        // Reference values of SplitMix64 seeded with 0 (the published test vector).
        var random = SplitMix64(seed: 0)
        XCTAssertEqual(random.next(), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(random.next(), 0x6E78_9E6A_A1B9_65F4)
        let z = latentVector(seed: 42, dimension: 4, distribution: .normal, std: 1)
        XCTAssertEqual(z, latentVector(seed: 42, dimension: 4, distribution: .normal, std: 1))
        XCTAssertNotEqual(z, latentVector(seed: 43, dimension: 4, distribution: .normal, std: 1))
    }
}
