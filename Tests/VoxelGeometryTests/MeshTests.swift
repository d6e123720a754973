// Meshing: exact counts for small grids, closed and consistently wound surfaces for random
// and border-touching grids, Euler characteristics that agree between the two mesh modes.
import Foundation
import VoxelGeometry
import Voxels
import XCTest

/// A small deterministic generator (SplitMix64) so random grids are the same on every run.
struct SeededRandom {

    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

func grid(_ nx: Int, _ ny: Int, _ nz: Int, _ voxels: [(Int, Int, Int)]) -> VoxelGrid {
    var grid = VoxelGrid(nx: nx, ny: ny, nz: nz)
    for (x, y, z) in voxels { grid[x, y, z] = true }
    return grid
}

func randomGrid(_ n: Int, density: Double, seed: UInt64) -> VoxelGrid {
    var random = SeededRandom(state: seed)
    var grid = VoxelGrid(resolution: n)
    for x in 0..<n {
        for y in 0..<n {
            for z in 0..<n where random.unit() < density { grid[x, y, z] = true }
        }
    }
    return grid
}

/// Asserts the mesh is closed, consistently wound outward, a 2-manifold at its vertices, and
/// encloses `volume` (world units³) within the relative `tolerance` (vertices at diagonal
/// contacts are nudged 0.005 voxel, which changes the volume a little).
func assertClosedSurface(_ mesh: TriangleMesh, volume: Double?, _ label: String,
                         tolerance: Double = 1e-6,
                         file: StaticString = #filePath, line: UInt = #line) {
    let report = mesh.edgeReport()
    XCTAssertEqual(report.boundary, 0, "\(label): \(report)", file: file, line: line)
    XCTAssertEqual(report.nonManifold, 0, "\(label): \(report)", file: file, line: line)
    XCTAssertEqual(report.misoriented, 0, "\(label): \(report)", file: file, line: line)
    XCTAssertEqual(report.invalidTriangles, 0, "\(label): \(report)", file: file, line: line)
    XCTAssertTrue(mesh.isWatertight, label, file: file, line: line)
    XCTAssertTrue(mesh.isVertexManifold, "\(label): a vertex joins two fans", file: file,
                  line: line)
    XCTAssertEqual(mesh.eulerCharacteristic % 2, 0, "\(label): odd Euler characteristic",
                   file: file, line: line)
    if let volume {
        XCTAssertEqual(mesh.signedVolume, volume, accuracy: tolerance * max(1e-3, volume),
                       "\(label): enclosed volume", file: file, line: line)
    } else if !mesh.isEmpty {
        XCTAssertGreaterThan(mesh.signedVolume, 0, "\(label): wound inward", file: file,
                             line: line)
    }
}

final class MeshTests: XCTestCase {

    func testOneVoxelGivesEightVerticesAndTwelveTriangles() {
        let cases: [(String, VoxelGrid)] = [
            ("alone", grid(1, 1, 1, [(0, 0, 0)])),
            ("centre", grid(3, 3, 3, [(1, 1, 1)])),
            ("low corner", grid(4, 4, 4, [(0, 0, 0)])),
            ("high corner", grid(4, 4, 4, [(3, 3, 3)])),
            ("mixed corner", grid(5, 2, 3, [(4, 0, 2)])),
        ]
        for (label, grid) in cases {
            for merge in [false, true] {
                let mesh = VoxelMesher.cubes(grid, mergeCoplanar: merge)
                XCTAssertEqual(mesh.vertices.count, 8, "\(label) merge \(merge)")
                XCTAssertEqual(mesh.triangles.count, 12, "\(label) merge \(merge)")
                let d = Double(max(grid.nx, grid.ny, grid.nz))
                assertClosedSurface(mesh, volume: 1 / (d * d * d), "\(label) merge \(merge)")
                XCTAssertEqual(mesh.eulerCharacteristic, 2, label)
            }
        }
    }

    func testMergingCoplanarFacesOfABlockLeavesTwelveTriangles() {
        var block = VoxelGrid(nx: 5, ny: 3, nz: 4)
        for x in 0..<5 { for y in 0..<3 { for z in 0..<4 { block[x, y, z] = true } } }
        let merged = VoxelMesher.cubes(block, mergeCoplanar: true)
        XCTAssertEqual(merged.triangles.count, 12)
        XCTAssertEqual(merged.vertices.count, 8)
        assertClosedSurface(merged, volume: 60.0 / 125, "block")
        XCTAssertEqual(VoxelMesher.cubes(block).triangles.count, 2 * 2 * (15 + 20 + 12))

        // An L-shaped step: rectangles meet other rectangles' corners mid-side, which must
        // split those sides rather than leave T-junctions.
        var step = block
        for x in 0..<3 { for z in 0..<4 { step[x, 2, z] = false } }
        step[4, 0, 0] = false
        let mesh = VoxelMesher.cubes(step, mergeCoplanar: true)
        assertClosedSurface(mesh, volume: Double(step.occupiedCount) / 125, "step")
        XCTAssertLessThan(mesh.triangles.count, VoxelMesher.cubes(step).triangles.count / 2)
    }

