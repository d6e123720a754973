// Everything that defines a training run. It is stored in every checkpoint as JSON, so a
// resumed run continues with exactly the settings it started with.
import Foundation
import NN

/// Settings of one training run; the defaults are voxgan's recipe for 32³ chairs on a 2-core
/// CPU (README, "Training recipe", says how they were chosen).
public struct TrainingConfig: Codable, Equatable, Sendable {

    public var resolution = 32
    public var generatorChannels = [128, 64, 32]
    public var discriminatorChannels = [32, 64, 128]
    public var zDimension = 200
    public var zDistribution = "normal"
    public var zStd = 1.0
    public var batchSize = 32
    public var epochs = 300
    public var generatorLearningRate = 2e-4
    public var discriminatorLearningRate = 2e-4
    public var beta1 = 0.5
    public var beta2 = 0.999
    /// Skip D's update when its accuracy on the current batch exceeds this (the paper: 0.8);
    /// nil disables the gate.
    public var accuracyThreshold: Double? = 0.8
    /// Target for real samples in D's loss (1 = no smoothing; 0.9 = one-sided smoothing).
    public var realLabel = 0.9
    public var discriminatorBatchNorm = true
    public var discriminatorBias = false
    public var initialization = "dcgan"
    public var flipX = true
    public var seed: UInt64 = 1
    public var threads = 2
    /// Iterations between checkpoints, log lines and sample sheets.
    public var checkpointInterval = 500
    public var logInterval = 50
    public var sampleInterval = 500
    /// Checkpoints kept on disk (older ones are deleted).
    public var keepCheckpoints = 3

    public init() {}

    /// Defaults for the paper's 64³ configuration.
    public static var paper64: TrainingConfig {
        var config = TrainingConfig()
        config.resolution = 64
        config.generatorChannels = [512, 256, 128, 64]
        config.discriminatorChannels = [64, 128, 256, 512]
        return config
    }

    public var generatorConfig: GeneratorConfig {
        GeneratorConfig(resolution: resolution, zDimension: zDimension, channels: generatorChannels)
    }

    public var discriminatorConfig: DiscriminatorConfig {
        DiscriminatorConfig(resolution: resolution, channels: discriminatorChannels,
                            batchNorm: discriminatorBatchNorm, bias: discriminatorBias,
                            leakySlope: 0.2)
    }

    public var latentDistribution: LatentDistribution {
        LatentDistribution(rawValue: zDistribution) ?? .normal
    }

    public func validate() throws {
        try generatorConfig.validate()
        try discriminatorConfig.validate()
        guard LatentDistribution(rawValue: zDistribution) != nil else {
            throw ModelError("z distribution must be normal or uniform, got '\(zDistribution)'")
        }
        guard WeightInitialization(rawValue: initialization) != nil else {
            throw ModelError("initialisation must be dcgan or xavier, got '\(initialization)'")
        }
        guard batchSize >= 2 else { throw ModelError("batch size must be at least 2 (batch norm)") }
        guard epochs >= 1, zStd > 0, generatorLearningRate > 0, discriminatorLearningRate > 0,
              (0..<1).contains(beta1), (0..<1).contains(beta2), (0...1).contains(realLabel),
              threads >= 1, checkpointInterval >= 1, logInterval >= 1, sampleInterval >= 1,
              keepCheckpoints >= 1 else {
            throw ModelError("a training setting is out of range (see voxgan-train --help)")
        }
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    public static func fromJSON(_ text: String) throws -> TrainingConfig {
        try JSONDecoder().decode(TrainingConfig.self, from: Data(text.utf8))
    }
}

/// Deterministic per-purpose random streams: each (seed, purpose, index) gets its own
/// SplitMix64, so a resumed run draws exactly what an uninterrupted one would without any
/// generator state in the checkpoint.
enum RandomStream: UInt64 {
    case weights = 1, epochOrder = 2, flips = 3, latents = 4, fixedLatents = 5

    func generator(seed: UInt64, index: Int = 0) -> SplitMix64 {
        var mixer = SplitMix64(seed: seed ^ (rawValue &* 0xA24B_AED4_963E_E407))
        var stream = SplitMix64(seed: mixer.next() ^ UInt64(index) &* 0x9FB2_1C65_1E98_DF25)
        _ = stream.next()
        return stream
    }
}
