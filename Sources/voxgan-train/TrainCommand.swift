import CommandLineKit
import Foundation
import GAN
import NN
import Voxels

/// `voxgan-train`: the training run.
enum TrainCommand {

    static let defaults = TrainingConfig()

    static let spec = CommandSpec(
        name: "voxgan-train",
        abstract: "Train the 3D-GAN on real chairs (see also: voxgan-train export --help).",
        discussion: """
            Writes checkpoints (checkpoint-NNNNNNNN.h5), history.csv, losses.png, train.log and
            samples/iteration-NNNNNNNN.png into the run folder. Ctrl-C or SIGTERM finishes the
            current iteration, saves a checkpoint and exits 0; --resume continues exactly.
            """,
        options: [
            .value("data", "FILE", help: "Packed chairs (.h5 from 'voxgan pack') or a folder of .binvox files."),
            .value("out", "DIR", help: "Run folder for checkpoints, logs and sample sheets."),
            .flag("resume", help: "Continue the run in --out from its newest readable checkpoint (its settings; --epochs may extend it)."),
            .value("resolution", "R", default: String(defaults.resolution), help: "Grid side: 32 or 64."),
            .value("g-channels", "LIST", help: "Generator widths, widest first (default 128,64,32 at 32; 512,256,128,64 at 64)."),
            .value("d-channels", "LIST", help: "Discriminator widths, narrowest first (default 32,64,128 at 32; 64,128,256,512 at 64)."),
            .value("z-dim", "N", default: String(defaults.zDimension), help: "Length of z."),
            .value("z-distribution", "normal|uniform", default: defaults.zDistribution, help: "Distribution of z."),
            .value("z-std", "S", default: String(defaults.zStd), help: "Standard deviation (normal) or half-width (uniform) of z."),
            .value("batch-size", "N", default: String(defaults.batchSize), help: "Samples per batch."),
            .value("epochs", "N", default: String(defaults.epochs), help: "Passes over the data."),
            .value("g-lr", "LR", default: String(defaults.generatorLearningRate), help: "Generator learning rate (Adam)."),
            .value("d-lr", "LR", default: String(defaults.discriminatorLearningRate), help: "Discriminator learning rate (Adam)."),
            .value("beta1", "B", default: String(defaults.beta1), help: "Adam β1."),
            .value("beta2", "B", default: String(defaults.beta2), help: "Adam β2."),
            .value("d-accuracy-gate", "A", default: "0.8", help: "Skip D's update while its accuracy on the batch exceeds A (the paper: 0.8), or 'off'."),
            .value("real-label", "T", default: String(defaults.realLabel), help: "Target for real samples in D's loss (1 = no label smoothing)."),
            .value("d-batch-norm", "on|off", default: defaults.discriminatorBatchNorm ? "on" : "off", help: "Batch norm in D (all layers but the first and last)."),
            .value("d-bias", "on|off", default: defaults.discriminatorBias ? "on" : "off", help: "Learned biases in D's convolutions."),
            .value("init", "dcgan|xavier", default: defaults.initialization, help: "Weight initialisation."),
            .value("flip", "on|off", default: defaults.flipX ? "on" : "off", help: "Random mirror images along x."),
            .value("seed", "N", default: String(defaults.seed), help: "Seed for weights, data order, flips and z."),
            .value("threads", "N", default: String(defaults.threads), env: "VOXGAN_THREADS", help: "Worker threads (resume with the same count for bit-identical results)."),
            .value("checkpoint-interval", "N", default: String(defaults.checkpointInterval), help: "Iterations between checkpoints."),
            .value("log-interval", "N", default: String(defaults.logInterval), help: "Iterations between log lines."),
            .value("sample-interval", "N", default: String(defaults.sampleInterval), help: "Iterations between sample sheets and health checks."),
            .value("keep", "N", default: String(defaults.keepCheckpoints), help: "Checkpoints kept on disk."),
            .value("rollback", "FACTOR", help: "On NaN, reload the last checkpoint and multiply the learning rates by FACTOR (e.g. 0.5) instead of stopping."),
        ])

