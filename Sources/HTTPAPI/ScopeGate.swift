// ScopeGate: AccessPolicy put to work on every routed request. It finds the lab the route's target
// belongs to (a lab by its name; a switch, cable or stack by its membership), refuses what the
// policy refuses (404 for what is out of scope, 403 for what may be seen but not changed), and
// filters the answers the policy says to filter: lists keep the items of the principal's labs,
// the event stream only the events about them.
import ControlPlane
import JSON
import LabEngine

enum ScopeGate {
    static func gate(membership: LabMembership) -> RouteGate {
        { request, route in
            let principal = request.principal
            func targetLab() -> String? {
                switch AccessPolicy.target(of: String(route.drop { $0 != " " }.dropFirst())) {
                case .lab: request.parameter("name")
                case .member(let kind): membership.lab(of: kind, request.parameter("name"))
                case nil: nil
                }
            }
            switch AccessPolicy.decide(principal, route: route, targetLab: targetLab()) {
            case .allow:
                return nil
            case .hidden:
                throw Problem(.notFound, detail: "nothing is at \(request.path)")
            case .forbidden(let why):
                throw Problem(.forbidden, detail: why)
            case .filter:
                guard let scope = principal.scope else { return nil }
                return { response in filtered(response, to: scope) }
            }
        }
    }

    /// A list answer with only the items of `scope`'s labs (a lab by its name, a member by its `lab`).
    static func filtered(_ response: HTTPResponse, to scope: AccessScope) -> HTTPResponse {
        guard response.stream == nil, (200..<300).contains(response.status), let body = try? JSON.parse(response.body),
              var object = body.objectValue else { return response }
        for key in ["labs", "switches", "cables", "stacks"] {
            guard let items = object[key]?.arrayValue else { continue }
            object[key] = .array(items.filter { item in
                (key == "labs" ? item["name"] : item["lab"])?.stringValue.map(scope.labs.contains) ?? false
            })
        }
        var filtered = response
        filtered.body = JSON.object(object).serialized() + [0x0A]
        return filtered
    }

    /// Whether `principal` may see `event`: everything unscoped; else an event about one of its labs
    /// or their members.
    static func visible(membership: LabMembership) -> @Sendable (Principal, ControlPlaneEvent) -> Bool {
        { principal, event in
            guard let scope = principal.scope, principal.role != .admin else { return true }
            if let lab = event.data["lab"]?.stringValue { return scope.labs.contains(lab) }
            for (key, kind) in [("switch", LabMember.Kind.switch), ("cable", .cable), ("stack", .stack)] {
                if let name = event.data[key]?.stringValue { return membership.lab(of: kind, name).map(scope.labs.contains) ?? false }
            }
            return false
        }
    }
}
