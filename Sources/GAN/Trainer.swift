// The training loop: D step with the accuracy gate, G step with the non-saturating loss,
// interval logging and health checks, checkpoints, and resumption that reproduces an
// uninterrupted run bit for bit.
import Foundation
import NN
import Voxels

/// A thread-safe flag that a signal handler raises and the loop polls between iterations.
public final class StopFlag: @unchecked Sendable {

    private let lock = NSLock()
    private var raised = false

    public init() {}

    public func raise() { lock.withLock { raised = true } }

    public var isRaised: Bool { lock.withLock { raised } }
}

/// Figures of one logging interval.
public struct IntervalReport {
    public var epoch: Int
    public var iteration: Int
    public var discriminatorLoss: Double
    public var generatorLoss: Double
    public var discriminatorAccuracy: Double
    /// Share of the interval's iterations in which D was updated (the gate may skip some).
    public var discriminatorUpdateRate: Double
    public var samplesPerSecond: Double
    /// Mean share of voxels above 0.5 in the interval's generated training batches.
    public var batchOccupancy: Double
    /// Health figures of the fixed-z samples at p > 0.5 ...
    public var diagnostics: SampleDiagnostics?
    /// ... and at the threshold where their occupancy matches the data's (what export ships).
    public var calibratedThreshold: Float?
    public var calibratedDiagnostics: SampleDiagnostics?
}

/// Why a run stopped early.
public struct TrainingFailure: Error, CustomStringConvertible {
    public let description: String
}

/// Trains G and D on `TrainingData` inside a run directory holding checkpoints, history.csv,
/// samples/ and the log.
public final class Trainer {

    public let config: TrainingConfig
    public let data: TrainingData
    public let runDirectory: String
    public let generator: Generator
    public let discriminator: Discriminator
    public let generatorOptimizer: Adam
    public let discriminatorOptimizer: Adam
    /// Iterations completed.
    public private(set) var iteration = 0
    public var elapsedSeconds = 0.0
    public var command = ""
    /// Lower both learning rates by this factor and continue from the last good checkpoint
    /// when losses or weights turn NaN, instead of stopping.
    public var rollbackFactor: Double?
    /// Called with each log line (also written to train.log).
    public var log: (String) -> Void = { print($0) }
    /// Called every iteration with (done, total, seconds per iteration) for a progress bar.
    public var progress: ((Int, Int, Double) -> Void)?

    private let step: AdversarialStep
    private let realBatch = Tensor(shape: [0])
    private let latentBatch = Tensor(shape: [0])
    private var epochOrder: (epoch: Int, order: [Int])?

    public var iterationsPerEpoch: Int { max(1, data.count / config.batchSize) }
    public var totalIterations: Int { iterationsPerEpoch * config.epochs }

    /// Builds freshly initialised networks for `config`.
    public init(config: TrainingConfig, data: TrainingData, runDirectory: String) throws {
        try config.validate()
        guard data.resolution == config.resolution else {
            throw ModelError("the data is \(data.resolution)³ but the model is \(config.resolution)³ (use --resolution \(data.resolution) or pack at \(config.resolution))")
        }
        guard data.count >= config.batchSize else {
            throw ModelError("\(data.count) training grids are fewer than one batch of \(config.batchSize)")
        }
        self.config = config
        self.data = data
        self.runDirectory = runDirectory
        ComputeThreads.count = config.threads
        generator = try Generator(config: config.generatorConfig)
        discriminator = try Discriminator(config: config.discriminatorConfig)
        var weights = RandomStream.weights.generator(seed: config.seed)
        let scheme = WeightInitialization(rawValue: config.initialization) ?? .dcgan
        initialize(generator.layers, scheme: scheme, generator: &weights)
        initialize(discriminator.layers, scheme: scheme, generator: &weights)
        generatorOptimizer = Adam(parameters: generator.parameters,
                                  learningRate: Float(config.generatorLearningRate),
                                  beta1: Float(config.beta1), beta2: Float(config.beta2))
        discriminatorOptimizer = Adam(parameters: discriminator.parameters,
                                      learningRate: Float(config.discriminatorLearningRate),
                                      beta1: Float(config.beta1), beta2: Float(config.beta2))
        step = AdversarialStep(generator: generator, discriminator: discriminator,
                               realLabel: Float(config.realLabel))
        try FileManager.default.createDirectory(atPath: runDirectory + "/samples",
                                                withIntermediateDirectories: true)
    }

