// The trained generator behind the server's `ChairModel` protocol.
import Foundation
import GAN
import NN

/// A weights file's generator, in evaluation mode, serialised behind a lock (its layers reuse
/// their buffers, so one forward pass runs at a time; the batcher calls it from one thread).
public final class TrainedChairModel: ChairModel {

    public let resolution: Int
    public let zDimension: Int
    public let info: [String: String]
    public let weightsSHA256: String
    public let recommendedThreshold: Float
    public let zDistribution: LatentDistribution

    private let generator: Generator
    private let metadata: WeightsMetadata
    private let lock = NSLock()

    /// Why `path` cannot be read, in the system's words ("is a folder", "permission denied"),
    /// instead of Foundation's NSCocoaErrorDomain text.
    private static func readFailure(_ path: String) -> String {
        var status = stat()
        if stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR { return "it is a folder" }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor < 0 else {
            close(descriptor)
            return "read failed"
        }
        return String(cString: strerror(errno)).lowercased()
    }

    /// Loads `path`; throws an error naming the file when it is missing or not a valid
    /// voxgan weights file.
    public init(weightsPath path: String) throws {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ModelError("\(path): cannot read the weights file (\(Self.readFailure(path)))")
        }
        (generator, metadata) = try WeightsFile.loadGenerator(path: path)
        generator.freezeForInference()
        resolution = generator.config.resolution
        zDimension = generator.config.zDimension
        recommendedThreshold = Float(metadata.recommendedThreshold)
        zDistribution = metadata.zDistribution
        weightsSHA256 = SHA256.hex(bytes)
        var info = metadata.attributes
        info["resolution"] = String(resolution)
        info["z_dim"] = String(zDimension)
        info["z_distribution"] = metadata.zDistribution.rawValue
        info["z_std"] = String(metadata.zStd)
        info["channels"] = generator.config.channels.map(String.init).joined(separator: ",")
        info["recommended_threshold"] = String(format: "%.3f", metadata.recommendedThreshold)
        info["weights_file"] = (path as NSString).lastPathComponent
        info.removeValue(forKey: "format")
        self.info = info
    }

    public func latent(seed: UInt64) -> [Float] {
        latentVector(seed: seed, dimension: zDimension, distribution: metadata.zDistribution,
                     std: metadata.zStd)
    }

    public func generate(latents: [[Float]]) throws -> [[Float]] {
        guard !latents.isEmpty else { return [] }
        guard latents.allSatisfy({ $0.count == zDimension && $0.allSatisfy { $0.isFinite } }) else {
            throw ModelError("every z must have \(zDimension) finite numbers")
        }
        let voxels = resolution * resolution * resolution
        return lock.withLock {
            let z = Tensor(shape: [latents.count, zDimension, 1, 1, 1], values: latents.flatMap { $0 })
            let probabilities = generator(z)
            return (0..<latents.count).map { n in
                Array(UnsafeBufferPointer(start: probabilities.data + n * voxels, count: voxels))
            }
        }
    }
}

/// Opens the weights file the server was started with.
public func loadChairModel(weightsPath: String) throws -> ChairModel {
    try TrainedChairModel(weightsPath: weightsPath)
}
