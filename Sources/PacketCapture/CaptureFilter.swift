// CaptureFilter: a BPF expression (tcpdump's language) compiled by libpcap for Ethernet frames,
// and run on frames the switch forwards: what a capture keeps. An expression libpcap refuses is
// refused with libpcap's own message.
import CPcap

public final class CaptureFilter: @unchecked Sendable {
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        /// libpcap's message: `syntax error`, `unknown host 'nosuch'`, …
        public let description: String
    }

    public let expression: String
    public let snaplen: Int
    private var program = bpf_program()

    /// Compiles `expression` for Ethernet (DLT_EN10MB) frames of up to `snaplen` bytes; an empty expression keeps everything.
    public init(_ expression: String, snaplen: Int = 65535) throws(Invalid) {
        self.expression = expression
        self.snaplen = snaplen
        guard let handle = pcap_open_dead(DLT_EN10MB, Int32(snaplen)) else { throw Invalid(description: "libpcap could not make a handle") }
        defer { pcap_close(handle) }
        // Optimized, and no netmask: broadcast tests (`ip broadcast`) need one and are refused.
        guard pcap_compile(handle, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw Invalid(description: String(cString: pcap_geterr(handle)))
        }
    }

    deinit { pcap_freecode(&program) }

    /// Whether the filter keeps `frame` (a whole Ethernet frame, without FCS).
    public func keeps(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard let base = frame.baseAddress else { return false }
        var header = pcap_pkthdr()
        header.caplen = UInt32(min(frame.count, snaplen))
        header.len = UInt32(frame.count)
        return pcap_offline_filter(&program, &header, base.assumingMemoryBound(to: UInt8.self)) != 0
    }

    public func keeps(_ frame: [UInt8]) -> Bool { frame.withUnsafeBytes { keeps($0) } }
}
