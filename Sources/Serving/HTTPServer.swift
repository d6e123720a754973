// The libmicrohttpd wrapper: starts a daemon with every option explicit, turns MHD's repeated
// access-handler calls into one `HTTPRequest` per request (accumulating uploads up to a cap),
// suspends connections whose answer is computed elsewhere and resumes them when it is ready,
// and reports each finished request once (access log, metrics).
import CMicroHTTPD
import CShim
import Foundation

/// Listening and connection-handling options of `HTTPServer`.
public struct HTTPServerOptions {

    /// Numeric address to bind (loopback by default; never all interfaces unless asked).
    public var host = "127.0.0.1"

    /// TCP port; 0 picks a free one (see `HTTPServer.port`).
    public var port = 8080

    /// libmicrohttpd worker threads, each polling its own epoll set.
    public var threads = 2

    /// Connections open at once (all clients).
    public var connectionLimit = 256

    /// Connections open at once from one address.
    public var perIPConnectionLimit = 64

    /// Seconds an idle connection (keep-alive included) may stay open; what keeps idle clients
    /// from holding every slot of `connectionLimit`.
    public var connectionTimeoutSeconds = 10

    /// Bytes of each connection's pool for the request line, headers and I/O buffers.
    public var connectionMemoryLimit = 64 * 1024

    /// Pending connections the kernel queues before accept.
    public var listenBacklog = 128

    /// Largest request body accepted; larger ones get 413 (before reading, when the length is
    /// declared).
    public var maxBodyBytes = 8 * 1024 * 1024

    public init() {}
}

/// How one request ended, for the access log and metrics.
public struct CompletedRequest {
    public let method: String
    public let path: String
    /// Path plus the decoded query, as logged.
    public let target: String
    public let client: String
    /// Route family label, set by the router ("unmatched" when none).
    public let route: String
    /// Status sent, or 0 when the connection ended before a response was queued.
    public let status: Int
    /// Body bytes of the response (0 for HEAD).
    public let bytes: Int
    public let seconds: Double
    /// Whether libmicrohttpd finished sending normally (false: client gone, timeout, shutdown).
    public let completedNormally: Bool
}

/// The per-request object libmicrohttpd carries in `*con_cls` between handler calls.
final class RequestContext {

    let connection: OpaquePointer
    let method: String
    let path: String
    let query: [(name: String, value: String)]
    let headers: [(name: String, value: String)]
    let client: String
    let started: UInt64
    var body: [UInt8] = []
    var expectsBody: Bool
    var route = "unmatched"
    var status = 0
    var bytes = 0

    /// Set (under `lock`) by whoever finishes deferred work, read after resume.
    private let lock = NSLock()
    private var finishedResponse: HTTPResponse?

    init(connection: OpaquePointer, method: String, path: String,
         query: [(name: String, value: String)], headers: [(name: String, value: String)],
         client: String, expectsBody: Bool) {
        self.connection = connection
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.client = client
        self.started = DispatchTime.now().uptimeNanoseconds
        self.expectsBody = expectsBody
    }

    func setFinished(_ response: HTTPResponse) {
        lock.lock()
        finishedResponse = response
        lock.unlock()
    }

    func takeFinished() -> HTTPResponse? {
        lock.lock()
        defer { lock.unlock() }
        let response = finishedResponse
        finishedResponse = nil
        return response
    }

    var target: String {
        guard !query.isEmpty else { return path }
        return path + "?" + query.map { $0.value.isEmpty ? $0.name : "\($0.name)=\($0.value)" }
            .joined(separator: "&")
    }
}

/// An HTTP/1.1 server on libmicrohttpd (internal thread pool, epoll, suspend/resume).
///
/// `handler` runs on libmicrohttpd's threads and must be quick: anything slow is returned as
/// `.deferred` and runs elsewhere while the connection is suspended.
public final class HTTPServer {

    public typealias Handler = (HTTPRequest, _ setRoute: (String) -> Void) -> RouteOutcome

    public let options: HTTPServerOptions
    private let handler: Handler
    private let onCompleted: (CompletedRequest) -> Void

    private var daemon: OpaquePointer?
    private var quiescedSocket: Int32 = -1
    private let stateLock = NSLock()
    private var active = 0

    /// The bound port (the real one when `options.port` was 0); 0 before `start()`.
    public private(set) var port = 0

    /// - Parameters:
    ///   - options: listening and limits.
    ///   - handler: maps a request to an outcome; called on libmicrohttpd threads.
    ///   - onCompleted: called once per request when it ends, on a libmicrohttpd thread.
    public init(options: HTTPServerOptions, handler: @escaping Handler,
                onCompleted: @escaping (CompletedRequest) -> Void) {
        self.options = options
        self.handler = handler
        self.onCompleted = onCompleted
    }

