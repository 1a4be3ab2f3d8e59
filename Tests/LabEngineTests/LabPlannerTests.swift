// The planner in-process: the same document plans nothing; a new document plans exactly what
// differs, live where the noun can change it, a rebuild of that member alone where it cannot.
import JSON
import LabEngine
import Testing

@Suite struct LabPlannerTests {
    let base: JSON = [
        "switches": [["name": "s1", "ports": 8], ["name": "s2", "ports": 8], ["name": "s3"]],
        "cables": [["name": "c1", "a": ["switch": "s1"], "b": ["switch": "s2"]],
                   ["name": "c2", "a": ["switch": "s2"], "b": ["switch": "s3"], "impairments": ["delay_ms": 5]]],
        "stacks": [["name": "h1", "interfaces": [["name": "eth0", "switch": "s1", "addresses": ["10.0.0.1/24"]]]],
                   ["name": "h2", "interfaces": [["name": "eth0", "switch": "s3", "addresses": ["10.0.0.2/24"]]]]],
    ]

    func plan(_ from: JSON, _ to: JSON) -> [String] {
        LabPlanner.plan(from: LabMember.members(of: from), to: LabMember.members(of: to)).map { step in
            "\(step.action.rawValue) \(step.kind.rawValue) \(step.name)" + (step.changes.isEmpty ? "" : " [" + step.changes.map(\.field).joined(separator: ",") + "]")
                + (step.reason.map { " (\($0))" } ?? "")
        }
    }

    func edited(_ change: (inout JSONObject) -> Void) -> JSON {
        var document = base.objectValue!
        change(&document)
        return .object(document)
    }

    @Test func theSameDocumentPlansNothing() {
        #expect(plan(base, base) == [])
    }

    @Test func fromNothingEverythingIsCreatedSwitchesFirst() {
        #expect(plan([:], base) == ["create switch s1", "create switch s2", "create switch s3", "create cable c1", "create cable c2",
                                   "create stack h1", "create stack h2"])
    }

    @Test func aNewCableAndAChangedDelayLeaveTheRestAlone() {
        let next = edited { document in
            var cables = document["cables"]!.arrayValue!
            cables[1] = ["name": "c2", "a": ["switch": "s2"], "b": ["switch": "s3"], "impairments": ["delay_ms": 40]]
            cables.append(["name": "c3", "a": ["switch": "s1"], "b": ["switch": "s3"]])
            document["cables"] = .array(cables)
        }
        #expect(plan(base, next) == ["change cable c2 [impairments]", "create cable c3"])
        let step = LabPlanner.plan(from: LabMember.members(of: base), to: LabMember.members(of: next)).first!
        #expect(step.changes == [FieldChange(field: "impairments", old: ["delay_ms": 5], new: ["delay_ms": 40])])
    }

    @Test func onlyAStackWhoseInterfacesChangeIsRebuilt() {
        let next = edited { document in
            var stacks = document["stacks"]!.arrayValue!
            stacks[0] = ["name": "h1", "interfaces": [["name": "eth0", "switch": "s1", "addresses": ["10.0.0.9/24"]]]]
            stacks[1] = ["name": "h2", "interfaces": [["name": "eth0", "switch": "s3", "addresses": ["10.0.0.2/24"]]],
                         "routes": [["to": "default", "via": "10.0.0.1"]]]
            document["stacks"] = .array(stacks)
        }
        #expect(plan(base, next) == ["rebuild stack h1 [interfaces]", "change stack h2 [routes]"])
    }

    @Test func aSwitchWithNewPortsIsRebuiltAndSoAreTheStacksOnIt() {
        let next = edited { document in
            var switches = document["switches"]!.arrayValue!
            switches[0] = ["name": "s1", "ports": 16]
            switches[1] = ["name": "s2", "ports": 8, "mac_aging_s": 30]
            document["switches"] = .array(switches)
        }
        #expect(plan(base, next) == ["rebuild switch s1 [ports]", "change switch s2 [mac_aging_s]", "rebuild stack h1 (switch s1 is rebuilt)"])
    }

    @Test func removedMembersGoFirstStacksAndCablesBeforeSwitches() {
        let next: JSON = ["switches": [["name": "s1", "ports": 8]], "cables": [],
                          "stacks": [["name": "h1", "interfaces": [["name": "eth0", "switch": "s1", "addresses": ["10.0.0.1/24"]]]]]]
        #expect(plan(base, next) == ["delete stack h2", "delete cable c1", "delete cable c2", "delete switch s2", "delete switch s3"])
    }

    @Test func aFieldTakenAwayIsAChangeToNothing() {
        let next = edited { document in
            var cables = document["cables"]!.arrayValue!
            cables[1] = ["name": "c2", "a": ["switch": "s2"], "b": ["switch": "s3"]]
            document["cables"] = .array(cables)
        }
        let steps = LabPlanner.plan(from: LabMember.members(of: base), to: LabMember.members(of: next))
        #expect(steps == [LabStep(.change, .cable, "c2", changes: [FieldChange(field: "impairments", old: ["delay_ms": 5], new: nil)])])
    }

    /// A PUT that failed part-way is undone by planning from what its attempted steps left back to the old document.
    @Test func undoingAPartOfAPlanTouchesOnlyWhatItsAttemptedStepsTouched() {
        let next = edited { document in
            var cables = document["cables"]!.arrayValue!
            cables[1] = ["name": "c2", "a": ["switch": "s2"], "b": ["switch": "s3"], "impairments": ["delay_ms": 40]]
            cables.append(["name": "c3", "a": ["switch": "s1"], "b": ["switch": "s3"]])
            document["cables"] = .array(cables)
            document["stacks"] = .array([document["stacks"]!.arrayValue![0]])
        }
        let old = LabMember.members(of: base), new = LabMember.members(of: next)
        let steps = LabPlanner.plan(from: old, to: new)
        #expect(steps.map { "\($0.action.rawValue) \($0.name)" } == ["delete h2", "change c2", "create c3"])
        // h2 went and c2's delay changed; c3's create failed (perhaps half-made): all three are undone.
        let after = LabPlanner.members(after: steps, attempted: [0, 1, 2], from: old, to: new)
        #expect(plan(LabMember.document(of: after), base) == ["delete cable c3", "change cable c2 [impairments]", "create stack h2"])
        // Only the deletion ran: only it is undone.
        let early = LabPlanner.members(after: steps, attempted: [0], from: old, to: new)
        #expect(plan(LabMember.document(of: early), base) == ["create stack h2"])
        #expect(LabPlanner.members(after: steps, attempted: [], from: old, to: new) == old)
    }

    @Test func aDocumentOfMembersDeclaresExactlyThem() {
        let members = LabMember.members(of: base)
        #expect(LabMember.members(of: LabMember.document(of: members)) == members)
    }
}
