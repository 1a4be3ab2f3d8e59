// IGMP and MLD snooping in-process, with frames built here byte by byte (checksums computed here, not
// by the code under test): members receive a group and others do not, queries make router ports,
// leaves and silence take ports out, link-local groups and unsnooped VLANs still flood, a report with
// a bad checksum is dropped and counted, and the querier's own queries parse as what they say.
import SwitchEngine
import Testing

private func internetChecksum(_ bytes: [UInt8], initial: UInt32 = 0) -> [UInt8] {
    var sum = initial
    for index in stride(from: 0, to: bytes.count, by: 2) {
        sum &+= UInt32(bytes[index]) << 8 | (index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0)
    }
    while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
    let value = ~UInt16(sum)
    return [UInt8(value >> 8), UInt8(value & 0xFF)]
}

private func ipv4Bytes(_ text: String) -> [UInt8] { text.split(separator: ".").map { UInt8($0)! } }

/// An IPv4 frame from `src` (a MAC) to `group`, protocol `proto`, carrying `payload`.
private func ipv4Frame(to group: String, from host: String = "10.0.0.9", src: String = macA, proto: UInt8, payload: [UInt8], vlan: UInt16? = nil) -> [UInt8] {
    let address = ipv4Bytes(group)
    var bytes: [UInt8] = [0x01, 0x00, 0x5E, address[1] & 0x7F, address[2], address[3]] + src.split(separator: ":").map { UInt8($0, radix: 16)! }
    if let vlan { bytes += [0x81, 0x00, UInt8(vlan >> 8), UInt8(vlan & 0xFF)] }
    bytes += [0x08, 0x00]
    var header: [UInt8] = [0x45, 0, 0, UInt8(20 + payload.count), 0, 0, 0, 0, 1, proto, 0, 0] + ipv4Bytes(host) + address
    let sum = internetChecksum(header)
    header[10] = sum[0]
    header[11] = sum[1]
    return bytes + header + payload
}

/// An IGMP message of `type` for `group` (v1/v2 form), checksum right unless `corrupt`.
private func igmp(_ type: UInt8, _ group: String, corrupt: Bool = false) -> [UInt8] {
    var message: [UInt8] = [type, 0, 0, 0] + ipv4Bytes(group)
    let sum = internetChecksum(message)
    message[2] = sum[0] ^ (corrupt ? 0xFF : 0)
    message[3] = sum[1]
    return message
}

/// An IGMPv3 report with (record type, group) records.
private func igmpV3Report(_ records: [(UInt8, String)]) -> [UInt8] {
    var message: [UInt8] = [0x22, 0, 0, 0, 0, 0, 0, UInt8(records.count)]
    for (type, group) in records { message += [type, 0, 0, 0] + ipv4Bytes(group) }
    let sum = internetChecksum(message)
    message[2] = sum[0]
    message[3] = sum[1]
    return message
}

private func ipv6Bytes(_ words: [UInt16]) -> [UInt8] { words.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } }

/// An IPv6 frame to `group` with a hop-by-hop router alert, then ICMPv6 `icmp` (its checksum filled in).
private func mldFrame(to group: [UInt16], icmp: [UInt8], src: String = macA) -> [UInt8] {
    let destination = ipv6Bytes(group)
    let source = ipv6Bytes([0xFE80, 0, 0, 0, 0, 0, 0, 9])
    var message = icmp
    var pseudo: UInt32 = UInt32(message.count) + 58
    for index in stride(from: 0, to: 16, by: 2) {
        pseudo += UInt32(source[index]) << 8 | UInt32(source[index + 1])
        pseudo += UInt32(destination[index]) << 8 | UInt32(destination[index + 1])
    }
    let sum = internetChecksum(message, initial: pseudo)
    message[2] = sum[0]
    message[3] = sum[1]
    let hopByHop: [UInt8] = [58, 0, 0x05, 0x02, 0, 0, 0x01, 0x00]
    let length = hopByHop.count + message.count
    return [0x33, 0x33] + destination[12...] + src.split(separator: ":").map { UInt8($0, radix: 16)! } + [0x86, 0xDD]
        + [0x60, 0, 0, 0, UInt8(length >> 8), UInt8(length & 0xFF), 0, 1] + source + destination + hopByHop + message
}

private let siteGroup: [UInt16] = [0xFF05, 0, 0, 0, 0, 0, 1, 3]

