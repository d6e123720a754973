import CommandLineKit

/// `voxgan pack`: Pack binvox files into one HDF5 dataset.
enum PackCommand {

    static let spec = CommandSpec(name: "pack", abstract: "Pack binvox files into one HDF5 dataset.")

    static func run(_ arguments: [String]) throws {
        guard try spec.parse(arguments) != nil else { return }
        throw CommandFailure("'voxgan pack' is not available yet")
    }
}
