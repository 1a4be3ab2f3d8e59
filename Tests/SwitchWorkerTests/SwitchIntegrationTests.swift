// vsquare-switch with real VDE clients: Debian's vde_plug and libvdeplug (and our VDEClient).
// Observed through the switch's own control socket, as users would.
import Glibc
import JSON
import Posix
import Testing
import VDEWire
import VSquareTesting

let macA = "02:00:00:00:00:0a", macB = "02:00:00:00:00:0b", macC = "02:00:00:00:00:0c", macD = "02:00:00:00:00:0d"
let broadcast = "ff:ff:ff:ff:ff:ff"

func frame(_ dst: String, _ src: String, vlan: UInt16? = nil, tag: String = "", size: Int = 60) -> [UInt8] {
    EthernetFrame.make(dst: dst, src: src, vlan: vlan, payload: Array(tag.utf8), size: size)
}

/// The port numbers of plugged-in ports and their endpoint counts, from the `ports` op.
func pluggedPorts(_ control: ControlClient) throws -> [Int: Int] {
    var result: [Int: Int] = [:]
    for port in try control.call("ports")["ports"]?.arrayValue ?? [] where port["connected"] == true {
        result[(try port.requiredInt("port"))] = port["endpoints"]?.arrayValue?.count ?? 0
    }
    return result
}

func waitForPorts(_ control: ControlClient, _ count: Int) -> Bool {
    eventually(timeoutSeconds: 5) { ((try? pluggedPorts(control))?.count ?? -1) == count }
}

@Suite(.serialized) struct SwitchIntegrationTests {
    @Test func vdePlugsExchangeFramesAndLearnedUnicastReachesOnlyItsPort() throws {
        let sw = try SwitchProcess()
        let control = try sw.control()
        let a = try VDEPlugProcess(url: "vde://" + sw.switchDirectory)
        let b = try VDEPlugProcess(url: "vde://" + sw.switchDirectory)
        let c = try VDEPlugProcess(url: "vde://" + sw.switchDirectory)
        #expect(waitForPorts(control, 3))

        try a.send(frame(broadcast, macA, tag: "hello from a"))
        #expect(try b.receive() == frame(broadcast, macA, tag: "hello from a"))
        #expect(try c.receive() == frame(broadcast, macA, tag: "hello from a"))
        try b.send(frame(macA, macB, tag: "b to a"))
        #expect(try a.receive() == frame(macA, macB, tag: "b to a"))
        // Both are learned now: unicast between them must not reach c.
        try a.send(frame(macB, macA, tag: "a to b"))
        #expect(try b.receive() == frame(macB, macA, tag: "a to b"))
        try b.send(frame(macA, macB, tag: "b to a again"))
        #expect(try a.receive() == frame(macA, macB, tag: "b to a again"))
        let marker = frame(broadcast, macA, tag: "marker")
        try a.send(marker)
        #expect(try c.frames(before: marker).isEmpty, "c saw unicast between a and b")

        let macs = try control.call("macs")["macs"]?.arrayValue ?? []
        #expect(macs.compactMap { $0["mac"]?.stringValue }.sorted() == [macA, macB])
        // A's port (found through the MAC table, since all three plugs look alike) counted A's three frames.
        let portOfA = macs.first { $0["mac"]?.stringValue == macA }?["port"]
        let ports = try control.call("ports").requiredArray("ports")
        let portA = ports.first { $0["port"] == portOfA }
        #expect(portA?["counters"]?["rx_frames"]?.intValue == 3)
        #expect(sw.stop() == .exited(0))
    }

    @Test func libvdeplugClientsExchangeFrames() throws {
        let sw = try SwitchProcess()
        let a = try LibVDEPlug(url: "vde://" + sw.switchDirectory)
        let b = try LibVDEPlug(url: "vde://" + sw.switchDirectory)
        a.send(frame(broadcast, macA, tag: "lib a"))
        #expect(b.receive() == frame(broadcast, macA, tag: "lib a"))
        b.send(frame(macA, macB, size: 1514))
        #expect(a.receive() == frame(macA, macB, size: 1514))
        a.close()
        b.close()
        #expect(eventually { (try? pluggedPorts(sw.control()).isEmpty) == true })
    }

