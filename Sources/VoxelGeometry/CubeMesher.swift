// Culled-cube meshing: the exposed faces of occupied voxels, as a closed 2-manifold.
//
// Naively sharing every lattice corner is not enough for a closed manifold: two voxels that
// touch only along an edge put four faces on that edge, and two that touch only at a corner
// make the surface pass through the corner twice. Here occupied voxels count as connected only
// through faces (6-connectivity), like the marching-cubes tables of this module, and:
//   1. Every lattice corner gets one vertex per cycle of faces around it ("component"),
//      from a 256-entry table over the 2×2×2 voxels around the corner (`CornerTopology`).
//   2. Where an edge touched by two diagonal voxels still joins the same vertex copies at
//      both ends (the two voxels also meet elsewhere around both corners), the edge is split
//      at its midpoint once per voxel, so the two sheets meeting there stay distinct edges.
// Copies that share a position are then nudged 0.005 voxel towards their own sheet, so the
// surface does not touch itself and position-merging tools (trimesh) also see it closed.
// The result is dual to the marching-cubes surface of the same grid, so both have the same
// Euler characteristic; the tests check that.
import Voxels

/// Meshing of voxel grids.
///
/// See Also: `TriangleMesh`, `OBJWriter`, `STLWriter`.
public enum VoxelMesher {

    /// The exposed faces of occupied voxels, two triangles per unit face (or fewer, larger
    /// faces with `mergeCoplanar`).
    ///
    /// Voxel `(x, y, z)` spans `[x, x+1] × [y, y+1] × [z, z+1]` in lattice units; lattice point
    /// `i` sits at `translate + scale·i/d` with `d = max(nx, ny, nz)`, as in binvox. Out-of-range
    /// neighbours count as empty, so voxels on the border are closed. The result is watertight,
    /// wound outward, and a 2-manifold: where voxels touch only along an edge or at a corner,
    /// each sheet gets its own vertex there, moved 0.005 voxel towards its sheet so the copies
    /// stay apart. One voxel gives 8 vertices and 12 triangles.
    ///
    /// - Parameters:
    ///   - grid: the occupancy; an empty grid gives an empty mesh.
    ///   - mergeCoplanar: merges runs of coplanar unit faces greedily into rectangles. Edges
    ///     of neighbouring faces that end on a rectangle's side split that side, so the mesh
    ///     stays watertight (no T-junctions); faces next to diagonal contacts stay unit squares.
    public static func cubes(_ grid: VoxelGrid, mergeCoplanar: Bool = false) -> TriangleMesh {
        var builder = CubeMeshBuilder(grid)
        if mergeCoplanar {
            builder.buildMerged()
        } else {
            builder.buildUnitFaces()
        }
        return TriangleMesh(vertices: builder.vertices, triangles: builder.triangles)
    }
}

// MARK: - Corner topology

/// Which faces around a lattice corner belong to the same sheet of surface.
///
/// The 2×2×2 voxels around a corner are its octants `o = dx | dy<<1 | dz<<2` (voxel
/// `corner − 1 + (dx, dy, dz)`); a configuration is the 8-bit set of occupied octants. The 12
/// unit faces between octants are numbered `axis·4 + u + 2v`, where `axis` is the axis the
/// face is perpendicular to and `u`, `v` are the octant bits of the other two axes in
/// increasing order.
enum CornerTopology {

    /// `component[config·12 + face]`: the sheet (0, 1, …) a boundary face belongs to, −1 when
    /// the face is not on the boundary.
    static let component: [Int8] = tables.component

    /// Number of sheets through the corner, per configuration.
    static let componentCount: [UInt8] = tables.count

    /// One sheet and no edge at the corner touched by two diagonal voxels: such corners can
    /// join merged rectangles.
    static let isSimple: [Bool] = tables.simple

