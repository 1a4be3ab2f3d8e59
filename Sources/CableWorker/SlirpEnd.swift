// SlirpEnd: a cable end that is a user-mode NAT router (libslirp), the slirp stack's uplink: it
// answers DHCP and router advertisements for the switch's hosts, forwards DNS to the host's
// resolver, carries their TCP and UDP out through ordinary host sockets and forwards host ports in.
// No privilege needed. libslirp is poll-based: after every step the end asks it for the sockets it
// wants watched (slirp_pollfds_fill) and mirrors that set into the worker's epoll; any readiness
// then runs one poll(2) over the set with no wait and hands the results back (slirp_pollfds_poll).
import CableEngine
import CSlirp
import Glibc
import JSON
import Posix

/// Where slirp sits on the switch and what it serves.
public struct SlirpSettings: Equatable, Sendable {
    /// slirp's own (gateway) address and the network's prefix, e.g. 10.0.2.2/24; DNS answers at
    /// the network's .3 and DHCP leases start at .15, as in qemu's user networking.
    public var host: IPPrefix
    /// slirp's IPv6 address and the /64 it advertises for SLAAC; nil for IPv4 only.
    public var ipv6: IPPrefix?
    public var dhcp: Bool

    public init(host: IPPrefix, ipv6: IPPrefix? = nil, dhcp: Bool = true) {
        self.host = host
        self.ipv6 = ipv6
        self.dhcp = dhcp
    }

    public var nameserver: String { host.ipv4Host(3).map(IPPrefix.ipv4Text) ?? "" }
}

final class SlirpEnd: CableEnd {
    let side: String
    let settings: SlirpSettings
    let context: EndContext
    /// Frames slirp emits towards the switch (from inside slirp_input, its timers or its sockets).
    let output: (UnsafeRawBufferPointer) -> Void
    private var slirp: OpaquePointer?
    private let callbacks = UnsafeMutablePointer<SlirpCb>.allocate(capacity: 1)
    private var watched: [pollfd] = []
    /// Descriptors in the worker's epoll, with the events asked for.
    private var registered: [Int32: Epoll.Events] = [:]
    private var pollDue: UInt64?
    /// Frames went into slirp since the watch set was last read.
    private var inputPending = false
    private var timers: [SlirpTimer] = []
    private(set) var retryAt: UInt64? = 0
    private(set) var forwards: Set<HostForward> = []
    private var framesIn: UInt64 = 0
    private var framesOut: UInt64 = 0
    private var guestErrors: UInt64 = 0

    /// One libslirp timer: either an id to hand back (slirp_handle_timer) or a callback.
    final class SlirpTimer {
        let id: SlirpTimerId?
        let callback: SlirpTimerCb?
        let argument: UnsafeMutableRawPointer?
        /// Monotonic nanoseconds; nil while not armed.
        var due: UInt64?
        init(id: SlirpTimerId?, callback: SlirpTimerCb?, argument: UnsafeMutableRawPointer?) {
            self.id = id
            self.callback = callback
            self.argument = argument
        }
    }

    init(side: String, settings: SlirpSettings, context: EndContext, output: @escaping (UnsafeRawBufferPointer) -> Void) {
        self.side = side
        self.settings = settings
        self.context = context
        self.output = output
        callbacks.initialize(to: SlirpEnd.makeCallbacks())
    }

    deinit {
        stop()
        callbacks.deallocate()
    }

    var isUp: Bool { slirp != nil }

    func start(now: UInt64) {
        guard slirp == nil else { return }
        var config = SlirpConfig()
        config.version = 4
        config.in_enabled = true
        let network = settings.host.ipv4Host(0) ?? 0
        config.vnetwork = in_addr(s_addr: network.bigEndian)
        config.vnetmask = in_addr(s_addr: settings.host.ipv4Mask.bigEndian)
        config.vhost = in_addr(s_addr: hostOrderAddress.bigEndian)
        config.vdhcp_start = in_addr(s_addr: (settings.host.ipv4Host(15) ?? 0).bigEndian)
        config.vnameserver = in_addr(s_addr: (settings.host.ipv4Host(3) ?? 0).bigEndian)
        config.disable_dhcp = !settings.dhcp
        if let ipv6 = settings.ipv6, case .ipv6(let bytes) = ipv6.address, let prefix = ipv6.ipv6Network {
            config.in6_enabled = true
            config.vprefix_addr6 = SlirpEnd.in6(prefix)
            config.vprefix_len = UInt8(ipv6.length)
            config.vhost6 = SlirpEnd.in6(bytes)
            var nameserver = prefix
            nameserver[15] = 3
            config.vnameserver6 = SlirpEnd.in6(nameserver)
        }
        config.if_mtu = 1500
        config.if_mru = 1500
        let created = "vsquare".withCString { name -> OpaquePointer? in
            config.vhostname = name
            return slirp_new(&config, callbacks, Unmanaged.passUnretained(self).toOpaque())
        }
        guard let created else {
            retryAt = now + 1_000_000_000
            context.emit(["event": "end.reconnecting", "side": JSON(side), "reason": "libslirp refused the settings"])
            return
        }
        slirp = created
        retryAt = nil
        for forward in forwards { _ = apply(forward, adding: true) }
        refresh(now: now)
        context.emit(["event": "end.up", "side": JSON(side), "slirp": JSON(settings.host.description)])
    }

