// Server behaviour under concurrency and hostile or awkward clients: parallel clients, slow
// uploads, idle keep-alive connections at the limit, a full queue, static files and path
// traversal, graceful shutdown, the access log, and the executable itself. Loopback only.
import Foundation
import Serving
import XCTest

final class BehaviourTests: XCTestCase {

    func testParallelClientsGetTheBytesSequentialClientsGet() throws {
        // No cache, so every request goes through the batcher and batches mix requests.
        let model = SyntheticChairModel(resolution: 16)
        let server = try makeServer(model: model) {
            $0.cacheBytes = 0
            $0.maxDelayMilliseconds = 20
        }
        defer { server.stop() }
        let formats = ["binvox", "npy", "json", "obj"]
        let targets = (0..<24).map { "/v1/sample?seed=\($0 % 12)&format=\(formats[$0 % 4])" }
        let sequential = try targets.map { try fetch(server.port, $0).body }

        var parallel = [[UInt8]?](repeating: nil, count: targets.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: targets.count) { index in
            let body = try? fetch(server.port, targets[index]).body
            lock.lock()
            parallel[index] = body
            lock.unlock()
        }
        for index in targets.indices {
            XCTAssertEqual(parallel[index], sequential[index], targets[index])
        }
        XCTAssertTrue(model.batchSizes.allSatisfy { $0 <= 16 })
    }

    func testSlowUploadInPieces() throws {
        let server = try makeServer()
        defer { server.stop() }
        let expected = try fetch(server.port, "/v1/sample?seed=77&format=json").body

        // A declared length, sent a few bytes at a time.
        let body = jsonBody(["seed": 77, "format": "json"])
        let connection = try RawConnection(port: server.port)
        let head = requestText("POST", "/v1/sample", body: body)
        let headLength = head.count - body.count
        try connection.send(Array(head[0..<headLength]))
        for start in stride(from: 0, to: body.count, by: 5) {
            usleep(30_000)
            try connection.send(Array(body[start..<min(start + 5, body.count)]))
        }
        let response = try connection.readResponse()
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.body, expected)

