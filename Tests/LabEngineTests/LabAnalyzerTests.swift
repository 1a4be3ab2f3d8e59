// The analyzer in-process, with the real noun validators (ControlPlane's NounVocabulary): a good
// document has no problems; a bad one gets every problem at once, each at its JSON pointer.
import ControlPlane
import JSON
import LabEngine
import Testing

@Suite struct LabAnalyzerTests {
    let vocabulary = NounVocabulary()

    /// Two LANs and a router: lan1 (10.1.0.0/24) and lan2 (10.2.0.0/24), joined by a forwarding stack.
    let twoLANs: JSON = [
        "description": "two LANs and a router",
        "labels": ["course": "net-101"],
        "switches": [["name": "lan1", "ports": 8], ["name": "lan2", "ports": 8, "vlans": [["vid": 10, "untagged": [5]]]]],
        "cables": [],
        "stacks": [
            ["name": "h1", "interfaces": [["name": "eth0", "switch": "lan1", "addresses": ["10.1.0.10/24"]]],
             "routes": [["to": "default", "via": "10.1.0.1"]], "labels": ["role": "host"]],
            ["name": "h2", "interfaces": [["name": "eth0", "switch": "lan2", "port": 5, "vlan": 10, "addresses": ["10.2.0.10/24"]]],
             "routes": [["to": "default", "via": "10.2.0.1"]]],
            ["name": "r1", "forwarding": true,
             "interfaces": [["name": "eth0", "switch": "lan1", "addresses": ["10.1.0.1/24"]],
                            ["name": "eth1", "switch": "lan2", "port": 6, "addresses": ["10.2.0.1/24"]]],
             "startup": [["argv": ["sysctl", "-w", "net.ipv4.ip_forward=1"], "timeout_s": 5]]],
        ],
    ]

    @Test func aGoodDocumentHasNoProblems() {
        let analysis = LabAnalyzer.analyze(twoLANs, vocabulary: vocabulary)
        #expect(analysis.problems == [], "\(analysis.problems)")
        #expect(analysis.switches.map(\.name) == ["lan1", "lan2"])
        #expect(analysis.stacks.map(\.name) == ["h1", "h2", "r1"])
    }

    @Test func everyProblemAtOnceEachAtItsPointer() {
        let document: JSON = [
            "colour": "red",
            "switches": [
                ["name": "s1", "ports": 4, "vlans": [["vid": 5000], ["vid": 20, "untagged": [9]]]],
                ["name": "s1", "ports": 4],
                ["name": "idle"],
                ["name": "BAD NAME"],
            ],
            "cables": [
                ["name": "loop", "a": ["switch": "s1"], "b": ["switch": "s1"]],
                ["name": "far", "a": ["switch": "s1", "port": 9], "b": ["switch": "nowhere"]],
                ["name": "half", "a": ["switch": "s1"], "b": ["remote": ["key": JSON(String(repeating: "ab", count: 32))]]],
            ],
            "stacks": [
                ["name": "a", "interfaces": [["name": "eth0", "switch": "s1", "port": 2, "addresses": ["10.0.0.1/24"]]]],
                ["name": "b", "interfaces": [["name": "eth0", "switch": "s1", "port": 2, "addresses": ["10.0.0.1/24"]]]],
                ["name": "c", "interfaces": [["name": "eth0", "switch": "s1", "port": 3, "vlan": 30, "addresses": ["10.0.0.3/24"]]]],
                ["name": "d", "interfaces": [["name": "eth0", "switch": "s1", "addresses": ["10.0.0.4"]]]],
                ["name": "e", "interfaces": [["name": "eth0", "switch": "s1", "addresses": ["10.0.0.1/24"]]],
                 "routes": [["to": "default", "via": "192.168.9.1"]]],
                ["name": "f", "interfaces": []],
                ["name": "g", "interfaces": [["name": "eth0", "switch": "s1", "addresses": ["10.9.0.7/24"]]],
                 "startup": [["argv": []]]],
            ],
        ]
        let analysis = LabAnalyzer.analyze(document, vocabulary: vocabulary)
        let found = Set(analysis.problems.map { "\($0.severity.rawValue) \($0.code) \($0.pointer)" })
        let expected: Set<String> = [
            "error unknown_field /colour",
            "error vlan_out_of_range /switches/0/vlans/0/vid",
            "error port_out_of_range /switches/0/vlans",
            "error duplicate_name /switches/1/name",
            "error invalid_field /switches/3/name",
            "error self_cable /cables/0/b/switch",
            "error port_out_of_range /cables/1/a/port",
            "error unknown_switch /cables/1/b/switch",
            "error unprocessable /cables/2/b/remote",
            "error port_in_use /stacks/1/interfaces/0/port",
            "error vlan_not_on_switch /stacks/2/interfaces/0/vlan",
            "error invalid_field /stacks/3/interfaces/0/addresses/0",
            "error duplicate_address /stacks/4/interfaces/0/addresses/0",
            "error unreachable_gateway /stacks/4/routes/0/via",
            "error invalid_field /stacks/6/startup/0/argv",
            "warning empty_switch /switches/2",
            "warning no_interfaces /stacks/5/interfaces",
            "warning mixed_subnets /stacks/6/interfaces/0/addresses/0",
        ]
        #expect(found.subtracting(expected).isEmpty, "unexpected: \(found.subtracting(expected).sorted())")
        #expect(expected.subtracting(found).isEmpty, "missing: \(expected.subtracting(found).sorted())")
        // The noun's own message comes through for a field it refused.
        #expect(analysis.problems.first { $0.pointer == "/stacks/3/interfaces/0/addresses/0" }?.message.contains("prefix") == true)
        // Errors come before warnings.
        #expect(analysis.problems.firstIndex { $0.severity == .warning }! > analysis.problems.lastIndex { $0.severity == .error }!)
    }

