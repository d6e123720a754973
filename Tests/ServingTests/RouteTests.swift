// Every route, format and error of the API, against an in-process server with a 16³ synthetic
// model on 127.0.0.1 port 0.
import Foundation
import HDF5Kit
import Serving
import Voxels
import XCTest

final class RouteTests: XCTestCase {

    var model: SyntheticChairModel!
    var server: VoxganServer!
    var port: Int { server.port }

    override func setUpWithError() throws {
        model = SyntheticChairModel(resolution: 16)
        server = try makeServer(model: model) { $0.http.maxBodyBytes = 64 * 1024 }
    }

    override func tearDown() {
        server.stop()
        server = nil
    }

    // MARK: Model and latents

    func testModelDescribesResolutionLatentAndWeights() throws {
        let response = try fetch(port, "/v1/model")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("Content-Type"), "application/json")
        let body = try response.json()
        XCTAssertEqual(body["resolution"] as? Int, 16)
        XCTAssertEqual(body["z_dimension"] as? Int, 200)
        XCTAssertEqual(body["z_distribution"] as? String, "normal")
        XCTAssertEqual(body["weights_sha256"] as? String, model.weightsSHA256)
        XCTAssertNotNil(body["info"] as? [String: String])
    }

    func testLatentOfASeedIsTheModelsLatent() throws {
        let response = try fetch(port, "/v1/z?seed=7")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("X-Seed"), "7")
        let z = try XCTUnwrap(response.json()["z"] as? [Double]).map(Float.init)
        XCTAssertEqual(z, model.latent(seed: 7))

        let missing = try fetch(port, "/v1/z")
        XCTAssertEqual(missing.status, 400)
        XCTAssertEqual(try missing.json()["field"] as? String, "seed")
        let malformed = try fetch(port, "/v1/z?seed=-3")
        XCTAssertEqual(malformed.status, 400)
        XCTAssertEqual(try malformed.json()["field"] as? String, "seed")
    }

    // MARK: Single chairs

    func testBinvoxSampleIsTheThresholdedGeneratorOutput() throws {
        let response = try fetch(port, "/v1/sample?seed=42")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("X-Seed"), "42")
        XCTAssertEqual(response.header("Content-Disposition"),
                       "attachment; filename=\"chair-42.binvox\"")
        XCTAssertEqual(response.header("Cache-Control"), "public, max-age=31536000, immutable")
        let grid = try Binvox.decode(response.body, name: "response")
        let probabilities = try model.generate(latents: [model.latent(seed: 42)])[0]
        let expected = probabilities.withUnsafeBufferPointer {
            VoxelGrid(probabilities: $0, nx: 16, ny: 16, nz: 16, threshold: 0.5)
        }
        XCTAssertEqual(grid.words, expected.words)
        XCTAssertGreaterThan(grid.occupiedCount, 50)
    }

    func testEveryFormatHasItsTypeNameAndShape() throws {
        let expectations: [(String, String)] = [
            ("binvox", "application/octet-stream"), ("obj", "model/obj"), ("stl", "model/stl"),
            ("png", "image/png"), ("npy", "application/octet-stream"),
            ("json", "application/json"),
        ]
        for (format, type) in expectations {
            let response = try fetch(port, "/v1/sample?seed=3&format=\(format)&size=64")
            XCTAssertEqual(response.status, 200, "\(format): \(response.text)")
            XCTAssertEqual(response.header("Content-Type"), type, format)
            XCTAssertTrue(response.header("Content-Disposition")?
                            .contains("filename=\"chair-3.\(format)\"") ?? false, format)
            XCTAssertNotNil(response.header("ETag"), format)
            switch format {
            case "png":
                XCTAssertEqual(Array(response.body.prefix(8)),
                               [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            case "obj":
                XCTAssertTrue(response.text.contains("\nv ") || response.text.hasPrefix("v "))
                XCTAssertTrue(response.text.contains("\nf "))
            case "stl":
                guard response.body.count >= 84 else { continue }
                let triangles = response.body[80..<84].reversed().reduce(0) { $0 << 8 | Int($1) }
                XCTAssertGreaterThan(triangles, 0)
                XCTAssertEqual(response.body.count, 84 + 50 * triangles)
            case "npy":
                XCTAssertEqual(Array(response.body.prefix(6)), [0x93] + Array("NUMPY".utf8))
                let headerLength = Int(response.body[8]) | Int(response.body[9]) << 8
                XCTAssertEqual((10 + headerLength) % 64, 0)
                let header = String(decoding: response.body[10..<10 + headerLength],
                                    as: UTF8.self)
                XCTAssertTrue(header.contains("'shape': (1, 16, 16, 16)"), header)
                XCTAssertEqual(response.body.count, 10 + headerLength + 4 * 16 * 16 * 16)
            case "json":
                let body = try response.json()
                XCTAssertEqual(body["seed"] as? Int, 3)
                XCTAssertEqual((body["z"] as? [Double])?.count, 200)
                XCTAssertNotNil(body["bounding_box"] as? [String: Any])
                XCTAssertNotNil(body["occupied_voxels"] as? Int)
            default:
                break
            }
        }
    }

    func testSameRequestGivesSameBytesAndConditionalRequestsWork() throws {
        let target = "/v1/sample?seed=11&format=obj&mesh=smooth"
        let first = try fetch(port, target)
        let second = try fetch(port, target)
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(first.body, second.body)
        let etag = try XCTUnwrap(first.header("ETag"))
        XCTAssertEqual(second.header("ETag"), etag)
        XCTAssertTrue(etag.hasPrefix("\"") && !etag.hasPrefix("W/"))

        let notModified = try fetch(port, target, headers: ["If-None-Match": etag])
        XCTAssertEqual(notModified.status, 304)
        XCTAssertTrue(notModified.body.isEmpty)
        XCTAssertEqual(notModified.header("ETag"), etag)
        XCTAssertEqual(notModified.header("X-Seed"), "11")

        // libmicrohttpd 0.9.75 always adds "Content-Length: 0" to a 304 (RFC 9110 §8.6 would
        // rather have none or the 200's length; nothing in its API removes it). A 304 never
        // has content whatever its fields say (RFC 9112 §6.3), so a keep-alive connection
        // reads the next response right after it.
        let connection = try RawConnection(port: port)
        try connection.send(requestText("GET", target, headers: ["If-None-Match": etag]))
        XCTAssertEqual(try connection.readResponse().status, 304)
        try connection.send(requestText("GET", target))
        XCTAssertEqual(try connection.readResponse().body, first.body)

        let other = try fetch(port, "/v1/sample?seed=11&format=obj&mesh=cubes")
        XCTAssertNotEqual(other.header("ETag"), etag)
        let stale = try fetch(port, target, headers: ["If-None-Match": "\"0000\""])
        XCTAssertEqual(stale.status, 200)
        XCTAssertEqual(stale.body, first.body)
    }

    func testOptionsChangeTheChair() throws {
        let plain = try fetch(port, "/v1/sample?seed=5")
        let strict = try fetch(port, "/v1/sample?seed=5&threshold=0.95")
        let largest = try fetch(port, "/v1/sample?seed=5&largest_component=true")
        XCTAssertEqual(strict.status, 200)
        XCTAssertEqual(largest.status, 200)
        let a = try Binvox.decode(plain.body, name: "plain")
        let b = try Binvox.decode(strict.body, name: "strict")
        XCTAssertLessThan(b.occupiedCount, a.occupiedCount)
        XCTAssertLessThanOrEqual(try Binvox.decode(largest.body, name: "lc").occupiedCount,
                                 a.occupiedCount)
    }

    func testSampleWithoutSeedPicksOneAndSaysWhich() throws {
        let response = try fetch(port, "/v1/sample?format=binvox")
        XCTAssertEqual(response.status, 200)
        let seed = try XCTUnwrap(response.header("X-Seed"))
        XCTAssertEqual(response.header("Cache-Control"), "no-store")
        let again = try fetch(port, "/v1/sample?seed=\(seed)")
        XCTAssertEqual(again.body, response.body)
        XCTAssertEqual(again.header("Cache-Control"), "public, max-age=31536000, immutable")
    }

    func testPostSampleBySeedAndByLatent() throws {
        let bySeedGet = try fetch(port, "/v1/sample?seed=9&format=npy")
        let bySeed = try fetch(port, "POST", "/v1/sample",
                               body: jsonBody(["seed": 9, "format": "npy"]))
        XCTAssertEqual(bySeed.status, 200, bySeed.text)
        XCTAssertEqual(bySeed.body, bySeedGet.body)

        let z = model.latent(seed: 9).map(Double.init)
        let byLatent = try fetch(port, "POST", "/v1/sample?format=npy", body: jsonBody(["z": z]))
        XCTAssertEqual(byLatent.status, 200, byLatent.text)
        XCTAssertEqual(byLatent.body, bySeedGet.body)
        XCTAssertNil(byLatent.header("X-Seed"))
        XCTAssertTrue(byLatent.header("Content-Disposition")?.contains("chair-z") ?? false)

        // Latent arithmetic: the mean of two latents is a valid request.
        let a = model.latent(seed: 1)
        let b = model.latent(seed: 2)
        let mean = zip(a, b).map { Double(($0 + $1) / 2) }
        XCTAssertEqual(try fetch(port, "POST", "/v1/sample", body: jsonBody(["z": mean])).status,
                       200)
    }

    func testPostSampleErrorsNameTheField() throws {
        let cases: [([UInt8], String)] = [
            (jsonBody(["z": [1, 2, 3]]), "z"),
            (jsonBody(["z": Array(repeating: 0, count: 199) + ["x"]]), "z"),
            (jsonBody(["seed": 1, "z": Array(repeating: 0, count: 200)]), "z"),
            (jsonBody(["format": "binvox"]), "z"),
            (jsonBody(["seed": 1, "colour": "red"]), "colour"),
            (jsonBody(["seed": 1, "threshold": 2]), "threshold"),
            (Array("{\"seed\": 1,".utf8), "body"),
            (Array("[1, 2]".utf8), "body"),
        ]
        for (body, field) in cases {
            let response = try fetch(port, "POST", "/v1/sample", body: body)
            XCTAssertEqual(response.status, 400, String(decoding: body, as: UTF8.self))
            XCTAssertEqual(try response.json()["field"] as? String, field,
                           String(decoding: body, as: UTF8.self))
            XCTAssertNotNil(try response.json()["error"] as? String)
        }
        XCTAssertEqual(try fetch(port, "POST", "/v1/sample").status, 400)

        // A z near float's limit would overflow the first layer into NaN voxels; a huge literal
        // is quoted short.
        let huge = "1" + String(repeating: "0", count: 400)
        for value in ["3.4e38", "-1e7", huge] {
            let z = Array(repeating: "0", count: 199) + [value]
            let body = Array("{\"z\": [\(z.joined(separator: ", "))]}".utf8)
            let response = try fetch(port, "POST", "/v1/sample", body: body)
            XCTAssertEqual(response.status, 400, value.prefix(20) + "")
            XCTAssertEqual(try response.json()["field"] as? String, "z")
            XCTAssertLessThan((try response.json()["error"] as? String ?? "").count, 160)
        }
    }

    func testCubesAreMergedUnlessMergeIsFalse() throws {
        let merged = try fetch(port, "/v1/sample?seed=2&format=obj")
        let unmerged = try fetch(port, "/v1/sample?seed=2&format=obj&merge=false")
        XCTAssertEqual(merged.status, 200)
        XCTAssertEqual(unmerged.status, 200)
        XCTAssertLessThan(merged.body.count, unmerged.body.count)
        XCTAssertNotEqual(merged.header("ETag"), unmerged.header("ETag"))
        let smooth = try fetch(port, "/v1/sample?seed=2&format=obj&mesh=smooth&merge=false")
        XCTAssertEqual(try smooth.json()["field"] as? String, "merge")
    }

    func testErrorsQuoteAtMost64CharactersOfABadValue() throws {
        let seed = String(repeating: "9", count: 50_000)
        let body = Array("{\"seed\":\(seed)}".utf8)
        for response in [try fetch(port, "/v1/sample?seed=" + seed),
                         try fetch(port, "POST", "/v1/sample", body: body)] {
            XCTAssertEqual(response.status, 400)
            XCTAssertLessThan(response.body.count, 300)
            let error = try response.json()["error"] as? String ?? ""
            XCTAssertTrue(error.hasSuffix("'" + String(repeating: "9", count: 64) + "…'"), error)
        }
    }

    // MARK: Batches

    func testSamplesAsTarMatchSingleSamples() throws {
        let response = try fetch(port, "POST", "/v1/samples",
                                 body: jsonBody(["seeds": [4, 8, 15], "format": "tar"]))
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.header("Content-Type"), "application/x-tar")
        let files = untar(response.body)
        XCTAssertEqual(files.map(\.0), ["chair-4.binvox", "chair-8.binvox", "chair-15.binvox"])
        XCTAssertEqual(files[1].1, try fetch(port, "/v1/sample?seed=8").body)
        XCTAssertEqual(response.header("X-Seed"), "4")
        let repeated = try fetch(port, "POST", "/v1/samples", body: jsonBody(["seeds": [1, 1]]))
        XCTAssertEqual(repeated.status, 400)
        XCTAssertEqual(try repeated.json()["field"] as? String, "seeds")

        let counted = try fetch(port, "POST", "/v1/samples",
                                body: jsonBody(["count": 2, "seed": 100, "item_format": "json"]))
        XCTAssertEqual(counted.status, 200, counted.text)
        XCTAssertEqual(counted.header("X-Seed"), "100")
        XCTAssertEqual(untar(counted.body).map(\.0), ["chair-100.json", "chair-101.json"])
    }

    func testSamplesAsHDF5() throws {
        let response = try fetch(port, "POST", "/v1/samples",
                                 body: jsonBody(["seeds": [1, 2], "format": "h5",
                                                 "probabilities": true]))
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.header("Content-Type"), "application/x-hdf5")
        let etag = try XCTUnwrap(response.header("ETag"))
        XCTAssertTrue(etag.hasPrefix("W/\""), etag)
        // A POST whose response the client already has: 412, not 304 (RFC 9110 §13.1.2).
        let current = try fetch(port, "POST", "/v1/samples", headers: ["If-None-Match": etag],
                                body: jsonBody(["seeds": [1, 2], "format": "h5",
                                                "probabilities": true]))
        XCTAssertEqual(current.status, 412)
        XCTAssertEqual(current.header("ETag"), etag)
        XCTAssertEqual(try current.json()["field"] as? String, "if-none-match")
        let path = NSTemporaryDirectory() + "voxgan-serve-test-\(getpid()).h5"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(response.body).write(to: URL(fileURLWithPath: path))
        let file = try HDF5File.open(path)
        XCTAssertEqual(try file.openDataset("voxels").shape, [2, 16, 16, 16])
        XCTAssertEqual(try file.read("seeds", as: UInt64.self), [1, 2])
        let probabilities = try file.read("probabilities", as: Float.self)
        XCTAssertEqual(Array(probabilities[0..<4096]),
                       try model.generate(latents: [model.latent(seed: 1)])[0])
        let voxels = try file.read("voxels", as: UInt8.self)
        let grid = try Binvox.decode(try fetch(port, "/v1/sample?seed=2").body, name: "seed 2")
        XCTAssertEqual(Array(voxels[4096..<8192]), grid.bytesXYZ())
    }

    func testSamplesOverTheCapIs413AndOtherErrorsAre400() throws {
        let tooMany = try fetch(port, "POST", "/v1/samples",
                                body: jsonBody(["count": 1000, "format": "tar"]))
        XCTAssertEqual(tooMany.status, 413)
        XCTAssertEqual(try tooMany.json()["field"] as? String, "count")
        let both = try fetch(port, "POST", "/v1/samples",
                             body: jsonBody(["count": 2, "seeds": [1]]))
        XCTAssertEqual(both.status, 400)
        let badSeed = try fetch(port, "POST", "/v1/samples", body: jsonBody(["seeds": [1, "a"]]))
        XCTAssertEqual(badSeed.status, 400)
        XCTAssertEqual(try badSeed.json()["field"] as? String, "seeds")
        let badFormat = try fetch(port, "POST", "/v1/samples",
                                  body: jsonBody(["seeds": [1], "format": "zip"]))
        XCTAssertEqual(try badFormat.json()["field"] as? String, "format")
    }

    // MARK: Interpolation

    func testInterpolationEndsAtTheTwoSeeds() throws {
        let response = try fetch(port, "/v1/interpolate?from=3&to=4&steps=5&format=tar")
        XCTAssertEqual(response.status, 200, response.text)
        let files = untar(response.body)
        XCTAssertEqual(files.count, 5)
        XCTAssertEqual(response.header("X-Seed"), "3")
        XCTAssertEqual(files.first?.0, "step-0.binvox")
        XCTAssertEqual(files.first?.1, try fetch(port, "/v1/sample?seed=3").body)
        XCTAssertEqual(files.last?.1, try fetch(port, "/v1/sample?seed=4").body)

        let sheet = try fetch(port, "/v1/interpolate?from=3&to=4&steps=4&size=32")
        XCTAssertEqual(sheet.status, 200, sheet.text)
        XCTAssertEqual(sheet.header("Content-Type"), "image/png")
        XCTAssertEqual(try fetch(port, "/v1/interpolate?from=3&to=4&steps=1").status, 400)
        XCTAssertEqual(try fetch(port, "/v1/interpolate?from=3").status, 400)
    }

    // MARK: Conversion

    func testConvertUsersBinvox() throws {
        let original = try fetch(port, "/v1/sample?seed=21").body
        let same = try fetch(port, "POST", "/v1/convert?format=binvox", body: original)
        XCTAssertEqual(same.status, 200, same.text)
        XCTAssertEqual(try Binvox.decode(same.body, name: "converted").words,
                       try Binvox.decode(original, name: "original").words)
        let mesh = try fetch(port, "POST", "/v1/convert?format=stl&mesh=cubes", body: original)
        XCTAssertEqual(mesh.status, 200, mesh.text)
        XCTAssertEqual(mesh.header("Content-Type"), "model/stl")
        let picture = try fetch(port, "POST", "/v1/convert?format=png&size=48", body: original)
        XCTAssertEqual(picture.status, 200, picture.text)
        let npy = try fetch(port, "POST", "/v1/convert?format=npy", body: original)
        XCTAssertEqual(npy.status, 200, npy.text)
    }

    func testConvertErrors() throws {
        let malformed = try fetch(port, "POST", "/v1/convert?format=obj",
                                  body: Array("#binvox 1\ndim 4 4 4\ndata\n".utf8) + [1])
        XCTAssertEqual(malformed.status, 400)
        XCTAssertEqual(try malformed.json()["field"] as? String, "body")
        XCTAssertTrue((try malformed.json()["error"] as? String ?? "").contains("binvox"))
        let garbage = try fetch(port, "POST", "/v1/convert?format=obj", body: Array("hello".utf8))
        XCTAssertEqual(garbage.status, 400)

        let original = try fetch(port, "/v1/sample?seed=21").body
        let noFormat = try fetch(port, "POST", "/v1/convert", body: original)
        XCTAssertEqual(try noFormat.json()["field"] as? String, "format")
        let threshold = try fetch(port, "POST", "/v1/convert?format=obj&threshold=0.3",
                                  body: original)
        XCTAssertEqual(try threshold.json()["field"] as? String, "threshold")
        XCTAssertEqual(try fetch(port, "POST", "/v1/convert?format=obj").status, 400)

        let huge = Array("#binvox 1\ndim 1024 1024 1024\ntranslate 0 0 0\nscale 1\ndata\n".utf8)
            + [0, 255]
        XCTAssertEqual(try fetch(port, "POST", "/v1/convert?format=obj", body: huge).status, 413)

        // A small body can describe a huge surface: in a 128³ grid, every other x-plane full
        // (64 planes × 2 × 128² ≈ 2.1 million exposed faces, in 17 kB) is refused before meshing.
        var stripes = Array("#binvox 1\ndim 128 128 128\ndata\n".utf8)
        for x in 0..<128 {
            stripes += Array(repeating: [UInt8(x % 2), 255], count: 64).flatMap { $0 }
            stripes += [UInt8(x % 2), 64]
        }
        let surface = try fetch(port, "POST", "/v1/convert?format=obj", body: stripes)
        XCTAssertEqual(surface.status, 413, surface.text)
        XCTAssertTrue((try surface.json()["error"] as? String ?? "").contains("faces"))
    }

    func testInterpolationSheetSizeIsBounded() throws {
        let big = try fetch(port, "/v1/interpolate?from=3&to=4&steps=32&size=2048&columns=32")
        XCTAssertEqual(big.status, 413, big.text)
        XCTAssertEqual(try big.json()["field"] as? String, "size")
    }

    func testBodyOverTheCapIs413WithoutReadingIt() throws {
        let connection = try RawConnection(port: port)
        try connection.send("POST /v1/convert?format=obj HTTP/1.1\r\nHost: x\r\n"
                            + "Content-Length: 100000000\r\n\r\n")
        let response = try connection.readResponse()
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(try response.json()["field"] as? String, "body")
    }

    func testAmbiguousFramingIsRefused() throws {
        // Two parsers could split these differently (request smuggling): refused before any
        // body byte is read, and the connection is closed.
        for framing in ["Content-Length: 5\r\nContent-Length: 6",
                        "Content-Length: 5\r\nTransfer-Encoding: chunked"] {
            let connection = try RawConnection(port: port)
            try connection.send("POST /v1/convert?format=obj HTTP/1.1\r\nHost: x\r\n"
                                + framing + "\r\n\r\nhello!")
            let response = try connection.readResponse()
            XCTAssertEqual(response.status, 400, framing)
            XCTAssertEqual(try response.json()["field"] as? String, "content-length", framing)
            XCTAssertTrue(connection.isClosedByPeer(), framing)
        }
        // A coding MHD cannot frame: 501 at once rather than a wait for the timeout.
        for coding in ["gzip", "gzip, chunked"] {
            let connection = try RawConnection(port: port, receiveTimeout: 5)
            try connection.send("POST /v1/sample HTTP/1.1\r\nHost: x\r\n"
                                + "Transfer-Encoding: \(coding)\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
            let response = try connection.readResponse()
            XCTAssertEqual(response.status, 501, coding)
            XCTAssertEqual(try response.json()["field"] as? String, "transfer-encoding")
        }

        // HTTP/1.1 without Host (RFC 9112 §3.2); HTTP/1.0 needs none.
        let hostless = try RawConnection(port: port)
        try hostless.send("GET /healthz HTTP/1.1\r\n\r\n")
        let refused = try hostless.readResponse()
        XCTAssertEqual(refused.status, 400)
        XCTAssertEqual(try refused.json()["field"] as? String, "host")
        let old = try RawConnection(port: port)
        try old.send("GET /healthz HTTP/1.0\r\n\r\n")
        XCTAssertEqual(try old.readResponse().status, 200)

        // A list in one field is not a number to MHD, which answers 400 itself (HTML).
        let connection = try RawConnection(port: port)
        try connection.send("POST /v1/convert?format=obj HTTP/1.1\r\nHost: x\r\n"
                            + "Content-Length: 5, 5\r\n\r\nhello")
        XCTAssertEqual(try connection.readResponse().status, 400)
    }

    func testManyOrLongQueryParametersGetAJSONAnswer() throws {
        // MHD 0.9.75 would keep one record per parameter in the connection's 64 kB pool and,
        // once it ran out (about 900 parameters), hang the connection without answering.
        for count in [65, 1000, 5000] {
            let query = (0..<count).map { "p\($0)=\($0)" }.joined(separator: "&")
            let response = try fetch(port, "/v1/sample?" + query)
            XCTAssertEqual(response.status, 400, "\(count) parameters")
            XCTAssertEqual(try response.json()["field"] as? String, "query")
            XCTAssertTrue((try response.json()["error"] as? String ?? "").contains("\(count)"))
        }
        let query = (0..<100).map { "p\($0)" }.joined(separator: "&")
        let withBody = try fetch(port, "POST", "/v1/convert?" + query,
                                 body: [UInt8](repeating: 1, count: 5000))
        XCTAssertEqual(try withBody.json()["field"] as? String, "query")
        let long = try fetch(port, "/v1/sample?seed=1&note=" + String(repeating: "a",
                                                                          count: 40_000))
        XCTAssertEqual(long.status, 400)
        XCTAssertEqual(try long.json()["field"] as? String, "note")

        // Decoded as MHD decodes: + is a space, %HH a byte, %00 left as it is.
        let decoded = try fetch(port, "/v1/z?seed=%34%32")
        XCTAssertEqual(decoded.header("X-Seed"), "42")
        let plus = try fetch(port, "/v1/z?seed=4+2")
        XCTAssertEqual(try plus.json()["field"] as? String, "seed")
        XCTAssertTrue((try plus.json()["error"] as? String ?? "").contains("'4 2'"))

        // Beyond the connection's memory, MHD answers itself: a status line, then close.
        let huge = try fetch(port, "/v1/sample?seed=1&note=" + String(repeating: "a",
                                                                          count: 200_000))
        XCTAssertEqual(huge.status, 414)
        XCTAssertEqual(try fetch(port, "/healthz").status, 200)
    }

    // MARK: Errors, health, metrics

    func testWrongMethodUnknownPathAndUnknownParameters() throws {
        let wrong = try fetch(port, "DELETE", "/v1/sample")
        XCTAssertEqual(wrong.status, 405)
        XCTAssertEqual(wrong.header("Allow"), "GET, HEAD, POST")
        XCTAssertEqual(try fetch(port, "POST", "/v1/model").header("Allow"), "GET, HEAD")

        let unknown = try fetch(port, "/v2/chairs")
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(unknown.header("Content-Type"), "application/json")
        XCTAssertNotNil(try unknown.json()["error"])

        for (target, field) in [
            ("/v1/sample?seed=1&colour=red", "colour"),
            ("/v1/sample?seed=1&threshold=x", "threshold"),
            ("/v1/sample?seed=1&format=gif", "format"),
            ("/v1/sample?seed=1&mesh=spiky", "mesh"),
            ("/v1/sample?seed=1&largest_component=yes", "largest_component"),
            ("/v1/sample?seed=1&size=5", "size"),
            ("/v1/sample?seed=1&elevation=100", "elevation"),
            ("/v1/sample?seed=1&seed=2", "seed"),
            ("/v1/sample?seed=1%00", "seed"),
            ("/healthz?verbose=1", "verbose"),
        ] {
            let response = try fetch(port, target)
            XCTAssertEqual(response.status, 400, target)
            XCTAssertEqual(try response.json()["field"] as? String, field, target)
        }
        let head = try fetch(port, "HEAD", "/v1/sample?seed=1")
        XCTAssertEqual(head.status, 200)
        XCTAssertTrue(head.body.isEmpty)
    }

    func testHealthReadinessAndMetrics() throws {
        XCTAssertEqual(try fetch(port, "/healthz").status, 200)
        XCTAssertEqual(try fetch(port, "/readyz").status, 200)
        _ = try fetch(port, "/v1/sample?seed=1")
        _ = try fetch(port, "/v1/nothing")
        let metrics = try fetch(port, "/metrics")
        XCTAssertEqual(metrics.status, 200)
        XCTAssertTrue(metrics.header("Content-Type")?.hasPrefix("text/plain") ?? false)
        for name in [
            "voxgan_http_requests_total{route=\"/v1/sample\",method=\"GET\",status=\"200\"} 1",
            "voxgan_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1",
            "voxgan_http_request_duration_seconds_bucket{route=\"/v1/sample\",le=\"+Inf\"} 1",
            "voxgan_inference_queue_depth 0", "voxgan_inference_batch_size_bucket",
            "voxgan_inference_seconds_count", "voxgan_samples_generated_total",
            "voxgan_build_info{", "voxgan_cache_requests_total{result=\"miss\"}",
        ] {
            XCTAssertTrue(metrics.text.contains(name), "missing \(name) in\n\(metrics.text)")
        }

        // Not warmed up: alive, not ready.
        var configuration = ServerConfiguration()
        configuration.http.port = 0
        configuration.accessLog = .off
        let cold = try VoxganServer(model: SyntheticChairModel(resolution: 8),
                                    configuration: configuration)
        try cold.listen()
        defer { cold.stop() }
        XCTAssertEqual(try fetch(cold.port, "/healthz").status, 200)
        let notReady = try fetch(cold.port, "/readyz")
        XCTAssertEqual(notReady.status, 503)
        XCTAssertNotNil(notReady.header("Retry-After"))
    }
}
