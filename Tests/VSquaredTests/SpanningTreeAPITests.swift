// The rapid spanning tree through the API on real workers: three switches in a triangle of cables,
// two network-namespace stacks on two of them. With the tree on, one cable end blocks, broadcasts
// are carried a bounded number of times, pings pass, and cutting the forwarding cable heals within
// 2 s (measured and printed). With it off, the same triangle storms: the counters climb on their own.
// Root only (stacks are network namespaces).
import Glibc
import JSON
import Posix
import Testing
import VSquareTesting

@Suite(.serialized, .enabled(if: geteuid() == 0, "stacks need root"))
struct SpanningTreeAPITests {
    static let switches = ["s1", "s2", "s3"]
    static let cables = [("c12", "s1", "s2"), ("c23", "s2", "s3"), ("c31", "s3", "s1")]

    /// The triangle, with h1 on s2 and h2 on s3; s1 (priority 4096) is the root when the tree runs.
    static func triangle(_ daemon: DaemonProcess, stp: Bool, tag: String) throws -> (String, String) {
        for name in switches {
            let tree: JSON = ["enabled": JSON(stp), "priority": JSON(name == "s1" ? 4096 : 32768), "hello_s": 1, "max_age_s": 6, "forward_delay_s": 4]
            let created = try daemon.client.send("POST", "/v1/switches", json: ["name": JSON(name), "ports": 8, "stp": tree])
            #expect(created.status == 201, "\(created.text)")
        }
        for (name, a, b) in cables {
            #expect(try daemon.client.send("POST", "/v1/cables", json: ["name": JSON(name), "a": ["switch": JSON(a)], "b": ["switch": JSON(b)]]).status == 201)
        }
        let hosts = ("t1-" + tag, "t2-" + tag)
        for (index, (name, sw)) in [(hosts.0, "s2"), (hosts.1, "s3")].enumerated() {
            let created = try daemon.client.send("POST", "/v1/stacks", json: [
                "name": JSON(name), "interfaces": [["name": "eth0", "switch": JSON(sw), "port": 8, "addresses": [JSON("10.206.0.\(index + 1)/24")]]],
            ])
            #expect(created.status == 201, "\(created.text)")
        }
        return hosts
    }

    static func rxFrames(_ daemon: DaemonProcess) -> Int {
        switches.reduce(0) { total, name in
            let ports = (try? daemon.client.get("/v1/switches/\(name)/ports").json())?["ports"]?.arrayValue ?? []
            return total + ports.reduce(0) { $0 + ($1["counters"]?["rx_frames"]?.intValue ?? 0) }
        }
    }

    static func tree(_ daemon: DaemonProcess, _ name: String) -> JSON {
        (try? daemon.client.get("/v1/switches/\(name)/stp").json()) ?? .null
    }

    /// The cable ports' roles across the triangle (the stacks' port 8 left out).
    static func cableRoles(_ daemon: DaemonProcess) -> [String] {
        switches.flatMap { name in
            (tree(daemon, name)["ports"]?.arrayValue ?? []).filter { $0["port"] != 8 }.compactMap { $0["role"]?.stringValue }
        }.sorted()
    }

    static func ping(_ daemon: DaemonProcess, _ from: String, _ to: String, count: Int = 1, wait: String = "1") throws -> Bool {
        let result = try daemon.client.send("POST", "/v1/stacks/\(from)/exec", json: ["argv": ["ping", "-n", "-c", JSON(String(count)), "-i", "0.2", "-W", JSON(wait), JSON(to)]]).json()
        return result["exit_code"] == 0
    }