    /// `copyDirection[config·8 + component]`: unit vector from the corner towards the centre
    /// of the sheet's faces around it. Copies are nudged a little along it, so sheets that
    /// touch at the corner become geometrically apart too (tools that merge vertices by
    /// position, such as trimesh, then still see a closed surface).
    static let copyDirection: [SIMD3<Float>] = {
        var directions = [SIMD3<Float>](repeating: .zero, count: 256 * 8)
        for config in 0..<256 where componentCount[config] > 1 {
            for face in 0..<12 {
                let label = Int(component[config * 12 + face])
                guard label >= 0 else { continue }
                let axis = face / 4
                let (first, second) = axis == 0 ? (1, 2) : axis == 1 ? (0, 2) : (0, 1)
                var centre = SIMD3<Float>.zero
                centre[first] = face & 1 == 1 ? 0.5 : -0.5
                centre[second] = face & 2 == 2 ? 0.5 : -0.5
                directions[config * 8 + label] += centre
            }
            for label in 0..<Int(componentCount[config]) {
                let sum = directions[config * 8 + label]
                let length = (sum * sum).sum().squareRoot()
                directions[config * 8 + label] = length > 0 ? sum / length : .zero
            }
        }
        return directions
    }()

    /// How far copies of a split corner move, in voxels.
    static let copyNudge = 0.005

    @inline(__always)
    static func face(axis: Int, octant: Int) -> Int {
        let (first, second) = axis == 0 ? (1, 2) : axis == 1 ? (0, 2) : (0, 1)
        return axis * 4 + ((octant >> first) & 1) + 2 * ((octant >> second) & 1)
    }

    private static let tables: (component: [Int8], count: [UInt8], simple: [Bool]) = {
        var component = [Int8](repeating: -1, count: 256 * 12)
        var count = [UInt8](repeating: 0, count: 256)
        var simple = [Bool](repeating: true, count: 256)
        for config in 0..<256 {
            var parent = Array(0..<12)
            func find(_ face: Int) -> Int {
                var face = face
                while parent[face] != face { face = parent[face] }
                return face
            }
            func union(_ a: Int, _ b: Int) { parent[find(a)] = find(b) }
            func occupied(_ octant: Int) -> Bool { config & (1 << octant) != 0 }

            // Faces are joined along each of the 6 half-edges from the corner; the 4 octants
            // around a half-edge (axis, side) form a ring, consecutive ones sharing a face.
            for axis in 0..<3 {
                let (first, second) = axis == 0 ? (1, 2) : axis == 1 ? (0, 2) : (0, 1)
                for side in 0..<2 {
                    let base = side << axis
                    let ring = [base, base | 1 << first, base | 1 << first | 1 << second,
                                base | 1 << second]
                    var boundary: [(face: Int, owner: Int)] = []
                    for index in 0..<4 {
                        let a = ring[index], b = ring[(index + 1) % 4]
                        guard occupied(a) != occupied(b) else { continue }
                        let across = (a ^ b) == 1 << first ? first : second
                        boundary.append((face(axis: across, octant: a),
                                         occupied(a) ? a : b))
                    }
                    if boundary.count == 2 {
                        union(boundary[0].face, boundary[1].face)
                    } else if boundary.count == 4 {
                        // Two diagonal voxels: each keeps its own two faces (6-connectivity).
                        simple[config] = false
                        for owner in Set(boundary.map(\.owner)) {
                            let faces = boundary.filter { $0.owner == owner }.map(\.face)
                            union(faces[0], faces[1])
                        }
                    }
                }
            }

            var label: [Int: Int8] = [:]
            for axis in 0..<3 {
                for octant in 0..<8 where octant & (1 << axis) == 0 {
                    guard occupied(octant) != occupied(octant | 1 << axis) else { continue }
                    let face = face(axis: axis, octant: octant)
                    let root = find(face)
                    if label[root] == nil { label[root] = Int8(label.count) }
                    component[config * 12 + face] = label[root]!
                }
            }
            count[config] = UInt8(label.count)
            if label.count > 1 { simple[config] = false }
        }
        return (component, count, simple)
    }()
}