    @Test func portSpanningTreeSettingsAreCheckedPortByPort() {
        let document: JSON = ["switches": [[
            "name": "s", "ports": 4, "stp": ["enabled": true],
            "stp_ports": [["port": 2, "path_cost": 200000, "priority": 16, "edge": false], ["port": 3, "edge": nil],
                          ["port": 9], ["port": 2], ["port": 0], ["port": 4, "path_cost": 0, "priority": 20, "edge": "yes", "colour": 1]],
        ]]]
        let found = Set(LabAnalyzer.analyze(document, vocabulary: vocabulary).errors.map { "\($0.code) \($0.pointer)" })
        #expect(found == ["port_out_of_range /switches/0/stp_ports/2/port", "duplicate_port /switches/0/stp_ports/3/port",
                          "invalid_field /switches/0/stp_ports/4/port", "invalid_field /switches/0/stp_ports/5/path_cost",
                          "invalid_field /switches/0/stp_ports/5/priority", "invalid_field /switches/0/stp_ports/5/edge",
                          "unknown_field /switches/0/stp_ports/5/colour"], "\(found.sorted())")
        // Not a list at all.
        let flat: JSON = ["switches": [["name": "s", "stp_ports": ["port": 1]]]]
        #expect(LabAnalyzer.analyze(flat, vocabulary: vocabulary).errors.map(\.code) == ["invalid_field"])
    }

    @Test func cablesJoinVLANDomainsForDuplicateAddresses() {
        // One address on two switches joined by a cable is a duplicate; on two unjoined switches it is not.
        func document(cabled: Bool) -> JSON {
            ["switches": [["name": "x"], ["name": "y"]],
             "cables": cabled ? [["name": "xy", "a": ["switch": "x"], "b": ["switch": "y"]]] : [],
             "stacks": [["name": "p", "interfaces": [["name": "eth0", "switch": "x", "addresses": ["10.5.0.1/24"]]]],
                        ["name": "q", "interfaces": [["name": "eth0", "switch": "y", "addresses": ["10.5.0.1/24"]]]]]]
        }
        #expect(LabAnalyzer.analyze(document(cabled: true), vocabulary: vocabulary).errors.map(\.code) == ["duplicate_address"])
        #expect(LabAnalyzer.analyze(document(cabled: false), vocabulary: vocabulary).errors.isEmpty)
    }

    @Test func fieldPathsBecomePointers() {
        #expect(LabProblem.pointer("/stacks/2", field: "interfaces[0].addresses[3]") == "/stacks/2/interfaces/0/addresses/3")
        #expect(LabProblem.pointer("/cables/0", field: "a.remote.key") == "/cables/0/a/remote/key")
        #expect(LabProblem.pointer("/switches/1", field: "") == "/switches/1")
        #expect(LabProblem.pointer("", field: "labels.a/b") == "/labels/a~1b")
    }

    @Test func notAnObjectIsOneProblem() {
        #expect(LabAnalyzer.analyze(["a", "b"], vocabulary: vocabulary).problems.map(\.code) == ["not_an_object"])
    }
}
