// IGMP and MLD snooping with real Linux hosts: three network-namespace stacks on one switch that
// snoops and queries. A host that joins a group (a Python receiver) gets it; the host that did not
// join sees nothing of it on its port's counters; when the receiver goes (the kernel leaves the
// group) its port stops getting it too. The same for an IPv6 group over MLD. A report with a bad
// checksum is dropped and counted. With snooping off, the same traffic reaches every port. Root only.
import Glibc
import JSON
import Posix
import Testing
import VSquareTesting

@Suite(.serialized, .enabled(if: geteuid() == 0, "stacks need root"))
struct MulticastSnoopingAPITests {
    static let receiver = """
        import socket, struct, sys, time
        group, out, address = sys.argv[1], sys.argv[2], sys.argv[3]
        family = socket.AF_INET6 if ":" in group else socket.AF_INET
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("", 5007))
        if family == socket.AF_INET:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(group) + socket.inet_aton(address))
        else:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, socket.inet_pton(family, group) + struct.pack("@I", socket.if_nametoindex("eth0")))
        s.settimeout(0.2)
        count, end = 0, time.time() + 60
        while time.time() < end:
            try:
                s.recv(2048)
                count += 1
            except socket.timeout:
                pass
            open(out, "w").write(str(count))
        """
    static let sender = """
        import socket, struct, sys, time
        group, count = sys.argv[1], int(sys.argv[2])
        if ":" in group:
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, socket.if_nametoindex("eth0"))
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 1)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[3]))
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        for _ in range(count):
            s.sendto(b"vsquare multicast", (group, 5007))
            time.sleep(0.01)
        """
    /// An IGMPv2 report for 239.9.9.9 whose checksum is wrong, from a raw socket.
    static let badReport = """
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("10.208.0.1"))
        s.sendto(bytes([0x16, 0, 0xde, 0xad, 239, 9, 9, 9]), ("239.9.9.9", 0))
        """

    static func exec(_ daemon: DaemonProcess, _ stack: String, _ argv: [String]) throws -> JSON {
        try daemon.client.send("POST", "/v1/stacks/\(stack)/exec", json: ["argv": JSON(argv.map { JSON($0) }), "timeout_s": 20]).json()
    }

    static func txFrames(_ daemon: DaemonProcess, _ port: Int) -> Int {
        (try? daemon.client.get("/v1/switches/mc/ports/\(port)").json())?["counters"]?["tx_frames"]?.intValue ?? -1
    }

    static func groups(_ daemon: DaemonProcess) -> [String] {
        ((try? daemon.client.get("/v1/switches/mc/multicast").json())?["groups"]?.arrayValue ?? []).map {
            "\($0["group"]?.stringValue ?? "?") \(($0["ports"]?.arrayValue ?? []).compactMap(\.intValue))"
        }
    }

