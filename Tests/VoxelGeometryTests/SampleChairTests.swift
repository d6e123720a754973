// The real chairs of ../shared/data/sample: every mesh mode closed, topology agreeing across
// modes, OBJ round trips, pictures drawn.
import Foundation
import VoxelGeometry
import Voxels
import XCTest

/// The chair data beside the checkout, found by walking up from this file to Package.swift.
enum SampleChairs {

    struct MissingData: Error, CustomStringConvertible { let description: String }

    static func paths(file: StaticString = #filePath) throws -> [String] {
        var folder = URL(fileURLWithPath: "\(file)").deletingLastPathComponent()
        while folder.path != "/", !FileManager.default.fileExists(
            atPath: folder.appendingPathComponent("Package.swift").path) {
            folder.deleteLastPathComponent()
        }
        let sample = folder.deletingLastPathComponent()
            .appendingPathComponent("shared/data/sample").standardizedFileURL.path
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: sample) else {
            throw MissingData(description: "chair samples not found at \(sample): the "
                              + "VoxelGeometry tests need ../shared/data beside the checkout")
        }
        return names.filter { $0.hasSuffix(".binvox") }.sorted().map { sample + "/" + $0 }
    }
}

final class SampleChairTests: XCTestCase {

    func testEveryMeshOfEverySampleChairIsClosedAndModesAgree() throws {
        let paths = try SampleChairs.paths()
        XCTAssertEqual(paths.count, 8)
        for path in paths {
            let grid = try Binvox.read(path: path)
            let name = (path as NSString).lastPathComponent
            let d = Double(max(grid.nx, grid.ny, grid.nz))
            let voxel = grid.scale / d
            let volume = Double(grid.occupiedCount) * voxel * voxel * voxel

            let cubes = VoxelMesher.cubes(grid)
            let merged = VoxelMesher.cubes(grid, mergeCoplanar: true)
            let smooth = VoxelMesher.smooth(grid)
            assertClosedSurface(cubes, volume: volume, "cubes \(name)", tolerance: 1e-3)
            assertClosedSurface(merged, volume: volume, "merged \(name)", tolerance: 1e-3)
            assertClosedSurface(smooth, volume: nil, "smooth \(name)")
            XCTAssertEqual(cubes.eulerCharacteristic, smooth.eulerCharacteristic, name)
            XCTAssertEqual(merged.eulerCharacteristic, cubes.eulerCharacteristic, name)
            XCTAssertLessThan(merged.triangles.count, cubes.triangles.count, name)

            // Marching cubes from the grid and from the same 0/1 values as probabilities.
            let values = grid.bytesXYZ().map(Float.init)
            let fromValues = values.withUnsafeBufferPointer {
                VoxelMesher.smooth(probabilities: $0, nx: grid.nx, ny: grid.ny, nz: grid.nz,
                                   translate: grid.translate, scale: grid.scale)
            }
            XCTAssertEqual(fromValues.triangles.count, smooth.triangles.count, name)
            XCTAssertEqual(fromValues.eulerCharacteristic, smooth.eulerCharacteristic, name)
        }
    }

    func testSampleChairOBJReloadsToTheSameTriangles() throws {
        for path in try SampleChairs.paths().prefix(3) {
            let grid = try Binvox.read(path: path)
            let mesh = VoxelMesher.cubes(grid)
            let reloaded = try OBJReader.decode(
                OBJWriter.encode(mesh, normals: true, comment: path))
            XCTAssertEqual(reloaded.triangles, mesh.triangles)
            XCTAssertEqual(reloaded.vertices.count, mesh.vertices.count)
            let largest = zip(reloaded.vertices, mesh.vertices).map { a, b -> Float in
                let difference = a - b
                return max(abs(difference.x), abs(difference.y), abs(difference.z))
            }.max() ?? 0
            XCTAssertLessThanOrEqual(largest, 1e-6, path)
        }
    }

    func testSampleChairsRenderOverTheBackground() throws {
        let white = SIMD4<UInt8>(255, 255, 255, 255)
        let grids = try SampleChairs.paths().map { try Binvox.read(path: $0) }
        for grid in grids {
            let image = VoxelRenderer.render(grid, options: RenderOptions(size: 96))
            let drawn = stride(from: 0, to: image.pixels.count, by: 4).filter { index in
                SIMD4(image.pixels[index], image.pixels[index + 1], image.pixels[index + 2],
                      image.pixels[index + 3]) != white
            }.count
            // A chair covers a sizeable part of its framed picture, not all of it.
            XCTAssertGreaterThan(drawn, 96 * 96 / 10)
            XCTAssertLessThan(drawn, 96 * 96 * 9 / 10)
        }
        let sheet = ImageSheet.render(grids: grids, columns: 4, cellSize: 64)
        XCTAssertEqual(sheet.width, 4 * 64 + 5 * 4)
        XCTAssertEqual(sheet.height, 2 * 64 + 3 * 4)
        XCTAssertEqual(try PNGDecoder.decode(PNGEncoder.encode(sheet)), sheet)
    }
}