    func testVerticesFollowTheBinvoxPlacement() throws {
        var voxel = grid(4, 4, 4, [(3, 0, 1)])
        voxel.translate = SIMD3(-1, 2, 0.5)
        voxel.scale = 2
        let mesh = VoxelMesher.cubes(voxel)
        let bounds = try XCTUnwrap(mesh.bounds)
        // Lattice point i is at translate + scale·i/d, d = 4.
        XCTAssertEqual(bounds.min, SIMD3<Float>(-1 + 2 * 3 / 4.0, 2, 0.5 + 2 * 1 / 4.0))
        XCTAssertEqual(bounds.max, SIMD3<Float>(-1 + 2, 2 + 0.5, 0.5 + 1))

        let smooth = VoxelMesher.smooth(voxel)
        let smoothBounds = try XCTUnwrap(smooth.bounds)
        XCTAssertEqual(smoothBounds.min.x, bounds.min.x, accuracy: 1e-6)
        XCTAssertEqual(smoothBounds.max.y, bounds.max.y, accuracy: 1e-6)
    }

    func testEmptyGridGivesEmptyMesh() {
        for grid in [VoxelGrid(resolution: 8), VoxelGrid(nx: 0, ny: 0, nz: 0)] {
            XCTAssertTrue(VoxelMesher.cubes(grid).isEmpty)
            XCTAssertTrue(VoxelMesher.cubes(grid, mergeCoplanar: true).isEmpty)
            XCTAssertTrue(VoxelMesher.smooth(grid).isEmpty)
            XCTAssertTrue(VoxelMesher.cubes(grid).isWatertight)
            XCTAssertEqual(VoxelMesher.cubes(grid).eulerCharacteristic, 0)
        }
        let zeros = [Float](repeating: 0, count: 27)
        let mesh = zeros.withUnsafeBufferPointer {
            VoxelMesher.smooth(probabilities: $0, nx: 3, ny: 3, nz: 3, translate: .zero, scale: 1)
        }
        XCTAssertTrue(mesh.isEmpty)
    }

    func testTwoVoxelsTouchingAlongAnEdgeStaySeparateSheets() {
        let pair = grid(2, 2, 1, [(0, 0, 0), (1, 1, 0)])
        let mesh = VoxelMesher.cubes(pair)
        // The two corners on the shared edge get one copy per cube: 16 vertices, 24 triangles.
        XCTAssertEqual(mesh.vertices.count, 16)
        XCTAssertEqual(mesh.triangles.count, 24)
        assertClosedSurface(mesh, volume: 2.0 / 8, "edge contact", tolerance: 0.01)
        // The copies on the shared edge are apart, each moved towards its own voxel.
        XCTAssertEqual(Set(mesh.vertices.map { [$0.x, $0.y, $0.z] }).count, 16)
        XCTAssertEqual(mesh.eulerCharacteristic, 4)
        XCTAssertEqual(VoxelMesher.smooth(pair).eulerCharacteristic, 4)
    }

    func testTwoVoxelsTouchingAtACornerStaySeparateSheets() {
        let pair = grid(2, 2, 2, [(0, 0, 0), (1, 1, 1)])
        let mesh = VoxelMesher.cubes(pair)
        XCTAssertEqual(mesh.vertices.count, 16)
        assertClosedSurface(mesh, volume: 2.0 / 8, "corner contact", tolerance: 0.01)
        XCTAssertEqual(Set(mesh.vertices.map { [$0.x, $0.y, $0.z] }).count, 16)
        XCTAssertEqual(mesh.eulerCharacteristic, 4)
    }

    func testEdgeContactJoinedAroundBothEndsIsSplit() {
        // Voxels a = (0,1,1) and c = (1,2,1) touch along a z-edge, and also meet through the
        // layers z = 0 and z = 2, so both ends of the edge have one vertex copy: the edge is
        // split at its midpoint, per sheet.
        var voxels = [(0, 1, 1), (1, 2, 1)]
        for z in [0, 2] { voxels += [(0, 1, z), (0, 2, z), (1, 2, z)] }
        let shape = grid(3, 3, 3, voxels)
        for merge in [false, true] {
            let mesh = VoxelMesher.cubes(shape, mergeCoplanar: merge)
            assertClosedSurface(mesh, volume: Double(voxels.count) / 27, "merge \(merge)",
                                tolerance: 1e-3)
            // No two vertices share a position, split copies included.
            XCTAssertEqual(Set(mesh.vertices.map { [$0.x, $0.y, $0.z] }).count,
                           mesh.vertices.count)
            XCTAssertEqual(mesh.eulerCharacteristic, VoxelMesher.smooth(shape).eulerCharacteristic)
        }
    }

