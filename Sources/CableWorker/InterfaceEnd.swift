// InterfaceEnd: a cable end that is a network interface created in the namespace the worker runs in
// (run it with `ip netns exec NS` or nsenter to give a namespace an interface on a switch: the
// Internet-of-Threads stack's plug, like vde_plug2tap). The interface is a tap, or, where
// /dev/net/tun is not ours to open (an unprivileged user namespace), one end of a veth pair whose
// other end the worker reads and writes through a packet socket. It goes away with the worker; the
// supervisor's configure step sets its addresses again after a restart. With a DHCP hook, the end
// also runs busybox udhcpc on it (inheriting the namespace), restarted if it ends, so leases live
// as long as the interface.
import Glibc
import JSON
import Posix

/// How an interface end reaches the kernel.
public enum InterfaceLink: String, Equatable, Sendable {
    case tap
    case veth
}

final class InterfaceEnd: CableEnd {
    let side: String
    let name: String
    let link: InterfaceLink
    let context: EndContext
    private var device: FrameDevice?
    private(set) var retryAt: UInt64? = 0
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
    private var framesIn: UInt64 = 0
    let dhcpHook: String?
    private var dhcpClient: ChildProcess?
    private var dhcpStarts = 0
    private var dhcpCheckAt: UInt64?

    static let busybox = "/bin/busybox"

    init(side: String, name: String, link: InterfaceLink, dhcpHook: String? = nil, context: EndContext) {
        self.side = side
        self.name = name
        self.link = link
        self.dhcpHook = dhcpHook
        self.context = context
    }

    deinit {
        stop()
        buffer.deallocate()
    }

    var wakeAt: UInt64? { dhcpCheckAt }

    /// Restarts the DHCP client if it ended (checked once a second).
    func wake(now: UInt64) {
        guard device != nil, let hook = dhcpHook else { dhcpCheckAt = nil; return }
        dhcpCheckAt = now + 1_000_000_000
        if let client = dhcpClient, client.wait(timeoutSeconds: 0) == nil { return }
        dhcpClient = nil
        do {
            dhcpClient = try ChildProcess(path: InterfaceEnd.busybox, arguments: ["udhcpc", "-f", "-i", name, "-s", hook, "-t", "5", "-T", "2", "-A", "3"],
                                          stdin: .null, newProcessGroup: true)
            dhcpStarts += 1
        } catch {
            context.emit(["event": "end.dhcp_failed", "side": JSON(side), "reason": JSON(String(describing: error))])
        }
    }

    var isUp: Bool { device != nil }

    func start(now: UInt64) {
        do {
            let device = link == .tap ? try FrameDevice(tap: name) : try makeVethPair()
            try context.epoll.add(device.fd, events: .readable, token: context.token(.endData))
            self.device = device
            retryAt = nil
            if dhcpHook != nil { dhcpCheckAt = now }
            context.emit(["event": "end.up", "side": JSON(side), "interface": JSON(name), "link": JSON(link.rawValue)])
        } catch {
            retryAt = now + 1_000_000_000
            context.emit(["event": "end.reconnecting", "side": JSON(side), "reason": JSON(String(describing: error))])
        }
    }

    func handle(kind: EndTokenKind, events: Epoll.Events, now: UInt64, deliver: (UnsafeRawBufferPointer) -> Void) {
        guard let device else { return }
        var frames = 0
        while frames < 64, let count = device.read(into: buffer) {
            deliver(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            frames += 1
        }
        framesIn += UInt64(frames)
    }

    func send(_ frame: UnsafeRawBufferPointer) -> Bool { device?.write(frame) ?? false }

    /// The worker's side of a veth pair: named after the interface, and as wide as veth allows so
    /// the interface's MTU alone decides. Offloads are off on the interface so that every frame
    /// read here is whole, with its checksums done.
    private func makeVethPair() throws -> FrameDevice {
        let peer = String(("v" + name).prefix(15))
        _ = try? ProcessRunner.run(InterfaceEnd.ip, ["link", "del", "dev", name], timeoutSeconds: 5)
        for (program, arguments) in [(InterfaceEnd.ip, ["link", "add", name, "type", "veth", "peer", "name", peer]),
                                     (InterfaceEnd.ethtool, ["-K", name, "tx", "off", "tso", "off", "gso", "off", "gro", "off"]),
                                     (InterfaceEnd.ethtool, ["-K", peer, "gro", "off"]),
                                     (InterfaceEnd.ip, ["link", "set", "dev", peer, "mtu", "65535", "up"])] {
            let result = try ProcessRunner.run(program, arguments, timeoutSeconds: 5)
            guard result.exitCode == 0 else {
                throw Errno(EIO, call: "\(program) \(arguments.joined(separator: " ")): \(String(decoding: result.stderr, as: UTF8.self))")
            }
        }
        return try FrameDevice(packetSocketOn: peer)
    }

    static let ip = "/usr/sbin/ip"
    static let ethtool = "/usr/sbin/ethtool"

    func stop() {
        if let device { context.epoll.remove(device.fd) }
        if device != nil && link == .veth { _ = try? ProcessRunner.run(InterfaceEnd.ip, ["link", "del", "dev", name], timeoutSeconds: 5) }
        device = nil
        _ = dhcpClient?.stop(graceSeconds: 1)
        dhcpClient = nil
        dhcpCheckAt = nil
    }

    var status: JSONObject {
        ["side": JSON(side), "kind": JSON(link.rawValue), "interface": JSON(name), "state": JSON(isUp ? "connected" : "connecting"), "frames_in": JSON(framesIn),
         "dhcp": dhcpHook == nil ? .null : ["running": JSON(dhcpClient.map { !$0.hasEnded } ?? false), "starts": JSON(dhcpStarts)]]
    }
}
