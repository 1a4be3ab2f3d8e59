// LabChecker: carries out a lab's checks (LabCheck, read by the analyzer) on its stacks (on
// whichever host runs each, through `exec`) and records each run in the store. A check is tried until it passes or its `wait_s` is up; its
// result carries the evidence (the last attempt's output and the expectation's verdicts).
import Glibc
import JSON
import LabEngine
import Log
import Posix

final class LabChecker: Sendable {
    /// Runs a command in a stack of a lab: (lab, stack, argv, timeout) → StackManager.exec's answer.
    typealias Exec = @Sendable (String, String, [String], Double) throws -> JSONObject
    let store: Store
    let events: EventBus
    let log: Log
    /// Runs kept per lab.
    static let runsKept = 50
    /// Output kept per result, from each stream.
    static let outputKept = 4096
    /// Pause between a failed attempt and the next.
    static let retryPause = 0.5

    init(store: Store, events: EventBus, log: Log) {
        self.store = store
        self.events = events
        self.log = log
    }

    /// Every check in document order; the run is recorded and announced (`lab.checked`).
    func run(lab: String, generation: Int, checks: [LabCheck], exec: Exec) -> JSONObject {
        let startedAt = Clock.rfc3339(Clock.wallSeconds())
        let started = Clock.monotonicNanoseconds()
        let results = checks.map { check(lab: lab, $0, exec: exec) }
        let points = results.reduce(0) { $0 + ($1["points"]?.intValue ?? 0) }
        let maximum = checks.reduce(0) { $0 + $1.points }
        let passed = results.allSatisfy { $0["passed"]?.boolValue == true }
        let run: JSONObject = ["lab": JSON(lab), "generation": JSON(generation), "at": JSON(startedAt),
                               "duration_ms": JSON(Int((Clock.monotonicNanoseconds() - started) / 1_000_000)),
                               "passed": JSON(passed), "points": JSON(points), "max_points": JSON(maximum),
                               "results": JSON(results.map(JSON.object))]
        do { try store.saveCheckRun(lab: lab, at: startedAt, run: .object(run), kept: LabChecker.runsKept) } catch {
            log.error("could not record a check run", [("lab", lab), ("error", String(describing: error))])
        }
        events.publish("lab.checked", ["lab": JSON(lab), "passed": JSON(passed), "points": JSON(points), "max_points": JSON(maximum)])
        return run
    }

    /// The lab's recorded runs, newest first.
    func runs(lab: String, limit: Int) throws -> [JSON] { try store.checkRuns(lab: lab, limit: limit) }

    private func check(lab: String, _ check: LabCheck, exec: Exec) -> JSONObject {
        let started = Clock.monotonicNanoseconds()
        let deadline = started + UInt64(check.waitSeconds * 1e9)
        var attempts = 0
        var result: JSONObject = ["check": JSON(check.id), "description": JSON(check.description), "host": JSON(check.host),
                                  "max_points": JSON(check.points)]
        var passed = false
        repeat {
            attempts += 1
            do {
                let output = try exec(lab, check.host, check.argv, check.timeoutSeconds)
                let outcome = ExecOutcome(output)
                let verdicts = outcome.verdicts(check.expectation)
                passed = verdicts.allSatisfy(\.passed)
                result["output"] = JSON(LabChecker.kept(outcome.stdout) + LabChecker.kept(outcome.stderr))
                result["exit_code"] = JSON(outcome.exitCode)
                result["verdicts"] = JSON(verdicts.map { JSON.object($0.json) })
            } catch {
                // The host is not there (a student deleted it, it is being made again): a failed attempt, with why.
                result["output"] = JSON(String(describing: error))
                result["exit_code"] = .null
                result["verdicts"] = []
            }
            if passed || Clock.monotonicNanoseconds() + UInt64(LabChecker.retryPause * 1e9) >= deadline { break }
            usleep(UInt32(LabChecker.retryPause * 1e6))
        } while true
        result["passed"] = JSON(passed)
        result["points"] = JSON(passed ? check.points : 0)
        result["attempts"] = JSON(attempts)
        result["duration_ms"] = JSON(Int((Clock.monotonicNanoseconds() - started) / 1_000_000))
        return result
    }

    private static func kept(_ text: String) -> String {
        text.utf8.count <= outputKept ? text : String(decoding: text.utf8.prefix(outputKept), as: UTF8.self) + "…\n"
    }
}
