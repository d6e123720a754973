// The weights file: an HDF5 file that h5py reads and PyTorch code can load (README, "Weights
// file"). Layout:
//
//   /                    attributes format = "voxgan-weights", format_version, resolution,
//                        z_dim, z_distribution, z_std, channels, leaky_slope, bn_eps, and the
//                        training metadata (recommended_threshold, dataset, iterations, ...)
//   /generator/layerN    weight (PyTorch layout), bias (if any), and for the batch norm that
//                        follows the convolution: bn_weight, bn_bias, bn_running_mean,
//                        bn_running_var
//   /discriminator/layerN  the same, when the file carries a discriminator
import Foundation
import Voxels
import HDF5Kit
import NN

/// What a weights file says about the model besides its tensors.
public struct WeightsMetadata: Sendable {

    public var zDistribution: LatentDistribution = .normal
    public var zStd: Double = 1
    /// The occupancy threshold that makes samples look like the training data (p > t).
    public var recommendedThreshold: Double = 0.5
    /// Free-form string attributes: dataset, date, command, iterations, epochs, ...
    public var attributes: [String: String] = [:]

    public init(zDistribution: LatentDistribution = .normal, zStd: Double = 1,
                recommendedThreshold: Double = 0.5, attributes: [String: String] = [:]) {
        self.zDistribution = zDistribution
        self.zStd = zStd
        self.recommendedThreshold = recommendedThreshold
        self.attributes = attributes
    }
}

/// Reading and writing weights files.
public enum WeightsFile {

    public static let format = "voxgan-weights"
    public static let formatVersion = 1

    /// Writes G (and D when given) with metadata. The file appears atomically: it is written
    /// next to `path` under a temporary name, synced, then renamed over `path`.
    ///
    /// With `halfPrecision`, convolution weights are stored as IEEE float16 (half the file;
    /// batch-norm tensors stay float32) and the networks' weights are first rounded the same
    /// way in memory, so the caller's networks equal what any reader of the file gets.
    public static func write(generator: Generator, discriminator: Discriminator? = nil,
                             metadata: WeightsMetadata, halfPrecision: Bool = false,
                             to path: String) throws {
        try AtomicFile.write(to: path) { temporary in
            let file = try HDF5File.create(temporary)
            try writeRootAttributes(file, generator: generator, discriminator: discriminator,
                                    metadata: metadata)
            try file.setAttribute("weight_storage", halfPrecision ? "float16" : "float32")
            try writeBlocks(generator.blocks, into: file.createGroup("generator"),
                            halfPrecision: halfPrecision)
            if let discriminator {
                try writeBlocks(discriminator.blocks, into: file.createGroup("discriminator"),
                                halfPrecision: halfPrecision)
            }
        }
    }

    /// Rounds every convolution weight and bias of `blocks` to float16 precision in place.
    public static func roundToHalfPrecision(_ blocks: [ConvolutionBlock]) {
        for block in blocks {
            for parameter in [block.weight] + (block.bias.map { [$0] } ?? []) {
                let data = parameter.value.data
                for index in 0..<parameter.value.count { data[index] = Float(Float16(data[index])) }
            }
        }
    }

    static func writeRootAttributes(_ file: HDF5Group, generator: Generator,
                                    discriminator: Discriminator?,
                                    metadata: WeightsMetadata) throws {
        let config = generator.config
        try file.setAttribute("format", format)
        try file.setAttribute("format_version", formatVersion)
        try file.setAttribute("resolution", config.resolution)
        try file.setAttribute("z_dim", config.zDimension)
        try file.setAttribute("z_distribution", metadata.zDistribution.rawValue)
        try file.setAttribute("z_std", metadata.zStd)
        try file.setAttribute("channels", values: config.channels.map { Int64($0) })
        try file.setAttribute("leaky_slope", Double(discriminator?.config.leakySlope ?? 0.2))
        try file.setAttribute("bn_eps", 1e-5)
        try file.setAttribute("recommended_threshold", metadata.recommendedThreshold)
        if let discriminator {
            let d = discriminator.config
            try file.setAttribute("discriminator_channels", values: d.channels.map { Int64($0) })
            try file.setAttribute("discriminator_batch_norm", d.batchNorm ? 1 : 0)
            try file.setAttribute("discriminator_bias", d.bias ? 1 : 0)
        }
        for (key, value) in metadata.attributes.sorted(by: { $0.key < $1.key }) {
            try file.setAttribute(key, value)
        }
    }

    /// Stores each block as `layerN` with PyTorch-layout tensors.
    static func writeBlocks(_ blocks: [ConvolutionBlock], into group: HDF5Group,
                            halfPrecision: Bool = false) throws {
        if halfPrecision { roundToHalfPrecision(blocks) }
        for (index, block) in blocks.enumerated() {
            let layer = try group.createGroup("layer\(index)")
            let weight = block.weight.value
            if halfPrecision {
                try layer.writeHalfPrecision("weight", weight.toArray(), shape: weight.shape)
                if let bias = block.bias { try layer.writeHalfPrecision("bias", bias.value.toArray()) }
            } else {
                try layer.write("weight", weight.toArray(), shape: weight.shape)
                if let bias = block.bias { try layer.write("bias", bias.value.toArray()) }
            }
            if let bn = block.batchNorm {
                try layer.write("bn_weight", bn.weight.value.toArray())
                try layer.write("bn_bias", bn.bias.value.toArray())
                try layer.write("bn_running_mean", bn.runningMean.toArray())
                try layer.write("bn_running_var", bn.runningVariance.toArray())
                try layer.setAttribute("bn_num_batches_tracked", bn.batchesTracked)
            }
        }
    }

