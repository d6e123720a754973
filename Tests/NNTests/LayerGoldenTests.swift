// Every single-layer case of ../shared/golden/layers.h5: forward output, input gradient and
// parameter gradients against PyTorch, within the README's tolerances.
import HDF5Kit
import NN
import XCTest

final class LayerGoldenTests: XCTestCase {

    private func runConvolution(_ caseName: String, transposed: Bool) throws {
        let group = try Golden.file().openGroup(caseName)
        let x = try Golden.tensor(group, "x")
        let w = try Golden.tensor(group, "w")
        let kernel = try XCTUnwrap(group.intAttribute("kernel"))
        let stride = try XCTUnwrap(group.intAttribute("stride"))
        let padding = try XCTUnwrap(group.intAttribute("padding"))
        let layer: Layer
        let weight: Parameter
        if transposed {
            let conv = ConvTranspose3d(inputChannels: w.shape[0], outputChannels: w.shape[1],
                                       kernelSize: kernel, stride: stride, padding: padding)
            layer = conv
            weight = conv.weight
        } else {
            let conv = Conv3d(inputChannels: w.shape[1], outputChannels: w.shape[0],
                              kernelSize: kernel, stride: stride, padding: padding)
            layer = conv
            weight = conv.weight
        }
        weight.value.copy(from: w)

        let y = layer(x)
        Golden.assertLayerClose(y, try Golden.tensor(group, "y"), "\(caseName) y")

        let dx = try XCTUnwrap(layer.backward(try Golden.tensor(group, "dy"), needsInputGradient: true))
        Golden.assertLayerClose(dx, try Golden.tensor(group, "dx"), "\(caseName) dx")
        Golden.assertLayerClose(weight.gradient, try Golden.tensor(group, "dw"), "\(caseName) dw")
    }

    func testConv3dStride2() throws { try runConvolution("conv3d_k4s2p1", transposed: false) }

    func testConv3dLastDiscriminatorLayer() throws {
        try runConvolution("conv3d_k4s1p0", transposed: false)
    }

    func testConvTranspose3dStride2() throws {
        try runConvolution("conv_transpose3d_k4s2p1", transposed: true)
    }

    func testConvTranspose3dFirstGeneratorLayer() throws {
        try runConvolution("conv_transpose3d_k4s1p0", transposed: true)
    }

    /// The same cases with one worker thread and with several give identical results, so
    /// resumed training does not depend on how the batch was split (given the same count).
    func testConvolutionThreadingAgrees() throws {
        let group = try Golden.file().openGroup("conv3d_k4s2p1")
        let x = try Golden.tensor(group, "x")
        let w = try Golden.tensor(group, "w")
        func run(threads: Int) -> [Float] {
            let saved = ComputeThreads.count
            ComputeThreads.count = threads
            defer { ComputeThreads.count = saved }
            let conv = Conv3d(inputChannels: 3, outputChannels: 4, kernelSize: 4, stride: 2, padding: 1)
            conv.weight.value.copy(from: w)
            return conv(x).toArray()
        }
        Golden.assertClose(run(threads: 1), run(threads: 2), rtol: 1e-6, a: 1e-6, relative: 1e-6,
                           "threads 1 vs 2")
    }

    func testBatchNormTraining() throws {
        let group = try Golden.file().openGroup("batchnorm3d_train")
        let x = try Golden.tensor(group, "x")
        let bn = BatchNorm3d(channels: x.shape[1], epsilon: 1e-5, momentum: 0.1)
        bn.weight.value.copy(from: try Golden.tensor(group, "gamma"))
        bn.bias.value.copy(from: try Golden.tensor(group, "beta"))
        Golden.assertLayerClose(bn(x), try Golden.tensor(group, "y"), "bn train y")
        let dx = try XCTUnwrap(bn.backward(try Golden.tensor(group, "dy"), needsInputGradient: true))
        Golden.assertLayerClose(dx, try Golden.tensor(group, "dx"), "bn train dx")
        Golden.assertLayerClose(bn.weight.gradient, try Golden.tensor(group, "dgamma"), "dgamma")
        Golden.assertLayerClose(bn.bias.gradient, try Golden.tensor(group, "dbeta"), "dbeta")
        Golden.assertLayerClose(bn.runningMean, try Golden.tensor(group, "running_mean"), "running mean")
        Golden.assertLayerClose(bn.runningVariance, try Golden.tensor(group, "running_var"),
                                "running var")
    }

