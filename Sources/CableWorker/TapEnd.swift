// TapEnd: a cable end that is a tap interface, created in the namespace the worker runs in (run it
// with `ip netns exec NS` to give a namespace an interface on a switch: the Internet-of-Threads
// stack's plug, like vde_plug2tap). The tap goes away with the worker; the supervisor's configure
// step sets its addresses again after a restart. With a DHCP hook, the end also runs busybox udhcpc
// on the tap (it inherits the namespace), restarting it if it ends, so leases live as long as the tap.
import JSON
import Posix

final class TapEnd: CableEnd {
    let side: String
    let name: String
    let context: EndContext
    private var device: TapDevice?
    private(set) var retryAt: UInt64? = 0
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
    private var framesIn: UInt64 = 0
    let dhcpHook: String?
    private var dhcpClient: ChildProcess?
    private var dhcpStarts = 0
    private var dhcpCheckAt: UInt64?

    static let busybox = "/bin/busybox"

    init(side: String, name: String, dhcpHook: String? = nil, context: EndContext) {
        self.side = side
        self.name = name
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
            dhcpClient = try ChildProcess(path: TapEnd.busybox, arguments: ["udhcpc", "-f", "-i", name, "-s", hook, "-t", "5", "-T", "2", "-A", "3"],
                                          stdin: .null, newProcessGroup: true)
            dhcpStarts += 1
        } catch {
            context.emit(["event": "end.dhcp_failed", "side": JSON(side), "reason": JSON(String(describing: error))])
        }
    }

    var isUp: Bool { device != nil }

    func start(now: UInt64) {
        do {
            let device = try TapDevice(name: name)
            try context.epoll.add(device.fd, events: .readable, token: context.token(.endData))
            self.device = device
            retryAt = nil
            if dhcpHook != nil { dhcpCheckAt = now }
            context.emit(["event": "end.up", "side": JSON(side), "tap": JSON(name)])
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

    func stop() {
        if let device { context.epoll.remove(device.fd) }
        device = nil
        _ = dhcpClient?.stop(graceSeconds: 1)
        dhcpClient = nil
        dhcpCheckAt = nil
    }

    var status: JSONObject {
        ["side": JSON(side), "kind": "tap", "tap": JSON(name), "state": JSON(isUp ? "connected" : "connecting"), "frames_in": JSON(framesIn),
         "dhcp": dhcpHook == nil ? .null : ["running": JSON(dhcpClient.map { !$0.hasEnded } ?? false), "starts": JSON(dhcpStarts)]]
    }
}