    deinit { stop() }

    /// Binds and starts the worker threads. Throws naming the address on failure.
    public func start() throws {
        precondition(daemon == nil, "HTTPServer started twice")
        guard (0...65535).contains(options.port) else {
            throw HTTPServerError("port \(options.port) is outside 0...65535")
        }
        let context = Unmanaged.passUnretained(self).toOpaque()
        var error = [CChar](repeating: 0, count: 256)
        let started: OpaquePointer? = options.host.withCString { host in
            var settings = voxgan_mhd_options(
                host: host, port: UInt16(options.port),
                thread_pool_size: UInt32(max(1, options.threads)),
                connection_limit: UInt32(max(1, options.connectionLimit)),
                per_ip_connection_limit: UInt32(max(0, options.perIPConnectionLimit)),
                connection_timeout_seconds: UInt32(max(0, options.connectionTimeoutSeconds)),
                connection_memory_limit: max(4096, options.connectionMemoryLimit),
                listen_backlog: UInt32(max(1, options.listenBacklog)),
                handler: serverAccessHandler, handler_context: context,
                completed: serverRequestCompleted, completed_context: context)
            return voxgan_mhd_start(&settings, &error, error.count)
        }
        guard let started else {
            throw HTTPServerError(String(cString: error) + " (\(String(cString: strerror(errno))))")
        }
        daemon = started
        port = Int(voxgan_mhd_bound_port(started))
    }

    /// Requests that have started and not yet ended (suspended ones included).
    public var activeRequests: Int {
        stateLock.lock()
        defer { stateLock.unlock() }
        return active
    }

    /// Stops accepting new connections; open ones are still served.
    public func quiesce() {
        guard let daemon, quiescedSocket < 0 else { return }
        quiescedSocket = MHD_quiesce_daemon(daemon)
    }

    /// Stops accepting, waits up to `grace` seconds for requests in progress to finish, then
    /// closes every connection and joins libmicrohttpd's threads.
    public func stop(grace: Double = 0) {
        guard let running = daemon else { return }
        quiesce()
        let deadline = Date().addingTimeInterval(grace)
        while activeRequests > 0, Date() < deadline { usleep(5_000) }
        MHD_stop_daemon(running)
        daemon = nil
        if quiescedSocket >= 0 {
            close(quiescedSocket)
            quiescedSocket = -1
        }
    }

    // MARK: Callbacks (on libmicrohttpd threads)

    fileprivate func access(connection: OpaquePointer, url: UnsafePointer<CChar>,
                            method: UnsafePointer<CChar>, upload: UnsafePointer<CChar>?,
                            uploadSize: UnsafeMutablePointer<Int>,
                            slot: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> MHD_Result {
        // 1. First call: headers are in; make the request object. Answering now would be an
        //    "early" response, after which libmicrohttpd closes the connection: only an
        //    oversized declared body is answered here, everything else on a later call.
        guard let existing = slot.pointee else {
            let request = makeContext(connection: connection, url: url, method: method)
            slot.pointee = Unmanaged.passRetained(request).toOpaque()
            stateLock.lock()
            active += 1
            stateLock.unlock()
            if request.expectsBody,
               let length = request.headers.first(where: { $0.name == "content-length" }),
               let declared = Int(length.value), declared > options.maxBodyBytes {
                return queue(tooLarge(declared: declared), on: request)
            }
            return .YES
        }
        let request = Unmanaged<RequestContext>.fromOpaque(existing).takeUnretainedValue()

        // 2. Resumed after deferred work: send what it produced.
        if let finished = request.takeFinished() {
            uploadSize.pointee = 0
            return queue(finished, on: request)
        }

        // 3. A piece of the body: keep it, up to the cap.
        if uploadSize.pointee > 0 {
            let count = uploadSize.pointee
            uploadSize.pointee = 0
            guard request.expectsBody, let upload else { return .YES }
            if request.body.count + count > options.maxBodyBytes {
                // An undeclared length (chunked upload) went over the cap. If libmicrohttpd
                // will not take a response in the middle of an upload, close the connection.
                let declared = request.body.count + count
                request.expectsBody = false
                request.body = []
                return queue(tooLarge(declared: declared), on: request) == .YES
                    ? .YES : .NO
            }
            upload.withMemoryRebound(to: UInt8.self, capacity: count) { bytes in
                request.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: count))
            }
            return .YES
        }

