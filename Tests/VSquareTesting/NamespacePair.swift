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

/// Namespaces 0..<count, each joined to one bridge that lives in a namespace of its own (`hub`):
/// namespace i has 10.202.X.(i+1)/24 on its link `links[i]`. Removed on deinit.
public final class NamespaceBridge: @unchecked Sendable {
    public let hub: String
    public let namespaces: [String]
    public let links: [String]
    public let subnet = Int.random(in: 1...250)

    public init(count: Int) throws {
        let tag = TestRun.tag(5)
        hub = TestRun.name("H" + tag)
        namespaces = (0..<count).map { TestRun.name("N\($0)" + tag) }
        links = (0..<count).map { TestRun.name("p\($0)" + tag) }
        var commands = ["ip netns add \(hub)", "ip -n \(hub) link set lo up", "ip -n \(hub) link add br0 type bridge",
                        "ip -n \(hub) link set br0 up"]
        for (index, namespace) in namespaces.enumerated() {
            let link = links[index], hubSide = TestRun.name("q\(index)" + tag)
            commands += ["ip netns add \(namespace)", "ip link add \(link) type veth peer name \(hubSide)",
                         "ip link set \(link) netns \(namespace)", "ip link set \(hubSide) netns \(hub)",
                         "ip -n \(hub) link set \(hubSide) master br0", "ip -n \(hub) link set \(hubSide) up",
                         "ip -n \(namespace) addr add \(address(index))/24 dev \(link)",
                         "ip -n \(namespace) link set lo up", "ip -n \(namespace) link set \(link) up"]
        }
        for command in commands where shell(command) != 0 {
            remove()
            throw HTTPTestError.malformedResponse("namespace set-up failed: \(command)")
        }
    }

    public func address(_ index: Int) -> String { "10.202.\(subnet).\(index + 1)" }

    deinit { remove() }

    public func remove() {
        let tag = String(hub.dropFirst(TestRun.prefix.count + 1))
        var command = "ip netns del \(hub) 2>/dev/null"
        for (index, namespace) in namespaces.enumerated() {
            command += "; ip netns del \(namespace) 2>/dev/null; ip link del \(links[index]) 2>/dev/null; ip link del \(TestRun.name("q\(index)" + tag)) 2>/dev/null"
        }
        _ = shell(command)
    }
}