        // Chunked transfer encoding, chunk by chunk, on the same keep-alive connection.
        try connection.send("POST /v1/sample HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        for start in stride(from: 0, to: body.count, by: 7) {
            usleep(20_000)
            let piece = Array(body[start..<min(start + 7, body.count)])
            try connection.send(Array((String(piece.count, radix: 16) + "\r\n").utf8) + piece
                                + Array("\r\n".utf8))
        }
        try connection.send("0\r\n\r\n")
        let chunked = try connection.readResponse()
        XCTAssertEqual(chunked.status, 200, chunked.text)
        XCTAssertEqual(chunked.body, expected)
    }

    func testChunkedUploadOverTheCapIs413() throws {
        let server = try makeServer { $0.http.maxBodyBytes = 1000 }
        defer { server.stop() }
        let piece = [UInt8](repeating: 65, count: 600)
        let chunk = Array("258\r\n".utf8) + piece + Array("\r\n".utf8)

        // Over the cap: the rest is read and dropped, then a JSON 413, and the connection closes.
        let connection = try RawConnection(port: server.port)
        try connection.send("POST /v1/convert?format=obj HTTP/1.1\r\nHost: x\r\n"
                            + "Transfer-Encoding: chunked\r\n\r\n")
        for _ in 0..<4 { try connection.send(chunk) }
        try connection.send("0\r\n\r\n")
        let response = try connection.readResponse()
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(try response.json()["field"] as? String, "body")
        XCTAssertTrue((try response.json()["error"] as? String ?? "").contains("2400 bytes"))
        XCTAssertTrue(connection.isClosedByPeer())

        // A client that never stops: past 1 MiB of dropped bytes the connection is closed. The
        // client's limit is far above that because loopback socket buffers can hold several
        // MiB sent before the close (a slow server, e.g. under a sanitizer, is still correct).
        let endless = try RawConnection(port: server.port)
        try endless.send("POST /v1/convert?format=obj HTTP/1.1\r\nHost: x\r\n"
                         + "Transfer-Encoding: chunked\r\n\r\n")
        var sent = 0
        while sent < 64 << 20, (try? endless.send(chunk)) != nil { sent += piece.count }
        XCTAssertLessThan(sent, 64 << 20, "the server kept reading")
        XCTAssertNil(try? endless.readResponse())

        XCTAssertEqual(try fetch(server.port, "/healthz").status, 200)
        let metrics = try fetch(server.port, "/metrics").text
        XCTAssertTrue(metrics.contains(
            "voxgan_http_requests_total{route=\"/v1/convert\",method=\"POST\",status=\"413\"} 1"),
            metrics)
        XCTAssertTrue(metrics.contains(
            "voxgan_http_requests_total{route=\"/v1/convert\",method=\"POST\",status=\"none\"} 1"),
            metrics)
        XCTAssertTrue(metrics.contains(
            "voxgan_http_requests_aborted_total{route=\"/v1/convert\"} 1"), metrics)
    }

    func testIdleKeepAliveClientsDoNotLockOutANewClient() throws {
        let server = try makeServer {
            $0.http.connectionLimit = 4
            $0.http.perIPConnectionLimit = 4
            $0.http.connectionTimeoutSeconds = 1
        }
        defer { server.stop() }

        // Fill every slot with keep-alive connections that then go quiet.
        var idle: [RawConnection] = []
        for _ in 0..<4 {
            let connection = try RawConnection(port: server.port)
            try connection.send(requestText("GET", "/healthz"))
            XCTAssertEqual(try connection.readResponse().status, 200)
            idle.append(connection)
        }

        // A new client is served once the idle ones time out.
        let started = Date()
        var served = false
        while !served, Date().timeIntervalSince(started) < 15 {
            guard let client = try? RawConnection(port: server.port, receiveTimeout: 5),
                  (try? client.send(requestText("GET", "/healthz", keepAlive: false))) != nil,
                  let response = try? client.readResponse() else {
                usleep(100_000)
                continue
            }
            served = response.status == 200
        }
        XCTAssertTrue(served, "a new client was never served")
        XCTAssertTrue(idle.allSatisfy { $0.isClosedByPeer() }, "idle connections stayed open")
    }

    func testFullQueueAnswers503AtOnce() throws {
        let model = SyntheticChairModel(resolution: 8)
        let server = try makeServer(model: model) {
            $0.queueCapacity = 2
            $0.maxBatch = 1
            $0.maxDelayMilliseconds = 0
            $0.cacheBytes = 0
        }
        defer { server.stop() }
        model.holdGeneration()

        // One request in the generator, two waiting: the queue is full.
        let results = ResultBox()
        let group = DispatchGroup()
        func launch(_ index: Int) {
            DispatchQueue.global().async(group: group) {
                results.set(index, (try? fetch(server.port, "/v1/sample?seed=\(index)").status)
                            ?? -1)
            }
        }
        launch(0)
        XCTAssertTrue(waitUntil { model.runningCalls == 1 })
        launch(1)
        launch(2)
        XCTAssertTrue(waitUntil {
            (try? fetch(server.port, "/metrics").text.contains("voxgan_inference_queue_depth 2"))
                ?? false
        })

        let rejected = try fetch(server.port, "/v1/sample?seed=99")
        XCTAssertEqual(rejected.status, 503)
        XCTAssertEqual(rejected.header("Retry-After"), "1")
        XCTAssertNotNil(try rejected.json()["error"])
        let batch = try fetch(server.port, "POST", "/v1/samples", body: jsonBody(["count": 2]))
        XCTAssertEqual(batch.status, 503)

        model.releaseGeneration()
        XCTAssertEqual(group.wait(timeout: .now() + 20), .success)
        XCTAssertEqual(results.values, [0: 200, 1: 200, 2: 200])
        XCTAssertEqual(try fetch(server.port, "/v1/sample?seed=99").status, 200)
    }

    func testStopFinishesRequestsInProgress() throws {
        let model = SyntheticChairModel(resolution: 8)
        let server = try makeServer(model: model)
        model.holdGeneration()
        let status = ResultBox()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            status.set(0, (try? fetch(server.port, "/v1/sample?seed=5").status) ?? -1)
            done.signal()
        }
        XCTAssertTrue(waitUntil { model.runningCalls == 1 })
        let stopped = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            server.stop()
            stopped.signal()
        }
        XCTAssertTrue(waitUntil { !server.isReady })
        model.releaseGeneration()
        XCTAssertEqual(done.wait(timeout: .now() + 20), .success)
        XCTAssertEqual(status.values, [0: 200])
        XCTAssertEqual(stopped.wait(timeout: .now() + 20), .success)
        XCTAssertThrowsError(try fetch(server.port, "/healthz"))
    }

    func testStaticFilesAndNoTraversal() throws {
        let root = NSTemporaryDirectory() + "voxgan-serve-public-\(getpid())"
        let manager = FileManager.default
        try? manager.removeItem(atPath: root)
        try manager.createDirectory(atPath: root + "/public/js", withIntermediateDirectories: true)
        try "<h1>viewer</h1>".write(toFile: root + "/public/index.html", atomically: true,
                                    encoding: .utf8)
        try "export const a = 1;".write(toFile: root + "/public/js/app.js", atomically: true,
                                        encoding: .utf8)
        try "TOP-SECRET-CONTENT".write(toFile: root + "/secret.txt", atomically: true, encoding: .utf8)
        try "hidden".write(toFile: root + "/public/.env", atomically: true, encoding: .utf8)
        try manager.createSymbolicLink(atPath: root + "/public/link.txt",
                                       withDestinationPath: root + "/secret.txt")
        defer { try? manager.removeItem(atPath: root) }

        let server = try makeServer { $0.publicDirectory = root + "/public" }
        defer { server.stop() }
        let port = server.port

        let index = try fetch(port, "/")
        XCTAssertEqual(index.status, 200)
        XCTAssertEqual(index.header("Content-Type"), "text/html; charset=utf-8")
        XCTAssertEqual(index.text, "<h1>viewer</h1>")
        let script = try fetch(port, "/js/app.js")
        XCTAssertEqual(script.header("Content-Type"), "text/javascript; charset=utf-8")
        let etag = try XCTUnwrap(script.header("ETag"))
        XCTAssertEqual(try fetch(port, "/js/app.js", headers: ["If-None-Match": etag]).status, 304)
        XCTAssertEqual(try fetch(port, "POST", "/index.html").status, 405)

        for attack in [
            "/../secret.txt", "/js/../../secret.txt", "/%2e%2e/secret.txt",
            "/js/%2e%2e%2f%2e%2e%2fsecret.txt", "/%252e%252e/secret.txt", "/..%5csecret.txt",
            "/.env", "/link.txt", "/js/app.js%00.png", "/js//app.js", "//etc/passwd",
            "/vendor/three/../../../../etc/passwd", "/vendor/three/%2e%2e/%2e%2e/etc/passwd",
        ] {
            let response = try fetch(port, attack)
            XCTAssertEqual(response.status, 404, attack)
            XCTAssertFalse(response.text.contains("TOP-SECRET"), attack)
        }

        if manager.fileExists(atPath: "/usr/share/javascript/three/three.module.js") {
            let three = try fetch(port, "HEAD", "/vendor/three/three.module.js")
            XCTAssertEqual(three.status, 200)
            XCTAssertEqual(three.header("Content-Type"), "text/javascript; charset=utf-8")
        }
    }

    func testAccessLogHasOneLinePerRequest() throws {
        let path = NSTemporaryDirectory() + "voxgan-serve-access-\(getpid()).log"
        try? FileManager.default.removeItem(atPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let server = try makeServer { $0.accessLog = .file(path) }
        _ = try fetch(server.port, "/healthz")
        _ = try fetch(server.port, "/v1/sample?seed=3&format=json")
        _ = try fetch(server.port, "/missing")
        server.stop()
        let lines = try String(contentsOfFile: path, encoding: .utf8)
            .split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, lines.joined(separator: "\n"))
        // Lines are written when each request ends, which may be after its client has read it.
        for expected in [" 127.0.0.1 GET /healthz 200 ", " GET /v1/sample?seed=3&format=json 200 ",
                         " GET /missing 404 "] {
            XCTAssertEqual(lines.filter { $0.contains(expected) }.count, 1, expected)
        }
        XCTAssertTrue(lines.allSatisfy { $0.hasSuffix("ms") && $0.contains("B ") })
    }

    // MARK: The executable

    /// voxgan-serve beside the test bundle, if this build produced it.
    private func executable() throws -> String {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [directory, directory.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("voxgan-serve").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw XCTSkip("voxgan-serve was not built beside the tests")
    }

    func testExecutableListensOnAFreePortAndStopsOnSIGTERM() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable())
        process.arguments = ["--synthetic", "--synthetic-resolution", "8", "--port", "0",
                             "--access-log", "off", "--public", NSTemporaryDirectory()]
        let output = Pipe()
        process.standardOutput = output
        try process.run()

        // The first line names the port.
        var text = ""
        let reader = output.fileHandleForReading
        while !text.contains("ready") {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let prefix = "voxgan-serve: listening on http://127.0.0.1:"
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix(prefix) })
        let port = try XCTUnwrap(Int(line.dropFirst(prefix.count)))
        XCTAssertEqual(try fetch(port, "/readyz").status, 200)
        XCTAssertEqual(try fetch(port, "/v1/sample?seed=1").status, 200)

        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
    }

    func testExecutableRefusesMissingWeightsInOneLine() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable())
        process.arguments = ["--weights", "/nonexistent/chairs.h5", "--port", "0"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = Pipe()
        try process.run()
        process.waitUntilExit()
        XCTAssertNotEqual(process.terminationStatus, 0)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(),
                             as: UTF8.self)
        XCTAssertEqual(message.split(separator: "\n").count, 1, message)
        XCTAssertTrue(message.contains("/nonexistent/chairs.h5"), message)
    }
}
