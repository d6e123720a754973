// Pictures: framing, orientation, backgrounds, PNG bytes and sheets.
import Foundation
import VoxelGeometry
import Voxels
import XCTest

/// A crude chair in an 8³ grid: four legs, a seat at y = 3, a backrest at z = 6…7 (+z).
func toyChair() -> VoxelGrid {
    var chair = VoxelGrid(resolution: 8)
    for x in [1, 6] {
        for z in [1, 6] {
            for y in 0..<3 { chair[x, y, z] = true }
        }
    }
    for x in 1...6 {
        for z in 1...6 { chair[x, 3, z] = true }
        for y in 4...7 { chair[x, y, 6] = true }
    }
    return chair
}

final class RenderTests: XCTestCase {

    let white = SIMD4<UInt8>(255, 255, 255, 255)

    func testEmptyGridRendersTheBackgroundOnly() throws {
        let options = RenderOptions(size: 32, background: SIMD4(10, 20, 30, 255))
        let image = VoxelRenderer.render(VoxelGrid(resolution: 4), options: options)
        XCTAssertEqual(image, RGBAImage(width: 32, height: 32, fill: SIMD4(10, 20, 30, 255)))
        let png = try PNGEncoder.encode(image)
        XCTAssertEqual(try PNGDecoder.decode(png), image)

        var transparent = options
        transparent.transparent = true
        let clear = VoxelRenderer.render(VoxelGrid(nx: 0, ny: 0, nz: 0), options: transparent)
        XCTAssertEqual(clear, RGBAImage(width: 32, height: 32, fill: SIMD4(0, 0, 0, 0)))
    }

    func testModelFillsTheImageAndIsDrawnOverTheBackground() {
        let image = VoxelRenderer.render(toyChair(), options: RenderOptions(size: 128))
        XCTAssertEqual(image.width, 128)
        XCTAssertEqual(image.height, 128)
        XCTAssertEqual(image[0, 0], white)
        XCTAssertEqual(image[127, 127], white)
        XCTAssertNotEqual(image[64, 64], white)
        // Framed with a 4 % margin: the model reaches within a few pixels of it on the tighter
        // axis, and never into it.
        var rows: [Int] = [], columns: [Int] = []
        for y in 0..<128 {
            for x in 0..<128 where image[x, y] != white {
                rows.append(y)
                columns.append(x)
            }
        }
        let top = rows.min()!, bottom = rows.max()!, left = columns.min()!, right = columns.max()!
        XCTAssertGreaterThanOrEqual(min(top, left), 4)
        XCTAssertLessThanOrEqual(max(bottom, right), 123)
        XCTAssertGreaterThanOrEqual(max(bottom - top, right - left), 112)
    }

    func testUpIsUpAndTheFrontFacesTheCamera() {
        // A column along +y must come out taller than wide.
        var column = VoxelGrid(resolution: 8)
        for y in 0..<8 { column[3, y, 3] = true }
        let image = VoxelRenderer.render(column, options: RenderOptions(size: 64))
        var rows = Set<Int>(), columns = Set<Int>()
        for y in 0..<64 {
            for x in 0..<64 where image[x, y] != white {
                rows.insert(y)
                columns.insert(x)
            }
        }
        XCTAssertGreaterThan(rows.count, 2 * columns.count)

        // From the front (azimuth 0, elevation 0) the chair's legs are at the bottom and the
        // backrest, behind the seat, shows above it: the top rows are backrest, the bottom
        // rows have gaps between the legs.
        let front = VoxelRenderer.render(toyChair(), options: RenderOptions(
            size: 64, azimuth: 0, elevation: 0, supersample: 1, margin: 0))
        XCTAssertNotEqual(front[32, 2], white, "backrest above the seat")
        XCTAssertEqual(front[32, 60], white, "gap between the front legs")
        XCTAssertNotEqual(front[10, 60], white, "a front leg")
    }

    func testShadingDistinguishesTheThreeVisibleSides() {
        var cube = VoxelGrid(resolution: 2)
        for x in 0..<2 { for y in 0..<2 { for z in 0..<2 { cube[x, y, z] = true } } }
        let image = VoxelRenderer.render(cube, options: RenderOptions(size: 64))
        // Isometric: top face above the centre, two side faces below left and right.
        let top = image[32, 12], left = image[16, 40], right = image[48, 40]
        XCTAssertNotEqual(top, left)
        XCTAssertNotEqual(top, right)
        XCTAssertNotEqual(left, right)
        XCTAssertGreaterThan(Int(top.x) + Int(top.y) + Int(top.z),
                             Int(right.x) + Int(right.y) + Int(right.z), "top is lit")
    }

    func testTransparentBackgroundAndAntialiasedEdges() throws {
        let options = RenderOptions(size: 64, transparent: true, supersample: 3)
        let image = VoxelRenderer.render(toyChair(), options: options)
        XCTAssertEqual(image[0, 0].w, 0)
        XCTAssertEqual(image[32, 32].w, 255)
        XCTAssertTrue((0..<64).contains { x in (0..<64).contains { y in
            image[x, y].w > 0 && image[x, y].w < 255
        } }, "no partly covered pixels at the silhouette")
        let png = try PNGEncoder.encode(image)
        XCTAssertEqual(png[25], 6, "colour type RGBA")
        XCTAssertEqual(try PNGDecoder.decode(png), image)
    }

