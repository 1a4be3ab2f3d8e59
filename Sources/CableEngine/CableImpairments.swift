// CableImpairments: what one direction of a cable does to frames, in the units scripts use.
// Each field's zero (or nil) means "off". Field names on the wire: delay_ms, jitter_ms,
// jitter_distribution, loss_pct, loss_burst, dup_pct, rate_kbit, queue_frames, mtu, ber, reorder_pct.

public enum JitterDistribution: String, Sendable, CaseIterable {
    /// Uniform in [delay − jitter, delay + jitter].
    case uniform
    /// Normal with mean delay and standard deviation jitter (clamped at 0).
    case normal
}

public struct CableImpairments: Equatable, Sendable {
    /// Added latency, milliseconds.
    public var delayMs: Double = 0
    /// Variation of the latency, milliseconds.
    public var jitterMs: Double = 0
    public var jitterDistribution: JitterDistribution = .uniform
    /// Long-run share of frames lost, percent.
    public var lossPercent: Double = 0
    /// Mean length of a loss burst in frames (Gilbert–Elliott); 0 means independent losses.
    public var lossBurst: Double = 0
    /// Share of frames sent twice, percent.
    public var duplicatePercent: Double = 0
    /// Link rate, kbit/s (1000 bit/s); frames beyond it wait in a queue.
    public var rateKbit: Double = 0
    /// Frames that may wait for the rate limit before new ones are tail-dropped.
    public var queueFrames = 1000
    /// Largest Ethernet payload (frame minus its 14-byte header) carried; larger frames are dropped.
    public var mtu = 0
    /// Bit error rate: the probability that any one bit of a frame is flipped.
    public var bitErrorRate: Double = 0
    /// Share of frames sent ahead of earlier, delayed ones, percent.
    public var reorderPercent: Double = 0

    public init() {}

    public static let none = CableImpairments()
}

/// Why a cable dropped a frame.
public enum CableDropCause: String, CaseIterable, Sendable {
    case loss
    case queue
    case mtu
    case cut
    /// The far end was not plugged in when the frame was due.
    case down
}

/// What one direction did, all counts since the cable started.
public struct CableCounters: Equatable, Sendable {
    public var framesIn: UInt64 = 0
    public var bytesIn: UInt64 = 0
    public var framesOut: UInt64 = 0
    public var bytesOut: UInt64 = 0
    public var duplicated: UInt64 = 0
    public var corrupted: UInt64 = 0
    public var reordered: UInt64 = 0
    public var drops: [CableDropCause: UInt64] = [:]

    public init() {}
}
