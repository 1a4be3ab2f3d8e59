// VXLAN cable ends against the peers users have, in two network namespaces this test creates (and
// removes) joined by a veth: a Linux kernel vxlan device bridged to the namespace's own stack
// (unicast), and Debian vdeplug4's own vxlan:// plugin (multicast, ttl 1, on the test's veth only).
// Frames of every size up to the path's limit cross both ways; a larger one is counted as an MTU
// drop; short, wrongly flagged, wrong-network and foreign datagrams are counted and never cross.
// Root only.
import Glibc
import JSON
import Posix
import Testing
import VDEWire
import VSquareTesting

/// A vsquare-cable run inside namespace `namespace`, stopped on deinit.
final class NamespacedCable: @unchecked Sendable {
    let process: ChildProcess
    let controlPath: String

    init(in namespace: String, switchDirectory: String, directory: TempDirectory, name: String, _ arguments: [String]) throws {
        controlPath = directory.path + "/\(name).sock"
        process = try ChildProcess(path: "/usr/sbin/ip", arguments: ["netns", "exec", namespace, DaemonProcess.productsDirectory + "/vsquare-cable",
                                                                     "--a", switchDirectory, "--control", controlPath, "--name", name] + arguments,
                                   stdin: .null, stdout: .file(directory.path + "/\(name).log"), stderr: .file(directory.path + "/\(name).log"))
        guard eventually(timeoutSeconds: 10, { (try? ControlClient(path: self.controlPath).call("status")["state"]) == "up" }) else {
            process.stop(signal: SIGKILL, graceSeconds: 0)
            throw HTTPTestError.malformedResponse("cable \(name) did not come up")
        }
    }

    deinit { process.stop(signal: SIGKILL, graceSeconds: 0) }

    func status() throws -> JSON { try ControlClient(path: controlPath).call("status") }
    func counters() throws -> JSON { try ControlClient(path: controlPath).call("counters") }
}

@Suite(.serialized, .enabled(if: geteuid() == 0, "namespaces and vxlan devices need root"))
struct VXLANEndTests {
    static let vni = 4242

    /// Sizes of ICMP payload from empty to the largest that fits a 1500-byte underlay (1422 + 28 = 1450).
    static let pingSizes = [0, 1, 18, 100, 333, 576, 1000, 1200, 1400, 1421, 1422]

    /// In namespace a, on switch `sw`: our VXLAN end towards `remote`, and a tap stack at 10.203.0.1
    /// (MTU 1500, so an oversized frame can be tried).
    func tunnelAndStack(_ pair: NamespacePair, _ sw: SwitchProcess, remote: String) throws -> (tunnel: NamespacedCable, plug: NamespacedCable) {
        let tunnel = try NamespacedCable(in: pair.a, switchDirectory: sw.switchDirectory, directory: sw.directory, name: "vx",
                                         ["--b-vxlan-remote", remote, "--vni", String(VXLANEndTests.vni)])
        let plug = try NamespacedCable(in: pair.a, switchDirectory: sw.switchDirectory, directory: sw.directory, name: "plug", ["--b-tap", "eth0"])
        #expect(shell("ip -n \(pair.a) addr add 10.203.0.1/24 dev eth0 && ip -n \(pair.a) link set eth0 up") == 0)
        return (tunnel, plug)
    }

    @Test func aKernelVXLANDeviceAndOurEndPassPingsOfEverySize() throws {
        let pair = try NamespacePair()
        let sw = try SwitchProcess(name: "s1")
        let near = "10.201.\(pair.subnet).1", far = "10.201.\(pair.subnet).2"
        // The kernel's VTEP in b, bridged to b's own stack.
        for command in ["ip -n \(pair.b) link add vx0 type vxlan id \(VXLANEndTests.vni) remote \(near) local \(far) dstport 4789 dev \(pair.vethB)",
                        "ip -n \(pair.b) link add br0 type bridge", "ip -n \(pair.b) link set vx0 master br0",
                        "ip -n \(pair.b) addr add 10.203.0.2/24 dev br0", "ip -n \(pair.b) link set vx0 up", "ip -n \(pair.b) link set br0 up"] {
            #expect(shell(command) == 0, "\(command)")
        }
        let (tunnel, plug) = try tunnelAndStack(pair, sw, remote: far)
        _ = plug

        let end = try tunnel.status()["ends"]?[1]
        #expect(end?["kind"] == "vxlan" && end?["mode"] == "unicast" && end?["vni"]?.intValue == VXLANEndTests.vni)
        #expect(end?["path_mtu"]?.intValue == 1500 && end?["overhead"]?.intValue == 50 && end?["largest_frame"]?.intValue == 1464, "\(end ?? nil)")

        #expect(eventually(timeoutSeconds: 10) { shell("ip netns exec \(pair.a) ping -c 1 -W 1 10.203.0.2 > /dev/null") == 0 }, "no ping across the tunnel")
        for size in VXLANEndTests.pingSizes {
            #expect(shell("ip netns exec \(pair.a) ping -M do -c 1 -W 2 -s \(size) 10.203.0.2 > /dev/null") == 0, "a → b, \(size) bytes")
            #expect(shell("ip netns exec \(pair.b) ping -M do -c 1 -W 2 -s \(size) 10.203.0.1 > /dev/null") == 0, "b → a, \(size) bytes")
        }
        // One byte more does not fit the path: refused by the end, counted as an MTU drop, never fragmented.
        let before = try tunnel.counters()["a_to_b"]?["drops"]?["mtu"]?.intValue ?? -1
        #expect(shell("ip netns exec \(pair.a) ping -M do -c 1 -W 1 -s 1423 10.203.0.2 > /dev/null") != 0)
        let counters = try tunnel.counters()
        #expect(counters["a_to_b"]?["drops"]?["mtu"]?.intValue == before + 1, "\(counters)")
        let after = try tunnel.status()["ends"]?[1]
        #expect((after?["frames_in"]?.intValue ?? 0) >= VXLANEndTests.pingSizes.count * 2)
        #expect(after?["dropped"]?["too_big"]?.intValue == 0 && after?["dropped"]?["foreign"]?.intValue == 0, "\(after ?? nil)")
    }

