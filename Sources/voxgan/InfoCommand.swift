import CommandLineKit
import Foundation
import GAN
import HDF5Kit
import NN
import Voxels

/// `voxgan info`: describes a binvox file (extents, placement, occupancy, bounding box), a
/// packed dataset (grid count, resolution, mean occupancy, first names), a weights file (the
/// generator and how it was trained) or a training checkpoint, as text or JSON.
enum InfoCommand {

    static let spec = CommandSpec(
        name: "voxgan info",
        abstract: "Describe a binvox file, packed dataset, weights file or checkpoint.",
        discussion: """
            For a .binvox file: extents (x, y, z; +y up), translate, scale, occupied voxels and \
            their fraction, bounding box (inclusive voxel indices). For a packed .h5 dataset \
            (made by 'voxgan pack'): grid count, resolution, mean occupancy, source and the \
            first names. For a weights file (made by 'voxgan-train export'): resolution, z \
            (dimension, distribution, std), channels, recommended threshold, iterations, \
            dataset and training figures. For a checkpoint: iteration, training time, data \
            and the main training settings.
            """,
        arguments: [Argument("file", help: "A .binvox file, or an .h5 dataset, weights file "
                             + "or checkpoint.")],
        options: [.flag("json", help: "Print one JSON object instead of text.")])

    static func run(_ arguments: [String]) throws {
        guard let options = try spec.parse(arguments) else { return }
        let path = options.positionals[0]
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw CommandFailure("\(path): expected a .binvox or packed .h5 file, found a folder")
        }
        if !isHDF5(path), path.lowercased().hasSuffix(".h5") {
            throw CommandFailure("\(path): not an HDF5 file (it does not start with the HDF5 "
                                 + "signature), though named .h5")
        }
        let description = try isHDF5(path) ? describeHDF5(path) : describeBinvox(path)
        if options.flag("json") {
            let data = try JSONSerialization.data(
                withJSONObject: description.json,
                options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            let width = description.text.map(\.0.count).max() ?? 0
            for (key, value) in description.text {
                print(key.padding(toLength: width + 2, withPad: " ", startingAt: 0) + value)
            }
        }
    }

    /// HDF5 files start with "\u{89}HDF\r\n\u{1A}\n"; anything else is read as binvox, whose
    /// reader says what it expected if the file is neither.
    static func isHDF5(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let magic = [UInt8](handle.readData(ofLength: 8))
        return magic == [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
    }

    typealias Description = (text: [(String, String)], json: [String: Any])

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }

    static func describeBinvox(_ path: String) throws -> Description {
        let grid = try Binvox.read(path: path)
        let t = grid.translate
        let percent = String(format: "%.2f", 100 * grid.occupancy)
        var text: [(String, String)] = [
            ("file", path),
            ("format", "binvox"),
            ("dimensions", "\(grid.nx) × \(grid.ny) × \(grid.nz) (x, y, z; +y up)"),
            ("translate", "\(number(t.x)) \(number(t.y)) \(number(t.z))"),
            ("scale", number(grid.scale)),
            ("occupied", "\(grid.occupiedCount) of \(grid.count) voxels (\(percent) %)"),
        ]
        var json: [String: Any] = [
            "file": path, "format": "binvox", "dimensions": [grid.nx, grid.ny, grid.nz],
            "translate": [t.x, t.y, t.z], "scale": grid.scale,
            "occupied": grid.occupiedCount, "voxels": grid.count, "fraction": grid.occupancy,
        ]
        if let box = grid.boundingBox {
            text.append(("bounding box", "x \(box.min.x)...\(box.max.x), "
                         + "y \(box.min.y)...\(box.max.y), z \(box.min.z)...\(box.max.z)"))
            json["bounding_box"] = ["min": [box.min.x, box.min.y, box.min.z],
                                    "max": [box.max.x, box.max.y, box.max.z]]
        } else {
            text.append(("bounding box", "none (empty grid)"))
            json["bounding_box"] = NSNull()
        }
        return (text, json)
    }

