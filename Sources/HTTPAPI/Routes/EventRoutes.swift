// /v1/events: Server-Sent Events from the EventBus. Each event carries `id: <boot>-<seq>`; a client
// that reconnects with Last-Event-ID gets what it missed (as far as the buffer reaches). A comment
// line every 15 s keeps idle connections open and notices dead ones.
import ControlPlane
import JSON
import Posix
import Synchronization

public enum EventRoutes {
    /// `visible` says whether a principal may see an event.
    public static func register(on router: inout RouterBuilder, events: EventBus, tokens: TokenManager, quotas: QuotaLedger,
                                visible: @escaping @Sendable (Principal, ControlPlaneEvent) -> Bool) {
        router.add("GET", "/v1/events") { request in
            let principal = request.principal
            let release = try quotas.take(.eventStreams, for: principal, limit: quotas.quotas(principal, lab: nil)[.eventStreams])
            let lastID = request.header("last-event-id") ?? request.queryValue("last_event_id")
            var response = HTTPResponse(status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
                                                               ("X-Accel-Buffering", "no")])
            // A stream opened with a token ends when the token is revoked (or expires).
            response.stream = EventStream(bus: events, cursor: events.cursor(after: lastID), keeps: { visible(principal, $0) },
                                          ended: { release() }) { tokens.isValid(principal) }
            return response
        }
    }
}

/// One SSE client's position in the event stream.
final class EventStream: HTTPStream {
    static let keepAliveNanoseconds: UInt64 = 15_000_000_000

    private struct State {
        var cursor: Int
        var pending: [UInt8] = Array("retry: 2000\n\n".utf8)
        var subscription: Int?
        var lastWrite = Clock.monotonicNanoseconds()
    }

    private let bus: EventBus
    private let state: Mutex<State>
    /// Whether the stream's principal may still read it.
    private let allowed: @Sendable () -> Bool
    /// Which events its principal may see (a scoped one: those of its labs).
    private let keeps: @Sendable (ControlPlaneEvent) -> Bool

    /// Called once the stream is over (its event stream quota is given back).
    private let ended: @Sendable () -> Void

    init(bus: EventBus, cursor: Int, keeps: @escaping @Sendable (ControlPlaneEvent) -> Bool, ended: @escaping @Sendable () -> Void = {},
         allowed: @escaping @Sendable () -> Bool) {
        self.bus = bus
        self.keeps = keeps
        self.ended = ended
        self.allowed = allowed
        state = Mutex(State(cursor: cursor))
    }

    func start(wake: @escaping @Sendable () -> Void) {
        let token = bus.subscribe(wake)
        state.withLock { $0.subscription = token }
    }

    func read(maximum: Int) -> [UInt8]? {
        let bus = self.bus
        let allowed = self.allowed()
        return state.withLock { state -> [UInt8]? in
            if state.pending.isEmpty {
                if bus.isClosed || !allowed { return nil }
                let (events, gap) = bus.events(after: state.cursor)
                if gap { state.pending += Array(": some events were lost (the buffer holds \(bus.capacity))\n\n".utf8) }
                for event in events {
                    // Past an event this principal may not see, too, so it is not read again.
                    state.cursor = event.sequence
                    guard keeps(event) else { continue }
                    state.pending += Array("id: \(event.id)\nevent: \(event.type)\ndata: ".utf8) + event.data.serialized() + Array("\n\n".utf8)
                }
                let now = Clock.monotonicNanoseconds()
                if state.pending.isEmpty && now - state.lastWrite >= EventStream.keepAliveNanoseconds {
                    state.pending = Array(": keep-alive\n\n".utf8)
                }
            }
            guard !state.pending.isEmpty else { return [] }
            let chunk = Array(state.pending.prefix(maximum))
            state.pending.removeFirst(chunk.count)
            state.lastWrite = Clock.monotonicNanoseconds()
            return chunk
        }
    }

    func cancel() {
        if let token = state.withLock({ $0.subscription }) { bus.unsubscribe(token) }
        ended()
    }
}