    @Test func anIPv6UnderlayCarriesFramesUpToItsSmallerLimit() throws {
        let pair = try NamespacePair()
        let sw = try SwitchProcess(name: "s1")
        let near = "fd00:201:\(pair.subnet)::1", far = "fd00:201:\(pair.subnet)::2"
        for command in ["ip -n \(pair.a) -6 addr add \(near)/64 dev \(pair.vethA) nodad", "ip -n \(pair.b) -6 addr add \(far)/64 dev \(pair.vethB) nodad",
                        "ip -n \(pair.b) link add vx0 type vxlan id \(VXLANEndTests.vni) remote \(near) local \(far) dstport 4789 dev \(pair.vethB)",
                        "ip -n \(pair.b) addr add 10.203.0.2/24 dev vx0", "ip -n \(pair.b) link set vx0 up"] {
            #expect(shell(command) == 0, "\(command)")
        }
        let (tunnel, plug) = try tunnelAndStack(pair, sw, remote: far)
        _ = plug
        let end = try tunnel.status()["ends"]?[1]
        #expect(end?["overhead"]?.intValue == 70 && end?["largest_frame"]?.intValue == 1444, "\(end ?? nil)")
        #expect(eventually(timeoutSeconds: 10) { shell("ip netns exec \(pair.a) ping -c 1 -W 1 10.203.0.2 > /dev/null") == 0 }, "no ping over IPv6")
        // 1402 + 28 = 1430: what 1500 leaves after 70 bytes of IPv6 tunnel.
        for size in [0, 500, 1401, 1402] {
            #expect(shell("ip netns exec \(pair.a) ping -M do -c 1 -W 2 -s \(size) 10.203.0.2 > /dev/null") == 0, "\(size) bytes")
        }
        #expect(shell("ip netns exec \(pair.a) ping -M do -c 1 -W 1 -s 1403 10.203.0.2 > /dev/null") != 0)
        #expect(try tunnel.counters()["a_to_b"]?["drops"]?["mtu"]?.intValue == 1)
    }

