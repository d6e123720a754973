// Sample-quality metrics for `voxgan eval`. Every metric is built on one distance between two
// thresholded grids, d = 1 − IoU, counted on bit-packed grids with popcounts:
//
//   MMD    for each reference shape, the distance to its nearest sample, averaged (lower is
//          better; "minimum matching distance", Achlioptas et al. 2018)
//   COV    share of reference shapes that are the nearest reference of at least one sample
//          (higher is better)
//   1-NNA  leave-one-out 1-nearest-neighbour accuracy at telling samples from reference shapes
//          in their union (Yang et al. 2019, PointFlow); 0.5 is ideal, 1.0 means the two sets
//          are told apart every time. Meaningful only for sets of equal size.
//
// Ties are broken towards the lower index (samples before references in 1-NNA), so every
// figure is deterministic.
import Dispatch
import Foundation
import NN
import Voxels

/// A metric asked of inputs it cannot be computed on (empty sets, mismatched sizes).
public struct MetricsError: Error, CustomStringConvertible {

    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

// MARK: - Grids as packed bits

/// How grids are placed before they are compared.
public enum GridNormalization: String, CaseIterable, Codable, Sendable {
    /// Each grid's bounding box is scaled uniformly (aspect ratio kept) until its longest side
    /// spans the grid, then centred on all three axes. Makes sets voxelised with different
    /// margins comparable (3DShapeNets' 24³ box inside 32³ against ModelNet10 grids whose
    /// tallest side spans 32).
    case bbox
    /// Grids are compared as they are.
    case none

    /// `grid` placed as this normalisation says.
    public func apply(_ grid: VoxelGrid) -> VoxelGrid {
        switch self {
        case .bbox: return boundingBoxNormalized(grid)
        case .none: return grid
        }
    }
}

/// `grid` with its occupied bounding box scaled by one factor s = side / longest box side
/// (s ≥ 1, never shrinking) and centred in a grid of the same extents. Nearest-neighbour
/// sampling at target voxel centres: with s ≥ 1 every source voxel lands on at least one
/// target voxel, so thin legs survive. An empty grid is returned unchanged.
public func boundingBoxNormalized(_ grid: VoxelGrid) -> VoxelGrid {
    guard let box = grid.boundingBox else { return grid }
    let extent = box.max &- box.min &+ 1
    let side = min(grid.nx, grid.ny, grid.nz)
    let scale = Double(side) / Double(max(extent.x, extent.y, extent.z))

    // Per axis: the target extent, its offset, and for each target index the source index.
    func axis(_ n: Int, _ low: Int, _ length: Int) -> [Int] {
        let target = min(n, max(1, Int((Double(length) * scale).rounded())))
        let offset = (n - target) / 2
        var map = [Int](repeating: -1, count: n)
        for t in 0..<target {
            let source = Int((Double(t) + 0.5) / Double(target) * Double(length))
            map[offset + t] = low + min(source, length - 1)
        }
        return map
    }
    let mx = axis(grid.nx, box.min.x, extent.x)
    let my = axis(grid.ny, box.min.y, extent.y)
    let mz = axis(grid.nz, box.min.z, extent.z)

    var result = VoxelGrid(nx: grid.nx, ny: grid.ny, nz: grid.nz)
    for x in 0..<grid.nx where mx[x] >= 0 {
        for z in 0..<grid.nz where mz[z] >= 0 {
            for y in 0..<grid.ny where my[y] >= 0 && grid[mx[x], my[y], mz[z]] {
                result.setBit(atStreamIndex: result.streamIndex(x, y, z), true)
            }
        }
    }
    return result
}

/// Grids of one extent as packed bits in one contiguous block, with what the distance kernel
/// needs per grid: its occupied-voxel count and the first and last non-zero word.
///
/// Layout: `words[i·wordsPerGrid ..< (i+1)·wordsPerGrid]` are grid i's `VoxelGrid.words`
/// (binvox stream order, 64 voxels per word).
public struct PackedGridSet: Sendable {

    public let dimensions: SIMD3<Int>
    public let wordsPerGrid: Int
    public let count: Int
    let words: [UInt64]
    let occupied: [Int]
    /// First non-zero word and one past the last; (0, 0) for an empty grid.
    let spans: [(start: Int, end: Int)]

