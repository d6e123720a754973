// A minimal POSIX ustar writer for batch downloads: regular files only, fixed mode 0644,
// owner 0 and modification time 0, so the same files always give the same archive bytes.

/// Builds a tar archive in memory.
public struct TarWriter {

    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// Appends a regular file. `name` must be at most 100 bytes of UTF-8 (voxgan's names are
    /// short: "chair-42.binvox").
    public mutating func addFile(name: String, contents: [UInt8]) {
        let nameBytes = Array(name.utf8)
        precondition(!nameBytes.isEmpty && nameBytes.count <= 100, "tar name '\(name)' too long")

        // 1. The 512-byte header; the checksum is computed with its own field as spaces.
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ field: [UInt8], at offset: Int) {
            header.replaceSubrange(offset..<offset + field.count, with: field)
        }
        func octal(_ value: Int, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            let padded = String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
            return Array(padded.utf8) + [0]
        }
        put(nameBytes, at: 0)
        put(octal(0o644, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(contents.count, width: 12), at: 124)
        put(octal(0, width: 12), at: 136)
        put(Array(repeating: UInt8(ascii: " "), count: 8), at: 148)
        header[156] = UInt8(ascii: "0")
        put(Array("ustar".utf8) + [0], at: 257)
        put(Array("00".utf8), at: 263)
        put(Array("voxgan".utf8), at: 265)
        put(Array("voxgan".utf8), at: 297)
        let checksum = header.reduce(0) { $0 + Int($1) }
        put(Array(String(checksum, radix: 8).leftPadded(to: 6).utf8) + [0, UInt8(ascii: " ")],
            at: 148)

        // 2. The contents, padded to a whole number of 512-byte blocks.
        bytes += header
        bytes += contents
        let remainder = contents.count % 512
        if remainder != 0 { bytes += [UInt8](repeating: 0, count: 512 - remainder) }
    }

    /// The archive with its two-block end marker.
    public func finished() -> [UInt8] {
        bytes + [UInt8](repeating: 0, count: 1024)
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
