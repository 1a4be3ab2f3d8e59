// Bad input is counted and dropped, never a crash: garbage on ctl, silent connections, frames of
// every size from 0 to 65535 bytes, and garbage on the control socket. Afterwards the switch
// still forwards correctly.
import Glibc
import JSON
import Posix
import Testing
import VDEWire
import VSquareTesting

@Suite struct SwitchRobustnessTests {
    @Test func garbageHandshakesAndFramesLeaveItForwarding() throws {
        let sw = try SwitchProcess()
        let ctl = sw.switchDirectory + "/ctl"
        var random = SystemRandomNumberGenerator()
        func randomBytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) } }

        // Connections that never say anything must be closed by the switch after its timeout.
        let silent = try (0..<5).map { _ -> Socket in
            let socket = try Socket(family: AF_UNIX, type: Int32(SOCK_STREAM.rawValue))
            try socket.connect(.unix(path: ctl))
            return socket
        }
        let valid = VDEConnectRequest(kind: .port(0), socketPath: sw.directory.path + "/no-such-socket", description: "ghost").encoded()
        for round in 0..<300 {
            let socket = try Socket(family: AF_UNIX, type: Int32(SOCK_STREAM.rawValue))
            try socket.connect(.unix(path: ctl))
            switch round % 6 {
            case 0: try? socket.sendAll(randomBytes(Int.random(in: 1...400, using: &random)))
            case 1: try? socket.sendAll([0xDE, 0xAD, 0xBE, 0xEF] + Array(valid.dropFirst(4)))
            case 2: try? socket.sendAll(valid)
            case 3: break
            case 4: try? socket.sendAll(Array(valid.prefix(50)))
            default:
                var wrongPort = valid
                wrongPort[9] = 0xFF
                wrongPort[10] = 0xFF
                try? socket.sendAll(wrongPort)
            }
            if round % 6 == 2 {
                // A refusal closes the stream without a reply.
                try socket.setTimeout(seconds: 5)
                #expect(try socket.receive(maximum: 200).isEmpty)
            }
            socket.close()
        }

        let a = try VDEClient(directory: sw.switchDirectory, description: "fuzzer")
        let b = try VDEClient(directory: sw.switchDirectory, description: "witness")
        var oversize = 0, undersize = 0
        for _ in 0..<600 {
            let size = Int.random(in: 0...65535, using: &random)
            if size > 9216 { oversize += 1 }
            if size < 14 { undersize += 1 }
            try? a.send(randomBytes(size))
        }
        for size in [0, 1, 13, 9217, 65535] {
            try a.send(randomBytes(size))
            if size > 9216 { oversize += 1 } else if size < 14 { undersize += 1 }
        }
        let marker = EthernetFrame.make(dst: "ff:ff:ff:ff:ff:ff", src: "02:00:00:00:00:aa", payload: Array("still alive".utf8))
        try a.send(marker)
        var found = false
        while let frame = try b.receive(timeoutSeconds: 3) {
            if frame == marker { found = true; break }
        }
        #expect(found, "the switch stopped forwarding after garbage")

        let control = try sw.control()
        let counters = try control.call("counters")
        #expect(counters["totals"]?["drops"]?["oversize"]?.intValue == oversize)
        #expect(counters["totals"]?["drops"]?["undersize"]?.intValue == undersize)
        #expect((counters["handshakes"]?["refused"]?.intValue ?? 0) >= 250)
        #expect(counters["handshakes"]?["accepted"] == 2)
        for socket in silent {
            try socket.setTimeout(seconds: 5)
            #expect(try socket.receive(maximum: 10).isEmpty, "a silent connection was not closed after the handshake timeout")
        }
        #expect(sw.process.wait(timeoutSeconds: 0) == nil, "the switch died")
        a.close()
        b.close()
        #expect(sw.stop() == .exited(0))
    }

    @Test func garbageOnTheControlSocketGetsErrorsNotACrash() throws {
        let sw = try SwitchProcess()
        var random = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let socket = try Socket(family: AF_UNIX, type: Int32(SOCK_STREAM.rawValue))
            try socket.connect(.unix(path: sw.controlPath))
            var bytes = (0..<Int.random(in: 1...2000, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            bytes.append(0x0A)
            try? socket.sendAll(bytes)
            socket.close()
        }
        // An over-long line is refused and the connection closed.
        let long = try Socket(family: AF_UNIX, type: Int32(SOCK_STREAM.rawValue))
        try long.connect(.unix(path: sw.controlPath))
        try long.setTimeout(seconds: 10)
        try? long.sendAll([UInt8](repeating: 0x41, count: (1 << 20) + 70000))
        var reply: [UInt8] = []
        while let chunk = try? long.receive(), !chunk.isEmpty { reply += chunk }
        #expect(String(decoding: reply, as: UTF8.self).contains("invalid_request"))
        let control = try sw.control()
        #expect(try control.call("status")["ok"] == true)
        let values: [JSON] = [nil, true, 1, "x", [1], ["op": 5], ["op": "ports", "port": "one"], ["op": "vlan.set", "vlan": 99999]]
        for value in values {
            let answer = try control.send(raw: value.serialized() + [0x0A])
            #expect(answer["ok"] == false)
            #expect(answer["error"]?["code"]?.stringValue?.isEmpty == false)
        }
    }

    @Test func aStalledClientFillsItsQueueWhileTheOthersKeepTheirRate() throws {
        let sw = try SwitchProcess(arguments: ["--queue-frames", "64"])
        let control = try sw.control()
        let sender = try LibVDEPlug(url: "vde://\(sw.switchDirectory)[1]")
        let fast = try LibVDEPlug(url: "vde://\(sw.switchDirectory)[2]")
        // Debian's vde_plug on port 3, stopped: it reads nothing, so its socket buffer fills, then its queue.
        let stalled = try VDEPlugProcess(url: "vde://\(sw.switchDirectory)[3]")
        #expect(eventually { (try? control.call("status")["active_ports"]) == 3 })
        stalled.process.signal(SIGSTOP)
        defer { stalled.process.signal(SIGCONT) }
        let count = 12_000
        let (received, sending) = pacedNumberedBroadcast(from: sender, source: macA, to: fast, count: count,
                                                         framesPerSecond: 20_000)
        // The fast port got every frame, about as fast as they were sent…
        #expect(received.count == count, "the fast port lost \(count - received.count) frames")
        let ports = try control.call("counters").requiredArray("ports")
        let stalledDrops = ports.first { $0["port"] == 3 }?["drops"]?["queue_full"]?.intValue ?? 0
        let fastDrops = ports.first { $0["port"] == 2 }?["drops"]?["queue_full"]?.intValue ?? 0
        // …while the stalled one's queue overflowed, and each drop was counted on its port.
        #expect(stalledDrops > 0 && stalledDrops < count, "queue_full on the stalled port: \(stalledDrops)")
        #expect(fastDrops == 0)
        #expect(sending < 2 * Double(count) / 20_000 + 1, "sending \(count) frames took \(sending) s")
        let endpoint = try control.call("ports", ["port": 3])["ports"]?[0]?["endpoints"]?[0]
        #expect(endpoint?["queued_frames"] == 64, "the stalled endpoint's queue is full: \(String(describing: endpoint))")
    }

    /// A client that reads nothing for a while gets, once it reads, every frame in the order sent:
    /// what its socket could not hold waited in the switch's queue. Through either send path.
    @Test(arguments: ["io_uring", "sendmmsg"])
    func aClientThatFallsBehindGetsEveryFrameInOrder(sends: String) throws {
        let sw = try SwitchProcess(arguments: ["--sends", sends, "--queue-frames", "16384"])
        let control = try sw.control()
        // Where this kernel (or a container's seccomp policy) has no io_uring, the switch falls back.
        let ringHere = (try? SendRing(capacity: 8)) != nil
        #expect(try control.call("status")["sends"] == JSON(ringHere ? sends : "sendmmsg"))
        let sender = try LibVDEPlug(url: "vde://\(sw.switchDirectory)[1]")
        let late = try LibVDEPlug(url: "vde://\(sw.switchDirectory)[2]")
        #expect(eventually { (try? control.call("status")["active_ports"]) == 2 })
        let count = 12_000
        let source = EthernetFrame.mac(macA)
        // In rounds sent while the switch is stopped, so it finds them waiting and sends them in batches.
        func received(on port: Int) -> Int {
            ((try? control.call("counters").requiredArray("ports").first { $0["port"] == JSON(port) }?["rx_frames"]?.intValue) ?? 0)
        }
        for round in 0..<(count / 100) {
            sw.process.signal(SIGSTOP)
            for sequence in (round * 100)..<((round + 1) * 100) {
                var bytes = frame(broadcast, macA)
                bytes[20] = UInt8(sequence >> 8)
                bytes[21] = UInt8(sequence & 0xFF)
                sender.send(bytes)
            }
            sw.process.signal(SIGCONT)
            #expect(eventually { received(on: 1) == (round + 1) * 100 })
        }
        // More than its socket holds: the rest is waiting in the switch's queue.
        #expect(eventually {
            ((try? control.call("ports", ["port": 2])["ports"]?[0]?["endpoints"]?[0]?["queued_frames"]?.intValue) ?? 0) > 0
        })
        var sequences: [Int] = []
        while let received = late.receive(timeoutSeconds: 1) {
            if received.count >= 22 && Array(received[6..<12]) == source { sequences.append(Int(received[20]) << 8 | Int(received[21])) }
        }
        #expect(sequences.count == count)
        #expect(sequences == Array(0..<count), "first out of order at \(String(describing: sequences.indices.first { sequences[$0] != $0 }))")
        let port = try control.call("counters").requiredArray("ports").first { $0["port"] == 2 }
        #expect(port?["tx_frames"]?.intValue == count)
        #expect(port?["drops"]?["queue_full"] == 0)
    }
}
