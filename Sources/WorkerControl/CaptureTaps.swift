// CaptureTaps: a worker's live captures and their readers. `capture.start` names a point, a filter
// and limits, and the path of a listening stream socket (vsquared's); the worker connects to it and
// streams pcap there, never blocking: the worker's loop offers frames only while a capture exists
// (`isEmpty` is one load on the data path), writes what each tap holds when its socket has room,
// and ends a capture when it has its count, its time is up, or its reader hangs up. An ended
// capture's tally is kept for `capture.stop`, which is how its reader learns what was dropped.
import Glibc
import JSON
import PacketCapture
import Posix

/// A worker that captures: it owns the taps and says which point a request names.
public protocol CaptureHost: AnyObject, SendableMetatype {
    var captures: CaptureTaps { get }
    /// The point `capture.start`'s parameters name (a port and direction, a cable direction).
    func capturePoint(_ reader: inout JSONReader) throws -> CapturePoint
}

public final class CaptureTaps {
    public static let limit = 8
    static let finishedKept = 32

    @usableFromInline final class Live {
        let id: Int
        let slot: Int
        let generation: UInt32
        let tap: CaptureTap
        let socket: Socket
        let deadline: UInt64?
        let startedAt: String
        var wantsWrite = false
        /// Why it ended; set once the tap takes no more frames, the socket closes when it is drained.
        var endedBy: String?

        init(id: Int, slot: Int, generation: UInt32, tap: CaptureTap, socket: Socket, deadline: UInt64?) {
            self.id = id
            self.slot = slot
            self.generation = generation
            self.tap = tap
            self.socket = socket
            self.deadline = deadline
            startedAt = Clock.rfc3339(Clock.wallSeconds())
        }
    }

    private let epoll: Epoll
    private let tokenKind: UInt8
    private var table = SlotTable<Live>()
    /// The captures still taking frames, walked for each frame offered.
    @usableFromInline var taking: [Live] = []
    private var finished: [(id: Int, summary: JSONObject)] = []
    private var nextID = 1

    public init(epoll: Epoll, tokenKind: UInt8) {
        self.epoll = epoll
        self.tokenKind = tokenKind
    }

    /// No capture is taking frames: the data path skips `offer` altogether.
    @inlinable public var isEmpty: Bool { taking.isEmpty }

    /// Starts a capture streaming to the listening socket at `socketPath`.
    public func start(point: CapturePoint, filter expression: String, snaplen: Int, count: Int?, durationSeconds: Double?,
                      socketPath: String) throws(ControlError) -> JSONObject {
        guard table.count < CaptureTaps.limit else {
            throw ControlError("capture_limit", "this worker already runs \(CaptureTaps.limit) captures")
        }
        let filter: CaptureFilter?
        do {
            filter = expression.isEmpty ? nil : try CaptureFilter(expression, snaplen: snaplen)
        } catch {
            throw ControlError("invalid_filter", error.description)
        }
        let socket: Socket
        do {
            socket = try Socket(family: AF_UNIX, type: Int32(SOCK_STREAM.rawValue))
            try socket.setNonBlocking()
            try socket.connect(.unix(path: socketPath))
        } catch {
            throw ControlError("capture_socket", "cannot connect to the capture socket \(socketPath): \(error)")
        }
        let tap = CaptureTap(point: point, filter: filter, snaplen: snaplen, count: count)
        let id = nextID
        nextID += 1
        let deadline = durationSeconds.map { Clock.monotonicNanoseconds() + UInt64($0 * 1e9) }
        let live = table.insert { slot, generation in Live(id: id, slot: slot, generation: generation, tap: tap, socket: socket, deadline: deadline) }
        do {
            // Readable: the reader hung up (it never sends); writable is asked for only while a write would block.
            try epoll.add(socket.fd, events: [.readable, .readHangUp], token: token(live))
        } catch {
            table.remove(live.slot)
            throw ControlError("capture_socket", "cannot watch the capture socket: \(error)")
        }
        taking.append(live)
        flush(live)
        return summary(live)
    }

    /// Offers a frame seen at `channel` (received, or sent) to every capture listening there.
    @inline(__always)
    public func offer(channel: Int, sent: Bool, _ frame: FramePieces) {
        var time: (UInt32, UInt32)?
        for live in taking where live.tap.point.matches(channel: channel, sent: sent) {
            let (seconds, microseconds) = time ?? CaptureTaps.wallTime()
            time = (seconds, microseconds)
            live.tap.offer(frame, seconds: seconds, microseconds: microseconds)
        }
    }

