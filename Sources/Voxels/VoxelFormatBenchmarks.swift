// Timings of the voxel formats, for `voxgan bench` (speed is measured here, never asserted in
// unit tests). Every function returns the median over its repetitions, in seconds.
import Foundation

/// Benchmarks of the binvox codec and of packed datasets.
public enum VoxelFormatBenchmarks {

    /// Median seconds per operation on one 64³ binvox file.
    public struct BinvoxTimings: Sendable {
        /// `Binvox.read(path:)`: open, read and decode the file.
        public let readFile: Double
        /// `Binvox.write(_:to:)`: encode and write the file.
        public let writeFile: Double
        /// `Binvox.decode` of bytes already in memory.
        public let decode: Double
        /// `Binvox.encode` into memory.
        public let encode: Double
    }

    /// A 64³ chair-like grid (seat, four legs, backrest toward +z) when no file is at hand.
    public static func syntheticChair(resolution r: Int = 64) -> VoxelGrid {
        var grid = VoxelGrid(resolution: r)
        let (low, high) = (r / 4, 3 * r / 4)
        let seat = r / 2
        for x in low..<high {
            for z in low..<high {
                grid[x, seat, z] = true  // seat
                if z >= high - 2 {
                    for y in seat..<(r - 4) { grid[x, y, z] = true }  // backrest
                }
            }
        }
        for (x, z) in [(low, low), (low, high - 1), (high - 1, low), (high - 1, high - 1)] {
            for y in 0..<seat { grid[x, y, z] = true }  // legs
        }
        return grid
    }

    /// Times reading and writing a 64³ binvox: the file at `path` if given (any resolution),
    /// else `syntheticChair()`. Uses a temporary file that it removes afterwards.
    public static func binvox(path: String? = nil, repetitions: Int = 200) throws
        -> BinvoxTimings
    {
        let grid = try path.map { try Binvox.read(path: $0) } ?? syntheticChair()
        let bytes = Binvox.encode(grid)
        let temporary = NSTemporaryDirectory() + "voxgan-bench-\(getpid()).binvox"
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        try Binvox.write(grid, to: temporary)

        let decode = try median(repetitions) { _ = try Binvox.decode(bytes) }
        let encode = try median(repetitions) { _ = Binvox.encode(grid) }
        let read = try median(repetitions) { _ = try Binvox.read(path: temporary) }
        let write = try median(repetitions) { try Binvox.write(grid, to: temporary) }
        return BinvoxTimings(readFile: read, writeFile: write, decode: decode, encode: encode)
    }

    /// Seconds to load the packed dataset at `path` into memory (median of `repetitions`).
    public static func loadPacked(path: String, repetitions: Int = 3) throws -> Double {
        try median(repetitions) { _ = try PackedDataset.load(path: path) }
    }

    /// Seconds to pack `inputs` at `resolution` and write the result to a temporary file.
    public static func pack(inputs: [String], resolution: Int = 32, dedupe: Bool = true) throws
        -> Double
    {
        let temporary = NSTemporaryDirectory() + "voxgan-bench-\(getpid()).h5"
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        return try median(1) {
            let packer = DatasetPacker(resolution: resolution, dedupe: dedupe)
            try packer.pack(inputs: inputs).write(to: temporary, source: "benchmark")
        }
    }

    static func median(_ repetitions: Int, _ body: () throws -> Void) throws -> Double {
        let clock = ContinuousClock()
        var seconds: [Double] = []
        for _ in 0..<max(1, repetitions) {
            let start = clock.now
            try body()
            let elapsed = clock.now - start
            seconds.append(Double(elapsed.components.seconds)
                           + Double(elapsed.components.attoseconds) * 1e-18)
        }
        return seconds.sorted()[seconds.count / 2]
    }
}
