// VXLANEnd: a cable end that is a VXLAN tunnel (RFC 7348): each frame travels in one UDP datagram
// behind an 8-byte header naming its network (VNI). Unicast mode has one peer, and only datagrams
// from that peer's address cross; multicast mode joins a group on one interface and learns which
// remote tunnel end (VTEP) each MAC address is behind from the frames that arrive, as vdeplug4's
// vxlan:// plugin and the kernel's vxlan device do, sending known unicast there and the rest to the
// group. Datagrams are never fragmented: the end knows its path MTU (refreshed every few seconds and
// on EMSGSIZE) and the largest frame that fits; larger frames are refused before they are sent.
import CableEngine
import Glibc
import JSON
import Posix
import SwitchEngine

final class VXLANEnd: CableEnd {
    let side: String
    let settings: VXLANSettings
    let context: EndContext
    /// The remote (unicast) or the group (multicast).
    let destination: InternetAddress
    private let header: [UInt8]
    private var socket: UDPSocket?
    private(set) var retryAt: UInt64? = 0
    private(set) var wakeAt: UInt64?
    private var pathMTU = 1500
    private var largestFrame: Int
    private var vteps = VTEPTable<InternetAddress>()
    /// Datagrams (header and frame) with their senders, many per recvmmsg.
    private let batch = ReceiveBatch(count: 32, slotSize: 65536, keepingSenders: true)
    private var framesIn: UInt64 = 0, bytesIn: UInt64 = 0, framesOut: UInt64 = 0, bytesOut: UInt64 = 0
    /// Multicast mode: frames sent to a learned VTEP alone rather than to the group.
    private var unicastOut: UInt64 = 0
    private var refused: [VXLANHeader.Refusal: UInt64] = [:]
    /// Datagrams from an address that is not the unicast peer: never delivered.
    private var foreign: UInt64 = 0
    /// Sends the kernel refused as longer than the path (its MTU had shrunk).
    private var tooBig: UInt64 = 0
    private var sendErrors: UInt64 = 0
    private var lastError: String?

    static let refreshInterval: UInt64 = 5_000_000_000

    init(side: String, settings: VXLANSettings, context: EndContext) {
        self.side = side
        self.settings = settings
        self.context = context
        // CableOptions checked the addresses.
        destination = settings.destination!
        header = VXLANHeader.bytes(vni: settings.vni)
        largestFrame = VXLANHeader.largestFrame(pathMTU: pathMTU, ipv6: destination.isIPv6)
    }

    deinit { stop() }

    var isUp: Bool { socket != nil }

    var isMulticast: Bool {
        if case .multicast = settings.peers { return true }
        return false
    }

    func start(now: UInt64) {
        do {
            let socket = try UDPSocket(bind: settings.bindAddress)
            if case .multicast(_, let interface, let ttl) = settings.peers {
                guard let index = UDPSocket.interfaceIndex(interface) else {
                    socket.close()
                    throw Errno(ENODEV, call: "if_nametoindex \(interface)")
                }
                do {
                    try socket.join(group: destination, interfaceIndex: index, ttl: Int32(ttl))
                } catch {
                    socket.close()
                    throw error
                }
            }
            try context.epoll.add(socket.fd, events: .readable, token: context.token(.endData))
            self.socket = socket
            retryAt = nil
            lastError = nil
            refreshPathMTU(now)
            context.emit(["event": "end.up", "side": JSON(side), "peer": JSON(destination.description), "vni": JSON(settings.vni)])
        } catch {
            lastError = String(describing: error)
            retryAt = now + 1_000_000_000
            context.emit(["event": "end.reconnecting", "side": JSON(side), "reason": JSON(lastError)])
        }
    }

    private func refreshPathMTU(_ now: UInt64) {
        let mtu: Int?
        switch settings.peers {
        case .unicast: mtu = UDPSocket.pathMTU(to: destination)
        case .multicast(_, let interface, _): mtu = UDPSocket.interfaceMTU(interface)
        }
        pathMTU = mtu ?? pathMTU
        largestFrame = VXLANHeader.largestFrame(pathMTU: pathMTU, ipv6: destination.isIPv6)
        wakeAt = now + VXLANEnd.refreshInterval
    }

    func wake(now: UInt64) {
        guard socket != nil else { wakeAt = nil; return }
        refreshPathMTU(now)
        vteps.expire(now: now)
    }

