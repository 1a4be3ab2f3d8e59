// NamespacePair: two network namespaces joined by a veth pair, created for one test and always
// removed; `shell` runs a command line and gives its exit status.
import Glibc

/// Two namespaces joined by veth: `a` has 10.201.X.1, `b` has 10.201.X.2. Removed on deinit.
public final class NamespacePair: @unchecked Sendable {
    public let a: String
    public let b: String
    public let subnet = Int.random(in: 1...250)

    public init() throws {
        let tag = TestRun.tag()
        a = TestRun.name("A" + tag)
        b = TestRun.name("B" + tag)
        let vethA = TestRun.name("a" + tag), vethB = TestRun.name("b" + tag)
        self.vethA = vethA
        self.vethB = vethB
        for command in [
            "ip netns add \(a)", "ip netns add \(b)",
            "ip link add \(vethA) type veth peer name \(vethB)",
            "ip link set \(vethA) netns \(a)", "ip link set \(vethB) netns \(b)",
            "ip -n \(a) addr add 10.201.\(subnet).1/24 dev \(vethA)", "ip -n \(b) addr add 10.201.\(subnet).2/24 dev \(vethB)",
            "ip -n \(a) link set lo up", "ip -n \(b) link set lo up",
            "ip -n \(a) link set \(vethA) up", "ip -n \(b) link set \(vethB) up",
        ] where shell(command) != 0 {
            remove()
            throw HTTPTestError.malformedResponse("namespace set-up failed: \(command)")
        }
    }

    public let vethA: String
    public let vethB: String

    deinit { remove() }

    /// Both namespaces, and the veth if set-up failed before it left the root namespace.
    public func remove() {
        _ = shell("ip netns del \(a) 2>/dev/null; ip netns del \(b) 2>/dev/null; ip link del \(vethA) 2>/dev/null")
    }

    public func setPath(up: Bool) { _ = shell("ip -n \(a) link set \(vethA) \(up ? "up" : "down")") }
}

@discardableResult
public func shell(_ command: String) -> Int32 {
    let status = command.withCString { system($0) }
    return (status >> 8) & 0xFF
}
