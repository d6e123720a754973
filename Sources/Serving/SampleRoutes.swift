// GET /v1/sample (a chair from a seed), POST /v1/sample (from a seed or an explicit z, for
// latent-space arithmetic) and GET /v1/interpolate (the chairs along the path between two
// seeds' latents). The same seed and options always give the same bytes: the ETag is a hash of
// the normalised request and the weights, checked before anything is generated.

struct SampleRoutes {

    /// Largest interpolation sheet drawn (16 Mpx: a 4096² image).
    static let maximumSheetPixels = 16 * 1024 * 1024

    /// Cache-Control of responses fully determined by their request (seeded).
    static let immutableCaching = "public, max-age=31536000, immutable"
    /// Cache-Control of responses to requests without a seed (a new chair each time).
    static let randomCaching = "no-store"

    /// Where a chair's latent comes from.
    enum Source {
        /// A seed; `chosen` when the server picked it because the request gave none.
        case seed(UInt64, chosen: Bool)
        case latent([Float])

        var key: String {
            switch self {
            case .seed(let seed, _): return "seed=\(seed)"
            case .latent(let z): return "z=" + LatentPath.key(z)
            }
        }

        /// File name stem: "chair-42", or "chair-z" and 12 hex digits of the latent's hash.
        var fileStem: String {
            switch self {
            case .seed(let seed, _): return "chair-\(seed)"
            case .latent(let z): return "chair-z" + LatentPath.key(z).prefix(12)
            }
        }
    }

    let context: ServingContext

    func register(on router: Router) {
        router.add("GET", "/v1/sample", label: "/v1/sample") { try get($0) }
        router.add("POST", "/v1/sample", label: "/v1/sample") { try post($0) }
        router.add("GET", "/v1/interpolate") { try interpolate($0) }
    }

    /// A seed for requests without one: below 2³¹, so it survives any JSON client.
    static func randomSeed() -> UInt64 { UInt64.random(in: 0...UInt64(Int32.max)) }

    // MARK: Single chairs

    private func get(_ request: HTTPRequest) throws -> RouteOutcome {
        var parameters = try Parameters(query: request.query)
        let seed = try parameters.seed("seed")
        let options = try OutputOptions.parse(
            &parameters, formats: SampleFormat.allCases, defaultFormat: .binvox,
            defaultThreshold: context.model.recommendedThreshold)
        try parameters.rejectUnknown()
        let source = seed.map { Source.seed($0, chosen: false) }
            ?? .seed(SampleRoutes.randomSeed(), chosen: true)
        return try sample(request, source: source, options: options)
    }

    private func post(_ request: HTTPRequest) throws -> RouteOutcome {
        var parameters = try Parameters(query: request.query, jsonBody: request.body)
        let seed = try parameters.seed("seed")
        let zValues = try parameters.array("z")
        let options = try OutputOptions.parse(
            &parameters, formats: SampleFormat.allCases, defaultFormat: .binvox,
            defaultThreshold: context.model.recommendedThreshold)
        try parameters.rejectUnknown()

        let source: Source
        switch (seed, zValues) {
        case (.some, .some):
            throw HTTPError.badParameter("z", "give either z or seed, not both")
        case (.none, .none):
            throw HTTPError.badParameter("z", "the body needs z (an array of "
                                         + "\(context.model.zDimension) numbers) or seed")
        case (.some(let seed), .none):
            source = .seed(seed, chosen: false)
        case (.none, .some(let values)):
            source = .latent(try latent(from: values))
        }
        return try sample(request, source: source, options: options)
    }

    /// Largest |z[i]| accepted: a million standard deviations of any latent distribution here.
    /// Near float's limit (3.4·10³⁸) the first layer's sums overflow and every voxel is NaN.
    static let latentLimit: Float = 1e6

    /// Validates an explicit z: the model's length, finite numbers within ±`latentLimit`.
    private func latent(from values: [JSONValue]) throws -> [Float] {
        let expected = context.model.zDimension
        guard values.count == expected else {
            throw HTTPError.badParameter("z", "z must have \(expected) numbers, got \(values.count)")
        }
        return try values.enumerated().map { index, value in
            guard case .number(let text) = value, let number = Float(text), number.isFinite,
                  abs(number) <= Self.latentLimit else {
                throw HTTPError.badParameter(
                    "z", "z[\(index)] must be a number from −10⁶ to 10⁶, got "
                        + HTTPError.quote(value.serialized()))
            }
            return number
        }
    }

    private func latent(for source: Source) -> [Float] {
        switch source {
        case .seed(let seed, _): return context.model.latent(seed: seed)
        case .latent(let z): return z
        }
    }

