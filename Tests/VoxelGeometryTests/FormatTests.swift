// OBJ and STL bytes: reload to the same triangles, locale-free numbers, exact layouts.
import Foundation
import VoxelGeometry
import Voxels
import XCTest

final class FormatTests: XCTestCase {

    func testOBJReloadsToTheSameTriangles() throws {
        var shape = randomGrid(6, density: 0.4, seed: 7)
        shape.translate = SIMD3(-0.35, 0.125, 2)
        shape.scale = 0.7
        for mesh in [VoxelMesher.cubes(shape), VoxelMesher.smooth(shape),
                     VoxelMesher.cubes(shape, mergeCoplanar: true)] {
            for normals in [false, true] {
                let bytes = OBJWriter.encode(mesh, normals: normals, comment: "random grid")
                let reloaded = try OBJReader.decode(bytes)
                XCTAssertEqual(reloaded.triangles, mesh.triangles)
                XCTAssertEqual(reloaded.vertices.count, mesh.vertices.count)
                for (a, b) in zip(reloaded.vertices, mesh.vertices) {
                    let difference = a - b
                    XCTAssertLessThanOrEqual(
                        max(abs(difference.x), abs(difference.y), abs(difference.z)), 1e-6)
                }
            }
        }
    }

    func testOBJLayout() throws {
        let mesh = VoxelMesher.cubes(grid(2, 2, 2, [(1, 1, 1)]))
        let text = String(decoding: OBJWriter.encode(mesh, comment: "one voxel\nsecond line"),
                          as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.first, "# one voxel second line")
        XCTAssertEqual(lines.filter { $0.hasPrefix("v ") }.count, 8)
        XCTAssertEqual(lines.filter { $0.hasPrefix("f ") }.count, 12)
        XCTAssertFalse(text.contains("vn"), "normals written though not asked for")
        XCTAssertFalse(lines.contains { !$0.hasPrefix("#") && $0.contains(",") },
                       "a locale's decimal comma leaked in")
        XCTAssertTrue(lines.contains("v 0.5 0.5 0.5"), "lattice point 1 of 2 is at 0.5")
        XCTAssertEqual(lines.last, "", "file ends with a newline")
        XCTAssertFalse(lines.dropLast().contains(where: \.isEmpty), "empty line")
        // 1-based: every index in 1...8.
        for line in lines where line.hasPrefix("f ") {
            for word in line.split(separator: " ").dropFirst() {
                XCTAssertTrue((1...8).contains(Int(word) ?? 0), String(line))
            }
        }

        let withNormals = String(decoding: OBJWriter.encode(mesh, normals: true, comment: "x"),
                                 as: UTF8.self)
        let normalLines = withNormals.split(separator: "\n").filter { $0.hasPrefix("vn ") }
        XCTAssertEqual(normalLines.count, 8)
        let face = try XCTUnwrap(withNormals.split(separator: "\n").first { $0.hasPrefix("f ") })
        for word in face.split(separator: " ").dropFirst() {
            let parts = word.split(separator: "/", omittingEmptySubsequences: false)
            XCTAssertEqual(parts.count, 3, String(face))
            XCTAssertEqual(parts[0], parts[2], "normal index differs from vertex index")
            XCTAssertEqual(parts[1], "")
        }
        // Normals point out of the voxel: the corner at (1, 1, 1) of lattice units, 1 of 2.
        let reloaded = try OBJReader.decode(Array(withNormals.utf8))
        XCTAssertEqual(reloaded.triangles, mesh.triangles)
    }

    func testNumbersAreFormattedExactlyAndWithoutExponent() throws {
        let values: [Float] = [0, -0, 1, -1, 0.5, 0.015625, 0.0078125, 1e-8, -3.25, 123456.5,
                               0.1, 2.0 / 3.0, 1e12]
        let mesh = TriangleMesh(vertices: values.map { SIMD3($0, -$0, 1) }, triangles: [])
        let text = String(decoding: OBJWriter.encode(mesh, comment: ""), as: UTF8.self)
        let xs = text.split(separator: "\n").filter { $0.hasPrefix("v ") }
            .map { String($0.split(separator: " ")[1]) }
        XCTAssertEqual(Array(xs.prefix(12)), ["0", "0", "1", "-1", "0.5", "0.015625",
                                              "0.0078125", "0", "-3.25", "123456.5", "0.1",
                                              "0.6666667"])
        XCTAssertEqual(Float(xs[12]), 1e12)
    }

    func testSTLLayout() {
        let mesh = VoxelMesher.cubes(grid(1, 1, 1, [(0, 0, 0)]))
        let bytes = STLWriter.encode(mesh, name: "cube")
        XCTAssertEqual(bytes.count, 84 + 50 * 12)
        XCTAssertFalse(bytes.starts(with: Array("solid".utf8)))
        XCTAssertTrue(String(decoding: bytes.prefix(80), as: UTF8.self).contains("cube"))
        let count = bytes[80..<84].enumerated()
            .reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(count, 12)

        // First triangle: normal, then the mesh's three vertices, little-endian float32.
        func float(_ offset: Int) -> Float {
            Float(bitPattern: bytes[offset..<(offset + 4)].enumerated()
                .reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) })
        }
        let normal = SIMD3(float(84), float(88), float(92))
        XCTAssertEqual((normal * normal).sum(), 1, accuracy: 1e-6)
        let first = mesh.vertices[Int(mesh.triangles[0].x)]
        XCTAssertEqual(SIMD3(float(96), float(100), float(104)), first)
        XCTAssertEqual(bytes[132], 0)
        XCTAssertEqual(bytes[133], 0)

        XCTAssertEqual(STLWriter.encode(TriangleMesh(), name: "empty").count, 84)
    }

    func testOBJReaderReportsTheLine() {
        XCTAssertThrowsError(try OBJReader.decode(Array("v 0 0 0\nf 1 2 3\n".utf8))) { error in
            XCTAssertTrue("\(error)".contains("line 2"), "\(error)")
        }
    }
}
