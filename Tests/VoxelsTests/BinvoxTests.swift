// The binvox codec: the spec's test vectors, every real file, round trips, and each kind of
// malformed input.
import Foundation
import Voxels
import XCTest

final class BinvoxTests: XCTestCase {

    static let header2 = Array("#binvox 1\ndim 2 2 2\ntranslate 0 0 0\nscale 1\ndata\n".utf8)

    /// The payload (bytes after the header) of an encoded grid.
    func payload(_ bytes: [UInt8]) -> [UInt8] {
        let marker = Array("data\n".utf8)
        let start = (0...(bytes.count - marker.count)).first {
            Array(bytes[$0..<($0 + marker.count)]) == marker
        }!
        return Array(bytes[(start + marker.count)...])
    }

    func decode(_ text: String, _ payload: [UInt8]) throws -> VoxelGrid {
        try Binvox.decode(Array(text.utf8) + payload, name: "test.binvox")
    }

    /// Asserts `body` throws a `BinvoxError` whose message contains every one of `parts`.
    func assertError(_ parts: [String], file: StaticString = #filePath, line: UInt = #line,
                     _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let error = error as? BinvoxError else {
                return XCTFail("not a BinvoxError: \(error)", file: file, line: line)
            }
            for part in parts {
                XCTAssertTrue(error.description.contains(part),
                              "'\(error.description)' lacks '\(part)'", file: file, line: line)
            }
        }
    }

    // MARK: - Spec vectors

    func testSingleVoxelAt110() throws {
        var grid = VoxelGrid(resolution: 2)
        grid[1, 1, 0] = true
        let bytes = Binvox.encode(grid)
        XCTAssertEqual(bytes, Self.header2 + [0x00, 0x05, 0x01, 0x01, 0x00, 0x02])
        XCTAssertEqual(try Binvox.decode(bytes), grid)
    }

    func testSingleVoxelAt001() throws {
        var grid = VoxelGrid(resolution: 2)
        grid[0, 0, 1] = true
        let bytes = Binvox.encode(grid)
        XCTAssertEqual(payload(bytes), [0x00, 0x02, 0x01, 0x01, 0x00, 0x05])
        let decoded = try Binvox.decode(bytes)
        XCTAssertTrue(decoded[0, 0, 1])
        XCTAssertEqual(decoded.occupiedCount, 1)
    }

    func testRunsLongerThan255AreSplit() throws {
        var grid = VoxelGrid(resolution: 8)
        for index in 0..<255 { grid.setBit(atStreamIndex: index, true) }
        XCTAssertEqual(payload(Binvox.encode(grid)), [0x01, 0xFF, 0x00, 0xFF, 0x00, 0x02])
        XCTAssertEqual(try Binvox.decode(Binvox.encode(grid)), grid)
    }

    func testEmpty64CubeIs2110Bytes() throws {
        let bytes = Binvox.encode(VoxelGrid(resolution: 64))
        let header = "#binvox 1\ndim 64 64 64\ntranslate 0 0 0\nscale 1\ndata\n"
        XCTAssertEqual(bytes.count, 2_110)
        XCTAssertEqual(Array(bytes.prefix(header.utf8.count)), Array(header.utf8))
        XCTAssertEqual(try Binvox.decode(bytes).occupiedCount, 0)
    }

    func testDimLineIsXThenZThenY() throws {
        // dim 1 2 3: x extent 1, z extent 2, y extent 3; stream index (x·nz + z)·ny + y.
        let grid = try decode("#binvox 2\ndim 1 2 3\ndata\n", [0, 4, 1, 1, 0, 1])
        XCTAssertEqual(grid.dimensions, SIMD3(1, 3, 2))
        XCTAssertTrue(grid[0, 1, 1])
        XCTAssertEqual(grid.occupiedCount, 1)
    }

    // MARK: - Real files

    func testSampleFilesReadAndRewriteToIdenticalBytes() throws {
        let samples = try TestData.samples()
        XCTAssertEqual(samples.count, 8)
        for path in samples {
            let bytes = try TestData.bytes(path)
            let grid = try Binvox.decode(bytes, name: path)
            XCTAssertTrue(grid.isCubic, path)
            XCTAssertGreaterThan(grid.occupiedCount, 0, path)
            XCTAssertEqual(try Binvox.decode(Binvox.encode(grid)), grid, path)
            // Every file in the data set is canonical (checked when it was assembled).
            XCTAssertEqual(Binvox.encode(grid), bytes, path)
        }
    }

    func testSampleContentsMatchAnIndependentDecoder() throws {
        // Counts and bounding box computed from the raw bytes by a separate Python script.
        let grid = try Binvox.read(path: try TestData.sample("mn10_chair_train_0002"))
        XCTAssertEqual(grid.dimensions, SIMD3(32, 32, 32))
        XCTAssertEqual(grid.occupiedCount, 1_814)
        let box = try XCTUnwrap(grid.boundingBox)
        XCTAssertEqual(box.min, SIMD3(4, 0, 5))
        XCTAssertEqual(box.max, SIMD3(27, 31, 26))

        let shapenet = try Binvox.read(path: try TestData.sample("shapenet_64__18e5d305"))
        XCTAssertEqual(shapenet.occupiedCount, 4_794)
        XCTAssertEqual(shapenet.translate, SIMD3(-0.267709, -0.220849, -0.35564))
        XCTAssertEqual(shapenet.scale, 0.647487)
        XCTAssertEqual(shapenet.boundingBox?.min, SIMD3(15, 3, 20))
        XCTAssertEqual(shapenet.boundingBox?.max, SIMD3(48, 63, 52))
    }

    func testEveryDataFileReadsAndMatchesTheManifest() throws {
        let root = try TestData.root()
        let manifest = try String(contentsOfFile: root + "/MANIFEST.tsv", encoding: .utf8)
        let rows = manifest.split(separator: "\n").map { $0.components(separatedBy: "\t") }
        let columns = rows[0]
        let file = try XCTUnwrap(columns.firstIndex(of: "file"))
        let dim = try XCTUnwrap(columns.firstIndex(of: "dim"))
        let occupied = try XCTUnwrap(columns.firstIndex(of: "occupied"))
        var expected: [String: (dim: String, occupied: Int)] = [:]
        for row in rows.dropFirst() { expected[row[file]] = (row[dim], Int(row[occupied])!) }

        var count = 0
        let walker = FileManager.default.enumerator(atPath: root)
        while let item = walker?.nextObject() as? String {
            guard item.hasSuffix(".binvox") else { continue }
            let bytes = try TestData.bytes(root + "/" + item)
            let grid = try Binvox.decode(bytes, name: item)
            XCTAssertEqual(Binvox.encode(grid), bytes, item)
            if let row = expected[item] {
                XCTAssertEqual("\(grid.nx)x\(grid.ny)x\(grid.nz)", row.dim, item)
                XCTAssertEqual(grid.occupiedCount, row.occupied, item)
            }
            count += 1
        }
        XCTAssertEqual(count, 1_922)
        XCTAssertEqual(expected.count, 1_922)
    }

    func testFileRoundTripThroughDisk() throws {
        let folder = try TestData.temporaryFolder(self)
        let grid = try Binvox.read(path: try TestData.sample("shapenet_128"))
        try Binvox.write(grid, to: folder + "/chair.binvox")
        XCTAssertEqual(try Binvox.read(path: folder + "/chair.binvox"), grid)
    }

    // MARK: - Tolerated variations

    func testCRLFCommentsAndAnyKeywordOrder() throws {
        let text = "#binvox 1\r\n# generated by binvox 1.38 (made up)\r\nscale 0.5\r\n"
            + "translate\t-1 2.25  3\r\ndim 2 2 2\r\nfrobnicate 7\r\nrésolution 2\r\ndata\r\n"
        let grid = try decode(text, [0x00, 0x05, 0x01, 0x01, 0x00, 0x02])
        XCTAssertTrue(grid[1, 1, 0])
        XCTAssertEqual(grid.occupiedCount, 1)
        XCTAssertEqual(grid.translate, SIMD3(-1, 2.25, 3))
        XCTAssertEqual(grid.scale, 0.5)
    }

    func testTranslateAndScaleAreOptional() throws {
        let grid = try decode("#binvox 1\ndim 2 2 2\ndata\n", [0x00, 0x08])
        XCTAssertEqual(grid.translate, .zero)
        XCTAssertEqual(grid.scale, 1)
    }

    func testZeroCountPairsAddNothing() throws {
        let grid = try decode("#binvox 1\ndim 2 2 2\ndata\n",
                              [0x00, 0x00, 0x00, 0x05, 0x01, 0x00, 0x01, 0x01, 0x00, 0x02,
                               0x00, 0x00])
        XCTAssertEqual(grid.occupiedCount, 1)
        XCTAssertTrue(grid[1, 1, 0])
        XCTAssertEqual(payload(Binvox.encode(grid)), [0x00, 0x05, 0x01, 0x01, 0x00, 0x02])
    }

    func testVersion2ValuesAnyNonZeroIsOccupied() throws {
        let grid = try decode("#binvox 2\ndim 2 2 2\ndata\n",
                              [0x00, 0x02, 0x80, 0x01, 0xFF, 0x01, 0x00, 0x04])
        XCTAssertEqual(grid.occupiedCount, 2)
        XCTAssertTrue(grid.bit(atStreamIndex: 2))
        XCTAssertTrue(grid.bit(atStreamIndex: 3))
        XCTAssertEqual(Array(Binvox.encode(grid).prefix(9)), Array("#binvox 1".utf8))
    }

    // MARK: - Writer

    func testHeaderNumbersAreCanonical() throws {
        var grid = VoxelGrid(nx: 2, ny: 2, nz: 2, translate: SIMD3(-0.237974, 0.5, 12),
                             scale: 0.742852)
        grid[0, 0, 0] = true
        let text = String(decoding: Binvox.encode(grid).prefix(67), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("#binvox 1\ndim 2 2 2\ntranslate -0.237974 0.5 12\n"
                                     + "scale 0.742852\ndata\n"), text)
        XCTAssertEqual(try Binvox.decode(Binvox.encode(grid)), grid)
    }

    func testNonCubicGridIsWrittenAsACubeKeepingThePitch() throws {
        var grid = VoxelGrid(nx: 4, ny: 2, nz: 3, translate: SIMD3(1, 2, 3), scale: 2)
        grid[3, 1, 2] = true
        grid[0, 0, 0] = true
        let decoded = try Binvox.decode(Binvox.encode(grid))
        XCTAssertEqual(decoded.dimensions, SIMD3(4, 4, 4))
        XCTAssertEqual(decoded.occupiedCount, 2)
        XCTAssertTrue(decoded[3, 1, 2])
        XCTAssertEqual(decoded.centre(3, 1, 2), grid.centre(3, 1, 2))
        XCTAssertEqual(decoded.pitch, grid.pitch)
    }

    func testNeverWritesZeroCountsAndRunsStayWithinLimits() throws {
        let grid = try Binvox.read(path: try TestData.sample("shapenet_128"))
        let body = payload(Binvox.encode(grid))
        var total = 0
        for i in stride(from: 0, to: body.count, by: 2) {
            XCTAssertTrue(body[i] <= 1)
            XCTAssertGreaterThan(body[i + 1], 0)
            total += Int(body[i + 1])
        }
        XCTAssertEqual(total, 128 * 128 * 128)
    }

    // MARK: - Errors

    func testTruncatedPayload() throws {
        let bytes = try TestData.bytes(try TestData.sample("mn10_chair_train_0002"))
        assertError(["cut.binvox", "byte \(bytes.count - 2)", "32768 voxels", "end of input"]) {
            _ = try Binvox.decode(Array(bytes.dropLast(2)), name: "cut.binvox")
        }
        assertError(["cut.binvox", "stray byte"]) {
            _ = try Binvox.decode(bytes + [0x00], name: "cut.binvox")
        }
    }

    func testPayloadFarTooShortIsRejectedBeforeAllocating() {
        assertError(["test.binvox", "1000000000 voxels", "6-byte payload"]) {
            _ = try decode("#binvox 1\ndim 1000 1000 1000\ndata\n", [0, 255, 0, 255, 0, 255])
        }
    }

    func testOverlongPayload() {
        assertError(["test.binvox", "byte 27", "8 voxels", "run of 1 after 8"]) {
            _ = try decode("#binvox 1\ndim 2 2 2\ndata\n", [0x00, 0x08, 0x00, 0x01])
        }
    }

    func testWrongCounts() {
        assertError(["byte 27", "8 voxels", "run of 7 after 5"]) {
            _ = try decode("#binvox 1\ndim 2 2 2\ndata\n", [0x00, 0x05, 0x01, 0x07])
        }
        assertError(["8 voxels", "after 6 voxels"]) {
            _ = try decode("#binvox 1\ndim 2 2 2\ndata\n", [0x00, 0x05, 0x01, 0x01, 0x00, 0x00])
        }
    }

    func testBadValueInVersion1() {
        assertError(["byte 27", "0 or 1", "value 2"]) {
            _ = try decode("#binvox 1\ndim 2 2 2\ndata\n", [0x00, 0x05, 0x02, 0x01, 0x00, 0x02])
        }
    }

    func testBadHeaders() {
        assertError(["byte 0", "'#binvox'", "'#binvax'"]) {
            _ = try decode("#binvax 1\ndim 2 2 2\ndata\n", [0, 8])
        }
        assertError(["empty file"]) { _ = try Binvox.decode([]) }
        assertError(["version 1 or 2", "found 3"]) {
            _ = try decode("#binvox 3\ndim 2 2 2\ndata\n", [0, 8])
        }
        assertError(["whole number after 'dim'", "'2.5'"]) {
            _ = try decode("#binvox 1\ndim 2 2.5 2\ndata\n", [0, 8])
        }
        assertError(["finite number after 'scale'", "'abc'"]) {
            _ = try decode("#binvox 1\ndim 2 2 2\nscale abc\ndata\n", [0, 8])
        }
        assertError(["'dim' line before 'data'"]) {
            _ = try decode("#binvox 1\ntranslate 0 0 0\ndata\n", [0, 8])
        }
        assertError(["line feed ending the 'data' line", "0x78"]) {
            _ = try decode("#binvox 1\ndim 2 2 2\ndata x\n", [0, 8])
        }
        assertError(["binary bytes 00 08"]) {  // a payload where the header should go on
            _ = try decode("#binvox 1\ndim 2 2 2\n", [0, 8])
        }
    }

    func testScaleMustBePositiveAndPlacementFinite() {
        // binvox's scale is the length of the longest side: 0 collapses the model, a negative
        // one mirrors it; translate and scale must be numbers (no nan, inf or overflow).
        for scale in ["0", "-1", "-0.5", "0e5", "-0"] {
            assertError(["test.binvox", "positive number after 'scale'", "'\(scale)'"]) {
                _ = try decode("#binvox 1\ndim 2 2 2\nscale \(scale)\ndata\n", [0, 8])
            }
        }
        for scale in ["nan", "inf", "-inf", "1e999"] {
            assertError(["finite number after 'scale'", "'\(scale)'"]) {
                _ = try decode("#binvox 1\ndim 2 2 2\nscale \(scale)\ndata\n", [0, 8])
            }
        }
        for translate in ["nan 0 0", "0 inf 0", "0 0 -1e400"] {
            assertError(["finite number after 'translate'"]) {
                _ = try decode("#binvox 1\ndim 2 2 2\ntranslate \(translate)\ndata\n", [0, 8])
            }
        }
        let tiny = try? decode("#binvox 1\ndim 2 2 2\nscale 1e-300\ndata\n", [0, 8])
        XCTAssertEqual(tiny?.scale, 1e-300)
    }

    func testMissingDataLine() {
        assertError(["test.binvox", "'data' line", "end of input"]) {
            _ = try decode("#binvox 1\ndim 2 2 2\ntranslate 0 0 0\nscale 1\n", [])
        }
    }

    func testBadDimensions() {
        for dims in ["0 2 2", "2 -1 2", "2 2 0", "100000 100000 100000", "1025 1 1"] {
            assertError(["test.binvox", "dim extents from 1 to 1024", "dim \(dims)"]) {
                _ = try decode("#binvox 1\ndim \(dims)\ndata\n", [0, 8])
            }
        }
        assertError(["whole number after 'dim'", "'99999999999999999999'"]) {
            _ = try decode("#binvox 1\ndim 99999999999999999999 2 2\ndata\n", [0, 8])
        }
    }

    func testUnreadableFileNamesThePath() {
        assertError(["/nonexistent/chair.binvox", "readable file", "No such file"]) {
            _ = try Binvox.read(path: "/nonexistent/chair.binvox")
        }
    }
}
