// One line per finished request:
//   2025-01-31T12:00:00.123Z 127.0.0.1 GET /v1/sample?seed=1 200 1234B 3.2ms
// (time in UTC, client, method, decoded target, status, body bytes, milliseconds), plus
// " aborted" when the connection ended abnormally (client gone, timeout, shutdown).
import Foundation

/// Where access-log lines go.
public enum AccessLogDestination: Equatable {
    case off
    case standardOutput
    case standardError
    /// Appended to this file.
    case file(String)

    /// "-" or "stdout", "stderr", "off", or a file path.
    public init(argument: String) {
        switch argument {
        case "-", "stdout": self = .standardOutput
        case "stderr": self = .standardError
        case "off", "none": self = .off
        default: self = .file(argument)
        }
    }
}

/// Writes access-log lines with one `write(2)` each, so lines from different threads never
/// interleave.
public final class AccessLog {

    private let descriptor: Int32
    private let ownsDescriptor: Bool

    /// Opens the destination; throws naming the file if it cannot be opened.
    public init(_ destination: AccessLogDestination) throws {
        switch destination {
        case .off:
            descriptor = -1
            ownsDescriptor = false
        case .standardOutput:
            descriptor = STDOUT_FILENO
            ownsDescriptor = false
        case .standardError:
            descriptor = STDERR_FILENO
            ownsDescriptor = false
        case .file(let path):
            let opened = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard opened >= 0 else {
                throw HTTPServerError("\(path): cannot open access log: "
                                      + String(cString: strerror(errno)))
            }
            descriptor = opened
            ownsDescriptor = true
        }
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
    }

    public var isEnabled: Bool { descriptor >= 0 }

    func record(_ request: CompletedRequest) {
        guard descriptor >= 0 else { return }
        let tenths = Int((request.seconds * 10_000).rounded())
        var line = AccessLog.timestamp()
        line += " \(request.client) \(request.method) \(AccessLog.sanitize(AccessLog.clip(request.target)))"
        line += " \(request.status) \(request.bytes)B \(tenths / 10).\(tenths % 10)ms"
        if !request.completedNormally { line += " aborted" }
        line += "\n"
        let bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0, errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }

    /// A 40 KB query is one request, not 40 KB of log: targets are cut at `targetLimit`
    /// characters, "…" marking the cut.
    static let targetLimit = 256

    private static func clip(_ target: String) -> String {
        target.count <= targetLimit ? target : String(target.prefix(targetLimit)) + "…"
    }

    /// Control characters and spaces from decoded URLs would break the one-line format.
    private static func sanitize(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x21 || $0 == 0x7F }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x21 || scalar.value == 0x7F {
                out += "%" + (scalar.value < 16 ? "0" : "")
                    + String(scalar.value, radix: 16, uppercase: true)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// UTC time with milliseconds, without Foundation's (slow, locale-aware) formatters.
    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-"
            + pad(Int(parts.tm_mday), 2) + "T" + pad(Int(parts.tm_hour), 2) + ":"
            + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2) + "."
            + pad(Int(now.tv_nsec) / 1_000_000, 3) + "Z"
    }
}
