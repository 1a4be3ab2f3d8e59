// TaskExpectation: how a command's outcome is judged, for an experiment's task and a lab's check
// alike. Pure: an exit code and the output in, verdicts out, so a judgement can be recomputed
// from its evidence.
import JSON

public struct TaskExpectation: Sendable, Equatable {
    /// nil: 0, or (with `fail`) anything but 0.
    public let exitCode: Int?
    /// Regexes the output must match somewhere.
    public let stdout: String?
    public let stderr: String?
    /// The command must fail.
    public let fail: Bool

    public init(exitCode: Int? = nil, stdout: String? = nil, stderr: String? = nil, fail: Bool = false) {
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
        self.fail = fail
    }

    /// An expectation nothing satisfies: exit 0 demanded of a command that must fail.
    public var canNeverMatch: Bool { fail && exitCode == 0 }

    public struct Verdict: Sendable, Equatable {
        /// `exit_code`, `stdout`, `stderr`, `timeout`.
        public let check: String
        public let expected: String
        public let actual: String
        public let passed: Bool

        public var json: JSONObject {
            ["check": JSON(check), "expected": JSON(expected), "actual": JSON(actual), "passed": JSON(passed)]
        }
    }

    /// Each check's verdict on one attempt; a command that outlasted its timeout fails on that alone.
    public func verdicts(exitCode: Int?, stdout: String, stderr: String, timedOut: Bool) -> [Verdict] {
        if timedOut {
            return [Verdict(check: "timeout", expected: "ends within its timeout", actual: "killed at its timeout", passed: false)]
        }
        var verdicts: [Verdict] = []
        let actual = exitCode.map(String.init) ?? "none"
        switch (self.exitCode, fail) {
        case (let code?, _):
            verdicts.append(Verdict(check: "exit_code", expected: String(code), actual: actual, passed: exitCode == code))
        case (nil, false):
            verdicts.append(Verdict(check: "exit_code", expected: "0", actual: actual, passed: exitCode == 0))
        case (nil, true):
            verdicts.append(Verdict(check: "exit_code", expected: "not 0", actual: actual, passed: exitCode != nil && exitCode != 0))
        }
        for (check, pattern, text) in [("stdout", self.stdout, stdout), ("stderr", self.stderr, stderr)] {
            guard let pattern else { continue }
            let found = (try? Regex(pattern)).flatMap { try? $0.firstMatch(in: text) }
            verdicts.append(Verdict(check: check, expected: "matches /\(pattern)/", actual: found.map { "matched \"\(text[$0.range])\"" } ?? "no match",
                                    passed: found != nil))
        }
        return verdicts
    }

    /// Whether `pattern` compiles; the error's words when not.
    public static func regexProblem(_ pattern: String) -> String? {
        do {
            _ = try Regex(pattern)
            return nil
        } catch {
            return String(describing: error)
        }
    }

    /// `{exit_code?, stdout?, stderr?, fail?}` as written in a document; each problem reported at its pointer (nil when there is one).
    public static func read(_ value: JSON, at: String, _ report: (String, String, String) -> Void,
                            _ warn: (String, String, String) -> Void) -> TaskExpectation? {
        guard let object = value.objectValue else {
            report(at, "invalid_field", "expect is {exit_code, stdout, stderr, fail}")
            return nil
        }
        var ok = true
        for key in object.keys where !["exit_code", "stdout", "stderr", "fail"].contains(key) {
            report(at + "/" + JSONPointer.token(key), "unknown_field", "expect has exit_code, stdout, stderr and fail")
            ok = false
        }
        var exitCode: Int?
        if let code = object["exit_code"] {
            if let number = code.integerValue, (0...255).contains(number) { exitCode = number } else {
                report(at + "/exit_code", "invalid_field", "exit_code is 0 to 255")
                ok = false
            }
        }
        var patterns: [String: String] = [:]
        for key in ["stdout", "stderr"] {
            guard let pattern = object[key] else { continue }
            guard let text = pattern.stringValue else {
                report(at + "/" + key, "invalid_field", "\(key) is a regex the output must match")
                ok = false
                continue
            }
            if let problem = TaskExpectation.regexProblem(text) {
                report(at + "/" + key, "invalid_regex", "the regex /\(text)/ does not compile: \(problem)")
                ok = false
            }
            patterns[key] = text
        }
        var fail = false
        if let value = object["fail"] {
            if let flag = value.boolValue { fail = flag } else {
                report(at + "/fail", "invalid_field", "fail is true for a command that must fail")
                ok = false
            }
        }
        let expectation = TaskExpectation(exitCode: exitCode, stdout: patterns["stdout"], stderr: patterns["stderr"], fail: fail)
        if expectation.canNeverMatch {
            warn(at, "never_matches", "exit_code 0 with fail: true: no command can both succeed and fail")
        }
        return ok ? expectation : nil
    }
}
