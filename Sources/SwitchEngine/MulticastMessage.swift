// What a multicast IP frame says to a snooping switch: IGMP v1/v2/v3 (RFC 1112, 2236, 3376) and
// MLD v1/v2 (RFC 2710, 3810) queries, reports and leaves, or plain data to a group. Parsing checks
// lengths and checksums and refuses the rest (the caller counts it); building makes the general
// queries of a querier. Pure: bytes in, values out.

/// A multicast group address, IPv4 or IPv6 (IPv4 kept as ::ffff:a.b.c.d).
public struct MulticastGroup: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init(ipv4: UInt32) {
        high = 0
        low = 0xFFFF_0000_0000 | UInt64(ipv4)
    }

    public var isIPv4: Bool { high == 0 && low >> 32 == 0xFFFF }

    /// Groups a snooping switch floods like broadcasts: 224.0.0.0/24 (routing protocols, all hosts)
    /// and ff02::1 (all nodes), which hosts never report.
    public var isLinkLocalControl: Bool {
        if isIPv4 { return UInt32(truncatingIfNeeded: low) >> 8 == 0xE0_0000 }
        return high == 0xFF02_0000_0000_0000 && low == 1
    }

    /// 224.0.0.0/4 or ff00::/8.
    public var isMulticast: Bool {
        isIPv4 ? UInt32(truncatingIfNeeded: low) >> 28 == 0xE : high >> 56 == 0xFF
    }

    public var description: String {
        if isIPv4 {
            let address = UInt32(truncatingIfNeeded: low)
            return [24, 16, 8, 0].map { String((address >> UInt32($0)) & 0xFF) }.joined(separator: ".")
        }
        let words = (0..<8).map { index -> UInt16 in
            UInt16(truncatingIfNeeded: (index < 4 ? high : low) >> UInt64(48 - 16 * (index % 4)))
        }
        // The longest run of zero words (two or more) becomes "::", as RFC 5952 writes it.
        var best = (start: -1, length: 0)
        var index = 0
        while index < 8 {
            guard words[index] == 0 else { index += 1; continue }
            var end = index
            while end < 8 && words[end] == 0 { end += 1 }
            if end - index > best.length && end - index >= 2 { best = (index, end - index) }
            index = end
        }
        let hex = words.map { String($0, radix: 16) }
        guard best.start >= 0 else { return hex.joined(separator: ":") }
        return hex[..<best.start].joined(separator: ":") + "::" + hex[(best.start + best.length)...].joined(separator: ":")
    }

    public static func < (lhs: MulticastGroup, rhs: MulticastGroup) -> Bool {
        (lhs.isIPv4 ? 0 : 1, lhs.high, lhs.low) < (rhs.isIPv4 ? 0 : 1, rhs.high, rhs.low)
    }
}

/// One frame, as snooping sees it.
public enum MulticastMessage: Equatable, Sendable {
    /// A query: general (group nil) or for one group; `ipv4` for IGMP, else MLD. `source` is the querier's address.
    case query(group: MulticastGroup?, ipv4: Bool, source: MulticastGroup)
    /// A report: the groups joined (and, for v3/v2 records that leave, the groups left).
    case report(joined: [MulticastGroup], left: [MulticastGroup])
    /// An IGMPv2 leave or an MLDv1 done.
    case leave(MulticastGroup)
    /// Anything else sent to a group (data, or a control message snooping leaves alone).
    case data(MulticastGroup)

    public enum Refusal: Error, Equatable, Sendable {
        /// Too short for what its headers announce.
        case malformed
        /// An IGMP or MLD message whose checksum does not add up.
        case badChecksum
    }

    /// Reads the IP packet at `offset` (just after the Ethernet type) of `bytes[0..<length]`;
    /// `etherType` is 0x0800 or 0x86DD. nil: not multicast IP at all.
    public static func parse(_ bytes: UnsafeRawBufferPointer, length: Int, offset: Int, etherType: UInt16) throws(Refusal) -> MulticastMessage? {
        etherType == 0x0800 ? try parseIPv4(bytes, length: length, offset: offset) : try parseIPv6(bytes, length: length, offset: offset)
    }

