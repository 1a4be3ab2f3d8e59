// CableEnd: one side of a cable behind one small interface — start (plug in, connect or listen),
// handle readiness of its descriptors (returning the frames that arrived), send a frame, stop.
// Kinds: VDESwitchEnd (a local switch, like vde_plug), TCPStreamEnd (a remote peer over TCP),
// InterfaceEnd (a tap or veth in the worker's namespace), SlirpEnd (a user-mode NAT router) and
// VXLANEnd (a VXLAN tunnel to a peer or a multicast group).
import JSON
import Posix
import WorkerControl

/// What an end needs from the worker: epoll registration under its slot, and events.
struct EndContext {
    let epoll: Epoll
    /// The end's index (0 = a, 1 = b), carried in its tokens' slot.
    let slot: Int
    let emit: (JSON) -> Void
}

enum EndTokenKind: UInt8 {
    case endData = 4
    case endControl = 5
    case endListen = 6
    /// A remote end's newcomer, still proving its key.
    case endCandidate = 7
}

protocol CableEnd: AnyObject {
    var side: String { get }
    /// Frames can be sent and received.
    var isUp: Bool { get }
    /// When to call `start` again (nil: nothing to retry, e.g. up or listening).
    var retryAt: UInt64? { get }
    func start(now: UInt64)
    /// Readiness of one of this end's descriptors; each frame that arrived is handed to `deliver`
    /// as a view that is valid only during the call (no copy unless the receiver keeps it).
    func handle(kind: EndTokenKind, events: Epoll.Events, now: UInt64, deliver: (UnsafeRawBufferPointer) -> Void)
    func send(_ frame: UnsafeRawBufferPointer) -> Bool
    /// Whether a frame of `length` bytes can leave this end whole (a tunnel's path MTU).
    func fits(_ length: Int) -> Bool
    func stop()
    var status: JSONObject { get }
    /// When the end needs `wake` for timers of its own (nil: none armed).
    var wakeAt: UInt64? { get }
    func wake(now: UInt64)
}

extension CableEnd {
    var wakeAt: UInt64? { nil }
    func wake(now: UInt64) {}
    func fits(_ length: Int) -> Bool { true }
}

extension EndContext {
    func token(_ kind: EndTokenKind) -> UInt64 { Token(kind: kind.rawValue, slot: slot).raw }
}
