// Mesh file formats: Wavefront OBJ (text, written and read) and binary STL (written).
//
// Numbers are formatted by hand: locale-independent by construction, and an order of
// magnitude faster than String(format:) — a 64³ chair is ~20 k vertices and ~40 k triangles.

/// Wavefront OBJ text.
///
/// See Also: `OBJReader`, `STLWriter`.
public enum OBJWriter {

    /// The mesh as OBJ bytes: a `#` header naming the source, one `v x y z` line per vertex,
    /// optionally one `vn` line per vertex (the area-weighted normal, index equal to the
    /// vertex's), then one `f a b c` line per triangle with 1-based indices (`f a//a b//b c//c`
    /// with normals). Coordinates have at most 7 decimals and use `.` whatever the locale.
    ///
    /// - Parameters:
    ///   - normals: writes vertex normals and references them from every face.
    ///   - comment: names the source in the header; line breaks become spaces.
    public static func encode(_ mesh: TriangleMesh, normals: Bool = false,
                              comment: String) -> [UInt8] {
        let flatComment = comment.map { $0.isNewline ? " " : $0 }
        var header = "# \(String(flatComment))\n"
        header += "# voxgan OBJ: \(mesh.vertices.count) vertices, \(mesh.triangles.count) "
            + "triangles, 1-based indices, +y up\n"
        let headerBytes = Array(header.utf8)
        let normalList = normals ? mesh.vertexNormals() : []

        // Longest possible lines: "v " + 3 × ("-" + 20 characters + " ") and
        // "f " + 3 × ("4294967296//4294967296 ").
        let capacity = headerBytes.count + (mesh.vertices.count + normalList.count) * 70
            + mesh.triangles.count * 72
        return [UInt8](unsafeUninitializedCapacity: capacity) { buffer, written in
            var out = TextCursor(buffer)
            out.append(headerBytes)
            for vertex in mesh.vertices {
                out.append(0x76)  // v
                out.append(0x20)
                out.appendDecimal(vertex.x)
                out.append(0x20)
                out.appendDecimal(vertex.y)
                out.append(0x20)
                out.appendDecimal(vertex.z)
                out.append(0x0A)
            }
            for normal in normalList {
                out.append(0x76)  // vn
                out.append(0x6E)
                out.append(0x20)
                out.appendDecimal(normal.x)
                out.append(0x20)
                out.appendDecimal(normal.y)
                out.append(0x20)
                out.appendDecimal(normal.z)
                out.append(0x0A)
            }
            for triangle in mesh.triangles {
                out.append(0x66)  // f
                for index in [triangle.x, triangle.y, triangle.z] {
                    out.append(0x20)
                    out.appendInteger(UInt64(index) + 1)
                    if normals {
                        out.append(0x2F)  // //
                        out.append(0x2F)
                        out.appendInteger(UInt64(index) + 1)
                    }
                }
                out.append(0x0A)
            }
            written = out.position
        }
    }
}

/// Binary STL, the format slicers for 3-D printing read.
public enum STLWriter {

    /// The mesh as binary STL: an 80-byte header (`"binary STL, voxgan: " + name`, padded with
    /// spaces; never starting with `solid`, which readers take for ASCII STL), the triangle
    /// count, then per triangle its unit normal, three vertices and a zero attribute, all
    /// little-endian float32. 84 + 50 bytes per triangle.
    public static func encode(_ mesh: TriangleMesh, name: String) -> [UInt8] {
        var header = Array("binary STL, voxgan: \(name)".utf8.prefix(80))
        header += [UInt8](repeating: 0x20, count: 80 - header.count)
        let count = mesh.triangles.count
        return [UInt8](unsafeUninitializedCapacity: 84 + 50 * count) { buffer, written in
            var position = 0
            func put(_ value: UInt32) {
                buffer[position] = UInt8(truncatingIfNeeded: value)
                buffer[position + 1] = UInt8(truncatingIfNeeded: value >> 8)
                buffer[position + 2] = UInt8(truncatingIfNeeded: value >> 16)
                buffer[position + 3] = UInt8(truncatingIfNeeded: value >> 24)
                position += 4
            }
            func put(_ vector: SIMD3<Float>) {
                put(vector.x.bitPattern)
                put(vector.y.bitPattern)
                put(vector.z.bitPattern)
            }
            for byte in header {
                buffer[position] = byte
                position += 1
            }
            put(UInt32(count))
            for triangle in mesh.triangles {
                let a = mesh.vertices[Int(triangle.x)]
                let b = mesh.vertices[Int(triangle.y)]
                let c = mesh.vertices[Int(triangle.z)]
                let normal = cross(b - a, c - a)
                let length = (normal * normal).sum().squareRoot()
                put(length > 0 ? normal / length : .zero)
                put(a)
                put(b)
                put(c)
                buffer[position] = 0
                buffer[position + 1] = 0
                position += 2
            }
            written = position
        }
    }
}

