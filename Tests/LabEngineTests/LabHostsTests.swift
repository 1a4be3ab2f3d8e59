// A lab spread over hosts, in-process: the hosts section and `host` fields are checked with the
// rest of the document; switches and stacks are placed; each cable between hosts gets a tunnel
// whose network and port clash with nothing, kept across re-applies; each host's share holds its
// own members and one half of each such cable, with that direction's impairments.
import ControlPlane
import JSON
import LabEngine
import Testing

@Suite struct LabHostsTests {
    let vocabulary = NounVocabulary()

    /// A router on host b between a LAN on host a and one on host c (the coordinator is a).
    let threeHosts: JSON = [
        "hosts": ["a": ["address": "10.99.0.1"], "b": ["api": "http://10.99.0.2:8420", "address": "10.99.0.2"],
                  "c": ["api": "http://10.99.0.3:8420", "address": "10.99.0.3"]],
        "switches": [["name": "lan1"], ["name": "core", "host": "b"], ["name": "lan2", "host": "c"]],
        "cables": [["name": "up1", "a": ["switch": "lan1"], "b": ["switch": "core"],
                    "impairments": ["delay_ms": 20, "b_to_a": ["loss_pct": 1]], "seed": 7],
                   ["name": "up2", "a": ["switch": "core"], "b": ["switch": "lan2"], "encapsulation": "tcp"]],
        "stacks": [
            ["name": "h1", "interfaces": [["name": "eth0", "switch": "lan1", "addresses": ["10.1.0.10/24"]]]],
            ["name": "r1", "forwarding": true,
             "interfaces": [["name": "eth0", "switch": "core", "addresses": ["10.1.0.1/24"]]]],
            ["name": "h2", "host": "c", "interfaces": [["name": "eth0", "switch": "lan2", "addresses": ["10.2.0.10/24"]]]],
        ],
    ]

