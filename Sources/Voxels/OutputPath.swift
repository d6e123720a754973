// Writing a file at a path the user named without destroying what is there: a symbolic link is
// followed (its target is written, the link stays), a FIFO, device or socket is written into as
// it is (renaming over it would replace a device node with a regular file), and a regular file
// is replaced whole: written beside it, fsynced, renamed over it.
import Foundation

public enum OutputPath {

    /// An `OutputPath` failure: one line naming the path and the system's reason.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `path` with every symbolic link at its end followed (up to 40, as the kernel allows); a
    /// dangling link gives the path it points to, so the file is created there.
    public static func resolvingLinks(_ path: String) -> String {
        var current = path
        for _ in 0..<40 {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(current, &buffer, Int(PATH_MAX))
            guard length > 0 else { return current }
            let destination = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) },
                                     as: UTF8.self)
            current = destination.hasPrefix("/") ? destination
                : folder(of: current) + "/" + destination
        }
        return current
    }

    /// True when `path` (links followed) exists and is not a regular file or a folder.
    public static func isSpecialFile(_ path: String) -> Bool {
        var status = stat()
        guard stat(resolvingLinks(path), &status) == 0 else { return false }
        let kind = status.st_mode & S_IFMT
        return kind != S_IFREG && kind != S_IFDIR
    }

    /// Writes `path` through `body`, which writes a whole file at the temporary path it is
    /// given (beside the target, named `.NAME.tmp-PID`). A regular target is replaced by
    /// renaming after an fsync; a special file target gets the temporary file's bytes copied
    /// in. The temporary file is removed on every path out.
    public static func write(to path: String, _ body: (String) throws -> Void) throws {
        let target = resolvingLinks(path)
        let temporary = folder(of: target) + "/.\((target as NSString).lastPathComponent)"
            + ".tmp-\(getpid())"
        defer { unlink(temporary) }
        try body(temporary)
        if isSpecialFile(target) {
            guard let bytes = try? Data(contentsOf: URL(fileURLWithPath: temporary)) else {
                throw Failure(description: "cannot write \(path): cannot read back the new file")
            }
            try writeInto(target, [UInt8](bytes), named: path)
            return
        }
        let descriptor = open(temporary, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0, fsync(descriptor) == 0 || errno == EINVAL else {
            let code = errno
            if descriptor >= 0 { close(descriptor) }
            throw failure(path, code, target: target)
        }
        close(descriptor)
        guard rename(temporary, target) == 0 else { throw failure(path, errno, target: target) }
    }

    /// Writes `bytes` as the whole file at `path`, by the rules of `write(to:_:)`, without
    /// the round trip through a temporary file for a special target.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let target = resolvingLinks(path)
        if isSpecialFile(target) {
            try writeInto(target, bytes, named: path)
            return
        }
        try write(to: path) { temporary in
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw failure(path, errno, target: target) }
            let code = writeAll(bytes, to: descriptor)
            close(descriptor)
            if let code { throw failure(path, code, target: target) }
        }
    }

    /// Writes into an existing FIFO, device or socket as it is; a short write is an error (a
    /// full device, a closed pipe).
    private static func writeInto(_ target: String, _ bytes: [UInt8], named path: String) throws {
        let descriptor = open(target, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(path, errno, target: target) }
        let previous = signal(SIGPIPE, SIG_IGN)    // a closed pipe is a failed write, not a death
        defer { signal(SIGPIPE, previous) }
        let code = writeAll(bytes, to: descriptor)
        let closeCode = close(descriptor) == 0 ? nil : errno
        if let code = code ?? closeCode { throw failure(path, code, target: target) }
    }

    /// "cannot write PATH: REASON", the reason naming the target's folder where it is at fault.
    private static func failure(_ path: String, _ code: Int32, target: String) -> Failure {
        Failure(description: "cannot write \(path): \(reason(code, folder: folder(of: target)))")
    }

    /// Writes every byte to `descriptor`, retrying after signals; the errno of the first
    /// failure, else nil.
    public static func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> Int32? {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress! + written, bytes.count - written)
            }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return count == 0 ? EIO : errno }
            written += count
        }
        return nil
    }

    /// The folder `path` is in ("." for a bare name).
    public static func folder(of path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? "." : folder
    }

    /// Creates the folder `path` and its parents, or checks that an existing one is a writable
    /// folder; a failure is one line naming the folder and the system's reason.
    public static func makeFolder(_ path: String) throws {
        var status = stat()
        if stat(path, &status) == 0 {
            guard (status.st_mode & S_IFMT) == S_IFDIR else {
                throw Failure(description: "\(path) is a file, not a folder")
            }
            guard access(path, W_OK) == 0 else {
                throw Failure(description: "cannot write in \(path): \(systemReason(errno))")
            }
            return
        }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw Failure(description: "cannot create the folder \(path): "
                              + systemReason(errno))
            }
            prefix += "/"
        }
    }

    /// The system's reason in lower case, with "no such file" said as the folder it is.
    public static func reason(_ code: Int32, folder: String) -> String {
        switch code {
        case ENOENT: return "no such folder '\(folder)'"
        case ENOTDIR: return "a part of '\(folder)' is not a folder"
        case EACCES, EPERM: return "permission denied"
        case EISDIR: return "it is a folder"
        default: return systemReason(code)
        }
    }

    private static func systemReason(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}