    @Test func vlanIsolationAndTrunkTaggingEndToEnd() throws {
        let sw = try SwitchProcess()
        let control = try sw.control()
        try control.call("vlan.create", ["vlan": 10])
        try control.call("vlan.set", ["vlan": 10, "untagged": [1, 2], "tagged": [3]])
        let a = try VDEPlugProcess(url: "vde://\(sw.switchDirectory)[1]")
        let b = try VDEPlugProcess(url: "vde://\(sw.switchDirectory)[2]")
        let trunk = try LibVDEPlug(url: "vde://\(sw.switchDirectory)[3]")
        let other = try VDEPlugProcess(url: "vde://\(sw.switchDirectory)[4]")
        #expect(waitForPorts(control, 4))

        try a.send(frame(broadcast, macA, tag: "vlan10"))
        #expect(try b.receive() == frame(broadcast, macA, tag: "vlan10"))
        let tagged = trunk.receive()
        #expect(tagged.map(EthernetFrame.vlan(of:)) == 10)
        #expect(tagged.map { Array($0[12..<16]) } == [0x81, 0x00, 0x00, 0x0A])
        #expect(tagged.map { EgressEditCheck.strip($0) } == frame(broadcast, macA, tag: "vlan10"))
        let vlan1Marker = frame(broadcast, macC, tag: "vlan 1 marker")
        trunk.send(vlan1Marker)
        #expect(try other.frames(before: vlan1Marker).isEmpty, "VLAN 10 leaked to a VLAN 1 port")

        // Tagged from the trunk reaches the access port untagged; another VID is dropped.
        trunk.send(frame(macA, macC, vlan: 10, tag: "from trunk"))
        #expect(try a.receive() == frame(macA, macC, tag: "from trunk"))
        trunk.send(frame(broadcast, macC, vlan: 20, tag: "wrong vlan"))
        // Markers from the same trunk, after it: VLAN 10 tagged for a and b, untagged for the VLAN 1 port.
        trunk.send(frame(broadcast, macC, vlan: 10, tag: "marker 10"))
        trunk.send(vlan1Marker)
        #expect(try a.frames(before: frame(broadcast, macC, tag: "marker 10")).isEmpty)
        #expect(try b.frames(before: frame(broadcast, macC, tag: "marker 10")).isEmpty)
        #expect(try other.frames(before: vlan1Marker).isEmpty)
        let counters = try control.call("ports", ["port": 3])["ports"]?[0]?["counters"]
        #expect(counters?["drops"]?["vlan"] == 1)
        let vlans = try control.call("vlans")["vlans"]?.arrayValue ?? []
        #expect(vlans.contains { $0 == ["vlan": 10, "untagged": [1, 2], "tagged": [3]] })
        // Port 3 is a trunk for VLAN 10 and still carries VLAN 1 untagged.
        let defaultMembers: [JSON] = [0, 3, 4] + (5...32).map { JSON($0) }
        #expect(vlans.contains { $0 == ["vlan": 1, "untagged": JSON(defaultMembers), "tagged": []] })
    }

    @Test func aKickMakesVdePlugExit() throws {
        let sw = try SwitchProcess()
        let control = try sw.control()
        let plug = try VDEPlugProcess(url: "vde://\(sw.switchDirectory)[6]")
        #expect(waitForPorts(control, 1))
        #expect(try control.call("port.kick", ["port": 6])["kicked"] == 1)
        #expect(plug.process.wait(timeoutSeconds: 5) == .exited(0))
        #expect(try pluggedPorts(control).isEmpty)
        #expect(try control.waitForEvent("port.down")?["reason"] == "kicked")
    }