    /// Packs `grids`, which must all have `dimensions` (required when `grids` is empty).
    public init(_ grids: [VoxelGrid], dimensions: SIMD3<Int>? = nil) throws {
        guard let dims = dimensions ?? grids.first?.dimensions else {
            throw MetricsError("an empty set of grids needs its dimensions")
        }
        if let odd = grids.firstIndex(where: { $0.dimensions != dims }) {
            let d = grids[odd].dimensions
            throw MetricsError("grid \(odd) is \(d.x)×\(d.y)×\(d.z), the set is "
                               + "\(dims.x)×\(dims.y)×\(dims.z)")
        }
        self.dimensions = dims
        wordsPerGrid = (dims.x * dims.y * dims.z + 63) / 64
        count = grids.count
        var words: [UInt64] = []
        words.reserveCapacity(grids.count * wordsPerGrid)
        var occupied: [Int] = []
        var spans: [(start: Int, end: Int)] = []
        for grid in grids {
            words += grid.words
            occupied.append(grid.occupiedCount)
            let first = grid.words.firstIndex { $0 != 0 }
            let last = grid.words.lastIndex { $0 != 0 }
            spans.append(first.map { ($0, last! + 1) } ?? (0, 0))
        }
        self.words = words
        self.occupied = occupied
        self.spans = spans
    }

    /// 1 − IoU of grid `i` of this set and grid `j` of `other`; 0 when both are empty.
    @inline(__always)
    func distance(_ i: Int, _ other: PackedGridSet, _ j: Int,
                  _ a: UnsafePointer<UInt64>, _ b: UnsafePointer<UInt64>) -> Float {
        let start = max(spans[i].start, other.spans[j].start)
        let end = min(spans[i].end, other.spans[j].end)
        let rowA = a + i * wordsPerGrid
        let rowB = b + j * wordsPerGrid
        var intersection = 0
        var k = start
        while k < end {
            intersection &+= (rowA[k] & rowB[k]).nonzeroBitCount
            k += 1
        }
        // |A ∪ B| = |A| + |B| − |A ∩ B|: one popcount per word instead of two.
        let union = occupied[i] + other.occupied[j] - intersection
        return union == 0 ? 0 : 1 - Float(intersection) / Float(union)
    }
}

// MARK: - Distance matrices

/// Distances d = 1 − IoU between the grids of two sets, `rows × columns`, row-major.
public struct DistanceMatrix: Sendable {

    public let rows: Int
    public let columns: Int
    /// `values[i·columns + j]` = d(row grid i, column grid j).
    public let values: [Float]

    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(values.count == rows * columns,
                     "\(values.count) values for \(rows)×\(columns)")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    public subscript(i: Int, j: Int) -> Float { values[i * columns + j] }

    /// Every pair of a grid of `a` and a grid of `b`, rows split over `threads` threads.
    public init(_ a: PackedGridSet, _ b: PackedGridSet, threads: Int = 2) throws {
        guard a.dimensions == b.dimensions else {
            throw MetricsError("cannot compare \(a.dimensions) grids with \(b.dimensions) grids")
        }
        var values = [Float](repeating: 0, count: a.count * b.count)
        let columns = b.count
        values.withUnsafeMutableBufferPointer { out in
            a.words.withUnsafeBufferPointer { wa in
                b.words.withUnsafeBufferPointer { wb in
                    Self.parallelRows(a.count, threads: threads) { i in
                        for j in 0..<columns {
                            out[i * columns + j] = a.distance(i, b, j, wa.baseAddress!,
                                                              wb.baseAddress!)
                        }
                    }
                }
            }
        }
        self.init(rows: a.count, columns: b.count, values: values)
    }

    /// The symmetric matrix of a set against itself (zero diagonal); each pair is counted once.
    public init(within a: PackedGridSet, threads: Int = 2) {
        let n = a.count
        var values = [Float](repeating: 0, count: n * n)
        values.withUnsafeMutableBufferPointer { out in
            a.words.withUnsafeBufferPointer { wa in
                Self.parallelRows(n, threads: threads) { i in
                    for j in (i + 1)..<n {
                        let d = a.distance(i, a, j, wa.baseAddress!, wa.baseAddress!)
                        out[i * n + j] = d
                        out[j * n + i] = d
                    }
                }
            }
        }
        self.init(rows: n, columns: n, values: values)
    }

    /// The rows and columns picked by `rowIndices` and `columnIndices`, in that order.
    public func submatrix(rows rowIndices: [Int], columns columnIndices: [Int]) -> DistanceMatrix {
        var picked: [Float] = []
        picked.reserveCapacity(rowIndices.count * columnIndices.count)
        for i in rowIndices {
            for j in columnIndices { picked.append(values[i * columns + j]) }
        }
        return DistanceMatrix(rows: rowIndices.count, columns: columnIndices.count,
                              values: picked)
    }

