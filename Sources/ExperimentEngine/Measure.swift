// Measure: a named number taken from a command's output (a regex's group, or a path into JSON).
import JSON

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
