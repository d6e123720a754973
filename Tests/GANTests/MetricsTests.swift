// The sample-quality metrics of `voxgan eval` on tiny hand-made sets whose answers are worked
// out by hand in the comments.
import GAN
import NN
import Voxels
import XCTest

final class MetricsTests: XCTestCase {

    /// An 8³ grid with the given voxels set.
    private func grid(_ voxels: [(Int, Int, Int)], side: Int = 8) -> VoxelGrid {
        var grid = VoxelGrid(resolution: side)
        for (x, y, z) in voxels { grid[x, y, z] = true }
        return grid
    }

    /// A box of voxels from `low` to `high` inclusive.
    private func box(_ low: (Int, Int, Int), _ high: (Int, Int, Int), side: Int = 8) -> VoxelGrid {
        var voxels: [(Int, Int, Int)] = []
        for x in low.0...high.0 {
            for y in low.1...high.1 {
                for z in low.2...high.2 { voxels.append((x, y, z)) }
            }
        }
        return grid(voxels, side: side)
    }

    func testDistanceIsOneMinusIoUOnPackedBits() throws {
        // a has 4 voxels, b has 2 of them plus 1 more: IoU = 2 / 5, d = 0.6.
        let a = grid([(0, 0, 0), (1, 0, 0), (0, 1, 0), (7, 7, 7)])
        let b = grid([(0, 0, 0), (7, 7, 7), (3, 3, 3)])
        let empty = VoxelGrid(resolution: 8)
        let set = try PackedGridSet([a, b, empty])
        let m = DistanceMatrix(within: set, threads: 1)
        XCTAssertEqual(m[0, 1], 0.6, accuracy: 1e-6)
        XCTAssertEqual(m[1, 0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(m[0, 2], 1)
        XCTAssertEqual(m[0, 0], 0)
        let withEmpty = try DistanceMatrix(try PackedGridSet([empty]), try PackedGridSet([empty]))
        XCTAssertEqual(withEmpty[0, 0], 0, "two empty grids are identical")
    }

    func testDistanceMatrixMatchesGridIoUOnRandomGridsWithAnyThreadCount() throws {
        var random = SplitMix64(seed: 5)
        let grids = (0..<13).map { _ -> VoxelGrid in
            var g = VoxelGrid(resolution: 16)
            for _ in 0..<300 {
                g[Int(random.next() % 16), Int(random.next() % 8), Int(random.next() % 16)] = true
            }
            return g
        }
        let set = try PackedGridSet(grids)
        let one = try DistanceMatrix(set, set, threads: 1)
        let two = try DistanceMatrix(set, set, threads: 2)
        let within = DistanceMatrix(within: set, threads: 3)
        XCTAssertEqual(one.values, two.values)
        for i in 0..<grids.count {
            for j in 0..<grids.count {
                let iou = VoxelGrid.intersectionOverUnion(grids[i], grids[j])
                XCTAssertEqual(Double(one[i, j]), 1 - iou, accuracy: 1e-6)
                XCTAssertEqual(within[i, j], one[i, j])
            }
        }
    }

    func testSetMetricsFromHandMadeDistances() throws {
        // Two samples close to each other, two references far apart.
        //   MMD: reference 0's nearest sample is 0.1 away, reference 1's 0.5: mean 0.3.
        //   COV: both samples' nearest reference is reference 0: 1 of 2 covered.
        //   1-NNA: each sample's nearest is the other sample (0.05): right; each reference's
        //   nearest is a sample (0.1 and 0.5 < 0.9): wrong. 2 of 4.
        let sr = DistanceMatrix(rows: 2, columns: 2, values: [0.1, 0.5, 0.2, 0.6])
        let ss = DistanceMatrix(rows: 2, columns: 2, values: [0, 0.05, 0.05, 0])
        let rr = DistanceMatrix(rows: 2, columns: 2, values: [0, 0.9, 0.9, 0])
        let metrics = try SetMetrics(sampleToReference: sr, sampleToSample: ss,
                                     referenceToReference: rr)
        XCTAssertEqual(metrics.mmd, 0.3, accuracy: 1e-6)
        XCTAssertEqual(metrics.coverage, 0.5)
        XCTAssertEqual(metrics.oneNNA, 0.5)
    }

    func testIdenticalSetsScorePerfectMMDAndCoverageAndZeroAccuracy() throws {
        // Samples are exact copies of the references: every distance to the twin is 0, so MMD 0,
        // COV 1, and every element's nearest neighbour is its twin in the other set: 1-NNA 0.
        let shapes = [box((0, 0, 0), (1, 3, 1)), box((4, 0, 4), (7, 1, 7)),
                      box((2, 2, 2), (5, 5, 5))]
        let s = try PackedGridSet(shapes)
        let metrics = try SetMetrics(sampleToReference: DistanceMatrix(s, s),
                                     sampleToSample: DistanceMatrix(within: s),
                                     referenceToReference: DistanceMatrix(within: s))
        XCTAssertEqual(metrics, SetMetrics(mmd: 0, coverage: 1, oneNNA: 0))
    }

    func testSeparatedSetsAreToldApartEveryTime() throws {
        // Samples live in the low corner, references in the high one: no overlap (MMD 1), each
        // set's members overlap each other (1-NNA 1), and with every sample–reference distance
        // tied at 1 all samples pick reference 0 (COV 1/3).
        let samples = [box((0, 0, 0), (2, 2, 2)), box((0, 0, 0), (2, 3, 2)),
                       box((0, 0, 0), (3, 2, 2))]
        let references = [box((5, 5, 5), (7, 7, 7)), box((4, 5, 5), (7, 7, 7)),
                          box((5, 4, 5), (7, 7, 7))]
        let s = try PackedGridSet(samples), r = try PackedGridSet(references)
        let metrics = try SetMetrics(sampleToReference: DistanceMatrix(s, r),
                                     sampleToSample: DistanceMatrix(within: s),
                                     referenceToReference: DistanceMatrix(within: r))
        XCTAssertEqual(metrics.mmd, 1)
        XCTAssertEqual(metrics.coverage, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(metrics.oneNNA, 1)
    }

    func testEmptySetsAreRejectedWithAClearMessage() throws {
        let none = DistanceMatrix(rows: 0, columns: 2, values: [])
        let rr = DistanceMatrix(rows: 2, columns: 2, values: [0, 1, 1, 0])
        XCTAssertThrowsError(try SetMetrics(sampleToReference: none,
                                            sampleToSample: DistanceMatrix(rows: 0, columns: 0,
                                                                           values: []),
                                            referenceToReference: rr)) { error in
            XCTAssertTrue("\(error)".contains("sample set is empty"), "\(error)")
        }
        XCTAssertThrowsError(try PackedGridSet([])) { error in
            XCTAssertTrue("\(error)".contains("empty set"), "\(error)")
        }
        let shapes = [box((0, 0, 0), (1, 1, 1)), box((2, 2, 2), (3, 3, 3))]
        XCTAssertThrowsError(try QualityEvaluation().evaluate(samples: [], reference: shapes)) {
            XCTAssertTrue("\($0)".contains("no samples"), "\($0)")
        }
        XCTAssertThrowsError(try QualityEvaluation().evaluate(samples: shapes, reference: [])) {
            XCTAssertTrue("\($0)".contains("reference set has 0"), "\($0)")
        }
        XCTAssertThrowsError(try QualityEvaluation().evaluate(samples: shapes, reference: shapes,
                                                              train: [])) {
            XCTAssertTrue("\($0)".contains("training set is empty"), "\($0)")
        }
    }

    func testBoundingBoxNormalisationScalesUniformlyAndCentres() {
        // A 2×2×2 cube in a corner fills the whole 8³ grid.
        XCTAssertEqual(boundingBoxNormalized(box((0, 0, 0), (1, 1, 1))).occupiedCount, 512)

        // A 1×2×1 column is scaled 4×: 4×8×4 voxels, centred in x and z.
        let column = boundingBoxNormalized(box((3, 1, 5), (3, 2, 5)))
        XCTAssertEqual(column.occupiedCount, 4 * 8 * 4)
        let bounds = column.boundingBox!
        XCTAssertEqual(bounds.min, SIMD3(2, 0, 2))
        XCTAssertEqual(bounds.max, SIMD3(5, 7, 5))

        // The same shape at two placements and two margins normalises to the same grid.
        let small = box((2, 2, 2), (3, 5, 3))
        let shifted = box((4, 1, 0), (5, 4, 1))
        XCTAssertEqual(boundingBoxNormalized(small), boundingBoxNormalized(shifted))
        XCTAssertEqual(GridNormalization.none.apply(small), small)
        XCTAssertEqual(boundingBoxNormalized(VoxelGrid(resolution: 8)).occupiedCount, 0)
    }

    func testEvaluationOfACopyingModel() throws {
        // Eight distinct shapes; the "model" returns exact copies of them.
        var shapes: [VoxelGrid] = []
        for i in 0..<8 { shapes.append(box((i % 4, 0, i / 4), (i % 4 + 2, 3 + i % 3, 6))) }
        var evaluation = QualityEvaluation(normalization: .none, draws: 3, seed: 9, threads: 2)
        evaluation.memorisationIoU = 0.9
        let report = try evaluation.evaluate(samples: shapes, reference: shapes, train: shapes)
        XCTAssertEqual(report.rows.map(\.name),
                       ["samples vs reference", "samples vs half B", "real half A vs half B",
                        "train vs reference"])
        let whole = report.rows[0]
        XCTAssertEqual(whole.samples, 8)
        XCTAssertEqual(whole.references, 8)
        XCTAssertEqual(whole.mmd.mean, 0)
        XCTAssertEqual(whole.coverage.mean, 1)
        XCTAssertEqual(whole.oneNNA.mean, 0)
        XCTAssertEqual(report.rows[2].samples, 4)
        XCTAssertGreaterThan(report.rows[2].mmd.mean, 0, "halves A and B are disjoint")
        XCTAssertEqual(report.memorisedFraction, 1)
        XCTAssertEqual(report.nearestTrainIoU ?? 0, 1, accuracy: 1e-9)
        XCTAssertEqual(report.emptyFraction, 0)
        XCTAssertEqual(report.samplePairwiseIoU, report.referencePairwiseIoU)
        XCTAssertEqual(report.sampleOccupancy, report.referenceOccupancy)
    }
}
