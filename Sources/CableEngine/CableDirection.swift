// CableDirection: the impairment pipeline of one direction, pure and clock-free: given a frame's
// length and the time it arrived, it says which copies leave, when, and which bits to flip.
//
// Order per frame, like netem and wirefilter: cut → MTU → loss (Bernoulli, or Gilbert–Elliott
// when loss_burst > 0) → duplication → rate limit with a bounded queue (tail drop) → delay and
// jitter → reordering → bit errors. Frames wait by due time, so a long delay never throttles the
// rate; without reordering, jitter never reorders (a frame is never due before the one before it).

/// One copy of a frame to send at `due` (monotonic ns), with these bit positions flipped.
public struct CableDelivery: Equatable, Sendable {
    public var due: UInt64
    public var flippedBits: [Int]
}

/// The copies of one frame that leave: none (dropped), one, or two (duplicated). A fixed-size
/// value rather than an array, so deciding a frame's fate allocates nothing.
public struct CableDecision: RandomAccessCollection, Equatable, Sendable {
    private var storage: (CableDelivery?, CableDelivery?) = (nil, nil)
    public private(set) var count = 0

    public init() {}

    mutating func append(_ delivery: CableDelivery) {
        if count == 0 { storage.0 = delivery } else { storage.1 = delivery }
        count += 1
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(position: Int) -> CableDelivery { position == 0 ? storage.0! : storage.1! }

    public static func == (lhs: CableDecision, rhs: CableDecision) -> Bool { Array(lhs) == Array(rhs) }
}

public struct CableDirection: Sendable {
    public var impairments: CableImpairments
    public var isCut = false
    public private(set) var counters = CableCounters()
    private var random: RandomSource
    /// Gilbert–Elliott: whether the chain is in the Bad (losing) state.
    private var inBadState = false
    /// When the rate limiter is next free (monotonic ns).
    private var busyUntil: UInt64 = 0
    /// Departure times of frames still waiting for the rate limiter.
    private var rateQueue: [UInt64] = []
    /// The latest due time handed out, so delayed frames keep their order.
    private var lastDue: UInt64 = 0

    public init(impairments: CableImpairments = .none, seed: UInt64) {
        self.impairments = impairments
        random = RandomSource(seed: seed)
    }

    /// Decides the fate of a frame of `length` bytes arriving at `now`.
    public mutating func process(length: Int, now: UInt64) -> CableDecision {
        counters.framesIn += 1
        counters.bytesIn += UInt64(length)
        if isCut { return drop(.cut) }
        if impairments.mtu > 0 && length - 14 > impairments.mtu { return drop(.mtu) }
        if lost() { return drop(.loss) }
        var copies = 1
        if random.chance(percent: impairments.duplicatePercent) {
            copies = 2
            counters.duplicated += 1
        }
        var deliveries = CableDecision()
        for _ in 0..<copies {
            guard let departure = rateLimit(length: length, now: now) else {
                counters.drops[.queue, default: 0] += 1
                continue
            }
            var due = departure + latency()
            if random.chance(percent: impairments.reorderPercent) {
                // Sent at once, ahead of frames still waiting out their delay.
                due = departure
                if due < lastDue { counters.reordered += 1 }
            } else {
                due = max(due, lastDue)
                lastDue = due
            }
            let flips = bitErrors(length: length)
            if !flips.isEmpty { counters.corrupted += 1 }
            deliveries.append(CableDelivery(due: due, flippedBits: flips))
        }
        return deliveries
    }

    /// The caller reports each copy it actually sent.
    public mutating func sent(length: Int) {
        counters.framesOut += 1
        counters.bytesOut += UInt64(length)
    }

    public mutating func resetCounters() { counters = CableCounters() }

    /// A copy that could not be delivered after all (the far end was gone, or full).
    public mutating func recordDrop(_ cause: CableDropCause) { counters.drops[cause, default: 0] += 1 }

    private mutating func drop(_ cause: CableDropCause) -> CableDecision {
        counters.drops[cause, default: 0] += 1
        return CableDecision()
    }

    private mutating func lost() -> Bool {
        let p = impairments.lossPercent / 100
        guard p > 0 else { return false }
        guard p < 1 else { return true }
        let burst = impairments.lossBurst
        guard burst > 1 else { return random.unit() < p }
        // Two states; entering Bad with p / (b (1 − p)) and leaving it with 1 / b gives a long-run
        // loss of p and a mean burst of b frames (wirefilter's model, vde-wire.md §5.3).
        if inBadState {
            if random.unit() < 1 / burst { inBadState = false }
        } else if random.unit() < min(1, p / (burst * (1 - p))) {
            inBadState = true
        }
        return inBadState
    }

    /// The departure time after the rate limit, or nil when its queue is full.
    private mutating func rateLimit(length: Int, now: UInt64) -> UInt64? {
        guard impairments.rateKbit > 0 else { return now }
        rateQueue.removeAll { $0 <= now }
        guard rateQueue.count < max(1, impairments.queueFrames) else { return nil }
        let serialization = UInt64(Double(length * 8) / (impairments.rateKbit * 1000) * 1e9)
        busyUntil = max(busyUntil, now) + serialization
        rateQueue.append(busyUntil)
        return busyUntil
    }

    private mutating func latency() -> UInt64 {
        var milliseconds = impairments.delayMs
        if impairments.jitterMs > 0 {
            switch impairments.jitterDistribution {
            case .uniform: milliseconds += (random.unit() * 2 - 1) * impairments.jitterMs
            case .normal: milliseconds += random.normal() * impairments.jitterMs
            }
        }
        return UInt64(max(0, milliseconds) * 1_000_000)
    }

    private mutating func bitErrors(length: Int) -> [Int] {
        guard impairments.bitErrorRate > 0 else { return [] }
        let bits = length * 8
        let flips = min(bits, random.poisson(mean: Double(bits) * impairments.bitErrorRate))
        return (0..<flips).map { _ in Int(random.next() % UInt64(bits)) }
    }
}
