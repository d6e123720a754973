// Whole-grid operations: connected components, bounding box, re-centring, resampling by whole
// factors, padding to a cube, intersection over union. Each returns a new grid and keeps the
// world placement (`translate`, `scale`) consistent with where the voxels ended up.

/// How `VoxelGrid.downsampled(by:mode:)` turns an f×f×f block into one voxel.
public enum DownsampleMode: String, CaseIterable, Sendable {
    /// Occupied when any voxel of the block is occupied (keeps thin chair legs).
    case any
    /// Occupied when more than half of the f³ voxels of the block are occupied.
    case majority
}

/// A grid operation that cannot be done with the given grid and parameters.
public struct VoxelGridError: Error, CustomStringConvertible {

    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

extension VoxelGrid {

    /// Length of one voxel's side in world units: `scale / max(nx, ny, nz)`.
    public var pitch: Double {
        let d = max(nx, ny, nz)
        return d == 0 ? scale : scale / Double(d)
    }

    /// Calls `body(x, y, z)` for every occupied voxel, in stream order (x slowest, y fastest).
    public func forEachOccupied(_ body: (Int, Int, Int) throws -> Void) rethrows {
        let column = ny * nz
        for (w, word) in words.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                let index = w << 6 | bits.trailingZeroBitCount
                bits &= bits - 1
                let x = index / column
                let rest = index - x * column
                let z = rest / ny
                try body(x, rest - z * ny, z)
            }
        }
    }

    /// Inclusive (min, max) voxel coordinates of the occupied voxels; nil when the grid is
    /// empty.
    public var boundingBox: (min: SIMD3<Int>, max: SIMD3<Int>)? {
        var low = SIMD3<Int>(repeating: .max)
        var high = SIMD3<Int>(repeating: .min)
        forEachOccupied { x, y, z in
            let p = SIMD3(x, y, z)
            low = pointwiseMin(low, p)
            high = pointwiseMax(high, p)
        }
        return low.x == .max ? nil : (low, high)
    }

    /// The same grid with every voxel moved by `offset` (voxels leaving the grid are dropped).
    /// `translate` moves the other way, so occupied voxels keep their world positions.
    public func shifted(by offset: SIMD3<Int>) -> VoxelGrid {
        var result = VoxelGrid(nx: nx, ny: ny, nz: nz,
                               translate: translate - pitch * SIMD3<Double>(offset),
                               scale: scale)
        forEachOccupied { x, y, z in
            let p = SIMD3(x, y, z) &+ offset
            if result.contains(p.x, p.y, p.z) { result[p.x, p.y, p.z] = true }
        }
        return result
    }

    /// The grid with its bounding box moved to the middle, an odd leftover voxel going to the
    /// high side. With `keepFloor` the y positions stay as they are (a chair standing on the
    /// grid's floor keeps standing there); by default all three axes are centred, the
    /// placement of the 3DShapeNets chairs the 3D-GAN was trained on. Voxels keep their world
    /// positions (`translate` compensates); an empty grid is returned unchanged.
    public func recentred(keepFloor: Bool = false) -> VoxelGrid {
        guard let box = boundingBox else { return self }
        let extent = box.max &- box.min &+ 1
        var offset = (dimensions &- extent) / 2 &- box.min
        if keepFloor { offset.y = 0 }
        return offset == .zero ? self : shifted(by: offset)
    }

    /// Each f×f×f block of voxels becomes one voxel (see `DownsampleMode`). Extents become
    /// `ceil(n / f)`; a partial block at the high end counts its missing voxels as empty. The
    /// grid's corner stays at `translate` and the voxel pitch grows f times.
    public func downsampled(by factor: Int, mode: DownsampleMode) -> VoxelGrid {
        precondition(factor >= 1, "downsampling factor \(factor) must be at least 1")
        guard factor > 1 else { return self }
        let (ox, oy, oz) = ((nx + factor - 1) / factor, (ny + factor - 1) / factor,
                            (nz + factor - 1) / factor)

        // 1. Count occupied voxels per output voxel (only occupied input voxels are visited).
        var counts = [Int32](repeating: 0, count: ox * oy * oz)
        counts.withUnsafeMutableBufferPointer { counts in
            forEachOccupied { x, y, z in
                counts[(x / factor * oz + z / factor) * oy + y / factor] += 1
            }
        }

        // 2. Threshold the counts; `counts` is already in the output's stream order.
        let block = factor * factor * factor
        let needed = mode == .any ? 1 : block / 2 + 1
        var words = [UInt64](repeating: 0, count: (counts.count + 63) >> 6)
        for (index, n) in counts.enumerated() where Int(n) >= needed {
            words[index >> 6] |= 1 << UInt64(index & 63)
        }
        // The longest side grows from d to f·d' old voxels (d' = ceil(d/f)); the ratio is
        // exactly 1 when f divides d, so whole-factor round trips keep `scale` bit for bit.
        let d = max(nx, ny, nz)
        let newScale = scale * Double(factor * max(ox, oy, oz)) / Double(d)
        return VoxelGrid(nx: ox, ny: oy, nz: oz, translate: translate, scale: newScale,
                         words: words)
    }

    /// Each voxel becomes an f×f×f block. The grid keeps its corner and world size (`scale` is
    /// unchanged); the voxel pitch shrinks f times.
    public func upsampled(by factor: Int) -> VoxelGrid {
        precondition(factor >= 1, "upsampling factor \(factor) must be at least 1")
        guard factor > 1 else { return self }
        let (ox, oy, oz) = (nx * factor, ny * factor, nz * factor)
        var words = [UInt64](repeating: 0, count: (ox * oy * oz + 63) >> 6)
        words.withUnsafeMutableBufferPointer { words in
            forEachOccupied { x, y, z in
                // A voxel is a run of `factor` bits in each of factor² output columns.
                for dx in 0..<factor {
                    for dz in 0..<factor {
                        let start = ((x * factor + dx) * oz + z * factor + dz) * oy + y * factor
                        Binvox.setBits(words, from: start, to: start + factor)
                    }
                }
            }
        }
        return VoxelGrid(nx: ox, ny: oy, nz: oz, translate: translate, scale: scale,
                         words: words)
    }

    /// A cubic grid of side `r`: the grid is padded to a cube, then down- or up-sampled by the
    /// whole factor between its side and `r`. Throws when that side and `r` are not whole
    /// multiples of each other (48 → 32, 30 → 32): nothing is interpolated.
    public func resampled(toResolution r: Int, mode: DownsampleMode = .any) throws
        -> VoxelGrid
    {
        guard r >= 1 else { throw VoxelGridError("cannot resample to resolution \(r)") }
        let cube = paddedToCube()
        let d = cube.nx
        if d == r { return cube }
        if d > r, d % r == 0 { return cube.downsampled(by: d / r, mode: mode) }
        if r > d, d > 0, r % d == 0 { return cube.upsampled(by: r / d) }
        throw VoxelGridError("cannot resample a \(nx)×\(ny)×\(nz) grid to \(r)³: only "
                             + "whole-number factors are supported and \(max(d, r)) is not a "
                             + "multiple of \(min(d, r))")
    }

    /// The grid padded with empty voxels at the high end of its shorter axes to a cube of side
    /// `max(nx, ny, nz)`. Voxel indices, `translate` and the voxel pitch are unchanged; `scale`
    /// (the world length of the longest side) is therefore unchanged too.
    public func paddedToCube() -> VoxelGrid {
        guard !isCubic else { return self }
        let d = max(nx, ny, nz)
        var padded = [UInt64](repeating: 0, count: (d * d * d + 63) >> 6)
        padded.withUnsafeMutableBufferPointer { padded in
            forEachOccupied { x, y, z in
                let index = (x * d + z) * d + y
                padded[index >> 6] |= 1 << UInt64(index & 63)
            }
        }
        return VoxelGrid(nx: d, ny: d, nz: d, translate: translate, scale: scale, words: padded)
    }

    /// The largest 26-connected set of occupied voxels (voxels touching by a face, an edge or a
    /// corner belong together); everything else is cleared. Of equally large components the
    /// one reached first in stream order (lowest `(x·nz + z)·ny + y` voxel) is kept.
    public func largestComponent() -> VoxelGrid {
        var visited = [UInt64](repeating: 0, count: words.count)
        var best: [Int] = []
        var component: [Int] = []
        let column = ny * nz

        forEachOccupied { x0, y0, z0 in
            let seed = streamIndex(x0, y0, z0)
            guard visited[seed >> 6] & (1 << UInt64(seed & 63)) == 0 else { return }

            // Flood fill; `component` doubles as the work list (entries past `next` are to do).
            component.removeAll(keepingCapacity: true)
            component.append(seed)
            visited[seed >> 6] |= 1 << UInt64(seed & 63)
            var next = 0
            while next < component.count {
                let index = component[next]
                next += 1
                let x = index / column
                let rest = index - x * column
                let z = rest / ny
                let y = rest - z * ny
                for dx in -1...1 where x + dx >= 0 && x + dx < nx {
                    for dz in -1...1 where z + dz >= 0 && z + dz < nz {
                        for dy in -1...1 where y + dy >= 0 && y + dy < ny {
                            let n = index + dx * column + dz * ny + dy
                            let mask: UInt64 = 1 << UInt64(n & 63)
                            if words[n >> 6] & mask != 0 && visited[n >> 6] & mask == 0 {
                                visited[n >> 6] |= mask
                                component.append(n)
                            }
                        }
                    }
                }
            }
            if component.count > best.count { swap(&best, &component) }
        }

        var kept = [UInt64](repeating: 0, count: words.count)
        for index in best { kept[index >> 6] |= 1 << UInt64(index & 63) }
        return VoxelGrid(nx: nx, ny: ny, nz: nz, translate: translate, scale: scale, words: kept)
    }

    /// |a ∩ b| / |a ∪ b| over occupied voxels, counted a word at a time; 1 when both grids are
    /// empty (they are identical). The grids must have the same extents.
    public static func intersectionOverUnion(_ a: VoxelGrid, _ b: VoxelGrid) -> Double {
        precondition(a.dimensions == b.dimensions,
                     "IoU of a \(a.nx)×\(a.ny)×\(a.nz) and a \(b.nx)×\(b.ny)×\(b.nz) grid")
        var intersection = 0
        var union = 0
        for (u, v) in zip(a.words, b.words) {
            intersection += (u & v).nonzeroBitCount
            union += (u | v).nonzeroBitCount
        }
        return union == 0 ? 1 : Double(intersection) / Double(union)
    }
}

extension VoxelGrid {

    /// Faces between an occupied voxel and an empty or out-of-range neighbour: the size of the
    /// culled-cube mesh in quads, known before building it. Meshing and rendering cost grows
    /// with it, not with the grid's volume, so callers bound it before doing either.
    public var exposedFaceCount: Int {
        var faces = 0
        forEachOccupied { x, y, z in
            if !isOccupied(x - 1, y, z) { faces += 1 }
            if !isOccupied(x + 1, y, z) { faces += 1 }
            if !isOccupied(x, y - 1, z) { faces += 1 }
            if !isOccupied(x, y + 1, z) { faces += 1 }
            if !isOccupied(x, y, z - 1) { faces += 1 }
            if !isOccupied(x, y, z + 1) { faces += 1 }
        }
        return faces
    }
}
