// voxgan-train: trains the 3D-GAN on packed real chairs and exports the generator.
//
//   voxgan-train --data chairs32.h5 --out runs/NAME [options]   train (or continue with --resume)
//   voxgan-train export runs/NAME --out Models/NAME.h5           write the generator's weights
import CommandLineKit
import Foundation

runCommand("voxgan-train") {
    let arguments = Array(CommandLine.arguments.dropFirst())
    if arguments.first == "export" {
        try ExportCommand.run(Array(arguments.dropFirst()))
    } else {
        try TrainCommand.run(arguments)
    }
}
