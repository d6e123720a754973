import CommandLineKit

/// `voxgan info`: Describe a binvox file or packed dataset.
enum InfoCommand {

    static let spec = CommandSpec(name: "info", abstract: "Describe a binvox file or packed dataset.")

    static func run(_ arguments: [String]) throws {
        guard try spec.parse(arguments) != nil else { return }
        throw CommandFailure("'voxgan info' is not available yet")
    }
}
