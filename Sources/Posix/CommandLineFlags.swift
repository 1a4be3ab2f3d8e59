// CommandLineFlags: the one parser of `--flag VALUE`, `--flag=VALUE` and bare `--switch` options the
// executables share. Help and version are reported, not handled, so each program prints its own text.

public struct CommandLineFlags: Sendable {
    /// Valued options by name (`--dir` → "/tmp/sw").
    public var values: [String: String] = [:]
    /// Bare switches that were given (`--hub`).
    public var switches: Set<String> = []
    public var wantsHelp = false
    public var wantsVersion = false

    /// Why the command line was refused, in words for the user.
    public struct Invalid: Error, Equatable, Sendable {
        public let message: String
    }

    /// Parses `arguments`; `valued` options take a value, `switches` take none. Anything else is refused.
    public init(_ arguments: [String], valued: Set<String>, switches allowed: Set<String> = []) throws(Invalid) {
        var index = 0
        while index < arguments.count {
            var argument = arguments[index]
            index += 1
            var inline: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                inline = String(argument[argument.index(after: equals)...])
                argument = String(argument[..<equals])
            }
            switch argument {
            case "-h", "--help":
                wantsHelp = true
                return
            case "--version":
                wantsVersion = true
                return
            case _ where allowed.contains(argument):
                switches.insert(argument)
            case _ where valued.contains(argument):
                if let inline {
                    values[argument] = inline
                } else {
                    guard index < arguments.count else { throw Invalid(message: "option \(argument) needs a value") }
                    values[argument] = arguments[index]
                    index += 1
                }
            default:
                throw Invalid(message: "unknown option \(argument)")
            }
        }
    }
}
