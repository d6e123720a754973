import CommandLineKit

/// `voxgan eval`: Measure sample quality against real chairs.
enum EvalCommand {

    static let spec = CommandSpec(name: "eval", abstract: "Measure sample quality against real chairs.")

    static func run(_ arguments: [String]) throws {
        guard try spec.parse(arguments) != nil else { return }
        throw CommandFailure("'voxgan eval' is not available yet")
    }
}
