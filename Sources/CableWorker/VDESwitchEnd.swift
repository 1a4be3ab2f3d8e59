// VDESwitchEnd: a cable end plugged into a VDE switch, as vde_plug would be. Its ctl stream closing
// means the switch is gone (or kicked us); the worker then plugs in again with backoff.
import Glibc
import Posix
import VDEWire

final class VDESwitchEnd {
    enum State: String {
        case connected, connecting
    }

    let side: String
    let directory: String
    let port: Int?
    let description: String
    private(set) var client: VDEClient?
    private(set) var state = State.connecting
    /// Monotonic time of the next plug-in attempt.
    var retryAt: UInt64 = 0
    private var backoff: UInt64 = 50_000_000
    private(set) var connections = 0

    init(side: String, directory: String, port: Int?, description: String) {
        self.side = side
        self.directory = directory
        self.port = port
        self.description = description
    }

    /// Tries to plug in; on failure schedules the next try (50 ms doubling up to 2 s).
    func connect(now: UInt64) -> Bool {
        do {
            let client = try VDEClient(directory: directory, kind: .port(port ?? 0), description: description)
            try client.data.setNonBlocking()
            try? client.data.setOption(SOL_SOCKET, SO_SNDBUF, 4 << 20)
            self.client = client
            state = .connected
            backoff = 50_000_000
            connections += 1
            return true
        } catch {
            retryAt = now + backoff
            backoff = min(backoff * 2, 2_000_000_000)
            return false
        }
    }

    func disconnect(now: UInt64) {
        client?.close()
        client = nil
        state = .connecting
        retryAt = now + backoff
    }

    /// Sends one frame without blocking; false if it could not go (full buffer, or not plugged in).
    func send(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard let client else { return false }
        return Glibc.send(client.data.fd, frame.baseAddress, frame.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) == frame.count
    }
}
