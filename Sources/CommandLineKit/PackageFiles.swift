// Files that ship with the package (Models/chairs32.h5, Public/) found when a command runs from
// anywhere: the executable lives at .build/<triple>/release/NAME (with .build/release a link
// to that folder), so the package is some ancestor of its real path, not a fixed "../..".
import Foundation

public enum PackageFiles {

    /// `relativePath` in the current directory if it is there, else in the nearest ancestor
    /// of the executable's real folder that has it, looking no higher than the package root
    /// (the first ancestor holding Package.swift). Nil when none has it.
    public static func find(_ relativePath: String) -> String? {
        if FileManager.default.fileExists(atPath: relativePath) { return relativePath }
        return searchedFolders().lazy.map { $0 + "/" + relativePath }
            .first { FileManager.default.fileExists(atPath: $0) }
    }

    /// The folders `find` looks in after the current directory, nearest first (for messages).
    public static func searchedFolders() -> [String] {
        var folder = (executablePath() as NSString).deletingLastPathComponent
        var folders: [String] = []
        while !folder.isEmpty {
            folders.append(folder)
            if FileManager.default.fileExists(atPath: folder + "/Package.swift") || folder == "/" {
                break
            }
            folder = (folder as NSString).deletingLastPathComponent
        }
        return folders
    }

    /// The running executable with every link resolved (/proc/self/exe on Linux).
    private static func executablePath() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return path
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
    }
}
