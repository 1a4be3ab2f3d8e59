// PortCounters: what one port received, sent and dropped. Drops are counted by cause, on the
// port where the frame was refused (ingress causes) or could not be sent (egress causes).

public enum DropCause: String, CaseIterable, Sendable {
    /// Longer than the switch's maximum frame size (ingress).
    case oversize
    /// Shorter than an Ethernet header, 14 bytes (ingress).
    case undersize
    /// A VLAN the port does not carry, or untagged on a port with no untagged VLAN (ingress).
    case vlan
    /// The port's output queue was full (egress).
    case queueFull = "queue_full"
    /// The port is disabled (ingress or egress).
    case disabled
    /// The MAC table was full, so the source was not learned; the frame was still forwarded.
    case tableFull = "table_full"
    /// The spanning tree has the port discarding or learning (ingress), or the learned port is not forwarding.
    case blocked
    /// With snooping on: an IGMP or MLD message with a bad checksum, or multicast IP shorter than its headers (ingress).
    case malformedMulticast = "malformed_multicast"
}

public struct PortCounters: Equatable, Sendable {
    public var rxFrames: UInt64 = 0
    public var rxBytes: UInt64 = 0
    public var txFrames: UInt64 = 0
    public var txBytes: UInt64 = 0
    private var drops = [UInt64](repeating: 0, count: DropCause.allCases.count)

    public init() {}

    public subscript(drop cause: DropCause) -> UInt64 {
        get { drops[cause.index] }
        set { drops[cause.index] = newValue }
    }

    public var totalDrops: UInt64 { drops.reduce(0, +) }

    public static func + (lhs: PortCounters, rhs: PortCounters) -> PortCounters {
        var sum = PortCounters()
        sum.rxFrames = lhs.rxFrames + rhs.rxFrames
        sum.rxBytes = lhs.rxBytes + rhs.rxBytes
        sum.txFrames = lhs.txFrames + rhs.txFrames
        sum.txBytes = lhs.txBytes + rhs.txBytes
        for index in sum.drops.indices { sum.drops[index] = lhs.drops[index] + rhs.drops[index] }
        return sum
    }
}

extension DropCause {
    @inline(__always)
    var index: Int {
        switch self {
        case .oversize: return 0
        case .undersize: return 1
        case .vlan: return 2
        case .queueFull: return 3
        case .disabled: return 4
        case .tableFull: return 5
        case .blocked: return 6
        case .malformedMulticast: return 7
        }
    }
}
