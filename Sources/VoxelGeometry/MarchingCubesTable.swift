// The marching-cubes case table, derived at first use from the rules below rather than typed
// in, so every one of the 256 cases follows the same rules.
//
// Rules:
//   1. A cube edge carries a surface vertex when its two samples are on different sides
//      (inside means value > iso).
//   2. On each cube face, vertices are joined in pairs by segments. With two crossings the
//      pair is obvious; with four (inside corners on a diagonal, the ambiguous face) each
//      inside corner is cut off on its own, i.e. inside samples connect only along cube edges.
//      This choice depends on the face alone, so the two cubes sharing a face always agree
//      and the surface has no holes (the flaw of tables that resolve a face differently in
//      complementary cases).
//   3. Segments are directed with the inside corners on their right, seen from outside the
//      cube; chained, they close into loops whose right-hand normal points from inside to
//      outside.
//   4. Each loop is one polygon, triangulated by a minimum-length triangulation that never
//      draws a diagonal between two vertices on the same cube face (such a diagonal could
//      coincide with one of the neighbouring cube's, giving an edge with four triangles).
//      Every loop of the 256 cases has one (checked when the table is built).

/// Corners, edges and faces of the unit cube, with the triangles of each case.
///
/// Corner `c = cx | cy<<1 | cz<<2` is at `(cx, cy, cz)`. Edge `axis·4 + u + 2v` runs along
/// `axis` from the corner with bit `axis` clear; `u`, `v` are its bits on the other two axes in
/// increasing order. Case `k` has bit `c` set when corner `c` is inside.
enum MarchingCubesTable {

    /// The two other axes of `axis`, in increasing order.
    @inline(__always)
    static func otherAxes(_ axis: Int) -> (Int, Int) {
        axis == 0 ? (1, 2) : axis == 1 ? (0, 2) : (0, 1)
    }

    /// Corner where edge `edge` starts (its end is this corner plus `1 << axis`).
    static func startCorner(_ edge: Int) -> Int {
        let axis = edge / 4
        let (first, second) = otherAxes(axis)
        return ((edge & 1) << first) | (((edge >> 1) & 1) << second)
    }

    static func endCorner(_ edge: Int) -> Int { startCorner(edge) | 1 << (edge / 4) }

    /// Whether `edge` lies on the face perpendicular to `axis` at coordinate `side`.
    static func edgeIsOnFace(_ edge: Int, axis: Int, side: Int) -> Bool {
        edge / 4 != axis && (startCorner(edge) >> axis) & 1 == side
    }

    static func shareFace(_ a: Int, _ b: Int) -> Bool {
        for axis in 0..<3 {
            for side in 0..<2 where edgeIsOnFace(a, axis: axis, side: side)
                && edgeIsOnFace(b, axis: axis, side: side) {
                return true
            }
        }
        return false
    }

    static func cornerPosition(_ corner: Int) -> SIMD3<Double> {
        SIMD3(Double(corner & 1), Double((corner >> 1) & 1), Double((corner >> 2) & 1))
    }

    static func edgeMidpoint(_ edge: Int) -> SIMD3<Double> {
        (cornerPosition(startCorner(edge)) + cornerPosition(endCorner(edge))) / 2
    }

    /// Triangles of all cases, flattened: case `k` owns the edge triples in
    /// `triangleEdges[triangleStart[k] ..< triangleStart[k+1]]` (three entries per triangle).
    static let triangleEdges: [UInt8] = table.edges
    static let triangleStart: [Int] = table.start

    private static let table: (edges: [UInt8], start: [Int]) = {
        var edges: [UInt8] = []
        var start: [Int] = []
        for config in 0..<256 {
            start.append(edges.count)
            for loop in loops(config) {
                // Rule 4 finds a triangulation for every loop of every case;
                // stop loudly rather than leave a hole if a rule change ever broke that.
                guard let triangles = triangulate(loop) else {
                    preconditionFailure("marching cubes: case \(config) has a loop \(loop) "
                                        + "without a triangulation that avoids face diagonals")
                }
                for triangle in triangles { edges += triangle.map { UInt8(loop[$0]) } }
            }
        }
        start.append(edges.count)
        return (edges, start)
    }()

