import CommandLineKit

/// `voxgan bench`: Benchmark voxgan against references.
enum BenchCommand {

    static let spec = CommandSpec(name: "bench", abstract: "Benchmark voxgan against references.")

    static func run(_ arguments: [String]) throws {
        guard try spec.parse(arguments) != nil else { return }
        throw CommandFailure("'voxgan bench' is not available yet")
    }
}