/// Plain UDP to an IPv6 group.
private func ipv6Data(to group: [UInt16]) -> [UInt8] {
    let destination = ipv6Bytes(group)
    return [0x33, 0x33] + destination[12...] + macA.split(separator: ":").map { UInt8($0, radix: 16)! } + [0x86, 0xDD]
        + [0x60, 0, 0, 0, 0, 8, 17, 1] + ipv6Bytes([0xFE80, 0, 0, 0, 0, 0, 0, 9]) + destination + [0x30, 0x39, 0x30, 0x39, 0, 8, 0, 0]
}

private let udp: [UInt8] = [0x30, 0x39, 0x30, 0x39, 0, 12, 0, 0, 1, 2, 3, 4]
private let bridge = MACAddress("02:5a:00:00:00:01")!

private func snooping(querier: Bool = false, interval: Double = 10, vlans: Set<VLANID>? = nil, active: [Int] = [1, 2, 3, 4]) -> SwitchEngine {
    var sw = engine(active: active)
    try! sw.enableMulticastSnooping(address: bridge, configuration: MulticastSnoopingConfiguration(querier: querier, queryIntervalSeconds: interval, vlans: vlans))
    return sw
}

@Suite struct MulticastSnoopingTests {
    @Test func withSnoppingOffAGroupFloodsAndWithItOnOnlyItsMembersGetIt() {
        var off = engine()
        let data = ipv4Frame(to: "239.1.1.1", proto: 17, payload: udp)
        #expect(off.outputs(off.send(data, from: 1), from: 1) == [2, 3, 4])

        var sw = snooping()
        // Nobody joined and nobody queries: flooding is all that is safe.
        #expect(sw.outputs(sw.send(data, from: 1), from: 1) == [2, 3, 4])
        // A host on port 2 joins (IGMPv2): the group goes there alone.
        _ = sw.send(ipv4Frame(to: "239.1.1.1", src: macB, proto: 2, payload: igmp(0x16, "239.1.1.1")), from: 2)
        #expect(sw.outputs(sw.send(data, from: 1), from: 1) == [2])
        #expect(sw.multicastSnooping?.counters.reports == 1)
        // Another group, and link-local ones (mDNS 224.0.0.251), still flood.
        #expect(sw.outputs(sw.send(ipv4Frame(to: "239.9.9.9", proto: 17, payload: udp), from: 1), from: 1) == [2, 3, 4])
        #expect(sw.outputs(sw.send(ipv4Frame(to: "224.0.0.251", proto: 17, payload: udp), from: 1), from: 1) == [2, 3, 4])
        // A trace changes nothing.
        var frame = ipv4Frame(to: "239.2.2.2", src: macC, proto: 2, payload: igmp(0x16, "239.2.2.2"))
        _ = sw.receive(&frame, from: 3, now: 0, learn: false)
        #expect(sw.multicastSnooping?.members.keys.map(\.group.description) == ["239.1.1.1"])
    }

    @Test func aQueryMakesARouterPortThatGetsReportsAndEveryGroup() {
        var sw = snooping()
        let query = ipv4Frame(to: "224.0.0.1", from: "10.0.0.1", src: macC, proto: 2, payload: igmp(0x11, "0.0.0.0"))
        #expect(sw.outputs(sw.send(query, from: 4), from: 4) == [1, 2, 3], "queries reach every host")
        // Reports go towards the querier only.
        let report = ipv4Frame(to: "239.1.1.1", src: macB, proto: 2, payload: igmp(0x16, "239.1.1.1"))
        #expect(sw.outputs(sw.send(report, from: 2), from: 2) == [4])
        // The group reaches its member and the router port; a group nobody joined, only the router port.
        #expect(sw.outputs(sw.send(ipv4Frame(to: "239.1.1.1", proto: 17, payload: udp), from: 1), from: 1) == [2, 4])
        #expect(sw.outputs(sw.send(ipv4Frame(to: "239.7.7.7", proto: 17, payload: udp), from: 1), from: 1) == [4])
    }