// MARK: - Face directions

/// The six face directions `d` in the order −x, +x, −y, +y, −z, +z (axis `d/2`, positive when
/// `d` is odd), each with in-plane axes (u, v) chosen so that `u × v` is the outward normal:
/// corners `(0,0), (1,0), (1,1), (0,1)` in (u, v) then wind counter-clockwise from outside.
struct FaceDirections {

    /// In-plane axes per direction.
    static let uAxis = [2, 1, 0, 2, 1, 0]
    static let vAxis = [1, 2, 2, 0, 0, 1]

    /// Corner offsets in (u, v), counter-clockwise.
    static let cornerUV = [(0, 0), (1, 0), (1, 1), (0, 1)]

    /// Lattice offset of corner `k` of a face in direction `d` from its voxel, as (x, y, z).
    static func latticeOffset(direction d: Int, corner k: Int) -> SIMD3<Int> {
        var offset = SIMD3<Int>.zero
        offset[d / 2] = d & 1
        offset[uAxis[d]] = cornerUV[k].0
        offset[vAxis[d]] = cornerUV[k].1
        return offset
    }

    /// The octant the face's voxel occupies in the 2×2×2 block around corner `k`.
    static func octant(direction d: Int, corner k: Int) -> Int {
        let offset = latticeOffset(direction: d, corner: k)
        return (1 - offset.x) | (1 - offset.y) << 1 | (1 - offset.z) << 2
    }
}

// MARK: - Builder

/// Mutable state of one culled-cube meshing run.
struct CubeMeshBuilder {

    let occupancy: PaddedOccupancy
    let origin: SIMD3<Double>
    let step: Double

    /// Lattice extents (nx+1, ny+1, nz+1); lattice point (i, j, k) has index
    /// `(i·latticeY + j)·latticeZ + k`.
    let latticeY: Int
    let latticeZ: Int

    /// First vertex of each lattice point's copies, −1 until a face uses the point.
    var firstVertex: [Int32]

    /// Configuration of the 2×2×2 voxels around each lattice point, valid once allocated.
    var configuration: [UInt8]

    var vertices: [SIMD3<Float>] = []
    var triangles: [SIMD3<UInt32>] = []

    /// Midpoints of split diagonal-contact edges, keyed by (edge, owning voxel).
    var midpoints: [SIMD2<Int>: UInt32] = [:]

    /// Per direction and corner: padded-index offset from the voxel to the first voxel of the
    /// corner's block, and the face's index among the 12 faces of that block.
    let blockOffset: [Int]
    let blockFace: [Int]
    let latticeOffset: [SIMD3<Int>]

    /// Padded-index offsets of the six neighbours, in direction order.
    let neighbour: [Int]

    init(_ grid: VoxelGrid) {
        occupancy = PaddedOccupancy(grid)
        let d = Double(max(grid.nx, grid.ny, grid.nz, 1))
        origin = grid.translate
        step = grid.scale / d
        latticeY = grid.ny + 1
        latticeZ = grid.nz + 1
        let latticeCount = (grid.nx + 1) * latticeY * latticeZ
        firstVertex = occupancy.occupied.isEmpty
            ? [] : [Int32](repeating: -1, count: latticeCount)
        configuration = occupancy.occupied.isEmpty
            ? [] : [UInt8](repeating: 0, count: latticeCount)

        let sx = occupancy.strideX, sy = occupancy.strideY
        var blockOffset: [Int] = [], blockFace: [Int] = [], latticeOffset: [SIMD3<Int>] = []
        for d in 0..<6 {
            for k in 0..<4 {
                let offset = FaceDirections.latticeOffset(direction: d, corner: k)
                latticeOffset.append(offset)
                // Block voxel (0,0,0) of lattice point L is voxel L − 1.
                blockOffset.append((offset.x - 1) * sx + (offset.y - 1) * sy + offset.z - 1)
                blockFace.append(CornerTopology.face(
                    axis: d / 2, octant: FaceDirections.octant(direction: d, corner: k)))
            }
        }
        self.blockOffset = blockOffset
        self.blockFace = blockFace
        self.latticeOffset = latticeOffset
        neighbour = [-sx, sx, -sy, sy, -1, 1]
        vertices.reserveCapacity(occupancy.occupied.count * 2)
        triangles.reserveCapacity(occupancy.occupied.count * 4)
    }

