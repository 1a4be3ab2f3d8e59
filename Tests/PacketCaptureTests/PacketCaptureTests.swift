// Capture filters compiled by the real libpcap and run on frames in-process; the pcap stream read
// back by Wireshark's own reader (Debian's tshark), as a user's `curl … | tshark -r -` would.
import Glibc
import PacketCapture
import Posix
import Testing
import VSquareTesting

/// An ICMP echo request from 10.0.0.1 to 10.0.0.2 (98 bytes on the wire, as ping sends by default).
let echoRequest: [UInt8] = {
    var frame: [UInt8] = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00]
    frame += [0x45, 0, 0, 84, 0x12, 0x34, 0x40, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]   // IPv4, ICMP, 84 bytes
    frame += [8, 0, 0, 0, 0, 1, 0, 1] + [UInt8](repeating: 0x61, count: 56)                  // echo request, id 1, seq 1
    return frame
}()

/// Who has 10.0.0.2? (broadcast, 42 bytes.)
let arpRequest: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x06,
                           0, 1, 0x08, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0, 0x01, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2]

@Suite struct CaptureFilterTests {
    @Test func anExpressionKeepsWhatItNamesAndNothingElse() throws {
        let icmp = try CaptureFilter("icmp")
        #expect(icmp.keeps(echoRequest) && !icmp.keeps(arpRequest))
        let arp = try CaptureFilter("arp and ether broadcast")
        #expect(arp.keeps(arpRequest) && !arp.keeps(echoRequest))
        // (`dst host` alone matches the ARP request too: libpcap reads its target address.)
        let host = try CaptureFilter("ether src 02:00:00:00:00:01 and ip dst host 10.0.0.2")
        #expect(host.keeps(echoRequest) && !host.keeps(arpRequest))
        let everything = try CaptureFilter("")
        #expect(everything.keeps(echoRequest) && everything.keeps(arpRequest))
        #expect(!icmp.keeps([]) && !icmp.keeps([0x02, 0x00]))
    }

    @Test func anExpressionLibpcapRefusesIsRefusedWithItsWords() {
        for (expression, words) in [("icmp and", "syntax error"), ("tcp port 99999", "port"), ("ether host nonsense!", "")] {
            #expect {
                _ = try CaptureFilter(expression)
            } throws: { error in
                guard let invalid = error as? CaptureFilter.Invalid else { return false }
                return !invalid.description.isEmpty && invalid.description.contains(words)
            }
        }
    }
}

@Suite(.enabled(if: Tshark.isInstalled, "tshark (ops/debian-packages.txt) reads the stream"))
struct PcapStreamTests {
    func tshark(_ bytes: [UInt8], fields: [String]) throws -> [String] {
        try Tshark.fields(bytes, fields).map { $0.joined(separator: "\t") }
    }

    @Test func wiresharksReaderDecodesTheFramesTheirTimesAndTheirCut() throws {
        let stream = PcapStream()
        let bytes = stream.header + stream.record(echoRequest, at: 1_764_744_034.25) + stream.record(arpRequest, at: 1_764_744_035.5)
        let lines = try tshark(bytes, fields: ["frame.time_epoch", "frame.len", "eth.type", "ip.dst", "icmp.type", "arp.opcode"])
        #expect(lines.count == 2, "\(lines)")
        let echo = lines[0].split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        #expect(Double(echo[0]).map { abs($0 - 1_764_744_034.25) < 1e-6 } == true && echo[1] == "98" && echo[2] == "0x0800", "\(echo)")
        #expect(echo[3] == "10.0.0.2" && echo[4] == "8", "\(echo)")
        let arp = lines[1].split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        #expect(arp[1] == "42" && arp[2] == "0x0806" && arp[5] == "1", "\(arp)")
        // A snaplen keeps the start of each frame and says how long it was.
        let cut = PcapStream(snaplen: 34)
        let cutLines = try tshark(cut.header + cut.record(echoRequest, at: 1), fields: ["frame.cap_len", "frame.len", "ip.dst"])
        #expect(cutLines == ["34\t98\t10.0.0.2"], "\(cutLines)")
    }
}

@Suite struct CaptureTapTests {
    /// The tap's unread bytes, taken (as the worker's write would) and parsed back as records.
    func take(_ tap: CaptureTap) -> [UInt8] {
        let bytes = Array(tap.pending)
        tap.consume(bytes.count)
        return bytes
    }

    func offer(_ tap: CaptureTap, _ frame: [UInt8]) {
        frame.withUnsafeBytes { tap.offer(FramePieces($0.baseAddress!, $0.count), seconds: 1_700_000_000, microseconds: 5) }
    }

    @Test func aFullBufferDropsAndCountsWhileWhatWasTakenMakesRoomAgain() throws {
        let point = CapturePoint(channels: [3], received: true, sent: false)
        #expect(point.matches(channel: 3, sent: false) && !point.matches(channel: 3, sent: true) && !point.matches(channel: 2, sent: false))
        // Room for the header and exactly two 98-byte echo requests (16 + 98 each).
        let tap = CaptureTap(point: point, filter: try CaptureFilter("icmp"), snaplen: 98, count: nil, bufferBytes: 24 + 2 * 114)
        offer(tap, echoRequest)
        offer(tap, arpRequest)
        offer(tap, echoRequest)
        offer(tap, echoRequest)
        #expect(tap.tally == CaptureTap.Tally(frames: 2, bytes: 196, dropped: 1, filteredOut: 1))
        var stream = take(tap)
        offer(tap, echoRequest)
        stream += take(tap)
        let records = try #require(PcapRecords(stream))
        #expect(records.records.map(\.frame) == [echoRequest, echoRequest, echoRequest])
        #expect(tap.tally.frames == 3 && tap.tally.dropped == 1)
    }

    @Test func aFrameInPiecesIsCutToTheSnaplenAndTheCountEndsTheTap() throws {
        let tap = CaptureTap(point: CapturePoint(channels: [0], received: false, sent: true), filter: nil, snaplen: 20, count: 2)
        let tag: [UInt8] = [0x81, 0x00, 0x00, 0x0A]
        echoRequest.withUnsafeBytes { frame in
            tag.withUnsafeBytes { tag in
                let pieces = FramePieces(frame.baseAddress!, 12, tag.baseAddress!, 4, frame.baseAddress! + 12, frame.count - 12)
                for _ in 0..<3 { tap.offer(pieces, seconds: 1, microseconds: 0) }
            }
        }
        #expect(tap.isComplete && tap.tally.frames == 2)
        let records = try #require(PcapRecords(take(tap)))
        #expect(records.records.map(\.frame) == Array(repeating: Array((Array(echoRequest[..<12]) + tag + Array(echoRequest[12...])).prefix(20)), count: 2))
        #expect(records.records.map(\.length) == [102, 102])
    }
}
