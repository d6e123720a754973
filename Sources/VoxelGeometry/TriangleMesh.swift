// Indexed triangle meshes and the checks that make "watertight" a testable statement.

/// A triangle mesh with shared vertices.
///
/// `triangles` index `vertices` from 0. Triangles wind counter-clockwise seen from outside, so
/// the right-hand normal `(b − a) × (c − a)` points out of the solid. Coordinates are world
/// units (binvox `translate + scale·i/d`), +y up.
public struct TriangleMesh: Equatable, Sendable {

    public var vertices: [SIMD3<Float>]

    public var triangles: [SIMD3<UInt32>]

    public init(vertices: [SIMD3<Float>] = [], triangles: [SIMD3<UInt32>] = []) {
        self.vertices = vertices
        self.triangles = triangles
    }

    public var isEmpty: Bool { triangles.isEmpty }

    /// Counts of the ways the surface can fail to be closed; all zero for a closed, consistently
    /// wound surface.
    public struct EdgeReport: Equatable, Sendable, CustomStringConvertible {

        /// Distinct undirected edges.
        public var edges = 0

        /// Edges used by one triangle only (holes).
        public var boundary = 0

        /// Edges used by more than two triangles.
        public var nonManifold = 0

        /// Edges used by two triangles that traverse it in the same direction (a flipped
        /// neighbour).
        public var misoriented = 0

        /// Triangles naming a vertex index twice or one past the end of `vertices`.
        public var invalidTriangles = 0

        public var description: String {
            "\(edges) edges, \(boundary) boundary, \(nonManifold) non-manifold, "
                + "\(misoriented) misoriented, \(invalidTriangles) invalid triangles"
        }
    }

    /// Classifies every edge by how many triangles use it and in which direction.
    public func edgeReport() -> EdgeReport {
        var report = EdgeReport()
        // Directed edges as (from << 32 | to); sorted so each undirected edge's uses are
        // adjacent when keyed by (min, max).
        var keys: [UInt64] = []
        keys.reserveCapacity(triangles.count * 3)
        for triangle in triangles {
            let a = triangle.x, b = triangle.y, c = triangle.z
            if a == b || b == c || a == c || max(a, b, c) >= UInt32(vertices.count) {
                report.invalidTriangles += 1
                continue
            }
            for (from, to) in [(a, b), (b, c), (c, a)] {
                // Low bit records the direction, so uses of one edge sort together.
                let low = min(from, to), high = max(from, to)
                keys.append((UInt64(low) << 33) | (UInt64(high) << 1) | (from < to ? 0 : 1))
            }
        }
        keys.sort()
        var start = 0
        while start < keys.count {
            var end = start + 1
            while end < keys.count, keys[end] >> 1 == keys[start] >> 1 { end += 1 }
            report.edges += 1
            switch end - start {
            case 1: report.boundary += 1
            case 2: if keys[start] & 1 == keys[start + 1] & 1 { report.misoriented += 1 }
            default: report.nonManifold += 1
            }
            start = end
        }
        return report
    }

    /// Every edge is shared by exactly two triangles (no holes, no fins), and no triangle is
    /// degenerate in its indices. An empty mesh is watertight.
    public var isWatertight: Bool {
        let report = edgeReport()
        return report.boundary == 0 && report.nonManifold == 0 && report.invalidTriangles == 0
    }

    /// Watertight, and the two triangles at every edge traverse it in opposite directions, so
    /// the winding is consistent over each connected piece.
    public var isClosedAndConsistentlyWound: Bool {
        let report = edgeReport()
        return report.boundary == 0 && report.nonManifold == 0 && report.misoriented == 0
            && report.invalidTriangles == 0
    }

    /// Every vertex used by a triangle sits on a single fan of triangles (its link is one
    /// cycle), so the surface is a 2-manifold at its vertices as well as at its edges.
    /// Only meaningful for a watertight mesh.
    public var isVertexManifold: Bool {
        // For each vertex, the triangles around it give pairs (next, previous) of neighbours;
        // following next-links from one pair must visit all of them.
        var fans = [[(UInt32, UInt32)]](repeating: [], count: vertices.count)
        for triangle in triangles {
            let a = triangle.x, b = triangle.y, c = triangle.z
            guard max(a, b, c) < UInt32(vertices.count) else { return false }
            fans[Int(a)].append((b, c))
            fans[Int(b)].append((c, a))
            fans[Int(c)].append((a, b))
        }
        for fan in fans where !fan.isEmpty {
            var next: [UInt32: UInt32] = [:]
            for (from, to) in fan {
                if next[from] != nil { return false }
                next[from] = to
            }
            var steps = 0
            var current = fan[0].0
            repeat {
                guard let following = next[current] else { return false }
                current = following
                steps += 1
            } while current != fan[0].0 && steps <= fan.count
            if steps != fan.count { return false }
        }
        return true
    }

    /// Number of distinct vertices referenced by triangles.
    public var referencedVertexCount: Int {
        var seen = [Bool](repeating: false, count: vertices.count)
        var count = 0
        for triangle in triangles {
            for index in [triangle.x, triangle.y, triangle.z] where Int(index) < seen.count {
                if !seen[Int(index)] {
                    seen[Int(index)] = true
                    count += 1
                }
            }
        }
        return count
    }

    /// V − E + F over referenced vertices, distinct undirected edges and triangles. For a
    /// closed orientable surface it is 2 × (pieces − handles): 2 for a sphere-like chair, 0 for
    /// a torus.
    public var eulerCharacteristic: Int {
        referencedVertexCount - edgeReport().edges + triangles.count
    }

    /// Enclosed volume in world units³ (positive when triangles wind outward), by the
    /// divergence theorem. Exact for a closed surface.
    public var signedVolume: Double {
        var sum = 0.0
        for triangle in triangles {
            let a = SIMD3<Double>(vertices[Int(triangle.x)])
            let b = SIMD3<Double>(vertices[Int(triangle.y)])
            let c = SIMD3<Double>(vertices[Int(triangle.z)])
            sum += (a * cross(b, c)).sum()
        }
        return sum / 6
    }

    /// Smallest and largest vertex coordinates, or nil for a mesh without vertices.
    public var bounds: (min: SIMD3<Float>, max: SIMD3<Float>)? {
        guard var low = vertices.first else { return nil }
        var high = low
        for vertex in vertices {
            low = pointwiseMin(low, vertex)
            high = pointwiseMax(high, vertex)
        }
        return (low, high)
    }

    /// Unit normals per vertex: the area-weighted average of the normals of the triangles
    /// around it. A vertex whose triangles cancel out (or that no triangle uses) gets +y.
    public func vertexNormals() -> [SIMD3<Float>] {
        var sums = [SIMD3<Float>](repeating: .zero, count: vertices.count)
        for triangle in triangles {
            let a = vertices[Int(triangle.x)]
            let b = vertices[Int(triangle.y)]
            let c = vertices[Int(triangle.z)]
            // Twice the area times the unit normal: larger triangles weigh more.
            let normal = cross(b - a, c - a)
            sums[Int(triangle.x)] += normal
            sums[Int(triangle.y)] += normal
            sums[Int(triangle.z)] += normal
        }
        return sums.map { sum in
            let length = (sum * sum).sum().squareRoot()
            return length > 1e-20 ? sum / length : SIMD3<Float>(0, 1, 0)
        }
    }
}

@inline(__always)
func cross(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> SIMD3<Float> {
    SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}

@inline(__always)
func cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
    SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}
