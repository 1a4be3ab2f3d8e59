// The basic stack case with vsquared running as a normal user (uid 65534 here, through setpriv):
// netns stacks are user + network namespaces (the vdens approach) with veth interfaces; they ping
// each other over IPv4 and IPv6 link-local, run commands, report mode "unprivileged", and leave no
// holder, plug or file behind when deleted. Runs where the tests are root (to drop to the user)
// and the machine lets that user make user namespaces.
import Glibc
import JSON
import Posix
import Testing
import VDEWire
import VSquareTesting

let nobody: UInt32 = 65534

/// Whether uid 65534 may create a user namespace with a network namespace in it here.
let userNamespacesAllowed: Bool = geteuid() == 0
    && run("/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/unshare --user --map-root-user --net true 2>/dev/null") == 0

@Suite(.serialized, .enabled(if: userNamespacesAllowed, "needs root to drop to a user, and user namespaces"))
struct UnprivilegedStackTests {
    @Test func twoUserNamespaceStacksPingEachOther() throws {
        let daemon = try DaemonProcess(user: nobody)
        try daemon.createSwitch(["name": "lan"])
        for index in 1...2 {
            let created = try daemon.client.send("POST", "/v1/stacks", json: [
                "name": JSON("u\(index)"), "dns": ["10.204.0.53"],
                "interfaces": [["name": "eth0", "switch": "lan", "mac": JSON("02:00:00:00:04:0\(index)"),
                                "addresses": [JSON("10.204.0.\(index)/24")]]],
            ])
            #expect(created.status == 201, "\(created.text)")
            #expect(try created.json()["mode"] == "unprivileged")
        }
        #expect(eventually(timeoutSeconds: 10) {
            ((try? daemon.json("/v1/stacks/u2"))?["interfaces"]?[0]?["live_addresses"]?.arrayValue ?? []).contains("10.204.0.2/24")
        })
        let ping = try exec(daemon, "u1", ["ping", "-c", "2", "-i", "0.2", "-W", "2", "10.204.0.2"])
        #expect(ping["exit_code"] == 0, "\(ping)")
        // Link-local addresses become usable once duplicate address detection is over (about a second).
        var ping6: JSON = [:]
        #expect(try eventually(timeoutSeconds: 10) {
            ping6 = try exec(daemon, "u2", ["ping", "-6", "-c", "1", "-W", "1", "fe80::ff:fe00:401%eth0"])
            return ping6["exit_code"] == 0
        }, "\(ping6)")
        // Inside, the commands are the namespace's root (mapped to the user), with the stack's resolv.conf.
        let whoami = try exec(daemon, "u1", ["sh", "-c", "id -u; cat /etc/resolv.conf"])
        #expect(whoami["stdout"] == "0\nnameserver 10.204.0.53\n", "\(whoami)")
        let holders = TempDirectory.processes(mentioning: daemon.run + "/stacks/u1.holder")
        #expect(holders.count == 1)
        #expect(FileSystem.owner("/proc/\(holders.first ?? 0)")?.uid == nobody)

        for index in 1...2 { #expect(try daemon.client.request("DELETE", "/v1/stacks/u\(index)").status == 204) }
        #expect(eventually { TempDirectory.processes(mentioning: daemon.run + "/stacks/").isEmpty })
        #expect(!FileSystem.exists(daemon.run + "/stacks/u1-etc"))
    }

    func exec(_ daemon: DaemonProcess, _ stack: String, _ argv: [String]) throws -> JSON {
        try daemon.client.send("POST", "/v1/stacks/\(stack)/exec", json: ["argv": JSON(argv.map(JSON.string)), "timeout_s": 10]).json()
    }
}

/// A slirp stack, which the README says needs no root, made by a vsquared running as uid 65534:
/// slirp answers on the switch (ARP for its address, from Debian's libvdeplug) and its host
/// forward listens on the host's loopback as that user.
@Suite(.serialized, .enabled(if: geteuid() == 0, "needs root to drop to a user"))
struct UnprivilegedSlirpStackTests {
    @Test func aSlirpStackWorksWithoutRoot() throws {
        let daemon = try DaemonProcess(user: nobody)
        try daemon.createSwitch(["name": "wan"])
        let forwardPort = Int.random(in: 20000...29999)
        let created = try daemon.client.send("POST", "/v1/stacks", json: [
            "name": "nat", "kind": "slirp", "interfaces": [["name": "uplink", "switch": "wan"]],
            "host_forwards": [["protocol": "tcp", "host_address": "127.0.0.1", "host_port": JSON(forwardPort),
                               "guest_address": "10.0.2.15", "guest_port": 8080]],
        ])
        #expect(created.status == 201, "\(created.text)")
        #expect(try created.json()["mode"] == "unprivileged")
        #expect(eventually(timeoutSeconds: 10) { (try? daemon.json("/v1/stacks/nat"))?["interfaces"]?[0]?["state"] == "running" },
                "\(String(describing: try? daemon.json("/v1/stacks/nat")))")
        // Who has 10.0.2.2? Slirp answers, as a router on the switch would.
        let plug = try LibVDEPlug(url: "vde://" + (try daemon.switchDirectory("wan")))
        let me = EthernetFrame.mac(macA), unknown = [UInt8](repeating: 0, count: 6)
        let request = EthernetFrame.make(dst: broadcast, src: macA, etherType: 0x0806,
                                         payload: [0, 1, 8, 0, 6, 4, 0, 1] + me + [10, 0, 2, 15] + unknown + [10, 0, 2, 2])
        var reply: [UInt8]?
        #expect(eventually(timeoutSeconds: 10) {
            plug.send(request)
            while let frame = plug.receive(timeoutSeconds: 0.5) {
                if frame.count >= 42 && frame[12] == 0x08 && frame[13] == 0x06 && frame[21] == 2 { reply = frame; return true }
            }
            return false
        }, "no ARP reply from slirp")
        #expect(reply.map { Array($0[28..<32]) } == [10, 0, 2, 2], "the reply is for slirp's address")
        #expect(reply.map { Array($0[0..<6]) } == me, "the reply is addressed to the asker")
        // The host forward listens on loopback, in a process of the unprivileged user.
        #expect(eventually(timeoutSeconds: 5) { run("ss -ltnH 'sport = :\(forwardPort)' | grep -q 127.0.0.1") == 0 },
                "the host forward is not listening")
        #expect(try daemon.client.request("DELETE", "/v1/stacks/nat").status == 204)
        #expect(eventually { run("ss -ltnH 'sport = :\(forwardPort)' | grep -q 127.0.0.1") != 0 }, "the forward outlived its stack")
    }
}