    @Test func requestedPortsAndTheBusyPortRule() throws {
        let sw = try SwitchProcess(arguments: ["--mode", "0666"])
        let control = try sw.control()
        let first = try VDEPlugProcess(url: "vde://\(sw.switchDirectory)[5]")
        #expect(waitForPorts(control, 1))
        #expect(try pluggedPorts(control) == [5: 1])
        // The same user asking for the same port shares it.
        let second = try VDEPlugProcess(url: "vde://\(sw.switchDirectory)[5]")
        #expect(eventually { (try? pluggedPorts(control)) == [5: 2] })
        try first.send(frame(broadcast, macA, tag: "to the shared port"))
        let third = try VDEPlugProcess(url: "vde://\(sw.switchDirectory)")
        #expect(eventually { (try? pluggedPorts(control)) == [1: 1, 5: 2] }, "automatic allocation takes the lowest free port")
        try third.send(frame(broadcast, macC, tag: "to both endpoints"))
        #expect(try first.receive() == frame(broadcast, macC, tag: "to both endpoints"))
        #expect(try second.receive() == frame(broadcast, macC, tag: "to both endpoints"))
        if geteuid() == 0 {
            // Another user is refused: the ctl stream is closed and vde_plug exits with 1.
            let intruder = try VDEPlugProcess(url: "vde://\(sw.switchDirectory)[5]", user: "nobody")
            #expect(intruder.process.wait(timeoutSeconds: 5) == .exited(1))
            #expect(try pluggedPorts(control) == [1: 1, 5: 2])
        }
        // Out of range is refused too.
        let outOfRange = try VDEPlugProcess(url: "vde://\(sw.switchDirectory)[99]")
        #expect(outOfRange.process.wait(timeoutSeconds: 5) == .exited(1))
    }

    @Test func aJumboFrameArrivesIntact() throws {
        let sw = try SwitchProcess()
        let a = try VDEPlugProcess(url: "vde://" + sw.switchDirectory)
        let b = try VDEPlugProcess(url: "vde://" + sw.switchDirectory)
        #expect(waitForPorts(try sw.control(), 2))
        var jumbo = frame(broadcast, macA, size: 9000)
        for index in 14..<jumbo.count { jumbo[index] = UInt8(truncatingIfNeeded: index * 7) }
        try a.send(jumbo)
        #expect(try b.receive() == jumbo)
    }

    @Test func shortFramesArePaddedAndOversizeFramesDropped() throws {
        let sw = try SwitchProcess()
        let a = try VDEClient(directory: sw.switchDirectory)
        let b = try VDEClient(directory: sw.switchDirectory)
        try a.send(Array(frame(broadcast, macA).prefix(20)))
        #expect(try b.receive() == Array(frame(broadcast, macA).prefix(20)) + [UInt8](repeating: 0, count: 40))
        try a.send(frame(broadcast, macA, size: 9217))
        try a.send(Array(frame(broadcast, macA).prefix(13)))
        try a.send(frame(broadcast, macA, tag: "after"))
        #expect(try b.receive() == frame(broadcast, macA, tag: "after"))
        let drops = try sw.control().call("counters")["totals"]?["drops"]
        #expect(drops?["oversize"] == 1)
        #expect(drops?["undersize"] == 1)
    }

    @Test func eventsReportPortsAndMoves() throws {
        let sw = try SwitchProcess()
        let control = try sw.control()
        _ = try control.call("status")
        let a = try VDEClient(directory: sw.switchDirectory, description: "client-a")
        let up = try control.waitForEvent("port.up")
        #expect(up?["port"] == 1)
        #expect(up?["endpoint"]?["description"] == "client-a")
        let b = try VDEClient(directory: sw.switchDirectory)
        try a.send(frame(broadcast, macA))
        _ = try b.receive()
        try b.send(frame(broadcast, macA))
        let moved = try control.waitForEvent("mac.moved")
        #expect(moved?["mac"]?.stringValue == macA)
        #expect(moved?["from"] == 1 && moved?["to"] == 2)
        a.close()
        #expect(try control.waitForEvent("port.down")?["reason"] == "unplugged")
    }

    @Test func shutdownUnplugsClientsAndRemovesItsSockets() throws {
        let sw = try SwitchProcess()
        let plug = try VDEPlugProcess(url: "vde://" + sw.switchDirectory)
        #expect(waitForPorts(try sw.control(), 1))
        #expect(sw.stop() == .exited(0))
        #expect(plug.process.wait(timeoutSeconds: 5) == .exited(0))
        #expect(!FileSystem.exists(sw.switchDirectory))
    }

