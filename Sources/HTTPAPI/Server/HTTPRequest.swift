// HTTPRequest and HTTPResponse: plain values between the libmicrohttpd adapter and the router,
// so the router and its handlers can be driven in-process by tests.
import ControlPlane
import JSON
import LabEngine

public struct HTTPRequest: Sendable {
    public var method: String
    /// The decoded path, without the query string.
    public var path: String
    /// Query arguments in order; a key without `=` has an empty value.
    public var query: [(String, String)]
    /// Header names are lower-cased.
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// Unique per request; also sent back as `X-Request-Id`.
    public var requestID: String
    /// Path parameters, filled by the router from the route template.
    public var parameters: [String: String] = [:]
    /// Who sent it, set by the Authenticator (an anonymous admin where nothing asks for tokens).
    public var principal: Principal = .anonymous

    public init(method: String, path: String, query: [(String, String)] = [], headers: [(String, String)] = [],
                body: [UInt8] = [], requestID: String = "test") {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers.map { ($0.0.lowercased(), $0.1) }
        self.body = body
        self.requestID = requestID
    }

    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.0 == lowered }?.1
    }

    public func queryValue(_ name: String) -> String? {
        query.first { $0.0 == name }?.1
    }

    /// `?key=a,b,c` as names (each a resource name); nil when the query is not given.
    public func names(_ key: String) throws -> [String]? {
        guard let text = try singleQuery(key) else { return nil }
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard !names.isEmpty, names.allSatisfy(ResourceName.isValid) else {
            throw JSONFieldError(path: key, rule: "must be names separated by commas")
        }
        return names
    }

    /// `views` kept to the members of the lab named by `?lab=` (all of them without it).
    public func inLab(_ views: [JSONObject]) throws(Problem) -> [JSONObject] {
        guard let lab = try singleQuery("lab") else { return views }
        guard ResourceName.isValid(lab) else {
            throw Problem(.invalidField, detail: "query parameter `lab` must be \(ResourceName.rule)", extra: ["field": "lab"])
        }
        return views.filter { $0["lab"]?.stringValue == lab }
    }

    /// A lab's member is changed through its lab's document: 409 `lab_member` unless `?force=true`.
    public func refuseLabMember(_ kind: LabMember.Kind, _ name: String, _ membership: LabMembership?) throws(Problem) {
        let force = try boolQuery("force")
        guard let lab = membership?.lab(of: kind, name), !force else { return }
        throw Problem(.labMember, detail: "\(kind.rawValue) \(name) belongs to lab \(lab): change it with PUT /v1/labs/\(lab), "
                      + "or add ?force=true (POST /v1/labs/\(lab)/reset puts it back as the document says)",
                      extra: ["lab": JSON(lab)])
    }

    /// The body's media type, lowercased and without parameters (nil when no Content-Type was sent).
    public var mediaType: String? {
        header("content-type").map { $0.split(separator: ";").first.map { $0.trimmingSpaces().lowercased() } ?? "" }
    }

    /// Whether the body says it is YAML (application/yaml, or the older x-yaml and text/yaml).
    public var isYAML: Bool { ["application/yaml", "application/x-yaml", "text/yaml"].contains(mediaType ?? "") }

    /// The body parsed as JSON. Problems: 415 for a non-JSON content type, 400 with line and column for bad JSON.
    public func json() throws(Problem) -> JSON {
        if let mediaType {
            guard mediaType == "application/json" || mediaType.hasSuffix("+json") else {
                throw Problem(.unsupportedMediaType, detail: "the body must be application/json, not \(mediaType)")
            }
        }
        guard !body.isEmpty else { throw Problem(.malformedJSON, detail: "the request body is empty; a JSON object is expected") }
        do {
            return try JSON.parse(body)
        } catch {
            throw Problem(.malformedJSON, detail: "\(error.message) at line \(error.line), column \(error.column)",
                          extra: ["line": JSON(error.line), "column": JSON(error.column)])
        }
    }

    /// The path parameter `name` (the router guarantees it exists for the route).
    public func parameter(_ name: String) -> String {
        parameters[name] ?? ""
    }

    /// A resource name from the path; a name that breaks the naming rule cannot exist, so 404.
    public func resourceName(_ parameter: String, kind: String) throws(Problem) -> String {
        let name = self.parameter(parameter)
        guard ResourceName.isValid(name) else { throw Problem(.notFound, detail: "there is no \(kind) named \(name)") }
        return name
    }

    /// An integer path parameter in `range`; anything else names nothing that can exist, so 404.
    public func intParameter(_ parameter: String, in range: ClosedRange<Int>, kind: String) throws(Problem) -> Int {
        let text = self.parameter(parameter)
        guard let value = Int(text), range.contains(value) else {
            throw Problem(.notFound, detail: "there is no \(kind) \(text) (\(kind)s are numbered \(range.lowerBound) to \(range.upperBound))")
        }
        return value
    }

    /// The one value of query argument `name`, nil when absent; given twice, it is ambiguous (400).
    public func singleQuery(_ name: String) throws(Problem) -> String? {
        let values = query.filter { $0.0 == name }
        guard values.count <= 1 else {
            throw Problem(.invalidField, detail: "query `\(name)` is given \(values.count) times; give it once", extra: ["field": JSON(name)])
        }
        return values.first?.1
    }

    /// An optional integer query argument in `range` (400 when present and anything else, empty included).
    public func intQuery(_ name: String, in range: ClosedRange<Int>) throws(Problem) -> Int? {
        guard let text = try singleQuery(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw Problem(.invalidField, detail: "query `\(name)` must be an integer between \(range.lowerBound) and \(range.upperBound), not \"\(text)\"",
                          extra: ["field": JSON(name)])
        }
        return value
    }

    /// An optional number query argument in `range`, its lower bound excluded (400 when present and anything else).
    public func numberQuery(_ name: String, above lower: Double, atMost upper: Double) throws(Problem) -> Double? {
        guard let text = try singleQuery(name) else { return nil }
        guard let value = Double(text), value.isFinite, value > lower, value <= upper else {
            throw Problem(.invalidField, detail: "query `\(name)` must be a number above \(Int(lower)) and at most \(Int(upper)), not \"\(text)\"",
                          extra: ["field": JSON(name)])
        }
        return value
    }

    /// A boolean query argument: exactly `true` or `false`, false when absent (400 for anything else).
    public func boolQuery(_ name: String) throws(Problem) -> Bool {
        switch try singleQuery(name) {
        case nil, "false": return false
        case "true": return true
        case let text?:
            throw Problem(.invalidField, detail: "query `\(name)` must be true or false, not \"\(text)\"", extra: ["field": JSON(name)])
        }
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// The route template that answered, for logs and metrics; never sent.
    public var route: String?
    /// A body produced over time (Server-Sent Events) instead of `body`.
    public var stream: (any HTTPStream)?

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = [], route: String? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.route = route
    }

    /// A JSON body (compact, newline-terminated so terminals show it cleanly).
    public static func json(_ value: JSON, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: value.serialized() + [0x0A])
    }

    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.0.lowercased() == lowered }?.1
    }

    /// 204 No Content.
    public static let noContent = HTTPResponse(status: 204)
}

/// A response body produced over time. The server asks `read` whenever the client can take more:
/// bytes are sent; an empty array means "nothing yet" (the connection is parked until `wake` is
/// called); nil ends the response.
public protocol HTTPStream: AnyObject, Sendable {
    func start(wake: @escaping @Sendable () -> Void)
    /// As `start(wake:)`, for streams that may stay quiet for long: `clientGone` says whether the
    /// client has hung up, which the server itself only notices when it next writes.
    func start(wake: @escaping @Sendable () -> Void, clientGone: @escaping @Sendable () -> Bool)
    func read(maximum: Int) -> [UInt8]?
    /// The connection is gone.
    func cancel()
}

extension HTTPStream {
    public func start(wake: @escaping @Sendable () -> Void, clientGone: @escaping @Sendable () -> Bool) { start(wake: wake) }
}
