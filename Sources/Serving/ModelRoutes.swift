// GET /v1/model (what is being served) and GET /v1/z (the latent a seed maps to).

struct ModelRoutes {

    let context: ServingContext

    func register(on router: Router) {
        router.add("GET", "/v1/model") { request in
            try Parameters(query: request.query).rejectUnknown()
            return .respond(modelDescription())
        }
        router.add("GET", "/v1/z") { request in
            var parameters = try Parameters(query: request.query)
            guard let seed = try parameters.seed("seed") else {
                throw HTTPError.badParameter("seed", "seed is required")
            }
            try parameters.rejectUnknown()
            return .respond(latentResponse(request, seed: seed))
        }
    }

    private func modelDescription() -> HTTPResponse {
        let model = context.model
        let configuration = context.configuration
        let info = model.info.sorted(by: { $0.key < $1.key }).map { ($0.key, JSONValue.string($0.value)) }
        let body: JSONValue = .object([
            ("resolution", .int(model.resolution)),
            ("z_dimension", .int(model.zDimension)),
            ("z_distribution", .string(model.zDistribution.rawValue)),
            ("recommended_threshold", .float(model.recommendedThreshold)),
            ("weights_sha256", .string(model.weightsSHA256)),
            ("voxel_layout", .string("[x][y][z], x slowest, +y up")),
            ("info", .object(info)),
            ("formats", .array(SampleFormat.allCases.map { .string($0.rawValue) })),
            ("limits", .object([
                ("max_batch", .int(configuration.maxBatch)),
                ("max_samples_per_request", .int(context.maxSamples)),
                ("max_interpolation_steps", .int(configuration.maxInterpolationSteps)),
                ("max_body_bytes", .int(configuration.http.maxBodyBytes)),
            ])),
            ("server_version", .string(ServingVersion.string)),
        ])
        var response = HTTPResponse.json(body)
        response.headers.append(("Cache-Control", "no-cache"))
        return response
    }

    private func latentResponse(_ request: HTTPRequest, seed: UInt64) -> HTTPResponse {
        let etag = context.etag(forKey: "z|seed=\(seed)")
        let headers: [(name: String, value: String)] = [
            ("ETag", etag), ("Cache-Control", SampleRoutes.immutableCaching),
            ("X-Seed", String(seed)),
        ]
        if let notModified = context.notModified(request, etag: etag, headers: headers) {
            return notModified
        }
        let z = context.model.latent(seed: seed)
        var response = HTTPResponse.json(.object([
            ("seed", .int(seed)),
            ("z_dimension", .int(z.count)),
            ("z_distribution", .string(context.model.zDistribution.rawValue)),
            ("z", .array(z.map { .float($0) })),
        ]))
        response.headers += headers
        return response
    }
}
