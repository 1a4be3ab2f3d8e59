// AccessPolicy: what a principal may do with a route, decided from its role, its scope (the labs
// and classes it may see) and what the route is about — pure, so every rule is tested in-process.
// The caller says which lab the route's target belongs to (a lab by its name, a switch, cable or
// stack by its membership), the class of that lab and that class's student permissions; the
// policy says allow, answer filtered to the scope (lists, the event stream), hidden (404: what is
// out of scope does not exist, so names do not leak) or forbidden (403: it may be seen but not
// changed by this role, or is not about a lab or class at all).
import ControlPlane
import LabEngine

public enum AccessDecision: Sendable, Equatable {
    case allow
    /// Answer, keeping only what lies in the scope.
    case filter
    case hidden
    case forbidden(String)
}

/// What a route's target is, as the policy needs it: the lab it belongs to, the class that lab
/// was built for (or that the route names) and what that class lets its students do.
public struct AccessTarget: Sendable, Equatable {
    public var lab: String?
    public var className: String?
    /// Every permission for a lab outside any class.
    public var permissions: Set<StudentPermission>

    public init(lab: String? = nil, className: String? = nil, permissions: Set<StudentPermission> = Set(StudentPermission.allCases)) {
        self.lab = lab
        self.className = className
        self.permissions = permissions
    }
}

public enum AccessPolicy {
    /// Anyone may call these.
    static let open: Set<String> = ["GET /", "GET /v1/health", "GET /v1/version", "GET /v1/whoami"]
    /// Answers a scoped principal gets filtered to its labs and classes.
    static let lists: Set<String> = ["GET /v1/labs", "GET /v1/switches", "GET /v1/cables", "GET /v1/stacks", "GET /v1/classes", "GET /v1/audit", "GET /v1/events"]
    /// What a student may change in its own lab, and the class permission each needs: run
    /// commands, cut, restore and impair its cables, reset it, run its checks.
    static let studentChanges: [String: StudentPermission] = [
        "POST /v1/stacks/{name}/exec": .exec, "DELETE /v1/stacks/{name}/processes/{id}": .exec,
        "POST /v1/cables/{name}/cut": .cutRestore, "POST /v1/cables/{name}/restore": .cutRestore, "PATCH /v1/cables/{name}": .impair,
        "POST /v1/labs/{name}/reset": .reset, "POST /v1/labs/{name}/checks": .checks,
    ]

    /// The noun whose `{name}` the route is about, if it is about one switch, cable, stack, lab or class.
    public static func target(of template: String) -> TargetKind? {
        let parts = template.split(separator: "/")
        guard parts.count >= 3, parts[0] == "v1", parts[2] == "{name}" else { return nil }
        switch parts[1] {
        case "labs": return .lab
        case "classes": return .classroom
        case "switches": return .member(.switch)
        case "cables": return .member(.cable)
        case "stacks": return .member(.stack)
        default: return nil
        }
    }

    public enum TargetKind: Sendable, Equatable {
        /// The path names the lab itself.
        case lab
        /// The path names a class.
        case classroom
        /// The path names a member of some lab (or of none).
        case member(LabMember.Kind)
    }

    /// `route` is `METHOD TEMPLATE`; `target` what the route's `{name}` is (nothing when it has
    /// none), looked up only for a scoped principal's route about one lab, member or class.
    public static func decide(_ principal: Principal, route: String, target lookup: @autoclosure () -> AccessTarget) -> AccessDecision {
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
        guard let kind = target(of: template) else {
            // Not about one lab's thing: creates, experiments, tokens, plans. The same answer for
            // every name, so nothing leaks.
            return .forbidden(reads ? "a \(principal.role.rawValue) token sees only its labs and their members"
                                    : "a \(principal.role.rawValue) token may change only what is in its labs")
        }
        let found = lookup()
        if kind == .classroom {
            guard let className = found.className, scope.classes.contains(className) else { return .hidden }
            if reads || principal.role == .teacher { return .allow }
            return .forbidden("a \(principal.role.rawValue) token may read its class but not change it")
        }
        guard let lab = found.lab, scope.sees(lab: lab, className: found.className) else { return .hidden }
        if reads { return .allow }
        switch principal.role {
        case .admin, .teacher: return .allow
        case .student:
            guard let permission = studentChanges[route] else {
                return .forbidden("a student may run commands, cut, restore and impair cables, reset its lab and run its checks; not \(route)")
            }
            guard found.permissions.contains(permission) else {
                return .forbidden("class \(found.className ?? "") does not let its students \(permission.rawValue) (its permissions)")
            }
            return .allow
        case .viewer: return .forbidden("a viewer token may read but not change anything")
        }
    }
}
