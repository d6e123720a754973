// Crash-safe training checkpoints: G, D, both optimisers and the iteration, in one HDF5 file
// written under a temporary name, synced and renamed, so a killed run always finds its last
// complete checkpoint.
import Foundation
import HDF5Kit
import NN

/// The complete state of a training run at the end of an iteration.
public struct CheckpointState {
    public var config: TrainingConfig
    /// Iterations completed.
    public var iteration: Int
    /// Seconds of training so far (for the weights file's metadata and ETA).
    public var elapsedSeconds: Double
    /// Mean occupancy of the training data (for calibrating the export threshold).
    public var dataOccupancy: Double
    public var dataSource: String
    public var command: String
}

public enum Checkpoint {

    public static let format = "voxgan-checkpoint"

    /// File name of the checkpoint after `iteration` iterations.
    public static func fileName(iteration: Int) -> String {
        String(format: "checkpoint-%08d.h5", iteration)
    }

    public static func save(_ state: CheckpointState, generator: Generator,
                            discriminator: Discriminator, generatorOptimizer: Adam,
                            discriminatorOptimizer: Adam, to path: String) throws {
        try AtomicFile.write(to: path) { temporary in
            let file = try HDF5File.create(temporary)
            try file.setAttribute("format", format)
            try file.setAttribute("config", state.config.json())
            try file.setAttribute("iteration", state.iteration)
            try file.setAttribute("elapsed_seconds", state.elapsedSeconds)
            try file.setAttribute("data_occupancy", state.dataOccupancy)
            try file.setAttribute("data_source", state.dataSource)
            try file.setAttribute("command", state.command)
            try WeightsFile.writeBlocks(generator.blocks, into: file.createGroup("generator"))
            try WeightsFile.writeBlocks(discriminator.blocks, into: file.createGroup("discriminator"))
            for (name, optimizer) in [("generator", generatorOptimizer),
                                      ("discriminator", discriminatorOptimizer)] {
                let group = try file.createGroup("optimizer/\(name)")
                try group.setAttribute("step", optimizer.step)
                for (index, (m, v)) in zip(optimizer.firstMoments, optimizer.secondMoments).enumerated() {
                    try group.write("m\(index)", m.toArray(), shape: m.shape)
                    try group.write("v\(index)", v.toArray(), shape: v.shape)
                }
            }
        }
    }

    /// Reads only the state (config, iteration, ...) of a checkpoint, validating its format.
    public static func readState(path: String) throws -> CheckpointState {
        let file = try HDF5File.open(path)
        guard try file.stringAttribute("format") == format,
              let configText = try file.stringAttribute("config"),
              let iteration = try file.intAttribute("iteration") else {
            throw ModelError("\(path): not a voxgan checkpoint")
        }
        return CheckpointState(config: try TrainingConfig.fromJSON(configText),
                               iteration: iteration,
                               elapsedSeconds: try file.doubleAttribute("elapsed_seconds") ?? 0,
                               dataOccupancy: try file.doubleAttribute("data_occupancy") ?? 0,
                               dataSource: try file.stringAttribute("data_source") ?? "",
                               command: try file.stringAttribute("command") ?? "")
    }

    /// Restores networks and optimisers from a checkpoint; throws naming the file when any
    /// part is missing, mis-shaped or not finite.
    public static func restore(path: String, generator: Generator, discriminator: Discriminator,
                               generatorOptimizer: Adam, discriminatorOptimizer: Adam) throws {
        let file = try HDF5File.open(path)
        try WeightsFile.readBlocks(generator.blocks, from: file.openGroup("generator"))
        try WeightsFile.readBlocks(discriminator.blocks, from: file.openGroup("discriminator"))
        for (name, optimizer) in [("generator", generatorOptimizer),
                                  ("discriminator", discriminatorOptimizer)] {
            let group = try file.openGroup("optimizer/\(name)")
            optimizer.restore(step: try group.intAttribute("step") ?? 0)
            for (index, (m, v)) in zip(optimizer.firstMoments, optimizer.secondMoments).enumerated() {
                for (tensor, key) in [(m, "m\(index)"), (v, "v\(index)")] {
                    let values = try group.read(key, as: Float.self)
                    guard values.count == tensor.count else {
                        throw ModelError("\(path): optimizer/\(name)/\(key) has \(values.count) values, expected \(tensor.count)")
                    }
                    values.withUnsafeBufferPointer { tensor.data.update(from: $0.baseAddress!, count: values.count) }
                }
            }
        }
    }

    /// Checkpoint files in `directory`, newest first.
    public static func list(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix("checkpoint-") && $0.hasSuffix(".h5") }
            .sorted(by: >)
            .map { (directory as NSString).appendingPathComponent($0) }
    }
}
