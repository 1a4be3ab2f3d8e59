// PcapRecords: reads back a classic pcap stream (what a capture streams) so a test can compare the
// frames it captured with the frames it sent; tshark reads the same streams where decoding matters.
public struct PcapRecords: Sendable {
    public struct Record: Sendable, Equatable {
        public var seconds: UInt32
        public var frame: [UInt8]
        /// The frame's length on the wire (more than `frame.count` when the snaplen cut it).
        public var length: Int
    }

    public var snaplen: Int
    public var records: [Record]
    /// Bytes after the last whole record (a stream read mid-record).
    public var leftover: Int

    /// nil when `bytes` does not start with a little-endian microsecond pcap header for Ethernet.
    public init?(_ bytes: [UInt8]) {
        func word(_ offset: Int) -> Int { Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24 }
        guard bytes.count >= 24, word(0) == 0xA1B2_C3D4, word(20) == 1 else { return nil }
        snaplen = word(16)
        records = []
        var offset = 24
        while offset + 16 <= bytes.count {
            let kept = word(offset + 8)
            guard offset + 16 + kept <= bytes.count else { break }
            records.append(Record(seconds: UInt32(word(offset)), frame: Array(bytes[(offset + 16)..<(offset + 16 + kept)]),
                                  length: word(offset + 12)))
            offset += 16 + kept
        }
        leftover = bytes.count - offset
    }
}
