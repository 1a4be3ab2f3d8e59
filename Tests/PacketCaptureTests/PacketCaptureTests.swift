// Capture filters compiled by the real libpcap and run on frames in-process; the pcap stream read
// back by Wireshark's own reader (Debian's tshark), as a user's `curl … | tshark -r -` would.
import Glibc
import PacketCapture
import Posix
import Testing

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

@Suite(.enabled(if: FileSystem.exists("/usr/bin/tshark"), "tshark (ops/debian-packages.txt) reads the stream"))
struct PcapStreamTests {
    func tshark(_ bytes: [UInt8], fields: [String]) throws -> [String] {
        let directory = "/tmp/vsq-pcap-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileSystem.makeDirectories(directory, mode: 0o755)
        defer { FileSystem.removeTree(directory) }
        try FileSystem.writeFile(directory + "/capture.pcap", bytes)
        let result = try ProcessRunner.run("/usr/bin/tshark", ["-r", directory + "/capture.pcap", "-T", "fields"] + fields.flatMap { ["-e", $0] },
                                           environment: ["PATH": "/usr/bin:/bin", "HOME": directory], timeoutSeconds: 60)
        #expect(result.exitCode == 0, "\(String(decoding: result.stderr, as: UTF8.self))")
        return String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
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