    // MARK: Checkpoints

    public func saveCheckpoint() throws {
        let path = (runDirectory as NSString).appendingPathComponent(
            Checkpoint.fileName(iteration: iteration))
        let state = CheckpointState(config: config, iteration: iteration,
                                    elapsedSeconds: elapsedSeconds,
                                    dataOccupancy: data.meanOccupancy, dataSource: data.source,
                                    command: command)
        try Checkpoint.save(state, generator: generator, discriminator: discriminator,
                            generatorOptimizer: generatorOptimizer,
                            discriminatorOptimizer: discriminatorOptimizer, to: path)
        for old in Checkpoint.list(in: runDirectory).dropFirst(config.keepCheckpoints) {
            try? FileManager.default.removeItem(atPath: old)
        }
    }

    /// Restores the newest readable checkpoint, reporting and skipping corrupt ones. Returns
    /// the path used, or nil when there is none (a fresh start).
    @discardableResult
    public func resumeFromLatestCheckpoint() throws -> String? {
        for path in Checkpoint.list(in: runDirectory) {
            do {
                let state = try Checkpoint.readState(path: path)
                // The run's length may grow on resume; every other setting must match.
                var saved = state.config
                saved.epochs = config.epochs
                guard saved == config else {
                    throw ModelError("its settings differ from this run's")
                }
                try Checkpoint.restore(path: path, generator: generator,
                                       discriminator: discriminator,
                                       generatorOptimizer: generatorOptimizer,
                                       discriminatorOptimizer: discriminatorOptimizer)
                iteration = state.iteration
                elapsedSeconds = state.elapsedSeconds
                return path
            } catch {
                log("warning: skipping checkpoint \(path): \(error)")
            }
        }
        return nil
    }

    // MARK: The loop

    /// Trains until `totalIterations` or until `stop` is raised (then finishes the current
    /// iteration and checkpoints). Throws `TrainingFailure` on NaN without rollback.
    public func run(stop: StopFlag = StopFlag()) throws {
        var interval = IntervalAccumulator()
        var lastTime = Date()
        var lastIteration = iteration
        while iteration < totalIterations && !stop.isRaised {
            let started = Date()
            let result = trainOneIteration()
            elapsedSeconds += Date().timeIntervalSince(started)

            if !(result.discriminatorLoss.isFinite && result.generatorLoss.isFinite) {
                try recoverFromNonFinite("loss is \(result.discriminatorLoss) (D), \(result.generatorLoss) (G)")
                interval = IntervalAccumulator()
                continue
            }
            interval.add(result)
            progress?(iteration, totalIterations, elapsedSeconds / Double(max(iteration, 1)))

            if iteration % config.logInterval == 0 || iteration == totalIterations {
                let now = Date()
                let samples = Double((iteration - lastIteration) * config.batchSize)
                let rate = samples / max(now.timeIntervalSince(lastTime), 1e-9)
                let epoch = (iteration + iterationsPerEpoch - 1) / iterationsPerEpoch  // 1-based
                var report = interval.report(epoch: epoch,
                                             iteration: iteration, samplesPerSecond: rate)
                if iteration % config.sampleInterval == 0 || iteration == totalIterations {
                    let check = try checkSamples()
                    report.diagnostics = check.atHalf
                    report.calibratedThreshold = check.threshold
                    report.calibratedDiagnostics = check.calibrated
                }
                try record(report)
                interval = IntervalAccumulator()
                (lastTime, lastIteration) = (now, iteration)
            }
            if iteration % config.checkpointInterval == 0 || iteration == totalIterations {
                try checkWeightsFinite()
                try saveCheckpoint()
            }
        }
        if stop.isRaised && iteration % config.checkpointInterval != 0 {
            try saveCheckpoint()
            log("stopped at iteration \(iteration); checkpoint saved, resume with --resume")
        }
    }

