// TapDevice: a Linux tap interface opened in the current network namespace — the kernel's side of a
// virtual Ethernet link, one frame per read and write. It disappears when the descriptor closes.
import CLinux
import Glibc

public final class TapDevice {
    public let name: String
    public let fd: Int32

    public init(name: String) throws {
        let fd = CLinux_tap_open(name)
        guard fd >= 0 else { throw Errno(errno, call: "open tap \(name)") }
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
