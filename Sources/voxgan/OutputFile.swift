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
            throw CommandFailure("cannot write \(path): \(reason(errno, folder: folder))")
        }
        guard (status.st_mode & S_IFMT) == S_IFDIR else {
            throw CommandFailure("cannot write \(path): '\(folder)' is not a folder")
        }
        guard access(folder, W_OK) == 0 else {
            throw CommandFailure("cannot write \(path): \(reason(errno, folder: folder))")
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
        let target = OutputPath.resolvingLinks(path)
        var status = stat()
        if stat(target, &status) == 0, (status.st_mode & S_IFMT) != S_IFREG {
            try writeInPlace(bytes, to: target, named: path)
            return
        }
        let folder = OutputPath.folder(of: target)
        let temporary = folder + "/.\((target as NSString).lastPathComponent).tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CommandFailure("cannot write \(path): \(reason(errno, folder: folder))")
        }
        if let failure = OutputPath.writeAll(bytes, to: descriptor) ?? (fsync(descriptor) == 0 ? nil : errno) {
            close(descriptor)
            unlink(temporary)
            throw CommandFailure("cannot write \(path): \(reason(failure, folder: folder))")
        }
        guard close(descriptor) == 0, rename(temporary, target) == 0 else {
            let failure = reason(errno, folder: folder)
            unlink(temporary)
            throw CommandFailure("cannot write \(path): \(failure)")
        }
    }

    /// Writes into an existing FIFO, device or socket as it is: replacing it with a regular
    /// file would destroy it (and, as root, a device node).
    private static func writeInPlace(_ bytes: [UInt8], to target: String, named path: String) throws {
        let descriptor = open(target, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw CommandFailure("cannot write \(path): \(reason(errno, folder: OutputPath.folder(of: target)))")
        }
        // A reader that goes away is a failed write to report, not a silent SIGPIPE death.
        let previous = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previous) }
        let failure = OutputPath.writeAll(bytes, to: descriptor)
        let closeFailure = close(descriptor) == 0 ? nil : errno
        if let code = failure ?? closeFailure {
            throw CommandFailure("cannot write \(path): \(reason(code, folder: OutputPath.folder(of: target)))")
        }
    }

    /// The system's reason in lower case, with "no such file" said as the folder it is.
    private static func reason(_ code: Int32, folder: String) -> String {
        switch code {
        case ENOENT: return "no such folder '\(folder)'"
        case ENOTDIR: return "a part of '\(folder)' is not a folder"
        case EACCES, EPERM: return "permission denied"
        case EISDIR: return "it is a folder"
        default:
            let text = String(cString: strerror(code))
            return text.prefix(1).lowercased() + text.dropFirst()
        }
    }
}
