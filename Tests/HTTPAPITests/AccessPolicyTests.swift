// AccessPolicy in-process: every role against every kind of route, in scope and out of it.
import ControlPlane
import HTTPAPI
import Testing

@Suite struct AccessPolicyTests {
    let scope = AccessScope(labs: ["alice"])
    func decide(_ role: Principal.Role, _ route: String, lab: String? = nil, scoped: Bool = true) -> AccessDecision {
        AccessPolicy.decide(Principal(id: "tok-000000000001", name: role.rawValue, role: role, scope: scoped ? scope : nil), route: route, targetLab: lab)
    }

    @Test func adminsMayDoEverythingAndAnyoneMayAskWhoTheyAre() {
        for route in ["POST /v1/switches", "DELETE /v1/labs/{name}", "GET /metrics", "POST /v1/tokens"] {
            #expect(AccessPolicy.decide(.anonymous, route: route, targetLab: nil) == .allow)
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

    @Test func routesSayWhatTheyAreAbout() {
        #expect(AccessPolicy.target(of: "/v1/labs/{name}/reset") == .lab)
        #expect(AccessPolicy.target(of: "/v1/switches/{name}/ports/{n}") == .member(.switch))
        #expect(AccessPolicy.target(of: "/v1/stacks/{name}") == .member(.stack))
        #expect(AccessPolicy.target(of: "/v1/cables/{name}/cut") == .member(.cable))
        #expect(AccessPolicy.target(of: "/v1/experiments/{name}") == nil)
        #expect(AccessPolicy.target(of: "/v1/labs/plan") == nil)
        #expect(AccessPolicy.target(of: "/v1/switches") == nil)
    }
}
