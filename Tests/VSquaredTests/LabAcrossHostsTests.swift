// One lab spread over three vsquared daemons, each in a network namespace of its own, joined by a
// bridge this test creates (nothing leaves those namespaces): host a coordinates, the router runs
// on b, the LANs on a and c. Pings cross hosts through VXLAN tunnels the coordinator chose, a
// cable between hosts carries its 20 ms, a peer killed and restarted comes back, the "ping across
// a router" experiment runs across the three, and delete leaves nothing anywhere. Root only.
import Glibc
import JSON
import Posix
import Testing
import VSquareTesting

/// A vsquared in a namespace, serving the namespace's bridge address with tokens and peers; kill
/// and start it again over the same state. Driven with curl in its namespace, as admin.
final class HostDaemon: @unchecked Sendable {
    let name: String
    let namespace: String
    let address: String
    let directory = TempDirectory(prefix: "vsqh")
    static let port = 8420
    static let admin = "admin-token-of-this-test"
    private(set) var process: ChildProcess?

    var url: String { "http://\(address):\(HostDaemon.port)" }

    init(name: String, namespace: String, address: String) {
        self.name = name
        self.namespace = namespace
        self.address = address
    }

    /// Writes the peers file: each other host with the token the pair shares.
    func setPeers(_ others: [HostDaemon]) throws {
        let lines = others.map { "\($0.url) \(HostDaemon.pairToken(self, $0))" }
        try FileSystem.writeFile(directory.path + "/peers", lines.joined(separator: "\n") + "\n")
        try FileSystem.writeFile(directory.path + "/tokens", HostDaemon.admin + "\n")
    }

    static func pairToken(_ one: HostDaemon, _ other: HostDaemon) -> String {
        "peer-" + [one.name, other.name].sorted().joined(separator: "-") + "-token-of-this-test"
    }

    func start() throws {
        let log = directory.path + "/log"
        process = try ChildProcess(path: "/usr/sbin/ip", arguments: [
            "netns", "exec", namespace, DaemonProcess.productsDirectory + "/vsquared", "--listen", "\(address):\(HostDaemon.port)",
            "--home", directory.path + "/h", "--run", directory.path + "/r", "--tokens", directory.path + "/tokens",
            "--peers", directory.path + "/peers",
        ], stdin: .null, stdout: .file(log), stderr: .file(log))
        guard eventually(timeoutSeconds: 15, { (try? self.request("GET", "/v1/health"))?["status"] == "ok" }) else {
            throw HTTPTestError.malformedResponse("vsquared \(name) did not start: \(log)")
        }
        if let instance = try request("GET", "/v1/version")["instance"]?.stringValue { TestRun.record(namespacePrefix: "vsq-\(instance)-") }
    }

    func kill() { process?.stop(signal: SIGKILL, graceSeconds: 0) }

    /// Kills vsquared and everything it ran, and forgets its state: a new machine at the same address.
    func wipe() throws {
        let instance = try request("GET", "/v1/version")["instance"]?.stringValue ?? "-"
        kill()
        for pid in TempDirectory.processes(mentioning: directory.path) { Glibc.kill(pid, SIGKILL) }
        _ = shell("for n in $(ip netns list | awk '{print $1}' | grep '^vsq-\(instance)-'); do ip netns del $n; done")
        _ = shell("rm -rf '\(directory.path)/h' '\(directory.path)/r'")
    }

    deinit { kill() }

    /// The answer's JSON (null when there is none); `status` gets the HTTP status.
    @discardableResult
    func request(_ method: String, _ path: String, _ body: JSON? = nil, status: UnsafeMutablePointer<Int>? = nil, seconds: Int = 120) throws -> JSON {
        let out = directory.path + "/reply-\(Thread.current)"
        let code = directory.path + "/code-\(Thread.current)"
        var command = "ip netns exec \(namespace) curl -s -m \(seconds) -X \(method) -H 'Authorization: Bearer \(HostDaemon.admin)' '\(url)\(path)' -o \(out) -w '%{http_code}' > \(code)"
        if let body {
            try FileSystem.writeFile(out + ".body", body.text())
            command += " -H 'Content-Type: application/json' --data-binary @\(out).body"
        }
        unlink(out)
        _ = shell(command)
        status?.pointee = FileSystem.readFile(code).flatMap { Int(String(decoding: $0, as: UTF8.self)) } ?? 0
        guard let bytes = FileSystem.readFile(out), !bytes.isEmpty else { return .null }
        return try JSON.parse(bytes)
    }

