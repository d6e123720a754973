import XCTest

final class ServingPlaceholderTests: XCTestCase {
    func testModuleLinks() {}
}
