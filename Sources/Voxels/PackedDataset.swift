// Packed chair datasets: many grids of one resolution in one HDF5 file, what training reads.
// The original Chainer 3D-GAN read one float64 .h5 per shape; one uint8 file with a chunk per
// grid is 8 times smaller before compression and loads in one read.
//
// File layout (readable with h5py, documented in README.md, "Packed datasets"):
//   /voxels   uint8, N×R×R×R, voxels[n][x][y][z] ∈ {0, 1}, +y up; chunk 1×R×R×R, deflate
//   /names    N variable-length UTF-8 strings, the source of each grid
//   root attributes: format = "voxgan-voxels", format_version = 1, resolution = R,
//                    axes = "x,y,z (+y up)", layout, source, packing options
import Dispatch
import Foundation
import HDF5Kit

/// A packed dataset loaded into memory: `count` grids of `resolution`³ voxels.
///
/// Layout of the voxels: one contiguous `[UInt8]` of `count·R³` bytes in `[n][x][y][z]` order
/// (z fastest), values 0 or 1, +y up, chair backrests toward +z.
public struct PackedDataset: Sendable {

    /// The value of the root attribute `format` that marks a voxgan packed dataset.
    public static let formatName = "voxgan-voxels"

    /// The newest layout version this code reads and the one it writes.
    public static let formatVersion = 1

    public let resolution: Int

    public let count: Int

    /// Where each grid came from (file names as given to the packer), `count` of them.
    public let names: [String]

    /// The file's root attributes as text (numbers in decimal), e.g. `source`, `axes`.
    public let attributes: [String: String]

    let voxels: [UInt8]

    /// Wraps grids already in memory; `voxels` holds `names.count·R³` bytes in `[n][x][y][z]`
    /// order, each 0 or 1.
    public init(resolution: Int, names: [String], voxels: [UInt8],
                attributes: [String: String] = [:]) {
        precondition(voxels.count == names.count * resolution * resolution * resolution,
                     "\(voxels.count) voxel bytes for \(names.count) grids of \(resolution)³")
        self.resolution = resolution
        self.count = names.count
        self.names = names
        self.voxels = voxels
        self.attributes = attributes
    }

    /// Bytes per grid, `R³`.
    public var gridSize: Int { resolution * resolution * resolution }

    /// Mean fraction of occupied voxels over all grids.
    public var meanOccupancy: Double {
        guard !voxels.isEmpty else { return 0 }
        let occupied = voxels.withUnsafeBufferPointer { bytes in
            bytes.reduce(0) { $0 + Int($1) }
        }
        return Double(occupied) / Double(voxels.count)
    }

    /// Grid `i` as a `VoxelGrid` (translate 0, scale 1: packed grids carry no world placement).
    public func grid(at i: Int) -> VoxelGrid {
        precondition(i >= 0 && i < count, "grid \(i) of \(count)")
        let r = resolution
        return voxels.withUnsafeBufferPointer { bytes in
            let slice = UnsafeBufferPointer(rebasing: bytes[i * gridSize..<(i + 1) * gridSize])
            return VoxelGrid(bytesXYZ: slice, nx: r, ny: r, nz: r)
        }
    }