    /// Runs `body(row)` for every row; rows are dealt round-robin to the threads, which
    /// balances the triangular work of `init(within:)`. Each row writes only its own cells
    /// (and, for the symmetric matrix, its mirror cells, which no other row writes).
    static func parallelRows(_ rows: Int, threads: Int, _ body: (Int) -> Void) {
        let workers = max(1, min(threads, rows))
        if workers == 1 {
            for i in 0..<rows { body(i) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for i in stride(from: worker, to: rows, by: workers) { body(i) }
        }
    }
}

// MARK: - Set metrics

/// MMD, COV and 1-NNA of one sample set against one reference set.
public struct SetMetrics: Codable, Equatable, Sendable {

    /// Mean over reference shapes of the distance to the nearest sample.
    public var mmd: Double
    /// Share of reference shapes that are some sample's nearest reference.
    public var coverage: Double
    /// Leave-one-out 1-NN accuracy over samples ∪ references (0.5 ideal).
    public var oneNNA: Double

    public init(mmd: Double, coverage: Double, oneNNA: Double) {
        self.mmd = mmd
        self.coverage = coverage
        self.oneNNA = oneNNA
    }

    /// - Parameters:
    ///   - sampleToReference: S × R distances.
    ///   - sampleToSample: S × S distances (the diagonal is ignored).
    ///   - referenceToReference: R × R distances (the diagonal is ignored).
    public init(sampleToReference sr: DistanceMatrix, sampleToSample ss: DistanceMatrix,
                referenceToReference rr: DistanceMatrix) throws {
        let (s, r) = (sr.rows, sr.columns)
        guard s > 0 else { throw MetricsError("no samples to measure (the sample set is empty)") }
        guard r > 0 else { throw MetricsError("no reference shapes (the reference set is empty)") }
        guard ss.rows == s, ss.columns == s, rr.rows == r, rr.columns == r else {
            throw MetricsError("distance matrices disagree: \(s)×\(r) samples × references, "
                               + "\(ss.rows)×\(ss.columns) samples, \(rr.rows)×\(rr.columns) "
                               + "references")
        }

        // 1. MMD: each reference's nearest sample.
        var total = 0.0
        for j in 0..<r {
            var best = Float.infinity
            for i in 0..<s { best = min(best, sr[i, j]) }
            total += Double(best)
        }
        mmd = total / Double(r)

        // 2. COV: each sample's nearest reference, counted once per reference.
        var matched = [Bool](repeating: false, count: r)
        for i in 0..<s {
            var best = 0
            for j in 1..<r where sr[i, j] < sr[i, best] { best = j }
            matched[best] = true
        }
        coverage = Double(matched.filter { $0 }.count) / Double(r)

        // 3. 1-NNA: each element's nearest other element in the union, samples listed first;
        //    right when it comes from the same set.
        var correct = 0
        for i in 0..<s {
            var best = Float.infinity
            var fromSamples = false
            for k in 0..<s where k != i && ss[i, k] < best { best = ss[i, k]; fromSamples = true }
            for j in 0..<r where sr[i, j] < best { best = sr[i, j]; fromSamples = false }
            if fromSamples { correct += 1 }
        }
        for j in 0..<r {
            var best = Float.infinity
            var fromSamples = false
            for i in 0..<s where sr[i, j] < best { best = sr[i, j]; fromSamples = true }
            for k in 0..<r where k != j && rr[j, k] < best { best = rr[j, k]; fromSamples = false }
            if !fromSamples { correct += 1 }
        }
        oneNNA = Double(correct) / Double(s + r)
    }
}

// MARK: - The evaluation

/// Mean, standard deviation, minimum and maximum of a figure over repeated draws.
public struct Spread: Codable, Equatable, Sendable {

    public var mean: Double
    public var std: Double
    public var min: Double
    public var max: Double

    public init(_ values: [Double]) {
        let n = Double(Swift.max(values.count, 1))
        let average = values.reduce(0, +) / n
        mean = average
        std = (values.map { ($0 - average) * ($0 - average) }.reduce(0, +) / n).squareRoot()
        min = values.min() ?? 0
        max = values.max() ?? 0
    }
}

/// One line of the evaluation table: set metrics averaged over `draws` random draws.
public struct MetricsRow: Codable, Sendable {

