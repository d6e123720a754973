import CommandLineKit
import Foundation
import VoxelGeometry
import Voxels

/// `voxgan sheet`: many binvox files rendered into one PNG, row by row.
enum SheetCommand {

    static let spec = CommandSpec(
        name: "voxgan sheet", abstract: "Render many voxel files into one PNG sheet.",
        discussion: """
            Each file is rendered as 'voxgan convert' renders PNGs, into a cell of --size \
            pixels; cells are laid out --columns to a row (default: a square-ish layout) in \
            the order given, 4 pixels apart.
            """,
        arguments: [Argument("files", help: "The .binvox files.", repeated: true)],
        options: [
            .value("out", "PATH", help: "The PNG to write (required)."),
            .value("columns", "C",
                help: "Cells per row (default: the ceiling of the square root of the file " +
                      "count)."),
            .value("size", "N", default: "256", help: "Cell width and height in pixels (16–2048)."),
            .value("azimuth", "DEGREES", default: "45",
                help: "Camera angle around +y; 0 looks at the front (from -z)."),
            .value("elevation", "DEGREES", default: "35.264",
                help: "Camera angle above the horizon."),
            .value("supersample", "N", default: "2",
                help: "Samples per pixel along each axis (1-4)."),
            .flag("transparent", help: "Transparent background."),
            .flag("outlines", help: "Draw the edges of voxel faces."),
            .flag("same-scale",
                help: "Frame every cell on its whole grid instead of its model, so sizes " +
                      "compare."),
            .flag("largest-component", help: "Keep only each model's largest connected part."),
        ])

    static func run(_ arguments: [String]) throws {
        guard let options = try spec.parse(arguments) else { return }
        guard let output = options.string("out") else {
            throw UsageError("missing --out <PATH> (see '\(spec.name) --help')")
        }
        guard output.lowercased().hasSuffix(".png") else {
            throw UsageError("--out \(output): a sheet is a PNG; name it .png")
        }
        try OutputFile.checkWritable(output)
        let files = options.positionals
        let columns = try options.int("columns", in: 1...1000)
            ?? Int(Double(files.count).squareRoot().rounded(.up))
        var render = try ConvertCommand.renderOptions(options)
        if options.flag("same-scale") { render.framing = .grid }

        var grids: [VoxelGrid] = []
        for file in files {
            var grid = try Binvox.read(path: file)
            if options.flag("largest-component") { grid = grid.largestComponent() }
            try GridLimits.checkDrawable(grid, name: file)
            grids.append(grid)
        }
        let sheet = ImageSheet.render(grids: grids, columns: columns, cellSize: render.size,
                                      options: render)
        let bytes = try PNGEncoder.encode(sheet)
        try OutputFile.write(bytes, to: output)
        print("wrote \(output): \(files.count) grids, \(sheet.width)×\(sheet.height), "
              + "\(bytes.count) bytes")
    }
}
