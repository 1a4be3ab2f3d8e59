// /v1/audit: the audit log, newest first, filtered by time (since, until: RFC 3339), lab,
// principal (a token's id or name, or a Unix user's name or uid:N for plugs) and kind
// (request, plug, unplug, gap). A scoped token sees the entries of its labs and classes.
import ControlPlane
import JSON
import LabEngine
import Posix

public enum AuditRoutes {
    static let kinds: Set<String> = ["request", "plug", "unplug", "gap"]

    public static func register(on router: inout RouterBuilder, audit: AuditLog) {
        router.add("GET", "/v1/audit") { request in
            func time(_ key: String) throws -> String? {
                guard let text = try request.singleQuery(key) else { return nil }
                // Stored times all have milliseconds: the bound is written the same way, so they compare as text.
                guard let seconds = Clock.parseRFC3339(text) else { throw JSONFieldError(path: key, rule: "must be an RFC 3339 time (2026-12-03T09:00:00Z)") }
                return Clock.rfc3339(seconds)
            }
            let lab = try request.singleQuery("lab")
            if let lab, !ResourceName.isValid(lab) { throw JSONFieldError(path: "lab", rule: "must be \(ResourceName.rule)") }
            let principal = try request.singleQuery("principal")
            if let principal, principal.isEmpty || principal.unicodeScalars.count > 128 { throw JSONFieldError(path: "principal", rule: "must be 1 to 128 characters") }
            let kind = try request.singleQuery("kind")
            if let kind, !kinds.contains(kind) { throw JSONFieldError(path: "kind", rule: "must be one of " + kinds.sorted().joined(separator: ", ")) }
            let entries = try audit.entries(since: try time("since"), until: try time("until"), lab: lab, principal: principal, kind: kind,
                                            limit: try request.intQuery("limit", in: 1...1000) ?? 100)
            return .json(["entries": JSON(entries)])
        }
    }
}
