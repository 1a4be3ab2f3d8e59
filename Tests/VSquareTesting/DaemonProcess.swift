// DaemonProcess: a real vsquared, built by this package, started on an ephemeral port with its own
// home and run directories. Its stderr (the log) goes to a file the test can read; it is stopped
// on deinit, so a failing test leaves nothing running.
import Glibc
import JSON
import Posix

public final class DaemonProcess: @unchecked Sendable {
    public let process: ChildProcess
    public let address: SocketAddress
    public let directory: TempDirectory
    public let logPath: String

    public var client: HTTPTestClient { HTTPTestClient(address: address) }
    public var home: String { directory.path + "/home" }
    public var run: String { directory.path + "/run" }

    /// The directory holding this test run's built products (vsquared, vsquare-switch, …).
    public static var productsDirectory: String {
        let executable = FileSystem.executablePath()
        var directory = String(executable[..<executable.lastIndex(of: "/")!])
        // The test bundle may sit inside a `.xctest` directory.
        while directory.hasSuffix(".xctest") || directory.contains(".xctest/") {
            directory = String(directory[..<directory.lastIndex(of: "/")!])
        }
        return directory
    }

    /// Starts vsquared with `arguments` after the defaults; waits until it prints where it serves.
    /// With `user` (tests running as root), vsquared runs as that uid and gid, owning its directories.
    public init(arguments: [String] = [], environment extra: [String: String] = [:], directory: TempDirectory? = nil,
                user: UInt32? = nil) throws {
        let directory = directory ?? TempDirectory(prefix: "vsqd")
        if let user { chown(directory.path, user, user) }
        self.directory = directory
        logPath = directory.path + "/vsquared.log"
        var environment = Environment.current()
        for key in environment.keys where key.hasPrefix("VSQUARE_") { environment[key] = nil }
        for (key, value) in extra { environment[key] = value }
        var command = [DaemonProcess.productsDirectory + "/vsquared", "--listen", "127.0.0.1:0", "--home", directory.path + "/home",
                       "--run", directory.path + "/run"] + arguments
        if let user { command = ["/usr/bin/setpriv", "--reuid=\(user)", "--regid=\(user)", "--clear-groups", "--"] + command }
        process = try ChildProcess(
            path: command[0], arguments: Array(command.dropFirst()),
            environment: environment, stdin: .null, stdout: .pipe, stderr: .file(logPath))
        try process.stdout!.setTimeout(seconds: 20)
        var output: [UInt8] = []
        while !output.contains(10) {
            let chunk = try process.stdout!.receive()
            if chunk.isEmpty { break }
            output += chunk
        }
        let line = String(decoding: output, as: UTF8.self)
        // "vsquared: serving http://HOST:PORT/"
        let url = line.split(whereSeparator: { $0 == " " || $0 == "\n" }).last.map(String.init) ?? ""
        let hostPort = url.hasPrefix("http://") ? String(url.dropFirst(7).prefix { $0 != "/" }) : ""
        guard let address = SocketAddress(hostPort: hostPort) else {
            process.stop()
            let log = FileSystem.readFile(logPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
            throw HTTPTestError.malformedResponse("vsquared did not report its address; stdout: \(line) log: \(log)")
        }
        self.address = address
        // The namespaces this daemon will make carry its instance prefix: noted for the run's sweep.
        if let version = try? HTTPTestClient(address: address).get("/v1/version"), version.status == 200,
           let instance = try? version.json()["instance"]?.stringValue {
            TestRun.record(namespacePrefix: "vsq-\(instance)-")
        }
    }

    /// Kills vsquared. Its workers outlive it by design; they go when the TempDirectory they run
    /// from is removed (so a test that restarts vsquared over the same directory keeps them).
    deinit { process.stop(signal: SIGKILL, graceSeconds: 0) }

    /// Pids of vsquare-switch workers whose command line mentions `path`.
    public static func workerPIDs(under path: String) -> [Int32] {
        TempDirectory.processes(mentioning: path).filter { pid in
            FileSystem.readFile("/proc/\(pid)/cmdline").map { String(decoding: $0, as: UTF8.self).contains("vsquare-switch") } ?? false
        }
    }

    public static func killWorkers(under path: String) {
        for pid in workerPIDs(under: path) { kill(pid, SIGKILL) }
    }

    /// The log written so far.
    public var log: String {
        FileSystem.readFile(logPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// SIGTERM, then waits for the exit.
    @discardableResult
    /// SIGTERM, then SIGKILL after 15 s. A stop that is not a clean exit prints the log's end, so a
    /// rare crash at shutdown is seen in its own words.
    public func stop() -> ChildProcess.Termination {
        let termination = process.stop(signal: SIGTERM, graceSeconds: 15)
        if termination != .exited(0) {
            writeText("vsquared (\(logPath)) stopped as \(termination); its log ends:\n\(log.suffix(4000))\n", to: 2)
        }
        return termination
    }
}

/// Polls `condition` until it holds or `timeoutSeconds` pass; returns whether it held.
public func eventually(timeoutSeconds: Double = 5, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Clock.monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
    while Clock.monotonicNanoseconds() < deadline {
        if try condition() { return true }
        usleep(10_000)
    }
    return try condition()
}

extension DaemonProcess {
    /// The one VSQUARE_TOKENS token of a `closed` vsquared, as a header.
    public static let admin = [("Authorization", "Bearer s3cret-admin")]

    /// A vsquared that asks for tokens: its VSQUARE_TOKENS file holds one admin token (`admin`).
    public static func closed(_ directory: TempDirectory, environment: [String: String] = [:]) throws -> DaemonProcess {
        let tokens = directory.path + "/tokens"
        try FileSystem.writeFile(tokens, "# admin\ns3cret-admin\n")
        return try DaemonProcess(environment: environment.merging(["VSQUARE_TOKENS": tokens]) { _, new in new }, directory: directory)
    }
}

/// The header that presents `token`.
public func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer \(token)")] }