    @Test func aTriangleWithTheTreeOnCarriesBroadcastsOnceAndHealsACutWithinTwoSeconds() throws {
        let daemon = try DaemonProcess()
        let tag = String(UInt32.random(in: 0...0xFFFF), radix: 16)
        let (h1, h2) = try SpanningTreeAPITests.triangle(daemon, stp: true, tag: tag)
        defer {
            for host in [h1, h2] { _ = try? daemon.client.request("DELETE", "/v1/stacks/\(host)") }
        }
        // Six cable ports: two root ports, three designated, one alternate (blocking).
        #expect(eventually(timeoutSeconds: 15) {
            SpanningTreeAPITests.cableRoles(daemon) == ["alternate", "designated", "designated", "designated", "root", "root"]
        }, "roles: \(SpanningTreeAPITests.cableRoles(daemon))")
        for name in SpanningTreeAPITests.switches {
            let tree = SpanningTreeAPITests.tree(daemon, name)
            #expect(tree["root_id"] == SpanningTreeAPITests.tree(daemon, "s1")["bridge_id"] && tree["root_id"]?.stringValue?.hasPrefix("1000.") == true, "\(tree)")
        }
        let view = try daemon.client.get("/v1/switches/s2").json()
        #expect(view["stp"]?["root_path_cost"] == 20000 && view["stp"]?["root_port"] != .null, "\(view)")
        // The switch views name the one blocked port, as the drawing dashes it.
        let blocked = SpanningTreeAPITests.switches.flatMap { name in
            ((try? daemon.client.get("/v1/switches/\(name)").json())?["stp"]?["blocked_ports"]?.arrayValue ?? []).map { "\(name):\($0)" }
        }
        let alternate = SpanningTreeAPITests.switches.flatMap { name in
            (SpanningTreeAPITests.tree(daemon, name)["ports"]?.arrayValue ?? []).filter { $0["role"] == "alternate" }.map { "\(name):\($0["port"]!)" }
        }
        #expect(blocked.count == 1 && blocked == alternate, "blocked \(blocked), alternate \(alternate)")
        #expect(eventually(timeoutSeconds: 10) { (try? SpanningTreeAPITests.ping(daemon, h1, "10.206.0.2")) == true })

        // Broadcasts: three pings to the broadcast address cross each cable a bounded number of times.
        let before = SpanningTreeAPITests.rxFrames(daemon)
        _ = try daemon.client.send("POST", "/v1/stacks/\(h1)/exec", json: ["argv": ["ping", "-n", "-b", "-c", "3", "-i", "0.2", "-W", "1", "10.206.0.255"]])
        usleep(1_000_000)
        let carried = SpanningTreeAPITests.rxFrames(daemon) - before
        print("spanning tree on: \(carried) frames received by the three switches for 3 broadcast pings (and BPDUs)")
        #expect(carried < 200, "\(carried) frames: a storm")

        // Cut the cable the ping crosses (s2's root port, towards s1): the alternate takes over.
        let s2Root = SpanningTreeAPITests.tree(daemon, "s2")["root_port"]?.intValue
        let s3Root = SpanningTreeAPITests.tree(daemon, "s3")["root_port"]?.intValue
        #expect(s2Root != nil && s3Root != nil)
        let started = Clock.monotonicNanoseconds()
        #expect(try daemon.client.request("POST", "/v1/cables/c12/cut").status == 200)
        var healed: Double?
        while healed == nil && Clock.monotonicNanoseconds() - started < 10_000_000_000 {
            if try SpanningTreeAPITests.ping(daemon, h1, "10.206.0.2", wait: "0.2") {
                healed = Double(Clock.monotonicNanoseconds() - started) / 1e9
            }
        }
        print("spanning tree on: pings pass again \(healed.map { "\(Double(Int($0 * 1000)) / 1000)" } ?? "never") s after the cut")
        #expect(healed != nil && healed! < 2, "healed after \(String(describing: healed)) s")
        #expect(SpanningTreeAPITests.cableRoles(daemon) == ["designated", "designated", "disabled", "disabled", "root", "root"],
                "\(SpanningTreeAPITests.cableRoles(daemon))")
        #expect((SpanningTreeAPITests.tree(daemon, "s2")["topology_changes"]?.intValue ?? 0) >= 1)
        // Restored: the triangle is whole again, with one port blocking.
        #expect(try daemon.client.request("POST", "/v1/cables/c12/restore").status == 200)
        #expect(eventually(timeoutSeconds: 15) {
            SpanningTreeAPITests.cableRoles(daemon) == ["alternate", "designated", "designated", "designated", "root", "root"]
        }, "roles: \(SpanningTreeAPITests.cableRoles(daemon))")
        #expect(eventually(timeoutSeconds: 10) { (try? SpanningTreeAPITests.ping(daemon, h1, "10.206.0.2")) == true })
        let metrics = try daemon.client.get("/metrics").text
        #expect(metrics.contains("vsquare_stp_port_state{switch=\"s2\",port=\"8\",role=\"designated\",state=\"forwarding\"} 1"), "\(metrics)")
        #expect(metrics.contains("vsquare_stp_topology_changes_total{switch=\"s2\"}"))
    }

    /// A cut cable stays without carrier through a crash of the switch at one end: the restarted
    /// worker is told again, so the end that plugs back in is disabled, not a designated port.
    @Test func aCutCableStaysDownWhenItsSwitchRestarts() throws {
        let daemon = try DaemonProcess()
        for name in ["s1", "s2"] {
            let tree: JSON = ["enabled": true, "hello_s": 1, "max_age_s": 6, "forward_delay_s": 4]
            #expect(try daemon.client.send("POST", "/v1/switches", json: ["name": JSON(name), "ports": 4, "stp": tree]).status == 201)
        }
        #expect(try daemon.client.send("POST", "/v1/cables", json: ["name": "c12", "a": ["switch": "s1"], "b": ["switch": "s2"]]).status == 201)
        func roles(_ name: String) -> [String] {
            (SpanningTreeAPITests.tree(daemon, name)["ports"]?.arrayValue ?? []).compactMap { $0["role"]?.stringValue }
        }
        #expect(eventually(timeoutSeconds: 15) { Set(roles("s1") + roles("s2")) == ["designated", "root"] }, "\(roles("s1")) \(roles("s2"))")
        #expect(try daemon.client.request("POST", "/v1/cables/c12/cut").status == 200)
        #expect(eventually { roles("s1") == ["disabled"] && roles("s2") == ["disabled"] }, "\(roles("s1")) \(roles("s2"))")

        let pid = try daemon.json("/v1/switches/s1").requiredInt("pid")
        kill(Int32(pid), SIGKILL)
        #expect(eventually(timeoutSeconds: 10) {
            let restarted = (try? daemon.json("/v1/switches/s1"))?["pid"]?.intValue.map { $0 != pid } ?? false
            let replugged = ((try? daemon.json("/v1/cables/c12"))?["ends"]?[0]?["connections"]?.intValue ?? 0) >= 2
            return restarted && replugged && roles("s1").count == 1
        })
        // Longer than a port with carrier takes to claim the designated role (hello 1 s).
        usleep(2_500_000)
        #expect(roles("s1") == ["disabled"], "the restarted switch's end of the cut cable: \(roles("s1"))")
        #expect(try daemon.client.request("POST", "/v1/cables/c12/restore").status == 200)
        #expect(eventually(timeoutSeconds: 15) { Set(roles("s1") + roles("s2")) == ["designated", "root"] }, "\(roles("s1")) \(roles("s2"))")
    }

    @Test func theSameTriangleWithTheTreeOffStorms() throws {
        let daemon = try DaemonProcess()
        let tag = String(UInt32.random(in: 0...0xFFFF), radix: 16)
        let (h1, h2) = try SpanningTreeAPITests.triangle(daemon, stp: false, tag: tag)
        defer {
            for host in [h1, h2] { _ = try? daemon.client.request("DELETE", "/v1/stacks/\(host)") }
            // End the storm before anything else goes.
            for (name, _, _) in SpanningTreeAPITests.cables { _ = try? daemon.client.request("DELETE", "/v1/cables/\(name)") }
        }
        #expect(eventually(timeoutSeconds: 10) {
            (try? daemon.client.get("/v1/stacks/\(h2)").json())?["interfaces"]?[0]?["live_addresses"]?.arrayValue?.contains("10.206.0.2/24") == true
        })
        _ = try daemon.client.send("POST", "/v1/stacks/\(h1)/exec", json: ["argv": ["ping", "-n", "-b", "-c", "1", "-W", "1", "10.206.0.255"]])
        let first = SpanningTreeAPITests.rxFrames(daemon)
        usleep(1_000_000)
        let second = SpanningTreeAPITests.rxFrames(daemon)
        print("spanning tree off: \(first) frames, then \(second) a second later, from one broadcast ping")
        #expect(second - first > 5000, "the counters did not climb: \(first) → \(second)")
    }
}
