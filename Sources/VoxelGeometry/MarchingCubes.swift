// Marching cubes over voxel-centre samples, with the table of MarchingCubesTable.swift.
//
// Samples sit at voxel centres; the grid is padded with one empty layer on every side, so a
// shape touching the border is closed too. Only the box around the inside samples (plus one
// layer) is visited: chairs fill a small part of their grid.
import Voxels

extension VoxelMesher {

    /// Marching cubes at `isoLevel` over probabilities laid out `p[x][y][z]` (x slowest,
    /// z fastest: `p[(x·ny + y)·nz + z]`), the layout of a generator's output.
    ///
    /// A sample is inside when `p > isoLevel`; samples outside the grid count as 0. The
    /// sample of voxel `i` sits at its centre, `translate + scale·(i + 0.5)/d` with
    /// `d = max(nx, ny, nz)`, so for 0/1 occupancy at level 0.5 the surface runs halfway
    /// between voxel centres. The result is watertight and wound outward. Vertices are kept
    /// at least 1/1000 of a voxel from the samples, so distinct vertices never coincide.
    public static func smooth(probabilities: UnsafeBufferPointer<Float>, nx: Int, ny: Int,
                              nz: Int, isoLevel: Float = 0.5, translate: SIMD3<Double>,
                              scale: Double) -> TriangleMesh {
        precondition(probabilities.count == nx * ny * nz,
                     "smooth: \(probabilities.count) probabilities for a \(nx)×\(ny)×\(nz) grid")

        // 1. Box of inside samples.
        var low = SIMD3(Int.max, Int.max, Int.max), high = SIMD3(-1, -1, -1)
        for x in 0..<nx {
            for y in 0..<ny {
                let row = (x * ny + y) * nz
                var first = -1, last = -1
                for z in 0..<nz where probabilities[row + z] > isoLevel {
                    if first < 0 { first = z }
                    last = z
                }
                guard first >= 0 else { continue }
                low = pointwiseMin(low, SIMD3(x, y, first))
                high = pointwiseMax(high, SIMD3(x, y, last))
            }
        }
        guard high.x >= 0 else { return TriangleMesh() }

        // 2. Copy the box plus one layer, reading outside the grid as 0.
        var field = SampleField(low: low, high: high)
        field.values.withUnsafeMutableBufferPointer { values in
            for i in 0..<field.size.x {
                let x = field.origin.x + i
                guard x >= 0, x < nx else { continue }
                for j in 0..<field.size.y {
                    let y = field.origin.y + j
                    guard y >= 0, y < ny else { continue }
                    let source = (x * ny + y) * nz
                    let target = (i * field.size.y + j) * field.size.z
                    for k in 0..<field.size.z {
                        let z = field.origin.z + k
                        if z >= 0, z < nz { values[target + k] = probabilities[source + z] }
                    }
                }
            }
        }
        return field.march(isoLevel: isoLevel, translate: translate,
                           step: scale / Double(max(nx, ny, nz, 1)))
    }

    /// Marching cubes at level 0.5 over the occupancy (1 inside, 0 outside), in the grid's
    /// binvox placement. For one voxel: an octahedron-like closed surface of 8 triangles.
    public static func smooth(_ grid: VoxelGrid) -> TriangleMesh {
        let occupancy = PaddedOccupancy(grid)
        guard !occupancy.occupied.isEmpty else { return TriangleMesh() }
        var low = SIMD3(Int.max, Int.max, Int.max), high = SIMD3(-1, -1, -1)
        var coordinates: [SIMD3<Int>] = []
        coordinates.reserveCapacity(occupancy.occupied.count)
        for padded in occupancy.occupied {
            let c = occupancy.coordinates(Int(padded))
            let at = SIMD3(c.x, c.y, c.z)
            coordinates.append(at)
            low = pointwiseMin(low, at)
            high = pointwiseMax(high, at)
        }
        var field = SampleField(low: low, high: high)
        let origin = field.origin, size = field.size
        field.values.withUnsafeMutableBufferPointer { values in
            for at in coordinates {
                let local = at &- origin
                values[(local.x * size.y + local.y) * size.z + local.z] = 1
            }
        }
        let d = Double(max(grid.nx, grid.ny, grid.nz, 1))
        return field.march(isoLevel: 0.5, translate: grid.translate, step: grid.scale / d)
    }
}

