import CommandLineKit

/// `voxgan sheet`: Render many voxel files into one PNG sheet.
enum SheetCommand {

    static let spec = CommandSpec(name: "sheet", abstract: "Render many voxel files into one PNG sheet.")

    static func run(_ arguments: [String]) throws {
        guard try spec.parse(arguments) != nil else { return }
        throw CommandFailure("'voxgan sheet' is not available yet")
    }
}
