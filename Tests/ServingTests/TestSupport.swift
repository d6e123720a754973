// Helpers for the server tests: a raw-socket HTTP/1.1 client (loopback only) that sends paths
// verbatim and can upload slowly or stay idle, and a synthetic-model server on port 0.
import Foundation
import Serving
import XCTest

/// A parsed HTTP response.
struct RawResponse {
    let status: Int
    let headers: [(String, String)]
    let body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first(where: { $0.0.lowercased() == name.lowercased() })?.1
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(body))
        guard let dictionary = object as? [String: Any] else {
            throw ClientError("response body is not a JSON object: \(text)")
        }
        return dictionary
    }
}

struct ClientError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// One TCP connection to 127.0.0.1:port.
final class RawConnection {

    let descriptor: Int32
    private var buffer: [UInt8] = []

    init(port: Int, receiveTimeout: Double = 20) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ClientError("socket() failed") }
        var timeout = timeval(tv_sec: Int(receiveTimeout),
                              tv_usec: Int((receiveTimeout - receiveTimeout.rounded(.down)) * 1e6))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout,
                   socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            throw ClientError("connect to 127.0.0.1:\(port) failed: errno \(errno)")
        }
    }

    deinit { close(descriptor) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress! + offset, bytes.count - offset,
                           Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { throw ClientError("send failed: errno \(errno)") }
            offset += sent
        }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Reads more bytes; false at end of stream.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, $0.count, 0) }
        if count == 0 { return false }
        guard count > 0 else { throw ClientError("recv failed or timed out: errno \(errno)") }
        buffer += chunk[0..<count]
        return true
    }

    /// Reads one response (Content-Length bodies; HEAD and 304 without body).
    func readResponse(head: Bool = false) throws -> RawResponse {
        var headerEnd: Int?
        while headerEnd == nil {
            if let range = findHeaderEnd() { headerEnd = range; break }
            guard try fill() else { throw ClientError("connection closed before a response") }
        }
        let headText = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
        buffer.removeFirst(headerEnd! + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw ClientError("bad status line in \(headText)")
        }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]),
                    line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headers.first(where: { $0.0.lowercased() == "content-length" })
            .flatMap { Int($0.1) } ?? 0
        let bodyLength = head || status == 304 ? 0 : length
        while buffer.count < bodyLength {
            guard try fill() else { throw ClientError("connection closed inside the body") }
        }
        let body = Array(buffer[0..<bodyLength])
        buffer.removeFirst(bodyLength)
        return RawResponse(status: status, headers: headers, body: body)
    }

    /// Whether the server closed the connection (reads until end of stream or timeout).
    func isClosedByPeer() -> Bool {
        (try? fill()) == false
    }

    private func findHeaderEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4)
            where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13
                && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }
}

/// Builds request bytes.
func requestText(_ method: String, _ target: String, headers: [String: String] = [:],
                 body: [UInt8] = [], keepAlive: Bool = true) -> [UInt8] {
    var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
    if !body.isEmpty { text += "Content-Length: \(body.count)\r\n" }
    if !keepAlive { text += "Connection: close\r\n" }
    text += "\r\n"
    return Array(text.utf8) + body
}

/// One GET on a fresh connection.
func fetch(_ port: Int, _ target: String, headers: [String: String] = [:]) throws
    -> RawResponse
{
    try fetch(port, "GET", target, headers: headers)
}

/// One request on a fresh connection.
func fetch(_ port: Int, _ method: String, _ target: String,
           headers: [String: String] = [:], body: [UInt8] = []) throws -> RawResponse {
    let connection = try RawConnection(port: port)
    try connection.send(requestText(method, target, headers: headers, body: body,
                                    keepAlive: false))
    return try connection.readResponse(head: method == "HEAD")
}

func jsonBody(_ object: Any) -> [UInt8] {
    [UInt8](try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
}

/// A started in-process server on 127.0.0.1, port 0.
func makeServer(model: ChairModel = SyntheticChairModel(resolution: 16),
                _ adjust: (inout ServerConfiguration) -> Void = { _ in }) throws -> VoxganServer {
    var configuration = ServerConfiguration()
    configuration.http.port = 0
    configuration.http.threads = 2
    configuration.accessLog = .off
    configuration.publicDirectory = nil
    adjust(&configuration)
    let server = try VoxganServer(model: model, configuration: configuration)
    try server.start()
    return server
}

/// Parses a ustar archive into (name, contents) pairs.
func untar(_ bytes: [UInt8]) -> [(String, [UInt8])] {
    var files: [(String, [UInt8])] = []
    var offset = 0
    while offset + 512 <= bytes.count {
        let header = Array(bytes[offset..<offset + 512])
        if header.allSatisfy({ $0 == 0 }) { break }
        let name = String(decoding: header[0..<100].prefix(while: { $0 != 0 }), as: UTF8.self)
        let sizeText = String(decoding: header[124..<136].prefix(while: { $0 != 0 && $0 != 32 }),
                              as: UTF8.self)
        let size = Int(sizeText, radix: 8) ?? 0
        offset += 512
        files.append((name, Array(bytes[offset..<offset + size])))
        offset += (size + 511) / 512 * 512
    }
    return files
}

/// Polls `condition` every 10 ms for up to `seconds`.
func waitUntil(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// Integers recorded from several threads.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Int: Int] = [:]

    func set(_ key: Int, _ value: Int) {
        lock.lock()
        stored[key] = value
        lock.unlock()
    }

    var values: [Int: Int] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
