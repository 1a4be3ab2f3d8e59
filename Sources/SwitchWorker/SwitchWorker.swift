// SwitchWorker: the event loop around one SwitchEngine, shaped like OVS's main loop: one thread,
// epoll, everything non-blocking; each turn waits until the earliest deadline, dispatches what is
// ready, then runs the timers.
//
// Data path, per readable port socket: recvmmsg up to `batchSize` frames into the slab, ask the
// engine about each, gather every copy to send as iovecs pointing into the slab (a tag inserted or
// removed costs no copy), then every endpoint's share in one io_uring call (SendRing; one sendmmsg
// per endpoint where the kernel has no io_uring). Frames a client's socket
// buffer cannot take go to that endpoint's bounded OutputQueue and leave when it is writable
// again; only a full queue drops (counted as `queue_full`). The loop never blocks on a client.
import Glibc
import JSON
import Log
import PacketCapture
import Posix
import SwitchEngine
import VDEWire
import WorkerControl

/// What an epoll token in this worker refers to.
enum TokenKind: UInt8 {
    case ctlListener = 1
    case controlListener
    case signals
    case handshake
    case endpointData
    case endpointControl
    case controlClient
    case capture
}

extension Token {
    init(_ kind: TokenKind, slot: Int = 0, generation: UInt32 = 0) { self.init(kind: kind.rawValue, slot: slot, generation: generation) }
}

public final class SwitchWorker {
    public let options: SwitchOptions
    let log: Log
    var engine: SwitchEngine
    let epoll: Epoll
    let controlDirectory: ControlDirectory
    let ctlListener: Socket
    /// The JSON control socket (ops in PortOps, VLANOps, MACOps, SwitchOps).
    let control: ControlServer<SwitchWorker>
    let signals: SignalFD
    /// Live packet captures (CaptureOps); frames are offered to them only while one exists.
    public let captures: CaptureTaps

    static let batchSize = 64
    /// Receive batches taken from one socket per wake-up, so one busy client cannot starve the rest.
    static let batchesPerWakeup = 8
    static let handshakeTimeout: UInt64 = 2_000_000_000
    /// Kernel send buffer asked for on each port socket: frames in flight before our own queue is used.
    static let socketBufferBytes: Int32 = 4 << 20

