// Pacer: sends at a rate by the clock, not by sleeping a fixed gap, so one slow wake-up on a
// loaded machine is caught up instead of stretching the whole run. Collected: values a reader
// thread gathers while the test thread sends.
import Glibc
import Posix

public struct Pacer: Sendable {
    public let start = Clock.monotonicNanoseconds()
    public let gap: Double

    public init(framesPerSecond: Double) { gap = 1e9 / framesPerSecond }

    /// Sleeps until frame `n` is due: `n / rate` seconds after the start.
    public func wait(for frame: Int) {
        let due = start + UInt64(Double(frame) * gap)
        let now = Clock.monotonicNanoseconds()
        if due > now + 50_000 { usleep(UInt32((due - now) / 1000)) }
    }
}

public final class Collected: @unchecked Sendable {
    private let lock = Lock()
    private var items: [Int] = []

    public init() {}

    public func append(_ value: Int) { lock.withLock { items.append(value) } }
    public var values: [Int] { lock.withLock { items } }
}