    @Test func badAndForeignDatagramsAreCountedAndNeverCross() throws {
        let pair = try NamespacePair()
        let sw = try SwitchProcess(name: "s1")
        let near = "10.201.\(pair.subnet).1", far = "10.201.\(pair.subnet).2", stranger = "10.201.\(pair.subnet).3"
        #expect(shell("ip -n \(pair.b) addr add \(stranger)/24 dev \(pair.vethB)") == 0)
        let tunnel = try NamespacedCable(in: pair.a, switchDirectory: sw.switchDirectory, directory: sw.directory, name: "vx",
                                         ["--b-vxlan-remote", far, "--vni", String(VXLANEndTests.vni)])
        let client = try LibVDEPlug(url: "vde://" + sw.switchDirectory)
        // Each datagram carries a broadcast frame whose payload names it.
        let script = """
        import socket, sys
        vni = (\(VXLANEndTests.vni)).to_bytes(3, 'big')
        def frame(tag): return b'\\xff' * 6 + bytes.fromhex('02aabbccdd01') + b'\\x88\\xb5' + tag.encode().ljust(46, b'.')
        def send(source, data):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((source, 0)); s.sendto(data, ('\(near)', 4789)); s.close()
        send('\(far)', b'\\x08\\x00\\x00')
        send('\(far)', b'\\x08\\x00\\x00\\x00' + vni + b'\\x00' + b'\\x01' * 13)
        send('\(far)', b'\\x00\\x00\\x00\\x00' + vni + b'\\x00' + frame('noflag'))
        send('\(far)', b'\\x0c\\x00\\x00\\x00' + vni + b'\\x00' + frame('gpe'))
        send('\(far)', b'\\x08\\x00\\x00\\x00' + (\(VXLANEndTests.vni) + 1).to_bytes(3, 'big') + b'\\x00' + frame('othervni'))
        send('\(stranger)', b'\\x08\\x00\\x00\\x00' + vni + b'\\x00' + frame('stranger'))
        send('\(far)', b'\\x08\\x00\\x00\\x00' + vni + b'\\x00' + frame('good'))
        """
        let scriptPath = sw.directory.path + "/send.py"
        try FileSystem.writeFile(scriptPath, script)
        #expect(shell("ip netns exec \(pair.b) python3 \(scriptPath)") == 0)
        var payloads: [String] = []
        while let frame = client.receive(timeoutSeconds: 1) {
            guard frame.count >= 60, Array(frame[6..<12]) == [0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0x01] else { continue }
            payloads.append(String(decoding: frame[14...].prefix { $0 != UInt8(ascii: ".") }, as: UTF8.self))
        }
        #expect(payloads == ["good"])
        let dropped = try tunnel.status()["ends"]?[1]?["dropped"]
        #expect(dropped?["short"]?.intValue == 2 && dropped?["bad_flags"]?.intValue == 2 && dropped?["wrong_vni"]?.intValue == 1
                && dropped?["foreign"]?.intValue == 1, "\(dropped ?? nil)")
        #expect(tunnel.process.wait(timeoutSeconds: 0) == nil, "a bad datagram ended the cable")
    }

    @Test func vdeplug4sVXLANPluginAndOurGroupEndLearnEachOther() throws {
        let pair = try NamespacePair()
        let s1 = try SwitchProcess(name: "s1")
        let s2 = try SwitchProcess(name: "s2")
        let group = "239.77.\(pair.subnet).1"
        let tunnel = try NamespacedCable(in: pair.a, switchDirectory: s1.switchDirectory, directory: s1.directory, name: "vx",
                                         ["--b-vxlan-group", group, "--vxlan-if", pair.vethA, "--vni", "7", "--vxlan-ttl", "1"])
        // Debian's vde_plug joins the same group from b and plugs it into s2.
        let plug = try ChildProcess(path: "/usr/sbin/ip", arguments: ["netns", "exec", pair.b, "vde_plug", "vxlan://\(group)/vni=7/if=\(pair.vethB)/ttl=1",
                                                                      "vde://" + s2.switchDirectory],
                                    stdin: .null, stdout: .null, stderr: .file(s1.directory.path + "/vde_plug.log"))
        defer { plug.stop(signal: SIGKILL, graceSeconds: 0) }
        let left = try LibVDEPlug(url: "vde://" + s1.switchDirectory)
        let right = try LibVDEPlug(url: "vde://" + s2.switchDirectory)

        // Both send broadcast to the group. vdeplug4 4.0.1 (Debian's, and upstream today) cannot send unicast
        // to a VTEP it learned: its recvmsg passes msg_namelen 0, so it stores no sender and its unicast
        // sendmsg fails with EDESTADDRREQ. Frames from it therefore go to the group; we learn its VTEP
        // from them and send it unicast.
        let hello = EthernetFrame.make(dst: broadcast, src: macA, payload: Array("to the group".utf8))
        #expect(eventually(timeoutSeconds: 5) {
            left.send(hello)
            return right.receive(timeoutSeconds: 0.5) == hello
        }, "the group frame never reached vde_plug")
        for size in [60, 128, 500, 1000, 1400, 1464] {
            let back = EthernetFrame.make(dst: broadcast, src: macB, size: size)
            right.send(back)
            let arrived = left.receive() == back
            #expect(arrived, "b → a through the group, \(size) bytes")
            let forth = EthernetFrame.make(dst: macB, src: macA, size: size)
            left.send(forth)
            let crossed = right.receive() == forth
            #expect(crossed, "a → b unicast to the learned VTEP, \(size) bytes")
        }
        let end = try tunnel.status()["ends"]?[1]
        let vteps = end?["vteps"]?.arrayValue ?? []
        #expect(vteps.contains { $0["mac"] == JSON(macB) && $0["address"]?.stringValue == "10.201.\(pair.subnet).2" }, "\(vteps)")
        // Those went to the VTEP alone, not to the group.
        #expect((end?["unicast_out"]?.intValue ?? 0) >= 6, "\(end ?? nil)")
        #expect(end?["largest_frame"]?.intValue == 1464)
        // Larger than the path: dropped here, counted.
        left.send(EthernetFrame.make(dst: macB, src: macA, size: 1465))
        let nothing = right.receive(timeoutSeconds: 1) == nil
        #expect(nothing)
        #expect(try tunnel.counters()["a_to_b"]?["drops"]?["mtu"]?.intValue == 1)
    }
}
