// GET / and the files of Public/ (the browser viewer), and /vendor/three/… from the three.js
// directory. The path arrives percent-decoded once (libmicrohttpd); it is then checked segment
// by segment (no "..", ".", empty or hidden segments, no backslashes or control characters),
// and the resolved real path must still lie inside the resolved root, so neither an encoded
// "..", a double encoding nor a symbolic link can leave the directory.
import Foundation

struct StaticFiles {

    /// Files larger than this are not served from memory.
    static let maximumFileBytes = 64 * 1024 * 1024

    static let contentTypes: [String: String] = [
        "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8",
        "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8",
        "css": "text/css; charset=utf-8", "json": "application/json",
        "map": "application/json", "txt": "text/plain; charset=utf-8",
        "md": "text/markdown; charset=utf-8", "svg": "image/svg+xml", "png": "image/png",
        "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
        "ico": "image/x-icon", "wasm": "application/wasm", "woff": "font/woff",
        "woff2": "font/woff2", "ttf": "font/ttf", "glb": "model/gltf-binary",
        "gltf": "model/gltf+json", "obj": "model/obj", "stl": "model/stl",
        "binvox": "application/octet-stream", "xml": "application/xml",
    ]

    let publicRoot: String?
    let threeRoot: String?

    init(publicDirectory: String?, threeDirectory: String?) {
        publicRoot = publicDirectory.flatMap(StaticFiles.realPath)
        threeRoot = threeDirectory.flatMap(StaticFiles.realPath)
    }

    /// The file's response, or nil when no file matches (404).
    func serve(_ request: HTTPRequest) throws -> RouteOutcome? {
        guard let file = locate(request.path) else { return nil }
        guard request.method == "GET" || request.method == "HEAD" else {
            throw HTTPError(405, "method \(request.method) is not allowed here; allowed: GET, HEAD",
                            field: "method", headers: [("Allow", "GET, HEAD")])
        }

        var status = stat()
        guard stat(file, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        guard Int(status.st_size) <= StaticFiles.maximumFileBytes else {
            throw HTTPError(500, "file is too large to serve from memory")
        }
        let tag = "\(status.st_ino)-\(status.st_size)-\(status.st_mtim.tv_sec)-"
            + "\(status.st_mtim.tv_nsec)"
        let etag = "\"" + SHA256.hex(tag).prefix(24) + "\""
        let headers: [(name: String, value: String)] = [
            ("ETag", etag), ("Cache-Control", "no-cache"),
        ]
        if let header = request.header("If-None-Match"),
           header.split(separator: ",").contains(where: {
               $0.trimmingCharacters(in: .whitespaces) == etag
                   || $0.trimmingCharacters(in: .whitespaces) == "*"
           }) {
            return .respond(HTTPResponse(status: 304, headers: headers))
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw HTTPError(500, "cannot read '\(request.path)'")
        }
        let ext = (file as NSString).pathExtension.lowercased()
        let type = StaticFiles.contentTypes[ext] ?? "application/octet-stream"
        return .respond(HTTPResponse(status: 200, headers: [("Content-Type", type)] + headers
                                     + [("X-Content-Type-Options", "nosniff")],
                                     body: [UInt8](data)))
    }

    /// The real path of the file for a URL path, or nil when it is outside every root, unsafe
    /// or missing.
    func locate(_ path: String) -> String? {
        let root: String
        var relative: Substring
        if path == "/" {
            guard let publicRoot else { return nil }
            root = publicRoot
            relative = "index.html"
        } else if path.hasPrefix("/vendor/three/") {
            guard let threeRoot else { return nil }
            root = threeRoot
            relative = path.dropFirst("/vendor/three/".count)
        } else {
            guard let publicRoot, path.hasPrefix("/") else { return nil }
            root = publicRoot
            relative = path.dropFirst()
        }

        // 1. Every segment must be an ordinary, visible name.
        let segments = relative.split(separator: "/", omittingEmptySubsequences: false)
        for segment in segments {
            guard !segment.isEmpty, !segment.hasPrefix("."),
                  !segment.unicodeScalars.contains(where: {
                      $0.value < 0x20 || $0 == "\\" || $0.value == 0x7F
                  }) else {
                return nil
            }
        }

        // 2. Following links must not leave the root.
        guard let real = StaticFiles.realPath(root + "/" + relative),
              real.hasPrefix(root + "/") else {
            return nil
        }
        return real
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
