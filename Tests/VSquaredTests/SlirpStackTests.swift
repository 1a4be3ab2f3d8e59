// A slirp stack as a switch's NAT uplink: a netns stack with dhcp: true gets its IPv4 address,
// default route and nameserver by DHCP and an IPv6 address by SLAAC from slirp, reaches a TCP
// server this test runs on the host's loopback, and is reached through a host forward. Deleting
// both leaves no namespace, /etc/netns files, DHCP client or worker behind. Root only (the netns).
import Glibc
import JSON
import Posix
import Testing
import VSquareTesting

@Suite(.serialized, .enabled(if: geteuid() == 0, "network namespaces need root"))
struct SlirpStackTests {
    @Test func aNamespaceStackGetsDHCPFromSlirpAndReachesTheHostLoopback() throws {
        let daemon = try DaemonProcess()
        let tag = String(UInt32.random(in: 0...0xFFFF), radix: 16)
        let (nat, client) = ("nat-" + tag, "c-" + tag)
        defer {
            _ = try? daemon.client.request("DELETE", "/v1/stacks/\(client)")
            _ = try? daemon.client.request("DELETE", "/v1/stacks/\(nat)")
        }
        let forwardPort = Int.random(in: 20000...29999)
        try daemon.createSwitch(["name": "wan"])
        let created = try daemon.client.send("POST", "/v1/stacks", json: [
            "name": JSON(nat), "kind": "slirp",
            "interfaces": [["name": "uplink", "switch": "wan", "addresses": ["10.0.2.2/24", "fd00:ca7::2/64"]]],
            "host_forwards": [["protocol": "tcp", "host_port": JSON(forwardPort), "guest_address": "10.0.2.15", "guest_port": 8080]],
        ])
        #expect(created.status == 201, "\(created.text)")
        #expect(try created.json()["mode"] == "unprivileged")
        let plugged = try daemon.client.send("POST", "/v1/stacks", json: [
            "name": JSON(client), "interfaces": [["name": "eth0", "switch": "wan", "dhcp": true]],
        ])
        #expect(plugged.status == 201, "\(plugged.text)")

        // The lease (the first address slirp hands out) and a SLAAC address in slirp's prefix.
        var addresses: [String] = []
        #expect(eventually(timeoutSeconds: 20) {
            addresses = ((try? daemon.json("/v1/stacks/\(client)"))?["interfaces"]?[0]?["live_addresses"]?.arrayValue ?? []).compactMap(\.stringValue)
            return addresses.contains("10.0.2.15/24") && addresses.contains { $0.hasPrefix("fd00:ca7::") }
        }, "\(addresses)")
        let view = try daemon.json("/v1/stacks/\(client)")
        #expect((view["live_routes"]?.arrayValue ?? []).contains { $0["dst"] == "default" && $0["gateway"] == "10.0.2.2" }, "\(view)")
        let resolv = try exec(daemon, client, ["cat", "/etc/resolv.conf"])
        #expect(resolv["stdout"]?.stringValue?.contains("nameserver 10.0.2.3") == true, "\(resolv)")
        let ping6 = try exec(daemon, client, ["ping", "-6", "-c", "1", "-W", "2", "fd00:ca7::2"])
        #expect(ping6["exit_code"] == 0, "\(ping6)")

        // Out through slirp to a server on the host's loopback (10.0.2.2 is the host, as in qemu).
        let listener = try Socket.listenTCP(SocketAddress(hostPort: "127.0.0.1:0")!)
        let hostPort = try listener.localAddress().port ?? 0
        let dialer = try daemon.client.send("POST", "/v1/stacks/\(client)/exec", json: [
            "argv": ["sh", "-c", JSON("echo hi-from-stack | busybox nc -w 5 10.0.2.2 \(hostPort)")], "detach": true]).json()
        #expect(try listener.waitReadable(timeoutSeconds: 10))
        guard case .done(let connection) = try listener.accept() else { Issue.record("no connection from the stack"); return }
        #expect(try connection.waitReadable(timeoutSeconds: 5))
        #expect(String(decoding: try connection.receive(), as: UTF8.self) == "hi-from-stack\n")
        try connection.sendAll(Array("hi-from-host\n".utf8))
        connection.close()
        let dialerID = dialer["id"]?.intValue ?? 0
        #expect(eventually(timeoutSeconds: 10) {
            (try? daemon.json("/v1/stacks/\(client)/processes/\(dialerID)"))?["stdout"] == "hi-from-host\n"
        })

        // In through the host forward: 127.0.0.1:forwardPort reaches 10.0.2.15:8080 in the stack.
        _ = try daemon.client.send("POST", "/v1/stacks/\(client)/exec", json: [
            "argv": ["sh", "-c", "echo inner-hello | busybox nc -l -p 8080"], "detach": true])
        var greeting = ""
        #expect(eventually(timeoutSeconds: 10) {
            guard let socket = try? Socket.connectTCP(SocketAddress(hostPort: "127.0.0.1:\(forwardPort)")!) else { return false }
            try? socket.setTimeout(seconds: 3)
            greeting = String(decoding: (try? socket.receive()) ?? [], as: UTF8.self)
            return greeting == "inner-hello\n"
        }, "\(greeting)")
        let natView = try daemon.json("/v1/stacks/\(nat)")
        #expect((natView["slirp"]?["connections"]?.arrayValue ?? []).contains { $0.stringValue?.contains("HOST_FORWARD") == true }, "\(natView)")

        // A host forward that cannot be had (the port is taken) is refused and the old ones stay.
        let taken = try Socket.listenTCP(SocketAddress(hostPort: "127.0.0.1:0")!)
        let refused = try daemon.client.send("PATCH", "/v1/stacks/\(nat)", json: [
            "host_forwards": [["host_port": JSON(Int(try taken.localAddress().port ?? 0)), "guest_address": "10.0.2.15", "guest_port": 22]]])
        #expect(refused.status == 409, "\(refused.text)")
        #expect(try daemon.json("/v1/stacks/\(nat)")["host_forwards"]?[0]?["host_port"] == JSON(forwardPort))
        #expect(try daemon.client.send("POST", "/v1/stacks", json: [
            "name": "bad", "kind": "slirp", "interfaces": [["name": "u", "switch": "wan", "addresses": ["10.9.0.1/31"]]]]).status == 422)

        // Deleting takes the lease client, the namespace and its /etc files with it.
        let namespace = try daemon.json("/v1/stacks/\(client)")["namespace"]?.stringValue ?? "none"
        #expect(run("ip netns list | grep -qw \(namespace)") == 0 && FileSystem.exists("/etc/netns/\(namespace)"),
                "the namespace \(namespace) and its /etc files exist before the delete")
        #expect(try daemon.client.request("DELETE", "/v1/stacks/\(client)").status == 204)
        #expect(try daemon.client.request("DELETE", "/v1/stacks/\(nat)").status == 204)
        #expect(run("ip netns list | grep -qw \(namespace)") != 0)
        #expect(!FileSystem.exists("/etc/netns/\(namespace)"))
        #expect(eventually { run("pgrep -f '[u]dhcpc -f -i eth0 -s .*\(client)-dhcp-hook' >/dev/null") != 0 })
    }

    func exec(_ daemon: DaemonProcess, _ stack: String, _ argv: [String]) throws -> JSON {
        try daemon.client.send("POST", "/v1/stacks/\(stack)/exec", json: ["argv": JSON(argv.map(JSON.string)), "timeout_s": 10]).json()
    }
}