    /// Octant bit mask of the 2×2×2 block whose first voxel has padded index `block`.
    @inline(__always)
    func blockConfiguration(_ cells: UnsafeBufferPointer<UInt8>, _ block: Int) -> Int {
        let sx = occupancy.strideX, sy = occupancy.strideY
        var config = Int(cells[block]) | Int(cells[block + sx]) << 1
        config |= Int(cells[block + sy]) << 2 | Int(cells[block + sx + sy]) << 3
        config |= Int(cells[block + 1]) << 4 | Int(cells[block + sx + 1]) << 5
        config |= Int(cells[block + sy + 1]) << 6 | Int(cells[block + sx + sy + 1]) << 7
        return config
    }

    /// The vertex for corner `k` of the face of voxel `voxel` (padded index, grid coordinates
    /// `at`) in direction `d`: allocates the lattice point's copies on first use.
    @inline(__always)
    mutating func cornerVertex(_ cells: UnsafeBufferPointer<UInt8>, voxel: Int, at: SIMD3<Int>,
                               direction d: Int, corner k: Int) -> UInt32 {
        let slot = d * 4 + k
        let point = at &+ latticeOffset[slot]
        let lattice = (point.x * latticeY + point.y) * latticeZ + point.z
        var first = firstVertex[lattice]
        let config: Int
        if first < 0 {
            config = blockConfiguration(cells, voxel + blockOffset[slot])
            configuration[lattice] = UInt8(config)
            first = Int32(vertices.count)
            firstVertex[lattice] = first
            let position = origin + step * SIMD3<Double>(point)
            let copies = Int(CornerTopology.componentCount[config])
            if copies == 1 {
                vertices.append(SIMD3<Float>(position))
            } else {
                let nudge = step * CornerTopology.copyNudge
                for copy in 0..<copies {
                    let direction = SIMD3<Double>(CornerTopology.copyDirection[config * 8 + copy])
                    vertices.append(SIMD3<Float>(position + nudge * direction))
                }
            }
        } else {
            config = Int(configuration[lattice])
        }
        return UInt32(first) + UInt32(CornerTopology.component[config * 12 + blockFace[slot]])
    }

    /// The copy of lattice point `point` that face `face` (0..<12) of its block belongs to;
    /// the point must already be allocated.
    @inline(__always)
    func allocatedVertex(_ point: SIMD3<Int>, face: Int) -> UInt32 {
        let lattice = (point.x * latticeY + point.y) * latticeZ + point.z
        let config = Int(configuration[lattice])
        return UInt32(firstVertex[lattice]) + UInt32(CornerTopology.component[config * 12 + face])
    }

