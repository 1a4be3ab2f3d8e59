// VDE wire encodings against the bytes real clients send (vde-wire.md §1.3, §1.4, §2).
import Testing
import VDEWire

@Suite struct VDEConnectRequestTests {
    @Test func encodesWhatVdePlugSends() {
        let request = VDEConnectRequest(kind: .port(0), socketPath: "/tmp/vdet/sw/.06257-00000", description: "vdeplug: user=root pid=6257")
        let bytes = request.encoded()
        #expect(bytes.count == 149)
        #expect(Array(bytes[0..<14]) == [0xCE, 0xFA, 0xED, 0xFE, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0])
        #expect(Array(bytes[14..<20]) == Array("/tmp/v".utf8))
        #expect(bytes[40] == 0 && bytes[121] == 0)
        #expect(Array(bytes[122...]) == Array("vdeplug: user=root pid=6257".utf8))
    }

    @Test func encodesPortNumbersAndPort0InTheTypeField() {
        #expect(Array(VDEConnectRequest(kind: .port(7), socketPath: "/x", description: "").encoded()[8..<12]) == [0, 7, 0, 0])
        #expect(Array(VDEConnectRequest(kind: .port(1000), socketPath: "/x", description: "").encoded()[8..<12]) == [0, 0xE8, 3, 0])
        #expect(Array(VDEConnectRequest(kind: .port0, socketPath: "/x", description: "").encoded()[8..<12]) == [1, 0, 0, 0])
    }

    @Test func roundTrips() throws {
        for kind in [VDERequestKind.port(0), .port(5), .port(4095), .port0] {
            let request = VDEConnectRequest(kind: kind, socketPath: "/run/sw/.00001-00002", description: "QEMU user=me pid=1")
            #expect(try VDEConnectRequest.decode(request.encoded()) == request)
        }
    }

    @Test func decodingIsLenientAboutTheDescription() throws {
        var bytes = VDEConnectRequest(kind: .port(0), socketPath: "/s", description: "").encoded()
        bytes += [0x61, 0xFF, 0x62, 0x00, 0x63]
        let request = try VDEConnectRequest.decode(bytes)
        #expect(request.description == "a\u{FFFD}b")
    }

    @Test func refusesMalformedRequests() {
        let good = VDEConnectRequest(kind: .port(0), socketPath: "/s", description: "d").encoded()
        #expect(throws: VDEConnectRequest.ParseError.tooShort(121)) { _ = try VDEConnectRequest.decode(good.prefix(121)) }
        var badMagic = good
        badMagic[0] = 0
        #expect(throws: VDEConnectRequest.ParseError.badMagic(0xFEED_FA00)) { _ = try VDEConnectRequest.decode(badMagic) }
        var v2 = good
        v2[4] = 2
        #expect(throws: VDEConnectRequest.ParseError.unsupportedVersion(2)) { _ = try VDEConnectRequest.decode(v2) }
        var badKind = good
        badKind[8] = 5
        #expect(throws: VDEConnectRequest.ParseError.badKind(5)) { _ = try VDEConnectRequest.decode(badKind) }
        var negative = good
        negative[11] = 0x80
        #expect(throws: VDEConnectRequest.ParseError.self) { _ = try VDEConnectRequest.decode(negative) }
        var noPath = good
        noPath[14] = 0
        #expect(throws: VDEConnectRequest.ParseError.emptySocketPath) { _ = try VDEConnectRequest.decode(noPath) }
    }

    @Test func replyIsA110ByteSockaddr() {
        let reply = VDEConnectReply.encode(portSocketPath: "/tmp/sw/001.6")
        #expect(reply.count == 110)
        #expect(Array(reply[0..<3]) == [1, 0, 0x2F])
        #expect(VDEConnectReply.decode(reply) == "/tmp/sw/001.6")
        #expect(VDEConnectReply.decode([0, 0, 0]) == nil)
    }
}

@Suite struct VDEStreamTests {
    @Test func encodesABigEndianLengthThenTheFrame() {
        let frame = [UInt8](repeating: 7, count: 78)
        #expect(Array(VDEStream.encode(frame).prefix(2)) == [0x00, 0x4E])
        #expect(VDEStream.encode(frame).count == 80)
    }

    @Test func reassemblesFramesSplitAnywhere() throws {
        let frames = [[UInt8](repeating: 1, count: 60), [UInt8](repeating: 2, count: 1500), [UInt8](repeating: 3, count: 9000)]
        let stream = frames.flatMap { VDEStream.encode($0) }
        for chunk in [1, 2, 3, 7, 1501, stream.count] {
            var decoder = VDEStreamDecoder()
            var out: [[UInt8]] = []
            var offset = 0
            while offset < stream.count {
                out += try decoder.feed(stream[offset..<min(offset + chunk, stream.count)])
                offset += chunk
            }
            #expect(out == frames, "chunk size \(chunk)")
            #expect(decoder.pendingByteCount == 0)
        }
    }

    @Test func skipsEmptyRecords() throws {
        var decoder = VDEStreamDecoder()
        let frames = try decoder.feed([0, 0] + VDEStream.encode([9, 9, 9]) + [0, 0])
        #expect(frames == [[9, 9, 9]])
        #expect(decoder.emptyRecords == 2)
    }

    @Test func refusesALengthOverTheLimit() {
        var decoder = VDEStreamDecoder()
        #expect(throws: VDEStreamDecoder.DecodeError.frameTooLarge(0xFFFF)) { _ = try decoder.feed([0xFF, 0xFF, 1, 2]) }
    }
}
