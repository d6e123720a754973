// Real chairs held in memory for training, as one contiguous byte array.
import Foundation
import HDF5Kit
import NN

/// N grids of side R as bytes 0/1 in `[n][x][y][z]` order (the packed dataset layout), which
/// is also the discriminator's input layout N × 1 × D × H × W with D, H, W = x, y, z.
public struct TrainingData: Sendable {

    public let resolution: Int
    public let count: Int
    public let voxels: [UInt8]
    /// Where the grids came from, for the weights file's metadata.
    public let source: String

    public init(resolution: Int, count: Int, voxels: [UInt8], source: String) {
        precondition(voxels.count == count * resolution * resolution * resolution)
        self.resolution = resolution
        self.count = count
        self.voxels = voxels
        self.source = source
    }

    /// Reads the `voxels` dataset of a packed file written by `voxgan pack`.
    public static func load(packed path: String) throws -> TrainingData {
        let file = try HDF5File.open(path)
        let dataset = try file.openDataset("voxels")
        let shape = dataset.shape
        guard shape.count == 4, shape[1] == shape[2], shape[2] == shape[3], shape[0] > 0 else {
            throw ModelError("\(path): 'voxels' must be N×R×R×R with N > 0, found \(shape)")
        }
        let bytes = try dataset.read(as: UInt8.self)
        let name = (path as NSString).lastPathComponent
        let source = (try? file.stringAttribute("source")).flatMap { $0 }.map { "\(name) (\($0))" }
        return TrainingData(resolution: shape[1], count: shape[0], voxels: bytes.map { $0 != 0 ? 1 : 0 },
                            source: source ?? name)
    }

    /// Share of occupied voxels over the whole set.
    public var meanOccupancy: Double {
        Double(voxels.reduce(0) { $0 + Int($1) }) / Double(max(voxels.count, 1))
    }

    /// Writes samples `indices` as floats into `batch` (N × 1 × R × R × R), mirroring along x
    /// (the left–right axis of a chair facing +z) where `flips[i]` is set.
    func fill(_ batch: Tensor, indices: [Int], flips: [Bool]) {
        let r = resolution
        let voxelsPerGrid = r * r * r
        let plane = r * r
        batch.resize(to: [indices.count, 1, r, r, r])
        voxels.withUnsafeBufferPointer { source in
            for (slot, index) in indices.enumerated() {
                let grid = source.baseAddress! + index * voxelsPerGrid
                let target = batch.data + slot * voxelsPerGrid
                for x in 0..<r {
                    let sourcePlane = grid + (flips[slot] ? r - 1 - x : x) * plane
                    let targetPlane = target + x * plane
                    for i in 0..<plane { targetPlane[i] = Float(sourcePlane[i]) }
                }
            }
        }
    }
}
