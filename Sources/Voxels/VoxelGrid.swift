// The voxel grid every part of voxgan passes around: occupancy bits on an (x, y, z) lattice,
// +y up, with binvox's placement metadata.

/// Occupancy of an `nx × ny × nz` lattice, one bit per voxel.
///
/// Addressing is `grid[x, y, z]` with +y up. Bits are stored with x slowest and y fastest,
/// the order of binvox's stream (`index = (x·nz + z)·ny + y`), so encoding is a straight scan.
/// The binvox placement of voxel `i` along an axis is its centre `translate + scale·(i+0.5)/d`,
/// where `d` is the largest extent.
public struct VoxelGrid: Hashable, Sendable {

    public let nx: Int
    public let ny: Int
    public let nz: Int

    /// World position of the grid's corner, binvox `translate`.
    public var translate: SIMD3<Double>

    /// World length of the grid's longest side, binvox `scale`.
    public var scale: Double

    /// Occupancy bits, 64 voxels per word, in binvox stream order.
    public private(set) var words: [UInt64]

    /// An empty grid of the given extents.
    public init(nx: Int, ny: Int, nz: Int, translate: SIMD3<Double> = .zero, scale: Double = 1) {
        precondition(nx >= 0 && ny >= 0 && nz >= 0, "negative grid extent")
        self.nx = nx
        self.ny = ny
        self.nz = nz
        self.translate = translate
        self.scale = scale
        self.words = [UInt64](repeating: 0, count: (nx * ny * nz + 63) / 64)
    }

    /// A grid from occupancy words in binvox stream order (`index = (x·nz + z)·ny + y`,
    /// 64 voxels per word, least significant bit first); bits past `nx·ny·nz` must be zero.
    public init(nx: Int, ny: Int, nz: Int, translate: SIMD3<Double> = .zero, scale: Double = 1,
                words: [UInt64]) {
        self.init(nx: nx, ny: ny, nz: nz, translate: translate, scale: scale)
        precondition(words.count == self.words.count, "word count mismatch")
        self.words = words
    }

    /// An empty cubic grid of side `resolution`.
    public init(resolution: Int) {
        self.init(nx: resolution, ny: resolution, nz: resolution)
    }

    /// Thresholds probabilities laid out as `p[x][y][z]` (x slowest, z fastest — the layout of
    /// a generator's output channel, `D,H,W` = `x,y,z`): voxel set where `p > threshold`.
    public init(probabilities: UnsafeBufferPointer<Float>, nx: Int, ny: Int, nz: Int,
                threshold: Float = 0.5) {
        precondition(probabilities.count == nx * ny * nz, "probability count mismatch")
        self.init(nx: nx, ny: ny, nz: nz)
        for x in 0..<nx {
            for y in 0..<ny {
                for z in 0..<nz where probabilities[(x * ny + y) * nz + z] > threshold {
                    self[x, y, z] = true
                }
            }
        }
    }

    public var count: Int { nx * ny * nz }

    /// Extents as (x, y, z).
    public var dimensions: SIMD3<Int> { SIMD3(nx, ny, nz) }

    public var isCubic: Bool { nx == ny && ny == nz }

    /// The position of voxel (x, y, z) in binvox stream order.
    @inline(__always)
    public func streamIndex(_ x: Int, _ y: Int, _ z: Int) -> Int { (x * nz + z) * ny + y }

    @inline(__always)
    public func contains(_ x: Int, _ y: Int, _ z: Int) -> Bool {
        x >= 0 && y >= 0 && z >= 0 && x < nx && y < ny && z < nz
    }

    public subscript(x: Int, y: Int, z: Int) -> Bool {
        @inline(__always) get {
            precondition(contains(x, y, z), "voxel (\(x), \(y), \(z)) outside \(nx)×\(ny)×\(nz)")
            let index = streamIndex(x, y, z)
            return words[index >> 6] & (1 << UInt64(index & 63)) != 0
        }
        @inline(__always) set {
            precondition(contains(x, y, z), "voxel (\(x), \(y), \(z)) outside \(nx)×\(ny)×\(nz)")
            let index = streamIndex(x, y, z)
            if newValue {
                words[index >> 6] |= 1 << UInt64(index & 63)
            } else {
                words[index >> 6] &= ~(1 << UInt64(index & 63))
            }
        }
    }

    /// Occupancy with out-of-range coordinates reading as empty (what meshers want).
    @inline(__always)
    public func isOccupied(_ x: Int, _ y: Int, _ z: Int) -> Bool {
        contains(x, y, z) && self[x, y, z]
    }

    /// Bit at stream position `index` (x slowest, z, then y fastest).
    @inline(__always)
    public func bit(atStreamIndex index: Int) -> Bool {
        words[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    /// Sets the bit at stream position `index`.
    @inline(__always)
    public mutating func setBit(atStreamIndex index: Int, _ value: Bool) {
        if value {
            words[index >> 6] |= 1 << UInt64(index & 63)
        } else {
            words[index >> 6] &= ~(1 << UInt64(index & 63))
        }
    }

    /// Replaces all bits at once; `words` must be in stream order with unused tail bits zero.
    public mutating func setWords(_ newWords: [UInt64]) {
        precondition(newWords.count == words.count, "word count mismatch")
        words = newWords
    }

    /// Number of occupied voxels.
    public var occupiedCount: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Occupied voxels over all voxels.
    public var occupancy: Double { count == 0 ? 0 : Double(occupiedCount) / Double(count) }

    /// World position of the centre of voxel (x, y, z): `translate + scale·(i + 0.5)/d`.
    public func centre(_ x: Int, _ y: Int, _ z: Int) -> SIMD3<Double> {
        let d = Double(max(nx, ny, nz, 1))
        return translate + scale * (SIMD3(Double(x), Double(y), Double(z)) + 0.5) / d
    }

    /// Occupancy as bytes 0/1 in `[x][y][z]` order (x slowest), the layout of packed datasets.
    public func bytesXYZ() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBufferPointer { out in
            writeBytesXYZ(into: out)
        }
        return bytes
    }

    /// Writes occupancy as bytes 0/1 in `[x][y][z]` order into `buffer`, which must hold
    /// exactly `count` bytes; every byte is overwritten.
    public func writeBytesXYZ(into buffer: UnsafeMutableBufferPointer<UInt8>) {
        precondition(buffer.count == count, "byte buffer of \(buffer.count) for \(count) voxels")
        guard let base = buffer.baseAddress else { return }
        base.update(repeating: 0, count: count)

        // Visit only the set bits: chairs fill a few percent of the grid.
        let (ny, nz) = (ny, nz)
        forEachOccupied { x, y, z in base[(x * ny + y) * nz + z] = 1 }
    }

    /// Builds a grid from bytes in `[x][y][z]` order; any non-zero byte is occupied.
    public init(bytesXYZ bytes: UnsafeBufferPointer<UInt8>, nx: Int, ny: Int, nz: Int) {
        precondition(bytes.count == nx * ny * nz, "byte count mismatch")
        self.init(nx: nx, ny: ny, nz: nz)
        for x in 0..<nx {
            for y in 0..<ny {
                for z in 0..<nz where bytes[(x * ny + y) * nz + z] != 0 { self[x, y, z] = true }
            }
        }
    }
}
