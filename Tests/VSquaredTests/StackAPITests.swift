// Stacks through the HTTP API: network namespaces plugged into a switch ping each other over IPv4
// and IPv6, a router stack joins two switches, exec returns output and exit codes and enforces its
// timeout, and deleting leaves no namespace or process behind. Root only.
import Glibc
import JSON
import Posix
import Testing
import VSquareTesting

@Suite(.serialized, .enabled(if: geteuid() == 0, "network namespaces need root"))
struct StackAPITests {
    func exec(_ daemon: DaemonProcess, _ stack: String, _ argv: [String], timeout: Double = 10) throws -> JSON {
        try daemon.client.send("POST", "/v1/stacks/\(stack)/exec", json: ["argv": JSON(argv.map(JSON.string)), "timeout_s": JSON(timeout)]).json()
    }

    @Test func stacksPingEachOtherAndExecWorks() throws {
        let daemon = try DaemonProcess()
        let tag = String(UInt32.random(in: 0...0xFFFF), radix: 16)
        let (one, two) = ("h1-" + tag, "h2-" + tag)
        defer {
            _ = try? daemon.client.request("DELETE", "/v1/stacks/\(one)")
            _ = try? daemon.client.request("DELETE", "/v1/stacks/\(two)")
        }
        try daemon.createSwitch(["name": "lan"])
        for (index, name) in [one, two].enumerated() {
            let created = try daemon.client.send("POST", "/v1/stacks", json: [
                "name": JSON(name),
                "interfaces": [["name": "eth0", "switch": "lan", "addresses": [JSON("10.203.0.\(index + 1)/24"), JSON("fd00:203::\(index + 1)/64")]]],
            ])
            #expect(created.status == 201, "\(created.text)")
        }
        #expect(eventually(timeoutSeconds: 10) {
            ((try? daemon.json("/v1/stacks/\(one)"))?["interfaces"]?[0]?["live_addresses"]?.arrayValue ?? []).contains("10.203.0.1/24")
        })
        let ping4 = try exec(daemon, one, ["ping", "-c", "2", "-i", "0.2", "-W", "2", "10.203.0.2"])
        #expect(ping4["exit_code"] == 0, "\(ping4)")
        #expect(ping4["stdout"]?.stringValue?.contains("2 received") == true)
        let ping6 = try exec(daemon, two, ["ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", "fd00:203::1"])
        #expect(ping6["exit_code"] == 0, "\(ping6)")

        let failing = try exec(daemon, one, ["sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(failing["exit_code"] == 3 && failing["stdout"] == "out\n" && failing["stderr"] == "err\n")
        let slow = try exec(daemon, one, ["sleep", "30"], timeout: 0.5)
        #expect(slow["timed_out"] == true)
        #expect((slow["duration_ms"]?.doubleValue ?? 99999) < 5000)
        #expect(try daemon.client.send("POST", "/v1/stacks/\(one)/exec", json: ["argv": []]).status == 400)

        // A detached process keeps running, shows its output so far, and is ended on request.
        let started = try daemon.client.send("POST", "/v1/stacks/\(one)/exec", json: [
            "argv": ["sh", "-c", "echo ready; sleep 60"], "detach": true])
        #expect(started.status == 201)
        let id = try started.json().requiredInt("id")
        #expect(eventually { (try? daemon.json("/v1/stacks/\(one)/processes/\(id)"))?["stdout"] == "ready\n" })
        #expect(try daemon.json("/v1/stacks/\(one)/processes/\(id)")["state"] == "running")
        #expect(try daemon.json("/v1/stacks/\(one)/processes")["processes"]?.arrayValue?.count == 1)
        let stopped = try daemon.client.request("DELETE", "/v1/stacks/\(one)/processes/\(id)").json()
        #expect(stopped["state"] == "exited" && stopped["exit_code"] == 137)
        #expect(try daemon.client.get("/v1/stacks/\(one)/processes/\(id)").status == 404)

        let metrics = try daemon.client.get("/metrics").text
        #expect(metrics.contains("vsquare_stack_interface_up{stack=\"\(one)\",interface=\"eth0\"} 1"))
        #expect(metrics.split(separator: "\n").contains { $0.hasPrefix("vsquare_stack_interface_frames_total{stack=\"\(one)\",interface=\"eth0\",way=\"tx\"} ") })

        let macs = try daemon.json("/v1/switches/lan/macs")["count"]?.intValue ?? 0
        #expect(macs >= 2)

        // Deleting removes the namespace and everything in it.
        let namespace = try daemon.json("/v1/stacks/\(one)")["namespace"]?.stringValue ?? "none"
        #expect(run("ip netns list | grep -qw \(namespace)") == 0, "the namespace \(namespace) exists before the delete")
        #expect(try daemon.client.request("DELETE", "/v1/stacks/\(one)").status == 204)
        #expect(run("ip netns list | grep -qw \(namespace)") != 0)
        #expect(try daemon.client.get("/v1/stacks/\(one)").status == 404)
    }

    @Test func aRouterStackJoinsTwoSwitchesForBothFamilies() throws {
        let daemon = try DaemonProcess()
        let tag = String(UInt32.random(in: 0...0xFFFF), radix: 16)
        let names = ["ra-" + tag, "rr-" + tag, "rb-" + tag]
        defer { for name in names { _ = try? daemon.client.request("DELETE", "/v1/stacks/\(name)") } }
        try daemon.createSwitch(["name": "left"])
        try daemon.createSwitch(["name": "right"])
        let bodies: [JSON] = [
            ["name": JSON(names[0]), "interfaces": [["name": "eth0", "switch": "left", "addresses": ["10.204.1.2/24", "fd04:1::2/64"]]],
             "routes": [["to": "default", "via": "10.204.1.1"], ["to": "default", "via": "fd04:1::1"]]],
            ["name": JSON(names[1]), "forwarding": true, "interfaces": [
                ["name": "eth0", "switch": "left", "addresses": ["10.204.1.1/24", "fd04:1::1/64"]],
                ["name": "eth1", "switch": "right", "addresses": ["10.204.2.1/24", "fd04:2::1/64"]]]],
            ["name": JSON(names[2]), "interfaces": [["name": "eth0", "switch": "right", "addresses": ["10.204.2.2/24", "fd04:2::2/64"]]],
             "routes": [["to": "default", "via": "10.204.2.1"], ["to": "default", "via": "fd04:2::1"]]],
        ]
        for body in bodies { #expect(try daemon.client.send("POST", "/v1/stacks", json: body).status == 201) }
        // Both families cross it: addresses and routes of each are set.
        for target in ["10.204.2.2", "fd04:2::2"] {
            var crossed = false
            for _ in 0..<20 where !crossed {
                crossed = try exec(daemon, names[0], ["ping", "-c", "1", "-W", "1", target])["exit_code"] == 0
            }
            #expect(crossed, "traffic to \(target) did not cross the router stack")
        }
        let router = try daemon.json("/v1/stacks/\(names[1])")
        #expect(router["forwarding"] == true && router["interfaces"]?.arrayValue?.count == 2)
    }

    @Test func vlansIsolateStacksAtTheIPLevel() throws {
        let daemon = try DaemonProcess()
        let tag = String(UInt32.random(in: 0...0xFFFF), radix: 16)
        let names = ["va-" + tag, "vb-" + tag, "vc-" + tag]
        defer { for name in names { _ = try? daemon.client.request("DELETE", "/v1/stacks/\(name)") } }
        try daemon.createSwitch(["name": "lan"])
        for vid in [10, 20] {
            #expect(try daemon.client.send("POST", "/v1/switches/lan/vlans", json: ["vid": JSON(vid)]).status == 201)
        }
        // One subnet, two VLANs: a and b share VLAN 10, c is alone on VLAN 20.
        for (index, vlan) in [10, 10, 20].enumerated() {
            let created = try daemon.client.send("POST", "/v1/stacks", json: [
                "name": JSON(names[index]),
                "interfaces": [["name": "eth0", "switch": "lan", "port": JSON(index + 1), "vlan": JSON(vlan),
                                "addresses": [JSON("10.205.0.\(index + 1)/24")]]]])
            #expect(created.status == 201, "\(created.text)")
        }
        #expect(try daemon.json("/v1/switches/lan/ports/3")["untagged_vlan"] == 20)
        var sameVLAN = false
        for _ in 0..<20 where !sameVLAN {
            sameVLAN = try exec(daemon, names[0], ["ping", "-c", "1", "-W", "1", "10.205.0.2"])["exit_code"] == 0
        }
        #expect(sameVLAN, "stacks on one VLAN did not reach each other")
        // The absence is only evidence when the command itself ran: ping answers 1 for "no reply".
        let across = try exec(daemon, names[0], ["ping", "-c", "2", "-i", "0.2", "-W", "1", "10.205.0.3"])
        #expect(across["exit_code"] == 1, "VLAN 10 reached VLAN 20, or ping did not run: \(across)")
        let neighbours = try exec(daemon, names[2], ["ip", "neigh", "show", "10.205.0.1"])
        let listing = try #require(neighbours["stdout"]?.stringValue, "ip neigh did not run: \(neighbours)")
        #expect(neighbours["exit_code"] == 0)
        #expect(!listing.contains("lladdr"), "c learned a's address across VLANs: \(listing)")
        // A VLAN the switch lacks, or a VLAN without a port, is refused.
        #expect(try daemon.client.send("POST", "/v1/stacks", json: [
            "name": "vx", "interfaces": [["name": "eth0", "switch": "lan", "port": 4, "vlan": 30]]]).status == 422)
        #expect(try daemon.client.send("POST", "/v1/stacks", json: [
            "name": "vx", "interfaces": [["name": "eth0", "switch": "lan", "vlan": 10]]]).status == 422)
    }

    @Test func aHostTapStackReachesANamespaceStack() throws {
        let daemon = try DaemonProcess()
        let tag = TestRun.tag()
        // The host tap carries the run's prefix: it is the one thing here outside a namespace.
        let tap = TestRun.name("t" + tag), node = "nd-" + tag
        defer {
            _ = try? daemon.client.request("DELETE", "/v1/stacks/\(tap)")
            _ = try? daemon.client.request("DELETE", "/v1/stacks/\(node)")
        }
        try daemon.createSwitch(["name": "edge"])
        let host = try daemon.client.send("POST", "/v1/stacks", json: [
            "name": JSON(tap), "kind": "tap", "interfaces": [["name": JSON(tap), "switch": "edge", "addresses": ["10.206.0.1/24"]]]])
        #expect(host.status == 201, "\(host.text)")
        #expect(try host.json()["namespace"] == .null)
        #expect(try daemon.client.send("POST", "/v1/stacks", json: [
            "name": JSON(node), "interfaces": [["name": "eth0", "switch": "edge", "addresses": ["10.206.0.2/24"]]]]).status == 201)
        var reached = false
        for _ in 0..<20 where !reached {
            reached = try exec(daemon, node, ["ping", "-c", "1", "-W", "1", "10.206.0.1"])["exit_code"] == 0
        }
        #expect(reached, "the namespace did not reach the host's tap")
        #expect(try daemon.client.send("POST", "/v1/stacks/\(tap)/exec", json: ["argv": ["true"]]).status == 422)
        #expect(try daemon.client.request("DELETE", "/v1/stacks/\(tap)").status == 204)
        #expect(eventually { run("ip link show dev \(tap) > /dev/null 2>&1") != 0 }, "the host tap was left behind")
    }
}

@discardableResult
func run(_ command: String) -> Int32 {
    let status = command.withCString { system($0) }
    return (status >> 8) & 0xFF
}