    /// Emits the unit face of `voxel` in direction `d` as two triangles, or as a fan around its
    /// centre when one of its edges must be split (see the file comment).
    mutating func emitUnitFace(_ cells: UnsafeBufferPointer<UInt8>, voxel: Int, at: SIMD3<Int>,
                               direction d: Int) {
        var corner = SIMD4<UInt32>()
        for k in 0..<4 {
            corner[k] = cornerVertex(cells, voxel: voxel, at: at, direction: d, corner: k)
        }

        // Diagonal contacts on the face's edges: the voxel beside the edge (towards w) empty
        // and the one beyond it (w + normal) occupied.
        let sx = occupancy.strideX, sy = occupancy.strideY
        let normal = neighbour[d]
        let uStep = [sx, sy, 1][FaceDirections.uAxis[d]]
        let vStep = [sx, sy, 1][FaceDirections.vAxis[d]]
        var split: [UInt32?] = [nil, nil, nil, nil]
        var anySplit = false
        for k in 0..<4 {
            let w = k == 0 ? -vStep : k == 1 ? uStep : k == 2 ? vStep : -uStep
            guard cells[voxel + w] == 0, cells[voxel + w + normal] != 0 else { continue }
            if let midpoint = splitEdge(cells, voxel: voxel, at: at, direction: d, edge: k,
                                        corners: corner) {
                split[k] = midpoint
                anySplit = true
            }
        }

        if !anySplit {
            triangles.append(SIMD3(corner[0], corner[1], corner[2]))
            triangles.append(SIMD3(corner[0], corner[2], corner[3]))
            return
        }
        var ring: [UInt32] = []
        for k in 0..<4 {
            ring.append(corner[k])
            if let midpoint = split[k] { ring.append(midpoint) }
        }
        var centre = SIMD3<Float>.zero
        for k in 0..<4 { centre += vertices[Int(corner[k])] }
        let middle = UInt32(vertices.count)
        vertices.append(centre / 4)
        for index in 0..<ring.count {
            triangles.append(SIMD3(middle, ring[index], ring[(index + 1) % ring.count]))
        }
    }

    /// For edge `k` (from corner k to k+1) of a face whose voxel touches another voxel only
    /// along that edge: the midpoint vertex when both sheets through the edge use the same
    /// vertex copies at both ends, nil when the copies already keep them apart.
    mutating func splitEdge(_ cells: UnsafeBufferPointer<UInt8>, voxel: Int, at: SIMD3<Int>,
                            direction d: Int, edge k: Int, corners: SIMD4<UInt32>) -> UInt32? {
        let axis = d / 2
        let next = (k + 1) % 4
        // The diagonal voxel differs from this one along the face axis and along w, the
        // in-plane axis across the edge; its octants flip those two bits.
        let wAxis = k % 2 == 0 ? FaceDirections.vAxis[d] : FaceDirections.uAxis[d]
        let flip = 1 << axis | 1 << wAxis
        let start = at &+ latticeOffset[d * 4 + k]
        let end = at &+ latticeOffset[d * 4 + next]
        let otherStart = allocatedVertex(start, face: CornerTopology.face(
            axis: axis, octant: FaceDirections.octant(direction: d, corner: k) ^ flip))
        let otherEnd = allocatedVertex(end, face: CornerTopology.face(
            axis: axis, octant: FaceDirections.octant(direction: d, corner: next) ^ flip))
        guard otherStart == corners[k], otherEnd == corners[next] else { return nil }

        let low = pointwiseMin(start, end)
        let edgeAxis = k % 2 == 0 ? FaceDirections.uAxis[d] : FaceDirections.vAxis[d]
        let key = SIMD2(((low.x * latticeY + low.y) * latticeZ + low.z) * 3 + edgeAxis, voxel)
        if let existing = midpoints[key] { return existing }
        // The two sheets' midpoints coincide; each moves a little towards its own voxel.
        let index = UInt32(vertices.count)
        let middle = origin + step * (SIMD3<Double>(start) + SIMD3<Double>(end)) / 2
        let centre = origin + step * (SIMD3<Double>(at) + 0.5)
        let towards = centre - middle
        let length = (towards * towards).sum().squareRoot()
        vertices.append(SIMD3<Float>(middle + towards / length * step * CornerTopology.copyNudge))
        midpoints[key] = index
        return index
    }