    func handle(kind: EndTokenKind, events: Epoll.Events, now: UInt64, deliver: (UnsafeRawBufferPointer) -> Void) {
        guard let socket else { return }
        // A few batches per wake-up, so one busy peer cannot starve the other end.
        for _ in 0..<4 {
            guard case .done(let count)? = try? batch.receive(from: socket.fd) else { return }
            for index in 0..<count { accept(index, now: now, deliver: deliver) }
            if count < batch.count { return }
        }
    }

    private func accept(_ index: Int, now: UInt64, deliver: (UnsafeRawBufferPointer) -> Void) {
        let length = batch.length(index)
        // Unicast: only the peer's datagrams cross.
        guard let sender = batch.sender(index), isMulticast || sender.sameHost(as: destination) else {
            foreign += 1
            return
        }
        let slot = UnsafeRawBufferPointer(batch.slot(index))
        if let refusal = VXLANHeader.refusal(slot, length: min(length, slot.count), vni: settings.vni) {
            refused[refusal, default: 0] += 1
            return
        }
        guard length <= slot.count else {
            refused[.short, default: 0] += 1
            return
        }
        let frame = UnsafeRawBufferPointer(rebasing: slot[VXLANHeader.length..<length])
        // Kernel VTEPs send from a port hashed from the flow; answers go to the VXLAN port.
        if isMulticast { vteps.learn(MACAddress(frame, at: 6), from: sender.withPort(settings.port), now: now) }
        framesIn += 1
        bytesIn += UInt64(frame.count)
        deliver(frame)
    }

    func fits(_ length: Int) -> Bool { length <= largestFrame }

    func send(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard let socket else { return false }
        let vtep = isMulticast ? vteps.vtep(for: MACAddress(frame, at: 0), now: Clock.monotonicNanoseconds()) : nil
        do {
            let sent = try header.withUnsafeBytes { try socket.send($0, frame, to: vtep ?? destination) }
            guard case .done = sent else { return false }
            framesOut += 1
            if vtep != nil { unicastOut += 1 }
            bytesOut += UInt64(frame.count)
            return true
        } catch let error as Errno where error.code == EMSGSIZE {
            tooBig += 1
            refreshPathMTU(Clock.monotonicNanoseconds())
            return false
        } catch {
            // ICMP errors from the peer (port unreachable) come back on the next send: counted, not fatal.
            sendErrors += 1
            lastError = String(describing: error)
            return false
        }
    }

    func stop() {
        if let socket {
            context.epoll.remove(socket.fd)
            socket.close()
        }
        socket = nil
        wakeAt = nil
    }

    var status: JSONObject {
        var object: JSONObject = [
            "side": JSON(side), "kind": "vxlan", "state": JSON(isUp ? "connected" : "connecting"),
            "mode": JSON(isMulticast ? "multicast" : "unicast"), "vni": JSON(settings.vni), "port": JSON(Int(settings.port)),
            "path_mtu": JSON(pathMTU), "overhead": JSON(VXLANHeader.overhead(ipv6: destination.isIPv6)), "largest_frame": JSON(largestFrame),
            "frames_in": JSON(framesIn), "bytes_in": JSON(bytesIn), "frames_out": JSON(framesOut), "bytes_out": JSON(bytesOut),
            "dropped": .object(JSONObject(VXLANHeader.Refusal.allCases.map { ($0.rawValue, JSON(refused[$0] ?? 0)) }
                                          + [("foreign", JSON(foreign)), ("too_big", JSON(tooBig)), ("send_errors", JSON(sendErrors))])),
            "error": JSON(lastError),
        ]
        switch settings.peers {
        case .unicast(let remote):
            object["remote"] = JSON(remote)
            object["local"] = JSON(settings.local)
        case .multicast(let group, let interface, let ttl):
            object["group"] = JSON(group)
            object["interface"] = JSON(interface)
            object["ttl"] = JSON(ttl)
            object["unicast_out"] = JSON(unicastOut)
            let now = Clock.monotonicNanoseconds()
            object["vteps"] = .array(vteps.entries.sorted { $0.key < $1.key }.map { mac, entry in
                ["mac": JSON(mac.description), "address": JSON(entry.address.host), "age_s": JSON(Int((now &- entry.seen) / 1_000_000_000))]
            })
        }
        return object
    }
}