    /// Runs a command in one of this host's stacks.
    func exec(_ stack: String, _ argv: [String], timeout: Double = 20) throws -> JSON {
        try request("POST", "/v1/stacks/\(stack)/exec", ["argv": JSON(argv.map { JSON($0) }), "timeout_s": JSON(timeout)])
    }
}

extension Thread {
    /// A name for this thread's scratch files.
    static var current: UInt { UInt(bitPattern: Int(pthread_self())) }
}

@Suite(.serialized, .enabled(if: geteuid() == 0, "network namespaces need root"))
struct LabAcrossHostsTests {
    /// Three daemons a, b, c on one bridge, each the peer of the other two.
    static func hosts() throws -> (NamespaceBridge, [HostDaemon]) {
        let net = try NamespaceBridge(count: 3)
        let daemons = ["a", "b", "c"].enumerated().map { HostDaemon(name: $1, namespace: net.namespaces[$0], address: net.address($0)) }
        for daemon in daemons { try daemon.setPeers(daemons.filter { $0 !== daemon }) }
        for daemon in daemons { try daemon.start() }
        return (net, daemons)
    }

    /// h1 on a's LAN, h2 on c's, r1 on b routing between them; the cable from a to b delays 20 ms one
    /// way. Each interface declares its MAC, so a stack made again (on a new host) is the same
    /// neighbour to the others, as a rebuilt machine keeping its NIC would be.
    static func topology(_ hosts: [HostDaemon]) -> JSON {
        [
            "hosts": ["a": ["address": JSON(hosts[0].address)],
                      "b": ["api": JSON(hosts[1].url), "address": JSON(hosts[1].address)],
                      "c": ["api": JSON(hosts[2].url), "address": JSON(hosts[2].address)]],
            "switches": [["name": "lan1", "host": "a"], ["name": "core1", "host": "b"], ["name": "core2", "host": "b"],
                         ["name": "lan2", "host": "c"]],
            "cables": [["name": "up1", "a": ["switch": "lan1"], "b": ["switch": "core1"], "impairments": ["a_to_b": ["delay_ms": 20]]],
                       ["name": "up2", "a": ["switch": "lan2"], "b": ["switch": "core2"]]],
            "stacks": [
                ["name": "h1", "interfaces": [["name": "eth0", "switch": "lan1", "mac": "02:00:00:00:01:10", "addresses": ["10.1.0.10/24"]]], "routes": [["to": "default", "via": "10.1.0.1"]]],
                ["name": "h2", "interfaces": [["name": "eth0", "switch": "lan2", "mac": "02:00:00:00:02:10", "addresses": ["10.2.0.10/24"]]], "routes": [["to": "default", "via": "10.2.0.1"]]],
                ["name": "r1", "forwarding": true, "interfaces": [["name": "eth0", "switch": "core1", "mac": "02:00:00:00:01:01", "addresses": ["10.1.0.1/24"]],
                                                                  ["name": "eth1", "switch": "core2", "mac": "02:00:00:00:02:01", "addresses": ["10.2.0.1/24"]]]],
            ],
        ]
    }