    func testOutlinesDarkenFaceEdges() {
        var slab = VoxelGrid(resolution: 4)
        for x in 0..<4 { for z in 0..<4 { slab[x, 0, z] = true } }
        let top = RenderOptions(size: 128, azimuth: 0, elevation: 90)
        var outlined = top
        outlined.outlines = true
        let plain = VoxelRenderer.render(slab, options: top)
        let lined = VoxelRenderer.render(slab, options: outlined)
        func brightness(_ image: RGBAImage) -> Int {
            stride(from: 0, to: image.pixels.count, by: 4).reduce(0) { $0 + Int(image.pixels[$1]) }
        }
        XCTAssertLessThan(brightness(lined), brightness(plain))
        // The middle of a voxel's face is not outlined.
        XCTAssertEqual(lined[64 + 16, 64 + 16], plain[64 + 16, 64 + 16])
    }

    func testGridFramingKeepsSizesComparable() {
        var small = VoxelGrid(resolution: 16)
        small[8, 8, 8] = true
        func covered(_ framing: RenderOptions.Framing) -> Int {
            let image = VoxelRenderer.render(small, options: RenderOptions(size: 64,
                                                                          framing: framing))
            return stride(from: 0, to: image.pixels.count, by: 4)
                .filter { image.pixels[$0] != 255 || image.pixels[$0 + 2] != 255 }.count
        }
        // Fitted, one voxel fills the picture; framed on its 16³ grid, it is a speck.
        XCTAssertGreaterThan(covered(.model), 64 * 64 / 2)
        XCTAssertLessThan(covered(.grid), 64)
        XCTAssertGreaterThan(covered(.grid), 0)
    }

    func testColourByProbability() {
        let chair = toyChair()
        var low = [Float](repeating: 0.55, count: chair.count)
        var options = RenderOptions(size: 48, colourByProbability: true)
        let dim = low.withUnsafeBufferPointer {
            VoxelRenderer.render(chair, probabilities: $0, options: options)
        }
        for index in low.indices { low[index] = 1 }
        let bright = low.withUnsafeBufferPointer {
            VoxelRenderer.render(chair, probabilities: $0, options: options)
        }
        XCTAssertNotEqual(dim, bright)
        options.colourByProbability = false
        let plain = low.withUnsafeBufferPointer {
            VoxelRenderer.render(chair, probabilities: $0, options: options)
        }
        XCTAssertEqual(plain, VoxelRenderer.render(chair, options: options))
    }

    func testPNGBytesAreDeterministicAndRoundTrip() throws {
        let chair = toyChair()
        let first = try PNGEncoder.encode(VoxelRenderer.render(chair))
        let second = try PNGEncoder.encode(VoxelRenderer.render(chair))
        XCTAssertEqual(first, second)
        XCTAssertEqual(Array(first.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertEqual(first[25], 2, "opaque images are written as RGB")
        let decoded = try PNGDecoder.decode(first)
        XCTAssertEqual(decoded, VoxelRenderer.render(chair))
        XCTAssertThrowsError(try PNGDecoder.decode(Array(first.prefix(40))))
    }

    func testRenderingFromSeveralThreadsGivesTheSameImage() {
        let chair = toyChair()
        let expected = VoxelRenderer.render(chair, options: RenderOptions(size: 96))
        var results = [RGBAImage?](repeating: nil, count: 8)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            let image = VoxelRenderer.render(chair, options: RenderOptions(size: 96))
            lock.lock()
            results[index] = image
            lock.unlock()
        }
        for image in results { XCTAssertEqual(image, expected) }
    }

    func testSheetLayout() {
        let red = RGBAImage(width: 10, height: 6, fill: SIMD4(255, 0, 0, 255))
        let blue = RGBAImage(width: 4, height: 8, fill: SIMD4(0, 0, 255, 255))
        let sheet = ImageSheet.compose([red, blue, red], columns: 2, padding: 2)
        // Cells 10 × 8; 2 columns, 2 rows.
        XCTAssertEqual(sheet.width, 2 * 10 + 3 * 2)
        XCTAssertEqual(sheet.height, 2 * 8 + 3 * 2)
        XCTAssertEqual(sheet[0, 0], white)
        XCTAssertEqual(sheet[2, 3], SIMD4(255, 0, 0, 255), "red centred vertically in its cell")
        XCTAssertEqual(sheet[2, 2], white)
        // Cell 1 starts at x = 2 + 10 + 2; blue is 4 wide, so 3 pixels in.
        XCTAssertEqual(sheet[14 + 3, 2], SIMD4(0, 0, 255, 255), "blue centred horizontally")
        XCTAssertEqual(sheet[14 + 2, 2], white)
        XCTAssertEqual(sheet[2, 12 + 1], SIMD4(255, 0, 0, 255), "second row")
        XCTAssertEqual(sheet[20, 15], white, "empty last cell")

        let grids = [toyChair(), VoxelGrid(resolution: 8), randomGrid(8, density: 0.2, seed: 3)]
        let rendered = ImageSheet.render(grids: grids, columns: 3, cellSize: 40,
                                         options: RenderOptions())
        XCTAssertEqual(rendered.width, 3 * 40 + 4 * 4)
        XCTAssertEqual(rendered.height, 40 + 2 * 4)
    }
}
