// InstanceScope: what keeps the names one vsquared gives to machine-wide things (network
// namespaces and their /etc/netns files, a default run directory) apart from another's. Two
// daemons with different homes on one host never touch each other's namespaces, even with the
// same stack names; the same home gives the same prefix after every restart.

public struct InstanceScope: Equatable, Sendable {
    /// Six hex digits derived from the home directory's path.
    public let prefix: String

    public init(home: String) {
        // FNV-1a: small, stable across builds and platforms (Swift's Hasher is seeded per process).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in home.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash >> 40, radix: 16)
        prefix = String(repeating: "0", count: 6 - hex.count) + hex
    }

    /// The network namespace of stack `stack`: `vsq-<prefix>-<stack>`.
    public func namespaceName(_ stack: String) -> String { "vsq-\(prefix)-\(stack)" }
}
