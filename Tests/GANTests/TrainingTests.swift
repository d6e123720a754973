// The training loop on tiny models: exact resumption, crash-safe checkpoints, weights files,
// evaluation-mode independence, and the 64³ paper configuration's shapes.
import Foundation
import GAN
import HDF5Kit
import NN
import XCTest

final class TrainingTests: XCTestCase {

    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "voxgan-training-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// 12 random boxes in an 8³ grid: enough data for a few 4-sample batches.
    static func boxes(resolution: Int = 8, count: Int = 12) -> TrainingData {
        var random = SplitMix64(seed: 5)
        let r = resolution
        var voxels = [UInt8](repeating: 0, count: count * r * r * r)
        for n in 0..<count {
            let low = (0..<3).map { _ in Int(random.next() % UInt64(r / 2)) }
            let high = low.map { $0 + 1 + Int(random.next() % UInt64(r / 2)) }
            for x in low[0]..<high[0] { for y in low[1]..<high[1] { for z in low[2]..<high[2] {
                voxels[((n * r + x) * r + y) * r + z] = 1
            } } }
        }
        return TrainingData(resolution: r, count: count, voxels: voxels, source: "boxes")
    }

    static func tinyConfig() -> TrainingConfig {
        var config = TrainingConfig()
        config.resolution = 8
        config.generatorChannels = [6]
        config.discriminatorChannels = [4]
        config.zDimension = 5
        config.batchSize = 4
        config.epochs = 3
        config.checkpointInterval = 4
        config.logInterval = 2
        config.sampleInterval = 4
        config.threads = 2
        config.accuracyThreshold = 0.8
        return config
    }

    private func weights(_ trainer: Trainer) -> [[Float]] {
        (trainer.generator.parameters + trainer.discriminator.parameters).map { $0.value.toArray() }
            + trainer.generator.blocks.compactMap { $0.batchNorm?.runningMean.toArray() }
    }

    func testInterruptedAndResumedRunIsBitIdentical() throws {
        let data = Self.boxes()
        let config = Self.tinyConfig()  // 3 iterations per epoch, 9 in all

        let straight = try Trainer(config: config, data: data, runDirectory: directory + "/a")
        straight.log = { _ in }
        try straight.run()
        XCTAssertEqual(straight.iteration, 9)

        // Stop after the checkpoint at iteration 4, then resume in a new trainer (a new process).
        let first = try Trainer(config: config, data: data, runDirectory: directory + "/b")
        first.log = { _ in }
        let stop = StopFlag()
        first.progress = { done, _, _ in if done == 5 { stop.raise() } }
        try first.run(stop: stop)
        XCTAssertEqual(first.iteration, 5)
        let second = try Trainer(config: config, data: data, runDirectory: directory + "/b")
        second.log = { _ in }
        XCTAssertNotNil(try second.resumeFromLatestCheckpoint())
        XCTAssertEqual(second.iteration, 5)
        try second.run()

        XCTAssertEqual(weights(second), weights(straight), "resumed weights differ from an uninterrupted run")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/b/history.csv"))
    }

    func testRunExtendedOnResumeEqualsALongerRun() throws {
        let data = Self.boxes()
        var short = Self.tinyConfig()
        short.epochs = 2
        var long = Self.tinyConfig()
        long.epochs = 3

        let straight = try Trainer(config: long, data: data, runDirectory: directory + "/a")
        straight.log = { _ in }
        try straight.run()

        // Finish a 2-epoch run, then resume it with more epochs (voxgan-train --resume --epochs).
        let first = try Trainer(config: short, data: data, runDirectory: directory + "/b")
        first.log = { _ in }
        try first.run()
        XCTAssertEqual(first.iteration, 6)
        let extended = try Trainer(config: long, data: data, runDirectory: directory + "/b")
        extended.log = { _ in }
        XCTAssertNotNil(try extended.resumeFromLatestCheckpoint())
        try extended.run()

        XCTAssertEqual(extended.iteration, 9)
        XCTAssertEqual(weights(extended), weights(straight), "an extended run differs from a longer one")
    }

