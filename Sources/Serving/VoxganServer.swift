// The server as one object: configuration, the model, the inference batcher and workers, the
// result cache, metrics and access log, the route table, and the libmicrohttpd daemon. This is
// the public entry point for `voxgan-serve` and for `voxgan bench serve` (start in-process on
// port 0, read `port`, stop).
import Foundation

/// Everything `voxgan-serve` can be told.
public struct ServerConfiguration {

    /// Listening address, port, thread pool, connection limits and body cap.
    public var http = HTTPServerOptions()

    /// Latents per generator call at most.
    public var maxBatch = 16
    /// Milliseconds a queued latent waits for its batch to fill.
    public var maxDelayMilliseconds = 5.0
    /// Latents that may wait for the generator; beyond it requests get 503 at once.
    public var queueCapacity = 256
    /// Threads for meshing, rendering, encoding and conversions.
    public var workerThreads = 2

    /// Chairs per `POST /v1/samples` at most (also capped by `queueCapacity`); more is 413.
    public var maxSamplesPerRequest = 256
    /// Steps per `GET /v1/interpolate` at most.
    public var maxInterpolationSteps = 32
    /// Bytes of finished responses kept for repeated requests (0 disables the cache).
    public var cacheBytes = 64 * 1024 * 1024

    /// Directory served at `/` (the browser viewer); nil serves nothing there.
    public var publicDirectory: String? = "Public"
    /// three.js directory served at `/vendor/three/`; nil serves nothing there.
    public var threeDirectory: String? = "/usr/share/javascript/three"

    /// Where access-log lines go.
    public var accessLog = AccessLogDestination.standardOutput

    /// Seconds `stop()` waits for requests in progress before closing connections.
    public var shutdownGraceSeconds = 30.0

    public init() {}
}

/// voxgan's HTTP inference server.
///
/// ```swift
/// var configuration = ServerConfiguration()
/// configuration.http.port = 0
/// let server = try VoxganServer(model: model, configuration: configuration)
/// try server.start()            // listens, warms the model up, becomes ready
/// print(server.baseURL)         // http://127.0.0.1:40123
/// server.stop()
/// ```
public final class VoxganServer {

    public let configuration: ServerConfiguration
    public let model: ChairModel
    public let metrics: Metrics

    let context: ServingContext
    private let http: HTTPServer
    private let accessLog: AccessLog
    private let lifecycle = NSLock()
    private var stopped = false

    /// Builds the server; nothing listens until `listen()` or `start()`. Throws for an access
    /// log that cannot be opened.
    public init(model: ChairModel, configuration: ServerConfiguration) throws {
        self.configuration = configuration
        self.model = model
        let metrics = Metrics(buildInfo: [
            ("version", ServingVersion.string), ("resolution", String(model.resolution)),
            ("weights_sha256", model.weightsSHA256),
        ])
        self.metrics = metrics
        let accessLog = try AccessLog(configuration.accessLog)
        self.accessLog = accessLog
        let context = ServingContext(model: model, configuration: configuration,
                                     metrics: metrics)
        self.context = context
        let router = context.makeRouter()
        self.http = HTTPServer(
            options: configuration.http,
            handler: { request, setRoute in router.handle(request, setRoute: setRoute) },
            routeLabel: { router.label(for: $0) },
            onCompleted: { finished in
                metrics.recordRequest(route: finished.route, method: finished.method,
                                      status: finished.status,
                                      completedNormally: finished.completedNormally,
                                      seconds: finished.seconds)
                accessLog.record(finished)
            })
        metrics.queueDepth = { [weak context] in context?.batcher.queueDepth ?? 0 }
        metrics.inProgress = { [weak http] in http?.activeRequests ?? 0 }
    }

    deinit { stop() }

    /// The bound port (the chosen one when configured with port 0).
    public var port: Int { http.port }

    /// "http://host:port", with IPv6 hosts in brackets.
    public var baseURL: String {
        let host = configuration.http.host
        return "http://" + (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
    }

    /// Whether the model is loaded and warmed up (what `/readyz` answers).
    public var isReady: Bool { context.isReady }

    /// Starts listening; `/healthz` answers at once, `/readyz` 503 until `warmUp()`.
    public func listen() throws {
        try http.start()
    }

    /// Runs one generation outside the queue, so the first request does not pay for lazy
    /// allocations, then marks the server ready.
    public func warmUp() throws {
        let latent = model.latent(seed: 0)
        let output = try model.generate(latents: [latent])
        let expected = model.resolution * model.resolution * model.resolution
        guard output.count == 1, output[0].count == expected else {
            throw InferenceError("warm-up generation returned \(output.map(\.count)) values, "
                                 + "expected one grid of \(expected)")
        }
        context.setReady(true)
    }

    /// `listen()` then `warmUp()`.
    public func start() throws {
        try listen()
        try warmUp()
    }

    /// Graceful stop: not ready, stop accepting, let requests in progress finish (up to the
    /// configured grace), close everything. Safe to call more than once.
    public func stop() {
        lifecycle.lock()
        defer { lifecycle.unlock() }
        guard !stopped else { return }
        stopped = true
        context.setReady(false)
        http.stop(grace: configuration.shutdownGraceSeconds)
        context.shutdown()
    }
}

/// The serving module's version, reported by `/metrics` and `/v1/model`.
public enum ServingVersion {
    public static let string = "0.1.0"
}
