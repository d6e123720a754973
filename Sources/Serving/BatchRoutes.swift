// POST /v1/samples: many chairs in one download, from {"seeds": [...]} or {"count": N,
// "seed": S} (seeds S, S+1, ..., S+N-1; a random S when absent), as a tar of single-chair
// files (`item_format`, any single-chair format) or one HDF5 file:
//   voxels         uint8   N×R×R×R  occupancy after threshold (and largest component), [x][y][z]
//   seeds          uint64  N
//   probabilities  float32 N×R×R×R  generator output, when "probabilities": true
// N above the cap is 413.
import HDF5Kit
import Voxels

struct BatchRoutes {

    let context: ServingContext

    func register(on router: Router) {
        router.add("POST", "/v1/samples") { try samples($0) }
    }

    private func samples(_ request: HTTPRequest) throws -> RouteOutcome {
        var parameters = try Parameters(query: request.query, jsonBody: request.body)
        let listed = try parameters.array("seeds")
        let count = try parameters.int("count", in: 0...Int.max)
        let start = try parameters.seed("seed")
        let container = try parameters.choice("format", ["tar", "h5"]) ?? "tar"
        let withProbabilities = try parameters.bool("probabilities")
        let options = try OutputOptions.parse(
            &parameters, formats: SampleFormat.allCases, defaultFormat: .binvox,
            formatField: "item_format", defaultThreshold: context.model.recommendedThreshold)
        try parameters.rejectUnknown()
        if container == "h5", parameters.contains("item_format") {
            throw HTTPError.badParameter("item_format", "item_format applies to format=tar")
        }
        if container == "tar", withProbabilities != nil {
            throw HTTPError.badParameter("probabilities", "probabilities applies to format=h5")
        }

        // 1. The seeds, within the cap.
        let seeds: [UInt64]
        var chosen = false
        switch (listed, count) {
        case (.some, .some):
            throw HTTPError.badParameter("count", "give either seeds or count, not both")
        case (.none, .none):
            throw HTTPError.badParameter("seeds", "the body needs seeds (an array of seeds) or "
                                         + "count (with an optional first seed)")
        case (.some(let values), .none):
            if start != nil {
                throw HTTPError.badParameter("seed", "seed goes with count, not with seeds")
            }
            try checkCap(values.count, field: "seeds")
            seeds = try values.enumerated().map { index, value in
                guard case .number(let text) = value else {
                    throw HTTPError.badParameter(
                        "seeds", "seeds[\(index)] must be a whole number, got "
                            + HTTPError.clipped(value.serialized()))
                }
                return try Parameters.parseSeed(text, field: "seeds[\(index)]")
            }
            // A tar holds one chair-SEED file per seed: a repeated seed would be two entries of
            // one name, and the same chair twice in any container.
            var seen = Set<UInt64>()
            if let index = seeds.firstIndex(where: { !seen.insert($0).inserted }) {
                throw HTTPError.badParameter("seeds", "seeds[\(index)] repeats seed "
                                             + "\(seeds[index]); give each seed once")
            }
        case (.none, .some(let count)):
            try checkCap(count, field: "count")
            let first = start ?? SampleRoutes.randomSeed()
            chosen = start == nil
            guard first <= UInt64.max - UInt64(count - 1) else {
                throw HTTPError.badParameter("seed", "seed + count - 1 is above \(UInt64.max)")
            }
            seeds = (0..<count).map { first + UInt64($0) }
        }

        // 2. Identity, as for single chairs.
        let seedsKey = SHA256.hex(seeds.map(String.init).joined(separator: ","))
        let key = "samples|seeds=\(seedsKey)|container=\(container)"
            + "|probabilities=\(withProbabilities ?? false)|\(options.key)"
        // HDF5Kit's datasets record their creation time (HDF5's default), so a regenerated .h5
        // differs in those bytes: its validator is weak. Tar archives are byte-identical.
        let etag = (container == "h5" ? "W/" : "") + context.etag(forKey: key)
        var headers: [(name: String, value: String)] = [
            ("ETag", etag),
            ("Cache-Control", chosen ? SampleRoutes.randomCaching : SampleRoutes.immutableCaching),
        ]
        // X-Seed names the first seed of every batch (the one a count starts from).
        headers.append(("X-Seed", String(seeds[0])))
        if let ready = context.readyResponse(request, key: key, etag: etag, headers: headers) {
            return .respond(ready)
        }

        // 3. Generate all, then pack on a worker.
        let model = context.model
        let latents = seeds.map { model.latent(seed: $0) }
        let resolution = model.resolution
        let stem = seeds.count == 1 ? "chairs-\(seeds[0])"
            : count != nil ? "chairs-\(seeds[0])-\(seeds[seeds.count - 1])"
            : "chairs-" + seedsKey.prefix(12)
        let responses = context.responses
        let weights = model.weightsSHA256
        return try context.generate(latents: latents) { outputs in
            let body: [UInt8]
            let type: String
            if container == "tar" {
                var tar = TarWriter()
                for (index, seed) in seeds.enumerated() {
                    tar.addFile(name: "chair-\(seed).\(options.format.fileExtension)",
                                contents: try ResponseFormats.sample(
                                    probabilities: outputs[index], resolution: resolution,
                                    options: options, seed: seed, z: latents[index]))
                }
                body = tar.finished()
                type = "application/x-tar"
            } else {
                body = try BatchRoutes.hdf5(seeds: seeds, outputs: outputs,
                                            resolution: resolution, options: options,
                                            probabilities: withProbabilities ?? false,
                                            weightsSHA256: weights)
                type = "application/x-hdf5"
            }
            var response = HTTPResponse(status: 200, headers: [
                ("Content-Type", type),
                ("Content-Disposition", "attachment; filename=\"\(stem).\(container)\""),
            ] + headers, body: body)
            response.setHeader("Cache-Control", SampleRoutes.immutableCaching)
            responses.insert(response, for: key, cost: body.count + 512)
            response.setHeader("Cache-Control", headers[1].value)
            return response
        }
    }

