import CommandLineKit
import Foundation
import GAN
import NN

/// `voxgan-train export`: the generator of a run's newest checkpoint as a weights file.
enum ExportCommand {

    static let spec = CommandSpec(
        name: "voxgan-train export",
        abstract: "Write the generator of a run's newest checkpoint as a weights file for voxgan-serve.",
        arguments: [Argument("run", help: "The run folder (voxgan-train --out).")],
        options: [
            .value("out", "FILE", help: "The weights file to write, e.g. Models/chairs32.h5."),
            .value("checkpoint", "FILE", help: "A specific checkpoint instead of the newest."),
            .value("threshold", "T", help: "Recommended occupancy threshold (default: calibrated so samples match the data's occupancy, clamped to 0.01–0.9)."),
            .flag("with-discriminator", help: "Also store D (for fine-tuning; makes the file bigger)."),
            .flag("float32", help: "Store convolution weights as float32 (default: float16, half the size)."),
            .value("dataset", "TEXT", help: "Description of the training data for the metadata (default: the packed file's name and source)."),
        ])

    static func run(_ arguments: [String]) throws {
        guard let options = try spec.parse(arguments) else { return }
        guard let out = options.string("out") else { throw UsageError("--out FILE is required") }
        let run = options.positionals[0]
        guard let path = options.string("checkpoint") ?? Checkpoint.list(in: run).first else {
            throw CommandFailure("\(run): no checkpoint-*.h5 in this folder")
        }
        let summary = try ModelExport.export(checkpoint: path, to: out,
                                             threshold: try options.double("threshold", in: 0...1),
                                             withDiscriminator: options.flag("with-discriminator"),
                                             halfPrecision: !options.flag("float32"),
                                             dataset: options.string("dataset"))
        print(summary)
    }
}
