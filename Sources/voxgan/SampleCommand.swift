import CommandLineKit
import Foundation
import GAN
import NN
import VoxelGeometry
import Voxels

/// `voxgan sample`: chairs from a weights file, as files and as one picture sheet.
enum SampleCommand {

    static let spec = CommandSpec(
        name: "voxgan sample",
        abstract: "Generate chairs from trained weights.",
        discussion: """
            Sample k uses seed S+k; its z is the seed's documented SplitMix64 draw (README,
            "Seeds and z"), so the server's /v1/sample?seed=S+k returns the same chair.
            """,
        options: [
            .value("weights", "FILE", default: "Models/chairs32.h5", env: "VOXGAN_WEIGHTS", help: "Weights file written by voxgan-train export."),
            .value("count", "N", default: "16", help: "How many chairs."),
            .value("seed", "S", default: "0", help: "Seed of the first chair."),
            .value("threshold", "T", help: "Occupancy threshold p > T (default: the model's recommended one)."),
            .value("out", "DIR", help: "Write chair-SEED.<format> files into DIR."),
            .value("format", "binvox|obj|stl|png", default: "binvox", help: "File format for --out."),
            .flag("no-merge", help: "obj/stl: one quad per exposed voxel face instead of "
                  + "coplanar faces merged (the default, as the server and convert do)."),
            .value("sheet", "FILE", help: "Also write all chairs rendered into one PNG."),
            .value("columns", "C", default: "4", help: "Columns of the sheet."),
            .value("size", "PX", default: "192", help: "Cell size of the sheet in pixels (16–2048)."),
        ])

    static func run(_ arguments: [String]) throws {
        guard let options = try spec.parse(arguments) else { return }
        let count = try options.int("count", in: 1...100_000) ?? 16
        guard let seedText = options.string("seed"), let seed = UInt64(seedText) else {
            throw UsageError("--seed expects a whole number ≥ 0")
        }
        try checkSeedRange(first: seed, count: count)
        let merge = !options.flag("no-merge")
        let format = try options.choice("format", ["binvox", "obj", "stl", "png"]) ?? "binvox"
        guard options.string("out") != nil || options.string("sheet") != nil else {
            throw UsageError("give --out DIR, --sheet FILE, or both")
        }
        let weights = defaultableWeights(options)
        let (generator, metadata) = try WeightsFile.loadGenerator(path: weights)
        generator.freezeForInference()
        if let out = options.string("out") { try OutputPath.makeFolder(out) }
        if let sheetPath = options.string("sheet") { try OutputFile.checkWritable(sheetPath) }
        let threshold = Float(try options.double("threshold", in: 0...1) ?? metadata.recommendedThreshold)

        // 1. Generate in batches of 16 and write each chair's file at once, keeping only what
        //    the summary and the sheet need (100,000 chairs at 64³ would not fit in memory).
        let r = generator.config.resolution
        let voxels = r * r * r
        let out = options.string("out")
        let sheetPath = options.string("sheet")
        var sheetGrids: [VoxelGrid] = []
        var iouGrids: [VoxelGrid] = []
        var occupancySum = 0.0
        for start in stride(from: 0, to: count, by: 16) {
            let seeds = (start..<min(count, start + 16)).map { seed &+ UInt64($0) }
            let z = seeds.flatMap {
                latentVector(seed: $0, dimension: generator.config.zDimension,
                             distribution: metadata.zDistribution, std: metadata.zStd)
            }
            let zTensor = Tensor(shape: [seeds.count, generator.config.zDimension, 1, 1, 1],
                                 values: z)
            let probabilities = generator(zTensor)
            for (index, sampleSeed) in seeds.enumerated() {
                let grid = VoxelGrid(
                    probabilities: UnsafeBufferPointer(start: probabilities.data + index * voxels,
                                                       count: voxels),
                    nx: r, ny: r, nz: r, threshold: threshold)
                if let out {
                    try write(grid, seed: sampleSeed, format: format, merge: merge, into: out)
                }
                occupancySum += grid.occupancy
                if iouGrids.count < Self.iouSampleLimit { iouGrids.append(grid) }
                if sheetPath != nil { sheetGrids.append(grid) }
            }
        }
        if let out { print("wrote \(count) \(format) files to \(out)") }

        // 2. The sheet.
        if let sheetPath {
            var render = RenderOptions()
            render.size = try options.int("size", in: RenderOptions.sizeRange) ?? 192
            let images = sheetGrids.map { VoxelRenderer.render($0, options: render) }
            let sheet = ImageSheet.compose(images, columns: try options.int("columns", in: 1...1000) ?? 4)
            try OutputFile.write(try PNGEncoder.encode(sheet), to: sheetPath)
            print("wrote \(sheetPath)")
        }
        let compared = iouGrids.count < count ? " (first \(iouGrids.count))" : ""
        print(String(format: "%d chairs at threshold %.3f: mean occupancy %.4f, pairwise IoU%@ %.3f",
                     count, threshold, occupancySum / Double(count), compared,
                     SampleDiagnostics.meanPairwiseIoU(iouGrids)))
    }

    /// Chairs whose pairwise IoU the summary averages: the first 256 (32,640 pairs).
    static let iouSampleLimit = 256

    private static func write(_ grid: VoxelGrid, seed: UInt64, format: String, merge: Bool,
                              into out: String) throws {
        let path = "\(out)/chair-\(seed).\(format)"
        let bytes: [UInt8]
        switch format {
        case "obj": bytes = OBJWriter.encode(VoxelMesher.cubes(grid, mergeCoplanar: merge),
                                             comment: "voxgan chair, seed \(seed)")
        case "stl": bytes = STLWriter.encode(VoxelMesher.cubes(grid, mergeCoplanar: merge),
                                             name: "chair-\(seed)")
        case "png": bytes = try PNGEncoder.encode(VoxelRenderer.render(grid))
        default: bytes = Binvox.encode(grid)
        }
        try OutputFile.write(bytes, to: path)
    }
}
