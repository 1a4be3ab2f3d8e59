// What a worker's command line asks for, and why one is refused: shared by every worker executable.

/// Run with these options, or just print the help or the version.
public enum WorkerCommand<Options: Equatable & Sendable>: Equatable, Sendable {
    case run(Options)
    case help
    case version
}

/// A refused command line, in words for the user (the executable exits 64 with it).
public struct InvalidOptions: Error, Equatable, CustomStringConvertible, Sendable {
    public let description: String

    public init(description: String) { self.description = description }
}
