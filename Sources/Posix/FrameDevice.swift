// FrameDevice: a descriptor that carries one Ethernet frame per read and write, into and out of the
// kernel of the current network namespace: a tap interface (created here, gone when the descriptor
// closes), or a packet socket bound to an existing interface (a veth end, where /dev/net/tun is not
// ours to open, as in an unprivileged user namespace).
import CLinux
import Glibc

public final class FrameDevice {
    public let name: String
    public let fd: Int32

    public init(tap name: String) throws {
        let fd = CLinux_tap_open(name)
        guard fd >= 0 else { throw Errno(errno, call: "open tap \(name)") }
        self.name = name
        self.fd = fd
    }

    public init(packetSocketOn name: String) throws {
        let fd = CLinux_packet_open(name)
        guard fd >= 0 else { throw Errno(errno, call: "packet socket on \(name)") }
        self.name = name
        self.fd = fd
    }

    deinit { close(fd) }

    /// The next frame, or nil when none is waiting.
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
        return count > 0 ? count : nil
    }

    /// Writes one frame without blocking; false if the kernel did not take it.
    public func write(_ frame: UnsafeRawBufferPointer) -> Bool {
        Glibc.write(fd, frame.baseAddress, frame.count) == frame.count
    }
}