    @Test func aLeaveTakesThePortOutAfterTheLastMemberTimeAndSilenceAfterTheMembershipInterval() {
        var sw = snooping(interval: 10)   // membership: 2 × 10 + 5 = 25 s
        _ = sw.send(ipv4Frame(to: "224.0.0.1", from: "10.0.0.1", src: macC, proto: 2, payload: igmp(0x11, "0.0.0.0")), from: 4)
        _ = sw.send(ipv4Frame(to: "239.1.1.1", src: macB, proto: 2, payload: igmp(0x16, "239.1.1.1")), from: 2)
        _ = sw.send(ipv4Frame(to: "239.1.1.2", src: macB, proto: 2, payload: igmp(0x16, "239.1.1.2")), from: 3)
        let data = ipv4Frame(to: "239.1.1.1", proto: 17, payload: udp)
        _ = sw.send(ipv4Frame(to: "224.0.0.2", src: macB, proto: 2, payload: igmp(0x17, "239.1.1.1")), from: 2, at: 1 * second)
        #expect(sw.outputs(sw.send(data, from: 1, at: 2 * second), from: 1) == [2, 4], "still a member for the last-member time")
        sw.tickMulticastSnooping(now: 3 * second + 100_000_000)
        #expect(sw.outputs(sw.send(data, from: 1, at: 3 * second + 200_000_000), from: 1) == [4], "left")
        // 239.1.1.2's member never answers again: gone after the membership interval.
        sw.tickMulticastSnooping(now: 24 * second)
        #expect(sw.multicastSnooping?.members.keys.map(\.group.description) == ["239.1.1.2"])
        sw.tickMulticastSnooping(now: 26 * second)
        #expect(sw.multicastSnooping?.members.isEmpty == true)
        // A port unplugged is no member either.
        _ = sw.send(ipv4Frame(to: "239.1.1.2", src: macB, proto: 2, payload: igmp(0x16, "239.1.1.2")), from: 3, at: 27 * second)
        sw.setActive(3, false)
        #expect(sw.multicastSnooping?.members.isEmpty == true)
    }

    @Test func igmpV3RecordsJoinAndLeave() {
        var sw = snooping()
        _ = sw.send(ipv4Frame(to: "224.0.0.22", src: macB, proto: 2, payload: igmpV3Report([(2, "239.3.3.3"), (4, "239.4.4.4"), (1, "239.5.5.5")])), from: 2)
        // IS_EX and TO_EX join; IS_IN with no sources does not.
        #expect(sw.multicastSnooping?.members.keys.map(\.group.description).sorted() == ["239.3.3.3", "239.4.4.4"])
        _ = sw.send(ipv4Frame(to: "224.0.0.22", src: macB, proto: 2, payload: igmpV3Report([(3, "239.3.3.3")])), from: 2, at: second)
        sw.tickMulticastSnooping(now: 4 * second)
        #expect(sw.multicastSnooping?.members.keys.map(\.group.description) == ["239.4.4.4"], "TO_IN {} is a leave")
    }

    @Test func mldReportsBehindAHopByHopHeaderSteerIPv6Groups() {
        var sw = snooping()
        // MLDv2 report to ff02::16 with one EXCLUDE {} record for ff05::1:3.
        let record: [UInt8] = [2, 0, 0, 0] + ipv6Bytes(siteGroup)
        _ = sw.send(mldFrame(to: [0xFF02, 0, 0, 0, 0, 0, 0, 0x16], icmp: [143, 0, 0, 0, 0, 0, 0, 1] + record, src: macB), from: 3)
        #expect(sw.multicastSnooping?.members.keys.map(\.group.description) == ["ff05::1:3"])
        #expect(sw.outputs(sw.send(ipv6Data(to: siteGroup), from: 1), from: 1) == [3])
        // ff02::1 is every node's: it floods.
        #expect(sw.outputs(sw.send(ipv6Data(to: [0xFF02, 0, 0, 0, 0, 0, 0, 1]), from: 1), from: 1) == [2, 3, 4])
        // MLDv1 done: out after the last-member time.
        _ = sw.send(mldFrame(to: [0xFF02, 0, 0, 0, 0, 0, 0, 2], icmp: [132, 0, 0, 0, 0, 0, 0, 0] + ipv6Bytes(siteGroup), src: macB), from: 3, at: second)
        sw.tickMulticastSnooping(now: 4 * second)
        #expect(sw.multicastSnooping?.members.isEmpty == true)
    }

    @Test func aReportWithABadChecksumIsDroppedAndCountedAndTeachesNothing() {
        var sw = snooping()
        let decision = sw.send(ipv4Frame(to: "239.1.1.1", src: macB, proto: 2, payload: igmp(0x16, "239.1.1.1", corrupt: true)), from: 2)
        #expect(decision.forwarding == .drop(.malformedMulticast))
        #expect(sw.ports[2].counters[drop: .malformedMulticast] == 1 && sw.multicastSnooping?.counters.badChecksum == 1)
        #expect(sw.multicastSnooping?.members.isEmpty == true)
        // Shorter than its IP header says: malformed.
        var short = ipv4Frame(to: "239.1.1.1", proto: 17, payload: udp)
        short[14 + 3] = 200
        #expect(sw.send(short, from: 1).forwarding == .drop(.malformedMulticast))
        #expect(sw.multicastSnooping?.counters.malformed == 1)
    }