    /// The three kinds of voxgan HDF5 file, told apart by their `format` attribute: each
    /// loader checks it first and says "not a voxgan …" for another kind, so the error shown
    /// for a damaged file is the one of the kind it claims to be.
    static func describeHDF5(_ path: String) throws -> Description {
        do {
            return try describeWeights(path)
        } catch let error as ModelError where error.message.contains("not a voxgan weights") {
        }
        do {
            return try describeCheckpoint(path)
        } catch let error as ModelError where error.message.contains("not a voxgan checkpoint") {
        }
        if try HDF5File.open(path).stringAttribute("format") == "voxgan-samples" {
            return try describeSamples(path)
        }
        return try describePacked(path)
    }

    /// The file voxgan-serve answers POST /v1/samples with (format h5): /voxels [n][x][y][z]
    /// bytes 0/1, /seeds n × UInt64, optionally /probabilities, and how they were made.
    static func describeSamples(_ path: String) throws -> Description {
        let file = try HDF5File.open(path)
        let voxels = try file.openDataset("voxels")
        let shape = voxels.shape
        guard shape.count == 4, shape[1] == shape[2], shape[2] == shape[3] else {
            throw CommandFailure("\(path): /voxels has shape \(shape), expected [n, R, R, R]")
        }
        let seeds = try file.read("seeds", as: UInt64.self)
        let bytes = try voxels.read(as: UInt8.self)
        let occupied = bytes.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        let occupancy = Double(occupied) / Double(max(1, bytes.count))
        let r = shape[1]
        let threshold = try file.doubleAttribute("threshold")
        let weights = try file.stringAttribute("weights_sha256") ?? "unknown"
        let firstSeeds = seeds.prefix(5).map { String($0) }.joined(separator: ", ")
            + (seeds.count > 5 ? ", … (\(seeds.count) in all)" : "")
        let text: [(String, String)] = [
            ("file", path),
            ("format", "voxgan-samples (chairs from voxgan-serve POST /v1/samples)"),
            ("chairs", "\(shape[0])"),
            ("resolution", "\(r) × \(r) × \(r) (x, y, z; +y up)"),
            ("occupancy", String(format: "mean %.4f", occupancy)),
            ("threshold", threshold.map { String(format: "%.3f (p > t)", $0) } ?? "unknown"),
            ("probabilities", file.contains("probabilities") ? "included" : "not included"),
            ("weights", "sha256 \(weights)"),
            ("seeds", firstSeeds),
        ]
        var json: [String: Any] = [
            "file": path, "format": "voxgan-samples", "count": shape[0], "resolution": r,
            "mean_occupancy": occupancy, "seeds": seeds.map { NSNumber(value: $0) },
            "weights_sha256": weights, "probabilities": file.contains("probabilities"),
        ]
        if let threshold { json["threshold"] = threshold }
        return (text, json)
    }

