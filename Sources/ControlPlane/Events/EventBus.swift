// EventBus: the control plane's events (switch created, state changed, port up, worker crashed…)
// in a bounded buffer, each with an id `<boot>-<sequence>`. A subscriber that reconnects with the
// last id it saw gets what it missed, as far as the buffer reaches; an id from an earlier boot of
// vsquared replays the whole buffer. Subscribers are woken on publish, and every 15 s for keep-alives.
import Glibc
import JSON
import Posix
import Synchronization

public struct ControlPlaneEvent: Sendable {
    public let sequence: Int
    public let id: String
    public let type: String
    public let data: JSON
}

public final class EventBus: Sendable {
    public let capacity: Int
    /// Distinguishes this process's ids from an earlier one's.
    public let bootID: String

    private struct State {
        var buffer: [ControlPlaneEvent] = []
        var nextSequence = 1
        var subscribers: [Int: @Sendable () -> Void] = [:]
        var nextSubscriber = 0
        var closed = false
    }

    private let state = Mutex(State())

    public init(capacity: Int = 2048) {
        self.capacity = capacity
        bootID = String(UInt32.random(in: 0...UInt32.max), radix: 16)
    }

    /// Adds an event of `type` with `data` (an `at` timestamp is added) and wakes every subscriber.
    public func publish(_ type: String, _ data: JSONObject) {
        var body = data
        body["at"] = JSON(Clock.rfc3339(Clock.wallSeconds()))
        let wakers: [@Sendable () -> Void] = state.withLock { state in
            let sequence = state.nextSequence
            state.nextSequence += 1
            state.buffer.append(ControlPlaneEvent(sequence: sequence, id: "\(bootID)-\(sequence)", type: type, data: .object(body)))
            if state.buffer.count > capacity { state.buffer.removeFirst(state.buffer.count - capacity) }
            return Array(state.subscribers.values)
        }
        for wake in wakers { wake() }
    }

    /// The sequence after which a subscriber that last saw `lastEventID` should continue.
    public func cursor(after lastEventID: String?) -> Int {
        guard let lastEventID else {
            return state.withLock { $0.nextSequence - 1 }
        }
        let parts = lastEventID.split(separator: "-")
        guard parts.count == 2, String(parts[0]) == bootID, let sequence = Int(parts[1]) else { return 0 }
        return sequence
    }

    /// Events after `cursor`, oldest first, and whether some were lost to the buffer's bound.
    public func events(after cursor: Int) -> (events: [ControlPlaneEvent], gap: Bool) {
        state.withLock { state in
            let events = state.buffer.filter { $0.sequence > cursor }
            let gap = (state.buffer.first?.sequence ?? state.nextSequence) > cursor + 1 && cursor > 0
            return (events, gap)
        }
    }

    /// Registers `wake` to be called on every publish and keep-alive tick; returns a token for `unsubscribe`.
    public func subscribe(_ wake: @escaping @Sendable () -> Void) -> Int {
        state.withLock { state in
            let token = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[token] = wake
            return token
        }
    }

    public func unsubscribe(_ token: Int) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: token) }
    }

    /// Ends every stream (at shutdown): subscribers are woken and see `isClosed`.
    public func close() {
        let wakers = state.withLock { state -> [@Sendable () -> Void] in
            state.closed = true
            return Array(state.subscribers.values)
        }
        for wake in wakers { wake() }
    }

    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Ticks every `seconds` until closed, so idle streams can send keep-alives.
    public func startKeepAlive(every seconds: Double = 5) {
        _ = Thread { [self] in
            while !isClosed {
                usleep(UInt32(seconds * 1_000_000))
                tick()
            }
        }
    }

    /// Wakes every subscriber (the keep-alive tick).
    public func tick() {
        let wakers = state.withLock { Array($0.subscribers.values) }
        for wake in wakers { wake() }
    }
}