    /// Every exposed unit face as two triangles.
    mutating func buildUnitFaces() {
        let occupied = occupancy.occupied
        let cellsArray = occupancy.cells
        cellsArray.withUnsafeBufferPointer { cells in
            for voxel32 in occupied {
                let voxel = Int(voxel32)
                let c = occupancy.coordinates(voxel)
                let at = SIMD3(c.x, c.y, c.z)
                for d in 0..<6 where cells[voxel + neighbour[d]] == 0 {
                    emitUnitFace(cells, voxel: voxel, at: at, direction: d)
                }
            }
        }
    }

    /// Greedy rectangles over faces whose corners are all simple; unit faces elsewhere.
    mutating func buildMerged() {
        let occupied = occupancy.occupied
        let cellsArray = occupancy.cells
        let sx = occupancy.strideX, sy = occupancy.strideY
        let stride = [sx, sy, 1]
        // Lattice points that are a corner of some emitted polygon: a rectangle's side must
        // pass through each of them that lies on it.
        var isCorner = [Bool](repeating: false, count: firstVertex.count)
        var rectangles: [(direction: Int, low: SIMD3<Int>, width: Int, height: Int)] = []

        cellsArray.withUnsafeBufferPointer { cells in
            // 1. Faces next to diagonal contacts now, as unit faces; the rest wait in `pending`
            // (bit d for direction d) to be merged.
            var pending = [UInt8](repeating: 0, count: cells.count)
            var low = SIMD3(Int.max, Int.max, Int.max), high = SIMD3(-1, -1, -1)
            for voxel32 in occupied {
                let voxel = Int(voxel32)
                let c = occupancy.coordinates(voxel)
                let at = SIMD3(c.x, c.y, c.z)
                low = pointwiseMin(low, at)
                high = pointwiseMax(high, at)
                for d in 0..<6 where cells[voxel + neighbour[d]] == 0 {
                    var simple = true
                    for k in 0..<4 where simple {
                        let config = blockConfiguration(cells, voxel + blockOffset[d * 4 + k])
                        simple = CornerTopology.isSimple[config]
                    }
                    if simple {
                        pending[voxel] |= 1 << d
                        continue
                    }
                    emitUnitFace(cells, voxel: voxel, at: at, direction: d)
                    for k in 0..<4 { isCorner[latticeIndex(at &+ latticeOffset[d * 4 + k])] = true }
                }
            }
            guard high.x >= 0 else { return }

            // 2. Greedy rectangles per direction and slice of the occupied box: grow along u,
            // then along v.
            for d in 0..<6 {
                let axis = d / 2, u = FaceDirections.uAxis[d], v = FaceDirections.vAxis[d]
                let uStep = stride[u], vStep = stride[v]
                let bit = UInt8(1 << d)
                for layer in low[axis]...high[axis] {
                    for cv in low[v]...high[v] {
                        var first = (layer + 1) * stride[axis] + (cv + 1) * vStep
                            + (low[u] + 1) * uStep
                        for cu in low[u]...high[u] {
                            defer { first += uStep }
                            guard pending[first] & bit != 0 else { continue }
                            var width = 1
                            while cu + width <= high[u],
                                  pending[first + width * uStep] & bit != 0 { width += 1 }
                            var height = 1
                            grow: while cv + height <= high[v] {
                                let row = first + height * vStep
                                for step in 0..<width where pending[row + step * uStep] & bit == 0 {
                                    break grow
                                }
                                height += 1
                            }
                            for row in 0..<height {
                                for step in 0..<width {
                                    pending[first + row * vStep + step * uStep] &= ~bit
                                }
                            }
                            var at = SIMD3<Int>.zero
                            at[axis] = layer
                            at[u] = cu
                            at[v] = cv
                            rectangles.append((d, at, width, height))
                            for (du, dv) in [(0, 0), (width, 0), (width, height), (0, height)] {
                                var point = at
                                point[axis] += d & 1
                                point[u] += du
                                point[v] += dv
                                isCorner[latticeIndex(point)] = true
                            }
                        }
                    }
                }
            }

            // 3. Each rectangle as a polygon through every corner point on its sides.
            for rectangle in rectangles {
                emitRectangle(cells, rectangle.direction, rectangle.low, rectangle.width,
                              rectangle.height, isCorner)
            }
        }
    }

