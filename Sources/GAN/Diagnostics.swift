// Health figures for a batch of generated grids: the signals of the failure modes 3D-GAN users
// hit (collapse to empty or solid grids, identical samples, NaN).
import Foundation
import NN
import Voxels

/// What a batch of generated grids looks like.
public struct SampleDiagnostics: Sendable {
    /// Mean share of occupied voxels at the threshold.
    public var meanOccupancy: Double
    /// Share of samples with fewer than 0.1 % of voxels occupied.
    public var emptyFraction: Double
    /// Share of samples with more than 50 % of voxels occupied.
    public var solidFraction: Double
    /// Mean IoU over all pairs of samples: near 1 means every z gives the same shape.
    public var meanPairwiseIoU: Double
    /// Share of probability mass between 0.2 and the threshold (structure hiding below it).
    public var dimFraction: Double
    /// True when any probability is NaN or infinite.
    public var hasNonFinite: Bool

    /// Failure modes to warn about, in words; empty when healthy.
    public var warnings: [String] {
        var list: [String] = []
        if hasNonFinite { list.append("NaN or Inf in generated probabilities") }
        if emptyFraction > 0.2 {
            list.append(String(format: "%.0f%% of samples are empty (collapse to empty grids)", emptyFraction * 100))
        }
        if solidFraction > 0.2 {
            list.append(String(format: "%.0f%% of samples are nearly solid", solidFraction * 100))
        }
        if meanPairwiseIoU > 0.5 {
            list.append(String(format: "mean pairwise IoU %.2f: samples look alike (mode collapse)", meanPairwiseIoU))
        }
        return list
    }

    /// Measures `count` grids of side `resolution` from probabilities laid out [n][x][y][z].
    public init(probabilities: UnsafeBufferPointer<Float>, count: Int, resolution: Int,
                threshold: Float) {
        let voxels = resolution * resolution * resolution
        var grids: [VoxelGrid] = []
        var nonFinite = false
        var dim = 0
        for n in 0..<count {
            let slice = UnsafeBufferPointer(rebasing: probabilities[(n * voxels)..<((n + 1) * voxels)])
            for p in slice {
                if !p.isFinite { nonFinite = true } else if p > 0.2 && p <= threshold { dim += 1 }
            }
            grids.append(VoxelGrid(probabilities: slice, nx: resolution, ny: resolution,
                                   nz: resolution, threshold: threshold))
        }
        let occupancies = grids.map { $0.occupancy }
        meanOccupancy = occupancies.reduce(0, +) / Double(max(count, 1))
        emptyFraction = Double(occupancies.filter { $0 < 0.001 }.count) / Double(max(count, 1))
        solidFraction = Double(occupancies.filter { $0 > 0.5 }.count) / Double(max(count, 1))
        meanPairwiseIoU = Self.meanPairwiseIoU(grids)
        dimFraction = Double(dim) / Double(max(count * voxels, 1))
        hasNonFinite = nonFinite
    }

    /// Mean IoU over all pairs, from popcounts of the packed bits. Two empty grids count as
    /// identical (IoU 1).
    public static func meanPairwiseIoU(_ grids: [VoxelGrid]) -> Double {
        guard grids.count > 1 else { return 0 }
        var total = 0.0
        var pairs = 0
        for i in 0..<grids.count {
            for j in (i + 1)..<grids.count {
                total += VoxelGrid.intersectionOverUnion(grids[i], grids[j])
                pairs += 1
            }
        }
        return total / Double(pairs)
    }
}

/// The threshold t at which the mean occupancy of `probabilities` (p > t) matches `target`,
/// found by bisection; what a weights file records as its recommended threshold when the
/// generator's outputs are dimmer than the data.
public func calibratedThreshold(probabilities: UnsafeBufferPointer<Float>,
                                targetOccupancy: Double) -> Float {
    var low: Float = 0.005
    var high: Float = 0.95
    let total = Double(probabilities.count)
    func occupancy(_ t: Float) -> Double {
        var count = 0
        for p in probabilities where p > t { count += 1 }
        return Double(count) / total
    }
    for _ in 0..<30 {
        let middle = (low + high) / 2
        if occupancy(middle) > targetOccupancy { low = middle } else { high = middle }
    }
    return (low + high) / 2
}
