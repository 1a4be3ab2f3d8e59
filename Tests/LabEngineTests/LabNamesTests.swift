// Global names of lab members: two labs from one document never clash, long names stay valid
// resource names and unique, and a member's body names the global switches it plugs into.
import JSON
import LabEngine
import Testing

@Suite struct LabNamesTests {
    @Test func labsFromOneDocumentGetDifferentNames() {
        #expect(LabNames.global(lab: "alice", local: "lan1") == "alice-lan1")
        #expect(LabNames.global(lab: "bob", local: "lan1") != LabNames.global(lab: "alice", local: "lan1"))
    }

    @Test func longNamesAreCutButStayUniqueAndStable() {
        let lab = String(repeating: "a", count: 40), one = String(repeating: "b", count: 40), two = String(repeating: "b", count: 39) + "c"
        let first = LabNames.global(lab: lab, local: one), second = LabNames.global(lab: lab, local: two)
        #expect(first.utf8.count <= 63 && second.utf8.count <= 63)
        #expect(first != second)
        #expect(first == LabNames.global(lab: lab, local: one))
        #expect(first.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } && !first.hasPrefix("-"))
    }

    @Test func aMembersBodyNamesGlobalSwitchesAndLeavesTheLabsFieldsOut() {
        let cable = LabMember(kind: .cable, name: "up", body: ["name": "up", "a": ["switch": "s1", "port": 3], "b": ["switch": "s2"],
                                                               "labels": ["x": "y"]])
        #expect(JSON.object(LabNames.nounBody(cable, lab: "l")) == ["name": "l-up", "a": ["switch": "l-s1", "port": 3], "b": ["switch": "l-s2"]])
        let remote = LabMember(kind: .cable, name: "wan", body: ["name": "wan", "a": ["switch": "s1"], "b": ["remote": ["connect": "10.0.0.1:7000"]]])
        #expect(LabNames.nounBody(remote, lab: "l")["b"] == ["remote": ["connect": "10.0.0.1:7000"]])
        let stack = LabMember(kind: .stack, name: "h1", body: ["name": "h1", "interfaces": [["name": "eth0", "switch": "s1"]],
                                                               "startup": [["argv": ["true"]]]])
        #expect(JSON.object(LabNames.nounBody(stack, lab: "l")) == ["name": "l-h1", "interfaces": [["name": "eth0", "switch": "l-s1"]]])
        let sw = LabMember(kind: .switch, name: "s1", body: ["name": "s1", "ports": 4, "vlans": [["vid": 10]]])
        #expect(JSON.object(LabNames.nounBody(sw, lab: "l")) == ["name": "l-s1", "ports": 4])
    }
}