    @inline(__always)
    func latticeIndex(_ point: SIMD3<Int>) -> Int {
        (point.x * latticeY + point.y) * latticeZ + point.z
    }

    /// The single vertex of a simple lattice point, allocated on first use.
    mutating func simpleVertex(_ cells: UnsafeBufferPointer<UInt8>, _ point: SIMD3<Int>) -> UInt32 {
        let lattice = latticeIndex(point)
        if firstVertex[lattice] < 0 {
            let block = point.x * occupancy.strideX + point.y * occupancy.strideY + point.z
            let config = blockConfiguration(cells, block)
            configuration[lattice] = UInt8(config)
            firstVertex[lattice] = Int32(vertices.count)
            vertices.append(SIMD3<Float>(origin + step * SIMD3<Double>(point)))
        }
        return UInt32(firstVertex[lattice])
    }

    /// Emits the rectangle of `width × height` unit faces in direction `d` whose first voxel is
    /// `low`, splitting its sides at other polygons' corners (no T-junctions).
    mutating func emitRectangle(_ cells: UnsafeBufferPointer<UInt8>, _ d: Int, _ low: SIMD3<Int>,
                                _ width: Int, _ height: Int, _ isCorner: [Bool]) {
        let axis = d / 2, u = FaceDirections.uAxis[d], v = FaceDirections.vAxis[d]
        func point(_ du: Int, _ dv: Int) -> SIMD3<Int> {
            var point = low
            point[axis] += d & 1
            point[u] += du
            point[v] += dv
            return point
        }
        // Counter-clockwise from outside: +u along v = 0, +v, −u, −v; `sides[k]` lists the
        // points strictly inside side k.
        let cornerUV = [(0, 0), (width, 0), (width, height), (0, height)]
        var sides: [[SIMD3<Int>]] = [[], [], [], []]
        for step in 1..<max(width, 1) where isCorner[latticeIndex(point(step, 0))] {
            sides[0].append(point(step, 0))
        }
        for step in 1..<max(height, 1) where isCorner[latticeIndex(point(width, step))] {
            sides[1].append(point(width, step))
        }
        for step in (1..<max(width, 1)).reversed()
        where isCorner[latticeIndex(point(step, height))] {
            sides[2].append(point(step, height))
        }
        for step in (1..<max(height, 1)).reversed() where isCorner[latticeIndex(point(0, step))] {
            sides[3].append(point(0, step))
        }
        var corner: [UInt32] = []
        for (du, dv) in cornerUV { corner.append(simpleVertex(cells, point(du, dv))) }
        if sides.allSatisfy(\.isEmpty) {
            triangles.append(SIMD3(corner[0], corner[1], corner[2]))
            triangles.append(SIMD3(corner[0], corner[2], corner[3]))
            return
        }

        // The ring of vertices, starting at a corner whose two sides are unsplit if there is
        // one: a fan from it has no degenerate triangles. Otherwise fan from a new centre.
        let apex = (0..<4).first { k in sides[k].isEmpty && sides[(k + 3) % 4].isEmpty }
        let start = apex ?? 0
        var ring: [UInt32] = []
        for offset in 0..<4 {
            let k = (start + offset) % 4
            ring.append(corner[k])
            for point in sides[k] { ring.append(simpleVertex(cells, point)) }
        }
        if apex != nil {
            for index in 1..<(ring.count - 1) {
                triangles.append(SIMD3(ring[0], ring[index], ring[index + 1]))
            }
            return
        }
        let middle = UInt32(vertices.count)
        vertices.append((vertices[Int(corner[0])] + vertices[Int(corner[2])]) / 2)
        for index in 0..<ring.count {
            triangles.append(SIMD3(middle, ring[index], ring[(index + 1) % ring.count]))
        }
    }
}
