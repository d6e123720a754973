import XCTest

final class VoxelsPlaceholderTests: XCTestCase {
    func testModuleLinks() {}
}