    private var hostOrderAddress: UInt32 {
        if case .ipv4(let value) = settings.host.address { return value }
        return 0
    }

    static func in6(_ bytes: [UInt8]) -> in6_addr {
        var addr = in6_addr()
        withUnsafeMutableBytes(of: &addr) { $0.copyBytes(from: bytes.prefix(16)) }
        return addr
    }

    func handle(kind: EndTokenKind, events: Epoll.Events, now: UInt64, deliver: (UnsafeRawBufferPointer) -> Void) {
        process(now: now)
    }

    func send(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard let slirp, let base = frame.baseAddress else { return false }
        framesIn += 1
        slirp_input(slirp, base.assumingMemoryBound(to: UInt8.self), Int32(frame.count))
        // Input may open sockets: the watch set is read again once this loop turn's frames are in.
        inputPending = true
        return true
    }

    var wakeAt: UInt64? {
        if inputPending { return 0 }
        var due = pollDue
        for timer in timers { if let at = timer.due { due = min(due ?? at, at) } }
        return due
    }

    func wake(now: UInt64) {
        guard let slirp else { return }
        for timer in timers where (timer.due ?? .max) <= now {
            timer.due = nil
            if let id = timer.id {
                slirp_handle_timer(slirp, id, timer.argument)
            } else {
                timer.callback?(timer.argument)
            }
        }
        process(now: now)
    }

    func stop() {
        guard let slirp else { return }
        for fd in registered.keys { context.epoll.remove(fd) }
        registered = [:]
        watched = []
        slirp_cleanup(slirp)
        self.slirp = nil
        timers = []
        pollDue = nil
    }

    /// Replaces the host forwards; returns the ones libslirp refused (e.g. a host port in use).
    func setForwards(_ wanted: Set<HostForward>) -> [HostForward] {
        var refused: [HostForward] = []
        for old in forwards.subtracting(wanted) { _ = apply(old, adding: false) }
        var kept = forwards.intersection(wanted)
        for new in wanted.subtracting(forwards) {
            if slirp == nil || apply(new, adding: true) { kept.insert(new) } else { refused.append(new) }
        }
        forwards = kept
        refresh(now: Clock.monotonicNanoseconds())
        return refused
    }

    private func apply(_ forward: HostForward, adding: Bool) -> Bool {
        guard let slirp, let host = SocketAddress.parse4(forward.hostAddress) else { return false }
        if !adding { return slirp_remove_hostfwd(slirp, forward.udp ? 1 : 0, host, Int32(forward.hostPort)) == 0 }
        guard let guest = SocketAddress.parse4(forward.guestAddress) else { return false }
        return slirp_add_hostfwd(slirp, forward.udp ? 1 : 0, host, Int32(forward.hostPort), guest, Int32(forward.guestPort)) == 0
    }

    var status: JSONObject {
        var connections: [JSON] = []
        if let slirp, let info = slirp_connection_info(slirp) {
            connections = String(cString: info).split(separator: "\n").dropFirst().map { JSON(String($0)) }
            free(info)
        }
        return ["side": JSON(side), "kind": "slirp", "state": JSON(isUp ? "connected" : "connecting"),
                "address": JSON(settings.host.description), "ipv6": JSON(settings.ipv6?.description),
                "nameserver": JSON(settings.nameserver), "dhcp": JSON(settings.dhcp),
                "host_forwards": JSON(forwards.sorted { $0.hostPort < $1.hostPort }.map { JSON.object($0.json) }),
                "frames_in": JSON(framesIn), "frames_out": JSON(framesOut), "guest_errors": JSON(guestErrors),
                "connections": JSON(connections)]
    }

    // MARK: libslirp's poll loop