    func testBatchNormEvaluation() throws {
        let group = try Golden.file().openGroup("batchnorm3d_eval")
        let x = try Golden.tensor(group, "x")
        let bn = BatchNorm3d(channels: x.shape[1])
        bn.weight.value.copy(from: try Golden.tensor(group, "gamma"))
        bn.bias.value.copy(from: try Golden.tensor(group, "beta"))
        bn.runningMean.copy(from: try Golden.tensor(group, "running_mean"))
        bn.runningVariance.copy(from: try Golden.tensor(group, "running_var"))
        bn.isTraining = false
        Golden.assertLayerClose(bn(x), try Golden.tensor(group, "y"), "bn eval y")
        let dx = try XCTUnwrap(bn.backward(try Golden.tensor(group, "dy"), needsInputGradient: true))
        Golden.assertLayerClose(dx, try Golden.tensor(group, "dx"), "bn eval dx")
    }

    func testActivations() throws {
        let cases: [(String, Layer)] = [("relu", ReLU()), ("leaky_relu_0.2", LeakyReLU(slope: 0.2)),
                                        ("sigmoid", Sigmoid())]
        for (name, layer) in cases {
            let group = try Golden.file().openGroup(name)
            Golden.assertLayerClose(layer(try Golden.tensor(group, "x")), try Golden.tensor(group, "y"),
                                    "\(name) y")
            let dx = try XCTUnwrap(layer.backward(try Golden.tensor(group, "dy"), needsInputGradient: true))
            Golden.assertLayerClose(dx, try Golden.tensor(group, "dx"), "\(name) dx")
        }
    }

    func testBinaryCrossEntropyWithExtremeLogits() throws {
        let group = try Golden.file().openGroup("bce_with_logits_mean")
        let logits = try group.read("logits", as: Float.self)
        let targets = try group.read("target", as: Float.self)
        let (loss, gradient) = logits.withUnsafeBufferPointer { l in
            targets.withUnsafeBufferPointer { binaryCrossEntropyWithLogits(logits: l, targets: $0) }
        }
        XCTAssertTrue(loss.isFinite && gradient.allSatisfy { $0.isFinite })
        Golden.assertClose([loss], try group.read("loss", as: Float.self), rtol: 1e-5, a: 1e-6,
                           relative: 1e-5, "bce loss")
        Golden.assertClose(gradient, try group.read("dlogits", as: Float.self), rtol: 1e-5, a: 1e-6,
                           relative: 1e-5, "bce dlogits")
    }

    func testAdamThreeSteps() throws {
        let group = try Golden.file().openGroup("adam")
        let p0 = try group.read("p0", as: Float.self)
        let grads = try group.read("grads", as: Float.self)
        let after = try group.read("params_after_each_step", as: Float.self)
        let parameter = Parameter(name: "p", shape: [p0.count])
        parameter.value.copy(from: Tensor(shape: [p0.count], values: p0))
        let adam = Adam(parameters: [parameter],
                        learningRate: Float(try XCTUnwrap(group.doubleAttribute("lr"))),
                        beta1: Float(try XCTUnwrap(group.doubleAttribute("beta1"))),
                        beta2: Float(try XCTUnwrap(group.doubleAttribute("beta2"))),
                        epsilon: Float(try XCTUnwrap(group.doubleAttribute("eps"))))
        for step in 0..<3 {
            parameter.gradient.copy(from: Tensor(shape: [p0.count],
                                                 values: Array(grads[(step * 10)..<(step * 10 + 10)])))
            adam.update()
            Golden.assertClose(parameter.value.toArray(), Array(after[(step * 10)..<(step * 10 + 10)]),
                               rtol: 1e-5, a: 1e-6, relative: 1e-5, "adam step \(step + 1)")
        }
    }
}
