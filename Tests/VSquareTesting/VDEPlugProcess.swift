// VDEPlugProcess: Debian's vde_plug, the real client, plugged into a switch with its stdin/stdout
// as a VDE stream (2-byte big-endian length + frame) that the test writes and reads.
import Glibc
import Posix
import VDEWire

public final class VDEPlugProcess: @unchecked Sendable {
    public let process: ChildProcess
    private var decoder = VDEStreamDecoder()
    private var received: [[UInt8]] = []

    /// Starts `vde_plug URL`, optionally as another user (through runuser) or with extra arguments.
    public init(url: String, arguments: [String] = [], user: String? = nil) throws {
        let path: String
        var argv: [String]
        if let user {
            path = "/usr/sbin/runuser"
            argv = ["-u", user, "--", "vde_plug"] + arguments + [url]
        } else {
            path = "/usr/bin/vde_plug"
            argv = arguments + [url]
        }
        process = try ChildProcess(path: path, arguments: argv, stdin: .pipe, stdout: .pipe, stderr: .null)
    }

    deinit { process.stop(signal: SIGKILL, graceSeconds: 0) }

    /// Writes one frame (header and frame in one write, as vde_plug's peers must).
    public func send(_ frame: [UInt8]) throws {
        try process.stdin!.sendAll(VDEStream.encode(frame))
    }

    /// The next frame vde_plug delivered, or nil within `timeoutSeconds`.
    public func receive(timeoutSeconds: Double = 2) throws -> [UInt8]? {
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
        while received.isEmpty {
            let left = Double(Int64(deadline) - Int64(Clock.monotonicNanoseconds())) / 1e9
            guard left > 0, try process.stdout!.waitReadable(timeoutSeconds: left) else { return nil }
            let chunk = try process.stdout!.receive()
            if chunk.isEmpty { return nil }
            received += try decoder.feed(chunk)
        }
        return received.removeFirst()
    }

    /// Every frame that arrives until none has come for `quietSeconds`.
    public func drain(quietSeconds: Double = 0.3) throws -> [[UInt8]] {
        var frames: [[UInt8]] = []
        while let frame = try receive(timeoutSeconds: quietSeconds) { frames.append(frame) }
        return frames
    }

    /// Closes vde_plug's stdin, which makes it exit and unplug.
    public func closeInput() { process.stdin?.close() }
}

/// libvdeplug itself (Debian's libvdeplug.so.2), loaded at run time: the library qemu and every
/// other vdeplug4 client use.
public final class LibVDEPlug: @unchecked Sendable {
    private typealias OpenFunction = @convention(c) (UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int32, UnsafeMutableRawPointer?) -> OpaquePointer?
    private typealias SendFunction = @convention(c) (OpaquePointer?, UnsafeRawPointer?, Int, Int32) -> Int
    private typealias RecvFunction = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int, Int32) -> Int
    private typealias FDFunction = @convention(c) (OpaquePointer?) -> Int32

    /// dlopen handles are process-wide and never closed, so sharing one is safe.
    nonisolated(unsafe) private static let library: UnsafeMutableRawPointer? = dlopen("libvdeplug.so.2", RTLD_NOW)
    private let connection: OpaquePointer
    private let sendFunction: SendFunction
    private let recvFunction: RecvFunction
    private let closeFunction: FDFunction
    public let dataFD: Int32
    private var closed = false

    public struct OpenFailed: Error {}

    /// `vde_open(url, description, NULL)`.
    public init(url: String, description: String = "vsquare-test") throws {
        guard let library = LibVDEPlug.library,
              let open = dlsym(library, "vde_open_real"), let send = dlsym(library, "vde_send"),
              let recv = dlsym(library, "vde_recv"), let close = dlsym(library, "vde_close"),
              let datafd = dlsym(library, "vde_datafd") else { throw OpenFailed() }
        let openFunction = unsafeBitCast(open, to: OpenFunction.self)
        let connection = url.withCString { urlPointer in
            description.withCString { descriptionPointer in
                openFunction(UnsafeMutablePointer(mutating: urlPointer), UnsafeMutablePointer(mutating: descriptionPointer), 1, nil)
            }
        }
        guard let connection else { throw OpenFailed() }
        self.connection = connection
        sendFunction = unsafeBitCast(send, to: SendFunction.self)
        recvFunction = unsafeBitCast(recv, to: RecvFunction.self)
        closeFunction = unsafeBitCast(close, to: FDFunction.self)
        dataFD = unsafeBitCast(datafd, to: FDFunction.self)(connection)
    }

    deinit { close() }

    public func send(_ frame: [UInt8]) {
        _ = frame.withUnsafeBytes { sendFunction(connection, $0.baseAddress, $0.count, 0) }
    }

    /// The next frame within `timeoutSeconds`, or nil.
    public func receive(timeoutSeconds: Double = 2) -> [UInt8]? {
        var poller = pollfd(fd: dataFD, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeoutSeconds * 1000)) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { recvFunction(connection, $0.baseAddress, $0.count, 0) }
        return count > 0 ? Array(buffer[..<count]) : nil
    }

    public func close() {
        guard !closed else { return }
        closed = true
        _ = closeFunction(connection)
    }
}
