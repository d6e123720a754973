import XCTest

final class VoxelGeometryPlaceholderTests: XCTestCase {
    func testModuleLinks() {}
}
