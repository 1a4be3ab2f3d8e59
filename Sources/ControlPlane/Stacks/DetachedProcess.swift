// DetachedProcess: a long-running command started inside a stack (`exec` with `detach: true`). Its
// output goes to files beside the stack's plugs, read back (capped) on every GET; DELETE ends it
// and everything it started (its own process group). vsquared keeps these in memory only.
import Glibc
import JSON
import Posix

final class DetachedProcess {
    let id: Int
    let argv: [String]
    let child: ChildProcess
    let outputPath: String
    let errorPath: String
    let startedAt = Clock.rfc3339(Clock.wallSeconds())
    let started = Clock.monotonicNanoseconds()
    private var ended: UInt64?

    /// `enter` is the command prefix that puts the process inside the stack.
    init(id: Int, argv: [String], enter: [String], directory: String, environment: [String: String]) throws {
        self.id = id
        self.argv = argv
        outputPath = directory + "/process-\(id).out"
        errorPath = directory + "/process-\(id).err"
        child = try ChildProcess(path: enter[0], arguments: Array(enter.dropFirst()) + argv, environment: environment,
                                 stdin: .null, stdout: .file(outputPath), stderr: .file(errorPath), newProcessGroup: true)
    }

    /// Kills the process group and reaps the child.
    func stop() {
        kill(-child.pid, SIGKILL)
        if child.wait(timeoutSeconds: 5) != nil && ended == nil { ended = Clock.monotonicNanoseconds() }
    }

    func remove() {
        unlink(outputPath)
        unlink(errorPath)
    }

    func view(cap: Int = 1 << 20) -> JSONObject {
        let termination = child.wait(timeoutSeconds: 0)
        if termination != nil && ended == nil { ended = Clock.monotonicNanoseconds() }
        func read(_ path: String) -> (String, Bool) {
            let bytes = FileSystem.readFile(path) ?? []
            return (String(decoding: bytes.prefix(cap), as: UTF8.self), bytes.count > cap)
        }
        let (out, outCut) = read(outputPath)
        let (err, errCut) = read(errorPath)
        var exitCode: JSON = .null
        switch termination {
        case .exited(let code)?: exitCode = JSON(Int(code))
        case .signaled(let signal)?: exitCode = JSON(128 + Int(signal))
        case nil: break
        }
        return ["id": JSON(id), "argv": JSON(argv.map(JSON.string)), "pid": JSON(Int(child.pid)),
                "state": JSON(termination == nil ? "running" : "exited"), "exit_code": exitCode,
                "stdout": JSON(out), "stderr": JSON(err), "truncated": JSON(outCut || errCut), "started_at": JSON(startedAt),
                "duration_ms": JSON(Double((ended ?? Clock.monotonicNanoseconds()) - started) / 1e6)]
    }
}
