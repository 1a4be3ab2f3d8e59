// Problem: every HTTP error as RFC 9457 application/problem+json, and the one place where an
// error becomes (status, code, title). Unknown errors become 500 `internal` with no internals shown.
import ControlPlane
import JSON
import Log

public struct Problem: Error, Sendable {
    public let code: ErrorCode
    public let detail: String
    /// Extra members for the body (e.g. `line`, `column` of a JSON syntax error).
    public let extra: JSONObject
    /// Extra response headers (e.g. `Allow` on a 405).
    public let headers: [(String, String)]
    /// For a code answered with more than one status (quota_exceeded: 403 or 429).
    let statusOverride: Int?

    public init(_ code: ErrorCode, detail: String, extra: JSONObject = JSONObject(), headers: [(String, String)] = [], status: Int? = nil) {
        self.code = code
        self.detail = detail
        self.extra = extra
        self.headers = headers
        statusOverride = status
    }

    public var status: Int {
        if let statusOverride { return statusOverride }
        switch code {
        case .notFound: return 404
        case .methodNotAllowed: return 405
        case .payloadTooLarge: return 413
        case .unsupportedMediaType: return 415
        case .malformedJSON, .malformedYAML, .invalidField, .invalidFilter: return 400
        case .unauthorized: return 401
        case .forbidden, .notAPeer: return 403
        case .nameTaken, .vlanInUse, .vlanExists, .switchInUse, .portInUse, .conflict, .labMember, .labBusy, .labShare, .runFinished: return 409
        case .generationMismatch: return 412
        case .quotaExceeded: return 403
        case .unprocessable, .pathTooLong, .invalidTopology, .invalidExperiment, .applyFailed: return 422
        case .peerFailed: return 502
        case .workerUnavailable: return 503
        case .internalError: return 500
        }
    }

    public var title: String {
        switch code {
        case .notFound: return "Not found"
        case .methodNotAllowed: return "Method not allowed"
        case .payloadTooLarge: return "Request body too large"
        case .unsupportedMediaType: return "Unsupported media type"
        case .malformedJSON: return "Malformed JSON"
        case .malformedYAML: return "Malformed YAML"
        case .invalidField: return "Invalid field"
        case .invalidFilter: return "Invalid capture filter"
        case .unauthorized: return "Unauthorized"
        case .forbidden: return "Forbidden"
        case .nameTaken: return "Name taken"
        case .vlanInUse: return "VLAN in use"
        case .vlanExists: return "VLAN exists"
        case .switchInUse: return "Switch in use"
        case .portInUse: return "Port in use"
        case .conflict: return "Conflict"
        case .unprocessable: return "Unprocessable"
        case .pathTooLong: return "Path too long"
        case .invalidTopology: return "Invalid topology"
        case .invalidExperiment: return "Invalid experiment"
        case .runFinished: return "Run finished"
        case .applyFailed: return "Apply failed"
        case .labMember: return "Member of a lab"
        case .labBusy: return "Lab busy"
        case .labShare: return "Share of a lab coordinated elsewhere"
        case .notAPeer: return "Not a peer"
        case .peerFailed: return "Peer failed"
        case .quotaExceeded: return "Quota exceeded"
        case .generationMismatch: return "Generation mismatch"
        case .workerUnavailable: return "Worker unavailable"
        case .internalError: return "Internal error"
        }
    }

    /// Maps any thrown error onto a problem. Errors we do not know are logged and hidden.
    public static func from(_ error: any Error, requestID: String, log: Log) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let field as JSONFieldError:
            return Problem(.invalidField, detail: field.description, extra: ["field": JSON(field.path)])
        case let error as ControlPlaneError:
            switch error {
            case .invalidField(let path, let message):
                return Problem(.invalidField, detail: message, extra: ["field": JSON(path)])
            case .unprocessableField(let path, let message):
                return Problem(.unprocessable, detail: message, extra: ["field": JSON(path)])
            case .invalidTopology(let problems):
                return Problem(.invalidTopology, detail: error.description, extra: ["problems": JSON(problems.map { JSON.object($0.json) })])
            case .invalidExperiment(let problems):
                return Problem(.invalidExperiment, detail: error.description, extra: ["problems": JSON(problems.map { JSON.object($0.json) })])
            case .applyFailed(let failures, let generation):
                return Problem(.applyFailed, detail: error.description, extra: ["failures": JSON(failures), "generation": JSON(generation)])
            case .staleGeneration(let current):
                return Problem(.generationMismatch, detail: error.description, extra: ["generation": JSON(current)],
                               headers: [("ETag", "\"\(current)\"")])
            case .conflict(let code, _):
                return Problem(ErrorCode(rawValue: code) ?? .conflict, detail: error.description)
            case .quotaExceeded(let quota, let limit, _, let atOnce):
                return Problem(.quotaExceeded, detail: error.description, extra: ["quota": JSON(quota.rawValue), "limit": JSON(limit)],
                               headers: atOnce ? [("Retry-After", "1")] : [], status: atOnce ? 429 : 403)
            case .unprocessable(let code, _):
                // Worker codes such as `not_found` for a port still mean "impossible here": 422.
                let known = ErrorCode(rawValue: code).flatMap { Problem($0, detail: "").status == 422 ? $0 : nil }
                return Problem(known ?? .unprocessable, detail: error.description)
            default:
                return Problem(ErrorCode(rawValue: error.code) ?? .internalError, detail: error.description)
            }
        default:
            log.error("request failed", [("request.id", requestID), ("error", String(describing: error))])
            return Problem(.internalError, detail: "the server failed to handle this request; see its log for request \(requestID)")
        }
    }

    /// The problem+json response for a request to `path`.
    public func response(path: String, requestID: String) -> HTTPResponse {
        var body: JSONObject = [
            "type": JSON("urn:vsquare:problem:\(code.rawValue)"),
            "title": JSON(title),
            "status": JSON(status),
            "detail": JSON(detail),
            "code": JSON(code.rawValue),
            "instance": JSON(path),
            "request_id": JSON(requestID),
        ]
        for (key, value) in extra { body[key] = value }
        var headers = self.headers
        // A worker that does not answer is being restarted by its supervisor: worth a retry soon.
        if code == .workerUnavailable && !headers.contains(where: { $0.0 == "Retry-After" }) { headers.append(("Retry-After", "1")) }
        return HTTPResponse(status: status, headers: [("Content-Type", "application/problem+json")] + headers,
                            body: JSON.object(body).serialized() + [0x0A])
    }
}
