// Request parameters from the query string and (for POST routes) a JSON body, read through
// typed accessors that throw 400 naming the field, and a final check that rejects any
// parameter the route did not read: a misspelt option is an error, not silently ignored.

/// The parameters of one request. Each accessor marks its name as known.
struct Parameters {

    /// Scalar values as text (JSON numbers keep their source text, booleans "true"/"false").
    private var scalars: [String: String] = [:]
    /// Body members that are arrays or objects.
    private var structured: [String: JSONValue] = [:]
    private var order: [String] = []
    private var read: Set<String> = []

    /// Query parameters only. A name given twice is an error.
    init(query: [(name: String, value: String)]) throws {
        for (name, value) in query {
            guard scalars[name] == nil else {
                throw HTTPError.badParameter(name, "parameter '\(name)' is given more than once")
            }
            scalars[name] = value
            order.append(name)
        }
    }

    /// Query parameters plus the members of a JSON object body. A name in both is an error.
    init(query: [(name: String, value: String)], jsonBody body: [UInt8]) throws {
        try self.init(query: query)
        guard !body.isEmpty else {
            throw HTTPError.badParameter("body", "expected a JSON object body, got an empty body")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(body)
        } catch {
            throw HTTPError.badParameter("body", "body is not valid JSON: \(error)")
        }
        guard case .object(let members) = value else {
            throw HTTPError.badParameter("body", "expected a JSON object body, got \(value.kindName)")
        }
        for (name, member) in members {
            guard scalars[name] == nil, structured[name] == nil else {
                throw HTTPError.badParameter(name, "'\(name)' is given more than once")
            }
            order.append(name)
            switch member {
            case .string(let text): scalars[name] = text
            case .number(let text): scalars[name] = text
            case .bool(let flag): scalars[name] = flag ? "true" : "false"
            case .null: throw HTTPError.badParameter(name, "'\(name)' is null")
            case .array, .object: structured[name] = member
            }
        }
    }

    func contains(_ name: String) -> Bool { scalars[name] != nil || structured[name] != nil }

    /// The raw text of a scalar parameter.
    mutating func string(_ name: String) throws -> String? {
        read.insert(name)
        if structured[name] != nil {
            throw HTTPError.badParameter(name, "'\(name)' must be a single value, not "
                                         + structured[name]!.kindName)
        }
        return scalars[name]
    }

    /// An array member of the JSON body.
    mutating func array(_ name: String) throws -> [JSONValue]? {
        read.insert(name)
        if scalars[name] != nil {
            throw HTTPError.badParameter(name, "'\(name)' must be an array")
        }
        guard let value = structured[name] else { return nil }
        guard case .array(let values) = value else {
            throw HTTPError.badParameter(name, "'\(name)' must be an array, not \(value.kindName)")
        }
        return values
    }

    mutating func seed(_ name: String) throws -> UInt64? {
        guard let text = try string(name) else { return nil }
        return try Parameters.parseSeed(text, field: name)
    }

    static func parseSeed(_ text: String, field: String) throws -> UInt64 {
        guard !text.isEmpty, text.utf8.allSatisfy({ (48...57).contains($0) }),
              let value = UInt64(text) else {
            throw HTTPError.badParameter(field, "\(field) must be a whole number in "
                                         + "0...\(UInt64.max), got \(HTTPError.quote(text))")
        }
        return value
    }

    mutating func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = try string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw HTTPError.badParameter(name, "\(name) must be a whole number in "
                                         + "\(range.lowerBound)...\(range.upperBound), got \(HTTPError.quote(text))")
        }
        return value
    }

    mutating func double(_ name: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let text = try string(name) else { return nil }
        guard let value = Double(text), value.isFinite, range.contains(value),
              !text.contains(where: { $0.isWhitespace }) else {
            throw HTTPError.badParameter(name, "\(name) must be a number in "
                                         + "\(range.lowerBound)...\(range.upperBound), got \(HTTPError.quote(text))")
        }
        return value
    }

    mutating func bool(_ name: String) throws -> Bool? {
        guard let text = try string(name) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default:
            throw HTTPError.badParameter(name, "\(name) must be true or false, got \(HTTPError.quote(text))")
        }
    }

    mutating func choice(_ name: String, _ choices: [String]) throws -> String? {
        guard let text = try string(name) else { return nil }
        guard choices.contains(text) else {
            throw HTTPError.badParameter(name, "\(name) must be one of "
                                         + "\(choices.joined(separator: ", ")), got \(HTTPError.quote(text))")
        }
        return text
    }

    /// Throws 400 for the first parameter no accessor asked for.
    func rejectUnknown() throws {
        if let unknown = order.first(where: { !read.contains($0) }) {
            throw HTTPError.badParameter(unknown, "unknown parameter \(HTTPError.quote(unknown))")
        }
    }
}
