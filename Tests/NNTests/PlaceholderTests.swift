import XCTest

final class NNPlaceholderTests: XCTestCase {
    func testModuleLinks() {}
}
