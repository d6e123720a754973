// Turning a training checkpoint into the weights file the server loads.
import Foundation
import HDF5Kit
import NN

public enum ModelExport {

    /// Loads `checkpoint`, puts G in evaluation mode, calibrates the recommended threshold
    /// (unless given) and writes the weights file. Returns a one-paragraph summary.
    /// With `halfPrecision` the convolution weights are rounded to float16 first (the file is
    /// half the size; every figure below is measured on the rounded generator).
    public static func export(checkpoint: String, to path: String, threshold: Double?,
                              withDiscriminator: Bool, halfPrecision: Bool = true,
                              dataset: String? = nil) throws -> String {
        let state = try Checkpoint.readState(path: checkpoint)
        let config = state.config
        let generator = try Generator(config: config.generatorConfig)
        let discriminator = try Discriminator(config: config.discriminatorConfig)
        let unusedG = Adam(parameters: generator.parameters, learningRate: 0)
        let unusedD = Adam(parameters: discriminator.parameters, learningRate: 0)
        try Checkpoint.restore(path: checkpoint, generator: generator, discriminator: discriminator,
                               generatorOptimizer: unusedG, discriminatorOptimizer: unusedD)
        generator.isTraining = false
        if halfPrecision {
            WeightsFile.roundToHalfPrecision(generator.blocks)
            WeightsFile.roundToHalfPrecision(discriminator.blocks)
        }

        // 1. Threshold: the one that gives fixed-z samples the data's mean occupancy.
        let count = 128
        var random = SplitMix64(seed: 0xCA11_B8A7E)
        let z = Tensor(shape: [count, config.zDimension, 1, 1, 1])
        for index in 0..<z.count {
            z.data[index] = random.latent(config.latentDistribution, std: config.zStd)
        }
        let probabilities = generator.probabilities(latents: z, chunk: 16)
        let chosen = threshold ?? probabilities.withUnsafeBufferPointer {
            Double(min(max(calibratedThreshold(probabilities: $0,
                                               targetOccupancy: state.dataOccupancy), 0.01), 0.9))
        }
        let diagnostics = probabilities.withUnsafeBufferPointer {
            SampleDiagnostics(probabilities: $0, count: count, resolution: config.resolution,
                              threshold: Float(chosen))
        }

        // 2. Metadata a user or the server wants to see.
        let formatter = ISO8601DateFormatter()
        let metadata = WeightsMetadata(
            zDistribution: config.latentDistribution, zStd: config.zStd,
            recommendedThreshold: chosen,
            attributes: [
                "dataset": dataset ?? state.dataSource,
                "iterations": String(state.iteration),
                "batch_size": String(config.batchSize),
                "training_seconds": String(format: "%.0f", state.elapsedSeconds),
                "exported": formatter.string(from: Date()),
                "command": state.command,
                "training_config": config.json(),
                "data_occupancy": String(format: "%.4f", state.dataOccupancy),
                "sample_occupancy": String(format: "%.4f", diagnostics.meanOccupancy),
                "sample_pairwise_iou": String(format: "%.3f", diagnostics.meanPairwiseIoU),
                "source_checkpoint": (checkpoint as NSString).lastPathComponent,
            ])
        try WeightsFile.write(generator: generator,
                              discriminator: withDiscriminator ? discriminator : nil,
                              metadata: metadata, halfPrecision: halfPrecision, to: path)
        return String(format: "wrote %@: %d³ generator after %d iterations; recommended threshold %.3f (data occupancy %.4f, samples %.4f, empty %.2f, solid %.2f, pairwise IoU %.3f)",
                      path, config.resolution, state.iteration, chosen, state.dataOccupancy,
                      diagnostics.meanOccupancy, diagnostics.emptyFraction,
                      diagnostics.solidFraction, diagnostics.meanPairwiseIoU)
    }
}
