// AuditTrail: every mutating request, once answered, goes to the audit log with who sent it
// (the principal the Authenticator found), the route, its target and that target's lab, the
// status and the request id. Reads are not recorded; a request refused for its token (401) never
// reaches here, having done nothing.
import ControlPlane
import Posix

public struct AuditTrail: HTTPResponder {
    public let audit: AuditLog
    public let labs: LabMembership
    public let classes: ClassMembership
    public let next: any HTTPResponder

    public init(audit: AuditLog, labs: LabMembership, classes: ClassMembership, next: any HTTPResponder) {
        self.audit = audit
        self.labs = labs
        self.classes = classes
        self.next = next
    }

    public func respond(to request: HTTPRequest) -> HTTPResponse {
        guard !["GET", "HEAD", "OPTIONS"].contains(request.method) else { return next.respond(to: request) }
        let started = Clock.monotonicNanoseconds()
        let response = next.respond(to: request)
        let template = response.route
        let name = template.flatMap { AuditTrail.parameter("name", of: $0, in: request.path) }
        let target = template.flatMap { template in name.map { ScopeGate.target(template, name: $0, labs: labs, classes: classes) } }
        audit.recordRequest(principal: request.principal, method: request.method, route: template, path: request.path, target: name,
                            lab: target?.lab, className: target?.className, status: response.status, requestID: request.requestID,
                            durationMilliseconds: Int((Clock.monotonicNanoseconds() - started) / 1_000_000))
        return response
    }

    /// The value of `{parameter}` in `path` by the route `template`.
    static func parameter(_ parameter: String, of template: String, in path: String) -> String? {
        let templateParts = template.split(separator: "/"), pathParts = path.split(separator: "/")
        guard templateParts.count == pathParts.count else { return nil }
        return zip(templateParts, pathParts).first { $0.0 == "{\(parameter)}" }.map { String($0.1) }
    }
}
