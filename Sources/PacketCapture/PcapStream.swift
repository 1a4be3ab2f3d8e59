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
        let whole = seconds.rounded(.down)
        var bytes = [UInt8](repeating: 0, count: 16)
        bytes.withUnsafeMutableBytes { raw in
            PcapStream.writeRecordHeader(to: raw.baseAddress!, seconds: UInt32(whole),
                                         microseconds: UInt32(min(999_999, ((seconds - whole) * 1e6).rounded())),
                                         kept: kept, length: frame.count)
        }
        return bytes + frame.prefix(kept)
    }

    /// A record's 16-byte header: time, bytes kept, length on the wire.
    public static func writeRecordHeader(to destination: UnsafeMutableRawPointer, seconds: UInt32, microseconds: UInt32,
                                         kept: Int, length: Int) {
        destination.storeBytes(of: seconds.littleEndian, toByteOffset: 0, as: UInt32.self)
        destination.storeBytes(of: microseconds.littleEndian, toByteOffset: 4, as: UInt32.self)
        destination.storeBytes(of: UInt32(kept).littleEndian, toByteOffset: 8, as: UInt32.self)
        destination.storeBytes(of: UInt32(length).littleEndian, toByteOffset: 12, as: UInt32.self)
    }

    private func append<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}
