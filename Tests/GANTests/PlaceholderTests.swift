import XCTest

final class GANPlaceholderTests: XCTestCase {
    func testModuleLinks() {}
}