    /// Calls `body` with all voxels: `count·R³` bytes, `[n][x][y][z]`, values 0 or 1.
    public func withVoxels<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        try voxels.withUnsafeBufferPointer(body)
    }

    /// Reads a whole packed file into memory. Files written by h5py are accepted when they
    /// have a `voxels` dataset of shape N×R×R×R holding 0/1 (the attributes are optional).
    public static func load(path: String) throws -> PackedDataset {
        let file = try HDF5File.open(path)

        // 1. Check what the file says it is before reading megabytes.
        var attributes: [String: String] = [:]
        for name in try file.attributeNames() {
            if let text = try? file.stringAttribute(name) {
                attributes[name] = text
            } else if let values = try? file.numericAttribute(name, as: Double.self) {
                attributes[name] = values.map { Binvox.format($0) }.joined(separator: " ")
            }
        }
        if let format = attributes["format"], format != formatName {
            throw HDF5Error("\(path): format '\(format)' is not '\(formatName)'")
        }
        if let version = try file.intAttribute("format_version"), version > formatVersion {
            throw HDF5Error("\(path): format_version \(version) is newer than this voxgan "
                            + "reads (\(formatVersion))")
        }
        guard file.contains("voxels") else {
            throw HDF5Error("\(path): no dataset 'voxels' (not a packed voxel dataset)")
        }
        let dataset = try file.openDataset("voxels")
        let shape = dataset.shape
        guard shape.count == 4, shape[1] == shape[2], shape[2] == shape[3], shape[1] > 0 else {
            throw HDF5Error("\(path):/voxels: expected shape N×R×R×R, found \(shape)")
        }
        let (n, r) = (shape[0], shape[1])
        if let stated = try file.intAttribute("resolution"), stated != r {
            throw HDF5Error("\(path): attribute resolution \(stated) but voxels are \(r)³")
        }

        // 2. One read of the whole array, then a check that it holds only 0 and 1.
        let voxels = try dataset.read(as: UInt8.self)
        let highBits = voxels.withUnsafeBufferPointer { bytes in
            bytes.reduce(UInt8(0)) { $0 | ($1 & 0xFE) }  // a branch-free pass that vectorises
        }
        if highBits != 0, let bad = voxels.firstIndex(where: { $0 > 1 }) {
            let grid = bad / (r * r * r)
            throw HDF5Error("\(path):/voxels: expected values 0 or 1, found \(voxels[bad]) in "
                            + "grid \(grid)")
        }

        var names = (0..<n).map { "\($0)" }
        if file.contains("names") {
            let stored = try file.openDataset("names").readStrings()
            guard stored.count == n else {
                throw HDF5Error("\(path):/names: expected \(n) names, found \(stored.count)")
            }
            names = stored
        }
        return PackedDataset(resolution: r, names: names, voxels: voxels, attributes: attributes)
    }
}

// MARK: - Packing

/// Reads binvox files and folders into grids of one resolution, ready to write as a packed
/// dataset. Used by `voxgan pack` and by the trainer when it is given folders.
///
/// Each input is a `.binvox` file or a folder searched recursively for `*.binvox` (sorted by
/// path). Every grid is padded to a cube, resampled to `resolution` by a whole factor, and
/// re-centred when `center` is set. Unreadable files and grids that cannot be resampled are
/// skipped with a reason. With `dedupe`, a grid bit-identical to an earlier one is dropped,
/// as are files that a `MANIFEST.tsv` in an input's folder (or above it) marks `duplicate_of`.
/// Files matching `excluded` (a name, a file name, or a trailing part of the path, with or
/// without `.binvox`) are left out.
public struct DatasetPacker: Sendable {

    public let resolution: Int
    public let downsample: DownsampleMode
    public let center: Bool
    public let dedupe: Bool
    public let excluded: Set<String>

    /// Threads decoding files at once; the machines this runs on have 2 cores.
    public var threads = 2

    public init(resolution: Int, downsample: DownsampleMode = .any, center: Bool = false,
                dedupe: Bool = false, excluded: Set<String> = []) {
        precondition(resolution >= 1, "resolution \(resolution)")
        self.resolution = resolution
        self.downsample = downsample
        self.center = center
        self.dedupe = dedupe
        self.excluded = Set(excluded.map { Self.withoutExtension($0) })
    }

    /// One input file found, with the name it is recorded under.
    struct Candidate {
        let path: String
        let name: String
    }

    /// Packs `inputs` in order. `progress(done, total)` is called on the calling thread after
    /// each batch of files. Throws only for a folder that cannot be listed; bad files are
    /// reported in `PackResult.skipped`.
    public func pack(inputs: [String], progress: ((Int, Int) -> Void)? = nil) throws
        -> PackResult
    {
        var result = PackResult(resolution: resolution)

        // 1. Expand folders; drop excluded files and, with `dedupe`, MANIFEST duplicates.
        var candidates: [Candidate] = []
        for input in inputs {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isFolder) else {
                result.skipped.append(.init(name: input, reason: "no such file or folder"))
                continue
            }
            candidates += isFolder.boolValue ? try Self.binvoxFiles(in: input)
                                             : [Candidate(path: input, name: Self.fileName(input))]
        }
        let manifestDuplicates = dedupe ? Self.manifestDuplicates(for: inputs) : [:]
        candidates = candidates.filter { candidate in
            if isExcluded(candidate) {
                result.excluded.append(candidate.name)
                return false
            }
            if let original = manifestDuplicates[Self.absolute(candidate.path)] {
                result.duplicates.append(.init(name: candidate.name,
                                               duplicateOf: original + " (MANIFEST.tsv)"))
                return false
            }
            return true
        }

