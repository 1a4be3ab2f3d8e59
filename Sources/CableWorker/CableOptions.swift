// CableOptions: the vsquare-cable command line.
//
//   vsquare-cable --a DIR [--a-port N] --b DIR [--b-port N] --control PATH [--name NAME] [--seed N]

public struct CableOptions: Equatable, Sendable {
    public var a: String
    public var aPort: Int?
    public var b: String
    public var bPort: Int?
    public var control: String
    public var name: String
    /// Seeds both directions' random draws (b→a uses seed + 1); reported so a run can be repeated.
    public var seed: UInt64

    public enum Command: Equatable, Sendable {
        case run(CableOptions)
        case help
        case version
    }

    public struct Invalid: Error, Equatable, CustomStringConvertible, Sendable {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public static let usage = """
    Usage: vsquare-cable --a DIR --b DIR --control PATH [options]

    One cable between two VDE switches: it plugs into both (as vde_plug would) and carries frames
    between them through per-direction impairments, set on its JSON control socket.

      --a DIR, --b DIR     The switches' control directories (vde://DIR).
      --a-port N, --b-port N
                           Ask for port N on that switch (default: any free port).
      --control PATH       JSON control socket.
      --name NAME          Name shown in status and logs. Default "cable".
      --seed N             Seed of the random draws (default: random, reported by status).
      -h, --help, --version

    An end whose switch goes away is plugged in again, with backoff, when the switch returns.
    Exit codes: 0 success, 64 bad command line, 1 any other failure.
    """

    public static func parse(_ arguments: [String]) throws(Invalid) -> Command {
        var values: [String: String] = [:]
        var index = 0
        let valued = ["--a", "--a-port", "--b", "--b-port", "--control", "--name", "--seed"]
        while index < arguments.count {
            var argument = arguments[index]
            index += 1
            var inline: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                inline = String(argument[argument.index(after: equals)...])
                argument = String(argument[..<equals])
            }
            switch argument {
            case "-h", "--help": return .help
            case "--version": return .version
            case _ where valued.contains(argument):
                if let inline {
                    values[argument] = inline
                } else {
                    guard index < arguments.count else { throw Invalid(description: "option \(argument) needs a value") }
                    values[argument] = arguments[index]
                    index += 1
                }
            default:
                throw Invalid(description: "unknown option \(argument)")
            }
        }
        guard let a = values["--a"], let b = values["--b"] else { throw Invalid(description: "--a and --b are required") }
        guard let control = values["--control"] else { throw Invalid(description: "--control is required") }
        func port(_ flag: String) throws(Invalid) -> Int? {
            guard let text = values[flag] else { return nil }
            guard let port = Int(text), (0...4096).contains(port) else { throw Invalid(description: "\(flag) must be a port number, not \(text)") }
            return port
        }
        var seed = UInt64.random(in: 1...UInt64(Int64.max))
        if let text = values["--seed"] {
            guard let parsed = UInt64(text) else { throw Invalid(description: "--seed must be a non-negative integer, not \(text)") }
            seed = parsed
        }
        return .run(CableOptions(a: a, aPort: try port("--a-port"), b: b, bPort: try port("--b-port"), control: control,
                                 name: values["--name"] ?? "cable", seed: seed))
    }
}
