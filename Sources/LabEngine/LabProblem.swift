// LabProblem: one thing wrong (or worth a warning) in a topology document, where it is (an RFC 6901
// JSON pointer into the document) and a stable code. The analyzer returns every problem at once.
import JSON

public struct LabProblem: Equatable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable {
        case error
        case warning
    }

    public let severity: Severity
    /// Into the document: `/cables/1/a/port`.
    public let pointer: String
    /// Stable, for scripts: `unknown_switch`, `port_in_use`, …
    public let code: String
    public let message: String

    public init(_ severity: Severity, _ pointer: String, _ code: String, _ message: String) {
        self.severity = severity
        self.pointer = pointer
        self.code = code
        self.message = message
    }

    /// `{pointer, code, message}`, as the API shows problems and warnings.
    public var json: JSONObject { ["pointer": JSON(pointer), "code": JSON(code), "message": JSON(message)] }

    public var description: String { "\(severity.rawValue) \(code) at \(pointer.isEmpty ? "/" : pointer): \(message)" }

    /// A dotted field path as the noun validators report it (`interfaces[0].name`), as a pointer below `base`.
    public static func pointer(_ base: String, field path: String) -> String {
        guard !path.isEmpty else { return base }
        var pointer = base
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            var rest = Substring(part)
            if let bracket = rest.firstIndex(of: "[") {
                pointer += "/" + JSONPointer.token(String(rest[..<bracket]))
                rest = rest[bracket...]
                while rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                    pointer += "/" + rest[rest.index(after: rest.startIndex)..<close]
                    rest = rest[rest.index(after: close)...]
                }
            } else {
                pointer += "/" + JSONPointer.token(String(rest))
            }
        }
        return pointer
    }
}
