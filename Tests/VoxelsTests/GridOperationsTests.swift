// Grid operations: thresholds, byte layouts, bounding box, components, re-centring,
// resampling, padding and IoU.
import Voxels
import XCTest

final class GridOperationsTests: XCTestCase {

    func grid(_ n: Int, _ voxels: [(Int, Int, Int)]) -> VoxelGrid {
        var grid = VoxelGrid(resolution: n)
        for (x, y, z) in voxels { grid[x, y, z] = true }
        return grid
    }

    func occupied(_ grid: VoxelGrid) -> [SIMD3<Int>] {
        var voxels: [SIMD3<Int>] = []
        grid.forEachOccupied { voxels.append(SIMD3($0, $1, $2)) }
        return voxels
    }

    func testProbabilitiesThresholdIsStrictlyGreater() {
        // p[x][y][z], z fastest.
        let p: [Float] = [0.2, 0.5, 0.51, 0.9, 0, 0, 1, 0.5]
        let grid = p.withUnsafeBufferPointer {
            VoxelGrid(probabilities: $0, nx: 2, ny: 2, nz: 2)
        }
        XCTAssertEqual(occupied(grid), [SIMD3(0, 1, 0), SIMD3(0, 1, 1), SIMD3(1, 1, 0)])
        let low = p.withUnsafeBufferPointer {
            VoxelGrid(probabilities: $0, nx: 2, ny: 2, nz: 2, threshold: 0.1)
        }
        XCTAssertEqual(low.occupiedCount, 6)
    }

    func testBytesXYZRoundTripAndLayout() throws {
        let chair = try Binvox.read(path: try TestData.sample("mn10_chair_train_0100"))
        let bytes = chair.bytesXYZ()
        XCTAssertEqual(bytes.reduce(0) { $0 + Int($1) }, chair.occupiedCount)
        XCTAssertEqual(Set(bytes), [0, 1])
        let again = bytes.withUnsafeBufferPointer {
            VoxelGrid(bytesXYZ: $0, nx: 32, ny: 32, nz: 32)
        }
        XCTAssertEqual(again, chair)

        var small = VoxelGrid(nx: 2, ny: 3, nz: 4)
        small[1, 2, 3] = true
        XCTAssertEqual(small.bytesXYZ().firstIndex(of: 1), (1 * 3 + 2) * 4 + 3)
    }

    func testBoundingBox() {
        XCTAssertNil(VoxelGrid(resolution: 4).boundingBox)
        let box = grid(8, [(1, 5, 2), (6, 0, 3), (2, 2, 7)]).boundingBox
        XCTAssertEqual(box?.min, SIMD3(1, 0, 2))
        XCTAssertEqual(box?.max, SIMD3(6, 5, 7))
    }

    func testRunsCoverTheGrid() throws {
        let chair = try Binvox.read(path: try TestData.sample("shapenet_64__1a6f"))
        var total = 0
        var set = 0
        chair.forEachRun { value, length in
            total += length
            if value { set += length }
        }
        XCTAssertEqual(total, chair.count)
        XCTAssertEqual(set, chair.occupiedCount)
    }

    // MARK: - Components

    func testLargestComponentKeepsTheBiggest() {
        let g = grid(6, [(0, 0, 0), (0, 1, 0), (4, 4, 4), (5, 5, 5), (5, 4, 4), (3, 3, 3)])
        // (3,3,3)-(4,4,4)-(5,5,5)-(5,4,4) touch through corners and faces: 4 voxels.
        XCTAssertEqual(occupied(g.largestComponent()),
                       [SIMD3(3, 3, 3), SIMD3(4, 4, 4), SIMD3(5, 4, 4), SIMD3(5, 5, 5)])
    }

    func testCornerContactConnects() {
        let g = grid(3, [(0, 0, 0), (1, 1, 1), (2, 2, 2)])
        XCTAssertEqual(g.largestComponent(), g)
    }

    func testTiesKeepTheFirstComponentInStreamOrder() {
        let g = grid(5, [(4, 0, 0), (4, 1, 0), (0, 0, 4), (0, 1, 4)])
        XCTAssertEqual(occupied(g.largestComponent()), [SIMD3(0, 0, 4), SIMD3(0, 1, 4)])
        XCTAssertEqual(VoxelGrid(resolution: 3).largestComponent(), VoxelGrid(resolution: 3))
    }