    @Test func switchesAndStacksArePlacedOnTheirHosts() {
        let analysis = LabAnalyzer.analyze(threeHosts, vocabulary: vocabulary)
        #expect(analysis.errors == [], "\(analysis.errors)")
        #expect(analysis.hosts.map(\.name).sorted() == ["a", "b", "c"])
        #expect(analysis.hosts.first(where: \.isCoordinator)?.name == "a")
        #expect(analysis.placement == ["switch lan1": "a", "switch core": "b", "switch lan2": "c",
                                       "stack h1": "a", "stack r1": "b", "stack h2": "c"])
    }

    @Test func brokenHostsAreReportedAtTheirPointers() {
        let document: JSON = [
            "hosts": ["a": ["api": "http://10.99.0.1:8420", "address": "10.99.0.1"], "B": ["address": "x"],
                      "c": ["api": "ftp://x", "address": "10.99.0.3", "zone": 1]],
            "switches": [["name": "s1", "host": "nowhere"], ["name": "s2", "host": "a"]],
            "cables": [["name": "k", "a": ["switch": "s1"], "b": ["switch": "s2"], "encapsulation": "gre", "host": "a"]],
            "stacks": [["name": "h", "host": "a", "interfaces": [["name": "eth0", "switch": "s1"], ["name": "eth1", "switch": "s2"]]]],
        ]
        let found = Set(LabAnalyzer.analyze(document, vocabulary: vocabulary).errors.map { "\($0.code) \($0.pointer)" })
        let expected: Set<String> = ["invalid_field /hosts/B", "invalid_field /hosts/c/api", "unknown_field /hosts/c/zone",
                                     "coordinator /hosts", "unknown_host /switches/0/host", "invalid_field /cables/0/encapsulation",
                                     "unknown_field /cables/0/host", "host_mismatch /stacks/0/interfaces"]
        #expect(found == expected, "missing \(expected.subtracting(found)), unexpected \(found.subtracting(expected))")
    }

    func members() -> [LabMember] { LabMember.members(of: threeHosts) }

    func tunnels(existing: [LabTunnel] = [], taken: [String: Set<Int>] = [:]) -> [LabTunnel] {
        let analysis = LabAnalyzer.analyze(threeHosts, vocabulary: vocabulary)
        return LabHosts.tunnels(members(), placement: analysis.placement, lab: "net", existing: existing, taken: taken) { _ in
            String(repeating: "ab", count: 32)
        }
    }

    @Test func cablesBetweenHostsGetTunnelsThatClashWithNothing() {
        let first = tunnels(taken: ["b": [4789, 4790]])
        #expect(first.map(\.cable) == ["up1", "up2"])
        #expect(first[0].encapsulation == .vxlan && first[0].hostA == "a" && first[0].hostB == "b" && first[0].port == 4791)
        #expect(first[1].encapsulation == .tcp && first[1].port == 4792 && first[1].key?.count == 64 && first[1].vni == 0)
        #expect((1...16_000_000).contains(first[0].vni))
        // The same document gives the same network; a re-apply keeps what exists even when ports have since been taken.
        #expect(tunnels(taken: ["b": [4789, 4790]])[0].vni == first[0].vni)
        #expect(tunnels(existing: first, taken: ["a": [4791], "b": [4791, 4792]]) == first)
        // A tunnel whose hosts moved is allocated afresh.
        let moved = LabTunnel(cable: "up1", encapsulation: .vxlan, hostA: "a", hostB: "c", vni: 5, port: 9999, key: nil)
        #expect(tunnels(existing: [moved])[0].port == 4789)
    }

    @Test func eachHostsShareHoldsItsMembersAndOneHalfOfEachTunnel() throws {
        let analysis = LabAnalyzer.analyze(threeHosts, vocabulary: vocabulary)
        let allocated = tunnels()
        let shares = LabHosts.shares(members(), hosts: analysis.hosts, placement: analysis.placement, tunnels: allocated)
        func names(_ host: String) -> [String] { (shares[host] ?? []).map { "\($0.kind.rawValue) \($0.name)" } }
        #expect(names("a") == ["switch lan1", "cable up1", "stack h1"])
        #expect(names("b") == ["switch core", "cable up1", "cable up2", "stack r1"])
        #expect(names("c") == ["switch lan2", "cable up2", "stack h2"])
        let vxlan = allocated[0]
        let nearHalf = try #require(shares["a"]?.first { $0.name == "up1" })
        #expect(nearHalf.body["a"] == ["switch": "lan1"])
        #expect(nearHalf.body["b"] == ["vxlan": ["remote": "10.99.0.2", "vni": JSON(vxlan.vni), "port": JSON(vxlan.port)]])
        #expect(nearHalf.body["impairments"] == ["a_to_b": ["delay_ms": 20]])
        let farHalf = try #require(shares["b"]?.first { $0.name == "up1" })
        #expect(farHalf.body["a"] == ["switch": "core"])
        #expect(farHalf.body["b"]?["vxlan"]?["remote"] == "10.99.0.1")
        #expect(farHalf.body["impairments"] == ["a_to_b": ["delay_ms": 20, "loss_pct": 1]])
        #expect(farHalf.body["seed"] == 8)
        // TCP: end a's host listens on its own address, end b's host connects to it; both with the key.
        let listening = try #require(shares["b"]?.first { $0.name == "up2" })
        #expect(listening.body["b"] == ["remote": ["listen": JSON("10.99.0.2:\(allocated[1].port)"), "key": JSON(String(repeating: "ab", count: 32))]])
        let connecting = try #require(shares["c"]?.first { $0.name == "up2" })
        #expect(connecting.body["b"]?["remote"]?["connect"] == JSON("10.99.0.2:\(allocated[1].port)"))
        // Every share is a document the analyzer takes as it is, with no lab-only field left.
        for (host, members) in shares {
            let share = LabAnalyzer.analyze(LabMember.document(of: members), vocabulary: vocabulary)
            #expect(share.errors == [], "\(host): \(share.errors)")
            #expect(members.allSatisfy { $0.body["host"] == nil && $0.body["encapsulation"] == nil })
        }
    }

    @Test func aDocumentWithoutHostsIsOneShare() {
        let document: JSON = ["switches": [["name": "s1"], ["name": "s2"]], "cables": [["name": "c", "a": ["switch": "s1"], "b": ["switch": "s2"]]]]
        let analysis = LabAnalyzer.analyze(document, vocabulary: vocabulary)
        #expect(analysis.errors == [] && analysis.hosts.isEmpty)
        #expect(LabHosts.tunnels(LabMember.members(of: document), placement: analysis.placement, lab: "x", existing: [], taken: [:]) { _ in "" }.isEmpty)
    }
}
