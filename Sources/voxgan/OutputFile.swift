// Files the voxgan commands write: checked before any slow work, written whole or not at all,
// and every failure one line naming the file and the reason ("cannot write out/chair.obj: no
// such folder 'out'") instead of Foundation's "The operation could not be completed".
import CommandLineKit
import Foundation
import Voxels

enum OutputFile {

    /// Throws a `CommandFailure` unless a file can be created at `path`: its folder exists, is
    /// a folder and is writable, and `path` itself is not a folder. Run before generating or
    /// reading anything, so a typo fails in milliseconds, not after minutes of work.
    static func checkWritable(_ path: String) throws {
        let folder = OutputPath.folder(of: OutputPath.resolvingLinks(path))
        var status = stat()
        guard stat(folder, &status) == 0 else {
            throw CommandFailure("cannot write \(path): \(OutputPath.reason(errno, folder: folder))")
        }
        guard (status.st_mode & S_IFMT) == S_IFDIR else {
            throw CommandFailure("cannot write \(path): '\(folder)' is not a folder")
        }
        guard access(folder, W_OK) == 0 else {
            throw CommandFailure("cannot write \(path): \(OutputPath.reason(errno, folder: folder))")
        }
        if stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
            throw CommandFailure("cannot write \(path): it is a folder")
        }
    }

    /// Writes `bytes` to `path`. A symbolic link is followed and its target written (the link
    /// stays); a target that exists and is not a regular file (a FIFO, a device, a socket) is
    /// written straight into, every short write an error; anything else goes into a temporary
    /// file beside it, fsynced, then renamed over it, so a failure never leaves a partial file.
    /// `-` is standard output.
    static func write(_ bytes: [UInt8], to path: String) throws {
        if path == "-" {
            FileHandle.standardOutput.write(Data(bytes))
            return
        }
        try OutputPath.write(bytes, to: path)
    }
}