    @Test func configurationPersistsAcrossReconnectsAndMACsFollowUnplug() throws {
        let sw = try SwitchProcess()
        let control = try sw.control()
        try control.call("vlan.create", ["vlan": 30])
        try control.call("port.set", ["port": 2, "untagged_vlan": 30])
        let a = try VDEClient(directory: sw.switchDirectory, kind: .port(2))
        try a.send(frame(broadcast, macA))
        #expect(eventually { (try? control.call("macs", ["vlan": 30])["count"]) == 1 })
        a.close()
        #expect(eventually { (try? control.call("macs")["count"]) == 0 }, "unplugging flushes the port's MACs")
        let again = try VDEClient(directory: sw.switchDirectory, kind: .port(2))
        defer { again.close() }
        #expect(try control.call("ports", ["port": 2])["ports"]?[0]?["untagged_vlan"] == 30)
    }

    @Test func controlErrorsAreRepliesNotCrashes() throws {
        let sw = try SwitchProcess()
        let control = try sw.control()
        #expect(try control.send(raw: Array("this is not json\n".utf8))["error"]?["code"] == "malformed_json")
        #expect(try control.send(raw: Array("[1,2]\n".utf8))["error"]?["code"] == "invalid_field")
        #expect(try control.request("nope")["error"]?["code"] == "unknown_op")
        #expect(try control.request("port.set", ["port": 999])["error"]?["code"] == "invalid_field")
        #expect(try control.request("port.set", ["port": 1, "untagged_vlan": 77])["error"]?["code"] == "not_found")
        #expect(try control.request("port.set", ["port": 1, "colour": "red"])["error"]?["code"] == "invalid_field")
        try control.call("vlan.create", ["vlan": 7])
        #expect(try control.request("vlan.create", ["vlan": 7])["error"]?["code"] == "vlan_exists")
        try control.call("port.set", ["port": 1, "untagged_vlan": 7])
        #expect(try control.request("vlan.delete", ["vlan": 7])["error"]?["code"] == "vlan_in_use")
        let help = try control.call("help")["ops"]?.arrayValue?.compactMap { $0["op"]?.stringValue } ?? []
        for op in ["status", "ports", "port.set", "port.kick", "macs", "macs.flush", "vlan.create", "vlan.delete", "vlan.set",
                   "config.get", "config.set", "counters", "shutdown"] {
            #expect(help.contains(op), "help lacks \(op)")
        }
        #expect(try control.call("status")["name"] == "sw")
    }

    @Test func configSetChangesHubModeAndAging() throws {
        let sw = try SwitchProcess()
        let control = try sw.control()
        #expect(try control.call("config.set", ["hub": true, "mac_aging_s": 5, "generation": 7])["hub"] == true)
        #expect(try control.call("status")["applied_generation"] == 7)
        let a = try VDEClient(directory: sw.switchDirectory)
        let b = try VDEClient(directory: sw.switchDirectory)
        let c = try VDEClient(directory: sw.switchDirectory)
        try b.send(frame(broadcast, macB))
        _ = try a.drain(quietSeconds: 0.2)
        _ = try c.drain(quietSeconds: 0.2)
        try a.send(frame(macB, macA))
        #expect(try c.receive() == frame(macB, macA), "a hub floods unicast too")
        #expect(try control.call("macs")["count"] == 0)
        #expect(try control.call("config.get")["mac_aging_s"] == 5)
    }

