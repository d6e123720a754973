// The options shared by every route that turns a grid into a file: format, threshold, mesh
// style, largest component, and the PNG camera. Parsed once, with defaults filled in, then
// normalised into a key of only the options that change the output bytes for that format, so
// that equivalent requests share one cache entry and one ETag.
import VoxelGeometry

/// A single-chair file format.
public enum SampleFormat: String, CaseIterable {
    case binvox, obj, stl, png, npy, json

    var fileExtension: String { rawValue }

    var contentType: String {
        switch self {
        case .binvox: return "application/octet-stream"
        case .obj: return "model/obj"
        case .stl: return "model/stl"
        case .png: return "image/png"
        case .npy: return "application/octet-stream"
        case .json: return "application/json"
        }
    }

    /// Pictures and JSON display in a browser; the rest download.
    var disposition: String { self == .png || self == .json ? "inline" : "attachment" }
}

/// How a grid becomes a triangle mesh for OBJ and STL.
public enum MeshStyle: String, CaseIterable {
    /// One quad per exposed voxel face, coplanar faces merged.
    case cubes
    /// Marching cubes over the probabilities at the threshold.
    case smooth
}

/// Parsed output options with defaults applied.
struct OutputOptions {

    static let defaultSize = 512
    /// The renderer's own defaults: the isometric view.
    static let defaultAzimuth = RenderOptions().azimuth
    static let defaultElevation = RenderOptions().elevation
    static let sizeRange = RenderOptions.sizeRange

    var format: SampleFormat
    /// Voxels with probability above this are occupied; nil where the input is already binary
    /// (/v1/convert).
    var threshold: Float?
    var mesh: MeshStyle = .cubes
    var largestComponent = false
    /// Cubes only: coplanar faces merged into larger rectangles (the CLI's default too).
    var mergeCoplanar = true
    /// PNG side in pixels.
    var size = OutputOptions.defaultSize
    /// PNG camera angles in degrees: azimuth around +y, elevation above the horizon.
    var azimuth = OutputOptions.defaultAzimuth
    var elevation = OutputOptions.defaultElevation

    /// Reads `format` (from `formatField`), `threshold` (when `defaultThreshold` is given),
    /// `mesh`, `merge`, `largest_component`, `size`, `azimuth` and `elevation`.
    static func parse(_ parameters: inout Parameters, formats: [SampleFormat],
                      defaultFormat: SampleFormat, formatField: String = "format",
                      defaultThreshold: Float?) throws -> OutputOptions {
        let formatName = try parameters.choice(formatField, formats.map(\.rawValue))
        var options = OutputOptions(format: formatName.flatMap(SampleFormat.init) ?? defaultFormat,
                                    threshold: defaultThreshold)
        if let defaultThreshold {
            options.threshold = Float(try parameters.double("threshold", in: 0...1)
                                      ?? Double(defaultThreshold))
        } else if parameters.contains("threshold") {
            throw HTTPError.badParameter("threshold", "threshold does not apply here: the input "
                                         + "is already a binary voxel grid")
        }
        if let mesh = try parameters.choice("mesh", MeshStyle.allCases.map(\.rawValue)) {
            options.mesh = MeshStyle(rawValue: mesh)!
        }
        if let merge = try parameters.bool("merge") {
            guard options.mesh == .cubes else {
                throw HTTPError.badParameter("merge", "merge applies to mesh=cubes")
            }
            options.mergeCoplanar = merge
        }
        options.largestComponent = try parameters.bool("largest_component") ?? false
        options.size = try parameters.int("size", in: sizeRange) ?? defaultSize
        options.azimuth = try parameters.double("azimuth", in: -360...360) ?? defaultAzimuth
        options.elevation = try parameters.double("elevation", in: -90...90) ?? defaultElevation
        return options
    }

    /// The options that change the bytes of `format`, as "name=value" pairs joined by "&".
    var key: String {
        var parts = ["format=\(format.rawValue)"]
        let usesGrid = format != .npy || threshold == nil
        if usesGrid, let threshold { parts.append("threshold=\(threshold)") }
        if usesGrid { parts.append("largest_component=\(largestComponent)") }
        if format == .obj || format == .stl {
            parts.append("mesh=\(mesh.rawValue)")
            if mesh == .cubes, !mergeCoplanar { parts.append("merge=false") }
        }
        if format == .png {
            parts.append("size=\(size)")
            parts.append("azimuth=\(azimuth)")
            parts.append("elevation=\(elevation)")
        }
        return parts.joined(separator: "&")
    }
}