    /// Fills each block from `layerN`, checking every shape and that every value is finite.
    static func readBlocks(_ blocks: [ConvolutionBlock], from group: HDF5Group) throws {
        func load(_ layer: HDF5Group, _ name: String, into tensor: Tensor,
                  nonNegative: Bool = false) throws {
            let dataset = try layer.openDataset(name)
            guard dataset.shape == tensor.shape || (dataset.elementCount == tensor.count
                                                    && tensor.shape.count == 1) else {
                throw ModelError("\(dataset.location): shape \(dataset.shape), expected \(tensor.shape)")
            }
            let values = try dataset.read(as: Float.self)
            guard values.allSatisfy({ $0.isFinite }) else {
                throw ModelError("\(dataset.location): contains NaN or infinite values")
            }
            guard !nonNegative || values.allSatisfy({ $0 >= 0 }) else {
                throw ModelError("\(dataset.location): a value is negative (a variance cannot be)")
            }
            values.withUnsafeBufferPointer { tensor.data.update(from: $0.baseAddress!, count: values.count) }
        }
        let names = try group.childNames().filter { $0.hasPrefix("layer") }
        guard names.count == blocks.count else {
            throw ModelError("\(group.location): \(names.count) layers, the configuration needs \(blocks.count)")
        }
        for (index, block) in blocks.enumerated() {
            let layer = try group.openGroup("layer\(index)")
            try load(layer, "weight", into: block.weight.value)
            if let bias = block.bias { try load(layer, "bias", into: bias.value) }
            if let bn = block.batchNorm {
                try load(layer, "bn_weight", into: bn.weight.value)
                try load(layer, "bn_bias", into: bn.bias.value)
                try load(layer, "bn_running_mean", into: bn.runningMean)
                try load(layer, "bn_running_var", into: bn.runningVariance, nonNegative: true)
                bn.batchesTracked = try layer.intAttribute("bn_num_batches_tracked") ?? 0
            }
        }
    }

    /// Loads the generator of a weights file in evaluation mode, with its metadata.
    public static func loadGenerator(path: String) throws -> (Generator, WeightsMetadata) {
        let file = try HDF5File.open(path)
        guard try file.stringAttribute("format") == format else {
            throw ModelError("\(path): not a voxgan weights file (attribute format ≠ \"\(format)\")")
        }
        if let version = try file.intAttribute("format_version"), version > formatVersion {
            throw ModelError("\(path): format_version \(version) is newer than this voxgan "
                             + "reads (\(formatVersion))")
        }
        guard let resolution = try file.intAttribute("resolution"),
              let zDimension = try file.intAttribute("z_dim"),
              let channels = try file.numericAttribute("channels", as: Int64.self) else {
            throw ModelError("\(path): missing resolution, z_dim or channels attribute")
        }
        // Sizes are checked before anything is allocated from them.
        guard (1...Self.largestSize).contains(zDimension), resolution <= 1024,
              channels.allSatisfy({ (1...Int64(Self.largestSize)).contains($0) }) else {
            throw ModelError("\(path): z_dim \(zDimension), resolution \(resolution) or channels "
                             + "\(channels) out of range (z_dim and channels 1–\(Self.largestSize))")
        }
        if let epsilon = try file.doubleAttribute("bn_eps"), !(epsilon > 0 && epsilon.isFinite) {
            throw ModelError("\(path): bn_eps must be a positive number, got \(epsilon)")
        }
        let config = GeneratorConfig(resolution: resolution, zDimension: zDimension,
                                     channels: channels.map { Int($0) })
        let hasBias = file.contains("generator/layer0/bias")
        let generator = try Generator(config: config, bias: hasBias)
        try readBlocks(generator.blocks, from: file.openGroup("generator"))
        generator.isTraining = false
        return (generator, try readMetadata(file))
    }

    /// Largest z dimension or channel width a weights file may declare (the paper's are 200
    /// and 512).
    static let largestSize = 4096

    static func readMetadata(_ file: HDF5File) throws -> WeightsMetadata {
        var metadata = WeightsMetadata()
        if let text = try file.stringAttribute("z_distribution") {
            guard let distribution = LatentDistribution(rawValue: text) else {
                throw ModelError("\(file.path): unknown z_distribution '\(text)'")
            }
            metadata.zDistribution = distribution
        }
        metadata.zStd = try file.doubleAttribute("z_std") ?? 1
        guard metadata.zStd > 0 && metadata.zStd.isFinite else {
            throw ModelError("\(file.path): z_std must be a positive number, got \(metadata.zStd)")
        }
        metadata.recommendedThreshold = try file.doubleAttribute("recommended_threshold") ?? 0.5
        guard (0...1).contains(metadata.recommendedThreshold) else {
            throw ModelError("\(file.path): recommended_threshold must be from 0 to 1, got "
                             + "\(metadata.recommendedThreshold)")
        }
        for name in try file.attributeNames() {
            if let value = try? file.stringAttribute(name) { metadata.attributes[name] = value }
        }
        return metadata
    }
}

/// Writing a file so that readers see either the old file or the complete new one, never a
/// partial write (see `OutputPath.write`).
public enum AtomicFile {

    public static func write(to path: String, _ body: (String) throws -> Void) throws {
        // The same rules as every other output: links followed, special files written into,
        // regular files written beside the target, fsynced and renamed over it.
        do { try OutputPath.write(to: path, body) }
        catch let failure as OutputPath.Failure { throw ModelError(failure.description) }
    }
}
