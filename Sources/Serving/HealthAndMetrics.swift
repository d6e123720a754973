// GET /healthz (the process answers), GET /readyz (model loaded and warmed up, not shutting
// down), GET /metrics (Prometheus text).

struct HealthAndMetrics {

    let context: ServingContext

    func register(on router: Router) {
        router.add("GET", "/healthz") { request in
            try Parameters(query: request.query).rejectUnknown()
            var response = HTTPResponse.json(.object([("status", .string("ok"))]))
            response.headers.append(("Cache-Control", "no-store"))
            return .respond(response)
        }
        router.add("GET", "/readyz") { request in
            try Parameters(query: request.query).rejectUnknown()
            guard context.isReady else {
                throw HTTPError(503, "not ready: the model is warming up or the server is "
                                + "shutting down", headers: [("Retry-After", "1"),
                                                             ("Cache-Control", "no-store")])
            }
            var response = HTTPResponse.json(.object([("status", .string("ready"))]))
            response.headers.append(("Cache-Control", "no-store"))
            return .respond(response)
        }
        router.add("GET", "/metrics") { request in
            try Parameters(query: request.query).rejectUnknown()
            var response = HTTPResponse.text(context.metrics.render(),
                                             contentType: "text/plain; version=0.0.4; charset=utf-8")
            response.headers.append(("Cache-Control", "no-store"))
            return .respond(response)
        }
    }
}