/// Samples of a box of voxels, `values[(i·size.y + j)·size.z + k]` for voxel
/// `origin + (i, j, k)`; the box has one extra layer on every side of the inside samples.
struct SampleField {

    let origin: SIMD3<Int>
    let size: SIMD3<Int>
    var values: [Float]

    init(low: SIMD3<Int>, high: SIMD3<Int>) {
        origin = low &- 1
        size = high &- low &+ 3
        values = [Float](repeating: 0, count: size.x * size.y * size.z)
    }

    /// Runs marching cubes; `step` is the world length of one voxel.
    func march(isoLevel: Float, translate: SIMD3<Double>, step: Double) -> TriangleMesh {
        let sy = size.z, sx = size.y * size.z
        let count = values.count
        var vertices: [SIMD3<Float>] = []
        var triangles: [SIMD3<UInt32>] = []

        // Inside bits, one byte per sample.
        var inside = [UInt8](repeating: 0, count: count)
        // Vertex index per (sample, axis) edge; only slots of crossing edges are read.
        var slots = [UInt32](repeating: 0, count: count * 3)

        values.withUnsafeBufferPointer { values in
            inside.withUnsafeMutableBufferPointer { inside in
                for index in 0..<count where values[index] > isoLevel { inside[index] = 1 }
            }

            // 1. A vertex on every edge whose ends differ. Edges leaving the box would join two
            // outside samples (the box has a margin), so they never cross.
            let base = SIMD3<Double>(origin) + 0.5
            inside.withUnsafeBufferPointer { inside in
                slots.withUnsafeMutableBufferPointer { slots in
                    for i in 0..<size.x {
                        for j in 0..<size.y {
                            for k in 0..<size.z {
                                let s = (i * size.y + j) * size.z + k
                                let here = inside[s]
                                let neighbours = (i + 1 < size.x ? s + sx : -1,
                                                  j + 1 < size.y ? s + sy : -1,
                                                  k + 1 < size.z ? s + 1 : -1)
                                for axis in 0..<3 {
                                    let other = axis == 0 ? neighbours.0
                                        : axis == 1 ? neighbours.1 : neighbours.2
                                    guard other >= 0, inside[other] != here else { continue }
                                    let a = values[s], b = values[other]
                                    var t = (isoLevel - a) / (b - a)
                                    if !(t >= 0.001) { t = 0.001 }  // also catches NaN
                                    if t > 0.999 { t = 0.999 }
                                    var q = base + SIMD3(Double(i), Double(j), Double(k))
                                    q[axis] += Double(t)
                                    slots[s * 3 + axis] = UInt32(vertices.count)
                                    vertices.append(SIMD3<Float>(translate + step * q))
                                }
                            }
                        }
                    }
                }
            }

            // 2. Triangles per cube, from the case table.
            var edgeOffset = [Int](repeating: 0, count: 12)
            for edge in 0..<12 {
                let corner = MarchingCubesTable.startCorner(edge)
                let sample = (corner & 1) * sx + ((corner >> 1) & 1) * sy + (corner >> 2) & 1
                edgeOffset[edge] = sample * 3 + edge / 4
            }
            let cornerOffset = (0..<8).map { ($0 & 1) * sx + (($0 >> 1) & 1) * sy + ($0 >> 2) & 1 }
            let table = MarchingCubesTable.triangleEdges
            let start = MarchingCubesTable.triangleStart
            triangles.reserveCapacity(vertices.count * 2)
            inside.withUnsafeBufferPointer { inside in
                slots.withUnsafeBufferPointer { slots in
                    for i in 0..<(size.x - 1) {
                        for j in 0..<(size.y - 1) {
                            for k in 0..<(size.z - 1) {
                                let s = (i * size.y + j) * size.z + k
                                var config = 0
                                for corner in 0..<8 {
                                    config |= Int(inside[s + cornerOffset[corner]]) << corner
                                }
                                guard config != 0, config != 255 else { continue }
                                var entry = start[config]
                                let end = start[config + 1]
                                while entry < end {
                                    let a = slots[s * 3 + edgeOffset[Int(table[entry])]]
                                    let b = slots[s * 3 + edgeOffset[Int(table[entry + 1])]]
                                    let c = slots[s * 3 + edgeOffset[Int(table[entry + 2])]]
                                    triangles.append(SIMD3(a, b, c))
                                    entry += 3
                                }
                            }
                        }
                    }
                }
            }
        }
        return TriangleMesh(vertices: vertices, triangles: triangles)
    }
}
