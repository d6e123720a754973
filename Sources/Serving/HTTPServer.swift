// The libmicrohttpd wrapper: starts a daemon with every option explicit, turns MHD's repeated
// access-handler calls into one `HTTPRequest` per request (accumulating uploads up to a cap),
// suspends connections whose answer is computed elsewhere and resumes them when it is ready,
// and reports each finished request once (access log, metrics).
//
// What libmicrohttpd 0.9.75 answers itself, before any of this code sees the request (HTML
// bodies, `Connection: close`; counted as status "none" in the metrics when the request line
// was read):
//   - a request line longer than the connection's memory pool: 414; header fields beyond it,
//     or too many of them: 431;
//   - a `Content-Length` that is not a number (`-1`, `+5`, `5, 5`): 400, and one beyond 64
//     bits: 413 (0.9.75 sends its status line and header block twice before the page);
//   - a request line without an HTTP version or a header line without a colon: 400; an
//     unknown HTTP version: 505; bad chunk framing: 400.
// It lets through what `earlyAnswer` below refuses: several `Content-Length` fields (MHD uses
// the first), `Content-Length` with `Transfer-Encoding`, codings other than chunked (MHD then
// waits for the timeout), and HTTP/1.1 without `Host`.
// Query strings are parsed here, not by MHD: its parser keeps one record per parameter in the
// connection's pool, and when the pool runs out 0.9.75 neither answers nor closes (the client
// waits for the connection timeout). The raw target is taken before MHD parses it, its query
// is cut off in MHD's buffer, and too many parameters get a JSON 400.
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

    /// Query parameters per request at most; more get 400. No route takes more than ten.
    public var maxQueryParameters = 64

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
    /// Status sent, or 0 when the connection ended before a response was queued (the client
    /// left, a timeout, or libmicrohttpd refused the request itself, such as 431).
    public let status: Int
    /// Body bytes of the response (0 for HEAD).
    public let bytes: Int
    public let seconds: Double
    /// Whether libmicrohttpd finished sending normally (false: client gone, timeout, shutdown).
    public let completedNormally: Bool
}

/// The per-request object libmicrohttpd carries in `*con_cls` between handler calls. It is made
/// when the request line is in (with the raw target only) and completed by the first handler
/// call, once the header fields are in.
final class RequestContext {

    let connection: OpaquePointer
    let started: UInt64
    /// Raw query (after `?`, still percent-encoded); MHD never sees it.
    let rawQuery: Substring
    var method = "-"
    var version = ""
    var path: String
    var query: [(name: String, value: String)] = []
    var headers: [(name: String, value: String)] = []
    var client = "-"
    var hasHeaders = false
    var body: [UInt8] = []
    var expectsBody = false
    /// Body bytes read and dropped after the body passed the cap (a chunked upload, whose
    /// length is not declared); the request is answered 413 when the upload ends.
    var discardedBytes = 0
    var discardingSince: UInt64 = 0
    /// An answer decided from the request line and header fields, sent once the request is in.
    var rejection: HTTPResponse?
    var route = "unmatched"
    var status = 0
    var bytes = 0

    /// Set (under `lock`) by whoever finishes deferred work, read after resume.
    private let lock = NSLock()
    private var finishedResponse: HTTPResponse?

