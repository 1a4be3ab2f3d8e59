// CableWorker: one cable's event loop. Frames read from either end go through that direction's
// CableDirection (the impairments, pure), wait in a due-time heap if delayed, and are sent out of
// the other end. Ends that lose their switch are plugged in again with backoff. One thread, epoll,
// timeouts from the earliest due frame or reconnection.
import CableEngine
import Glibc
import JSON
import Log
import Posix
import WorkerControl

enum CableTokenKind: UInt8 {
    case controlListener = 1
    case controlClient
    case signals
    case endData
    case endControl
}

public final class CableWorker {
    public let options: CableOptions
    let log: Log
    let epoll: Epoll
    let control: ControlServer<CableWorker>
    let signals: SignalFD
    let ends: [VDESwitchEnd]
    /// Index 0 is a→b, index 1 is b→a.
    var directions: [CableDirection]
    var queues = [DeliveryQueue(), DeliveryQueue()]
    let receiveBatch = ReceiveBatch(count: 64, slotSize: 65536)
    var running = true
    var isCut = false
    var appliedGeneration: Int64 = 0
    let instanceID = String(UInt64.random(in: 0...UInt64.max), radix: 16)
    let startedAt = Clock.monotonicNanoseconds()

    public init(options: CableOptions, log: Log) throws {
        self.options = options
        self.log = log
        epoll = try Epoll()
        control = try ControlServer(path: options.control, epoll: epoll, listenerKind: CableTokenKind.controlListener.rawValue,
                                    clientKind: CableTokenKind.controlClient.rawValue, ops: CableOps.all, log: log)
        signals = try SignalFD([SIGTERM, SIGINT, SIGHUP])
        try epoll.add(signals.fd, events: .readable, token: Token(kind: CableTokenKind.signals.rawValue).raw)
        let description = "vsquare-cable: \(options.name)"
        ends = [VDESwitchEnd(side: "a", directory: options.a, port: options.aPort, description: description),
                VDESwitchEnd(side: "b", directory: options.b, port: options.bPort, description: description)]
        directions = [CableDirection(seed: options.seed), CableDirection(seed: options.seed &+ 1)]
    }

    public func run() {
        log.info("cable started", [("cable.name", options.name), ("a", options.a), ("b", options.b), ("seed", String(options.seed))])
        let now = Clock.monotonicNanoseconds()
        for index in ends.indices { plug(index, now: now) }
        while running {
            let ready = (try? epoll.wait(timeoutMilliseconds: nextTimeout())) ?? 0
            for index in 0..<ready {
                let (raw, events) = epoll.event(index)
                let token = Token(raw: raw)
                switch CableTokenKind(rawValue: token.kind) {
                case .controlListener?: control.acceptClients()
                case .controlClient?: control.clientReady(token, events, context: self)
                case .signals?:
                    while signals.read() != nil { running = false }
                case .endData?: receive(from: token.slot)
                case .endControl?: endControlReadable(token.slot)
                case nil: break
                }
            }
            runTimers(now: Clock.monotonicNanoseconds())
        }
        for index in ends.indices where ends[index].client != nil { unplug(index, now: Clock.monotonicNanoseconds(), reason: "shutdown") }
        control.shutdown()
        log.info("cable stopped", [("cable.name", options.name)])
    }

    // MARK: ends

    private func plug(_ index: Int, now: UInt64) {
        let end = ends[index]
        guard end.connect(now: now), let client = end.client else { return }
        try? epoll.add(client.data.fd, events: .readable, token: Token(kind: CableTokenKind.endData.rawValue, slot: index).raw)
        try? epoll.add(client.control.fd, events: [.readable, .readHangUp], token: Token(kind: CableTokenKind.endControl.rawValue, slot: index).raw)
        log.info("end plugged in", [("cable.name", options.name), ("side", end.side), ("port_socket", client.portSocketPath)])
        control.emit(["event": "end.up", "side": JSON(end.side), "port_socket": JSON(client.portSocketPath)])
    }

    private func unplug(_ index: Int, now: UInt64, reason: String) {
        let end = ends[index]
        if let client = end.client {
            epoll.remove(client.data.fd)
            epoll.remove(client.control.fd)
        }
        end.disconnect(now: now)
        let metadata = [("cable.name", options.name), ("side", end.side), ("reason", reason)]
        if reason == "shutdown" { log.info("end unplugged", metadata) } else { log.warning("end unplugged", metadata) }
        control.emit(["event": "end.down", "side": JSON(end.side), "reason": JSON(reason)])
    }

    private func endControlReadable(_ index: Int) {
        guard let client = ends[index].client else { return }
        var scratch: [UInt8] = []
        switch try? client.control.read(into: &scratch, maximum: 64) {
        case .done(let count)? where count > 0: return
        case .wouldBlock?: return
        default: unplug(index, now: Clock.monotonicNanoseconds(), reason: "the switch closed the connection")
        }
    }

    // MARK: frames

    private func receive(from index: Int) {
        guard let client = ends[index].client else { return }
        let direction = index
        let target = 1 - index
        for _ in 0..<8 {
            guard case .done(let count)? = try? receiveBatch.receive(from: client.data.fd), count > 0 else { return }
            let now = Clock.monotonicNanoseconds()
            for message in 0..<count {
                let length = min(receiveBatch.length(message), receiveBatch.slotSize)
                let slot = receiveBatch.slot(message)
                for delivery in directions[direction].process(length: length, now: now) {
                    if delivery.due <= now && queues[direction].isEmpty && delivery.flippedBits.isEmpty {
                        send(UnsafeRawBufferPointer(rebasing: slot[..<length]), to: target, direction: direction)
                        continue
                    }
                    var bytes = Array(slot[..<length])
                    for bit in delivery.flippedBits { bytes[bit / 8] ^= UInt8(1 << (bit % 8)) }
                    if delivery.due <= now && queues[direction].isEmpty {
                        bytes.withUnsafeBytes { send($0, to: target, direction: direction) }
                    } else {
                        queues[direction].push(due: delivery.due, bytes: bytes)
                    }
                }
            }
            if count < receiveBatch.count { return }
        }
    }

    private func send(_ frame: UnsafeRawBufferPointer, to target: Int, direction: Int) {
        if ends[target].client == nil {
            directions[direction].recordDrop(.down)
        } else if ends[target].send(frame) {
            directions[direction].sent(length: frame.count)
        } else {
            directions[direction].recordDrop(.queue)
        }
    }

    // MARK: timers

    private func nextTimeout() -> Int32 {
        let now = Clock.monotonicNanoseconds()
        var deadline = now + 1_000_000_000
        for queue in queues { if let due = queue.nextDue { deadline = min(deadline, due) } }
        for end in ends where end.state == .connecting { deadline = min(deadline, end.retryAt) }
        return Int32(max(0, (Int64(deadline) - Int64(now) + 999_999) / 1_000_000))
    }

    private func runTimers(now: UInt64) {
        for direction in 0..<2 {
            while let frame = queues[direction].popDue(now: now) {
                frame.bytes.withUnsafeBytes { send($0, to: 1 - direction, direction: direction) }
            }
        }
        for index in ends.indices where ends[index].state == .connecting && ends[index].retryAt <= now {
            plug(index, now: now)
        }
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