        // 4. The whole request is in.
        return dispatch(request)
    }

    fileprivate func completed(slot: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                               termination: MHD_RequestTerminationCode) {
        guard let slot, let pointer = slot.pointee else { return }
        slot.pointee = nil
        let request = Unmanaged<RequestContext>.fromOpaque(pointer).takeRetainedValue()
        stateLock.lock()
        active -= 1
        stateLock.unlock()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - request.started) / 1e9
        onCompleted(CompletedRequest(
            method: request.method, path: request.path, target: request.target,
            client: request.client, route: request.route, status: request.status,
            bytes: request.bytes, seconds: seconds,
            completedNormally: termination == .REQUEST_TERMINATED_COMPLETED_OK))
    }

    // MARK: Helpers

    private func makeContext(connection: OpaquePointer, url: UnsafePointer<CChar>,
                             method: UnsafePointer<CChar>) -> RequestContext {
        let query = collect(connection, kind: .GET_ARGUMENT_KIND, lowercaseNames: false)
        let headers = collect(connection, kind: .HEADER_KIND, lowercaseNames: true)
        var address = [CChar](repeating: 0, count: 64)
        _ = voxgan_mhd_client_address(connection, &address, address.count)
        let hasLength = headers.contains { $0.name == "content-length" && $0.value != "0" }
        let isChunked = headers.contains { $0.name == "transfer-encoding" }
        return RequestContext(connection: connection, method: String(cString: method),
                              path: String(cString: url), query: query, headers: headers,
                              client: String(cString: address),
                              expectsBody: hasLength || isChunked)
    }

    private func collect(_ connection: OpaquePointer, kind: MHD_ValueKind,
                         lowercaseNames: Bool) -> [(name: String, value: String)] {
        let box = PairCollector(lowercaseNames: lowercaseNames)
        let context = Unmanaged.passUnretained(box).toOpaque()
        _ = MHD_get_connection_values(connection, kind, collectPair, context)
        return box.pairs
    }

    private func dispatch(_ request: RequestContext) -> MHD_Result {
        let parsed = HTTPRequest(method: request.method, path: request.path,
                                 query: request.query, headers: request.headers,
                                 body: request.body)
        request.body = []
        let outcome = handler(parsed) { request.route = $0 }
        switch outcome {
        case .respond(let response):
            return queue(response, on: request)
        case .deferred(let start):
            // Suspend first, so that a resume can never arrive before the suspend.
            MHD_suspend_connection(request.connection)
            start { response in
                request.setFinished(response)
                MHD_resume_connection(request.connection)
            }
            return .YES
        }
    }

    private func queue(_ response: HTTPResponse, on request: RequestContext) -> MHD_Result {
        let mhdResponse = response.body.withUnsafeBytes { bytes in
            MHD_create_response_from_buffer(bytes.count, UnsafeMutableRawPointer(
                mutating: bytes.baseAddress), .RESPMEM_MUST_COPY)
        }
        guard let mhdResponse else { return .NO }
        defer { MHD_destroy_response(mhdResponse) }
        for (name, value) in response.headers {
            _ = MHD_add_response_header(mhdResponse, name, value)
        }
        request.status = response.status
        request.bytes = request.method == "HEAD" ? 0 : response.body.count
        return MHD_queue_response(request.connection, UInt32(response.status), mhdResponse)
    }

    private func tooLarge(declared: Int) -> HTTPResponse {
        HTTPError(413, "request body of at least \(declared) bytes is over the limit of "
                  + "\(options.maxBodyBytes) bytes", field: "body",
                  headers: [("Connection", "close")]).response
    }
}

/// Failure to start listening.
public struct HTTPServerError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

private final class PairCollector {
    let lowercaseNames: Bool
    var pairs: [(name: String, value: String)] = []
    init(lowercaseNames: Bool) { self.lowercaseNames = lowercaseNames }
}

private let collectPair: MHD_KeyValueIterator = { context, _, key, value in
    guard let context, let key else { return .YES }
    let box = Unmanaged<PairCollector>.fromOpaque(context).takeUnretainedValue()
    let name = String(cString: key)
    box.pairs.append((box.lowercaseNames ? name.lowercased() : name,
                      value.map { String(cString: $0) } ?? ""))
    return .YES
}

private let serverAccessHandler: MHD_AccessHandlerCallback = {
    context, connection, url, method, _, upload, uploadSize, slot in
    guard let context, let connection, let url, let method, let uploadSize, let slot else {
        return .NO
    }
    let server = Unmanaged<HTTPServer>.fromOpaque(context).takeUnretainedValue()
    return server.access(connection: connection, url: url, method: method, upload: upload,
                         uploadSize: uploadSize, slot: slot)
}

private let serverRequestCompleted: MHD_RequestCompletedCallback = {
    context, _, slot, termination in
    guard let context else { return }
    let server = Unmanaged<HTTPServer>.fromOpaque(context).takeUnretainedValue()
    server.completed(slot: slot, termination: termination)
}