    static func run(_ arguments: [String]) throws {
        guard let options = try spec.parse(arguments) else { return }
        guard let out = options.string("out") else { throw UsageError("--out DIR is required") }

        // 1. The run folder: a new run never goes into an old run's folder, a resume needs one.
        let resume = options.flag("resume")
        if !resume { try OutputPath.makeFolder(out) }
        let checkpoints = Checkpoint.list(in: out)
        if !resume, let newest = checkpoints.first {
            throw CommandFailure("\(out) already holds a run (newest \(newest)); add --resume to continue it, or choose another --out")
        }
        if resume && checkpoints.isEmpty {
            throw CommandFailure("\(out) has no checkpoint to resume from; drop --resume to start a new run there")
        }

        // 2. Settings: from the checkpoint when resuming, else from the options.
        var config: TrainingConfig
        if let state = checkpoints.lazy.compactMap({ try? Checkpoint.readState(path: $0) }).first {
            config = state.config
        } else if !checkpoints.isEmpty {
            throw CommandFailure("\(out): none of its \(checkpoints.count) checkpoints can be read; remove --resume (or the folder) to start a new run")
        } else {
            config = try makeConfig(options)
        }
        if resume, !checkpoints.isEmpty, options.isGiven("epochs") {
            // The only setting a resumed run may change: how long it goes on. Earlier iterations
            // do not depend on it, so an extended run equals one started with the longer length.
            config.epochs = try options.int("epochs", in: 1...1_000_000) ?? config.epochs
        }
        if resume {
            let allowed: Set = ["data", "out", "resume", "epochs", "rollback"]
            let ignored = spec.options.map(\.name).filter { !allowed.contains($0) && options.isGiven($0) }
            if !ignored.isEmpty {
                printError("voxgan-train: warning: a resumed run keeps its settings (threads \(config.threads)); ignoring "
                           + ignored.map { "--\($0)" }.joined(separator: ", "))
            }
        }

        // 3. Data.
        guard let dataPath = options.string("data") else { throw UsageError("--data FILE is required") }
        let data = try TrainingDataLoader.load(dataPath, resolution: config.resolution)

        // 4. Trainer, log file, signals.
        let trainer = try Trainer(config: config, data: data, runDirectory: out)
        // The program's name without the folder it was run from: the metadata travels with
        // the weights, the local path means nothing elsewhere.
        let program = URL(fileURLWithPath: CommandLine.arguments[0]).lastPathComponent
        trainer.command = ([program] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        if let factor = try options.double("rollback", in: 0.01...0.99) { trainer.rollbackFactor = factor }
        let logFile = try LogFile(path: out + "/train.log")
        let bar = ProgressBar()
        trainer.log = { line in
            bar.clear()
            let stamped = "[\(LogFile.timestamp())] \(line)"
            print(stamped)
            fflush(stdout)
            logFile.write(stamped)
        }
        trainer.progress = { done, total, secondsPerIteration in
            bar.update(done: done, total: total, secondsPerIteration: secondsPerIteration)
        }
        let stop = StopFlag()
        let signals = SignalWatcher(stop: stop) { trainer.log("signal received: finishing the current iteration, then saving a checkpoint") }

        if resume, let path = try trainer.resumeFromLatestCheckpoint() {
            trainer.log("resumed from \(path) at iteration \(trainer.iteration)")
        }
        trainer.log("training \(config.resolution)³ G \(config.generatorChannels) D \(config.discriminatorChannels) on \(data.count) chairs from \(data.source) (occupancy \(String(format: "%.4f", data.meanOccupancy))); \(trainer.iterationsPerEpoch) iterations/epoch, \(trainer.totalIterations) in all; threads \(config.threads)")
        trainer.log("settings \(config.json())")
        try trainer.run(stop: stop)
        bar.clear()
        _ = signals
        let peak = String(format: "%.0f MB", peakResidentMegabytes())
        if trainer.iteration >= trainer.totalIterations {
            trainer.log("finished \(trainer.iteration) iterations in \(String(format: "%.0f", trainer.elapsedSeconds)) s of training; peak memory of this process \(peak); export with: voxgan-train export \(out) --out Models/NAME.h5")
        } else {
            trainer.log("peak memory of this process \(peak) after \(String(format: "%.0f", trainer.elapsedSeconds)) s of training")
        }
    }

    static func onOff(_ options: ParsedCommand, _ name: String) throws -> Bool? {
        try options.choice(name, ["on", "off"]).map { $0 == "on" }
    }

    static func makeConfig(_ options: ParsedCommand) throws -> TrainingConfig {
        let resolution = try options.int("resolution", in: 8...256) ?? 32
        var config = resolution == 64 ? TrainingConfig.paper64 : TrainingConfig()
        config.resolution = resolution
        if let channels = try options.intList("g-channels") { config.generatorChannels = channels }
        if let channels = try options.intList("d-channels") { config.discriminatorChannels = channels }
        if resolution != 32 && resolution != 64 && options.string("g-channels") == nil {
            throw UsageError("--resolution \(resolution) needs explicit --g-channels and --d-channels")
        }
        config.zDimension = try options.int("z-dim", in: 1...100_000) ?? config.zDimension
        config.zDistribution = try options.choice("z-distribution", ["normal", "uniform"]) ?? config.zDistribution
        config.zStd = try options.double("z-std", in: 1e-6...1e6) ?? config.zStd
        config.batchSize = try options.int("batch-size", in: 2...4096) ?? config.batchSize
        config.epochs = try options.int("epochs", in: 1...1_000_000) ?? config.epochs
        config.generatorLearningRate = try options.double("g-lr", in: 1e-12...10) ?? config.generatorLearningRate
        config.discriminatorLearningRate = try options.double("d-lr", in: 1e-12...10) ?? config.discriminatorLearningRate
        config.beta1 = try options.double("beta1", in: 0...0.999999) ?? config.beta1
        config.beta2 = try options.double("beta2", in: 0...0.999999) ?? config.beta2
        if options.string("d-accuracy-gate") == "off" {
            config.accuracyThreshold = nil
        } else if let gate = try options.double("d-accuracy-gate", in: 0...1) {
            config.accuracyThreshold = gate
        }
        config.realLabel = try options.double("real-label", in: 0...1) ?? config.realLabel
        config.discriminatorBatchNorm = try onOff(options, "d-batch-norm") ?? config.discriminatorBatchNorm
        config.discriminatorBias = try onOff(options, "d-bias") ?? config.discriminatorBias
        config.initialization = try options.choice("init", ["dcgan", "xavier"]) ?? config.initialization
        config.flipX = try onOff(options, "flip") ?? config.flipX
        if let seed = options.string("seed") {
            guard let value = UInt64(seed) else { throw UsageError("--seed expects a whole number ≥ 0, got '\(seed)'") }
            config.seed = value
        }
        config.threads = try options.int("threads", in: 1...256) ?? config.threads
        config.checkpointInterval = try options.int("checkpoint-interval", in: 1...10_000_000) ?? config.checkpointInterval
        config.logInterval = try options.int("log-interval", in: 1...10_000_000) ?? config.logInterval
        config.sampleInterval = try options.int("sample-interval", in: 1...10_000_000) ?? config.sampleInterval
        config.keepCheckpoints = try options.int("keep", in: 1...1000) ?? config.keepCheckpoints
        do { try config.validate() } catch { throw UsageError("\(error)") }
        return config
    }
}