        // 2. Decode and resample in parallel, a batch at a time so progress can be reported.
        var outcomes = [Result<VoxelGrid, Error>?](repeating: nil, count: candidates.count)
        let batch = 128
        for start in stride(from: 0, to: candidates.count, by: batch) {
            let end = min(start + batch, candidates.count)
            outcomes.withUnsafeMutableBufferPointer { outcomes in
                let slots = outcomes
                let workers = max(1, min(threads, end - start))
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    // Each worker writes only its own slots: worker, worker + workers, ...
                    for i in stride(from: start + worker, to: end, by: workers) {
                        slots[i] = Result { try prepare(path: candidates[i].path) }
                    }
                }
            }
            progress?(end, candidates.count)
        }

        // 3. In input order: keep, skip or drop as a bit-identical duplicate.
        var firstName: [VoxelGrid: String] = [:]
        for (candidate, outcome) in zip(candidates, outcomes) {
            switch outcome! {
            case .failure(let error):
                result.skipped.append(.init(name: candidate.name, reason: "\(error)"))
            case .success(let grid):
                if dedupe {
                    if let original = firstName[grid] {
                        result.duplicates.append(.init(name: candidate.name,
                                                       duplicateOf: original))
                        continue
                    }
                    firstName[grid] = candidate.name
                }
                result.grids.append(grid)
                result.names.append(candidate.name)
            }
        }
        return result
    }

    /// One file as it goes into the dataset: decoded, resampled, optionally re-centred, with
    /// the world placement reset (packed grids have none).
    func prepare(path: String) throws -> VoxelGrid {
        let grid = try Binvox.read(path: path)
        var packed = try grid.resampled(toResolution: resolution, mode: downsample)
        if center { packed = packed.recentred() }
        packed.translate = .zero
        packed.scale = 1
        return packed
    }

    func isExcluded(_ candidate: Candidate) -> Bool {
        guard !excluded.isEmpty else { return false }
        if excluded.contains(Self.withoutExtension(candidate.name)) { return true }

        // Every trailing part of the path: "a/b/c.binvox" → "c", "b/c", "a/b/c".
        let parts = Self.withoutExtension(Self.absolute(candidate.path)).split(separator: "/")
        for first in parts.indices {
            if excluded.contains(parts[first...].joined(separator: "/")) { return true }
        }
        return false
    }

    static func withoutExtension(_ name: String) -> String {
        name.lowercased().hasSuffix(".binvox") ? String(name.dropLast(7)) : name
    }

    static func fileName(_ path: String) -> String {
        String(path.split(separator: "/").last ?? Substring(path))
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// `*.binvox` below `folder`, sorted, named `<folder name>/<path inside folder>`.
    static func binvoxFiles(in folder: String) throws -> [Candidate] {
        let root = URL(fileURLWithPath: folder).standardizedFileURL
        guard let walker = FileManager.default.enumerator(atPath: root.path) else {
            throw VoxelGridError("\(folder): cannot list the folder")
        }
        var relative: [String] = []
        while let item = walker.nextObject() as? String {
            if item.lowercased().hasSuffix(".binvox") { relative.append(item) }
        }
        let prefix = root.lastPathComponent
        return relative.sorted().map {
            Candidate(path: root.path + "/" + $0, name: prefix + "/" + $0)
        }
    }

    /// Absolute paths marked `duplicate_of` in any `MANIFEST.tsv` found in the inputs' folders
    /// or their parents, mapped to the file they repeat.
    static func manifestDuplicates(for inputs: [String]) -> [String: String] {
        var manifests: Set<String> = []
        for input in inputs {
            var folder = URL(fileURLWithPath: absolute(input))
            while folder.path != "/" {
                let candidate = folder.appendingPathComponent("MANIFEST.tsv").path
                if FileManager.default.fileExists(atPath: candidate) {
                    manifests.insert(candidate)
                    break
                }
                folder.deleteLastPathComponent()
            }
        }
        var duplicates: [String: String] = [:]
        for manifest in manifests {
            guard let text = try? String(contentsOfFile: manifest, encoding: .utf8) else {
                continue
            }
            let rows = text.split(separator: "\n").map {
                $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            }
            guard let header = rows.first, let fileColumn = header.firstIndex(of: "file"),
                  let duplicateColumn = header.firstIndex(of: "duplicate_of") else { continue }
            let base = (manifest as NSString).deletingLastPathComponent
            for row in rows.dropFirst() where row.count > max(fileColumn, duplicateColumn) {
                let original = row[duplicateColumn].trimmingCharacters(in: .whitespaces)
                guard !original.isEmpty else { continue }
                duplicates[absolute(base + "/" + row[fileColumn])] = original
            }
        }
        return duplicates
    }
}

