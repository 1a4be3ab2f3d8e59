// The spanning tree inside a SwitchEngine: BPDUs go to it instead of being flooded, port links
// follow plugging and enabling, and its port states gate learning and forwarding (a discarding
// port neither learns nor forwards; a learning port learns only). Off by default: then every
// port forwards and BPDUs are flooded like any other multicast, as a switch without STP does.

extension SwitchEngine {
    /// Turns the spanning tree on (the bridge's address names it) or changes its settings.
    public mutating func enableSpanningTree(address: MACAddress, configuration: SpanningTreeConfiguration,
                                            now: UInt64) throws(SwitchEngineError) {
        if let problem = configuration.problem { throw .invalid(problem) }
        spanningTreeTime = now
        if var tree = spanningTree, tree.address == address {
            tree.setConfiguration(configuration, now: now)
            spanningTree = tree
        } else {
            var tree = SpanningTree(address: address, portCount: portCount, configuration: configuration)
            for port in ports.indices.dropFirst() {
                tree.ports[port].pathCost = portSpanningTree[port].pathCost
                tree.ports[port].priority = portSpanningTree[port].priority
                tree.ports[port].adminEdge = portSpanningTree[port].adminEdge
                tree.setLink(port, up: ports[port].active && ports[port].enabled && ports[port].carrier, autoEdge: !portSpanningTree[port].bridgeLink, now: now)
            }
            spanningTree = tree
        }
        applySpanningTree()
    }

    /// Turns it off: every port forwards again.
    public mutating func disableSpanningTree() {
        spanningTree = nil
        for port in ports.indices {
            ports[port].learning = true
            ports[port].forwarding = true
        }
        rebuildFloodTable()
    }

    /// A port's spanning tree settings, kept whether the tree runs or not; nil fields stay as they are.
    public mutating func configureSpanningTreePort(_ port: Int, pathCost: UInt32? = nil, priority: UInt8? = nil,
                                                   adminEdge: Bool?? = nil, now: UInt64) throws(SwitchEngineError) {
        try checkPort(port)
        if let pathCost {
            guard (1...200_000_000).contains(pathCost) else { throw .invalid("path_cost is 1 to 200000000") }
            portSpanningTree[port].pathCost = pathCost
        }
        if let priority {
            guard priority % 16 == 0 && priority <= 240 else { throw .invalid("an STP port priority is a multiple of 16 from 0 to 240") }
            portSpanningTree[port].priority = priority
        }
        if let adminEdge { portSpanningTree[port].adminEdge = adminEdge }
        spanningTree?.configurePort(port, pathCost: pathCost, priority: priority, adminEdge: adminEdge, now: now)
        applySpanningTree()
    }

    /// A BPDU for the bridge (see `Forwarding.bridge`).
    public mutating func receiveBPDU(_ frame: UnsafeRawBufferPointer, length: Int, from port: Int, now: UInt64) {
        spanningTreeTime = now
        spanningTree?.receive(frame: frame, length: length, port: port, now: now)
        applySpanningTree()
    }

    /// The spanning tree's timers; call it every 100 ms or so while it runs.
    public mutating func tickSpanningTree(now: UInt64) {
        guard spanningTree != nil else { return }
        spanningTreeTime = now
        spanningTree?.tick(now: now)
        applySpanningTree()
    }

    /// The BPDUs to send (each on its port) and what changed, since the last call.
    public mutating func takeSpanningTreeOutput() -> (frames: [(port: Int, frame: [UInt8])], events: [SpanningTreeEvent]) {
        guard spanningTree != nil else { return ([], []) }
        return (spanningTree!.takeTransmissions(), spanningTree!.takeEvents())
    }

    /// Tells the tree which ports have a link (plugged in and enabled).
    mutating func spanningTreeLinkChanged(_ port: Int, now: UInt64) {
        guard spanningTree != nil else { return }
        spanningTree?.setLink(port, up: ports[port].active && ports[port].enabled && ports[port].carrier, autoEdge: !portSpanningTree[port].bridgeLink, now: now)
        applySpanningTree()
    }

    /// Copies the tree's port states into the ports, flushes what it asked and rebuilds the flood lists if anything moved.
    mutating func applySpanningTree() {
        guard var tree = spanningTree else { return }
        var changed = false
        for port in ports.indices.dropFirst() {
            let state = tree.ports[port].state
            let learning = state != .discarding
            let forwarding = state == .forwarding
            if ports[port].learning != learning || ports[port].forwarding != forwarding {
                ports[port].learning = learning
                ports[port].forwarding = forwarding
                changed = true
            }
        }
        for port in tree.takeFlushes() { macTable.flush(port: port) }
        spanningTree = tree
        if changed { rebuildFloodTable() }
    }
}

/// A port's spanning tree settings, kept while the tree is off so they apply when it is turned on.
public struct PortSpanningTreeSettings: Equatable, Sendable {
    public var pathCost: UInt32 = 20000
    public var priority: UInt8 = 128
    /// nil (auto): a VDE client is an edge until a BPDU arrives; a cable to another switch is not.
    public var adminEdge: Bool?
    /// Whether what is plugged in is a cable to another switch (set at plugging).
    public internal(set) var bridgeLink = false

    public init() {}
}