    func testCorruptNewestCheckpointFallsBackToThePreviousOne() throws {
        let data = Self.boxes()
        let config = Self.tinyConfig()
        let trainer = try Trainer(config: config, data: data, runDirectory: directory)
        var lines: [String] = []
        trainer.log = { lines.append($0) }
        try trainer.run()
        let checkpoints = Checkpoint.list(in: directory)
        XCTAssertGreaterThanOrEqual(checkpoints.count, 2)
        // Truncate the newest: a crash in the middle of a copy, or a full disk.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: checkpoints[0]))
        try handle.truncate(atOffset: 1000)
        try handle.close()

        let resumed = try Trainer(config: config, data: data, runDirectory: directory)
        resumed.log = { lines.append($0) }
        let used = try resumed.resumeFromLatestCheckpoint()
        XCTAssertEqual(used, checkpoints[1])
        XCTAssertTrue(lines.contains { $0.contains("skipping checkpoint") && $0.contains(checkpoints[0]) })
    }

    func testExportedWeightsReloadToTheSameProbabilities() throws {
        let trainer = try Trainer(config: Self.tinyConfig(), data: Self.boxes(), runDirectory: directory)
        trainer.log = { _ in }
        try trainer.run()
        let path = directory + "/model.h5"
        let summary = try ModelExport.export(checkpoint: Checkpoint.list(in: directory)[0], to: path,
                                             threshold: nil, withDiscriminator: false)
        XCTAssertTrue(summary.contains("recommended threshold"))

        let (loaded, metadata) = try WeightsFile.loadGenerator(path: path)
        XCTAssertEqual(metadata.zDistribution, .normal)
        XCTAssertEqual(metadata.attributes["iterations"], "9")
        // The file stores float16 weights: the reloaded generator equals the trained one after
        // the same rounding, bit for bit.
        trainer.generator.isTraining = false
        let z = trainer.fixedLatents(count: 3)
        let unrounded = trainer.generator(z).toArray()
        WeightsFile.roundToHalfPrecision(trainer.generator.blocks)
        let rounded = trainer.generator(z).toArray()
        XCTAssertEqual(loaded(z).toArray(), rounded)
        XCTAssertLessThan(zip(rounded, unrounded).map { abs($0 - $1) }.max()!, 1e-2)

        let file = try HDF5File.open(path)
        XCTAssertEqual(try file.stringAttribute("format"), "voxgan-weights")
        XCTAssertEqual(try file.intAttribute("z_dim"), 5)
        XCTAssertTrue(file.contains("generator/layer0/bn_running_var"))
        XCTAssertFalse(file.contains("discriminator"))
        XCTAssertEqual(try file.stringAttribute("weight_storage"), "float16")

        // float32 storage keeps the weights exactly.
        let exact = directory + "/exact.h5"
        _ = try ModelExport.export(checkpoint: Checkpoint.list(in: directory)[0], to: exact,
                                   threshold: 0.5, withDiscriminator: true, halfPrecision: false)
        let (exactGenerator, exactMetadata) = try WeightsFile.loadGenerator(path: exact)
        XCTAssertEqual(exactMetadata.recommendedThreshold, 0.5)
        XCTAssertNotEqual(exactGenerator(z).toArray(), rounded)
        XCTAssertTrue(try HDF5File.open(exact).contains("discriminator/layer0/weight"))
    }

    func testCorruptWeightsFileIsReportedByName() throws {
        let path = directory + "/broken.h5"
        try Data("not an hdf5 file".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try WeightsFile.loadGenerator(path: path)) { error in
            XCTAssertTrue("\(error)".contains(path))
        }
        XCTAssertThrowsError(try WeightsFile.loadGenerator(path: directory + "/missing.h5"))
    }

