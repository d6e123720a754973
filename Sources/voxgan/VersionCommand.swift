import CommandLineKit

/// `voxgan version`: prints the tool's version.
enum VersionCommand {

    static let spec = CommandSpec(name: "voxgan version", abstract: "Print voxgan's version.")

    static func run(_ arguments: [String]) throws {
        guard try spec.parse(arguments) != nil else { return }
        print("voxgan 0.1.0")
    }
}