    /// What was compared, e.g. "samples vs reference".
    public var name: String
    /// Shapes per draw on each side.
    public var samples: Int
    public var references: Int
    public var draws: Int
    public var mmd: Spread
    public var coverage: Spread
    public var oneNNA: Spread
}

/// Everything `voxgan eval` reports.
public struct QualityReport: Codable, Sendable {

    public var normalization: GridNormalization
    public var sampleCount: Int
    public var referenceCount: Int
    public var trainCount: Int?
    /// The set-metric rows: samples against the whole reference set, samples against half B,
    /// real half A against half B (the baseline), training shapes against the reference set.
    public var rows: [MetricsRow]
    /// Share of samples with fewer than 0.1 % of their voxels occupied.
    public var emptyFraction: Double
    /// Share of samples with more than 50 % of their voxels occupied.
    public var solidFraction: Double
    /// Occupied share of the grid as generated / as stored (before normalisation).
    public var sampleOccupancy: Spread
    public var referenceOccupancy: Spread
    public var trainOccupancy: Spread?
    /// Mean IoU over all pairs of samples (collapse: near 1) and, to read it, of references.
    public var samplePairwiseIoU: Double
    public var referencePairwiseIoU: Double
    /// Share of samples whose nearest training shape has IoU > 0.9; nil without a train set.
    public var memorisedFraction: Double?
    /// Mean IoU of each sample with its nearest training shape.
    public var nearestTrainIoU: Double?
}

/// Computes a `QualityReport` from thresholded grids.
public struct QualityEvaluation {

    /// How grids are placed before distances are taken.
    public var normalization: GridNormalization = .bbox
    /// Random draws (subsets and halves) each set metric is averaged over.
    public var draws = 10
    /// Seed of those draws.
    public var seed: UInt64 = 1
    /// Threads for the distance matrices.
    public var threads = 2
    /// IoU above which a sample counts as a copy of a training shape.
    public var memorisationIoU = 0.9

    public init(normalization: GridNormalization = .bbox, draws: Int = 10, seed: UInt64 = 1,
                threads: Int = 2) {
        self.normalization = normalization
        self.draws = draws
        self.seed = seed
        self.threads = threads
    }

