// voxgan-serve: the HTTP server for generated chairs. Filled in by the serving work.
import CommandLineKit

let spec = CommandSpec(name: "voxgan-serve", abstract: "Serve generated chairs over HTTP.")
runCommand("voxgan-serve") {
    guard try spec.parse(Array(CommandLine.arguments.dropFirst())) != nil else { return }
    throw CommandFailure("the server is not available yet")
}