    private static func u16(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }
    private static func u32(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32 { UInt32(u16(bytes, at)) << 16 | UInt32(u16(bytes, at + 2)) }
    private static func u64(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt64 { UInt64(u32(bytes, at)) << 32 | UInt64(u32(bytes, at + 4)) }
    private static func ipv6(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> MulticastGroup { MulticastGroup(high: u64(bytes, at), low: u64(bytes, at + 8)) }

    private static func parseIPv4(_ bytes: UnsafeRawBufferPointer, length: Int, offset: Int) throws(Refusal) -> MulticastMessage? {
        guard length >= offset + 20, bytes[offset] >> 4 == 4 else { return nil }
        let headerLength = Int(bytes[offset] & 0x0F) * 4
        let totalLength = Int(u16(bytes, offset + 2))
        let destination = MulticastGroup(ipv4: u32(bytes, offset + 16))
        guard destination.isMulticast else { return nil }
        guard headerLength >= 20, totalLength >= headerLength, offset + totalLength <= length else { throw .malformed }
        guard bytes[offset + 9] == 2 else { return .data(destination) }   // not IGMP
        let igmp = offset + headerLength
        let size = totalLength - headerLength
        guard size >= 8 else { throw .malformed }
        guard checksum(bytes, from: igmp, count: size, initial: 0) == 0 else { throw .badChecksum }
        let group = MulticastGroup(ipv4: u32(bytes, igmp + 4))
        switch bytes[igmp] {
        case 0x11:
            return .query(group: u32(bytes, igmp + 4) == 0 ? nil : group, ipv4: true, source: MulticastGroup(ipv4: u32(bytes, offset + 12)))
        case 0x12, 0x16:
            return group.isMulticast ? .report(joined: [group], left: []) : .data(destination)
        case 0x17:
            return group.isMulticast ? .leave(group) : .data(destination)
        case 0x22:
            return try recordsV3(bytes, from: igmp + 8, end: igmp + size, count: Int(u16(bytes, igmp + 6)), addressBytes: 4)
        default:
            return .data(destination)
        }
    }

    private static func parseIPv6(_ bytes: UnsafeRawBufferPointer, length: Int, offset: Int) throws(Refusal) -> MulticastMessage? {
        guard length >= offset + 40, bytes[offset] >> 4 == 6 else { return nil }
        let destination = ipv6(bytes, offset + 24)
        guard destination.isMulticast else { return nil }
        let payloadLength = Int(u16(bytes, offset + 4))
        let end = offset + 40 + payloadLength
        guard end <= length else { throw .malformed }
        // Hop-by-hop options (MLD carries a router alert there), then ICMPv6.
        var next = bytes[offset + 6]
        var at = offset + 40
        while next == 0 || next == 60 {
            guard at + 8 <= end else { throw .malformed }
            next = bytes[at]
            at += (Int(bytes[at + 1]) + 1) * 8
        }
        guard next == 58 else { return .data(destination) }
        let size = end - at
        guard size >= 4, at <= end else { throw .malformed }
        let type = bytes[at]
        guard [130, 131, 132, 143].contains(type) else { return .data(destination) }
        // The checksum covers a pseudo-header: both addresses, the length and next header 58.
        var pseudo: UInt32 = 0
        for word in stride(from: offset + 8, to: offset + 40, by: 2) { pseudo &+= UInt32(u16(bytes, word)) }
        pseudo &+= UInt32(size >> 16) &+ UInt32(size & 0xFFFF) &+ 58
        guard checksum(bytes, from: at, count: size, initial: pseudo) == 0 else { throw .badChecksum }
        switch type {
        case 130:
            guard size >= 24 else { throw .malformed }
            let group = ipv6(bytes, at + 8)
            return .query(group: group.high == 0 && group.low == 0 ? nil : group, ipv4: false, source: ipv6(bytes, offset + 8))
        case 131, 132:
            guard size >= 24 else { throw .malformed }
            let group = ipv6(bytes, at + 8)
            guard group.isMulticast else { return .data(destination) }
            return type == 131 ? .report(joined: [group], left: []) : .leave(group)
        default:
            guard size >= 8 else { throw .malformed }
            return try recordsV3(bytes, from: at + 8, end: end, count: Int(u16(bytes, at + 6)), addressBytes: 16)
        }
    }

    /// IGMPv3 / MLDv2 group records. Without source filtering, a record that wants the group from any
    /// source or some sources joins it; an empty INCLUDE (TO_IN with no sources) leaves it.
    private static func recordsV3(_ bytes: UnsafeRawBufferPointer, from start: Int, end: Int, count: Int, addressBytes: Int) throws(Refusal) -> MulticastMessage {
        var joined: [MulticastGroup] = []
        var left: [MulticastGroup] = []
        var at = start
        for _ in 0..<count {
            guard at + 4 + addressBytes <= end else { throw .malformed }
            let type = bytes[at]
            let auxiliary = Int(bytes[at + 1]) * 4
            let sources = Int(u16(bytes, at + 2))
            let group = addressBytes == 4 ? MulticastGroup(ipv4: u32(bytes, at + 4)) : ipv6(bytes, at + 4)
            let next = at + 4 + addressBytes + sources * addressBytes + auxiliary
            guard next <= end else { throw .malformed }
            at = next
            guard group.isMulticast else { continue }
            switch type {
            case 1, 5: if sources > 0 { joined.append(group) }   // IS_IN, ALLOW: some sources
            case 2, 4: joined.append(group)                       // IS_EX, TO_EX: any source
            case 3: if sources == 0 { left.append(group) } else { joined.append(group) }   // TO_IN
            default: break                                        // BLOCK: sources only
            }
        }
        return .report(joined: joined, left: left)
    }

    /// The Internet checksum of `count` bytes from `from`, plus `initial`: 0 when a packet's own checksum is right.
    static func checksum(_ bytes: UnsafeRawBufferPointer, from: Int, count: Int, initial: UInt32) -> UInt16 {
        var sum = initial
        var index = from
        while index + 1 < from + count {
            sum &+= UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if count % 2 == 1 { sum &+= UInt32(bytes[from + count - 1]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) &+ (sum >> 16) }
        return ~UInt16(truncatingIfNeeded: sum)
    }

    // MARK: queries a querier sends

    /// An IGMPv3 query (v2 hosts read it as theirs) from 0.0.0.0, TTL 1 with a router alert: general
    /// (to 224.0.0.1) when `group` is nil, else for that group (to the group).
    public static func igmpQuery(group: MulticastGroup?, from source: MACAddress, maxResponseSeconds: Double,
                                 queryIntervalSeconds: Double) -> [UInt8] {
        let target = group.map { UInt32(truncatingIfNeeded: $0.low) } ?? 0xE000_0001
        let address = [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: target >> UInt32($0)) }
        var frame = ethernetHeader(destination: [0x01, 0x00, 0x5E, address[1] & 0x7F, address[2], address[3]], source: source, etherType: 0x0800)
        var ip: [UInt8] = [0x46, 0xC0, 0, 36, 0, 0, 0x40, 0, 1, 2, 0, 0, 0, 0, 0, 0] + address + [0x94, 0x04, 0, 0]
        let ipSum = ip.withUnsafeBytes { checksum($0, from: 0, count: 24, initial: 0) }
        ip[10] = UInt8(ipSum >> 8)
        ip[11] = UInt8(ipSum & 0xFF)
        let groupField = group == nil ? [0, 0, 0, 0] : address
        var igmp: [UInt8] = [0x11, code(maxResponseSeconds * 10), 0, 0] + groupField + [0x02, code(queryIntervalSeconds), 0, 0]
        let igmpSum = igmp.withUnsafeBytes { checksum($0, from: 0, count: 12, initial: 0) }
        igmp[2] = UInt8(igmpSum >> 8)
        igmp[3] = UInt8(igmpSum & 0xFF)
        frame += ip + igmp
        return frame + [UInt8](repeating: 0, count: max(0, SwitchEngine.paddedFrameSize - frame.count))
    }

    /// An MLDv2 query from `source`'s link-local address (fe80:: and its EUI-64), hop limit 1 with a
    /// router alert: general (to ff02::1) when `group` is nil, else for that group (to the group).
    public static func mldQuery(group: MulticastGroup?, from source: MACAddress, maxResponseSeconds: Double,
                                queryIntervalSeconds: Double) -> [UInt8] {
        func bytes(_ group: MulticastGroup) -> [UInt8] {
            (0..<16).map { UInt8(truncatingIfNeeded: ($0 < 8 ? group.high : group.low) >> UInt64(56 - 8 * ($0 % 8))) }
        }
        let target = bytes(group ?? MulticastGroup(high: 0xFF02_0000_0000_0000, low: 1))
        var frame = ethernetHeader(destination: [0x33, 0x33] + target[12...], source: source, etherType: 0x86DD)
        let mac = (0..<6).map { UInt8(truncatingIfNeeded: source.bits >> UInt64(40 - 8 * $0)) }
        let linkLocal: [UInt8] = [0xFE, 0x80, 0, 0, 0, 0, 0, 0, mac[0] ^ 0x02, mac[1], mac[2], 0xFF, 0xFE, mac[3], mac[4], mac[5]]
        let hopByHop: [UInt8] = [58, 0, 0x05, 0x02, 0, 0, 0x01, 0x00]   // router alert (MLD), then PadN
        let responseMilliseconds = UInt16(clamping: Int(maxResponseSeconds * 1000))
        var mld: [UInt8] = [130, 0, 0, 0, UInt8(responseMilliseconds >> 8), UInt8(responseMilliseconds & 0xFF), 0, 0]
            + (group.map(bytes) ?? [UInt8](repeating: 0, count: 16)) + [0x02, code(queryIntervalSeconds), 0, 0]
        let payloadLength = hopByHop.count + mld.count
        let ip: [UInt8] = [0x60, 0, 0, 0, UInt8(payloadLength >> 8), UInt8(payloadLength & 0xFF), 0, 1] + linkLocal + target
        var pseudo: UInt32 = UInt32(mld.count) &+ 58
        for index in stride(from: 0, to: 16, by: 2) {
            pseudo &+= UInt32(linkLocal[index]) << 8 | UInt32(linkLocal[index + 1])
            pseudo &+= UInt32(target[index]) << 8 | UInt32(target[index + 1])
        }
        let sum = mld.withUnsafeBytes { checksum($0, from: 0, count: mld.count, initial: pseudo) }
        mld[2] = UInt8(sum >> 8)
        mld[3] = UInt8(sum & 0xFF)
        frame += ip + hopByHop + mld
        return frame
    }

    private static func ethernetHeader(destination: [UInt8], source: MACAddress, etherType: UInt16) -> [UInt8] {
        destination + (0..<6).map { UInt8(truncatingIfNeeded: source.bits >> UInt64(40 - 8 * $0)) } + [UInt8(etherType >> 8), UInt8(etherType & 0xFF)]
    }

    /// A value in the 8-bit code of RFC 3376 4.1.1 (exact below 128; a floating point form above).
    static func code(_ value: Double) -> UInt8 {
        let units = Int(value.rounded())
        if units < 128 { return UInt8(max(0, units)) }
        for exponent in 0..<8 {
            let mantissa = (units >> (exponent + 3)) - 16
            if mantissa < 16 { return 0x80 | UInt8(exponent << 4) | UInt8(max(0, mantissa)) }
        }
        return 0xFF
    }
}
