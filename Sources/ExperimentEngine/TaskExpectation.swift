// TaskExpectation and Measure: how a command's outcome is judged and what numbers are taken from
// it. Pure: an exit code and the output in, verdicts and values out, so a run's judgement can be
// recomputed from its report.
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
}

/// A named number taken from a command's output.
public struct Measure: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// The regex's capture `group` (0 is the whole match) on stdout or stderr.
        case regex(pattern: String, group: Int, stream: String)
        /// A path into stdout read as JSON: keys and indexes (`end.sum_received.bits_per_second`, `intervals[0].sum.bytes`).
        case jsonPath([PathStep])
    }

    public enum PathStep: Sendable, Equatable {
        case key(String)
        case index(Int)
    }

    public let name: String
    public let source: Source

    public init(name: String, source: Source) {
        self.name = name
        self.source = source
    }

    /// The value in this output; nil when the output does not hold it (or it is not a number).
    public func value(stdout: String, stderr: String) -> Double? {
        switch source {
        case .regex(let pattern, let group, let stream):
            guard let regex = try? Regex(pattern),
                  let match = try? regex.firstMatch(in: stream == "stderr" ? stderr : stdout),
                  group < match.output.count, let text = match.output[group].substring else { return nil }
            return Double(text.trimmingSpaces)
        case .jsonPath(let path):
            guard var value = try? JSON.parse(stdout) else { return nil }
            for step in path {
                switch step {
                case .key(let key): guard let next = value[key] else { return nil }; value = next
                case .index(let index): guard let next = value[index] else { return nil }; value = next
                }
            }
            return value.doubleValue
        }
    }

    /// `a.b[2].c` (an optional leading `$.`) as steps; nil if it is not such a path.
    public static func path(_ text: String) -> [PathStep]? {
        var rest = Substring(text)
        if rest.hasPrefix("$.") { rest = rest.dropFirst(2) } else if rest.hasPrefix("$") { rest = rest.dropFirst() }
        var steps: [PathStep] = []
        for (position, part) in rest.split(separator: ".", omittingEmptySubsequences: false).enumerated() {
            var part = part
            let key = part.prefix { $0 != "[" }
            if !key.isEmpty { steps.append(.key(String(key))) }
            part = part.dropFirst(key.count)
            while part.hasPrefix("[") {
                guard let close = part.firstIndex(of: "]"), let index = Int(part[part.index(after: part.startIndex)..<close]), index >= 0 else {
                    return nil
                }
                steps.append(.index(index))
                part = part[part.index(after: close)...]
            }
            // Every part is a key with indexes after it; only the first may be indexes alone.
            guard part.isEmpty, !key.isEmpty || (position == 0 && !steps.isEmpty) else { return nil }
        }
        return steps.isEmpty ? nil : steps
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return text
    }
}
