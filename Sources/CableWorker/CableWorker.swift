// CableWorker: one cable's event loop. Frames read from either end go through that direction's
// CableDirection (the impairments, pure), wait in a due-time heap if delayed, and are sent out of
// the other end. Ends that lose their switch are plugged in again with backoff. One thread, epoll,
// timeouts from the earliest due frame or reconnection.
import CableEngine
import Glibc
import JSON
import Log
import PacketCapture
import Posix
import VDEWire
import WorkerControl

enum CableTokenKind: UInt8 {
    case controlListener = 1
    case controlClient
    case signals
    case capture
}

public final class CableWorker: CaptureHost {
    public let options: CableOptions
    let log: Log
    let epoll: Epoll
    let control: ControlServer<CableWorker>
    let signals: SignalFD
    /// Live packet captures of what the cable delivers (CaptureOps).
    public let captures: CaptureTaps
    /// Index 0 is end a (a local switch), index 1 is end b (a switch or a remote peer).
    var ends: [any CableEnd] = []
    /// Index 0 is a→b, index 1 is b→a.
    var directions: [CableDirection]
    var queues = [DeliveryQueue(), DeliveryQueue()]
    var running = true
    var isCut = false
    var appliedGeneration: Int64 = 0
    let instanceID = String(UInt64.random(in: 0...UInt64.max), radix: 16)
    let startedAt = Clock.monotonicNanoseconds()

    public init(options: CableOptions, log: Log) throws {
        self.options = options
        self.log = log
        StreamCipher.prepare()
        epoll = try Epoll()
        control = try ControlServer(path: options.control, epoll: epoll, listenerKind: CableTokenKind.controlListener.rawValue,
                                    clientKind: CableTokenKind.controlClient.rawValue, ops: CableOps.all, log: log)
        signals = try SignalFD([SIGTERM, SIGINT, SIGHUP])
        captures = CaptureTaps(epoll: epoll, tokenKind: CableTokenKind.capture.rawValue)
        try epoll.add(signals.fd, events: .readable, token: Token(kind: CableTokenKind.signals.rawValue).raw)
        directions = [CableDirection(seed: options.seed), CableDirection(seed: options.seed &+ 1)]
        // A switch knows a cable to another switch by this description (never an edge port for its
        // spanning tree); a plug into a stack or the host says so instead.
        let description: String
        switch options.b {
        case .local, .listen, .connect, .vxlan: description = VDEConnectRequest.cableDescription(options.name)
        case .interface, .slirp: description = "vsquare-stack: \(options.name)"
        }
        let emit: (JSON) -> Void = { [unowned self] event in self.endEvent(event) }
        ends.append(VDESwitchEnd(side: "a", directory: options.a, port: options.aPort, description: description,
                                 context: EndContext(epoll: epoll, slot: 0, emit: emit)))
        let context = EndContext(epoll: epoll, slot: 1, emit: emit)
        switch options.b {
        case .local(let directory):
            ends.append(VDESwitchEnd(side: "b", directory: directory, port: options.bPort, description: description, context: context))
        case .listen(let address):
            ends.append(TCPStreamEnd(side: "b", mode: .listen(address), key: options.key, context: context))
        case .connect(let address):
            ends.append(TCPStreamEnd(side: "b", mode: .connect(address), key: options.key, context: context))
        case .vxlan(let settings):
            ends.append(VXLANEnd(side: "b", settings: settings, context: context))
        case .interface(let name, let link, let dhcpHook):
            ends.append(InterfaceEnd(side: "b", name: name, link: link, dhcpHook: dhcpHook, context: context))
        case .slirp(let settings):
            ends.append(SlirpEnd(side: "b", settings: settings, context: context) { [unowned self] frame in
                self.forward(frame, from: 1, now: Clock.monotonicNanoseconds())
            })
        }
    }

    public func run() {
        log.info("cable started", [("cable.name", options.name), ("a", options.a), ("b", String(describing: options.b)),
                                   ("seed", String(options.seed))])
        let now = Clock.monotonicNanoseconds()
        for end in ends { end.start(now: now) }
        while running {
            let ready = (try? epoll.wait(timeoutMilliseconds: nextTimeout())) ?? 0
            for index in 0..<ready {
                let (raw, events) = epoll.event(index)
                let token = Token(raw: raw)
                if let kind = EndTokenKind(rawValue: token.kind), ends.indices.contains(token.slot) {
                    let now = Clock.monotonicNanoseconds()
                    ends[token.slot].handle(kind: kind, events: events, now: now) { frame in forward(frame, from: token.slot, now: now) }
                    continue
                }
                switch CableTokenKind(rawValue: token.kind) {
                case .controlListener?: control.acceptClients()
                case .controlClient?: control.clientReady(token, events, context: self)
                case .capture?: captures.handle(token, events)
                case .signals?:
                    while signals.read() != nil { running = false }
                case nil: break
                }
            }
            runTimers(now: Clock.monotonicNanoseconds())
            captures.flush()
        }
        captures.stopAll()
        for end in ends { end.stop() }
        control.shutdown()
        log.info("cable stopped", [("cable.name", options.name)])
    }