    private func sample(_ request: HTTPRequest, source: Source,
                        options: OutputOptions) throws -> RouteOutcome {
        // 1. Identity of the answer, known before generating anything.
        let key = "sample|\(source.key)|\(options.key)"
        let etag = context.etag(forKey: key)
        var headers: [(name: String, value: String)] = [
            ("ETag", etag), ("Cache-Control", SampleRoutes.immutableCaching),
        ]
        var chosen = false
        if case .seed(let seed, let wasChosen) = source {
            headers.append(("X-Seed", String(seed)))
            chosen = wasChosen
            if chosen { headers[1].value = SampleRoutes.randomCaching }
        }
        // 2. Not modified, or a recent identical request.
        if let ready = context.readyResponse(request, key: key, etag: etag, headers: headers) {
            return .respond(ready)
        }

        // 3. Generate, then encode on a worker.
        let z = latent(for: source)
        let seed: UInt64?
        if case .seed(let value, _) = source { seed = value } else { seed = nil }
        let resolution = context.model.resolution
        let format = options.format
        let fileName = "\(source.fileStem).\(format.fileExtension)"
        let responses = context.responses
        return try context.generate(latents: [z]) { outputs in
            let body = try ResponseFormats.sample(probabilities: outputs[0], resolution: resolution,
                                                  options: options, seed: seed, z: z)
            var response = HTTPResponse(status: 200, headers: [
                ("Content-Type", format.contentType),
                ("Content-Disposition", "\(format.disposition); filename=\"\(fileName)\""),
            ] + headers, body: body)
            response.setHeader("Cache-Control", SampleRoutes.immutableCaching)
            responses.insert(response, for: key, cost: body.count + 512)
            if chosen { response.setHeader("Cache-Control", SampleRoutes.randomCaching) }
            return response
        }
    }

    // MARK: Interpolation

    private func interpolate(_ request: HTTPRequest) throws -> RouteOutcome {
        var parameters = try Parameters(query: request.query)
        guard let from = try parameters.seed("from") else {
            throw HTTPError.badParameter("from", "from (the first seed) is required")
        }
        guard let to = try parameters.seed("to") else {
            throw HTTPError.badParameter("to", "to (the last seed) is required")
        }
        // Every step is one latent in the inference queue: never ask for more than it holds.
        let maxSteps = max(2, min(context.configuration.maxInterpolationSteps, context.maxSamples))
        let steps = try parameters.int("steps", in: 2...maxSteps) ?? min(8, maxSteps)
        let container = try parameters.choice("format", ["png", "tar"]) ?? "png"
        let columns = try parameters.int("columns", in: 1...maxSteps) ?? min(steps, 8)
        let sizeGiven = parameters.contains("size")
        var options = try OutputOptions.parse(
            &parameters, formats: SampleFormat.allCases,
            defaultFormat: container == "png" ? .png : .binvox, formatField: "item_format",
            defaultThreshold: context.model.recommendedThreshold)
        if container == "png" {
            guard options.format == .png else {
                throw HTTPError.badParameter("item_format", "item_format applies to format=tar")
            }
            if !sizeGiven { options.size = 160 }
            let rows = (steps + columns - 1) / columns
            let pixels = min(columns, steps) * rows * options.size * options.size
            guard pixels <= SampleRoutes.maximumSheetPixels else {
                throw HTTPError(413, "a \(min(columns, steps))×\(rows) sheet of \(options.size) px "
                                + "cells has \(pixels) pixels; at most "
                                + "\(SampleRoutes.maximumSheetPixels)", field: "size")
            }
        }
        try parameters.rejectUnknown()

        // Identity first, as for single chairs.
        let key = "interpolate|from=\(from)&to=\(to)&steps=\(steps)&container=\(container)"
            + (container == "png" ? "&columns=\(columns)" : "") + "|\(options.key)"
        let etag = context.etag(forKey: key)
        let headers: [(name: String, value: String)] = [
            ("ETag", etag), ("Cache-Control", SampleRoutes.immutableCaching),
            ("X-Seed", String(from)),    // the first chair's seed, as for batches
        ]
        if let ready = context.readyResponse(request, key: key, etag: etag, headers: headers) {
            return .respond(ready)
        }

        let model = context.model
        let latents = LatentPath.interpolate(from: model.latent(seed: from),
                                             to: model.latent(seed: to), steps: steps,
                                             spherical: model.zDistribution == .normal)
        let resolution = model.resolution
        let stem = "chairs-\(from)-to-\(to)"
        let responses = context.responses
        return try context.generate(latents: latents) { outputs in
            let body: [UInt8]
            let type: String
            let fileName: String
            if container == "png" {
                body = try ResponseFormats.sheet(probabilities: outputs, resolution: resolution,
                                                 columns: columns, options: options)
                type = "image/png"
                fileName = "\(stem).png"
            } else {
                var tar = TarWriter()
                let digits = String(steps - 1).count
                for (index, probabilities) in outputs.enumerated() {
                    let number = String(index)
                    let padded = String(repeating: "0", count: digits - number.count) + number
                    tar.addFile(name: "step-\(padded).\(options.format.fileExtension)",
                                contents: try ResponseFormats.sample(
                                    probabilities: probabilities, resolution: resolution,
                                    options: options, seed: nil, z: latents[index]))
                }
                body = tar.finished()
                type = "application/x-tar"
                fileName = "\(stem).tar"
            }
            let disposition = container == "png" ? "inline" : "attachment"
            let response = HTTPResponse(status: 200, headers: [
                ("Content-Type", type),
                ("Content-Disposition", "\(disposition); filename=\"\(fileName)\""),
            ] + headers, body: body)
            responses.insert(response, for: key, cost: body.count + 512)
            return response
        }
    }
}
