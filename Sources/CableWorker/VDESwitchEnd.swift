// VDESwitchEnd: a cable end plugged into a VDE switch, as vde_plug would be. Its ctl stream closing
// means the switch is gone (or kicked us); it then plugs in again with backoff (50 ms doubling to 2 s).
// Frames the switch's socket cannot take yet wait in a bounded OutputQueue and leave when it is
// writable, as a switch does for its own clients: a switch that is briefly not scheduled (a busy
// host) costs delay, not loss.
import Glibc
import JSON
import Posix
import VDEWire

final class VDESwitchEnd: CableEnd {
    let side: String
    let directory: String
    let port: Int?
    let description: String
    let context: EndContext
    private var client: VDEClient?
    private(set) var retryAt: UInt64?
    private var backoff: UInt64 = 50_000_000
    private var connections = 0
    /// Slots just over the largest frame a vdeplug client sends (9234), so a batch stays compact in memory.
    private let batch = ReceiveBatch(count: 64, slotSize: VDEStream.maxFrameSize + 4)
    private let backlog = OutputQueue(capacity: VDESwitchEnd.backlogFrames)
    private let drainBatch = SendBatch(capacity: 64)
    private var wantsWrite = false
    /// As a switch's per-endpoint queue: about 40 ms at 100k frames/s on top of the socket buffer.
    static let backlogFrames = 4096

    init(side: String, directory: String, port: Int?, description: String, context: EndContext) {
        self.side = side
        self.directory = directory
        self.port = port
        self.description = description
        self.context = context
        retryAt = 0
    }

    var isUp: Bool { client != nil }

    func start(now: UInt64) {
        do {
            let client = try VDEClient(directory: directory, kind: .port(port ?? 0), description: description)
            try client.data.setNonBlocking()
            try? client.data.setOption(SOL_SOCKET, SO_SNDBUF, 4 << 20)
            try context.epoll.add(client.data.fd, events: .readable, token: context.token(.endData))
            try context.epoll.add(client.control.fd, events: [.readable, .readHangUp], token: context.token(.endControl))
            self.client = client
            retryAt = nil
            backoff = 50_000_000
            connections += 1
            context.emit(["event": "end.up", "side": JSON(side), "port_socket": JSON(client.portSocketPath)])
        } catch {
            retryAt = now + backoff
            backoff = min(backoff * 2, 2_000_000_000)
        }
    }

    func handle(kind: EndTokenKind, events: Epoll.Events, now: UInt64, deliver: (UnsafeRawBufferPointer) -> Void) {
        guard let client else { return }
        if kind == .endControl {
            var scratch: [UInt8] = []
            switch try? client.control.read(into: &scratch, maximum: 64) {
            case .done(let count)? where count > 0: return
            case .wouldBlock?: return
            default:
                drop(now: now, reason: "the switch closed the connection")
                return
            }
        }
        if events.contains(.writable) { drainBacklog(client) }
        guard events.contains(.readable) || events.contains(.error) else { return }
        for _ in 0..<8 {
            guard case .done(let count)? = try? batch.receive(from: client.data.fd), count > 0 else { break }
            for index in 0..<count {
                let length = min(batch.length(index), batch.slotSize)
                deliver(UnsafeRawBufferPointer(rebasing: batch.slot(index)[..<length]))
            }
            if count < batch.count { break }
        }
    }

    func send(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard let client else { return false }
        if backlog.isEmpty {
            if Glibc.send(client.data.fd, frame.baseAddress, frame.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) == frame.count { return true }
            // Anything but a full socket buffer (ECONNREFUSED: the switch is gone) has nowhere to queue.
            guard errno == EAGAIN || errno == EWOULDBLOCK else { return false }
        }
        guard backlog.push(frame) else { return false }
        setWriteInterest(client, true)
        return true
    }

    private func drainBacklog(_ client: VDEClient) {
        // A failure means the switch's socket is gone: its ctl stream closing will plug us in again.
        try? backlog.drain(to: client.data.fd, through: drainBatch)
        setWriteInterest(client, !backlog.isEmpty)
    }

    private func setWriteInterest(_ client: VDEClient, _ wanted: Bool) {
        guard wantsWrite != wanted else { return }
        wantsWrite = wanted
        try? context.epoll.modify(client.data.fd, events: wanted ? [.readable, .writable] : .readable, token: context.token(.endData))
    }

    private func drop(now: UInt64, reason: String) {
        close()
        retryAt = now + backoff
        context.emit(["event": "end.down", "side": JSON(side), "reason": JSON(reason)])
    }

    private func close() {
        if let client {
            context.epoll.remove(client.data.fd)
            context.epoll.remove(client.control.fd)
            client.close()
        }
        client = nil
        backlog.removeAll()
        wantsWrite = false
    }

    func stop() { close() }

    var status: JSONObject {
        ["side": JSON(side), "kind": "switch", "dir": JSON(directory), "port": port.map { JSON($0) } ?? .null,
         "state": JSON(isUp ? "connected" : "connecting"), "port_socket": JSON(client?.portSocketPath), "connections": JSON(connections),
         "queued_frames": JSON(backlog.count)]
    }
}
