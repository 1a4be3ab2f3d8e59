// Log: one line per event, a constant message plus key=value metadata, shaped like swift-log's
// Logger (label, level, metadata) without the dependency. Lines go to stderr in one write each,
// or to a capture sink that tests install.
import Glibc
import Posix
import Synchronization

public struct Log: Sendable {
    public enum Level: Int, Comparable, Sendable, CaseIterable {
        case debug, info, warning, error

        public var name: String {
            switch self {
            case .debug: return "debug"
            case .info: return "info"
            case .warning: return "warning"
            case .error: return "error"
            }
        }

        public init?(name: String) {
            guard let level = Level.allCases.first(where: { $0.name == name }) else { return nil }
            self = level
        }

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// Where finished lines go. Set once at start-up (or by a test).
    public typealias Sink = @Sendable (Level, String) -> Void

    private static let settings = Mutex<(threshold: Level, sink: Sink?)>((.info, nil))

    /// The least important level that is written.
    public static var threshold: Level {
        get { settings.withLock { $0.threshold } }
        set { settings.withLock { $0.threshold = newValue } }
    }

    /// Replaces stderr as the destination (nil restores stderr).
    public static func setSink(_ sink: Sink?) {
        settings.withLock { $0.sink = sink }
    }

    public let label: String
    public var metadata: [(String, String)]

    public init(label: String, metadata: [(String, String)] = []) {
        self.label = label
        self.metadata = metadata
    }

    /// A logger with extra metadata on every line.
    public func with(_ extra: [(String, String)]) -> Log {
        Log(label: label, metadata: metadata + extra)
    }

    public func debug(_ message: String, _ extra: [(String, String)] = []) { write(.debug, message, extra) }
    public func info(_ message: String, _ extra: [(String, String)] = []) { write(.info, message, extra) }
    public func warning(_ message: String, _ extra: [(String, String)] = []) { write(.warning, message, extra) }
    public func error(_ message: String, _ extra: [(String, String)] = []) { write(.error, message, extra) }

    private func write(_ level: Level, _ message: String, _ extra: [(String, String)]) {
        let (threshold, sink) = Log.settings.withLock { ($0.threshold, $0.sink) }
        guard level >= threshold else { return }
        var line = "\(Clock.rfc3339(Clock.wallSeconds())) \(level.name) \(label) \"\(message)\""
        for (key, value) in metadata + extra {
            line += " \(key)=\(Log.quoted(value))"
        }
        if let sink {
            sink(level, line)
        } else {
            line += "\n"
            _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
        }
    }

    /// Values with spaces, quotes or control characters are quoted so a line stays one line.
    static func quoted(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "\"" && $0 != "\\" && $0.value != 0x7f }
        if plain { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += "\\x" + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