/// A reader for the OBJ this module writes and for common OBJ files: `v` and `f` lines
/// (indices `a`, `a/b`, `a//c`, `a/b/c`, negative = relative), polygons fanned into triangles;
/// other lines are ignored.
public enum OBJReader {

    /// A malformed line: `line` is 1-based.
    public struct DecodeError: Error, CustomStringConvertible {

        public let line: Int
        public let problem: String

        public var description: String { "OBJ line \(line): \(problem)" }
    }

    public static func decode(_ bytes: [UInt8]) throws -> TriangleMesh {
        var mesh = TriangleMesh()
        var lineNumber = 0
        for rawLine in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = String(decoding: rawLine, as: UTF8.self)
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard let keyword = words.first else { continue }
            switch keyword {
            case "v":
                let numbers = words.dropFirst().prefix(3).compactMap { Float($0) }
                guard numbers.count == 3 else {
                    throw DecodeError(line: lineNumber,
                                      problem: "expected 'v x y z', got '\(line)'")
                }
                mesh.vertices.append(SIMD3(numbers[0], numbers[1], numbers[2]))
            case "f":
                var indices: [UInt32] = []
                for word in words.dropFirst() {
                    let first = word.split(separator: "/", omittingEmptySubsequences: false)[0]
                    guard let value = Int(first), value != 0 else {
                        throw DecodeError(line: lineNumber,
                                          problem: "bad vertex reference '\(word)'")
                    }
                    let index = value > 0 ? value - 1 : mesh.vertices.count + value
                    guard index >= 0, index < mesh.vertices.count else {
                        throw DecodeError(
                            line: lineNumber,
                            problem: "vertex \(value) out of range 1...\(mesh.vertices.count)")
                    }
                    indices.append(UInt32(index))
                }
                guard indices.count >= 3 else {
                    throw DecodeError(line: lineNumber,
                                      problem: "face with \(indices.count) vertices")
                }
                for k in 1..<(indices.count - 1) {
                    mesh.triangles.append(SIMD3(indices[0], indices[k], indices[k + 1]))
                }
            default:
                continue
            }
        }
        return mesh
    }
}

// MARK: - Number formatting

/// Appends ASCII into a preallocated buffer; callers size the buffer for the worst case.
struct TextCursor {

    let buffer: UnsafeMutableBufferPointer<UInt8>
    var position = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        buffer[position] = byte
        position += 1
    }

    mutating func append(_ bytes: [UInt8]) {
        for byte in bytes { append(byte) }
    }

    /// Decimal digits of `value`.
    @inline(__always)
    mutating func appendInteger(_ value: UInt64) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { digits in
            repeat {
                digits[count] = UInt8(truncatingIfNeeded: rest % 10) + 0x30
                rest /= 10
                count += 1
            } while rest > 0
            while count > 0 {
                count -= 1
                append(digits[count])
            }
        }
    }

    /// `value` with at most 7 decimals, trailing zeros dropped, no exponent below 10⁹
    /// (Swift's own shortest form, also locale-free, beyond).
    @inline(__always)
    mutating func appendDecimal(_ value: Float) {
        let magnitude = Double(value.magnitude)
        guard magnitude < 1e9 else {
            append(Array((value.isFinite ? value.description : "0").utf8))
            return
        }
        let scaled = UInt64((magnitude * 1e7).rounded())
        if value < 0, scaled != 0 { append(0x2D) }
        appendInteger(scaled / 10_000_000)
        var fraction = scaled % 10_000_000
        guard fraction != 0 else { return }
        append(0x2E)
        var digits = 7
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        var divisor: UInt64 = 1
        for _ in 1..<digits { divisor *= 10 }
        while divisor > 0 {
            append(UInt8(truncatingIfNeeded: fraction / divisor) + 0x30)
            fraction %= divisor
            divisor /= 10
        }
    }
}