    /// Measures `samples` against `reference` (and `train` for memorisation and a train row).
    ///
    /// Set metrics compare sets of equal size, since 1-NNA reads 0.5 as ideal only then: each
    /// draw takes |R| samples (all of them when there are fewer). The baseline splits the
    /// reference set into random halves A and B and compares A with B; the row "samples vs
    /// half B" compares |A| samples with the same B, so it reads directly against it.
    public func evaluate(samples: [VoxelGrid], reference: [VoxelGrid], train: [VoxelGrid]? = nil,
                         log: (String) -> Void = { _ in }) throws -> QualityReport {
        guard !samples.isEmpty else { throw MetricsError("no samples to evaluate (count is 0)") }
        guard reference.count >= 2 else {
            throw MetricsError("the reference set has \(reference.count) shape(s); at least 2 "
                               + "are needed (the baseline splits it in halves)")
        }
        if let train, train.isEmpty { throw MetricsError("the training set is empty") }
        guard draws >= 1 else { throw MetricsError("draws must be at least 1, got \(draws)") }

        // 1. Normalise and pack every set; distances between all pairs that are needed.
        let started = Date()
        let s = try PackedGridSet(samples.map(normalization.apply))
        let r = try PackedGridSet(reference.map(normalization.apply))
        let t = try train.map { try PackedGridSet($0.map(normalization.apply)) }
        let sr = try DistanceMatrix(s, r, threads: threads)
        let ss = DistanceMatrix(within: s, threads: threads)
        let rr = DistanceMatrix(within: r, threads: threads)
        var pairs = s.count * r.count + s.count * (s.count - 1) / 2 + r.count * (r.count - 1) / 2
        var st: DistanceMatrix?, tr: DistanceMatrix?, tt: DistanceMatrix?
        if let t {
            st = try DistanceMatrix(s, t, threads: threads)
            tr = try DistanceMatrix(t, r, threads: threads)
            tt = DistanceMatrix(within: t, threads: threads)
            pairs += s.count * t.count + t.count * r.count + t.count * (t.count - 1) / 2
        }
        log(String(format: "%d distances in %.2f s", pairs, Date().timeIntervalSince(started)))

        // 2. Set metrics over random draws.
        var random = SplitMix64(seed: seed)
        let n = min(samples.count, reference.count)
        let half = reference.count / 2
        var whole: [SetMetrics] = [], matched: [SetMetrics] = [], baseline: [SetMetrics] = []
        var trained: [SetMetrics] = []
        for _ in 0..<draws {
            let pick = Self.draw(n, from: samples.count, &random)
            let all = Array(0..<reference.count)
            whole.append(try SetMetrics(sampleToReference: sr.submatrix(rows: pick, columns: all),
                                        sampleToSample: ss.submatrix(rows: pick, columns: pick),
                                        referenceToReference: rr))

            let order = Self.draw(reference.count, from: reference.count, &random)
            let a = Array(order[0..<half]), b = Array(order[half..<(2 * half)])
            let pickHalf = Array(Self.draw(min(half, samples.count), from: samples.count,
                                           &random))
            let rrB = rr.submatrix(rows: b, columns: b)
            matched.append(try SetMetrics(
                sampleToReference: sr.submatrix(rows: pickHalf, columns: b),
                sampleToSample: ss.submatrix(rows: pickHalf, columns: pickHalf),
                referenceToReference: rrB))
            baseline.append(try SetMetrics(sampleToReference: rr.submatrix(rows: a, columns: b),
                                           sampleToSample: rr.submatrix(rows: a, columns: a),
                                           referenceToReference: rrB))
            if let tr, let tt, let t {
                let pickTrain = Self.draw(min(reference.count, t.count), from: t.count, &random)
                trained.append(try SetMetrics(
                    sampleToReference: tr.submatrix(rows: pickTrain, columns: all),
                    sampleToSample: tt.submatrix(rows: pickTrain, columns: pickTrain),
                    referenceToReference: rr))
            }
        }
        func row(_ name: String, _ metrics: [SetMetrics], _ sCount: Int, _ rCount: Int)
            -> MetricsRow
        {
            MetricsRow(name: name, samples: sCount, references: rCount, draws: metrics.count,
                       mmd: Spread(metrics.map(\.mmd)), coverage: Spread(metrics.map(\.coverage)),
                       oneNNA: Spread(metrics.map(\.oneNNA)))
        }
        var rows = [row("samples vs reference", whole, n, reference.count),
                    row("samples vs half B", matched, min(half, samples.count), half),
                    row("real half A vs half B", baseline, half, half)]
        if let t {
            rows.append(row("train vs reference", trained, min(reference.count, t.count),
                            reference.count))
        }

        // 3. Health of the samples, on the grids as generated.
        let occupancies = samples.map(\.occupancy)
        var report = QualityReport(
            normalization: normalization, sampleCount: samples.count,
            referenceCount: reference.count, trainCount: train?.count, rows: rows,
            emptyFraction: Double(occupancies.filter { $0 < 0.001 }.count) / Double(samples.count),
            solidFraction: Double(occupancies.filter { $0 > 0.5 }.count) / Double(samples.count),
            sampleOccupancy: Spread(occupancies),
            referenceOccupancy: Spread(reference.map(\.occupancy)),
            trainOccupancy: train.map { Spread($0.map(\.occupancy)) },
            samplePairwiseIoU: Self.meanOffDiagonalIoU(ss),
            referencePairwiseIoU: Self.meanOffDiagonalIoU(rr))

        // 4. Memorisation: each sample's nearest training shape.
        if let st {
            var copies = 0
            var total = 0.0
            for i in 0..<st.rows {
                var best = Float.infinity
                for j in 0..<st.columns { best = min(best, st[i, j]) }
                let iou = 1 - Double(best)
                total += iou
                if iou > memorisationIoU { copies += 1 }
            }
            report.memorisedFraction = Double(copies) / Double(st.rows)
            report.nearestTrainIoU = total / Double(st.rows)
        }
        return report
    }

    /// `k` distinct indices of `0..<n`, in random order (a partial Fisher–Yates shuffle).
    static func draw(_ k: Int, from n: Int, _ random: inout SplitMix64) -> [Int] {
        var order = Array(0..<n)
        for i in 0..<min(k, n) {
            let j = i + Int(random.next() % UInt64(n - i))
            order.swapAt(i, j)
        }
        return Array(order[0..<min(k, n)])
    }

    /// Mean of 1 − d over the pairs i < j; 0 for fewer than two grids.
    static func meanOffDiagonalIoU(_ m: DistanceMatrix) -> Double {
        guard m.rows > 1 else { return 0 }
        var total = 0.0
        for i in 0..<m.rows {
            for j in (i + 1)..<m.rows { total += 1 - Double(m[i, j]) }
        }
        return total / Double(m.rows * (m.rows - 1) / 2)
    }
}
