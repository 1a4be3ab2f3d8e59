// ScopeGate: AccessPolicy put to work on every routed request. It finds what the route's target
// belongs to (a lab by its name; a switch, cable or stack by its lab membership; the lab's class
// and that class's permissions), refuses what the policy refuses (404 for what is out of scope,
// 403 for what may be seen but not changed), and filters the answers the policy says to filter:
// lists keep the items of the principal's labs and classes, the event stream only the events
// about them.
import ControlPlane
import JSON
import LabEngine

enum ScopeGate {
    static func gate(labs: LabMembership, classes: ClassMembership) -> RouteGate {
        { request, route in
            let principal = request.principal
            let template = String(route.drop { $0 != " " }.dropFirst())
            switch AccessPolicy.decide(principal, route: route, target: target(template, name: request.parameter("name"), labs: labs, classes: classes)) {
            case .allow:
                return nil
            case .hidden:
                throw Problem(.notFound, detail: "nothing is at \(request.path)")
            case .forbidden(let why):
                throw Problem(.forbidden, detail: why)
            case .filter:
                guard let scope = principal.scope else { return nil }
                return { response in filtered(response, to: scope, classes: classes) }
            }
        }
    }

    /// What the route `template` with `{name}` = `name` is about: its lab (a lab by its name, a
    /// member by its membership), that lab's class and the class's permissions, or the class it names.
    static func target(_ template: String, name: String, labs: LabMembership, classes: ClassMembership) -> AccessTarget {
        let lab: String?
        switch AccessPolicy.target(of: template) {
        case .lab: lab = name
        case .member(let kind): lab = labs.lab(of: kind, name)
        case .classroom: return AccessTarget(className: name)
        case nil: return AccessTarget()
        }
        guard let lab else { return AccessTarget() }
        guard let placement = classes.placement(of: lab) else { return AccessTarget(lab: lab) }
        return AccessTarget(lab: lab, className: placement.className, permissions: placement.permissions)
    }

    /// A list answer with only the items of `scope`'s labs and classes (a lab by its name and its
    /// class, a member by its `lab`, a class by its name).
    static func filtered(_ response: HTTPResponse, to scope: AccessScope, classes: ClassMembership) -> HTTPResponse {
        guard response.stream == nil, (200..<300).contains(response.status), let body = try? JSON.parse(response.body),
              var object = body.objectValue else { return response }
        for key in ["labs", "switches", "cables", "stacks", "classes", "entries"] {
            guard let items = object[key]?.arrayValue else { continue }
            object[key] = .array(items.filter { item in
                // An audit entry about a class (not one of its labs) belongs to the class.
                if key == "entries", item["lab"]?.stringValue == nil, let className = item["class"]?.stringValue { return scope.classes.contains(className) }
                guard let name = (key == "labs" || key == "classes" ? item["name"] : item["lab"])?.stringValue else { return false }
                return key == "classes" ? scope.classes.contains(name) : scope.sees(lab: name, className: classes.placement(of: name)?.className)
            })
        }
        var filtered = response
        filtered.body = JSON.object(object).serialized() + [0x0A]
        return filtered
    }

    /// Whether `principal` may see `event`: everything unscoped; else an event about one of its
    /// classes, labs or their members.
    static func visible(labs: LabMembership, classes: ClassMembership) -> @Sendable (Principal, ControlPlaneEvent) -> Bool {
        { principal, event in
            guard let scope = principal.scope, principal.role != .admin else { return true }
            func sees(_ lab: String) -> Bool { scope.sees(lab: lab, className: classes.placement(of: lab)?.className) }
            // An event about one lab (an audit entry of a class's lab too) is that lab's; one about a class as a whole, the class's.
            if let lab = event.data["lab"]?.stringValue { return sees(lab) }
            if let className = event.data["class"]?.stringValue { return scope.classes.contains(className) }
            for (key, kind) in [("switch", LabMember.Kind.switch), ("cable", .cable), ("stack", .stack)] {
                if let name = event.data[key]?.stringValue { return labs.lab(of: kind, name).map(sees) ?? false }
            }
            return false
        }
    }
}
