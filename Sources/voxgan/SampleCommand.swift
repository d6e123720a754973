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

        // 1. Generate in batches of 16, in evaluation mode.
        let r = generator.config.resolution
        let voxels = r * r * r
        var grids: [(UInt64, VoxelGrid, [Float])] = []
        for start in stride(from: 0, to: count, by: 16) {
            let seeds = (start..<min(count, start + 16)).map { seed &+ UInt64($0) }
            let z = seeds.flatMap {
                latentVector(seed: $0, dimension: generator.config.zDimension,
                             distribution: metadata.zDistribution, std: metadata.zStd)
            }
            let probabilities = generator(Tensor(shape: [seeds.count, generator.config.zDimension, 1, 1, 1], values: z)).toArray()
            for (index, sampleSeed) in seeds.enumerated() {
                let slice = Array(probabilities[(index * voxels)..<((index + 1) * voxels)])
                let grid = slice.withUnsafeBufferPointer {
                    VoxelGrid(probabilities: $0, nx: r, ny: r, nz: r, threshold: threshold)
                }
                grids.append((sampleSeed, grid, slice))
            }
        }

        // 2. Files.
        if let out = options.string("out") {
            for (sampleSeed, grid, _) in grids {
                let path = "\(out)/chair-\(sampleSeed).\(format)"
                let bytes: [UInt8]
                switch format {
                case "obj": bytes = OBJWriter.encode(VoxelMesher.cubes(grid, mergeCoplanar: merge),
                                                     comment: "voxgan chair, seed \(sampleSeed)")
                case "stl": bytes = STLWriter.encode(VoxelMesher.cubes(grid, mergeCoplanar: merge),
                                                     name: "chair-\(sampleSeed)")
                case "png": bytes = try PNGEncoder.encode(VoxelRenderer.render(grid))
                default: bytes = Binvox.encode(grid)
                }
                try OutputFile.write(bytes, to: path)
            }
            print("wrote \(grids.count) \(format) files to \(out)")
        }

        // 3. The sheet.
        if let sheetPath = options.string("sheet") {
            var render = RenderOptions()
            render.size = try options.int("size", in: RenderOptions.sizeRange) ?? 192
            let images = grids.map { VoxelRenderer.render($0.1, options: render) }
            let sheet = ImageSheet.compose(images, columns: try options.int("columns", in: 1...1000) ?? 4)
            try OutputFile.write(try PNGEncoder.encode(sheet), to: sheetPath)
            print("wrote \(sheetPath)")
        }
        let occupancy = grids.map { $0.1.occupancy }.reduce(0, +) / Double(grids.count)
        print(String(format: "%d chairs at threshold %.3f: mean occupancy %.4f, pairwise IoU %.3f",
                     grids.count, threshold, occupancy,
                     SampleDiagnostics.meanPairwiseIoU(grids.map { $0.1 })))
    }
}