    private static func wallTime() -> (UInt32, UInt32) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return (UInt32(truncatingIfNeeded: now.tv_sec), UInt32(now.tv_nsec / 1000))
    }

    /// Writes what each capture holds, as far as its socket takes it; the worker calls this once a loop turn.
    public func flush() {
        for live in taking where live.tap.pendingBytes > 0 && !live.wantsWrite { flush(live) }
    }

    private func flush(_ live: Live) {
        while live.tap.pendingBytes > 0 {
            let pending = live.tap.pending
            let written: Int
            let result = Glibc.send(live.socket.fd, pending.baseAddress, pending.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            if result < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    setWriteInterest(live, true)
                    return
                }
                end(live, by: "reader_closed", drained: false)
                return
            }
            written = result
            live.tap.consume(written)
        }
        setWriteInterest(live, false)
        if live.tap.isComplete && live.endedBy == nil { live.endedBy = "count" }
        if live.endedBy != nil { close(live) }
    }

    /// An event on a capture's socket: room to write, or the reader gone.
    public func handle(_ token: Token, _ events: Epoll.Events) {
        guard let live = table.get(token.slot, generation: token.generation) else { return }
        if events.contains(.readable) || events.contains(.readHangUp) || events.contains(.hangUp) || events.contains(.error) {
            var byte: UInt8 = 0
            let got = recv(live.socket.fd, &byte, 1, Int32(MSG_DONTWAIT))
            if got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || events.contains(.hangUp) || events.contains(.error) {
                end(live, by: "reader_closed", drained: false)
                return
            }
        }
        if events.contains(.writable) {
            setWriteInterest(live, false)
            flush(live)
        }
    }

    /// The earliest capture deadline, for the worker's epoll timeout.
    public var nextDeadline: UInt64? { taking.compactMap(\.deadline).min() }

    /// Ends captures whose time is up or whose count is reached; what they hold is still written.
    public func runTimers(now: UInt64) {
        for live in taking {
            if let deadline = live.deadline, deadline <= now {
                end(live, by: "duration", drained: true)
            } else if live.tap.isComplete {
                end(live, by: "count", drained: true)
            }
        }
    }

    /// Stops a capture (its reader gets what is buffered, then end of stream) or reports an ended one.
    public func stop(_ id: Int) throws(ControlError) -> JSONObject {
        if let live = table.all.first(where: { $0.id == id }) {
            end(live, by: "stopped", drained: true)
            return summary(live)
        }
        guard let kept = finished.first(where: { $0.id == id }) else { throw ControlError("not_found", "no capture \(id)") }
        return kept.summary
    }

    public var summaries: [JSONObject] { table.all.map(summary) + finished.map(\.summary) }

    /// Ends every capture at once (the worker is stopping).
    public func stopAll() {
        for live in table.all { end(live, by: "shutdown", drained: false) }
    }

    /// `drained`: keep the socket open until what the tap holds is written (then end of stream).
    private func end(_ live: Live, by reason: String, drained: Bool) {
        if live.endedBy == nil { live.endedBy = reason }
        taking.removeAll { $0 === live }
        if drained && live.tap.pendingBytes > 0 {
            if !live.wantsWrite { flush(live) }
        } else {
            close(live)
        }
    }

    private func close(_ live: Live) {
        guard table.get(live.slot, generation: live.generation) != nil else { return }
        taking.removeAll { $0 === live }
        epoll.remove(live.socket.fd)
        live.socket.close()
        table.remove(live.slot)
        finished.append((live.id, summary(live)))
        if finished.count > CaptureTaps.finishedKept { finished.removeFirst() }
    }

    private func setWriteInterest(_ live: Live, _ wanted: Bool) {
        guard live.wantsWrite != wanted, table.get(live.slot, generation: live.generation) != nil else { return }
        live.wantsWrite = wanted
        try? epoll.modify(live.socket.fd, events: wanted ? [.readable, .readHangUp, .writable] : [.readable, .readHangUp], token: token(live))
    }

    private func token(_ live: Live) -> UInt64 { Token(kind: tokenKind, slot: live.slot, generation: live.generation).raw }

    private func summary(_ live: Live) -> JSONObject {
        let tally = live.tap.tally
        let open = table.get(live.slot, generation: live.generation) != nil
        var object: JSONObject = [
            "capture": JSON(live.id),
            "channels": JSON(live.tap.point.channels.map { JSON($0) }),
            "received": JSON(live.tap.point.received),
            "sent": JSON(live.tap.point.sent),
            "filter": JSON(live.tap.filter?.expression ?? ""),
            "snaplen": JSON(live.tap.snaplen),
            "count": live.tap.count.map { JSON($0) } ?? .null,
            "started_at": JSON(live.startedAt),
            "state": JSON(live.endedBy == nil ? "capturing" : open ? "draining" : "ended"),
            "frames": JSON(tally.frames),
            "bytes": JSON(tally.bytes),
            "dropped": JSON(tally.dropped),
            "filtered_out": JSON(tally.filteredOut),
        ]
        if let reason = live.endedBy { object["ended_by"] = JSON(reason) }
        return object
    }
}

/// The capture ops every capturing worker serves: `capture.start`, `capture.stop`, `captures`.
public enum CaptureOps {
    public static func ops<Host: CaptureHost>(pointParameters: String) -> [ControlOp<Host>] {
        [
            ControlOp(name: "capture.start",
                      parameters: "{\(pointParameters), socket, filter?, snaplen?, count?, duration_s?}",
                      summary: "stream the frames seen at a point as pcap to the listening socket at `socket`") { host, reader in
                let point = try host.capturePoint(&reader)
                let socket = try reader.string("socket")
                let filter = try reader.optionalString("filter") ?? ""
                let snaplen = try reader.optionalInt("snaplen", in: 1...65535) ?? 65535
                let count = try reader.optionalInt("count", in: 1...1_000_000_000)
                let duration = try reader.optionalDouble("duration_s", in: 0...86_400)
                return try host.captures.start(point: point, filter: filter, snaplen: snaplen, count: count,
                                               durationSeconds: duration, socketPath: socket)
            },
            ControlOp(name: "capture.stop", parameters: "{capture}",
                      summary: "end a capture (what it holds is still written) or report one that ended") { host, reader in
                try host.captures.stop(try reader.int("capture", in: 1...Int.max))
            },
            ControlOp(name: "captures", parameters: "{}", summary: "live captures and the last ones that ended") { host, _ in
                ["captures": JSON(host.captures.summaries.map(JSON.object))]
            },
        ]
    }
}
