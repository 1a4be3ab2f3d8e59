// Packet capture inside vsquare-switch: `capture.start` streams pcap to a listening socket (the
// test's, as vsquared's would be) with the frames a port receives and sends, as they leave (tags
// inserted), kept by a libpcap filter, ended by a count or by `capture.stop`; a reader that never
// reads loses captured frames (counted) and never slows forwarding.
import Glibc
import JSON
import Posix
import Testing
import VDEWire
import VSquareTesting

/// The test's end of a capture: a listening socket the switch connects to.
final class CaptureListener {
    let path: String
    let listener: Socket
    private(set) var stream: Socket?

    init(in directory: TempDirectory, name: String = "cap") throws {
        path = directory.path + "/" + name + ".sock"
        listener = try Socket.listenUnix(path)
    }

    /// Starts the capture and takes the switch's connection.
    func start(_ control: ControlClient, _ parameters: JSONObject) throws -> Int {
        var parameters = parameters
        parameters["socket"] = JSON(path)
        let reply = try control.call("capture.start", parameters)
        #expect(try listener.waitReadable(timeoutSeconds: 5))
        guard case .done(let socket) = try listener.accept() else { throw ControlClient.Failure.closed }
        stream = socket
        return try reply.requiredInt("capture")
    }

    /// Everything until the switch ends the stream (or `timeoutSeconds` pass).
    func readToEnd(timeoutSeconds: Double = 5) throws -> [UInt8] {
        guard let stream else { return [] }
        var bytes: [UInt8] = []
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
        while Clock.monotonicNanoseconds() < deadline {
            guard try stream.waitReadable(timeoutSeconds: 0.2) else { continue }
            guard case .done(let count) = try stream.read(into: &bytes, maximum: 65536) else { continue }
            if count == 0 { return bytes }
        }
        return bytes
    }
}

@Suite(.serialized) struct SwitchCaptureTests {
    @Test func aPortCaptureHoldsWhatThePortReceivesAndSendsThenEndsAtItsCount() throws {
        let sw = try SwitchProcess()
        let control = try sw.control()
        let a = try LibVDEPlug(url: "vde://\(sw.switchDirectory)[1]")
        let b = try LibVDEPlug(url: "vde://\(sw.switchDirectory)[2]")
        #expect(eventually { (try? control.call("status")["active_ports"]) == 2 })
        let capture = try CaptureListener(in: sw.directory)
        let id = try capture.start(control, ["port": 1, "count": 2])
        let fromA = frame(broadcast, macA, tag: "a says hello")
        let toA = frame(macA, macB, size: 1514)
        a.send(fromA)
        #expect(b.receive() == fromA)
        b.send(toA)
        #expect(a.receive() == toA)
        b.send(frame(broadcast, macB, tag: "past the count"))
        let records = try #require(PcapRecords(try capture.readToEnd()))
        #expect(records.records.map(\.frame) == [fromA, toA])
        #expect(records.leftover == 0 && records.snaplen == 65535)
        let summary = try control.call("capture.stop", ["capture": JSON(id)])
        #expect(summary["frames"] == 2 && summary["dropped"] == 0 && summary["ended_by"] == "count" && summary["state"] == "ended")
    }

    @Test func aFilterKeepsOnlyWhatItNamesAndFramesLeaveTaggedOnATrunk() throws {
        let sw = try SwitchProcess()
        let control = try sw.control()
        try control.call("vlan.create", ["vlan": 10])
        try control.call("vlan.set", ["vlan": 10, "untagged": [1, 2], "tagged": [3]])
        let a = try LibVDEPlug(url: "vde://\(sw.switchDirectory)[1]")
        let b = try LibVDEPlug(url: "vde://\(sw.switchDirectory)[2]")
        let trunk = try LibVDEPlug(url: "vde://\(sw.switchDirectory)[3]")
        #expect(eventually { (try? control.call("status")["active_ports"]) == 3 })
        let capture = try CaptureListener(in: sw.directory)
        let id = try capture.start(control, ["port": 3, "direction": "tx", "filter": JSON("ether src \(macB)"), "snaplen": 40])
        a.send(frame(broadcast, macA, tag: "from a"))
        b.send(frame(broadcast, macB, size: 200))
        #expect(trunk.receive() != nil && trunk.receive() != nil)
        let summary = try control.call("capture.stop", ["capture": JSON(id)])
        let records = try #require(PcapRecords(try capture.readToEnd()))
        // Only b's frame, as it left the trunk: 802.1Q tag for VLAN 10 inserted, cut to 40 bytes of 204.
        let tagged = frame(broadcast, macB, vlan: 10, size: 204)
        #expect(records.records.map(\.frame) == [Array(tagged.prefix(40))] && records.records.map(\.length) == [204])
        #expect(summary["frames"] == 1 && summary["filtered_out"] == 1 && summary["ended_by"] == "stopped")
    }

    @Test func aFilterLibpcapRefusesIsRefusedWithItsMessage() throws {
        let sw = try SwitchProcess()
        let control = try sw.control()
        let capture = try CaptureListener(in: sw.directory)
        let answer = try control.request("capture.start", ["port": 1, "filter": "tcp port and", "socket": JSON(capture.path)])
        #expect(answer["error"]?["code"] == "invalid_filter")
        #expect(answer["error"]?["message"]?.stringValue?.contains("syntax error") == true, "\(answer)")
        #expect(try control.request("capture.start", ["port": 1, "socket": JSON(capture.path + ".missing")])["error"]?["code"] == "capture_socket")
        #expect(try control.call("captures")["captures"]?.arrayValue?.isEmpty == true)
        #expect(try control.call("status")["name"] != nil, "the switch still answers")
    }

    @Test func aReaderThatNeverReadsLosesCapturedFramesButNeverSlowsForwarding() throws {
        let sw = try SwitchProcess()
        let control = try sw.control()
        let sender = try LibVDEPlug(url: "vde://\(sw.switchDirectory)[1]")
        let sink = try LibVDEPlug(url: "vde://\(sw.switchDirectory)[2]")
        #expect(eventually { (try? control.call("status")["active_ports"]) == 2 })
        // Never read: the socket's buffer fills, then the tap's 2 MiB; 12 000 frames of 1514 bytes are 18 MB.
        let capture = try CaptureListener(in: sw.directory)
        let id = try capture.start(control, ["port": 2, "direction": "tx"])
        let count = 12_000
        let (received, sending) = pacedNumberedBroadcast(from: sender, source: macA, to: sink, count: count,
                                                         framesPerSecond: 20_000, size: 1514)
        #expect(received.count == count, "the sink lost \(count - received.count) frames")
        #expect(sending < 2 * Double(count) / 20_000 + 1, "sending \(count) frames took \(sending) s")
        let summary = try #require(try control.call("captures")["captures"]?.arrayValue?.first { $0["capture"] == JSON(id) })
        let frames = try summary.requiredInt("frames"), dropped = try summary.requiredInt("dropped")
        #expect(dropped > 0 && frames + dropped == count, "captured \(frames), dropped \(dropped)")
        #expect(summary["state"] == "capturing")
        // Reading now gets the buffered frames, whole, after stop.
        _ = try control.call("capture.stop", ["capture": JSON(id)])
        let records = try #require(PcapRecords(try capture.readToEnd(timeoutSeconds: 10)))
        #expect(records.records.count == frames && records.leftover == 0)
    }
}