    struct IterationResult {
        var discriminatorLoss: Float
        var generatorLoss: Float
        var accuracy: Float
        var discriminatorUpdated: Bool
        var batchOccupancy: Double
    }

    /// One D step (gated) and one G step on batch number `iteration`.
    func trainOneIteration() -> IterationResult {
        let batch = config.batchSize
        let epoch = iteration / iterationsPerEpoch
        let position = iteration % iterationsPerEpoch

        // 1. The real batch: this epoch's shuffled order, random mirror images along x.
        if epochOrder?.epoch != epoch {
            var shuffle = RandomStream.epochOrder.generator(seed: config.seed, index: epoch)
            var order = Array(0..<data.count)
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(i, Int(shuffle.next() % UInt64(i + 1)))
            }
            epochOrder = (epoch, order)
        }
        let indices = Array(epochOrder!.order[(position * batch)..<((position + 1) * batch)])
        var flipStream = RandomStream.flips.generator(seed: config.seed, index: iteration)
        let flips = indices.map { _ in config.flipX && flipStream.next() & 1 == 1 }
        data.fill(realBatch, indices: indices, flips: flips)

        // 2. The fake batch from this iteration's z.
        fillLatents(latentBatch, count: batch,
                    generator: RandomStream.latents.generator(seed: config.seed, index: iteration))
        generator.isTraining = true
        let fake = generator(latentBatch)

        // 3. D step, skipped while D's accuracy on this batch is above the gate.
        let threshold = config.accuracyThreshold.map { Float($0) }
        let d = step.discriminatorPass(real: realBatch, fake: fake, skipIfAccuracyAbove: threshold)
        if d.computedGradients {
            discriminatorOptimizer.update()
            step.discriminatorDidUpdate()
        }

