// voxgan: the everyday tool. Each subcommand lives in its own file as one small type with a
// `spec` (arguments, options, help) and a `run`.
import CommandLineKit

let voxgan = CommandGroup(
    name: "voxgan",
    abstract: "Pack chair datasets, inspect and convert voxel files, sample, render, evaluate.",
    subcommands: [
        (InfoCommand.spec.subcommand, InfoCommand.spec.abstract, InfoCommand.run),
        (PackCommand.spec.subcommand, PackCommand.spec.abstract, PackCommand.run),
        (ConvertCommand.spec.subcommand, ConvertCommand.spec.abstract, ConvertCommand.run),
        (SheetCommand.spec.subcommand, SheetCommand.spec.abstract, SheetCommand.run),
        (SampleCommand.spec.subcommand, SampleCommand.spec.abstract, SampleCommand.run),
        (EvalCommand.spec.subcommand, EvalCommand.spec.abstract, EvalCommand.run),
        (BenchCommand.spec.subcommand, BenchCommand.spec.abstract, BenchCommand.run),
        (VersionCommand.spec.subcommand, VersionCommand.spec.abstract, VersionCommand.run),
    ])

runCommand("voxgan") {
    // `voxgan --version` is `voxgan version`, as most tools spell it.
    let arguments = Array(CommandLine.arguments.dropFirst())
    try voxgan.run(arguments == ["--version"] ? ["version"] : arguments)
}