    static func describeWeights(_ path: String) throws -> Description {
        let (generator, metadata) = try WeightsFile.loadGenerator(path: path)
        let config = generator.config
        let r = config.resolution
        let attributes = metadata.attributes
        let parameters = generator.blocks.reduce(0) {
            $0 + $1.weight.value.count + ($1.bias?.value.count ?? 0)
                + 2 * ($1.batchNorm?.weight.value.count ?? 0)
        }
        var text: [(String, String)] = [
            ("file", path),
            ("format", "voxgan-weights" + (attributes["format_version"].map { " \($0)" } ?? "")
                + " (generator weights)"),
            ("resolution", "\(r) × \(r) × \(r) (x, y, z; +y up)"),
            ("z", "\(config.zDimension)-d, \(metadata.zDistribution.rawValue), std "
                + number(metadata.zStd)),
            ("channels", config.channels.map(String.init).joined(separator: ", ")
                + " (\(parameters) parameters)"),
            ("threshold", String(format: "%.3f (recommended, p > t)",
                                 metadata.recommendedThreshold)),
        ]
        let shown: [(key: String, label: String)] = [
            ("iterations", "iterations"), ("batch_size", "batch size"),
            ("training_seconds", "training seconds"), ("dataset", "dataset"),
            ("data_occupancy", "data occupancy"), ("sample_occupancy", "sample occupancy"),
            ("sample_pairwise_iou", "sample pairwise IoU"), ("exported", "exported"),
            ("source_checkpoint", "checkpoint"), ("weight_storage", "weight storage"),
        ]
        for (key, label) in shown {
            if let value = attributes[key] { text.append((label, value)) }
        }
        var json: [String: Any] = [
            "file": path, "format": "voxgan-weights", "resolution": r,
            "z_dim": config.zDimension, "z_distribution": metadata.zDistribution.rawValue,
            "z_std": metadata.zStd, "channels": config.channels, "parameters": parameters,
            "recommended_threshold": metadata.recommendedThreshold,
        ]
        var other = attributes
        other.removeValue(forKey: "format")
        other.removeValue(forKey: "z_distribution")
        json["attributes"] = other
        return (text, json)
    }

    static func describeCheckpoint(_ path: String) throws -> Description {
        let state = try Checkpoint.readState(path: path)
        let config = state.config
        let r = config.resolution
        let hours = state.elapsedSeconds / 3600
        let text: [(String, String)] = [
            ("file", path),
            ("format", "voxgan-checkpoint (training state: G, D, optimisers)"),
            ("iteration", "\(state.iteration)"),
            ("training time", String(format: "%.0f s (%.2f h)", state.elapsedSeconds, hours)),
            ("resolution", "\(r) × \(r) × \(r)"),
            ("z", "\(config.zDimension)-d, \(config.zDistribution), std \(number(config.zStd))"),
            ("channels", "G " + config.generatorChannels.map(String.init).joined(separator: ", ")
                + "; D " + config.discriminatorChannels.map(String.init).joined(separator: ", ")),
            ("batch size", "\(config.batchSize)"),
            ("data", state.dataSource + String(format: " (occupancy %.4f)", state.dataOccupancy)),
            ("command", state.command),
        ]
        let json: [String: Any] = [
            "file": path, "format": "voxgan-checkpoint", "iteration": state.iteration,
            "elapsed_seconds": state.elapsedSeconds, "resolution": r,
            "z_dim": config.zDimension, "z_distribution": config.zDistribution,
            "batch_size": config.batchSize, "data_source": state.dataSource,
            "data_occupancy": state.dataOccupancy, "command": state.command,
        ]
        return (text, json)
    }

    static func describePacked(_ path: String) throws -> Description {
        let dataset = try PackedDataset.load(path: path)
        let r = dataset.resolution
        let first = Array(dataset.names.prefix(5))
        let more = dataset.count > first.count ? ", … (\(dataset.count) in all)" : ""
        let version = dataset.attributes["format_version"].map { " \($0)" } ?? ""
        var text: [(String, String)] = [
            ("file", path),
            ("format", (dataset.attributes["format"] ?? "HDF5 voxels") + version
                + " (packed dataset)"),
            ("grids", "\(dataset.count)"),
            ("resolution", "\(r) × \(r) × \(r) (x, y, z; +y up)"),
            ("occupancy", String(format: "mean %.4f", dataset.meanOccupancy)),
        ]
        if let source = dataset.attributes["source"] { text.append(("source", source)) }
        if let packing = dataset.attributes["packing"] { text.append(("packing", packing)) }
        text.append(("names", first.joined(separator: ", ") + more))
        let json: [String: Any] = [
            "file": path, "format": "packed", "count": dataset.count, "resolution": r,
            "mean_occupancy": dataset.meanOccupancy, "first_names": first,
            "attributes": dataset.attributes,
        ]
        return (text, json)
    }
}
