// Parameters with `requiresGradient` false: backward leaves their gradients alone and still
// returns the same input gradient, for every layer with parameters and both convolution paths.
import NN
import XCTest

final class FrozenParameterTests: XCTestCase {

    func testFrozenParametersKeepTheirGradientsAndTheInputGradientIsUnchanged() {
        let cases: [(String, () -> Layer, [Int])] = [
            ("Conv3d k4 s2 p1", { Conv3d(inputChannels: 3, outputChannels: 4, kernelSize: 4,
                                         stride: 2, padding: 1, bias: true) }, [3, 3, 4, 4, 6]),
            ("Conv3d 4³→1³", { Conv3d(inputChannels: 2, outputChannels: 3, kernelSize: 4,
                                      bias: true) }, [3, 2, 4, 4, 4]),
            ("ConvTranspose3d k4 s2 p1", { ConvTranspose3d(inputChannels: 3, outputChannels: 2,
                                                           kernelSize: 4, stride: 2, padding: 1,
                                                           bias: true) }, [3, 3, 2, 4, 2]),
            ("ConvTranspose3d 1³→4³", { ConvTranspose3d(inputChannels: 5, outputChannels: 2,
                                                        kernelSize: 4, bias: true) },
             [3, 5, 1, 1, 1]),
            ("BatchNorm3d + ReLU", { BatchNorm3d(channels: 3, activation: .relu) },
             [2, 3, 2, 3, 2]),
        ]
        for (name, makeLayer, shape) in cases {
            var random = SplitMix64(seed: 4)
            let x = Tensor(shape: shape)
            for i in 0..<x.count { x.data[i] = Float(random.normal()) }
            func run(frozen: Bool) -> (dx: [Float], gradients: [[Float]]) {
                var weights = SplitMix64(seed: 8)
                let layer = makeLayer()
                for parameter in layer.parameters {
                    for i in 0..<parameter.value.count {
                        parameter.value.data[i] = Float(weights.normal())
                    }
                    parameter.gradient.fill(7)
                    parameter.requiresGradient = !frozen
                }
                let y = layer(x)
                let dy = Tensor(shape: y.shape)
                for i in 0..<dy.count { dy.data[i] = Float(weights.normal()) }
                let dx = layer.backward(dy, needsInputGradient: true)!.toArray()
                return (dx, layer.parameters.map { $0.gradient.toArray() })
            }
            let trained = run(frozen: false)
            let frozen = run(frozen: true)
            XCTAssertEqual(frozen.dx, trained.dx, "\(name): input gradient")
            for (gradient, normal) in zip(frozen.gradients, trained.gradients) {
                XCTAssertEqual(gradient, [Float](repeating: 7, count: gradient.count),
                               "\(name): a frozen parameter's gradient changed")
                XCTAssertNotEqual(normal, gradient, "\(name): the unfrozen run computed nothing")
            }
        }
    }
}