    /// Values that would make a generator crash, allocate without bound or answer NaN are
    /// refused at load time with the attribute or dataset named.
    func testWeightsFileValuesOutOfRangeAreRefusedByName() throws {
        let generator = try Generator(config: GeneratorConfig(resolution: 8, zDimension: 5,
                                                              channels: [4]))
        let good = directory + "/good.h5"
        try WeightsFile.write(generator: generator, metadata: WeightsMetadata(), to: good)
        XCTAssertNoThrow(try WeightsFile.loadGenerator(path: good))
        let doubles: [(String, Double)] = [("z_std", .nan), ("z_std", 0),
                                           ("recommended_threshold", .nan),
                                           ("recommended_threshold", 2), ("bn_eps", -1)]
        let integers: [(String, Int)] = [("z_dim", 1 << 40), ("format_version", 2)]
        var cases: [(String, (HDF5File) throws -> Void)] = []
        cases += doubles.map { name, value in (name, { try $0.setAttribute(name, value) }) }
        cases += integers.map { name, value in (name, { try $0.setAttribute(name, value) }) }
        for (index, (name, change)) in cases.enumerated() {
            let path = directory + "/bad\(index).h5"
            try FileManager.default.copyItem(atPath: good, toPath: path)
            try change(try HDF5File.open(path, writable: true))
            XCTAssertThrowsError(try WeightsFile.loadGenerator(path: path), name) { error in
                XCTAssertTrue("\(error)".contains(name), "\(error)")
            }
        }

        generator.blocks[0].batchNorm!.runningVariance.data[1] = -0.5
        let negative = directory + "/negative.h5"
        try WeightsFile.write(generator: generator, metadata: WeightsMetadata(), to: negative)
        XCTAssertThrowsError(try WeightsFile.loadGenerator(path: negative)) { error in
            XCTAssertTrue("\(error)".contains("bn_running_var"), "\(error)")
        }
    }

    func testGatedAndUngatedDiscriminatorPassesGiveTheSameGradients() throws {
        // The gated pass runs both halves forward before any backward; the ungated one goes
        // half by half. With a gate that never skips, both must sum the same gradients.
        func gradients(gate: Float?) throws -> (DiscriminatorPassResult, [[Float]], Float) {
            let generator = try Generator(config: GeneratorConfig(resolution: 16, zDimension: 7,
                                                                  channels: [8, 4]))
            let discriminator = try Discriminator(config: DiscriminatorConfig(
                resolution: 16, channels: [4, 8], batchNorm: true))
            var random = SplitMix64(seed: 3)
            initialize(generator.layers + discriminator.layers, scheme: .dcgan, generator: &random)
            let z = Tensor(shape: [3, 7, 1, 1, 1], values: (0..<21).map { _ in random.latent(.normal, std: 1) })
            let real = Tensor(shape: [3, 1, 16, 16, 16],
                              values: (0..<(3 * 4096)).map { Float(($0 * 7919) % 13 < 2 ? 1 : 0) })
            let step = AdversarialStep(generator: generator, discriminator: discriminator, realLabel: 0.9)
            let fake = generator(z)
            let pass = step.discriminatorPass(real: real, fake: fake, skipIfAccuracyAbove: gate)
            let dGradients = discriminator.parameters.map { $0.gradient.toArray() }
            step.discriminatorDidUpdate()
            let lossG = step.generatorPass(fake: fake)
            // G's pass computes no D weight gradients: D keeps what its own pass left.
            XCTAssertEqual(discriminator.parameters.map { $0.gradient.toArray() }, dGradients)
            XCTAssertTrue(discriminator.parameters.allSatisfy(\.requiresGradient))
            return (pass, dGradients + generator.parameters.map { $0.gradient.toArray() }, lossG)
        }
        let (gated, gatedGradients, gatedLossG) = try gradients(gate: 1)
        let (ungated, ungatedGradients, ungatedLossG) = try gradients(gate: nil)
        XCTAssertTrue(gated.computedGradients)
        XCTAssertEqual(gated.realLogits, ungated.realLogits)
        XCTAssertEqual(gated.fakeLogits, ungated.fakeLogits)
        XCTAssertEqual(gated.accuracy, ungated.accuracy)
        XCTAssertEqual(gatedGradients, ungatedGradients)
        XCTAssertEqual(gatedLossG, ungatedLossG)
    }

    func testEvaluationModeSampleDoesNotDependOnItsBatch() throws {
        let generator = try Generator(config: GeneratorConfig(resolution: 16, zDimension: 7, channels: [8, 4]))
        var random = SplitMix64(seed: 9)
        initialize(generator.layers, scheme: .dcgan, generator: &random)
        generator.isTraining = true
        _ = generator(Tensor(shape: [4, 7, 1, 1, 1], values: (0..<28).map { Float($0 % 5) - 2 }))
        generator.isTraining = false
        let one = latentVector(seed: 1, dimension: 7, distribution: .normal, std: 1)
        let other = latentVector(seed: 2, dimension: 7, distribution: .normal, std: 1)
        let alone = generator(Tensor(shape: [1, 7, 1, 1, 1], values: one)).toArray()
        let together = generator(Tensor(shape: [2, 7, 1, 1, 1], values: other + one)).toArray()
        XCTAssertEqual(Array(together[(16 * 16 * 16)...]), alone)
    }

