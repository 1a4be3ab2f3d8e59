// Router: built once at start-up from `METHOD /template/{param}` routes, then frozen. It answers
// 404 for unknown paths, 405 with `Allow` for known paths and other methods, and turns any error a
// handler throws into problem+json through Problem. HEAD is served by the GET route.
import JSON
import Log

public typealias HTTPHandler = @Sendable (HTTPRequest) throws -> HTTPResponse
/// Runs before a route's handler with the route as `METHOD /template`: throws to refuse it, or
/// returns what to do to the handler's answer (nil: nothing).
public typealias RouteGate = @Sendable (HTTPRequest, String) throws -> (@Sendable (HTTPResponse) -> HTTPResponse)?

public protocol HTTPResponder: Sendable {
    func respond(to request: HTTPRequest) -> HTTPResponse
}

public struct RouterBuilder {
    fileprivate var routes: [Router.Route] = []
    fileprivate var fallback: (@Sendable (HTTPRequest) -> HTTPResponse?)?
    fileprivate var gate: RouteGate?

    public init() {}

    /// Every matched request passes `gate` first (who may call what).
    public mutating func setGate(_ gate: @escaping RouteGate) { self.gate = gate }

    /// Adds a route; `template` segments in braces (`{name}`) become path parameters.
    public mutating func add(_ method: String, _ template: String, _ handler: @escaping HTTPHandler) {
        let route = Router.Route(method: method, template: template, handler: handler)
        precondition(!routes.contains { $0.method == method && $0.shape == route.shape },
                     "route \(method) \(template) shadows another")
        routes.append(route)
    }

    /// Answers GET/HEAD requests that match no route (static files); nil falls through to 404.
    public mutating func setFallback(_ fallback: @escaping @Sendable (HTTPRequest) -> HTTPResponse?) {
        self.fallback = fallback
    }

    public func build(log: Log) -> Router { Router(routes: routes, fallback: fallback, gate: gate, log: log) }
}

public final class Router: HTTPResponder {
    struct Route: Sendable {
        enum Segment: Equatable, Sendable {
            case literal(String)
            case parameter(String)
        }

        let method: String
        let template: String
        let segments: [Segment]
        let handler: HTTPHandler

        init(method: String, template: String, handler: @escaping HTTPHandler) {
            self.method = method
            self.template = template
            self.handler = handler
            segments = template.split(separator: "/").map { part in
                part.hasPrefix("{") && part.hasSuffix("}") ? .parameter(String(part.dropFirst().dropLast())) : .literal(String(part))
            }
            literalCount = segments.filter { if case .literal = $0 { true } else { false } }.count
        }

        /// How many segments are literal: the more, the more specific.
        let literalCount: Int

        /// The template with parameter names erased, to detect shadowing.
        var shape: String {
            segments.map { if case .literal(let text) = $0 { return text } else { return "{}" } }.joined(separator: "/")
        }

        func match(_ parts: [Substring]) -> [String: String]? {
            guard parts.count == segments.count else { return nil }
            var parameters: [String: String] = [:]
            for (segment, part) in zip(segments, parts) {
                switch segment {
                case .literal(let text): if text != part { return nil }
                case .parameter(let name): parameters[name] = String(part)
                }
            }
            return parameters
        }
    }

    private let table: [Route]
    private let fallback: (@Sendable (HTTPRequest) -> HTTPResponse?)?
    private let gate: RouteGate?
    private let log: Log

    fileprivate init(routes: [Route], fallback: (@Sendable (HTTPRequest) -> HTTPResponse?)?, gate: RouteGate?, log: Log) {
        table = routes
        self.fallback = fallback
        self.gate = gate
        self.log = log
    }

    /// Every route as `METHOD /template`, in registration order.
    public var routes: [String] { table.map { "\($0.method) \($0.template)" } }

    public func respond(to request: HTTPRequest) -> HTTPResponse {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true)
        let method = request.method == "HEAD" ? "GET" : request.method
        var allowed: [String] = []
        // A path a literal segment names belongs to that route alone (/v1/labs/plan is not lab "plan").
        let matching = table.compactMap { route in route.match(parts).map { (route, $0) } }
        let mostLiteral = matching.map { $0.0.literalCount }.max() ?? 0
        for (route, parameters) in matching where route.literalCount == mostLiteral {
            guard route.method == method else {
                allowed.append(route.method)
                continue
            }
            var routed = request
            routed.parameters = parameters
            var response: HTTPResponse
            do {
                let after = try gate?(routed, "\(method) \(route.template)")
                response = try route.handler(routed)
                if let after { response = after(response) }
            } catch {
                response = Problem.from(error, requestID: request.requestID, log: log).response(path: request.path, requestID: request.requestID)
            }
            response.route = route.template
            return response
        }
        if !allowed.isEmpty {
            if allowed.contains("GET") { allowed.append("HEAD") }
            let allow = allowed.joined(separator: ", ")
            return Problem(.methodNotAllowed, detail: "\(request.method) is not allowed on \(request.path); allowed: \(allow)",
                           headers: [("Allow", allow)]).response(path: request.path, requestID: request.requestID)
        }
        if method == "GET", let fallback, let response = fallback(request) {
            return response
        }
        return Problem(.notFound, detail: "nothing is at \(request.path)").response(path: request.path, requestID: request.requestID)
    }
}
