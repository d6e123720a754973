// State shared by the route families, and the two ways a route answers later: through the
// inference batcher (generation, then encoding on a worker) or straight on a worker
// (conversions). Also conditional requests (ETag / If-None-Match) and the result caches.
import Foundation

final class ServingContext {

    let model: ChairModel
    let configuration: ServerConfiguration
    let metrics: Metrics
    let workers: WorkerPool
    let batcher: InferenceBatcher
    /// Finished responses by normalised request key.
    let responses: ResultCache<HTTPResponse>
    /// Generator outputs by latent key, so other formats of a recent chair skip the generator.
    let probabilities: ResultCache<[Float]>
    /// Chairs per batch request at most (the configured cap, never above the queue).
    let maxSamples: Int

    private let readyLock = NSLock()
    private var ready = false

    init(model: ChairModel, configuration: ServerConfiguration, metrics: Metrics) {
        self.model = model
        self.configuration = configuration
        self.metrics = metrics
        let workers = WorkerPool(threads: configuration.workerThreads, name: "voxgan-worker")
        self.workers = workers
        batcher = InferenceBatcher(model: model, maxBatch: configuration.maxBatch,
                                   maxDelay: configuration.maxDelayMilliseconds / 1000,
                                   capacity: configuration.queueCapacity, workers: workers,
                                   metrics: metrics)
        responses = ResultCache(capacityBytes: configuration.cacheBytes * 3 / 4)
        probabilities = ResultCache(capacityBytes: configuration.cacheBytes / 4)
        maxSamples = max(1, min(configuration.maxSamplesPerRequest, configuration.queueCapacity))
    }

    var isReady: Bool {
        readyLock.lock()
        defer { readyLock.unlock() }
        return ready
    }

    func setReady(_ value: Bool) {
        readyLock.lock()
        ready = value
        readyLock.unlock()
    }

    func shutdown() {
        batcher.shutdown()
        workers.shutdown()
    }

    func makeRouter() -> Router {
        let router = Router()
        HealthAndMetrics(context: self).register(on: router)
        ModelRoutes(context: self).register(on: router)
        SampleRoutes(context: self).register(on: router)
        BatchRoutes(context: self).register(on: router)
        ConvertRoute(context: self).register(on: router)
        let files = StaticFiles(publicDirectory: configuration.publicDirectory,
                                threeDirectory: configuration.threeDirectory)
        router.setFallback { try files.serve($0) }
        return router
    }

    // MARK: Conditional requests

    /// A strong ETag for the response to a normalised request key; the weights' hash is part
    /// of it, so a different model never matches.
    func etag(forKey key: String) -> String {
        "\"" + SHA256.hex(model.weightsSHA256 + "|" + key).prefix(32) + "\""
    }

    /// What can be answered without work: 304 (412 for POST) when the client's copy is current,
    /// else a recent identical response from the cache (with this request's Cache-Control).
    /// Counts cache hits and misses; nil means the response must be made.
    func readyResponse(_ request: HTTPRequest, key: String, etag: String,
                       headers: [(name: String, value: String)]) -> HTTPResponse? {
        if let notModified = notModified(request, etag: etag, headers: headers) {
            return notModified
        }
        guard var cached = responses.value(for: key) else {
            metrics.recordCache(hit: false)
            return nil
        }
        metrics.recordCache(hit: true)
        if let caching = headers.first(where: { $0.name == "Cache-Control" }) {
            cached.setHeader("Cache-Control", caching.value)
        }
        return cached
    }

    /// 304 with `headers` when `If-None-Match` lists `etag` (or `*`), else nil. For POST the
    /// same match is 412 (RFC 9110 §13.1.2: 304 is only for GET and HEAD), still without
    /// generating anything.
    func notModified(_ request: HTTPRequest, etag: String,
                     headers: [(name: String, value: String)]) -> HTTPResponse? {
        guard let header = request.header("If-None-Match") else { return nil }
        // If-None-Match compares weakly (RFC 9110 13.1.2): W/ prefixes do not matter.
        func opaque(_ tag: String) -> String {
            tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag
        }
        let tags = header.split(separator: ",").map {
            opaque($0.trimmingCharacters(in: .whitespaces))
        }
        guard tags.contains(opaque(etag)) || tags.contains("*") else { return nil }
        if request.method != "GET" && request.method != "HEAD" {
            var refusal = HTTPError(412, "If-None-Match lists this response's ETag: the copy "
                                    + "you have is current", field: "if-none-match").response
            refusal.headers += headers.filter { $0.name == "ETag" }
            return refusal
        }
        // libmicrohttpd 0.9.75 adds "Content-Length: 0" to every 304 and offers no way to
        // leave it out: with MHD_RF_INSANITY_HEADER_CONTENT_LENGTH and our own field it sends
        // both, and an unknown-size response turns into a chunked body. RFC 9110 §8.6 would
        // rather have none (or the 200's length), but a 304 never has content (RFC 9112
        // §6.3), so clients read the next response right after it.
        return HTTPResponse(status: 304, headers: headers)
    }

    // MARK: Deferred work

    /// Generates `latents` through the batcher, then runs `build` on a worker with one
    /// probability array per latent. A full queue throws 503 with `Retry-After` at once.
    /// Latents whose output is in the probability cache skip the generator.
    func generate(latents: [[Float]],
                  build: @escaping ([[Float]]) throws -> HTTPResponse) throws -> RouteOutcome {
        let keys = latents.map(LatentPath.key)
        let known = keys.map { probabilities.value(for: $0) }
        let missing = known.indices.filter { known[$0] == nil }
        if missing.isEmpty {
            let outputs = known.map { $0! }
            return offload { try build(outputs) }
        }
        guard let reservation = batcher.reserve(missing.count) else {
            metrics.recordQueueFull()
            throw HTTPError(503, "the inference queue is full (\(batcher.capacity) latents "
                            + "waiting); retry shortly", headers: [("Retry-After", "1")])
        }
        return .deferred { [self] finish in
            batcher.submit(reservation, latents: missing.map { latents[$0] }) { result in
                switch result {
                case .success(let generated):
                    var outputs = known
                    for (slot, index) in missing.enumerated() {
                        outputs[index] = generated[slot]
                        self.probabilities.insert(generated[slot], for: keys[index],
                                                  cost: generated[slot].count * 4)
                    }
                    finish(Self.response { try build(outputs.map { $0! }) })
                case .failure(let error):
                    finish(HTTPError(500, "generation failed: \(error)").response)
                }
            }
        }
    }

    /// Runs `build` on a worker. More waiting work than the queue holds throws 503.
    func offload(_ build: @escaping () throws -> HTTPResponse) -> RouteOutcome {
        guard workers.backlog < configuration.queueCapacity else {
            metrics.recordQueueFull()
            return .respond(HTTPError(503, "the worker queue is full; retry shortly",
                                      headers: [("Retry-After", "1")]).response)
        }
        return .deferred { [self] finish in
            workers.submit { finish(Self.response(build)) }
        }
    }

    /// `build`'s response, or its error as a JSON error response.
    static func response(_ build: () throws -> HTTPResponse) -> HTTPResponse {
        do {
            return try build()
        } catch let error as HTTPError {
            return error.response
        } catch {
            return HTTPError(500, "internal error: \(error)").response
        }
    }
}
