// The VXLAN header (RFC 7348) and the learning of remote tunnel ends, in-process.
import CableEngine
import SwitchEngine
import Testing

@Suite struct VXLANTests {
    func judge(_ bytes: [UInt8], vni: Int) -> VXLANHeader.Refusal? {
        bytes.withUnsafeBytes { VXLANHeader.refusal($0, length: bytes.count, vni: vni) }
    }

    @Test func theHeaderCarriesTheIFlagAndTheVNI() {
        #expect(VXLANHeader.bytes(vni: 0x12_3456) == [0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0])
        let frame = [UInt8](repeating: 0xAB, count: 60)
        #expect(judge(VXLANHeader.bytes(vni: 42) + frame, vni: 42) == nil)
        #expect(judge(VXLANHeader.bytes(vni: VXLANHeader.largestVNI) + frame, vni: VXLANHeader.largestVNI) == nil)
    }

    @Test func badDatagramsAreRefusedWithTheirReason() {
        let frame = [UInt8](repeating: 0, count: 14)
        #expect(judge([], vni: 1) == .short)
        #expect(judge(VXLANHeader.bytes(vni: 1) + frame.prefix(13), vni: 1) == .short)
        #expect(judge(VXLANHeader.bytes(vni: 1) + frame, vni: 1) == nil)
        #expect(judge([0x00, 0, 0, 0, 0, 0, 1, 0] + frame, vni: 1) == .badFlags)
        #expect(judge([0x0C, 0, 0, 0, 0, 0, 1, 0] + frame, vni: 1) == .badFlags)
        #expect(judge(VXLANHeader.bytes(vni: 2) + frame, vni: 1) == .wrongVNI)
    }

    @Test func theOverheadDecidesTheLargestFrame() {
        #expect(VXLANHeader.overhead(ipv6: false) == 50)
        #expect(VXLANHeader.overhead(ipv6: true) == 70)
        // A 1500-byte path carries inner IP packets of 1450 bytes: Ethernet frames of 1464.
        #expect(VXLANHeader.largestFrame(pathMTU: 1500, ipv6: false) == 1464)
        #expect(VXLANHeader.largestFrame(pathMTU: 1500, ipv6: true) == 1444)
    }

    @Test func remoteEndsAreLearnedAndAgeOut() {
        var table = VTEPTable<String>(lifetime: 10, capacity: 2)
        let host = MACAddress("02:00:00:00:00:01")!, other = MACAddress("02:00:00:00:00:02")!
        table.learn(host, from: "10.0.0.2", now: 0)
        table.learn(MACAddress.broadcast, from: "10.0.0.9", now: 0)
        #expect(table.entries.count == 1)
        #expect(table.vtep(for: host, now: 5) == "10.0.0.2")
        #expect(table.vtep(for: other, now: 5) == nil)
        #expect(table.vtep(for: MACAddress.broadcast, now: 5) == nil)
        // Moved: the newest sighting wins.
        table.learn(host, from: "10.0.0.3", now: 6)
        #expect(table.vtep(for: host, now: 7) == "10.0.0.3")
        #expect(table.vtep(for: host, now: 16) == nil)
        // Full: aged entries make room, live ones are kept.
        table.learn(other, from: "10.0.0.4", now: 20)
        table.learn(MACAddress("02:00:00:00:00:03")!, from: "10.0.0.5", now: 21)
        #expect(table.entries.count == 2)
        table.learn(MACAddress("02:00:00:00:00:04")!, from: "10.0.0.6", now: 22)
        #expect(table.entries.count == 2 && table.vtep(for: MACAddress("02:00:00:00:00:04")!, now: 22) == nil)
    }
}
