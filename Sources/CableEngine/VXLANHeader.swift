// VXLANHeader: the 8 bytes RFC 7348 puts before each Ethernet frame in a UDP datagram (flags with
// the I bit, 24 reserved bits, the 24-bit VNI, 8 reserved bits), how a received datagram is judged,
// and the overhead that decides the largest frame a path carries without fragmenting.

public enum VXLANHeader {
    public static let length = 8
    /// The I flag: the VNI is valid. RFC 7348 makes every other flag bit reserved (sent as zero).
    static let validVNIFlag: UInt8 = 0x08
    public static let largestVNI = (1 << 24) - 1

    /// The header that carries a frame of network `vni`.
    public static func bytes(vni: Int) -> [UInt8] {
        [validVNIFlag, 0, 0, 0, UInt8((vni >> 16) & 0xFF), UInt8((vni >> 8) & 0xFF), UInt8(vni & 0xFF), 0]
    }

    /// Outer IP (20 or 40) + UDP (8) + VXLAN (8) + the inner Ethernet header (14): what a frame's
    /// IP payload gives up to cross, the figure users compare with their interface MTU.
    public static func overhead(ipv6: Bool) -> Int { (ipv6 ? 40 : 20) + 8 + length + 14 }

    /// The largest inner Ethernet frame (header included, no FCS) that fits one datagram on a path of `pathMTU`.
    public static func largestFrame(pathMTU: Int, ipv6: Bool) -> Int { pathMTU - overhead(ipv6: ipv6) + 14 }

    /// Why a datagram is not a frame of this network.
    public enum Refusal: String, CaseIterable, Sendable {
        /// Shorter than a header and an Ethernet header.
        case short
        /// Without the I flag, or with a reserved flag bit set (e.g. VXLAN-GPE or GBP).
        case badFlags = "bad_flags"
        case wrongVNI = "wrong_vni"
    }

    /// Judges a received datagram of `length` bytes whose first bytes are `header` (at least 8 when
    /// `length` is): nil when it carries a frame of network `vni`, starting at byte 8.
    public static func refusal(_ header: UnsafeRawBufferPointer, length: Int, vni: Int) -> Refusal? {
        guard length >= VXLANHeader.length + 14, header.count >= VXLANHeader.length else { return .short }
        guard header[0] == validVNIFlag else { return .badFlags }
        let received = Int(header[4]) << 16 | Int(header[5]) << 8 | Int(header[6])
        return received == vni ? nil : .wrongVNI
    }
}
