// POST /v1/convert?format=obj|stl|png|npy|binvox with a .binvox file as the body: the same
// conversions and options as for generated chairs, for the user's own voxel files. The body's
// size is capped by the server (413); a malformed file is 400 with the decoder's description
// of the problem; grids above `maximumVoxels` are refused before decoding them.
import Voxels

struct ConvertRoute {

    /// Largest grid converted (256³): a tiny run-length-encoded body can declare a huge grid.
    static let maximumVoxels = 256 * 256 * 256
    /// Exposed voxel faces above which meshes and pictures are refused (a 64³ chair has ~20 k).
    static let maximumFaces = 2_000_000

    static let formats: [SampleFormat] = [.obj, .stl, .png, .npy, .binvox]

    let context: ServingContext

    func register(on router: Router) {
        router.add("POST", "/v1/convert") { try convert($0) }
    }

    private func convert(_ request: HTTPRequest) throws -> RouteOutcome {
        var parameters = try Parameters(query: request.query)
        guard parameters.contains("format") else {
            throw HTTPError.badParameter("format", "format is required: one of "
                                         + ConvertRoute.formats.map(\.rawValue).joined(separator: ", "))
        }
        let options = try OutputOptions.parse(&parameters, formats: ConvertRoute.formats,
                                              defaultFormat: .obj, defaultThreshold: nil)
        try parameters.rejectUnknown()
        let body = request.body
        guard !body.isEmpty else {
            throw HTTPError.badParameter("body", "expected a .binvox file as the request body, "
                                         + "got an empty body")
        }
        try ConvertRoute.checkDeclaredSize(body)

        // The same file and options give the same bytes.
        var hash = SHA256()
        hash.update(body)
        let key = "convert|body=\(SHA256.hexString(hash.finalize()))|\(options.key)"
        let etag = context.etag(forKey: key)
        let headers: [(name: String, value: String)] = [
            ("ETag", etag), ("Cache-Control", "private, max-age=3600"),
        ]
        if let ready = context.readyResponse(request, key: key, etag: etag, headers: headers) {
            return .respond(ready)
        }

        let responses = context.responses
        return context.offload {
            let grid: VoxelGrid
            do {
                grid = try Binvox.decode(body, name: "request body")
            } catch {
                throw HTTPError.badParameter("body", "not a valid .binvox file: \(error)")
            }
            var processed = grid
            if options.largestComponent { processed = processed.largestComponent() }
            // A small upload can describe a huge surface (stripes, checkerboards): bound the
            // mesh before building it.
            if options.format != .binvox && options.format != .npy {
                let faces = processed.exposedFaceCount
                guard faces <= ConvertRoute.maximumFaces else {
                    throw HTTPError(413, "the grid's surface has \(faces) faces; this server meshes "
                                    + "and renders at most \(ConvertRoute.maximumFaces)", field: "body")
                }
            }
            let bytes = try ResponseFormats.encode(processed, probabilities: nil, options: options)
            let format = options.format
            let response = HTTPResponse(status: 200, headers: [
                ("Content-Type", format.contentType),
                ("Content-Disposition",
                 "\(format.disposition); filename=\"converted.\(format.fileExtension)\""),
            ] + headers, body: bytes)
            responses.insert(response, for: key, cost: bytes.count + 512)
            return response
        }
    }

    /// Reads the `dim` line of the binvox header (the first few hundred bytes) and refuses
    /// grids above `maximumVoxels`; anything else malformed is left to the decoder.
    static func checkDeclaredSize(_ body: [UInt8]) throws {
        let head = String(decoding: body.prefix(512), as: UTF8.self)
        for line in head.split(separator: "\n").prefix(8) where line.hasPrefix("dim ") {
            let numbers = line.split(separator: " ").dropFirst().compactMap { Int($0) }
            guard numbers.count == 3, numbers.allSatisfy({ $0 > 0 && $0 <= 4096 }) else { return }
            let total = numbers.reduce(1, *)
            if total > maximumVoxels {
                throw HTTPError(413, "grid of \(numbers[0])×\(numbers[1])×\(numbers[2]) voxels "
                                + "is larger than the \(maximumVoxels) voxels this server converts",
                                field: "body")
            }
            return
        }
    }
}
