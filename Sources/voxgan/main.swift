// voxgan: the everyday tool. Each subcommand lives in its own file as one small type with a
// `spec` (arguments, options, help) and a `run`.
import CommandLineKit

let voxgan = CommandGroup(
    name: "voxgan",
    abstract: "Pack chair datasets, inspect and convert voxel files, sample, render, evaluate.",
    subcommands: [
        (InfoCommand.spec.name, InfoCommand.spec.abstract, InfoCommand.run),
        (PackCommand.spec.name, PackCommand.spec.abstract, PackCommand.run),
        (ConvertCommand.spec.name, ConvertCommand.spec.abstract, ConvertCommand.run),
        (SheetCommand.spec.name, SheetCommand.spec.abstract, SheetCommand.run),
        (SampleCommand.spec.name, SampleCommand.spec.abstract, SampleCommand.run),
        (EvalCommand.spec.name, EvalCommand.spec.abstract, EvalCommand.run),
        (BenchCommand.spec.name, BenchCommand.spec.abstract, BenchCommand.run),
        (VersionCommand.spec.name, VersionCommand.spec.abstract, VersionCommand.run),
    ])

runCommand("voxgan") {
    try voxgan.run(Array(CommandLine.arguments.dropFirst()))
}