    /// Runs slirp over whatever is ready now (and its TCP timers), then re-reads what to watch.
    private func process(now: UInt64) {
        guard let slirp else { return }
        let result = watched.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), 0) }
        slirp_pollfds_poll(slirp, result < 0 ? 1 : 0, { index, opaque in
            let end = Unmanaged<SlirpEnd>.fromOpaque(opaque!).takeUnretainedValue()
            guard end.watched.indices.contains(Int(index)) else { return 0 }
            return SlirpEnd.slirpEvents(Int32(end.watched[Int(index)].revents))
        }, Unmanaged.passUnretained(self).toOpaque())
        refresh(now: now)
    }

    /// Asks slirp which sockets to watch and mirrors them into the worker's epoll.
    private func refresh(now: UInt64) {
        guard let slirp else { return }
        inputPending = false
        watched.removeAll(keepingCapacity: true)
        var timeout = UInt32.max
        slirp_pollfds_fill(slirp, &timeout, { fd, events, opaque in
            let end = Unmanaged<SlirpEnd>.fromOpaque(opaque!).takeUnretainedValue()
            end.watched.append(pollfd(fd: fd, events: Int16(truncatingIfNeeded: SlirpEnd.pollEvents(events)), revents: 0))
            return Int32(end.watched.count - 1)
        }, Unmanaged.passUnretained(self).toOpaque())
        pollDue = timeout == .max ? nil : now + UInt64(timeout) * 1_000_000
        var wanted: [Int32: Epoll.Events] = [:]
        for entry in watched {
            var events: Epoll.Events = []
            if entry.events & Int16(POLLIN | POLLPRI) != 0 { events.insert(.readable) }
            if entry.events & Int16(POLLOUT) != 0 { events.insert(.writable) }
            wanted[entry.fd, default: []].formUnion(events)
        }
        for fd in registered.keys where wanted[fd] == nil { context.epoll.remove(fd) }
        let token = context.token(.endData)
        for (fd, events) in wanted where registered[fd] != events {
            // A descriptor slirp closed and reused is no longer in epoll: modify falls back to add.
            if registered[fd] == nil || (try? context.epoll.modify(fd, events: events, token: token)) == nil {
                if (try? context.epoll.add(fd, events: events, token: token)) == nil {
                    try? context.epoll.modify(fd, events: events, token: token)
                }
            }
        }
        registered = wanted
    }

    static func pollEvents(_ slirpEvents: Int32) -> Int32 {
        var events: Int32 = 0
        if slirpEvents & Int32(SLIRP_POLL_IN) != 0 { events |= Int32(POLLIN) }
        if slirpEvents & Int32(SLIRP_POLL_OUT) != 0 { events |= Int32(POLLOUT) }
        if slirpEvents & Int32(SLIRP_POLL_PRI) != 0 { events |= Int32(POLLPRI) }
        return events
    }

    static func slirpEvents(_ revents: Int32) -> Int32 {
        var events: Int32 = 0
        if revents & Int32(POLLIN) != 0 { events |= Int32(SLIRP_POLL_IN) }
        if revents & Int32(POLLOUT) != 0 { events |= Int32(SLIRP_POLL_OUT) }
        if revents & Int32(POLLPRI) != 0 { events |= Int32(SLIRP_POLL_PRI) }
        if revents & Int32(POLLERR) != 0 { events |= Int32(SLIRP_POLL_ERR) }
        if revents & Int32(POLLHUP) != 0 { events |= Int32(SLIRP_POLL_HUP) }
        return events
    }

    // MARK: callbacks (C function pointers: the end travels as the opaque pointer)

    private static func end(_ opaque: UnsafeMutableRawPointer?) -> SlirpEnd {
        Unmanaged<SlirpEnd>.fromOpaque(opaque!).takeUnretainedValue()
    }

    private static func makeCallbacks() -> SlirpCb {
        var callbacks = SlirpCb()
        callbacks.send_packet = { buffer, length, opaque in
            let end = SlirpEnd.end(opaque)
            guard let buffer else { return -1 }
            end.framesOut += 1
            end.output(UnsafeRawBufferPointer(start: buffer, count: length))
            return length
        }
        callbacks.guest_error = { _, opaque in SlirpEnd.end(opaque).guestErrors += 1 }
        callbacks.clock_get_ns = { _ in Int64(Clock.monotonicNanoseconds()) }
        callbacks.timer_new = { callback, argument, opaque in
            let timer = SlirpTimer(id: nil, callback: callback, argument: argument)
            SlirpEnd.end(opaque).timers.append(timer)
            return Unmanaged.passUnretained(timer).toOpaque()
        }
        callbacks.timer_new_opaque = { id, argument, opaque in
            let timer = SlirpTimer(id: id, callback: nil, argument: argument)
            SlirpEnd.end(opaque).timers.append(timer)
            return Unmanaged.passUnretained(timer).toOpaque()
        }
        callbacks.timer_free = { pointer, opaque in
            guard let pointer else { return }
            let end = SlirpEnd.end(opaque)
            end.timers.removeAll { Unmanaged.passUnretained($0).toOpaque() == pointer }
        }
        callbacks.timer_mod = { pointer, expireMilliseconds, _ in
            guard let pointer else { return }
            Unmanaged<SlirpTimer>.fromOpaque(pointer).takeUnretainedValue().due = UInt64(max(0, expireMilliseconds)) * 1_000_000
        }
        callbacks.register_poll_fd = { _, _ in }
        callbacks.unregister_poll_fd = { _, _ in }
        callbacks.notify = { _ in }
        return callbacks
    }
}
