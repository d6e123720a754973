import CommandLineKit
import XCTest

final class CommandLineTests: XCTestCase {

    let spec = CommandSpec(
        name: "demo", abstract: "A demo.",
        arguments: [Argument("input", help: "Input file.")],
        options: [
            .value("port", "N", default: "8080", env: "DEMO_PORT", help: "Port."),
            .flag("dedupe", help: "Drop duplicates."),
        ])

    func testDefaultsFlagsAndPositionals() throws {
        let parsed = try XCTUnwrap(spec.parse(["in.binvox", "--dedupe"], environment: [:]))
        XCTAssertEqual(parsed.positionals, ["in.binvox"])
        XCTAssertTrue(parsed.flag("dedupe"))
        XCTAssertEqual(try parsed.int("port"), 8080)
    }

    func testEnvironmentAndInlineValues() throws {
        let fromEnvironment = try XCTUnwrap(spec.parse(["a"], environment: ["DEMO_PORT": "9"]))
        XCTAssertEqual(try fromEnvironment.int("port"), 9)
        let inline = try XCTUnwrap(spec.parse(["a", "--port=7"], environment: ["DEMO_PORT": "9"]))
        XCTAssertEqual(try inline.int("port"), 7)
    }

    func testSubcommandErrorsNameTheWholeCommand() {
        let convert = CommandSpec(name: "voxgan convert", abstract: "Convert.",
                                  arguments: [Argument("input", help: "In.")],
                                  options: [.value("size", "PX", help: "Size.")])
        XCTAssertEqual(convert.subcommand, "convert")
        XCTAssertTrue(convert.helpText.contains("USAGE: voxgan convert <input>"))
        for arguments in [["a", "--nope"], [], ["a", "--size"], ["a", "b"]] {
            XCTAssertThrowsError(try convert.parse(arguments, environment: [:])) { error in
                XCTAssertTrue("\(error)".hasSuffix("(see 'voxgan convert --help')"), "\(error)")
            }
        }
    }

    func testUserErrors() {
        XCTAssertThrowsError(try spec.parse(["a", "--nope"], environment: [:]))
        XCTAssertThrowsError(try spec.parse([], environment: [:]))
        XCTAssertThrowsError(try spec.parse(["a", "--port"], environment: [:]))
        XCTAssertThrowsError(try spec.parse(["a", "--port", "x"], environment: [:])!.int("port"))
        XCTAssertTrue(spec.helpText.contains("--port <N>"))
    }
}