    func testLargestComponentOfARealChair() throws {
        let chair = try Binvox.read(path: try TestData.sample("shapenet_64__18e5"))
        let main = chair.largestComponent()
        XCTAssertLessThanOrEqual(main.occupiedCount, chair.occupiedCount)
        XCTAssertGreaterThan(main.occupiedCount, chair.occupiedCount / 2)
        XCTAssertEqual(main.largestComponent(), main)
        XCTAssertEqual(main.translate, chair.translate)
    }

    // MARK: - Re-centring

    func testRecentredMovesTheBoxToTheMiddleKeepingWorldPositions() {
        var g = grid(6, [(0, 0, 0), (1, 0, 0)])
        g.translate = SIMD3(10, 20, 30)
        g.scale = 6
        let centred = g.recentred()
        // Extent (2,1,1) in 6: low corner at (2, 2, 2) (odd leftover voxel goes high).
        XCTAssertEqual(occupied(centred), [SIMD3(2, 2, 2), SIMD3(3, 2, 2)])
        XCTAssertEqual(centred.centre(2, 2, 2), g.centre(0, 0, 0))

        let floor = g.recentred(keepFloor: true)
        XCTAssertEqual(occupied(floor), [SIMD3(2, 0, 2), SIMD3(3, 0, 2)])
        XCTAssertEqual(VoxelGrid(resolution: 4).recentred(), VoxelGrid(resolution: 4))
    }

    func testRecentringAShapeNet128Chair() throws {
        // These files sit at voxel 0 in x and z (see the data README).
        let chair = try Binvox.read(path: try TestData.sample("shapenet_128"))
        let box = try XCTUnwrap(chair.recentred().boundingBox)
        let extent = box.max &- box.min &+ 1
        XCTAssertEqual(box.min, (SIMD3(128, 128, 128) &- extent) / 2)
        XCTAssertEqual(chair.recentred().occupiedCount, chair.occupiedCount)
    }

    // MARK: - Resampling

    func testDownsampleAnyAndMajority() {
        // One 2×2×2 block with 4 voxels set, one with 5, one with 1.
        var g = VoxelGrid(resolution: 4)
        for (x, y, z) in [(0, 0, 0), (1, 0, 0), (0, 1, 0), (1, 1, 0)] { g[x, y, z] = true }
        for (x, y, z) in [(2, 2, 2), (3, 2, 2), (2, 3, 2), (3, 3, 2), (3, 3, 3)] {
            g[x, y, z] = true
        }
        g[0, 3, 3] = true
        let any = g.downsampled(by: 2, mode: .any)
        XCTAssertEqual(any.dimensions, SIMD3(2, 2, 2))
        XCTAssertEqual(occupied(any), [SIMD3(0, 0, 0), SIMD3(0, 1, 1), SIMD3(1, 1, 1)])
        XCTAssertEqual(occupied(g.downsampled(by: 2, mode: .majority)), [SIMD3(1, 1, 1)])
        XCTAssertEqual(any.scale, g.scale)
        XCTAssertEqual(any.pitch, 2 * g.pitch)
        XCTAssertEqual(DownsampleMode(rawValue: "majority"), .majority)
    }

    func testDownsampleKeepsWorldPlacementOfBlocks() {
        var g = VoxelGrid(nx: 4, ny: 4, nz: 4, translate: SIMD3(1, 1, 1), scale: 8)
        g[2, 2, 2] = true
        let small = g.downsampled(by: 2, mode: .any)
        // The new voxel's centre is midway between the centres of its block's corner voxels.
        XCTAssertEqual(small.centre(1, 1, 1), (g.centre(2, 2, 2) + g.centre(3, 3, 3)) / 2)
    }

    func testDownsampleWithPartialBlocks() {
        var g = VoxelGrid(nx: 5, ny: 3, nz: 4)
        g[4, 2, 3] = true
        let small = g.downsampled(by: 2, mode: .any)
        XCTAssertEqual(small.dimensions, SIMD3(3, 2, 2))
        XCTAssertEqual(occupied(small), [SIMD3(2, 1, 1)])
    }

