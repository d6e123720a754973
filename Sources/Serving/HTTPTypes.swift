// The values that flow between the libmicrohttpd wrapper, the router and the route handlers:
// a parsed request, a finished response, an error that becomes a JSON error response, and
// what a handler returns (a response now, or work that answers later).

/// One HTTP request as the routes see it, after headers and (for uploads) the whole body.
public struct HTTPRequest {

    /// Method as sent, such as "GET".
    public let method: String

    /// Percent-decoded path without the query, such as "/v1/sample".
    public let path: String

    /// Percent-decoded query parameters in the order sent; a bare `?flag` has value "".
    public let query: [(name: String, value: String)]

    /// Header fields in the order sent, names lowercased.
    public let headers: [(name: String, value: String)]

    /// The request body (empty for bodiless requests).
    public let body: [UInt8]

    public init(method: String, path: String, query: [(name: String, value: String)] = [],
                headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The first header field named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first(where: { $0.name == lowered })?.value
    }
}

/// A complete response: status, header fields in order, body bytes.
public struct HTTPResponse {

    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header field named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first(where: { $0.name.lowercased() == name.lowercased() })?.value
    }

    /// Replaces every field named `name` by one with `value`, or adds it.
    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll(where: { $0.name.lowercased() == name.lowercased() })
        headers.append((name, value))
    }

    /// A JSON body with `Content-Type: application/json`.
    public static func json(_ value: JSONValue, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")],
                     body: Array((value.serialized() + "\n").utf8))
    }

    /// A plain-text body.
    public static func text(_ text: String, status: Int = 200,
                            contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", contentType)],
                     body: Array(text.utf8))
    }
}

/// A failure answered with a JSON body `{"error": message, "field": field}` (`field` only
/// when one request parameter or body field is at fault) and any extra header fields, such as
/// `Allow` for 405 or `Retry-After` for 503.
public struct HTTPError: Error, CustomStringConvertible {

    public let status: Int
    public let message: String
    public let field: String?
    public let headers: [(name: String, value: String)]

    public init(_ status: Int, _ message: String, field: String? = nil,
                headers: [(name: String, value: String)] = []) {
        self.status = status
        self.message = message
        self.field = field
        self.headers = headers
    }

    /// 400 for a request parameter or body field that is unknown, missing or malformed.
    public static func badParameter(_ field: String, _ message: String) -> HTTPError {
        HTTPError(400, message, field: clipped(field))
    }

    /// A client's value for an error message: in quotes, at most `quoteLimit` characters, "…"
    /// marking a cut, so a 5 MB seed gives a short 400 and not a 5 MB echo.
    public static func quote(_ text: String) -> String { "'" + clipped(text) + "'" }

    /// Characters of a client's value an error message or log line repeats at most.
    public static let quoteLimit = 64

    static func clipped(_ text: String, limit: Int = quoteLimit) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }

    public var description: String { "\(status) \(message)" }

    public var response: HTTPResponse {
        var fields: [(String, JSONValue)] = [("error", .string(message))]
        if let field { fields.append(("field", .string(field))) }
        var response = HTTPResponse.json(.object(fields), status: status)
        response.headers += headers
        return response
    }
}

/// What a route handler hands back to the server.
public enum RouteOutcome {

    /// Answer at once, on the libmicrohttpd thread that asked.
    case respond(HTTPResponse)

    /// Answer later: the server suspends the connection, then calls `start`, whose argument
    /// must be called exactly once, from any thread, with the response.
    case deferred(start: (_ finish: @escaping (HTTPResponse) -> Void) -> Void)
}

/// The standard reason phrase is added by libmicrohttpd; these are the statuses voxgan uses.
public enum HTTPStatus {
    public static let ok = 200
    public static let notModified = 304
    public static let badRequest = 400
    public static let notFound = 404
    public static let methodNotAllowed = 405
    public static let payloadTooLarge = 413
    public static let internalServerError = 500
    public static let serviceUnavailable = 503
}
