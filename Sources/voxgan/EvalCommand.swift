import CommandLineKit
import Foundation
import GAN
import NN
import Voxels

/// `voxgan eval`: sample quality against real chairs (MMD, COV, 1-NNA with a real-vs-real
/// baseline, collapse and memorisation figures), as a table and as JSON.
enum EvalCommand {

    static let spec = CommandSpec(
        name: "voxgan eval",
        abstract: "Measure sample quality against real chairs.",
        discussion: """
            Distances are d = 1 − IoU of thresholded grids. MMD: each reference shape's \
            distance to its nearest sample, averaged (lower is better). COV: share of reference \
            shapes that are some sample's nearest (higher is better). 1-NNA: leave-one-out \
            1-nearest-neighbour accuracy at telling samples from references (0.5 is ideal). \
            Set metrics use equal-sized sets and are averaged over --draws random draws; \
            "real half A vs half B" splits the reference set in two and is the row to read \
            "samples vs half B" against. REF and TRAIN are packed .h5 files or folders of \
            binvox files (folders are deduplicated by content and MANIFEST.tsv duplicate_of).
            """,
        options: [
            .value("weights", "FILE", default: "Models/chairs32.h5", env: "VOXGAN_WEIGHTS",
                   help: "Weights file written by voxgan-train export."),
            .value("reference", "REF", help: "Real chairs to compare with (required)."),
            .value("train", "TRAIN", help: "The training chairs, for memorisation."),
            .value("count", "N", default: "1000", help: "Samples to generate."),
            .value("seed", "S", default: "0", help: "Seed of the first sample (then S+1, ...)."),
            .value("threshold", "T",
                   help: "Occupancy threshold p > T (default: the model's recommended one)."),
            .value("normalize", "bbox|none", default: "bbox",
                   help: "bbox: scale each bounding box uniformly to fill the grid and centre "
                   + "it before comparing (sets voxelised with different margins compare); "
                   + "none: compare grids as they are."),
            .value("draws", "K", default: "10", help: "Random draws each set metric averages."),
            .value("threads", "N", default: "2", help: "Threads for generation and distances."),
            .value("json", "FILE", help: "Also write the figures as JSON."),
        ])

