// PcapStream: captured frames in the classic pcap file format (what `curl URL | wireshark -k -i -`
// and `tshark -r -` read): a global header for Ethernet, then a record per frame (its time, the
// bytes kept up to the snaplen and its length on the wire). Pure: bytes out, no I/O.
public struct PcapStream: Sendable {
    public let snaplen: Int

    public init(snaplen: Int = 65535) { self.snaplen = snaplen }

    /// The file's header: magic (microseconds, little-endian), version 2.4, UTC, snaplen, DLT_EN10MB.
    public var header: [UInt8] {
        var bytes: [UInt8] = []
        append(&bytes, UInt32(0xA1B2_C3D4))
        append(&bytes, UInt16(2))
        append(&bytes, UInt16(4))
        append(&bytes, UInt32(0))   // thiszone
        append(&bytes, UInt32(0))   // sigfigs
        append(&bytes, UInt32(snaplen))
        append(&bytes, UInt32(1))   // LINKTYPE_ETHERNET
        return bytes
    }

    /// One frame seen at `seconds` since the epoch, cut to the snaplen.
    public func record(_ frame: [UInt8], at seconds: Double) -> [UInt8] {
        let kept = min(frame.count, snaplen)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 + kept)
        let whole = seconds.rounded(.down)
        append(&bytes, UInt32(whole))
        append(&bytes, UInt32(min(999_999, ((seconds - whole) * 1e6).rounded())))
        append(&bytes, UInt32(kept))
        append(&bytes, UInt32(frame.count))
        bytes += frame.prefix(kept)
        return bytes
    }

    private func append<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}
