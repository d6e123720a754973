import CommandLineKit

/// `voxgan sample`: Generate chairs from trained weights.
enum SampleCommand {

    static let spec = CommandSpec(name: "sample", abstract: "Generate chairs from trained weights.")

    static func run(_ arguments: [String]) throws {
        guard try spec.parse(arguments) != nil else { return }
        throw CommandFailure("'voxgan sample' is not available yet")
    }
}
