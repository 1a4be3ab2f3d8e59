// MACAddress: 48 bits in a UInt64, read straight from frame bytes. VLANID names the 12-bit VLAN.

/// An IEEE 802.1Q VLAN identifier, 1...4094 for real VLANs (0 marks a priority tag).
public typealias VLANID = UInt16

public struct MACAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 48 address bits, first byte most significant.
    public let bits: UInt64

    public init(bits: UInt64) { self.bits = bits & 0xFFFF_FFFF_FFFF }

    /// Reads six bytes at `offset`.
    @inline(__always)
    public init(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        var value: UInt64 = 0
        for index in offset..<(offset + 6) { value = value << 8 | UInt64(bytes[index]) }
        bits = value
    }

    /// Parses `aa:bb:cc:dd:ee:ff` (or with dashes).
    public init?(_ text: String) {
        let parts = text.split(whereSeparator: { $0 == ":" || $0 == "-" })
        guard parts.count == 6 else { return nil }
        var value: UInt64 = 0
        for part in parts {
            guard part.count <= 2, let byte = UInt8(part, radix: 16) else { return nil }
            value = value << 8 | UInt64(byte)
        }
        bits = value
    }

    /// Broadcast and multicast addresses have the group bit (bit 0 of the first byte).
    @inline(__always)
    public var isGroup: Bool { bits & 0x0100_0000_0000 != 0 }

    public static let broadcast = MACAddress(bits: 0xFFFF_FFFF_FFFF)

    public var description: String {
        (0..<6).map { index in
            let byte = UInt8(truncatingIfNeeded: bits >> (40 - 8 * UInt64(index)))
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined(separator: ":")
    }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.bits < rhs.bits }
}