    /// An end's event: logged and passed to control clients.
    private func endEvent(_ event: JSON) {
        let name = event["event"]?.stringValue ?? "end"
        let metadata = [("cable.name", options.name), ("side", event["side"]?.stringValue ?? "-"),
                        ("detail", event["reason"]?.stringValue ?? event["peer"]?.stringValue ?? "-")]
        if name == "end.up" { log.info(name, metadata) } else { log.warning(name, metadata) }
        control.emit(event)
    }

    // MARK: frames

    /// A frame from end `index`: its direction's impairments decide; copies that leave now and
    /// unchanged are sent straight from the receive buffer, the rest are copied and queued.
    private func forward(_ frame: UnsafeRawBufferPointer, from index: Int, now: UInt64) {
        let direction = index
        for delivery in directions[direction].process(length: frame.count, now: now) {
            if delivery.flippedBits.isEmpty && delivery.due <= now && queues[direction].isEmpty {
                send(frame, direction: direction)
                continue
            }
            var bytes = Array(frame)
            for bit in delivery.flippedBits { bytes[bit / 8] ^= UInt8(1 << (bit % 8)) }
            if delivery.due <= now && queues[direction].isEmpty {
                bytes.withUnsafeBytes { send($0, direction: direction) }
            } else {
                queues[direction].push(due: delivery.due, bytes: bytes)
            }
        }
    }

    private func send(_ frame: UnsafeRawBufferPointer, direction: Int) {
        let target = ends[1 - direction]
        if !target.isUp {
            directions[direction].recordDrop(.down)
        } else if !target.fits(frame.count) {
            directions[direction].recordDrop(.mtu)
        } else if target.send(frame) {
            directions[direction].sent(length: frame.count)
            if !captures.isEmpty { captures.offer(channel: direction, sent: true, FramePieces(frame.baseAddress!, frame.count)) }
        } else {
            directions[direction].recordDrop(.queue)
        }
    }

    // MARK: timers

    private func nextTimeout() -> Int32 {
        let now = Clock.monotonicNanoseconds()
        var deadline = now + 1_000_000_000
        for queue in queues { if let due = queue.nextDue { deadline = min(deadline, due) } }
        if let due = captures.nextDeadline { deadline = min(deadline, due) }
        for end in ends {
            if let due = end.retryAt { deadline = min(deadline, due) }
            if let due = end.wakeAt { deadline = min(deadline, due) }
        }
        return Int32(max(0, (Int64(deadline) - Int64(now) + 999_999) / 1_000_000))
    }

    private func runTimers(now: UInt64) {
        captures.runTimers(now: now)
        for direction in 0..<2 {
            while let frame = queues[direction].popDue(now: now) {
                frame.bytes.withUnsafeBytes { send($0, direction: direction) }
            }
        }
        for end in ends {
            if let due = end.retryAt, due <= now { end.start(now: now) }
            if let due = end.wakeAt, due <= now { end.wake(now: now) }
        }
    }

    // MARK: capture

    /// A cable captures what it delivers one way or both: `a_to_b` is what end b receives.
    public func capturePoint(_ reader: inout JSONReader) throws -> CapturePoint {
        let direction = try reader.string("direction", default: "both")
        let channels: [Int]
        switch direction {
        case "a_to_b": channels = [0]
        case "b_to_a": channels = [1]
        case "both": channels = [0, 1]
        default: throw JSONFieldError(path: "direction", rule: "must be a_to_b, b_to_a or both")
        }
        return CapturePoint(channels: channels, received: false, sent: true)
    }

    // MARK: cut and restore

    func setCut(_ cut: Bool) {
        guard cut != isCut else { return }
        isCut = cut
        for index in directions.indices { directions[index].isCut = cut }
        if cut { for index in queues.indices { queues[index].removeAll() } }
        control.emit(["event": cut ? "cable.cut" : "cable.restored"])
        log.info(cut ? "cable cut" : "cable restored", [("cable.name", options.name)])
    }
}
