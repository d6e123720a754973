// Maps method and path to a handler. Exact API paths first, then a fallback (static files);
// a known path with another method gets 405 and `Allow`; anything else 404. HEAD is served
// wherever GET is (libmicrohttpd drops the body).

/// A route handler; throw `HTTPError` for client errors.
public typealias RouteHandler = (HTTPRequest) throws -> RouteOutcome

/// The route table.
public final class Router {

    private struct Route {
        let label: String
        var handlers: [String: RouteHandler]
    }

    private var routes: [String: Route] = [:]
    private var fallback: ((HTTPRequest) throws -> RouteOutcome?)?
    private let fallbackLabel: String

    /// - Parameter fallbackLabel: the route label reported for requests the fallback serves.
    public init(fallbackLabel: String = "static") {
        self.fallbackLabel = fallbackLabel
    }

    /// Registers `handler` for `method` on the exact path `path`; `label` names the route in
    /// metrics (defaults to the path).
    public func add(_ method: String, _ path: String, label: String? = nil,
                    _ handler: @escaping RouteHandler) {
        var route = routes[path] ?? Route(label: label ?? path, handlers: [:])
        route.handlers[method] = handler
        routes[path] = route
    }

    /// Handles paths no route matches; returns nil for "no such resource" (404).
    public func setFallback(_ handler: @escaping (HTTPRequest) throws -> RouteOutcome?) {
        fallback = handler
    }

    /// The label of the route `path` would go to, before the handler decides (the fallback's
    /// label for any path that is not an exact route).
    public func label(for path: String) -> String {
        routes[path]?.label ?? (fallback == nil ? "unmatched" : fallbackLabel)
    }

    /// Resolves and runs the handler; errors become JSON error responses. `setRoute` receives
    /// the route label before the handler runs.
    public func handle(_ request: HTTPRequest, setRoute: (String) -> Void) -> RouteOutcome {
        do {
            if let route = routes[request.path] {
                setRoute(route.label)
                let method = request.method == "HEAD" ? "GET" : request.method
                guard let handler = route.handlers[method] else {
                    throw methodNotAllowed(request.method, route: route)
                }
                return try handler(request)
            }
            if let fallback {
                setRoute(fallbackLabel)
                if let outcome = try fallback(request) { return outcome }
            }
            setRoute("unmatched")
            throw HTTPError(404, "no resource at \(HTTPError.quote(request.path))", field: "path")
        } catch let error as HTTPError {
            return .respond(error.response)
        } catch {
            return .respond(HTTPError(500, "internal error: \(error)").response)
        }
    }

    private func methodNotAllowed(_ method: String, route: Route) -> HTTPError {
        var allowed = route.handlers.keys.sorted()
        if allowed.contains("GET") { allowed.insert("HEAD", at: allowed.firstIndex(of: "GET")! + 1) }
        let list = allowed.joined(separator: ", ")
        return HTTPError(405, "method \(method) is not allowed here; allowed: \(list)",
                         field: "method", headers: [("Allow", list)])
    }
}