/// What `DatasetPacker.pack` produced: the grids kept (all `resolution`³, in input order),
/// their names, and what was left out and why.
public struct PackResult: Sendable {

    /// A file that could not be packed.
    public struct Skipped: Sendable, Equatable {
        public let name: String
        public let reason: String
    }

    /// A file dropped because its grid (or MANIFEST.tsv) says it repeats an earlier one.
    public struct Duplicate: Sendable, Equatable {
        public let name: String
        public let duplicateOf: String
    }

    public let resolution: Int
    public internal(set) var grids: [VoxelGrid] = []
    public internal(set) var names: [String] = []
    public internal(set) var skipped: [Skipped] = []
    public internal(set) var duplicates: [Duplicate] = []
    /// Names left out by the exclusion list.
    public internal(set) var excluded: [String] = []

    init(resolution: Int) { self.resolution = resolution }

    /// One line for people: `packed N, skipped K, duplicates D, excluded E`.
    public var summary: String {
        "packed \(grids.count), skipped \(skipped.count), duplicates \(duplicates.count), "
            + "excluded \(excluded.count)"
    }

    /// All grids as bytes, `[n][x][y][z]`.
    func voxelBytes() -> [UInt8] {
        let size = resolution * resolution * resolution
        var bytes = [UInt8](repeating: 0, count: grids.count * size)
        bytes.withUnsafeMutableBufferPointer { bytes in
            for (i, grid) in grids.enumerated() {
                grid.writeBytesXYZ(into: UnsafeMutableBufferPointer(
                    rebasing: bytes[i * size..<(i + 1) * size]))
            }
        }
        return bytes
    }

    /// The result as an in-memory dataset, without a round trip through a file.
    public func dataset(source: String) -> PackedDataset {
        PackedDataset(resolution: resolution, names: names, voxels: voxelBytes(),
                      attributes: ["format": PackedDataset.formatName, "source": source,
                                   "resolution": "\(resolution)"])
    }

    /// Writes the packed dataset file (layout in `PackedDataset`); `source` is stored as the
    /// `source` attribute (say where the grids came from). The file appears complete or not
    /// at all: it is written beside `path` and renamed into place (a symbolic link's target is
    /// replaced and the link kept; a FIFO or device is written into, see `OutputPath`).
    public func write(to path: String, source: String, options: String = "") throws {
        do {
            try OutputPath.write(to: path) { temporary in
                try writeFile(temporary, source: source, options: options)
            }
        } catch let failure as OutputPath.Failure {
            throw HDF5Error(failure.description)
        }
    }

    private func writeFile(_ path: String, source: String, options: String) throws {
        let r = resolution
        let size = r * r * r
        let file = try HDF5File.create(path)
        let voxels = try file.createDataset("voxels", type: .uint8, shape: [grids.count, r, r, r],
                                            chunk: [1, r, r, r], deflate: 4)
        var bytes = [UInt8](repeating: 0, count: size)
        for (i, grid) in grids.enumerated() {
            bytes.withUnsafeMutableBufferPointer { grid.writeBytesXYZ(into: $0) }
            try bytes.withUnsafeBufferPointer { try voxels.write(rows: i, count: 1, from: $0) }
        }
        try file.writeStrings("names", names)
        try file.setAttribute("format", PackedDataset.formatName)
        try file.setAttribute("format_version", PackedDataset.formatVersion)
        try file.setAttribute("resolution", r)
        try file.setAttribute("axes", "x,y,z (+y up)")
        try file.setAttribute("layout", "voxels[n][x][y][z], uint8 0/1, backrest toward +z")
        try file.setAttribute("source", source)
        if !options.isEmpty { try file.setAttribute("packing", options) }
        try file.flush()
    }
}
