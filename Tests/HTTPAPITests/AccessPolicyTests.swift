// AccessPolicy in-process: every role against every kind of route, in scope and out of it.
import ControlPlane
import HTTPAPI
import Testing

@Suite struct AccessPolicyTests {
    let scope = AccessScope(labs: ["alice"])
    func decide(_ role: Principal.Role, _ route: String, lab: String? = nil, scoped: Bool = true) -> AccessDecision {
        AccessPolicy.decide(Principal(id: "tok-000000000001", name: role.rawValue, role: role, scope: scoped ? scope : nil), route: route,
                            target: AccessTarget(lab: lab))
    }
    func decide(_ role: Principal.Role, _ route: String, scope: AccessScope, target: AccessTarget) -> AccessDecision {
        AccessPolicy.decide(Principal(id: "tok-000000000002", name: role.rawValue, role: role, scope: scope), route: route, target: target)
    }

    @Test func adminsMayDoEverythingAndAnyoneMayAskWhoTheyAre() {
        for route in ["POST /v1/switches", "DELETE /v1/labs/{name}", "GET /metrics", "POST /v1/tokens"] {
            #expect(AccessPolicy.decide(.anonymous, route: route, target: AccessTarget()) == .allow)
            #expect(decide(.admin, route, lab: "bob") == .allow)
        }
        for role in Principal.Role.allCases { #expect(decide(role, "GET /v1/whoami") == .allow && decide(role, "GET /v1/health") == .allow) }
    }

    @Test func anUnscopedViewerReadsEverythingAndChangesNothing() {
        #expect(decide(.viewer, "GET /v1/switches/{name}", lab: "bob", scoped: false) == .allow)
        #expect(decide(.viewer, "GET /v1/experiments", scoped: false) == .allow)
        guard case .forbidden = decide(.viewer, "PATCH /v1/switches/{name}", lab: "bob", scoped: false) else { Issue.record("a viewer changed a switch"); return }
        guard case .forbidden = decide(.viewer, "GET /metrics", scoped: false) else { Issue.record("a viewer read /metrics"); return }
    }

    @Test func aStudentSeesOnlyItsLabAndChangesOnlyWhatItMay() {
        // Its own lab: reads, and the changes a student may make.
        #expect(decide(.student, "GET /v1/labs/{name}", lab: "alice") == .allow)
        #expect(decide(.student, "GET /v1/switches/{name}/macs", lab: "alice") == .allow)
        #expect(decide(.student, "POST /v1/stacks/{name}/exec", lab: "alice") == .allow)
        #expect(decide(.student, "POST /v1/cables/{name}/cut", lab: "alice") == .allow)
        #expect(decide(.student, "POST /v1/labs/{name}/reset", lab: "alice") == .allow)
        guard case .forbidden = decide(.student, "DELETE /v1/labs/{name}", lab: "alice") else { Issue.record("a student deleted its lab"); return }
        guard case .forbidden = decide(.student, "PUT /v1/labs/{name}", lab: "alice") else { Issue.record("a student rewrote its lab"); return }
        // Another student's lab, or what belongs to no lab: not there at all.
        for route in ["GET /v1/labs/{name}", "POST /v1/stacks/{name}/exec", "DELETE /v1/switches/{name}", "GET /v1/cables/{name}/metrics"] {
            #expect(decide(.student, route, lab: "bob") == .hidden, "\(route)")
            #expect(decide(.student, route, lab: nil) == .hidden, "\(route)")
        }
        // Lists and events are filtered; the rest is forbidden, whatever it names.
        for route in ["GET /v1/labs", "GET /v1/switches", "GET /v1/cables", "GET /v1/stacks", "GET /v1/events"] { #expect(decide(.student, route) == .filter) }
        for route in ["GET /v1/experiments", "GET /v1/tokens", "GET /v1/experiments/{name}/runs"] {
            #expect(decide(.student, route) == .forbidden("a student token sees only its labs and their members"), "\(route)")
        }
        for route in ["POST /v1/switches", "POST /v1/labs", "POST /v1/experiments", "POST /v1/tokens"] {
            guard case .forbidden = decide(.student, route) else { Issue.record("a student may \(route)"); continue }
        }
        guard case .forbidden = decide(.student, "GET /metrics") else { Issue.record("a student read /metrics"); return }
    }

    @Test func aTeacherChangesAnythingInItsLabsAndReadsMetrics() {
        #expect(decide(.teacher, "DELETE /v1/stacks/{name}", lab: "alice") == .allow)
        #expect(decide(.teacher, "PUT /v1/labs/{name}", lab: "alice") == .allow)
        #expect(decide(.teacher, "GET /metrics") == .allow)
        #expect(decide(.teacher, "PUT /v1/labs/{name}", lab: "bob") == .hidden)
        guard case .forbidden = decide(.viewer, "POST /v1/cables/{name}/cut", lab: "alice") else { Issue.record("a scoped viewer cut a cable"); return }
    }

    @Test func aClassTeacherHasEveryLabOfItsClassAndTheClassItself() {
        let teacher = AccessScope(classes: ["net101"])
        let inClass = AccessTarget(lab: "net101-alice", className: "net101", permissions: [])
        #expect(decide(.teacher, "PUT /v1/labs/{name}", scope: teacher, target: inClass) == .allow)
        #expect(decide(.teacher, "POST /v1/stacks/{name}/exec", scope: teacher, target: inClass) == .allow)
        #expect(decide(.teacher, "POST /v1/classes/{name}/checks", scope: teacher, target: AccessTarget(className: "net101")) == .allow)
        #expect(decide(.teacher, "DELETE /v1/classes/{name}/students/{id}", scope: teacher, target: AccessTarget(className: "net101")) == .allow)
        // Another class, its labs and a lab of no class are not there.
        #expect(decide(.teacher, "GET /v1/classes/{name}", scope: teacher, target: AccessTarget(className: "net202")) == .hidden)
        #expect(decide(.teacher, "GET /v1/labs/{name}", scope: teacher, target: AccessTarget(lab: "net202-bob", className: "net202")) == .hidden)
        #expect(decide(.teacher, "GET /v1/labs/{name}", scope: teacher, target: AccessTarget(lab: "other")) == .hidden)
        #expect(decide(.teacher, "GET /v1/classes", scope: teacher, target: AccessTarget()) == .filter)
        // Creating a class is an admin's.
        guard case .forbidden = decide(.teacher, "POST /v1/classes", scope: teacher, target: AccessTarget()) else { Issue.record("a teacher created a class"); return }
    }

    @Test func aClassesPermissionsNarrowWhatItsStudentsMayDo() {
        let student = AccessScope(labs: ["net101-alice"])
        let narrow = AccessTarget(lab: "net101-alice", className: "net101", permissions: [.checks, .reset])
        #expect(decide(.student, "POST /v1/labs/{name}/checks", scope: student, target: narrow) == .allow)
        #expect(decide(.student, "POST /v1/labs/{name}/reset", scope: student, target: narrow) == .allow)
        #expect(decide(.student, "GET /v1/stacks/{name}", scope: student, target: narrow) == .allow)
        for route in ["POST /v1/stacks/{name}/exec", "POST /v1/cables/{name}/cut", "PATCH /v1/cables/{name}"] {
            guard case .forbidden(let why) = decide(.student, route, scope: student, target: narrow) else { Issue.record("\(route) passed"); continue }
            #expect(why.contains("class net101"), "\(why)")
        }
        // Its class is not its to see.
        #expect(decide(.student, "GET /v1/classes/{name}", scope: student, target: AccessTarget(className: "net101")) == .hidden)
    }

    @Test func routesSayWhatTheyAreAbout() {
        #expect(AccessPolicy.target(of: "/v1/classes/{name}/students/{id}") == .classroom)
        #expect(AccessPolicy.target(of: "/v1/labs/{name}/reset") == .lab)
        #expect(AccessPolicy.target(of: "/v1/switches/{name}/ports/{n}") == .member(.switch))
        #expect(AccessPolicy.target(of: "/v1/stacks/{name}") == .member(.stack))
        #expect(AccessPolicy.target(of: "/v1/cables/{name}/cut") == .member(.cable))
        #expect(AccessPolicy.target(of: "/v1/experiments/{name}") == nil)
        #expect(AccessPolicy.target(of: "/v1/labs/plan") == nil)
        #expect(AccessPolicy.target(of: "/v1/switches") == nil)
    }
}
