// ExecOutcome: how a command run by StackManager.exec ended, read from its answer — what an
// experiment's task and a lab's check both judge against their expectation.
import JSON
import LabEngine

struct ExecOutcome {
    let stdout: String
    let stderr: String
    /// nil when the command was killed at its timeout.
    let exitCode: Int?
    let timedOut: Bool

    init(_ output: JSONObject) {
        stdout = output["stdout"]?.stringValue ?? ""
        stderr = output["stderr"]?.stringValue ?? ""
        timedOut = output["timed_out"]?.boolValue ?? false
        exitCode = timedOut ? nil : output["exit_code"]?.intValue
    }

    func verdicts(_ expectation: TaskExpectation) -> [TaskExpectation.Verdict] {
        expectation.verdicts(exitCode: exitCode, stdout: stdout, stderr: stderr, timedOut: timedOut)
    }
}