    static func run(_ arguments: [String]) throws {
        guard let options = try spec.parse(arguments) else { return }
        guard let referencePath = options.string("reference") else {
            throw UsageError("missing option --reference REF (see '\(spec.name) --help')")
        }
        let count = try options.int("count", in: 1...100_000) ?? 1000
        guard let seed = UInt64(options.string("seed", default: "0")) else {
            throw UsageError("--seed expects a whole number ≥ 0")
        }
        try checkSeedRange(first: seed, count: count)
        let normalizationName = try options.choice("normalize", ["bbox", "none"]) ?? "bbox"
        let draws = try options.int("draws", in: 1...10_000) ?? 10
        let threads = try options.int("threads", in: 1...256) ?? 2
        ComputeThreads.count = threads

        // 1. Every input and output checked before the slow part: paths first (milliseconds),
        //    then the model, then the real chairs at its resolution.
        let trainPath = options.string("train")
        try checkReadable(referencePath, role: "reference")
        if let trainPath { try checkReadable(trainPath, role: "train") }
        if let path = options.string("json") { try OutputFile.checkWritable(path) }
        let weights = defaultableWeights(options)
        let (generator, metadata) = try WeightsFile.loadGenerator(path: weights)
        generator.freezeForInference()
        let threshold = Float(try options.double("threshold", in: 0...1)
                              ?? metadata.recommendedThreshold)
        let r = generator.config.resolution
        let reference = try loadShapes(referencePath, resolution: r, role: "reference")
        let train = try trainPath.map { try loadShapes($0, resolution: r, role: "train") }

        // 2. The samples.
        var started = Date()
        let samples = generate(generator, metadata: metadata, count: count, seed: seed,
                               threshold: threshold)
        printError(String(format: "eval: %d samples at threshold %.3f in %.1f s", count,
                          threshold, Date().timeIntervalSince(started)))

        // 3. Metrics.
        started = Date()
        var evaluation = QualityEvaluation(
            normalization: GridNormalization(rawValue: normalizationName) ?? .bbox,
            draws: draws, seed: seed &+ 1, threads: threads)
        evaluation.memorisationIoU = 0.9
        let report = try evaluation.evaluate(samples: samples, reference: reference,
                                             train: train) { printError("eval: " + $0) }
        printError(String(format: "eval: metrics in %.2f s", Date().timeIntervalSince(started)))

        print(table(report, weights: weights, threshold: threshold, referencePath: referencePath,
                    trainPath: options.string("train")))
        if let path = options.string("json") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            var object = try JSONSerialization.jsonObject(with: encoder.encode(report))
                as! [String: Any]
            object["weights"] = weights
            object["threshold"] = Double(threshold)
            object["seed"] = NSNumber(value: seed)    // Int(seed) traps above 2⁶³−1
            object["reference"] = referencePath
            object["train"] = options.string("train")
            object["resolution"] = r
            let data = try JSONSerialization.data(withJSONObject: object,
                                                  options: [.prettyPrinted, .sortedKeys])
            try OutputFile.write([UInt8](data), to: path)
        }
    }

    /// Samples seed, seed+1, ... in evaluation mode, thresholded at `threshold`.
    static func generate(_ generator: Generator, metadata: WeightsMetadata, count: Int,
                         seed: UInt64, threshold: Float) -> [VoxelGrid] {
        let r = generator.config.resolution
        let voxels = r * r * r
        let zDimension = generator.config.zDimension
        var grids: [VoxelGrid] = []
        for start in stride(from: 0, to: count, by: 32) {
            let seeds = (start..<min(count, start + 32)).map { seed &+ UInt64($0) }
            let z = seeds.flatMap {
                latentVector(seed: $0, dimension: zDimension, distribution: metadata.zDistribution,
                             std: metadata.zStd)
            }
            let probabilities = generator(Tensor(shape: [seeds.count, zDimension, 1, 1, 1],
                                                 values: z))
            for index in 0..<seeds.count {
                let slice = UnsafeBufferPointer(start: probabilities.data + index * voxels,
                                                count: voxels)
                grids.append(VoxelGrid(probabilities: slice, nx: r, ny: r, nz: r,
                                       threshold: threshold))
            }
        }
        return grids
    }

    /// Fails with one line naming the option when `path` is missing or unreadable.
    static func checkReadable(_ path: String, role: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw CommandFailure("\(path): no such file or folder (--\(role))")
        }
        guard access(path, isFolder.boolValue ? R_OK | X_OK : R_OK) == 0 else {
            throw CommandFailure("\(path): cannot be read (--\(role)): permission denied")
        }
    }

    /// Grids of side `resolution` from a packed `.h5` file or from binvox files and folders
    /// (packed on the fly with duplicates dropped).
    static func loadShapes(_ path: String, resolution: Int, role: String) throws -> [VoxelGrid] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw CommandFailure("\(path): no such file or folder (--\(role))")
        }
        if !isFolder.boolValue && path.lowercased().hasSuffix(".h5") {
            let set = try PackedDataset.load(path: path)
            let grids = try (0..<set.count).map {
                try set.grid(at: $0).resampled(toResolution: resolution)
            }
            printError("eval: \(role): \(grids.count) shapes from \(path)")
            return grids
        }
        let result = try DatasetPacker(resolution: resolution, dedupe: true).pack(inputs: [path])
        for skipped in result.skipped {
            printError("eval: \(role): skipped \(skipped.name): \(skipped.reason)")
        }
        guard !result.grids.isEmpty else {
            throw CommandFailure("\(path): no usable \(resolution)³ shapes (\(result.summary))")
        }
        printError("eval: \(role): \(result.grids.count) shapes from \(path) (\(result.summary))")
        return result.grids
    }

    /// The report as a plain-text table.
    static func table(_ report: QualityReport, weights: String, threshold: Float,
                      referencePath: String, trainPath: String?) -> String {
        func cell(_ spread: Spread) -> String {
            spread.std == 0 ? String(format: "%.3f", spread.mean)
                : String(format: "%.3f ± %.3f", spread.mean, spread.std)
        }
        var lines: [String] = []
        lines.append("voxgan eval: \(weights) at threshold \(String(format: "%.3f", threshold)); "
                     + "\(report.sampleCount) samples, reference \(referencePath) "
                     + "(\(report.referenceCount))"
                     + (trainPath.map { ", train \($0) (\(report.trainCount ?? 0))" } ?? ""))
        let placement = report.normalization == .bbox ? "bounding-box-normalised" : "unnormalised"
        lines.append("d = 1 − IoU on \(placement) grids; "
                     + "mean ± std over \(report.rows.first?.draws ?? 0) draws")
        lines.append("")
        let header = "set".padding(toLength: 24, withPad: " ", startingAt: 0)
            + "  n vs m    " + "MMD ↓".padding(toLength: 16, withPad: " ", startingAt: 0)
            + "COV ↑".padding(toLength: 16, withPad: " ", startingAt: 0) + "1-NNA (0.5 ideal)"
        lines.append(header)
        for row in report.rows {
            lines.append(row.name.padding(toLength: 24, withPad: " ", startingAt: 0)
                         + String(format: "  %3d vs %-3d ", row.samples, row.references)
                         + cell(row.mmd).padding(toLength: 16, withPad: " ", startingAt: 0)
                         + cell(row.coverage).padding(toLength: 16, withPad: " ", startingAt: 0)
                         + cell(row.oneNNA))
        }
        lines.append("")
        lines.append(String(format: "empty samples %.1f %%, nearly solid %.1f %%",
                            100 * report.emptyFraction, 100 * report.solidFraction))
        var occupancy = String(format: "occupancy: samples %.4f ± %.4f, reference %.4f ± %.4f",
                               report.sampleOccupancy.mean, report.sampleOccupancy.std,
                               report.referenceOccupancy.mean, report.referenceOccupancy.std)
        if let train = report.trainOccupancy {
            occupancy += String(format: ", train %.4f ± %.4f", train.mean, train.std)
        }
        lines.append(occupancy)
        lines.append(String(format: "mean pairwise IoU: samples %.3f, reference %.3f "
                            + "(near 1: mode collapse)", report.samplePairwiseIoU,
                            report.referencePairwiseIoU))
        if let memorised = report.memorisedFraction, let nearest = report.nearestTrainIoU {
            lines.append(String(format: "memorisation: %.1f %% of samples have a training shape "
                                + "with IoU > 0.9; mean IoU with the nearest training shape %.3f",
                                100 * memorised, nearest))
        } else {
            lines.append("memorisation: not measured (give --train)")
        }
        return lines.joined(separator: "\n")
    }
}