        // 4. G step with the non-saturating loss through the (updated) D.
        let generatorLoss = step.generatorPass(fake: fake)
        generatorOptimizer.update()
        iteration += 1
        var occupied = 0
        for index in 0..<fake.count where fake.data[index] > 0.5 { occupied += 1 }
        return IterationResult(discriminatorLoss: d.loss, generatorLoss: generatorLoss,
                               accuracy: d.accuracy, discriminatorUpdated: d.computedGradients,
                               batchOccupancy: Double(occupied) / Double(max(fake.count, 1)))
    }

    func fillLatents(_ tensor: Tensor, count: Int, generator random: SplitMix64) {
        var random = random
        let dimension = config.zDimension
        tensor.resize(to: [count, dimension, 1, 1, 1])
        for index in 0..<(count * dimension) {
            tensor.data[index] = random.latent(config.latentDistribution, std: config.zStd)
        }
    }

    // MARK: Health

    /// The fixed z vectors every sample sheet and health check uses.
    public func fixedLatents(count: Int) -> Tensor {
        let tensor = Tensor(shape: [0])
        fillLatents(tensor, count: count,
                    generator: RandomStream.fixedLatents.generator(seed: config.seed))
        return tensor
    }

    /// Generates from the fixed z in evaluation mode, measures the failure signals at 0.5 and
    /// at the threshold that matches the data's occupancy (a generator whose probabilities
    /// are dim but well shaped is healthy; one that is empty or collapsed at that threshold
    /// too is not), writes a sample sheet at that threshold, and warns about what it finds.
    func checkSamples() throws
        -> (atHalf: SampleDiagnostics, threshold: Float, calibrated: SampleDiagnostics)
    {
        generator.isTraining = false
        defer { generator.isTraining = true }
        let count = 64
        let probabilities = generator.probabilities(latents: fixedLatents(count: count),
                                                    chunk: config.batchSize)
        let (atHalf, threshold, calibrated) = probabilities.withUnsafeBufferPointer { p in
            let atHalf = SampleDiagnostics(probabilities: p, count: count,
                                           resolution: config.resolution, threshold: 0.5)
            let threshold = calibratedThreshold(probabilities: p,
                                                targetOccupancy: data.meanOccupancy)
            let calibrated = SampleDiagnostics(probabilities: p, count: count,
                                               resolution: config.resolution,
                                               threshold: threshold)
            return (atHalf, threshold, calibrated)
        }
        for warning in calibrated.warnings {
            log("WARNING iteration \(iteration): \(warning) (at threshold \(String(format: "%.3f", threshold)))")
        }
        if atHalf.hasNonFinite {
            try recoverFromNonFinite("generated probabilities contain NaN or Inf")
        }
        TrainingPictures.writeSampleSheet(probabilities: probabilities, count: 16,
                                          resolution: config.resolution, threshold: threshold,
                                          path: "\(runDirectory)/samples/iteration-\(String(format: "%08d", iteration)).png")
        return (atHalf, threshold, calibrated)
    }

    func checkWeightsFinite() throws {
        for parameter in generator.parameters + discriminator.parameters
        where parameter.value.hasNonFinite {
            try recoverFromNonFinite("a \(parameter.name) tensor contains NaN or Inf")
            return
        }
    }

    /// Stops the run with a clear message, or (with rollback) reloads the last checkpoint and
    /// lowers the learning rates.
    func recoverFromNonFinite(_ what: String) throws {
        guard let factor = rollbackFactor else {
            throw TrainingFailure(description: "training diverged at iteration \(iteration): \(what). Resume from the last checkpoint with lower learning rates, or rerun with --rollback")
        }
        guard let path = try resumeFromLatestCheckpoint() else {
            throw TrainingFailure(description: "training diverged at iteration \(iteration) (\(what)) and there is no checkpoint to roll back to")
        }
        generatorOptimizer.learningRate *= Float(factor)
        discriminatorOptimizer.learningRate *= Float(factor)
        log("ROLLBACK: \(what); reloaded \(path), learning rates now G \(generatorOptimizer.learningRate), D \(discriminatorOptimizer.learningRate)")
    }

    // MARK: Records

    func record(_ report: IntervalReport) throws {
        var line = String(format: "epoch %d it %d/%d  D loss %.4f  G loss %.4f  D acc %.3f  D updated %.0f%%  occupancy %.4f (data %.4f)  %.1f samples/s",
                          report.epoch, report.iteration, totalIterations,
                          report.discriminatorLoss, report.generatorLoss,
                          report.discriminatorAccuracy, report.discriminatorUpdateRate * 100,
                          report.batchOccupancy, data.meanOccupancy, report.samplesPerSecond)
        if let d = report.diagnostics, let c = report.calibratedDiagnostics,
           let t = report.calibratedThreshold {
            line += String(format: "  | 64 fixed z, eval mode: occupancy %.4f at 0.5; at threshold %.3f (data's occupancy): empty %.2f  solid %.2f  pairwise IoU %.3f",
                           d.meanOccupancy, t, c.emptyFraction, c.solidFraction,
                           c.meanPairwiseIoU)
        }
        log(line)
        try TrainingHistory.append(report, dataOccupancy: data.meanOccupancy, to: runDirectory)
    }
}

/// Sums of one logging interval.
struct IntervalAccumulator {
    var discriminatorLoss = 0.0
    var generatorLoss = 0.0
    var accuracy = 0.0
    var updates = 0
    var iterations = 0
    var occupancy = 0.0

    mutating func add(_ result: Trainer.IterationResult) {
        discriminatorLoss += Double(result.discriminatorLoss)
        generatorLoss += Double(result.generatorLoss)
        accuracy += Double(result.accuracy)
        updates += result.discriminatorUpdated ? 1 : 0
        occupancy += result.batchOccupancy
        iterations += 1
    }

    func report(epoch: Int, iteration: Int, samplesPerSecond: Double) -> IntervalReport {
        let n = Double(max(iterations, 1))
        return IntervalReport(epoch: epoch, iteration: iteration,
                              discriminatorLoss: discriminatorLoss / n,
                              generatorLoss: generatorLoss / n,
                              discriminatorAccuracy: accuracy / n,
                              discriminatorUpdateRate: Double(updates) / n,
                              samplesPerSecond: samplesPerSecond,
                              batchOccupancy: occupancy / n, diagnostics: nil)
    }
}
