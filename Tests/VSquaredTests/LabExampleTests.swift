// Every document in ops/examples/labs/ applied to a real vsquared and checked to do what it says:
// hosts ping each other across the trunk's VLANs, across the WAN (with its delay), and across the
// LAN behind the NAT uplink once DHCP has given them addresses, and around a loop the spanning tree
// breaks where the document's port costs say. ("Two LANs and a router" is
// LabAPITests' own.)
import Glibc
import JSON
import Posix
import Testing
import VSquareTesting

@Suite(.serialized, .enabled(if: geteuid() == 0, "netns stacks need root")) struct LabExampleTests {
    /// Applies the example as lab `lab`, waits for it to be ready and hands it to `body`; always deleted after.
    func withExample(_ file: String, lab: String, _ body: (DaemonProcess) throws -> Void) throws {
        let daemon = try DaemonProcess()
        defer { _ = try? daemon.client.request("DELETE", "/v1/labs/\(lab)") }
        let created = try daemon.client.send("POST", "/v1/labs", json: ["name": JSON(lab), "topology": try LabAPITests.example(file)])
        #expect(created.status == 201, "\(created.text)")
        let ready = try created.json()["state"] == "ready" || eventually(timeoutSeconds: 20) { (try? daemon.json("/v1/labs/\(lab)"))?["state"] == "ready" }
        #expect(ready, "\(String(describing: try? daemon.json("/v1/labs/\(lab)")))")
        try body(daemon)
        #expect(try daemon.client.request("DELETE", "/v1/labs/\(lab)").status == 204)
    }

    /// Pings `address` from `stack` until a reply (or 15 s); returns ping's output.
    func ping(_ daemon: DaemonProcess, from stack: String, _ address: String, count: Int = 1) throws -> JSON {
        var result: JSON = .null
        _ = try eventually(timeoutSeconds: 15) {
            result = try daemon.client.send("POST", "/v1/stacks/\(stack)/exec",
                                            json: ["argv": ["ping", "-c", JSON(String(count)), "-i", "0.2", "-W", "2", JSON(address)],
                                                   "timeout_s": 10]).json()
            return result["exit_code"] == 0
        }
        return result
    }

    @Test func vlanTrunkCarriesBothVLANsBetweenTheSwitches() throws {
        try withExample("vlan-trunk.yaml", lab: "trunk") { daemon in
            #expect(try ping(daemon, from: "trunk-h10a", "10.10.0.2")["exit_code"] == 0)
            #expect(try ping(daemon, from: "trunk-h20a", "10.20.0.2")["exit_code"] == 0)
            // The VLANs never meet: VLAN 20's host, given an address on VLAN 10's subnet, hears nothing from it.
            _ = try daemon.client.send("POST", "/v1/stacks/trunk-h20b/exec", json: ["argv": ["ip", "addr", "add", "10.10.0.9/24", "dev", "eth0"]])
            let across = try daemon.client.send("POST", "/v1/stacks/trunk-h10a/exec",
                                                json: ["argv": ["ping", "-c", "2", "-i", "0.2", "-W", "1", "10.10.0.9"], "timeout_s": 5]).json()
            #expect(across["exit_code"] != 0, "VLAN 10 reached a host on VLAN 20: \(across)")
        }
    }

    @Test func lossyWANDelaysEveryPacketBothWays() throws {
        try withExample("lossy-wan.yaml", lab: "wan") { daemon in
            let result = try ping(daemon, from: "wan-a1", "10.30.0.2", count: 3)
            #expect(result["exit_code"] == 0, "\(result)")
            // 40 ms each way, 5 ms of jitter: no round trip under 70 ms.
            let times = (result["stdout"]?.stringValue ?? "").split(separator: " ").compactMap { word in
                word.hasPrefix("time=") ? Double(word.dropFirst(5)) : nil
            }
            #expect(!times.isEmpty && times.allSatisfy { $0 >= 70 }, "\(times)")
        }
    }

    @Test func aLANBehindANATUplinkGetsItsAddressesByDHCP() throws {
        try withExample("lan-behind-nat.yaml", lab: "nat") { daemon in
            var address: String?
            #expect(eventually(timeoutSeconds: 20) {
                address = (try? daemon.json("/v1/stacks/nat-pc2"))?["interfaces"]?[0]?["live_addresses"]?.arrayValue?
                    .compactMap(\.stringValue).first { $0.hasPrefix("10.0.2.") }
                return address != nil
            }, "pc2 never got an address from the uplink's DHCP")
            let pc2 = String(address?.split(separator: "/").first ?? "")
            #expect(try ping(daemon, from: "nat-pc1", pc2)["exit_code"] == 0)
            // The uplink is the LAN's router and nameserver (its own address, answered inside slirp).
            let routes = try daemon.json("/v1/stacks/nat-pc1")["live_routes"]?.arrayValue ?? []
            #expect(routes.contains { $0["dst"] == "default" && $0["gateway"] == "10.0.2.2" }, "\(routes)")
        }
    }

    @Test func theSpanningTreeTriangleBlocksTheDearCableAndFallsBackOnItWhenTheOtherIsCut() throws {
        try withExample("spanning-tree-triangle.yaml", lab: "stp") { daemon in
            func role(_ switchName: String, _ port: Int) -> String {
                let ports = (try? daemon.json("/v1/switches/stp-\(switchName)/stp"))?["ports"]?.arrayValue ?? []
                let entry = ports.first { $0["port"]?.intValue == port }
                return "\(entry?["role"]?.stringValue ?? "?")/\(entry?["state"]?.stringValue ?? "?")"
            }
            // stp_ports reached the switch: sw3's port 7 costs 200000, every other port the default.
            let port7 = try daemon.json("/v1/switches/stp-sw3/ports/7")["stp"]
            #expect(port7?["path_cost"] == 200000, "\(String(describing: port7))")
            #expect(try daemon.json("/v1/switches/stp-sw3/ports/8")["stp"]?["path_cost"] == 20000)
            // sw3 reaches the root through sw2; the dear cable's end blocks.
            #expect(eventually(timeoutSeconds: 15) { role("sw3", 8) == "root/forwarding" && role("sw3", 7) == "alternate/discarding" },
                    "sw3 port 8 \(role("sw3", 8)), port 7 \(role("sw3", 7))")
            #expect(try ping(daemon, from: "stp-h1", "10.50.0.3")["exit_code"] == 0)
            // Cut c23: the dear cable carries the traffic.
            #expect(try daemon.client.request("POST", "/v1/cables/stp-c23/cut").status == 200)
            #expect(eventually(timeoutSeconds: 5) { role("sw3", 7) == "root/forwarding" }, "sw3 port 7 \(role("sw3", 7))")
            #expect(try ping(daemon, from: "stp-h1", "10.50.0.3")["exit_code"] == 0)
            // The document's checks pass, and a reset puts the cable back as the document has it.
            let graded = try daemon.client.request("POST", "/v1/labs/stp/checks").json()
            #expect(graded["passed"] == true, "\(graded)")
            #expect(try daemon.client.request("POST", "/v1/labs/stp/reset").status == 200)
            #expect(eventually(timeoutSeconds: 15) { role("sw3", 7) == "alternate/discarding" }, "sw3 port 7 \(role("sw3", 7)) after the reset")
        }
    }
}