    var receiveBatch: ReceiveBatch
    /// Zero bytes that pad a frame made short by removing its tag.
    let zeros: UnsafeMutableRawPointer = {
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 16)
        bytes.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
        return bytes
    }()
    let drainBatch = SendBatch(capacity: SwitchWorker.batchSize)
    /// Sends of one flush leave in one io_uring call; nil when sending with sendmmsg.
    var sendRing: SendRing?
    static let sendRingCapacity = 1024
    var endpoints = SlotTable<Endpoint>()
    var handshakes = SlotTable<Handshake>()
    /// Endpoint slots per port number.
    var portEndpoints: [[Int]]
    var dirtyEndpoints: [Endpoint] = []
    var running = true
    var nextMACExpiry: UInt64?
    /// Kept while the spanning tree is off, so turning it on again keeps the settings.
    var spanningTreeConfiguration = SpanningTreeConfiguration()
    var nextSpanningTreeTick: UInt64 = 0
    var multicastConfiguration = MulticastSnoopingConfiguration()
    /// vsquare cables cut while plugged in here (cable.carrier): an end that plugs in again has no carrier.
    var cablesWithoutCarrier: Set<String> = []
    var nextMulticastTick: UInt64 = 0

    let instanceID: String
    let startedAt = Clock.monotonicNanoseconds()
    /// The configuration generation vsquared last applied (0 until it sets one).
    var appliedGeneration: Int64 = 0
    var stats = WorkerStats()
    var eventLimiter = RateLimiter(perSecond: 200)

    /// Creates the control directory, binds `ctl` and the control socket. Throws `SwitchStartError`.
    public init(options: SwitchOptions, log: Log) throws {
        self.options = options
        self.log = log
        var configuration = SwitchEngineConfiguration()
        configuration.hub = options.hub
        configuration.macAgingSeconds = options.macAgingSeconds
        configuration.maxFrameSize = options.maxFrameSize
        engine = SwitchEngine(portCount: options.ports, configuration: configuration)
        portEndpoints = Array(repeating: [], count: options.ports + 1)
        receiveBatch = ReceiveBatch(count: SwitchWorker.batchSize, slotSize: options.maxFrameSize + 1)
        instanceID = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        controlDirectory = try ControlDirectory(options: options)
        epoll = try Epoll()
        ctlListener = try controlDirectory.listen()
        do {
            control = try ControlServer(path: options.control, epoll: epoll, listenerKind: TokenKind.controlListener.rawValue,
                                        clientKind: TokenKind.controlClient.rawValue, ops: ControlOps.all, log: log)
        } catch {
            controlDirectory.remove()
            throw error
        }
        signals = try SignalFD([SIGTERM, SIGINT, SIGHUP])
        if options.sends == .ioUring {
            do {
                sendRing = try SendRing(capacity: SwitchWorker.sendRingCapacity)
            } catch {
                log.info("no io_uring here; sending with sendmmsg", [("error", String(describing: error))])
            }
        }
        captures = CaptureTaps(epoll: epoll, tokenKind: TokenKind.capture.rawValue)
        try epoll.add(ctlListener.fd, events: .readable, token: Token(.ctlListener).raw)
        try epoll.add(signals.fd, events: .readable, token: Token(.signals).raw)
    }

    deinit { zeros.deallocate() }

    /// How frames leave: the ring when asked for and this kernel has one, else sendmmsg.
    var sendPath: SendPath { sendRing == nil ? .sendmmsg : .ioUring }

    /// Runs until SIGTERM/SIGINT or a `shutdown` op, then unplugs everyone and removes the sockets.
    public func run() {
        if let nice = options.nice {
            do {
                try ProcessPriority.set(nice)
            } catch {
                log.info("scheduling priority left as it was", [("nice.asked", String(nice)), ("nice", String(ProcessPriority.current)),
                                                                 ("error", String(describing: error))])
            }
        }
        log.info("switch started", [("switch.dir", options.directory), ("switch.ports", String(options.ports)),
                                    ("control", options.control), ("hub", String(options.hub)), ("nice", String(ProcessPriority.current)),
                                    ("sends", sendPath.rawValue)])
        while running {
            let timeout = nextTimeout()
            let ready: Int
            do {
                ready = try epoll.wait(timeoutMilliseconds: timeout)
            } catch {
                log.error("epoll failed", [("error", String(describing: error))])
                break
            }
            for index in 0..<ready {
                let (raw, events) = epoll.event(index)
                dispatch(Token(raw: raw), events)
            }
            runTimers(now: Clock.monotonicNanoseconds())
            captures.flush()
        }
        stop()
    }

    private func dispatch(_ token: Token, _ events: Epoll.Events) {
        guard let kind = TokenKind(rawValue: token.kind) else { return }
        switch kind {
        case .endpointData:
            guard let endpoint = endpoints.get(token.slot, generation: token.generation) else { return }
            if events.contains(.writable) { drainBacklog(endpoint) }
            if events.contains(.readable) { receiveFrames(from: endpoint) }
        case .endpointControl:
            guard let endpoint = endpoints.get(token.slot, generation: token.generation) else { return }
            controlStreamReadable(endpoint)
        case .ctlListener:
            acceptHandshakes()
        case .handshake:
            guard let handshake = handshakes.get(token.slot, generation: token.generation) else { return }
            handshakeReadable(handshake)
        case .controlListener:
            control.acceptClients()
        case .controlClient:
            control.clientReady(token, events, context: self)
        case .capture:
            captures.handle(token, events)
        case .signals:
            while let signal = signals.read() {
                log.info("signal received, stopping", [("signal", String(signal))])
                running = false
            }
        }
    }

    // MARK: data path

    func receiveFrames(from endpoint: Endpoint) {
        let port = endpoint.port
        for _ in 0..<SwitchWorker.batchesPerWakeup {
            let count: Int
            do {
                guard case .done(let received) = try receiveBatch.receive(from: endpoint.data.fd) else { return }
                count = received
            } catch {
                // ECONNREFUSED and friends: the client's data socket is gone; only ctl EOF unplugs.
                stats.dataSocketErrors += 1
                return
            }
            let now = Clock.monotonicNanoseconds()
            for index in 0..<count {
                let slot = receiveBatch.slot(index)
                if !captures.isEmpty {
                    captures.offer(channel: port, sent: false, FramePieces(slot.baseAddress!, receiveBatch.length(index)))
                }
                let decision = engine.receive(slot, length: receiveBatch.length(index), from: port, now: now)
                switch decision.forwarding {
                case .unicast(let target, let edit):
                    enqueue(slot, decision.length, edit, to: target)
                case .flood:
                    for target in engine.floodTargets(for: decision.frameClass) where target.port != port {
                        enqueue(slot, decision.length, decision.frameClass.egress(tagged: target.tagged), to: target.port)
                    }
                case .multicast(let targets):
                    for target in targets where target.port != port {
                        enqueue(slot, decision.length, decision.frameClass.egress(tagged: target.tagged), to: target.port)
                    }
                case .bridge:
                    engine.receiveBPDU(UnsafeRawBufferPointer(slot), length: decision.length, from: port, now: now)
                    sendSpanningTreeFrames()
                case .drop, .filtered:
                    break
                }
            }
            flushPending()
            if engine.multicastSnooping != nil { sendMulticastQueries() }
            if count < receiveBatch.count { break }
        }
        if !engine.moves.isEmpty { reportMoves() }
    }

    @inline(__always)
    func enqueue(_ slot: UnsafeMutableRawBufferPointer, _ length: Int, _ edit: EgressEdit, to port: Int) {
        let frame = UnsafeRawPointer(slot.baseAddress!)
        if !captures.isEmpty { captureSent(frame, length, edit, port: port) }
        for endpointSlot in portEndpoints[port] {
            guard let endpoint = endpoints.get(endpointSlot) else { continue }
            let batch = endpoint.pending
            switch edit {
            case .none:
                batch.append(frame, length)
            case .insertTag(let vlan):
                let tag = batch.nextScratch
                tag.storeBytes(of: 0x81, toByteOffset: 0, as: UInt8.self)
                tag.storeBytes(of: 0x00, toByteOffset: 1, as: UInt8.self)
                tag.storeBytes(of: UInt8(vlan >> 8), toByteOffset: 2, as: UInt8.self)
                tag.storeBytes(of: UInt8(vlan & 0xFF), toByteOffset: 3, as: UInt8.self)
                batch.append(frame, 12, tag, 4, frame + 12, length - 12)
            case .stripTag:
                let padding = max(0, SwitchEngine.paddedFrameSize - (length - 4))
                batch.append(frame, 12, frame + 16, length - 16, zeros, padding)
            case .rewriteTCI(let tci):
                let bytes = batch.nextScratch
                bytes.storeBytes(of: UInt8(tci >> 8), toByteOffset: 0, as: UInt8.self)
                bytes.storeBytes(of: UInt8(tci & 0xFF), toByteOffset: 1, as: UInt8.self)
                batch.append(frame, 14, bytes, 2, frame + 16, length - 16)
            }
            if !endpoint.isDirty {
                endpoint.isDirty = true
                dirtyEndpoints.append(endpoint)
            }
        }
    }

    /// Sends frames the switch makes itself (BPDUs, queries), each as it is on the wire, one at a time:
    /// a batch holds pointers until it is sent, so each goes before the buffer is reused.
    func sendOwnFrames(_ frames: [(port: Int, frame: [UInt8])]) {
        guard !frames.isEmpty else { return }
        flushPending()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: frames.map(\.frame.count).max()!, alignment: 8)
        defer { buffer.deallocate() }
        for (port, frame) in frames {
            frame.withUnsafeBytes { buffer.copyMemory(from: $0) }
            enqueue(buffer, frame.count, .none, to: port)
            flushPending()
        }
    }

    /// Offers a frame as it leaves `port` (with its tag inserted, removed or rewritten) to the captures there.
    private func captureSent(_ frame: UnsafeRawPointer, _ length: Int, _ edit: EgressEdit, port: Int) {
        guard !portEndpoints[port].isEmpty else { return }
        withUnsafeTemporaryAllocation(byteCount: 4, alignment: 4) { scratch in
            let bytes = scratch.baseAddress!
            let pieces: FramePieces
            switch edit {
            case .none:
                pieces = FramePieces(frame, length)
            case .insertTag(let vlan):
                bytes.storeBytes(of: UInt32(0x8100_0000 | UInt32(vlan)).bigEndian, as: UInt32.self)
                pieces = FramePieces(frame, 12, bytes, 4, frame + 12, length - 12)
            case .stripTag:
                pieces = FramePieces(frame, 12, frame + 16, length - 16, zeros, max(0, SwitchEngine.paddedFrameSize - (length - 4)))
            case .rewriteTCI(let tci):
                bytes.storeBytes(of: UInt16(tci).bigEndian, as: UInt16.self)
                pieces = FramePieces(frame, 14, bytes, 2, frame + 16, length - 16)
            }
            captures.offer(channel: port, sent: true, pieces)
        }
    }

    /// Sends what the last receive batch gathered (every endpoint's share through the SendRing in one
    /// call, or one sendmmsg per endpoint without it), then settles each endpoint's outcomes.
    func flushPending() {
        guard !dirtyEndpoints.isEmpty else { return }
        // A lone frame (a ping-pong, a quiet network) has no batch to protect, and one sendmmsg costs
        // less than filling and reaping the ring.
        let lone = dirtyEndpoints.count == 1 && dirtyEndpoints[0].pending.count == 1
        if let ring = sendRing, !lone {
            sendThroughRing(ring)
        } else {
            for endpoint in dirtyEndpoints where endpoint.backlog.isEmpty {
                endpoint.pending.sendRecordingResults(to: endpoint.data.fd)
            }
        }
        for endpoint in dirtyEndpoints {
            settle(endpoint)
            endpoint.pending.reset()
            endpoint.isDirty = false
        }
        dirtyEndpoints.removeAll(keepingCapacity: true)
    }

    /// An endpoint with frames already queued sends none directly: they wait behind the queue, in order.
    private func sendThroughRing(_ ring: SendRing) {
        for (position, endpoint) in dirtyEndpoints.enumerated() where endpoint.backlog.isEmpty {
            let batch = endpoint.pending
            for index in 0..<batch.count {
                if ring.isFull { completeRing(ring) }
                ring.queue(batch, index, fd: endpoint.data.fd, token: UInt64(position) << 32 | UInt64(index))
            }
        }
        completeRing(ring)
    }

    private func completeRing(_ ring: SendRing) {
        do {
            try ring.submit { token, result in
                dirtyEndpoints[Int(token >> 32)].pending.setResult(Int(token & 0xFFFF_FFFF), result)
            }
        } catch {
            // What was not sent is still marked EAGAIN and leaves through each endpoint's queue.
            log.error("io_uring failed; sending with sendmmsg from now on", [("error", String(describing: error))])
            sendRing = nil
        }
    }

    /// Counts what went, queues what the client's socket could not take yet (counting as `queue_full`
    /// what the queue cannot hold either), and forgets frames for a client whose socket is gone
    /// (ECONNREFUSED and friends; only ctl EOF unplugs). A frame refused in mid-batch while later
    /// ones were taken (the client read in between, on another CPU) is sent after them.
    private func settle(_ endpoint: Endpoint) {
        let batch = endpoint.pending
        let counts = isPrimary(endpoint)
        var dropped = 0
        var failed = false
        for index in 0..<batch.count {
            let result = batch.result(index)
            if result >= 0 {
                if counts { engine.recordTransmit(port: endpoint.port, bytes: Int(result)) }
            } else if result == -EAGAIN || result == -ENOBUFS {
                if !endpoint.backlog.push(from: batch, index: index) { dropped += 1 }
            } else {
                failed = true
            }
        }
        if failed { stats.dataSocketErrors += 1 }
        if dropped > 0 && counts { engine.recordDrop(port: endpoint.port, cause: .queueFull, count: dropped) }
        setWriteInterest(endpoint, !endpoint.backlog.isEmpty)
    }

    /// Sends queued frames now that the client's socket has room.
    func drainBacklog(_ endpoint: Endpoint) {
        let counts = isPrimary(endpoint)
        do {
            try endpoint.backlog.drain(to: endpoint.data.fd, through: drainBatch) { batch, sent in
                if counts { recordSent(batch, sent, port: endpoint.port) }
            }
        } catch {
            stats.dataSocketErrors += 1
        }
        setWriteInterest(endpoint, !endpoint.backlog.isEmpty)
    }

    /// Counts the first `count` messages of `batch` as transmitted on `port`.
    private func recordSent(_ batch: SendBatch, _ count: Int, port: Int) {
        for index in 0..<count { engine.recordTransmit(port: port, bytes: batch.length(index)) }
    }

    private func setWriteInterest(_ endpoint: Endpoint, _ wanted: Bool) {
        guard endpoint.wantsWrite != wanted else { return }
        endpoint.wantsWrite = wanted
        try? epoll.modify(endpoint.data.fd, events: wanted ? [.readable, .writable] : .readable,
                          token: endpoint.token(.endpointData))
    }

    /// The first endpoint of a port counts the port's transmissions, so a shared port counts each frame once.
    @inline(__always)
    private func isPrimary(_ endpoint: Endpoint) -> Bool { portEndpoints[endpoint.port].first == endpoint.slot }

    private func reportMoves() {
        for move in engine.takeMoves() where eventLimiter.allow(now: Clock.monotonicNanoseconds()) {
            control.emit(["event": "mac.moved", "mac": JSON(move.mac.description), "vlan": JSON(Int(move.vlan)),
                  "from": JSON(move.from), "to": JSON(move.to)])
        }
    }

    // MARK: timers

    /// Milliseconds until the earliest deadline (at most a second). Allocation-free when no
    /// handshake is pending, which is every turn of a busy data path.
    private func nextTimeout() -> Int32 {
        let now = Clock.monotonicNanoseconds()
        var deadline = min(nextMACExpiry ?? now + 1_000_000_000, now + 1_000_000_000)
        if !captures.isEmpty, let due = captures.nextDeadline { deadline = min(deadline, due) }
        if engine.spanningTree != nil { deadline = min(deadline, nextSpanningTreeTick) }
        if engine.multicastSnooping != nil { deadline = min(deadline, nextMulticastTick) }
        if handshakes.count > 0 {
            for handshake in handshakes.all { deadline = min(deadline, handshake.deadline) }
        }
        return Int32(max(0, (Int64(deadline) - Int64(now) + 999_999) / 1_000_000))
    }

    private func runTimers(now: UInt64) {
        if !captures.isEmpty { captures.runTimers(now: now) }
        if engine.spanningTree != nil && now >= nextSpanningTreeTick { tickSpanningTree(now: now) }
        if engine.multicastSnooping != nil && now >= nextMulticastTick { tickMulticast(now: now) }
        if handshakes.count > 0 {
            for handshake in handshakes.all where handshake.deadline <= now {
                stats.handshakesRefused += 1
                closeHandshake(handshake)
            }
        }
        if let due = nextMACExpiry, due > now { return }
        // At most one sweep a second: each one walks the whole table.
        nextMACExpiry = engine.expire(now: now).map { max($0, now + 1_000_000_000) }
    }

    // MARK: shutdown

    private func stop() {
        captures.stopAll()
        for endpoint in endpoints.all { unplug(endpoint, reason: "shutdown") }
        for handshake in handshakes.all { closeHandshake(handshake) }
        control.shutdown()
        ctlListener.close()
        controlDirectory.remove()
        log.info("switch stopped", [("switch.dir", options.directory)])
    }
}

/// Worker-level tallies that belong to no port.
struct WorkerStats {
    var handshakesAccepted: UInt64 = 0
    var handshakesRefused: UInt64 = 0
    var dataSocketErrors: UInt64 = 0
    var eventsSuppressed: UInt64 = 0
}

/// At most `perSecond` events in any one-second window.
struct RateLimiter {
    let perSecond: Int
    private var windowStart: UInt64 = 0
    private var used = 0
    private(set) var suppressed: UInt64 = 0

    init(perSecond: Int) { self.perSecond = perSecond }

    mutating func allow(now: UInt64) -> Bool {
        if now - windowStart >= 1_000_000_000 {
            windowStart = now
            used = 0
        }
        used += 1
        if used > perSecond { suppressed += 1 }
        return used <= perSecond
    }
}