    /// A frozen generator gives the plain one's probabilities up to float rounding, and a
    /// sample's probabilities are the same bits alone or in a batch, on 1–4 threads. (The
    /// plain generator promises the second only up to rounding: a batch changes the shapes of
    /// its matrix products, and sgemm rounds a few entries differently for different shapes.)
    func testFrozenGeneratorMatchesAndIsBitForBitBatchIndependent() throws {
        let saved = ComputeThreads.count
        defer { ComputeThreads.count = saved }
        let config = GeneratorConfig(resolution: 32, zDimension: 7, channels: [32, 16, 16])
        let (plain, frozen) = (try Generator(config: config), try Generator(config: config))
        var random = SplitMix64(seed: 4)
        initialize(plain.layers, scheme: .dcgan, generator: &random)
        for (source, target) in zip(plain.parameters, frozen.parameters) {
            target.value.data.update(from: source.value.data, count: source.value.count)
        }
        plain.isTraining = false
        frozen.freezeForInference()
        let latents = (1...3).map {
            latentVector(seed: $0, dimension: 7, distribution: .normal, std: 1)
        }
        ComputeThreads.count = 1
        let alone = latents.map { frozen(Tensor(shape: [1, 7, 1, 1, 1], values: $0)).toArray() }
        let voxels = 32 * 32 * 32
        for threads in [4, 3, 2, 1] {
            ComputeThreads.count = threads
            for batch in 1...3 {
                let z = Tensor(shape: [batch, 7, 1, 1, 1], values: latents[..<batch].flatMap { $0 })
                let together = frozen(z).toArray()
                let expected = plain(z).toArray()
                for n in 0..<batch {
                    let sample = Array(together[(n * voxels)..<((n + 1) * voxels)])
                    XCTAssertTrue(sample == alone[n],
                                  "sample \(n) of \(batch), \(threads) threads: not the same bits")
                    let plainSample = expected[(n * voxels)..<((n + 1) * voxels)]
                    let worst = zip(sample, plainSample).map { abs($0 - $1) }.max() ?? .infinity
                    XCTAssertLessThan(worst, 1e-6, "frozen against plain, \(threads) threads")
                }
            }
        }
    }

    func testPaperSized64ConfigurationAtTinyWidthsTrainsOneIteration() throws {
        var config = Self.tinyConfig()
        config.resolution = 64
        config.generatorChannels = [4, 4, 4, 2]
        config.discriminatorChannels = [2, 4, 4, 4]
        config.batchSize = 2
        config.epochs = 1
        let data = Self.boxes(resolution: 64, count: 2)
        let trainer = try Trainer(config: config, data: data, runDirectory: directory)
        trainer.log = { _ in }
        try trainer.run()
        XCTAssertEqual(trainer.iteration, 1)
        XCTAssertEqual(trainer.generator(trainer.fixedLatents(count: 1)).shape, [1, 1, 64, 64, 64])
        XCTAssertThrowsError(try Generator(config: GeneratorConfig(resolution: 64, channels: [8, 8])))
    }

    func testDiagnosticsSeeEmptySolidAndIdenticalSamples() {
        let r = 8
        let voxels = r * r * r
        let empty = [Float](repeating: 0.1, count: 2 * voxels)
        let solid = [Float](repeating: 0.9, count: 2 * voxels)
        let e = empty.withUnsafeBufferPointer {
            SampleDiagnostics(probabilities: $0, count: 2, resolution: r, threshold: 0.5)
        }
        XCTAssertEqual(e.emptyFraction, 1)
        let s = solid.withUnsafeBufferPointer {
            SampleDiagnostics(probabilities: $0, count: 2, resolution: r, threshold: 0.5)
        }
        XCTAssertEqual(s.solidFraction, 1)
        XCTAssertEqual(s.meanPairwiseIoU, 1)
        XCTAssertFalse(s.warnings.isEmpty)
        let nan = [Float](repeating: .nan, count: voxels)
        XCTAssertTrue(nan.withUnsafeBufferPointer {
            SampleDiagnostics(probabilities: $0, count: 1, resolution: r, threshold: 0.5)
        }.hasNonFinite)
    }
}
