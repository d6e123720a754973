import CommandLineKit

/// `voxgan convert`: Convert a binvox file to binvox, OBJ, STL or PNG.
enum ConvertCommand {

    static let spec = CommandSpec(name: "convert", abstract: "Convert a binvox file to binvox, OBJ, STL or PNG.")

    static func run(_ arguments: [String]) throws {
        guard try spec.parse(arguments) != nil else { return }
        throw CommandFailure("'voxgan convert' is not available yet")
    }
}
