// Building test and probe frames: Ethernet II with optional 802.1Q tag. MAC addresses as text.

public enum EthernetFrame {
    /// Parses `aa:bb:cc:dd:ee:ff` into six bytes.
    public static func mac(_ text: String) -> [UInt8] {
        let parts = text.split(separator: ":").compactMap { UInt8($0, radix: 16) }
        precondition(parts.count == 6, "bad MAC \(text)")
        return parts
    }

    /// dst, src, optional tag (TPID 0x8100 with `vlan` and `pcp`), EtherType, payload, padded to `size`.
    public static func make(dst: String, src: String, vlan: UInt16? = nil, pcp: UInt8 = 0, etherType: UInt16 = 0x88B5,
                            payload: [UInt8] = [], size: Int = 60) -> [UInt8] {
        var frame = mac(dst) + mac(src)
        if let vlan {
            let tci = UInt16(pcp) << 13 | (vlan & 0x0FFF)
            frame += [0x81, 0x00, UInt8(tci >> 8), UInt8(tci & 0xFF)]
        }
        frame += [UInt8(etherType >> 8), UInt8(etherType & 0xFF)]
        frame += payload
        if frame.count < size { frame += [UInt8](repeating: 0, count: size - frame.count) }
        return frame
    }

    /// The VLAN ID of a tagged frame, or nil for an untagged one.
    public static func vlan(of frame: [UInt8]) -> UInt16? {
        guard frame.count >= 16, frame[12] == 0x81, frame[13] == 0x00 else { return nil }
        return (UInt16(frame[14]) << 8 | UInt16(frame[15])) & 0x0FFF
    }
}
