// voxgan-train: trains the 3D-GAN on packed chairs. Filled in by the training work.
import CommandLineKit

let spec = CommandSpec(name: "voxgan-train", abstract: "Train the 3D-GAN on real chairs.")
runCommand("voxgan-train") {
    guard try spec.parse(Array(CommandLine.arguments.dropFirst())) != nil else { return }
    throw CommandFailure("training is not available yet")
}