    func testUpsampleRepeatsAndDownsampleUndoesIt() throws {
        let chair = try Binvox.read(path: try TestData.sample("mn10_chair_train_0003"))
        let big = chair.upsampled(by: 2)
        XCTAssertEqual(big.dimensions, SIMD3(64, 64, 64))
        XCTAssertEqual(big.occupiedCount, 8 * chair.occupiedCount)
        XCTAssertEqual(big.scale, chair.scale)
        XCTAssertTrue(big[2 * 10 + 1, 2 * 5, 2 * 7 + 1] == chair[10, 5, 7])
        for mode in DownsampleMode.allCases {
            XCTAssertEqual(big.downsampled(by: 2, mode: mode), chair)
        }
        XCTAssertEqual(chair.upsampled(by: 3).downsampled(by: 3, mode: .majority), chair)
    }

    func testResampledToResolution() throws {
        let chair128 = try Binvox.read(path: try TestData.sample("shapenet_128"))
        let chair32 = try chair128.resampled(toResolution: 32, mode: .any)
        XCTAssertEqual(chair32, chair128.downsampled(by: 4, mode: .any))
        XCTAssertEqual(chair32.dimensions, SIMD3(32, 32, 32))
        XCTAssertEqual(try chair32.resampled(toResolution: 64), chair32.upsampled(by: 2))
        XCTAssertEqual(try chair32.resampled(toResolution: 32), chair32)

        XCTAssertThrowsError(try VoxelGrid(resolution: 30).resampled(toResolution: 32)) {
            XCTAssertTrue("\($0)".contains("30×30×30"), "\($0)")
            XCTAssertTrue("\($0)".contains("32³"), "\($0)")
        }
        XCTAssertThrowsError(try VoxelGrid(resolution: 48).resampled(toResolution: 32))
        XCTAssertThrowsError(try VoxelGrid(resolution: 4).resampled(toResolution: 0))

        // A non-cubic grid is padded to a cube first.
        var flat = VoxelGrid(nx: 64, ny: 32, nz: 64)
        flat[63, 31, 63] = true
        let resampled = try flat.resampled(toResolution: 32)
        XCTAssertEqual(occupied(resampled), [SIMD3(31, 15, 31)])
    }

    // MARK: - Padding and IoU

    func testPaddedToCube() {
        var g = VoxelGrid(nx: 2, ny: 3, nz: 4, translate: SIMD3(-1, 0, 1), scale: 2)
        g[1, 2, 3] = true
        g[0, 0, 0] = true
        let cube = g.paddedToCube()
        XCTAssertEqual(cube.dimensions, SIMD3(4, 4, 4))
        XCTAssertEqual(occupied(cube), [SIMD3(0, 0, 0), SIMD3(1, 2, 3)])
        XCTAssertEqual(cube.pitch, g.pitch)
        XCTAssertEqual(cube.translate, g.translate)
        XCTAssertEqual(cube.centre(1, 2, 3), g.centre(1, 2, 3))
    }

    func testIntersectionOverUnion() throws {
        let a = grid(4, [(0, 0, 0), (1, 1, 1), (2, 2, 2)])
        let b = grid(4, [(1, 1, 1), (2, 2, 2), (3, 3, 3)])
        XCTAssertEqual(VoxelGrid.intersectionOverUnion(a, b), 0.5)
        XCTAssertEqual(VoxelGrid.intersectionOverUnion(a, a), 1)
        XCTAssertEqual(VoxelGrid.intersectionOverUnion(a, grid(4, [(3, 0, 0)])), 0)
        XCTAssertEqual(VoxelGrid.intersectionOverUnion(VoxelGrid(resolution: 4),
                                                       VoxelGrid(resolution: 4)), 1)

        let chair = try Binvox.read(path: try TestData.sample("mn10_chair_train_0002"))
        let other = try Binvox.read(path: try TestData.sample("mn10_chair_train_0003"))
        let iou = VoxelGrid.intersectionOverUnion(chair, other)
        XCTAssertGreaterThan(iou, 0)
        XCTAssertLessThan(iou, 1)
        XCTAssertEqual(iou, VoxelGrid.intersectionOverUnion(other, chair))
    }
}
