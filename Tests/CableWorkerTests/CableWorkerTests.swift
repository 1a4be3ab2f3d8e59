// vsquare-cable between two real vsquare-switch workers, with real clients on both sides:
// frames and MAC learning across, cut and restore, impairment accuracy through real sockets
// (generous bounds), and re-plugging after a switch restarts.
import Glibc
import JSON
import Posix
import Testing
import VDEWire
import VSquareTesting

let macA = "02:00:00:00:00:0a", macB = "02:00:00:00:00:0b"
let broadcast = "ff:ff:ff:ff:ff:ff"

/// Two switches joined by a cable, with Debian's libvdeplug plugged into each (as qemu would be).
final class CabledPair: @unchecked Sendable {
    let s1: SwitchProcess
    let s2: SwitchProcess
    let cable: CableProcess
    let left: LibVDEPlug
    let right: LibVDEPlug

    init(extra: [String] = []) throws {
        s1 = try SwitchProcess(name: "s1")
        s2 = try SwitchProcess(name: "s2")
        cable = try CableProcess(a: s1.switchDirectory, b: s2.switchDirectory, in: s1.directory, extra: extra)
        left = try LibVDEPlug(url: "vde://" + s1.switchDirectory)
        right = try LibVDEPlug(url: "vde://" + s2.switchDirectory)
    }

    func impair(_ fields: JSONObject) throws {
        try cable.control().call("impairments.set", ["a_to_b": .object(fields)])
    }

    /// Sends `count` numbered frames left→right at `framesPerSecond` (paced by the clock, so a slow
    /// wake-up is caught up rather than stretching the run), while a thread reads the right side;
    /// returns the numbers received.
    func blast(_ count: Int, size: Int = 100, framesPerSecond: Double = 20_000) -> [Int] {
        let collected = Collected()
        let right = self.right
        let reader = Thread {
            while let frame = right.receive(timeoutSeconds: 1) {
                if frame.count >= 23 && Array(frame[6..<12]) == EthernetFrame.mac(macA) {
                    collected.append(Int(frame[20]) << 16 | Int(frame[21]) << 8 | Int(frame[22]))
                }
            }
        }
        let pacer = Pacer(framesPerSecond: framesPerSecond)
        for sequence in 0..<count {
            var bytes = EthernetFrame.make(dst: macB, src: macA, size: size)
            bytes[20] = UInt8(sequence >> 16 & 0xFF)
            bytes[21] = UInt8(sequence >> 8 & 0xFF)
            bytes[22] = UInt8(sequence & 0xFF)
            pacer.wait(for: sequence)
            left.send(bytes)
        }
        reader.join()
        return collected.values
    }
}

