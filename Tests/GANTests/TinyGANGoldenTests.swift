// The golden file's `tiny_gan_step`: a 16³ GAN's losses, gradients and batch-norm statistics
// after one forward and backward pass, against PyTorch.
import Foundation
import GAN
import HDF5Kit
import NN
import XCTest

final class TinyGANGoldenTests: XCTestCase {

    static func goldenFile() throws -> HDF5File {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                break
            }
        }
        return try HDF5File.open(url.deletingLastPathComponent()
            .appendingPathComponent("shared/golden/layers.h5").path)
    }

    private func tensor(_ group: HDF5Group, _ name: String) throws -> Tensor {
        let dataset = try group.openDataset(name)
        return Tensor(shape: dataset.shape, values: try dataset.read(as: Float.self))
    }

    private func assertClose(_ got: [Float], _ reference: [Float], _ what: String,
                             line: UInt = #line) {
        XCTAssertEqual(got.count, reference.count, what, line: line)
        let maxRef = max(1, reference.map { abs($0) }.max() ?? 0)
        var worst: Float = 0
        for (g, r) in zip(got, reference) {
            XCTAssertTrue(g.isFinite, what, line: line)
            worst = max(worst, abs(g - r) - 1e-3 * abs(r))
        }
        XCTAssertLessThanOrEqual(worst, 1e-4 * maxRef, "\(what): worst excess error \(worst)",
                                 line: line)
    }

    /// Loads PyTorch's state_dict entries `<prefix>.<index>.*` into the blocks.
    private func load(_ blocks: [ConvolutionBlock], convIndices: [Int], bnIndices: [Int?],
                      prefix: String, from group: HDF5Group) throws {
        for (block, (conv, bn)) in zip(blocks, zip(convIndices, bnIndices)) {
            block.weight.value.copy(from: try tensor(group, "\(prefix).\(conv).weight"))
            if let bn, let norm = block.batchNorm {
                norm.weight.value.copy(from: try tensor(group, "\(prefix).\(bn).weight"))
                norm.bias.value.copy(from: try tensor(group, "\(prefix).\(bn).bias"))
                norm.runningMean.copy(from: try tensor(group, "\(prefix).\(bn).running_mean"))
                norm.runningVariance.copy(from: try tensor(group, "\(prefix).\(bn).running_var"))
            }
        }
    }

    func testOneGANStepMatchesPyTorch() throws {
        let root = try Self.goldenFile().openGroup("tiny_gan_step")
        let io = try root.openGroup("inputs_outputs")
        let grads = try root.openGroup("grads")
        let after = try root.openGroup("after_step_state")

        let generator = try Generator(config: GeneratorConfig(resolution: 16, zDimension: 8,
                                                              channels: [16, 8]))
        let discriminator = try Discriminator(config: DiscriminatorConfig(
            resolution: 16, channels: [8, 16], batchNorm: true, bias: false, leakySlope: 0.2))
        try load(generator.blocks, convIndices: [0, 3, 6], bnIndices: [1, 4, nil], prefix: "G",
                 from: io)
        try load(discriminator.blocks, convIndices: [0, 2, 5], bnIndices: [nil, 3, nil],
                 prefix: "D", from: io)

        // Forward G in training mode: the fake batch and G's batch-norm running statistics.
        let z = try tensor(io, "z")
        let fake = generator(z)
        assertClose(fake.toArray(), try tensor(io, "fake").toArray(), "fake")
        for (block, index) in zip(generator.blocks.prefix(2), [1, 4]) {
            assertClose(block.batchNorm!.runningMean.toArray(),
                        try tensor(after, "G.\(index).running_mean").toArray(), "G.\(index) mean")
            assertClose(block.batchNorm!.runningVariance.toArray(),
                        try tensor(after, "G.\(index).running_var").toArray(), "G.\(index) var")
        }

        // The discriminator's loss and gradients.
        let step = AdversarialStep(generator: generator, discriminator: discriminator)
        let d = step.discriminatorPass(real: try tensor(io, "real"), fake: fake)
        assertClose(d.realLogits, try tensor(io, "d_real_logits").toArray(), "d_real_logits")
        assertClose(d.fakeLogits, try tensor(io, "d_fake_logits").toArray(), "d_fake_logits")
        assertClose([d.loss], try tensor(io, "loss_d").toArray(), "loss_d")
        let dNames = ["D.0.weight", "D.2.weight", "D.3.weight", "D.3.bias", "D.5.weight"]
        let dParameters = [discriminator.blocks[0].weight, discriminator.blocks[1].weight,
                           discriminator.blocks[1].batchNorm!.weight,
                           discriminator.blocks[1].batchNorm!.bias, discriminator.blocks[2].weight]
        for (name, parameter) in zip(dNames, dParameters) {
            assertClose(parameter.gradient.toArray(), try tensor(grads, name).toArray(), name)
        }

        // The generator's non-saturating loss and gradients, back through D.
        let lossG = step.generatorPass(fake: fake)
        assertClose([lossG], try tensor(io, "loss_g").toArray(), "loss_g")
        let gNames = ["G.0.weight", "G.1.weight", "G.1.bias", "G.3.weight", "G.4.weight",
                      "G.4.bias", "G.6.weight"]
        let gParameters = [generator.blocks[0].weight, generator.blocks[0].batchNorm!.weight,
                           generator.blocks[0].batchNorm!.bias, generator.blocks[1].weight,
                           generator.blocks[1].batchNorm!.weight,
                           generator.blocks[1].batchNorm!.bias, generator.blocks[2].weight]
        for (name, parameter) in zip(gNames, gParameters) {
            assertClose(parameter.gradient.toArray(), try tensor(grads, name).toArray(), name)
        }

        // Evaluation mode uses the running statistics: per-sample results.
        generator.isTraining = false
        assertClose(generator(z).toArray(), try tensor(io, "fake_eval_mode").toArray(),
                    "fake_eval_mode")
    }
}
