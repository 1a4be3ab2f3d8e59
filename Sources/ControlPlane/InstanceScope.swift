// InstanceScope: what keeps the names one vsquared gives to machine-wide things (network
// namespaces and their /etc/netns files, a default run directory) apart from another's. Two
// daemons with different homes on one host never touch each other's namespaces, even with the
// same stack names; the same home gives the same prefix after every restart.
import Posix

public struct InstanceScope: Equatable, Sendable {
    /// Six hex digits derived from the home directory's path.
    public let prefix: String

    public init(home: String) {
        let hex = String(StableHash.fnv1a(home) >> 40, radix: 16)
        prefix = String(repeating: "0", count: 6 - hex.count) + hex
    }

    /// The network namespace of stack `stack`: `vsq-<prefix>-<stack>`.
    public func namespaceName(_ stack: String) -> String { "vsq-\(prefix)-\(stack)" }
}