    @Test func membersGetTheirGroupNonMembersNothingAndALeaveStopsIt() throws {
        let daemon = try DaemonProcess()
        let tag = String(UInt32.random(in: 0...0xFFFF), radix: 16)
        let hosts = ["src", "member", "other"].map { "mc\($0)-\(tag)" }
        let files = ["/tmp/vsq-mc-\(tag)-4", "/tmp/vsq-mc-\(tag)-6"]
        defer {
            for host in hosts { _ = try? daemon.client.request("DELETE", "/v1/stacks/\(host)") }
            for file in files { unlink(file) }
        }
        let created = try daemon.client.send("POST", "/v1/switches", json: [
            "name": "mc", "ports": 8, "multicast": ["snooping": true, "querier": true, "query_interval_s": 10],
        ])
        #expect(created.status == 201, "\(created.text)")
        for (index, host) in hosts.enumerated() {
            let made = try daemon.client.send("POST", "/v1/stacks", json: [
                "name": JSON(host), "interfaces": [["name": "eth0", "switch": "mc", "port": JSON(index + 1),
                                                    "addresses": [JSON("10.208.0.\(index + 1)/24"), JSON("fd08::\(index + 1)/64")]]],
            ])
            #expect(made.status == 201, "\(made.text)")
        }
        #expect(eventually(timeoutSeconds: 10) { (try? MulticastSnoopingAPITests.exec(daemon, hosts[2], ["true"]))?["exit_code"] == 0 })
        let (source, member) = (hosts[0], hosts[1])
        func start(_ group: String, _ file: String) throws {
            let started = try MulticastSnoopingAPITests.exec(daemon, member, ["sh", "-c",
                "setsid python3 -c \"$0\" \(group) \(file) 10.208.0.2 >/dev/null 2>&1 < /dev/null &", MulticastSnoopingAPITests.receiver])
            #expect(started["exit_code"] == 0, "\(started)")
        }
        func send(_ group: String, _ count: Int) throws {
            let sent = try MulticastSnoopingAPITests.exec(daemon, source, ["python3", "-c", MulticastSnoopingAPITests.sender, group, String(count), "10.208.0.1"])
            #expect(sent["exit_code"] == 0, "\(sent)")
        }
        func received(_ file: String) -> Int {
            Int((try? MulticastSnoopingAPITests.exec(daemon, member, ["cat", file]))?["stdout"]?.stringValue ?? "") ?? 0
        }
        func stop(_ group: String) {
            _ = try? MulticastSnoopingAPITests.exec(daemon, member, ["pkill", "-f", "python3 -c .* \(group) "])
        }
        defer { stop("239.1.2.3"); stop("ff05::1:2") }

        for (group, file) in [("239.1.2.3", files[0]), ("ff05::1:2", files[1])] {
            try start(group, file)
            #expect(eventually(timeoutSeconds: 10) { MulticastSnoopingAPITests.groups(daemon).contains("\(group) [2]") },
                    "\(group) never joined: \(MulticastSnoopingAPITests.groups(daemon))")
            let before = (MulticastSnoopingAPITests.txFrames(daemon, 2), MulticastSnoopingAPITests.txFrames(daemon, 3))
            try send(group, 50)
            #expect(eventually(timeoutSeconds: 5) { received(file) >= 45 }, "the member received \(received(file)) of 50")
            let member = MulticastSnoopingAPITests.txFrames(daemon, 2) - before.0
            let nonMember = MulticastSnoopingAPITests.txFrames(daemon, 3) - before.1
            print("multicast \(group): 50 sent, the member's port sent \(member) frames, the other host's \(nonMember)")
            #expect(member >= 50 && nonMember < 10, "member port \(member), other port \(nonMember)")

            // The receiver goes: the kernel leaves the group, the port is out, the group goes nowhere.
            stop(group)
            #expect(eventually(timeoutSeconds: 8) { !MulticastSnoopingAPITests.groups(daemon).contains { $0.hasPrefix(group + " ") } },
                    "\(group) still joined: \(MulticastSnoopingAPITests.groups(daemon))")
            let afterLeave = MulticastSnoopingAPITests.txFrames(daemon, 2)
            try send(group, 50)
            let leaked = MulticastSnoopingAPITests.txFrames(daemon, 2) - afterLeave
            print("multicast \(group): after the leave, 50 more sent, the member's port sent \(leaked)")
            #expect(leaked < 10, "\(leaked) frames after the leave")
        }

        // A report with a bad checksum: dropped, counted, nothing learned.
        let bad = try MulticastSnoopingAPITests.exec(daemon, source, ["python3", "-c", MulticastSnoopingAPITests.badReport])
        #expect(bad["exit_code"] == 0, "\(bad)")
        let state = try daemon.client.get("/v1/switches/mc/multicast").json()
        #expect((state["counters"]?["bad_checksum"]?.intValue ?? 0) >= 1, "\(state)")
        #expect(!MulticastSnoopingAPITests.groups(daemon).contains { $0.hasPrefix("239.9.9.9") })
        #expect((try daemon.client.get("/v1/switches/mc/ports/1").json())["counters"]?["drops"]?["malformed_multicast"] == 1)
        #expect((state["queriers"]?.arrayValue ?? []).contains { $0["vlan"] == 1 && $0["igmp"] == "this switch" }, "\(state)")

        // Snooping off: the same group reaches the port that never asked for it.
        #expect(try daemon.client.send("PATCH", "/v1/switches/mc", json: ["multicast": ["snooping": false]]).status == 200)
        #expect(eventually(timeoutSeconds: 5) { (try? daemon.client.get("/v1/switches/mc/multicast").json())?["snooping"] == false })
        let before = MulticastSnoopingAPITests.txFrames(daemon, 3)
        try send("239.1.2.3", 50)
        let flooded = MulticastSnoopingAPITests.txFrames(daemon, 3) - before
        print("multicast off: 50 sent, the other host's port sent \(flooded)")
        #expect(flooded >= 50)
    }
}