    /// The closed loops of crossing edges for one case, each in outward winding order.
    static func loops(_ config: Int) -> [[Int]] {
        func inside(_ corner: Int) -> Bool { config & (1 << corner) != 0 }
        func crosses(_ edge: Int) -> Bool { inside(startCorner(edge)) != inside(endCorner(edge)) }

        var next = [Int](repeating: -1, count: 12)
        for axis in 0..<3 {
            for side in 0..<2 {
                let faceEdges = (0..<12).filter { edgeIsOnFace($0, axis: axis, side: side) }
                let crossing = faceEdges.filter(crosses)
                var pairs: [(Int, Int, Int)] = []  // (edge, edge, an inside corner beside them)
                if crossing.count == 2 {
                    let corners = faceEdges.flatMap { [startCorner($0), endCorner($0)] }
                    let insider = corners.first(where: inside)!
                    pairs.append((crossing[0], crossing[1], insider))
                } else if crossing.count == 4 {
                    // Ambiguous face: cut off each inside corner separately.
                    let corners = Set(faceEdges.flatMap { [startCorner($0), endCorner($0)] })
                    for corner in corners where inside(corner) {
                        let touching = crossing.filter {
                            startCorner($0) == corner || endCorner($0) == corner
                        }
                        pairs.append((touching[0], touching[1], corner))
                    }
                }
                var normal = SIMD3<Double>.zero
                normal[axis] = side == 1 ? 1 : -1
                for (a, b, insider) in pairs {
                    let pa = edgeMidpoint(a), pb = edgeMidpoint(b)
                    let turn = (cross(pb - pa, cornerPosition(insider) - pa) * normal).sum()
                    // Inside on the right of a → b seen from outside: the turn is clockwise.
                    let (from, to) = turn < 0 ? (a, b) : (b, a)
                    precondition(next[from] == -1, "marching cubes: two segments leave one edge")
                    next[from] = to
                }
            }
        }

        var loops: [[Int]] = []
        var visited = [Bool](repeating: false, count: 12)
        for edge in 0..<12 where next[edge] >= 0 && !visited[edge] {
            var loop: [Int] = []
            var current = edge
            while !visited[current] {
                visited[current] = true
                loop.append(current)
                current = next[current]
            }
            precondition(current == edge, "marching cubes: segments do not close")
            loops.append(loop)
        }
        return loops
    }

    /// A triangulation of the polygon `loop` (edge indices in winding order) as triples of
    /// positions in `loop`, with no diagonal between two edges on the same cube face; nil if
    /// there is none.
    static func triangulate(_ loop: [Int]) -> [[Int]]? {
        let n = loop.count
        if n == 3 { return [[0, 1, 2]] }
        let infinity = Double.infinity
        func weight(_ i: Int, _ j: Int) -> Double {
            if j == i + 1 || (i == 0 && j == n - 1) { return 0 }
            if shareFace(loop[i], loop[j]) { return infinity }
            let difference = edgeMidpoint(loop[i]) - edgeMidpoint(loop[j])
            return (difference * difference).sum().squareRoot()
        }
        // cost[i][j]: best triangulation of the sub-polygon i...j (closed by chord i–j).
        var cost = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        var split = [[Int]](repeating: [Int](repeating: -1, count: n), count: n)
        for length in 2..<n {
            for i in 0..<(n - length) {
                let j = i + length
                cost[i][j] = infinity
                for k in (i + 1)..<j {
                    let total = cost[i][k] + cost[k][j] + weight(i, k) + weight(k, j)
                    if total < cost[i][j] {
                        cost[i][j] = total
                        split[i][j] = k
                    }
                }
            }
        }
        guard cost[0][n - 1] < infinity else { return nil }
        var triangles: [[Int]] = []
        func collect(_ i: Int, _ j: Int) {
            guard j - i >= 2 else { return }
            let k = split[i][j]
            triangles.append([i, k, j])
            collect(i, k)
            collect(k, j)
        }
        collect(0, n - 1)
        return triangles
    }
}
