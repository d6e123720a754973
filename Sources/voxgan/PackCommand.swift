import CommandLineKit
import Foundation
import Voxels

/// `voxgan pack`: packs binvox files and folders into one HDF5 dataset for training (layout in
/// README.md, "Packed datasets"). Progress and skipped files go to stderr, the summary line to
/// stdout; it fails when nothing could be packed.
enum PackCommand {

    static let spec = CommandSpec(
        name: "voxgan pack", abstract: "Pack binvox files into one HDF5 dataset.",
        discussion: """
            Folders are searched recursively for *.binvox. Grids of other sizes are padded to \
            a cube and resampled to --resolution by a whole factor (128 → 32, 32 → 64); files \
            that cannot be read or resampled are reported and skipped.
            """,
        arguments: [Argument("inputs", help: "Binvox files or folders of them.", repeated: true)],
        options: [
            .value("out", "FILE", help: "The HDF5 file to write (required)."),
            .value("resolution", "R", default: "32", help: "Side of the packed grids."),
            .value("downsample", "MODE", default: "any",
                   help: "Shrinking larger grids: any (a block with any voxel set) or majority."),
            .flag("center", help: "Move each shape's bounding box to the middle of the grid."),
            .flag("dedupe", help: "Drop grids identical to an earlier one, and files that a "
                  + "MANIFEST.tsv beside the inputs marks duplicate_of."),
            .value("exclude-list", "FILE",
                   help: "Leave out the files named in FILE, one per line ('#' comments)."),
        ])

    static func run(_ arguments: [String]) throws {
        guard let options = try spec.parse(arguments) else { return }
        guard let out = options.string("out") else {
            throw UsageError("missing option --out FILE (see '\(spec.name) --help')")
        }
        guard out.lowercased().hasSuffix(".h5") else {
            throw UsageError("--out \(out): a packed dataset is an HDF5 file; name it .h5")
        }
        try OutputFile.checkWritable(out)
        let resolution = try options.int("resolution", in: 1...Binvox.maximumExtent) ?? 32
        let modeName = try options.choice("downsample", DownsampleMode.allCases.map(\.rawValue))
        let mode = modeName.flatMap(DownsampleMode.init(rawValue:)) ?? .any
        var excluded: Set<String> = []
        if let list = options.string("exclude-list") { excluded = try readExcludeList(list) }

        let packer = DatasetPacker(resolution: resolution, downsample: mode,
                                   center: options.flag("center"), dedupe: options.flag("dedupe"),
                                   excluded: excluded)
        let result = try packer.pack(inputs: options.positionals) { done, total in
            if total > 200 { printError("pack: read \(done)/\(total) files") }
        }
        for skipped in result.skipped {
            printError("pack: skipped \(skipped.name): \(skipped.reason)")
        }
        guard !result.grids.isEmpty else {
            throw CommandFailure("nothing packed from \(options.positionals.count) input(s) "
                                 + "(\(result.summary))")
        }

        let settings = "resolution \(resolution), downsample \(mode.rawValue), center "
            + (packer.center ? "yes" : "no") + ", dedupe " + (packer.dedupe ? "yes" : "no")
            + (excluded.isEmpty ? "" : ", \(excluded.count) names excluded")
        try result.write(to: out, source: options.positionals.joined(separator: " "),
                         options: settings)
        print("\(result.summary); wrote \(out) (\(result.grids.count) × \(resolution)³)")
    }

    /// Names from an exclude list: one per line, blank lines and `#` comments ignored.
    static func readExcludeList(_ path: String) throws -> Set<String> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CommandFailure("\(path): cannot read the exclude list")
        }
        return Set(text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") })
    }
}
