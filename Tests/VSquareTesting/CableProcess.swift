// CableProcess: a real vsquare-cable between two switch directories, ready when its control socket
// answers and both ends are plugged in; stopped on deinit.
import Glibc
import JSON
import Posix

public final class CableProcess: @unchecked Sendable {
    public let process: ChildProcess
    public let controlPath: String
    public let logPath: String

    /// A cable from switch directory `a` to `b` (a directory, or nil when `extra` names a remote end).
    /// With `waitUntilUp`, returns once both ends are plugged in.
    public init(a: String, b: String?, in directory: TempDirectory, name: String = "c1", seed: UInt64 = 11, extra: [String] = [],
                waitUntilUp: Bool = true) throws {
        controlPath = directory.path + "/\(name).sock"
        logPath = directory.path + "/\(name).log"
        process = try ChildProcess(path: DaemonProcess.productsDirectory + "/vsquare-cable",
                                   arguments: ["--a", a] + (b.map { ["--b", $0] } ?? []) + ["--control", controlPath, "--name", name,
                                                                                          "--seed", String(seed)] + extra,
                                   stdin: .null, stdout: .file(logPath), stderr: .file(logPath))
        let ready = { [controlPath] in
            (try? ControlClient(path: controlPath).call("status")).map { waitUntilUp ? $0["state"] == "up" : true } ?? false
        }
        let up = eventually(timeoutSeconds: 10, ready)
        guard up else {
            process.stop()
            throw HTTPTestError.malformedResponse("the cable did not come up: \(log)")
        }
    }

    deinit { process.stop(signal: SIGKILL, graceSeconds: 0) }

    public var log: String { FileSystem.readFile(logPath).map { String(decoding: $0, as: UTF8.self) } ?? "" }

    public func control() throws -> ControlClient { try ControlClient(path: controlPath) }
}