    /// What a host runs: its switches, cables and stacks, by name.
    static func held(_ daemon: HostDaemon) throws -> [String] {
        try ["switches", "cables", "stacks"].flatMap { noun in
            (try daemon.request("GET", "/v1/\(noun)")[noun]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        }.sorted()
    }

    /// The round trips of `count` pings from h1 (on a) to h2 (on c), in ms; empty if they failed.
    static func pings(_ a: HostDaemon, lab: String, count: Int = 5) throws -> [Double] {
        let answer = try a.exec("\(lab)-h1", ["ping", "-n", "-c", String(count), "-i", "0.2", "-W", "2", "10.2.0.10"])
        guard answer["exit_code"] == 0 else { return [] }
        return (answer["stdout"]?.stringValue ?? "").split(separator: "\n").compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("time=") }.flatMap { Double($0.dropFirst(5)) }
        }
    }

    /// Whether h1 reaches h2 within `seconds` (a stack made again has a new MAC: the neighbours' caches take a moment).
    static func reachable(_ a: HostDaemon, lab: String, seconds: Double = 15) -> Bool {
        eventually(timeoutSeconds: seconds) { (try? pings(a, lab: lab, count: 3).count) == 3 }
    }

    @Test func aLabOverThreeHostsPingsAcrossTheRouterSurvivesAPeerRestartAndLeavesNothing() throws {
        let (net, daemons) = try LabAcrossHostsTests.hosts()
        let (a, b, c) = (daemons[0], daemons[1], daemons[2])
        var status = 0
        // A host that is not a peer of the coordinator is refused before anything is built.
        var stranger = LabAcrossHostsTests.topology(daemons).objectValue!
        var strangers = stranger["hosts"]?.objectValue ?? [:]
        strangers["c"] = ["api": "http://10.99.99.99:8420", "address": "10.99.99.99"]
        stranger["hosts"] = .object(strangers)
        let refused = try a.request("POST", "/v1/labs", ["name": "x", "topology": .object(stranger)], status: &status)
        #expect(status == 422 && refused["problems"]?.arrayValue?.contains { $0["code"] == "unknown_peer" && $0["pointer"] == "/hosts/c/api" } == true,
                "\(refused)")
        // Only a peer hands out shares.
        _ = try b.request("PUT", "/v1/labs/y", ["topology": ["switches": [["name": "s"]]], "share": ["host": "b", "generation": 1]], status: &status)
        #expect(status == 403)

        // The plan says which host does what, before anything exists.
        let plan = try a.request("POST", "/v1/labs/plan", ["name": "wan", "topology": LabAcrossHostsTests.topology(daemons)])
        let planned = Set((plan["steps"]?.arrayValue ?? []).compactMap { step in step["host"]?.stringValue.map { "\($0) \(step["name"]?.stringValue ?? "")" } })
        #expect(planned.isSuperset(of: ["a lan1", "b core1", "b r1", "c lan2", "a up1", "b up1", "c up2", "b up2"]), "\(plan)")
        let tunnels = plan["tunnels"]?.arrayValue ?? []
        #expect(tunnels.count == 2 && Set(tunnels.compactMap { $0["vni"]?.intValue }).count == 2
                && Set(tunnels.compactMap { $0["port"]?.intValue }).count == 2, "\(plan)")

        let created = try a.request("POST", "/v1/labs", ["name": "wan", "topology": LabAcrossHostsTests.topology(daemons)], status: &status)
        #expect(status == 201, "\(created)")
        #expect(created["state"] == "ready", "\(created)")
        let hostStates = Dictionary(uniqueKeysWithValues: (created["hosts"]?.arrayValue ?? []).compactMap { host in
            host["name"]?.stringValue.map { ($0, host["state"]?.stringValue ?? "") }
        })
        #expect(hostStates == ["a": "ready", "b": "ready", "c": "ready"], "\(created)")
        let members = created["members"]?.arrayValue ?? []
        #expect(members.contains { $0["name"] == "r1" && $0["host"] == "b" && $0["state"] == "running" }, "\(members)")
        #expect(members.contains { $0["name"] == "up1" && $0["tunnel"]?["encapsulation"] == "vxlan" }, "\(members)")
        #expect(try LabAcrossHostsTests.held(a) == ["wan-h1", "wan-lan1", "wan-up1"])
        #expect(try LabAcrossHostsTests.held(b) == ["wan-core1", "wan-core2", "wan-r1", "wan-up1", "wan-up2"])
        #expect(try LabAcrossHostsTests.held(c) == ["wan-h2", "wan-lan2", "wan-up2"])
        // b's share is marked, and only its coordinator changes it.
        let share = try b.request("GET", "/v1/labs/wan")
        #expect(share["share"]?["host"] == "b" && share["share"]?["coordinator"]?.stringValue == a.url, "\(share)")
        _ = try b.request("DELETE", "/v1/labs/wan", status: &status)
        #expect(status == 409)

        // Across two tunnels and a router; a→b is 20 ms, the rest of the path well under 1 ms each way.
        let first = try LabAcrossHostsTests.pings(a, lab: "wan", count: 10)
        #expect(first.count == 10, "h1 could not ping h2 across the hosts")
        let sorted = first.sorted()
        print("h1 (host a) → h2 (host c) across r1 (host b), 20 ms on a→b: min \(sorted.first ?? 0) ms, median \(sorted.isEmpty ? 0 : sorted[sorted.count / 2]) ms, max \(sorted.last ?? 0) ms")
        #expect(!sorted.isEmpty && sorted.first! >= 20 && sorted[sorted.count / 2] < 24, "\(sorted)")

        // c's vsquared dies: the lab is degraded, naming c; its workers keep carrying frames.
        c.kill()
        #expect(eventually(timeoutSeconds: 10) {
            let lab = try? a.request("GET", "/v1/labs/wan")
            return lab?["state"] == "degraded" && lab?["unreachable"] == ["c"]
        }, "\(String(describing: try? a.request("GET", "/v1/labs/wan")))")
        #expect(try a.request("GET", "/v1/labs/wan")["hosts"]?.arrayValue?.first { $0["name"] == "c" }?["state"] == "unreachable")
        // It comes back: ready again, with b untouched (its workers are the same processes).
        let bWorkers = Set(DaemonProcess.workerPIDs(under: b.directory.path))
        try c.start()
        #expect(eventually(timeoutSeconds: 20) { (try? a.request("GET", "/v1/labs/wan"))?["state"] == "ready" },
                "\(String(describing: try? a.request("GET", "/v1/labs/wan")))")
        #expect(Set(DaemonProcess.workerPIDs(under: b.directory.path)) == bWorkers)
        #expect(LabAcrossHostsTests.reachable(a, lab: "wan"))

        // c comes back with nothing (a new machine at the same address): the monitor hands it its share again.
        try c.wipe()
        #expect(eventually(timeoutSeconds: 10) { (try? a.request("GET", "/v1/labs/wan"))?["state"] == "degraded" })
        try c.start()
        #expect(eventually(timeoutSeconds: 40) { (try? a.request("GET", "/v1/labs/wan"))?["state"] == "ready" },
                "\(String(describing: try? a.request("GET", "/v1/labs/wan")))")
        #expect(try LabAcrossHostsTests.held(c) == ["wan-h2", "wan-lan2", "wan-up2"])
        #expect(LabAcrossHostsTests.reachable(a, lab: "wan"))

        // A reset across hosts: every host's members come back as declared, and the pings still cross.
        let reset = try a.request("POST", "/v1/labs/wan/reset", status: &status)
        #expect(status == 200 && reset["state"] == "ready", "\(reset)")
        #expect(LabAcrossHostsTests.reachable(a, lab: "wan"))

        // A change that moves h2's LAN off c: c's share goes, the lab runs on a and b.
        var moved = LabAcrossHostsTests.topology(daemons).objectValue!
        moved["switches"] = [["name": "lan1", "host": "a"], ["name": "core1", "host": "b"], ["name": "core2", "host": "b"], ["name": "lan2", "host": "b"]]
        let updated = try a.request("PUT", "/v1/labs/wan", ["topology": .object(moved)], status: &status)
        #expect(status == 200 && updated["state"] == "ready", "\(updated)")
        #expect(eventually(timeoutSeconds: 10) { (try? LabAcrossHostsTests.held(c)) == [] }, "\(String(describing: try? LabAcrossHostsTests.held(c)))")
        #expect(LabAcrossHostsTests.reachable(a, lab: "wan"))

        // Delete: nothing left on any host.
        _ = try a.request("DELETE", "/v1/labs/wan", status: &status)
        #expect(status == 204)
        for daemon in daemons {
            #expect(try LabAcrossHostsTests.held(daemon) == [], "\(daemon.name) still holds \(String(describing: try? LabAcrossHostsTests.held(daemon)))")
            #expect(try daemon.request("GET", "/v1/labs")["labs"] == [])
        }
        _ = net
    }

    @Test func thePingAcrossARouterExperimentRunsOverThreeHosts() throws {
        let (net, daemons) = try LabAcrossHostsTests.hosts()
        let a = daemons[0]
        let topology = LabAcrossHostsTests.topology(daemons)
        var document = try ExperimentRunTests.example("ping-across-a-router.yaml").objectValue!
        document["topology"] = topology
        var status = 0
        _ = try a.request("POST", "/v1/experiments", ["name": "far", "document": .object(document)], status: &status)
        #expect(status == 201)
        _ = try a.request("POST", "/v1/experiments/far/runs", [:], status: &status)
        #expect(status == 202)
        var record: JSON = .null
        #expect(eventually(timeoutSeconds: 120) {
            record = (try? a.request("GET", "/v1/experiments/far/runs/1")) ?? .null
            return ["passed", "failed", "cancelled", "timed_out", "aborted", "error"].contains(record["state"]?.stringValue ?? "")
        })
        #expect(record["state"] == "passed", "\(record)")
        // router-saw-both ran on r1, on host b; h2-to-h1 on h2, on host c.
        for id in ["gateway-up", "h1-to-h2", "h2-to-h1", "router-saw-both"] {
            let task = record["tasks"]?.arrayValue?.first { $0["id"]?.stringValue == id }
            #expect(task?["status"] == "passed", "\(String(describing: task))")
        }
        let rtt = record["tasks"]?.arrayValue?.first { $0["id"] == "h1-to-h2" }?["measures"]?["rtt_avg_ms"]?.doubleValue ?? 0
        #expect(rtt >= 20, "the 20 ms of the cable between a and b is in the round trip: \(rtt)")
        // The run's lab is gone from every host.
        #expect(eventually(timeoutSeconds: 10) { daemons.allSatisfy { (try? LabAcrossHostsTests.held($0)) == [] } })
        _ = try a.request("DELETE", "/v1/experiments/far")

        // Link failure and recovery with the cable between b and c, none of it on the coordinator:
        // the cut and the restore are carried out on the host that holds the cable.
        var failure = try ExperimentRunTests.example("link-failure-and-recovery.yaml").objectValue!
        var spread = failure["topology"]!.objectValue!
        spread["hosts"] = topology["hosts"]
        spread["switches"] = [["name": "left", "host": "b"], ["name": "right", "host": "c"]]
        failure["topology"] = .object(spread)
        _ = try a.request("POST", "/v1/experiments", ["name": "cutting", "document": .object(failure)], status: &status)
        #expect(status == 201)
        _ = try a.request("POST", "/v1/experiments/cutting/runs", [:], status: &status)
        #expect(eventually(timeoutSeconds: 120) {
            record = (try? a.request("GET", "/v1/experiments/cutting/runs/1")) ?? .null
            return ["passed", "failed", "cancelled", "timed_out", "aborted", "error"].contains(record["state"]?.stringValue ?? "")
        })
        #expect(record["state"] == "passed", "\(record)")
        _ = try a.request("DELETE", "/v1/experiments/cutting")
        #expect(eventually(timeoutSeconds: 10) { daemons.allSatisfy { (try? LabAcrossHostsTests.held($0)) == [] } })
        _ = net
    }

    @Test func theTwoHostExampleIsGradedAcrossHostsAndAPeerThatRefusesItsShareIsNamed() throws {
        let net = try NamespaceBridge(count: 2)
        let daemons = ["a", "b"].enumerated().map { HostDaemon(name: $1, namespace: net.namespaces[$0], address: net.address($0)) }
        for daemon in daemons { try daemon.setPeers(daemons.filter { $0 !== daemon }) }
        for daemon in daemons { try daemon.start() }
        let (a, b) = (daemons[0], daemons[1])
        var document = try LabAPITests.example("two-hosts.yaml", in: "hosts").objectValue!
        document["hosts"] = ["a": ["address": JSON(a.address)], "b": ["api": JSON(b.url), "address": JSON(b.address)]]
        var status = 0
        // b already has a lab of that name, its own: it refuses the share; a's members are built all the same.
        _ = try b.request("POST", "/v1/labs", ["name": "pair", "topology": ["switches": [["name": "mine"]]]], status: &status)
        #expect(status == 201)
        let refused = try a.request("POST", "/v1/labs", ["name": "pair", "topology": .object(document)], status: &status)
        #expect(status == 201 && refused["state"] == "degraded", "\(refused)")
        let failure = refused["failures"]?.arrayValue?.first { $0["kind"] == "host" }
        #expect(failure?["member"] == "b" && failure?["message"]?.stringValue?.contains("lab_share") == true, "\(refused)")
        #expect(refused["hosts"]?.arrayValue?.first { $0["name"] == "b" }?["state"] == "refused", "\(refused)")
        #expect(refused["members"]?.arrayValue?.filter { $0["host"] == "a" }.allSatisfy { $0["state"] == "running" } == true, "\(refused)")
        #expect(try LabAcrossHostsTests.held(b) == ["pair-mine"])
        // b's own lab goes: the coordinator's monitor hands b its share, and the lab is ready.
        _ = try b.request("DELETE", "/v1/labs/pair", status: &status)
        #expect(status == 204)
        #expect(eventually(timeoutSeconds: 20) { (try? a.request("GET", "/v1/labs/pair"))?["state"] == "ready" },
                "\(String(describing: try? a.request("GET", "/v1/labs/pair")))")
        #expect(try a.request("GET", "/v1/labs/pair")["failures"] == [])
        // The example's checks: h2's runs on b, through b's API.
        let graded = try a.request("POST", "/v1/labs/pair/checks", status: &status)
        #expect(status == 200 && graded["passed"] == true && graded["points"] == 2, "\(graded)")
        _ = try a.request("DELETE", "/v1/labs/pair", status: &status)
        #expect(status == 204)
        for daemon in daemons { #expect(try LabAcrossHostsTests.held(daemon) == []) }
    }
}