    private func checkCap(_ count: Int, field: String) throws {
        guard count >= 1 else {
            throw HTTPError.badParameter(field, "ask for at least one chair")
        }
        guard count <= context.maxSamples else {
            throw HTTPError(413, "\(count) chairs asked for; at most \(context.maxSamples) per "
                            + "request", field: field)
        }
    }

    /// One in-memory HDF5 file with the datasets described at the top of this file.
    static func hdf5(seeds: [UInt64], outputs: [[Float]], resolution: Int,
                     options: OutputOptions, probabilities: Bool,
                     weightsSHA256: String) throws -> [UInt8] {
        let n = seeds.count
        let cells = resolution * resolution * resolution
        var voxels = [UInt8]()
        voxels.reserveCapacity(n * cells)
        for output in outputs {
            voxels += ResponseFormats.grid(probabilities: output, resolution: resolution,
                                           options: options).bytesXYZ()
        }
        let file = try HDF5File.createInMemory(name: "voxgan-samples-\(UInt64.random(in: 0...UInt64.max)).h5")
        let shape = [n, resolution, resolution, resolution]
        try file.write("voxels", voxels, shape: shape)
        try file.write("seeds", seeds)
        if probabilities {
            try file.write("probabilities", outputs.flatMap { $0 }, shape: shape)
        }
        try file.setAttribute("format", "voxgan-samples")
        try file.setAttribute("layout", "[n][x][y][z], x slowest, +y up")
        try file.setAttribute("resolution", resolution)
        try file.setAttribute("threshold", Double(options.threshold ?? 0.5))
        try file.setAttribute("largest_component", options.largestComponent ? 1 : 0)
        try file.setAttribute("weights_sha256", weightsSHA256)
        return try file.image()
    }
}
