// The switch's control ops that no other test drives, against a live vsquare-switch with Debian's
// libvdeplug clients: trace, counters.reset, version, shutdown, macs.flush with filters, and
// config.set of max_frame_size (the receive batch is rebuilt) and mac_table_capacity.
import Glibc
import JSON
import Posix
import Testing
import VDEWire
import VSquareTesting

@Suite(.serialized) struct SwitchControlOpsTests {
    /// A switch with clients on ports 1 and 2 that have each sent one broadcast (so both are learned).
    func learnedPair(_ sw: SwitchProcess) throws -> (LibVDEPlug, LibVDEPlug) {
        let a = try LibVDEPlug(url: "vde://\(sw.switchDirectory)[1]")
        let b = try LibVDEPlug(url: "vde://\(sw.switchDirectory)[2]")
        a.send(frame(broadcast, macA, tag: "a"))
        #expect(b.receive() == frame(broadcast, macA, tag: "a"))
        b.send(frame(broadcast, macB, tag: "b"))
        #expect(a.receive() == frame(broadcast, macB, tag: "b"))
        return (a, b)
    }

    func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
    }

    /// The data path keeps the nice value it was started with unless --nice asks for another (tests
    /// run as root, so -10 is granted); status says what it has, and so does the kernel.
    @Test func theSwitchRunsAtTheNiceValueItAsksFor() throws {
        func kernelNice(_ pid: pid_t) -> Int {
            // Field 19 of /proc/PID/stat, counted after the ")" that ends the command name.
            let stat = String(decoding: FileSystem.readFile("/proc/\(pid)/stat") ?? [], as: UTF8.self)
            let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
            return Int(fields[16])!
        }
        let byDefault = try SwitchProcess()
        #expect(try byDefault.control().call("status")["nice"] == JSON(ProcessPriority.current))
        let raised = try SwitchProcess(arguments: ["--nice", "-10"])
        #expect(try raised.control().call("status")["nice"] == -10)
        #expect(kernelNice(raised.process.pid) == -10)
        let asked = try SwitchProcess(arguments: ["--nice", "3"])
        #expect(try asked.control().call("status")["nice"] == 3)
        #expect(kernelNice(asked.process.pid) == 3)
    }

    @Test func traceSaysWhatWouldHappenAndChangesNothing() throws {
        let sw = try SwitchProcess()
        let control = try sw.control()
        let plugs = try learnedPair(sw)
        defer { withExtendedLifetime(plugs) {} }
        let before = try control.call("counters")["totals"]
        let known = try control.call("trace", ["port": 1, "frame": JSON(hex(frame(macB, macA)))])
        #expect(known["action"] == "unicast" && known["outputs"]?[0]?["port"] == 2, "\(known)")
        let unknown = try control.call("trace", ["port": 1, "frame": JSON(hex(frame(macC, macA)))])
        #expect(unknown["action"] == "flood")
        #expect(Set(try unknown.requiredArray("outputs").compactMap { $0["port"]?.intValue }).isSuperset(of: [2]))
        #expect(!(try unknown.requiredArray("outputs")).contains { $0["port"] == 1 }, "a flood never goes back to its port")
        let short = try control.call("trace", ["port": 1, "frame": "0102"])
        #expect(short["action"] == "drop", "\(short)")
        #expect(try control.request("trace", ["port": 1, "frame": "xyz"])["error"]?["code"] == "invalid_field")
        // A trace learns nothing and counts nothing.
        _ = try control.call("trace", ["port": 2, "frame": JSON(hex(frame(broadcast, macC)))])
        #expect(!(try control.call("macs").requiredArray("macs")).contains { $0["mac"]?.stringValue == macC })
        #expect(try control.call("counters")["totals"] == before)
    }

    @Test func countersResetZeroesOnePortOrAll() throws {
        let sw = try SwitchProcess()
        let control = try sw.control()
        let plugs = try learnedPair(sw)
        defer { withExtendedLifetime(plugs) {} }
        func rx(_ port: Int) throws -> Int {
            try #require(try control.call("ports", ["port": JSON(port)])["ports"]?[0]?["counters"]?["rx_frames"]?.intValue)
        }
        #expect(try rx(1) == 1 && rx(2) == 1)
        try control.call("counters.reset", ["port": 1])
        #expect(try rx(1) == 0 && rx(2) == 1)
        try control.call("counters.reset")
        #expect(try rx(2) == 0)
        #expect(try control.call("counters")["totals"]?["rx_frames"] == 0)
        // Learning is not a counter: the MAC table keeps both.
        #expect(try control.call("macs")["count"] == 2)
    }

    @Test func versionAndShutdown() throws {
        let sw = try SwitchProcess()
        let control = try sw.control()
        let version = try control.call("version")
        #expect(try version.requiredString("version").hasPrefix("0."))
        #expect(version["protocol"]?.intValue != nil, "\(version)")
        let plug = try VDEPlugProcess(url: "vde://" + sw.switchDirectory)
        #expect(eventually { (try? control.call("status")["active_ports"]) == 1 })
        try control.call("shutdown")
        #expect(sw.process.wait(timeoutSeconds: 5) == .exited(0))
        // vde_plug notices either its ctl stream closing (exit 0) or its data socket failing first (exit 1).
        let unplugged = plug.process.wait(timeoutSeconds: 5)
        #expect(unplugged == .exited(0) || unplugged == .exited(1), "vde_plug did not exit when the switch shut down: \(String(describing: unplugged))")
        #expect(!FileSystem.exists(sw.switchDirectory + "/ctl"), "the switch removed its ctl socket")
    }

    @Test func macsFlushByPortAndByVLAN() throws {
        let sw = try SwitchProcess()
        let control = try sw.control()
        try control.call("vlan.create", ["vlan": 10])
        try control.call("vlan.set", ["vlan": 10, "untagged": [3], "tagged": []])
        let plugs = try learnedPair(sw)
        defer { withExtendedLifetime(plugs) {} }
        let c = try LibVDEPlug(url: "vde://\(sw.switchDirectory)[3]")
        c.send(frame(broadcast, macC, tag: "c"))
        #expect(eventually { (try? control.call("macs")["count"]) == 3 })
        #expect(try control.call("macs.flush", ["port": 1])["flushed"] == 1)
        #expect(Set(try control.call("macs").requiredArray("macs").compactMap { $0["mac"]?.stringValue }) == [macB, macC])
        #expect(try control.call("macs.flush", ["vlan": 10])["flushed"] == 1)
        #expect(try control.call("macs").requiredArray("macs").compactMap { $0["mac"]?.stringValue } == [macB])
        #expect(try control.call("macs.flush", ["vlan": 10, "port": 2])["flushed"] == 0, "both filters must match")
        #expect(try control.call("macs.flush", ["vlan": 1, "port": 2])["flushed"] == 1)
        #expect(try control.call("macs")["count"] == 0)
    }

    @Test func maxFrameSizeRebuildsTheReceiveBatch() throws {
        let sw = try SwitchProcess()
        let control = try sw.control()
        let (a, b) = try learnedPair(sw)
        let marker = frame(macB, macA, tag: "marker")
        // Lowered: a 9000-byte frame (under the default 9216) is now too long and dropped.
        #expect(try control.call("config.set", ["max_frame_size": 1518])["max_frame_size"] == 1518)
        a.send(frame(macB, macA, size: 9000))
        a.send(marker)
        #expect(try b.frames(before: marker).map(\.count) == [], "a 9000-byte frame crossed a 1518-byte switch")
        // Raised past the receive batch's slots (sized for the old maximum): a 15000-byte frame crosses whole.
        #expect(try control.call("config.set", ["max_frame_size": 16000])["max_frame_size"] == 16000)
        let large = frame(macB, macA, size: 15000)
        a.send(large)
        let received = b.receive()
        #expect(received?.count == 15000 && received == large, "got \(received?.count ?? 0) bytes")
        #expect(try control.call("counters")["totals"]?["drops"]?["oversize"]?.intValue ?? -1 >= 1)
        #expect(try control.request("config.set", ["max_frame_size": 50])["error"]?["code"] == "invalid_field")
    }

    @Test func macTableCapacityRefusesBeyondIt() throws {
        let sw = try SwitchProcess()
        let control = try sw.control()
        #expect(try control.call("config.set", ["mac_table_capacity": 2])["mac_table_capacity"] == 2)
        let a = try LibVDEPlug(url: "vde://" + sw.switchDirectory)
        let b = try LibVDEPlug(url: "vde://" + sw.switchDirectory)
        for mac in [macA, macB, macC] {
            a.send(frame(broadcast, mac))
            #expect(b.receive() == frame(broadcast, mac))
        }
        let table = try control.call("counters")["mac_table"]
        #expect(table?["entries"] == 2 && table?["capacity"] == 2 && table?["refused"] == 1, "\(String(describing: table))")
        #expect(try control.call("config.get")["mac_table_capacity"] == 2)
    }
}