    @Test func onlyTheVLANsNamedAreSnooped() throws {
        var sw = snooping(vlans: [10])
        try sw.createVLAN(10)
        try sw.setVLANMembers(10, untagged: [], tagged: [1, 2, 3])
        _ = sw.send(ipv4Frame(to: "239.1.1.1", src: macB, proto: 2, payload: igmp(0x16, "239.1.1.1"), vlan: 10), from: 2)
        _ = sw.send(ipv4Frame(to: "239.1.1.1", src: macB, proto: 2, payload: igmp(0x16, "239.1.1.1")), from: 2)
        #expect(sw.multicastSnooping?.members.keys.map(\.vlan) == [10])
        #expect(sw.outputs(sw.send(ipv4Frame(to: "239.1.1.1", proto: 17, payload: udp, vlan: 10), from: 1), from: 1) == [2])
        #expect(sw.outputs(sw.send(ipv4Frame(to: "239.1.1.1", proto: 17, payload: udp), from: 1), from: 1) == [2, 3, 4], "VLAN 1 is not snooped")
    }

    @Test func theQuerierAsksEveryVLANUntilAnotherQuerierIsHeard() throws {
        var sw = snooping(querier: true, interval: 8)
        try sw.createVLAN(20)
        try sw.setVLANMembers(20, untagged: [], tagged: [4])
        sw.tickMulticastSnooping(now: second)
        let sent = sw.takeMulticastTransmissions()
        // IGMP and MLD on VLAN 1 (ports 1 to 4) and on VLAN 20 (port 4, tagged).
        #expect(sent.map(\.port).sorted() == [1, 1, 2, 2, 3, 3, 4, 4, 4, 4])
        for (port, frame) in sent {
            let tagged = frame[12] == 0x81
            #expect(tagged == (port == 4 && frame[15] == 20))
            let offset = tagged ? 16 : 12
            let etherType = UInt16(frame[offset]) << 8 | UInt16(frame[offset + 1])
            let message = try frame.withUnsafeBytes { try MulticastMessage.parse($0, length: frame.count, offset: offset + 2, etherType: etherType) }
            guard case .query(nil, let ipv4, _) = message else {
                Issue.record("not a general query: \(String(describing: message))")
                continue
            }
            #expect(ipv4 == (etherType == 0x0800))
        }
        // With a querier there, a group nobody joined no longer floods.
        #expect(sw.outputs(sw.send(ipv4Frame(to: "239.7.7.7", proto: 17, payload: udp), from: 1), from: 1) == [])
        // Startup queries come at a quarter interval; then another querier is heard on VLAN 1 and IGMP goes
        // quiet there (MLD does not, nor VLAN 20, which heard nobody).
        _ = sw.send(ipv4Frame(to: "224.0.0.1", from: "10.0.0.1", src: macC, proto: 2, payload: igmp(0x11, "0.0.0.0")), from: 3, at: 2 * second)
        sw.tickMulticastSnooping(now: 3 * second + 1)
        let later = sw.takeMulticastTransmissions()
        let igmpOnVLAN1 = later.filter { $0.frame[12] == 0x08 }
        #expect(!later.isEmpty && igmpOnVLAN1.isEmpty && later.contains { $0.frame[12] == 0x81 && $0.frame[16] == 0x08 }, "\(later.count) frames")
        // A leave while querying: a query for that group, to the group.
        _ = sw.send(mldFrame(to: [0xFF02, 0, 0, 0, 0, 0, 0, 0x16], icmp: [143, 0, 0, 0, 0, 0, 0, 1] + [2, 0, 0, 0] + ipv6Bytes(siteGroup), src: macB), from: 2, at: 4 * second)
        _ = sw.send(mldFrame(to: [0xFF02, 0, 0, 0, 0, 0, 0, 2], icmp: [132, 0, 0, 0, 0, 0, 0, 0] + ipv6Bytes(siteGroup), src: macB), from: 2, at: 5 * second)
        let asked = sw.takeMulticastTransmissions()
        #expect(!asked.isEmpty && asked.allSatisfy { Array($0.frame[0..<6]) == [0x33, 0x33, 0, 1, 0, 3] }, "\(asked.map { Array($0.frame[0..<6]) })")
    }

    @Test func groupsPrintAsPeopleWriteThem() {
        #expect(MulticastGroup(ipv4: 0xEF01_0203).description == "239.1.2.3")
        #expect(MulticastGroup(high: 0xFF05_0000_0000_0000, low: 0x0000_0000_0001_0003).description == "ff05::1:3")
        #expect(MulticastGroup(high: 0xFF02_0000_0000_0000, low: 1).description == "ff02::1")
    }
}
