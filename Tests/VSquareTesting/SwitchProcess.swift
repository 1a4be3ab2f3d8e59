// SwitchProcess: a real vsquare-switch in a temporary directory, ready when its control socket
// answers; stopped (and its directory removed) on deinit even when the test fails.
import Glibc
import JSON
import Posix

public final class SwitchProcess: @unchecked Sendable {
    public let process: ChildProcess
    public let directory: TempDirectory
    /// The VDE control directory (`vde://` + this).
    public let switchDirectory: String
    public let controlPath: String
    public let logPath: String

    public init(arguments: [String] = [], name: String = "sw") throws {
        directory = TempDirectory(prefix: "vsqs")
        switchDirectory = directory.path + "/" + name
        controlPath = switchDirectory + "/control"
        logPath = directory.path + "/switch.log"
        process = try ChildProcess(path: DaemonProcess.productsDirectory + "/vsquare-switch",
                                   arguments: ["--dir", switchDirectory] + arguments,
                                   stdin: .null, stdout: .file(logPath), stderr: .file(logPath))
        let ready = eventually(timeoutSeconds: 10) { (try? ControlClient(path: controlPath)) != nil }
        guard ready else {
            process.stop()
            throw HTTPTestError.malformedResponse("vsquare-switch did not start: \(log)")
        }
    }

    deinit { process.stop(signal: SIGKILL, graceSeconds: 0) }

    public var log: String { FileSystem.readFile(logPath).map { String(decoding: $0, as: UTF8.self) } ?? "" }

    public func control() throws -> ControlClient { try ControlClient(path: controlPath) }

    @discardableResult
    public func stop() -> ChildProcess.Termination { process.stop(signal: SIGTERM, graceSeconds: 10) }
}

/// A client of a worker's JSON control socket: one request at a time, events kept aside.
public final class ControlClient: @unchecked Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case closed
        case error(code: String, message: String)

        public var description: String {
            switch self {
            case .closed: return "the control socket closed"
            case .error(let code, let message): return "\(code): \(message)"
            }
        }
    }

    let socket: Socket
    private var buffer: [UInt8] = []
    private var nextID = 1
    /// Events received while waiting for replies, oldest first.
    public private(set) var events: [JSON] = []

    public init(path: String) throws {
        socket = try Socket(family: AF_UNIX, type: Int32(SOCK_STREAM.rawValue))
        try socket.connect(.unix(path: path))
        try socket.setTimeout(seconds: 10)
    }

    /// Sends `op` with `parameters` and returns the whole reply; a reply with `ok: false` throws.
    @discardableResult
    public func call(_ op: String, _ parameters: JSONObject = [:]) throws -> JSON {
        let reply = try request(op, parameters)
        if reply["ok"] == false {
            throw Failure.error(code: reply["error"]?["code"]?.stringValue ?? "?", message: reply["error"]?["message"]?.stringValue ?? "?")
        }
        return reply
    }

    /// Sends `op` and returns the reply whatever it says.
    public func request(_ op: String, _ parameters: JSONObject = [:]) throws -> JSON {
        var object: JSONObject = ["id": JSON(nextID), "op": JSON(op)]
        for (key, value) in parameters { object[key] = value }
        nextID += 1
        return try send(raw: JSON.object(object).serialized() + [0x0A], id: nextID - 1)
    }

    /// Sends raw bytes (which must end in a newline) and returns the next reply line.
    public func send(raw bytes: [UInt8], id: Int? = nil) throws -> JSON {
        try socket.sendAll(bytes)
        while true {
            let line = try readLine()
            if line["event"] != nil && line["id"] == nil {
                events.append(line)
                continue
            }
            return line
        }
    }

    /// Waits for an event named `name` (already received ones count) and removes it from `events`.
    public func waitForEvent(_ name: String, timeoutSeconds: Double = 5) throws -> JSON? {
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
        while true {
            if let index = events.firstIndex(where: { $0["event"]?.stringValue == name }) {
                return events.remove(at: index)
            }
            let left = Double(Int64(deadline) - Int64(Clock.monotonicNanoseconds())) / 1e9
            guard left > 0, try socket.waitReadable(timeoutSeconds: left) else { return nil }
            events.append(try readLine())
        }
    }

    private func readLine() throws -> JSON {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<newline])
                buffer.removeFirst(newline + 1)
                return try JSON.parse(line)
            }
            let chunk = try socket.receive()
            if chunk.isEmpty { throw Failure.closed }
            buffer += chunk
        }
    }
}