    init(connection: OpaquePointer, rawTarget: String) {
        self.connection = connection
        self.started = DispatchTime.now().uptimeNanoseconds
        if let mark = rawTarget.firstIndex(of: "?") {
            path = QueryString.percentDecoded(rawTarget[..<mark], plusIsSpace: false)
            rawQuery = rawTarget[rawTarget.index(after: mark)...]
        } else {
            path = QueryString.percentDecoded(Substring(rawTarget), plusIsSpace: false)
            rawQuery = ""
        }
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

/// Query strings as libmicrohttpd would split and decode them: `&` between parameters, the
/// first `=` between name and value (none: value ""), `+` as a space, then `%HH` escapes,
/// except `%00`, which stays as it is (see the shim's unescape callback: a NUL would cut C
/// strings short).
enum QueryString {

    /// Pairs in the order sent; empty segments (`a&&b`) are skipped. Stops after `limit` pairs
    /// and returns the number of segments in all, so a huge query costs no more than its scan.
    static func parse(_ raw: Substring, limit: Int)
        -> (pairs: [(name: String, value: String)], count: Int)
    {
        var pairs: [(name: String, value: String)] = []
        var count = 0
        for segment in raw.split(separator: "&", omittingEmptySubsequences: true) {
            count += 1
            guard count <= limit else { continue }
            if let equals = segment.firstIndex(of: "=") {
                pairs.append((percentDecoded(segment[..<equals], plusIsSpace: true),
                              percentDecoded(segment[segment.index(after: equals)...],
                                             plusIsSpace: true)))
            } else {
                pairs.append((percentDecoded(segment, plusIsSpace: true), ""))
            }
        }
        return (pairs, count)
    }

    /// Decodes `%HH` (except `%00`) and, when asked, `+`; bytes that are not UTF-8 become
    /// U+FFFD, as `String(cString:)` does for what MHD decodes.
    static func percentDecoded(_ text: Substring, plusIsSpace: Bool) -> String {
        let utf8 = Array(text.utf8)
        guard utf8.contains(where: { $0 == 0x25 || (plusIsSpace && $0 == 0x2B) }) else {
            return String(text)
        }
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: return byte - 0x30
            case 0x41...0x46: return byte - 0x41 + 10
            case 0x61...0x66: return byte - 0x61 + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == 0x25, index + 2 < utf8.count, let high = hex(utf8[index + 1]),
               let low = hex(utf8[index + 2]), high | low != 0 {
                out.append(high << 4 | low)
                index += 3
                continue
            }
            out.append(plusIsSpace && byte == 0x2B ? 0x20 : byte)
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
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
    private let routeLabel: (String) -> String
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
    ///   - routeLabel: the route label of a decoded path, for requests answered or ended
    ///     before `handler` runs (413, aborted uploads); `handler` may set a finer one.
    ///   - onCompleted: called once per request when it ends, on a libmicrohttpd thread.
    public init(options: HTTPServerOptions, handler: @escaping Handler,
                routeLabel: @escaping (String) -> String = { _ in "unmatched" },
                onCompleted: @escaping (CompletedRequest) -> Void) {
        self.options = options
        self.handler = handler
        self.routeLabel = routeLabel
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
                target_received: serverTargetReceived, target_received_context: context,
                handler: serverAccessHandler, handler_context: context,
                completed: serverRequestCompleted, completed_context: context)
            return voxgan_mhd_start(&settings, &error, error.count)
        }
        guard let started else {
            throw HTTPServerError(String(cString: error))
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

    /// The request line is in: make the request object from the raw target, and cut the query
    /// off in MHD's buffer so that MHD never parses it (see the file's opening comment). MHD
    /// calls this before it parses the target and passes `uri` from its own writable read
    /// buffer; the parameters are parsed from the copy kept here.
    fileprivate func targetReceived(connection: OpaquePointer, uri: UnsafePointer<CChar>,
                                    cutQuery: Bool = true) -> UnsafeMutableRawPointer {
        let request = RequestContext(connection: connection, rawTarget: String(cString: uri))
        request.route = routeLabel(request.path)
        if cutQuery, let mark = strchr(uri, 0x3F) {  // "?"
            UnsafeMutablePointer(mutating: mark)[1] = 0
        }
        stateLock.lock()
        active += 1
        stateLock.unlock()
        return Unmanaged.passRetained(request).toOpaque()
    }

    fileprivate func access(connection: OpaquePointer, url: UnsafePointer<CChar>,
                            method: UnsafePointer<CChar>, version: UnsafePointer<CChar>?,
                            upload: UnsafePointer<CChar>?,
                            uploadSize: UnsafeMutablePointer<Int>,
                            slot: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> MHD_Result {
        if slot.pointee == nil {
            // Only if the target callback did not run (it always does in MHD 0.9.75); `url`
            // is then MHD's decoded path, its query already parsed and left out.
            slot.pointee = targetReceived(connection: connection, uri: url, cutQuery: false)
        }
        let request = Unmanaged<RequestContext>.fromOpaque(slot.pointee!)
            .takeUnretainedValue()

        // 1. First call: header fields are in. Answering now would be an "early" response,
        //    after which libmicrohttpd discards the rest and closes the connection: kept for
        //    requests whose body must not be read (see `earlyAnswer`); everything else is
        //    answered on a later call.
        if !request.hasHeaders {
            completeHeaders(request, method: method, version: version)
            if let early = earlyAnswer(request) { return queue(early, on: request) }
            return .YES
        }

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
            if request.rejection != nil || request.discardedBytes > 0
                || request.body.count + count > options.maxBodyBytes {
                return discard(count, of: request)
            }
            upload.withMemoryRebound(to: UInt8.self, capacity: count) { bytes in
                request.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: count))
            }
            return .YES
        }

        // 4. The whole request is in.
        if let rejection = request.rejection { return queue(rejection, on: request) }
        if request.discardedBytes > 0 {
            return queue(tooLarge(atLeast: request.discardedBytes), on: request)
        }
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

    private func completeHeaders(_ request: RequestContext, method: UnsafePointer<CChar>,
                                 version: UnsafePointer<CChar>?) {
        request.hasHeaders = true
        request.method = String(cString: method)
        request.version = version.map { String(cString: $0) } ?? ""
        request.headers = collect(request.connection, kind: .HEADER_KIND, lowercaseNames: true)
        var address = [CChar](repeating: 0, count: 64)
        _ = voxgan_mhd_client_address(request.connection, &address, address.count)
        request.client = String(cString: address)
        let hasLength = request.headers.contains {
            $0.name == "content-length" && $0.value != "0"
        }
        let isChunked = request.headers.contains { $0.name == "transfer-encoding" }
        request.expectsBody = hasLength || isChunked

        let limit = options.maxQueryParameters
        let (pairs, count) = QueryString.parse(request.rawQuery, limit: limit)
        request.query = pairs
        if count > limit {
            request.rejection = HTTPError(
                400, "the query has \(count) parameters; at most \(limit) are accepted",
                field: "query").response
        }
    }

    /// Answers that cannot wait for the body: a declared length over the cap (413, nothing
    /// read), and framing that two parsers could read differently (request smuggling):
    /// several `Content-Length` fields, or one with a list, or both `Content-Length` and
    /// `Transfer-Encoding` (RFC 9112 §6.3). MHD 0.9.75 takes the first `Content-Length`.
    /// A transfer coding other than chunked is 501; HTTP/1.1 without `Host` is 400.
    private func earlyAnswer(_ request: RequestContext) -> HTTPResponse? {
        // RFC 9112 §3.2 (MHD 0.9.75 lets it through unless strict).
        if request.version == "HTTP/1.1", !request.headers.contains(where: { $0.name == "host" }) {
            return HTTPError(400, "an HTTP/1.1 request needs a Host header field", field: "host",
                             headers: [("Connection", "close")]).response
        }
        let lengths = request.headers.filter { $0.name == "content-length" }
        let hasTransferEncoding = request.headers.contains { $0.name == "transfer-encoding" }
        if lengths.count > 1 || lengths.contains(where: { $0.value.contains(",") })
            || (!lengths.isEmpty && hasTransferEncoding) {
            let found = lengths.map(\.value).joined(separator: ", ")
                + (hasTransferEncoding ? " with Transfer-Encoding" : "")
            return HTTPError(400, "ambiguous body length: Content-Length \(found)",
                             field: "content-length", headers: [("Connection", "close")])
                .response
        }
        // MHD 0.9.75 decodes only "chunked"; with any other coding it would wait for a body
        // it cannot frame until the connection times out (RFC 9112 §6.1: 501).
        if let coding = request.headers.first(where: { $0.name == "transfer-encoding" })?.value,
           coding.trimmingCharacters(in: .whitespaces).lowercased() != "chunked" {
            return HTTPError(501, "Transfer-Encoding \(HTTPError.quote(coding)) is not supported; send the body "
                             + "with Content-Length or Transfer-Encoding: chunked",
                             field: "transfer-encoding", headers: [("Connection", "close")])
                .response
        }
        if request.expectsBody, let length = lengths.first, let declared = Int(length.value),
           declared > options.maxBodyBytes {
            return tooLarge(atLeast: declared)
        }
        return nil
    }

    /// Drops `count` more bytes of a body that passed the cap, or of a request already refused.
    /// libmicrohttpd 0.9.75 takes no response while it hands over upload data ("the response
    /// cannot be queued when ... upload_data is not NULL"), so an undeclared length (chunked)
    /// is read to its end and answered then (413, or the refusal). A client must not stream
    /// for ever: after 4× the cap (at least 1 MiB) or 30 seconds of dropped data, the
    /// connection is closed without an answer.
    private func discard(_ count: Int, of request: RequestContext) -> MHD_Result {
        let now = DispatchTime.now().uptimeNanoseconds
        if request.discardedBytes == 0 {
            request.discardedBytes = request.body.count
            request.body = []
            request.discardingSince = now
        }
        request.discardedBytes += count
        let limit = max(4 * options.maxBodyBytes, 1 << 20)
        let seconds = Double(now - request.discardingSince) / 1e9
        return request.discardedBytes > limit || seconds > 30 ? .NO : .YES
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

    private func tooLarge(atLeast bytes: Int) -> HTTPResponse {
        HTTPError(413, "request body of at least \(bytes) bytes is over the limit of "
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

private let serverTargetReceived: @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<CChar>?, OpaquePointer?
) -> UnsafeMutableRawPointer? = { context, uri, connection in
    guard let context, let uri, let connection else { return nil }
    let server = Unmanaged<HTTPServer>.fromOpaque(context).takeUnretainedValue()
    return server.targetReceived(connection: connection, uri: uri)
}

private let serverAccessHandler: MHD_AccessHandlerCallback = {
    context, connection, url, method, version, upload, uploadSize, slot in
    guard let context, let connection, let url, let method, let uploadSize, let slot else {
        return .NO
    }
    let server = Unmanaged<HTTPServer>.fromOpaque(context).takeUnretainedValue()
    return server.access(connection: connection, url: url, method: method, version: version,
                         upload: upload, uploadSize: uploadSize, slot: slot)
}

private let serverRequestCompleted: MHD_RequestCompletedCallback = {
    context, _, slot, termination in
    guard let context else { return }
    let server = Unmanaged<HTTPServer>.fromOpaque(context).takeUnretainedValue()
    server.completed(slot: slot, termination: termination)
}