    func testTorusHasEulerCharacteristicZero() {
        var voxels: [(Int, Int, Int)] = []
        for x in 0..<3 {
            for z in 0..<3 where !(x == 1 && z == 1) { voxels.append((x, 0, z)) }
        }
        let ring = grid(3, 1, 3, voxels)
        for mesh in [VoxelMesher.cubes(ring), VoxelMesher.cubes(ring, mergeCoplanar: true),
                     VoxelMesher.smooth(ring)] {
            assertClosedSurface(mesh, volume: nil, "ring")
            XCTAssertEqual(mesh.eulerCharacteristic, 0)
        }
    }

    func testRandomGridsAreClosedAndBothModesAgreeOnTopology() {
        for (index, density) in [0.1, 0.3, 0.5, 0.7, 0.9].enumerated() {
            for seed in 0..<4 {
                let grid = randomGrid(7, density: density, seed: UInt64(index * 10 + seed))
                let label = "density \(density) seed \(seed)"
                let volume = Double(grid.occupiedCount) / (7 * 7 * 7)
                let cubes = VoxelMesher.cubes(grid)
                let merged = VoxelMesher.cubes(grid, mergeCoplanar: true)
                let smooth = VoxelMesher.smooth(grid)
                assertClosedSurface(cubes, volume: volume, "cubes \(label)", tolerance: 0.01)
                assertClosedSurface(merged, volume: volume, "merged \(label)", tolerance: 0.01)
                assertClosedSurface(smooth, volume: nil, "smooth \(label)")
                // The culled-cube surface is dual to the marching-cubes one (same rules for
                // diagonal contacts), so their Euler characteristics match.
                XCTAssertEqual(cubes.eulerCharacteristic, smooth.eulerCharacteristic, label)
                XCTAssertEqual(merged.eulerCharacteristic, cubes.eulerCharacteristic, label)
            }
        }
    }

    func testMarchingCubesClosesShapesThatTouchTheBorder() {
        let full = grid(3, 4, 2, (0..<3).flatMap { x in
            (0..<4).flatMap { y in (0..<2).map { z in (x, y, z) } }
        })
        let mesh = VoxelMesher.smooth(full)
        assertClosedSurface(mesh, volume: nil, "full grid")
        XCTAssertEqual(mesh.eulerCharacteristic, 2)
        let bounds = mesh.bounds!
        // Halfway between the border voxels' centres and the padding's: the grid's faces.
        XCTAssertEqual(bounds.min, SIMD3<Float>(0, 0, 0))
        XCTAssertEqual(bounds.max.y, 1, accuracy: 1e-6)

        let border = randomGrid(6, density: 0.6, seed: 99)
        assertClosedSurface(VoxelMesher.smooth(border), volume: nil, "random border")
        assertClosedSurface(VoxelMesher.cubes(border), volume: nil, "random border cubes")
    }

    func testMarchingCubesOnAProbabilityFieldApproximatesASphere() {
        let n = 24
        var field = [Float](repeating: 0, count: n * n * n)
        for x in 0..<n {
            for y in 0..<n {
                for z in 0..<n {
                    let p = SIMD3<Float>(Float(x), Float(y), Float(z)) + 0.5 - Float(n) / 2
                    let r = (p * p).sum().squareRoot()
                    field[(x * n + y) * n + z] = 1 / (1 + exp(r - 8))  // 0.5 at radius 8
                }
            }
        }
        let mesh = field.withUnsafeBufferPointer {
            VoxelMesher.smooth(probabilities: $0, nx: n, ny: n, nz: n, translate: .zero,
                               scale: Double(n))
        }
        assertClosedSurface(mesh, volume: nil, "sphere")
        XCTAssertEqual(mesh.eulerCharacteristic, 2)
        XCTAssertEqual(mesh.signedVolume, 4 / 3 * Double.pi * 512, accuracy: 0.03 * 2145)
    }

    func testEveryMarchingCubesCaseIsClosed() {
        // Every case's loops triangulate without diagonals on a cube face, so no case needs
        // an extra vertex; checked through the public result on all 256 single-cube grids.
        for config in 0..<256 {
            var cube = VoxelGrid(resolution: 2)
            for corner in 0..<8 where config & (1 << corner) != 0 {
                cube[corner & 1, (corner >> 1) & 1, corner >> 2] = true
            }
            let smooth = VoxelMesher.smooth(cube)
            let cubes = VoxelMesher.cubes(cube)
            assertClosedSurface(smooth, volume: nil, "case \(config)")
            XCTAssertEqual(smooth.eulerCharacteristic, cubes.eulerCharacteristic, "case \(config)")
        }
    }
}