    @Test func aLearnedEntryAgesOutInALiveWorker() throws {
        let sw = try SwitchProcess(arguments: ["--mac-aging", "1"])
        let control = try sw.control()
        let a = try VDEClient(directory: sw.switchDirectory)
        let b = try VDEClient(directory: sw.switchDirectory)
        let c = try VDEClient(directory: sw.switchDirectory)
        try b.send(frame(broadcast, macB))
        #expect(try a.receive() == frame(broadcast, macB))
        #expect(try c.receive() == frame(broadcast, macB))
        #expect(try control.call("macs")["count"] == 1)
        // Known: unicast to B reaches only B.
        try a.send(frame(macB, macA, tag: "known"))
        #expect(try b.receive() == frame(macB, macA, tag: "known"))
        // After the aging time with B silent, the entry is gone and the frame floods again.
        #expect(eventually(timeoutSeconds: 10) { (try? control.call("macs", ["vlan": 1])["macs"]?.arrayValue?
            .contains { $0["mac"]?.stringValue == macB }) == false })
        // The listing hides an entry past its age at once; the worker's timer removes it soon after.
        #expect(eventually(timeoutSeconds: 5) { (try? control.call("counters")["mac_table"]?["expired"]?.intValue ?? 0) ?? 0 >= 1 },
                "\(String(describing: try? control.call("counters")["mac_table"]))")
        _ = try c.drain(quietSeconds: 0.1)
        try a.send(frame(macB, macA, tag: "aged"))
        #expect(try c.receive() == frame(macB, macA, tag: "aged"), "after aging, unicast to B floods")
    }

    @Test func aSecondSwitchOnTheSameDirectoryIsRefusedAndLeftoversAreCleanedUp() throws {
        let sw = try SwitchProcess()
        let (termination, err) = try runSwitch(["--dir", sw.switchDirectory, "--control", sw.directory.path + "/other.sock"])
        #expect(termination == .exited(1))
        #expect(err.contains("another switch"))
        // A switch killed hard leaves its sockets; the next one starts on top of them.
        let plug = try VDEClient(directory: sw.switchDirectory)
        sw.process.signal(SIGKILL)
        _ = sw.process.wait(timeoutSeconds: 5)
        plug.close()
        let next = try ChildProcess(path: DaemonProcess.productsDirectory + "/vsquare-switch", arguments: ["--dir", sw.switchDirectory],
                                    stdin: .null, stdout: .null, stderr: .null)
        #expect(eventually { (try? ControlClient(path: sw.controlPath)) != nil })
        let client = try VDEClient(directory: sw.switchDirectory)
        client.close()
        #expect(next.stop() == .exited(0))
    }

    @Test func theExecutableReportsBadCommandLines() throws {
        #expect(try runSwitch(["--help"]).0 == .exited(0))
        let (termination, err) = try runSwitch(["--dir", "/tmp/x", "--ports", "abc"])
        #expect(termination == .exited(64))
        #expect(err.contains("--ports must be an integer"))
        #expect(try runSwitch(["--dir", "/proc/nope/sw"]).0 == .exited(1))
    }
}

/// Runs vsquare-switch to completion (or 10 s), returning how it ended and its stderr.
func runSwitch(_ arguments: [String]) throws -> (ChildProcess.Termination, String) {
    let directory = TempDirectory()
    let process = try ChildProcess(path: DaemonProcess.productsDirectory + "/vsquare-switch", arguments: arguments,
                                   stdin: .null, stdout: .null, stderr: .file(directory.path + "/err"))
    let termination = process.wait(timeoutSeconds: 10) ?? process.stop(signal: SIGKILL)
    return (termination, FileSystem.readFile(directory.path + "/err").map { String(decoding: $0, as: UTF8.self) } ?? "")
}

enum EgressEditCheck {
    static func strip(_ frame: [UInt8]) -> [UInt8] { Array(frame[0..<12]) + Array(frame[16...]) }
}

@Suite struct OtherRealClientsTests {
    /// slirpvde (vde2's user-mode NAT) is another unmodified vde:// client: it must plug in and
    /// answer ARP for its gateway address 10.0.2.2. Nothing here leaves the machine.
    @Test func slirpvdePlugsInAndAnswersARP() throws {
        let sw = try SwitchProcess()
        let control = try sw.control()
        let slirp = try ChildProcess(path: "/usr/bin/slirpvde", arguments: ["-s", sw.switchDirectory],
                                     stdin: .null, stdout: .null, stderr: .null)
        defer { slirp.stop() }
        let up = try control.waitForEvent("port.up", timeoutSeconds: 10)
        #expect(up?["endpoint"]?["description"]?.stringValue?.hasPrefix("slirpvde") == true)
        let client = try VDEClient(directory: sw.switchDirectory)
        let me = EthernetFrame.mac(macC)
        let arp: [UInt8] = [0, 1, 8, 0, 6, 4, 0, 1] + me + [10, 0, 2, 15] + [0, 0, 0, 0, 0, 0] + [10, 0, 2, 2]
        try client.send(EthernetFrame.make(dst: broadcast, src: macC, etherType: 0x0806, payload: arp))
        var reply: [UInt8]?
        while let frame = try client.receive(timeoutSeconds: 3) {
            if frame[12] == 0x08 && frame[13] == 0x06 && frame[20] == 0 && frame[21] == 2 { reply = frame; break }
        }
        #expect(reply.map { Array($0[28..<32]) } == [10, 0, 2, 2], "no ARP reply for 10.0.2.2 from slirpvde")
        #expect(reply.map { Array($0[0..<6]) } == me)
    }
}