@Suite(.serialized) struct CableWorkerTests {
    @Test func framesAndLearningCrossTheCableWithVdePlugEnds() throws {
        let s1 = try SwitchProcess(name: "s1")
        let s2 = try SwitchProcess(name: "s2")
        let cable = try CableProcess(a: s1.switchDirectory, b: s2.switchDirectory, in: s1.directory)
        let a = try VDEPlugProcess(url: "vde://" + s1.switchDirectory)
        let b = try VDEPlugProcess(url: "vde://" + s2.switchDirectory)
        #expect(eventually { (try? s1.control().call("status")["active_ports"]) == 2 })
        #expect(eventually { (try? s2.control().call("status")["active_ports"]) == 2 })
        try a.send(EthernetFrame.make(dst: broadcast, src: macA, payload: Array("over the cable".utf8)))
        #expect(try b.receive() == EthernetFrame.make(dst: broadcast, src: macA, payload: Array("over the cable".utf8)))
        try b.send(EthernetFrame.make(dst: macA, src: macB, payload: Array("back".utf8)))
        #expect(try a.receive() == EthernetFrame.make(dst: macA, src: macB, payload: Array("back".utf8)))
        // s2 learned A behind the cable's port, s1 learned B behind its cable port.
        let cablePortOnS2 = try #require(try s2.control().call("ports").requiredArray("ports").first {
            $0["endpoints"]?[0]?["description"]?.stringValue?.hasPrefix("vsquare-cable") == true
        }, "no port of s2 holds the cable").required("port")
        let learned = try s2.control().call("macs").requiredArray("macs")
        #expect(learned.contains { $0["mac"]?.stringValue == macA && $0["port"] == cablePortOnS2 })
        let counters = try cable.control().call("counters")
        #expect(counters["a_to_b"]?["frames_out"] == 1 && counters["b_to_a"]?["frames_out"] == 1)
    }

    @Test func cutDropsAndRestoreCarriesAgain() throws {
        let pair = try CabledPair()
        let events = try pair.cable.control()
        _ = try events.call("status")
        try events.call("cut")
        #expect(try events.waitForEvent("cable.cut") != nil)
        #expect(pair.blast(50).isEmpty)
        #expect(try events.call("status")["state"] == "cut")
        try events.call("restore")
        #expect(try events.waitForEvent("cable.restored") != nil)
        #expect(pair.blast(50).count == 50)
        #expect(try events.call("counters")["a_to_b"]?["drops"]?["cut"] == 50)
    }

    @Test func aSwitchThatStallsCostsDelayNotLoss() throws {
        let pair = try CabledPair()
        let count = 6000
        // s2 stops reading: what the cable's socket buffer cannot hold waits in the cable's queue.
        pair.s2.process.signal(SIGSTOP)
        var stopped = true
        defer { if stopped { pair.s2.process.signal(SIGCONT) } }
        for sequence in 0..<count {
            var bytes = EthernetFrame.make(dst: macB, src: macA, size: 1000)
            bytes[20] = UInt8(sequence >> 8 & 0xFF)
            bytes[21] = UInt8(sequence & 0xFF)
            pair.left.send(bytes)
            if sequence % 100 == 99 { usleep(1000) }
        }
        let control = try pair.cable.control()
        #expect(eventually(timeoutSeconds: 10) { (try? control.call("counters")["a_to_b"]?["frames_in"]) == JSON(count) })
        let queued = try control.call("status")["ends"]?[1]?["queued_frames"]?.intValue ?? 0
        #expect(queued > 0, "the socket buffer alone held every frame: the queue was not exercised")
        pair.s2.process.signal(SIGCONT)
        stopped = false
        var seen = Set<Int>()
        while let frame = pair.right.receive(timeoutSeconds: 2) {
            if frame.count >= 22 && Array(frame[6..<12]) == EthernetFrame.mac(macA) { seen.insert(Int(frame[20]) << 8 | Int(frame[21])) }
        }
        #expect(seen.count == count, "lost \(count - seen.count) of \(count) (\(queued) were queued)")
        #expect(try control.call("counters")["a_to_b"]?["drops"]?["queue"] == 0)
    }

    @Test func lossIsAccurateThroughRealSockets() throws {
        let pair = try CabledPair()
        try pair.impair(["loss_pct": 10])
        let received = pair.blast(20000, framesPerSecond: 10_000).count
        let lost = Double(20000 - received) / 200
        #expect(abs(lost - 10) <= 1.5, "lost \(lost)%")
    }

    @Test func delayIsAccurate() throws {
        let pair = try CabledPair()
        try pair.impair(["delay_ms": 20])
        var latencies: [Double] = []
        for _ in 0..<60 {
            let started = Clock.monotonicNanoseconds()
            pair.left.send(EthernetFrame.make(dst: macB, src: macA))
            guard pair.right.receive(timeoutSeconds: 1) != nil else { continue }
            latencies.append(Double(Clock.monotonicNanoseconds() - started) / 1e6)
        }
        latencies.sort()
        #expect(latencies.count == 60)
        // Never early; late by scheduling on a loaded machine, so the upper bound is wider.
        let median = latencies[latencies.count / 2]
        #expect(median >= 19.5 && median <= 25, "median \(median) ms")
    }

    @Test func rateLimitIsAccurate() throws {
        let pair = try CabledPair()
        try pair.impair(["rate_kbit": 2000, "queue_frames": 200])
        // 1000-byte frames offered at 40 Mbit/s (paced by the clock): the cable passes 2 Mbit/s, and its
        // short queue overflows.
        let started = Clock.monotonicNanoseconds()
        var first: UInt64?
        var last: UInt64 = 0
        var bytes = 0
        let sender = Thread {
            let pacer = Pacer(framesPerSecond: 5000)
            for frame in 0..<5000 {
                pacer.wait(for: frame)
                pair.left.send(EthernetFrame.make(dst: macB, src: macA, size: 1000))
            }
        }
        while let frame = pair.right.receive(timeoutSeconds: 1) {
            let now = Clock.monotonicNanoseconds()
            if first == nil { first = now } else { bytes += frame.count }
            last = now
        }
        sender.join()
        let seconds = Double(last - (first ?? started)) / 1e9
        let mbit = Double(bytes) * 8 / seconds / 1e6
        #expect(abs(mbit - 2) <= 0.2, "\(mbit) Mbit/s over \(seconds) s")
        #expect((try pair.cable.control().call("counters")["a_to_b"]?["drops"]?["queue"]?.intValue ?? 0) > 0)
    }

    @Test func duplicationAndMTU() throws {
        let pair = try CabledPair()
        try pair.impair(["dup_pct": 20])
        let received = pair.blast(5000)
        let extra = Double(received.count - Set(received).count) / 50
        #expect(abs(extra - 20) <= 3, "duplicated \(extra)%")
        try pair.impair(["dup_pct": nil, "mtu": 500])
        pair.left.send(EthernetFrame.make(dst: macB, src: macA, size: 514))
        pair.left.send(EthernetFrame.make(dst: macB, src: macA, size: 515))
        let marker = EthernetFrame.make(dst: macB, src: macA, payload: Array("marker".utf8))
        pair.left.send(marker)
        let sizes = try pair.right.frames(before: marker).map(\.count)
        #expect(sizes == [514])
        #expect(try pair.cable.control().call("counters")["a_to_b"]?["drops"]?["mtu"] == 1)
        let settings = try pair.cable.control().call("impairments.get")
        #expect(settings["a_to_b"]?["dup_pct"] == 0.0 && settings["a_to_b"]?["mtu"] == 500)
        #expect(settings["seed"] == "11")
    }

    @Test func controlOpsHelpVersionCountersResetAndShutdown() throws {
        let pair = try CabledPair()
        let control = try pair.cable.control()
        let ops = try control.call("help").requiredArray("ops").compactMap { $0["op"]?.stringValue }
        for op in ["help", "version", "status", "impairments.get", "impairments.set", "cut", "restore", "counters", "counters.reset", "shutdown"] {
            #expect(ops.contains(op), "help lacks \(op)")
        }
        #expect(try control.call("version").requiredString("version").hasPrefix("0."))
        #expect(pair.blast(10).count == 10)
        #expect(try control.call("counters")["a_to_b"]?["frames_out"] == 10)
        try control.call("counters.reset")
        let zeroed = try control.call("counters")
        #expect(zeroed["a_to_b"]?["frames_out"] == 0 && zeroed["a_to_b"]?["frames_in"] == 0 && zeroed["b_to_a"]?["frames_in"] == 0, "\(zeroed)")
        // Resetting counters leaves the impairments alone.
        try pair.impair(["delay_ms": 3])
        try control.call("counters.reset")
        #expect(try control.call("impairments.get")["a_to_b"]?["delay_ms"] == 3.0)
        // Shutdown unplugs both ends and exits 0.
        #expect(eventually { (try? pair.s1.control().call("status")["active_ports"]) == 2 })
        try control.call("shutdown")
        #expect(pair.cable.process.wait(timeoutSeconds: 5) == .exited(0))
        #expect(eventually { (try? pair.s1.control().call("status")["active_ports"]) == 1 }, "the cable's end on s1 is unplugged")
        #expect(eventually { (try? pair.s2.control().call("status")["active_ports"]) == 1 }, "the cable's end on s2 is unplugged")
    }

    @Test func anEndPlugsInAgainWhenItsSwitchReturns() throws {
        let pair = try CabledPair()
        let control = try pair.cable.control()
        _ = try control.call("status")
        let directory = pair.s2.switchDirectory
        pair.s2.process.signal(SIGKILL)
        _ = pair.s2.process.wait(timeoutSeconds: 5)
        #expect(try control.waitForEvent("end.down")?["side"] == "b")
        let again = try ChildProcess(path: DaemonProcess.productsDirectory + "/vsquare-switch", arguments: ["--dir", directory],
                                     stdin: .null, stdout: .null, stderr: .null)
        defer { again.stop() }
        #expect(try control.waitForEvent("end.up", timeoutSeconds: 10)?["side"] == "b")
        let right = try VDEClient(directory: directory)
        pair.left.send(EthernetFrame.make(dst: broadcast, src: macA, payload: Array("after".utf8)))
        #expect(try right.receive() == EthernetFrame.make(dst: broadcast, src: macA, payload: Array("after".utf8)))
    }
}
