// AccessPolicy: what a principal may do with a route, decided from its role, its scope (the labs it
// may see) and what the route is about — pure, so every rule is tested in-process. The caller says
// which lab the route's target belongs to (a lab by its name, a switch, cable or stack by its
// membership); the policy says allow, answer filtered to the scope (lists, the event stream),
// hidden (404: a lab or member out of scope does not exist, so names do not leak) or forbidden
// (403: it may be seen but not changed by this role, or is not about a lab at all).
import ControlPlane
import LabEngine

public enum AccessDecision: Sendable, Equatable {
    case allow
    /// Answer, keeping only what lies in the scope.
    case filter
    case hidden
    case forbidden(String)
}

public enum AccessPolicy {
    /// Anyone may call these.
    static let open: Set<String> = ["GET /", "GET /v1/health", "GET /v1/version", "GET /v1/whoami"]
    /// Answers a scoped principal gets filtered to its labs.
    static let lists: Set<String> = ["GET /v1/labs", "GET /v1/switches", "GET /v1/cables", "GET /v1/stacks", "GET /v1/events"]
    /// What a student may change in its own lab: run commands, cut, restore and impair its cables,
    /// reset it, run its checks (a class's permissions narrow this further).
    static let studentChanges: Set<String> = [
        "POST /v1/stacks/{name}/exec", "DELETE /v1/stacks/{name}/processes/{id}",
        "POST /v1/cables/{name}/cut", "POST /v1/cables/{name}/restore", "PATCH /v1/cables/{name}",
        "POST /v1/labs/{name}/reset", "POST /v1/labs/{name}/checks",
    ]

    /// The noun whose `{name}` the route is about, if it is about one switch, cable, stack or lab.
    public static func target(of template: String) -> LabTarget? {
        let parts = template.split(separator: "/")
        guard parts.count >= 3, parts[0] == "v1", parts[2] == "{name}" else { return nil }
        switch parts[1] {
        case "labs": return .lab
        case "switches": return .member(.switch)
        case "cables": return .member(.cable)
        case "stacks": return .member(.stack)
        default: return nil
        }
    }

    public enum LabTarget: Sendable, Equatable {
        /// The path names the lab itself.
        case lab
        /// The path names a member of some lab (or of none).
        case member(LabMember.Kind)
    }

    /// `route` is `METHOD TEMPLATE`; `targetLab` the lab the route's target belongs to (nil when it
    /// belongs to none, or the route has no target), looked up only for a scoped principal's route
    /// about one lab or member.
    public static func decide(_ principal: Principal, route: String, targetLab: @autoclosure () -> String?) -> AccessDecision {
        let scope = principal.scope
        let method = route.prefix { $0 != " " }
        let template = String(route.dropFirst(method.count + 1))
        let reads = method == "GET" || method == "HEAD"
        if principal.role == .admin || open.contains(route) { return .allow }
        if template == "/metrics" {
            return principal.role == .teacher ? .allow : .forbidden("/metrics is for admin and teacher tokens")
        }
        guard let scope else {
            // Unscoped: a viewer (or a teacher or student without labs) reads everything and changes nothing.
            return reads ? .allow : .forbidden("a \(principal.role.rawValue) token may read but not change anything")
        }
        if lists.contains(route) { return .filter }
        guard target(of: template) != nil else {
            // Not about one lab's thing: creates, experiments, tokens, plans. The same answer for
            // every name, so nothing leaks.
            return .forbidden(reads ? "a \(principal.role.rawValue) token sees only its labs and their members"
                                    : "a \(principal.role.rawValue) token may change only what is in its labs")
        }
        guard let lab = targetLab(), scope.labs.contains(lab) else { return .hidden }
        if reads { return .allow }
        switch principal.role {
        case .admin, .teacher: return .allow
        case .student:
            return studentChanges.contains(route) ? .allow : .forbidden("a student may run commands, cut, restore and impair cables, reset its lab and run its checks; not \(route)")
        case .viewer: return .forbidden("a viewer token may read but not change anything")
        }
    }
}
