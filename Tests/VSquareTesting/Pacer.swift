// Pacer: sends at a rate by the clock, not by sleeping a fixed gap, so one slow wake-up on a
// loaded machine is caught up instead of stretching the whole run. Collected: values a reader
// thread gathers while the test thread sends; pacedNumberedBroadcast, both at once.
import Glibc
import Posix
import VDEWire

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

/// A paced stream of numbered broadcast frames from `source` (the number in bytes 20–21) sent by
/// `sender`, while a thread collects the numbers `sink` receives from that source until it has
/// been quiet for a second: what a test needs to show that no frame was lost or slowed.
public func pacedNumberedBroadcast(from sender: LibVDEPlug, source: String, to sink: LibVDEPlug, count: Int,
                                   framesPerSecond: Double, size: Int = 60) -> (received: Set<Int>, sendingSeconds: Double) {
    let received = Collected()
    let sourceMAC = EthernetFrame.mac(source)
    let reader = Thread {
        while let frame = sink.receive(timeoutSeconds: 1) {
            if frame.count >= 22 && Array(frame[6..<12]) == sourceMAC { received.append(Int(frame[20]) << 8 | Int(frame[21])) }
        }
    }
    let started = Clock.monotonicNanoseconds()
    let pacer = Pacer(framesPerSecond: framesPerSecond)
    for sequence in 0..<count {
        var bytes = EthernetFrame.make(dst: "ff:ff:ff:ff:ff:ff", src: source, size: size)
        bytes[20] = UInt8(sequence >> 8)
        bytes[21] = UInt8(sequence & 0xFF)
        pacer.wait(for: sequence)
        sender.send(bytes)
    }
    let sending = Double(Clock.monotonicNanoseconds() - started) / 1e9
    reader.join()
    return (Set(received.values), sending)
}
