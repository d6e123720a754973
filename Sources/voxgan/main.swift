// voxgan: the everyday tool. Each subcommand lives in its own file as one small type with a
// `spec` (arguments, options, help) and a `run`.
import CommandLineKit

let voxgan = CommandGroup(
    name: "voxgan",
    abstract: "Pack chair datasets, inspect and convert voxel files, sample, render, evaluate.",
    subcommands: [
        (VersionCommand.spec.name, VersionCommand.spec.abstract, VersionCommand.run),
    ])

runCommand("voxgan") {
    try voxgan.run(Array(CommandLine.arguments.dropFirst()))
}
