import CommandLineKit
import Foundation
import VoxelGeometry
import Voxels

/// `voxgan convert`: one binvox file to binvox, OBJ, STL or PNG, the format chosen by the
/// output's extension or `--format`.
enum ConvertCommand {

    static let formats = ["binvox", "obj", "stl", "png"]

    static let spec = CommandSpec(
        name: "voxgan convert", abstract: "Convert a binvox file to binvox, OBJ, STL or PNG.",
        discussion: """
            Meshes (OBJ, STL) are closed and wound outward, in the file's binvox placement \
            (translate + scale·i/d), +y up. 'cubes' keeps the voxels' faces; 'smooth' runs \
            marching cubes on the occupancy. PNG renders shaded voxels (default: isometric, \
            512×512, the chair filling the picture). Output '-' writes to standard output \
            (with --format).
            """,
        arguments: [Argument("input", help: "A .binvox file."),
                    Argument("output", help: "Where to write: .binvox, .obj, .stl or .png.")],
        options: [
            .value("format", "FORMAT",
                help: "binvox, obj, stl or png (default: from the output's extension)."),
            .value("mesh", "MODE", default: "cubes", help: "Mesh for OBJ/STL: cubes or smooth."),
            .value("threshold", "T",
                help: "Iso-level of the smooth surface on 0/1 occupancy, 0 < T < 1 (default " +
                      "0.5; lower is fuller)."),
            .flag("largest-component",
                help: "Keep only the largest connected part (26-connectivity)."),
            .flag("normals", help: "OBJ: write per-vertex normals (f a//a b//b c//c)."),
            .flag("merge", help: "Cubes: merge coplanar faces into larger rectangles "
                  + "(the default, as the server does)."),
            .flag("no-merge", help: "Cubes: one quad per exposed voxel face."),
            .value("size", "N", default: "512", help: "PNG width and height in pixels (16–2048)."),
            .value("azimuth", "DEGREES", default: "45",
                help: "PNG camera angle around +y; 0 looks at the front (from -z)."),
            .value("elevation", "DEGREES", default: "35.264",
                help: "PNG camera angle above the horizon."),
            .value("supersample", "N", default: "2",
                help: "PNG samples per pixel along each axis (1-4)."),
            .flag("transparent", help: "PNG: transparent background."),
            .flag("outlines", help: "PNG: draw the edges of voxel faces."),
        ])

    static func run(_ arguments: [String]) throws {
        guard let options = try spec.parse(arguments) else { return }
        let input = options.positionals[0], output = options.positionals[1]

        // 1. Options, all checked before any file is read.
        let format: String
        if let chosen = try options.choice("format", formats) {
            format = chosen
        } else {
            let pathExtension = (output as NSString).pathExtension.lowercased()
            guard formats.contains(pathExtension) else {
                throw UsageError("cannot tell the format of '\(output)': use a .binvox, .obj, "
                                 + ".stl or .png name, or --format")
            }
            format = pathExtension
        }
        let mesh = try options.choice("mesh", ["cubes", "smooth"]) ?? "cubes"
        let threshold = try options.double("threshold", in: 0.001...0.999)
        if threshold != nil, mesh != "smooth" || !["obj", "stl"].contains(format) {
            throw UsageError("--threshold only applies to OBJ or STL output with --mesh smooth")
        }
        if options.flag("merge") || options.flag("no-merge"), mesh != "cubes" {
            throw UsageError("--merge and --no-merge only apply to --mesh cubes")
        }
        let render = try renderOptions(options)
        if output == "-" {
            guard options.string("format") != nil else {
                throw UsageError("writing to standard output needs --format")
            }
        } else {
            try OutputFile.checkWritable(output)
        }

        // 2. Read, optionally clean up, convert.
        var grid = try Binvox.read(path: input)
        if options.flag("largest-component") { grid = grid.largestComponent() }
        if format != "binvox" { try GridLimits.checkDrawable(grid, name: input) }
        let name = (input as NSString).lastPathComponent
        let bytes: [UInt8]
        var summary: String
        switch format {
        case "binvox":
            bytes = Binvox.encode(grid)
            summary = "\(grid.occupiedCount) voxels"
        case "png":
            bytes = try PNGEncoder.encode(VoxelRenderer.render(grid, options: render))
            summary = "\(render.size)×\(render.size) picture"
        default:
            let surface = mesh == "cubes"
                ? VoxelMesher.cubes(grid, mergeCoplanar: !options.flag("no-merge"))
                : smoothMesh(grid, isoLevel: Float(threshold ?? 0.5))
            bytes = format == "obj"
                ? OBJWriter.encode(surface, normals: options.flag("normals"),
                                   comment: "voxgan \(mesh) mesh of \(name)")
                : STLWriter.encode(surface, name: "\(mesh) mesh of \(name)")
            summary = "\(mesh) mesh, \(surface.vertices.count) vertices, "
                + "\(surface.triangles.count) triangles"
        }

        // 3. Write.
        try OutputFile.write(bytes, to: output)
        if output == "-" { return }
        summary += ", \(bytes.count) bytes"
        print("wrote \(output): \(format), \(summary)")
    }

    /// Marching cubes at `isoLevel` on the occupancy as 0/1 probabilities.
    static func smoothMesh(_ grid: VoxelGrid, isoLevel: Float) -> TriangleMesh {
        if isoLevel == 0.5 { return VoxelMesher.smooth(grid) }
        let values = grid.bytesXYZ().map(Float.init)
        return values.withUnsafeBufferPointer {
            VoxelMesher.smooth(probabilities: $0, nx: grid.nx, ny: grid.ny, nz: grid.nz,
                               isoLevel: isoLevel, translate: grid.translate, scale: grid.scale)
        }
    }

    /// The PNG options shared with `voxgan sheet`.
    static func renderOptions(_ options: ParsedCommand) throws -> RenderOptions {
        var render = RenderOptions()
        render.size = try options.int("size", in: RenderOptions.sizeRange) ?? 512
        render.azimuth = try options.double("azimuth", in: -3600...3600) ?? 45
        render.elevation = try options.double("elevation", in: -90...90) ?? 35.264
        render.supersample = try options.int("supersample", in: 1...4) ?? 2
        render.transparent = options.flag("transparent")
        render.outlines = options.flag("outlines")
        return render
    }
}

/// Bounds on what `convert` and `sheet` mesh or draw: the meshers and the renderer use memory
/// in proportion to the grid's volume and time in proportion to its surface, so a valid but
/// huge file gets a clear refusal instead of an allocation failure.
enum GridLimits {

    static let maximumVoxels = 256 * 256 * 256
    static let maximumFaces = 20_000_000

    static func checkDrawable(_ grid: VoxelGrid, name: String) throws {
        guard grid.count <= maximumVoxels else {
            throw CommandFailure("\(name): a \(grid.nx)×\(grid.ny)×\(grid.nz) grid is larger than the 256³ that can be meshed or drawn; downsample it first (voxgan pack --resolution)")
        }
        let faces = grid.exposedFaceCount
        guard faces <= maximumFaces else {
            throw CommandFailure("\(name): its surface has \(faces) faces, more than the \(maximumFaces) that can be meshed or drawn")
        }
    }
}
