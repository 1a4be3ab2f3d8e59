// SwitchSpec: what a user asked a switch to be — size, mode, aging, socket permissions, VLANs and
// per-port settings. This is the desired state kept in the store; the worker holds what is true.
// Port and VLAN changes are validated by applying them to a SwitchEngine built from the spec, so
// the control plane and the worker enforce exactly the same rules.
import SwitchEngine

public struct PortSetting: Equatable, Sendable {
    public var enabled = true
    public var untaggedVLAN: VLANID? = 1
    public var taggedVLANs: Set<VLANID> = []
    /// Path cost, priority and edge for the spanning tree (kept while it is off).
    public var spanningTree = PortSpanningTreeSettings()

    public init(enabled: Bool = true, untaggedVLAN: VLANID? = 1, taggedVLANs: Set<VLANID> = []) {
        self.enabled = enabled
        self.untaggedVLAN = untaggedVLAN
        self.taggedVLANs = taggedVLANs
    }

    public static let standard = PortSetting()
}

public struct SwitchSpec: Equatable, Sendable {
    public var name: String
    public var description = ""
    public var ports = 32
    public var hub = false
    public var macAgingSeconds = 300
    /// Mode of the VDE sockets (vde_switch's `-m`).
    public var socketMode: UInt32 = 0o600
    public var socketGroup: String?
    /// The Unix user owning the VDE directory and `ctl`: with socket mode 0600, the only one (besides root) who plugs in.
    public var socketOwner: String?
    /// VLANs beyond VLAN 1, which always exists.
    public var vlans: Set<VLANID> = [1]
    /// The rapid spanning tree: off unless asked for.
    public var spanningTree = SwitchSpanningTree()
    public var multicast = SwitchMulticast()
    /// Ports whose settings differ from the standard ones.
    public var portSettings: [Int: PortSetting] = [:]
    /// Bumped on every change; the worker reports the one it applied.
    public var generation = 1
    public var createdAt = ""

    public init(name: String) { self.name = name }

    /// An engine configured as this spec says (no ports plugged in): the rules' single source.
    public func makeEngine() -> SwitchEngine {
        var configuration = SwitchEngineConfiguration()
        configuration.hub = hub
        configuration.macAgingSeconds = macAgingSeconds
        var engine = SwitchEngine(portCount: ports, configuration: configuration)
        for vlan in vlans.sorted() where vlan != 1 { try? engine.createVLAN(Int(vlan)) }
        for (port, setting) in portSettings.sorted(by: { $0.key < $1.key }) {
            try? engine.setPort(port, PortChange(enabled: setting.enabled, untaggedVLAN: .some(setting.untaggedVLAN),
                                                 taggedVLANs: setting.taggedVLANs))
            let tree = setting.spanningTree
            try? engine.configureSpanningTreePort(port, pathCost: tree.pathCost, priority: tree.priority, adminEdge: .some(tree.adminEdge), now: 0)
        }
        return engine
    }

    /// Takes VLANs and port settings back from an engine after a change was applied to it.
    public mutating func adopt(_ engine: SwitchEngine) {
        vlans = engine.vlans
        portSettings = [:]
        for (port, state) in engine.ports.enumerated() {
            var setting = PortSetting(enabled: state.enabled, untaggedVLAN: state.untaggedVLAN, taggedVLANs: state.taggedVLANs)
            setting.spanningTree = engine.portSpanningTree[port]
            if setting != .standard { portSettings[port] = setting }
        }
    }

    /// Applies a change through the engine's rules; on error nothing changes.
    public mutating func change(_ body: (inout SwitchEngine) throws(SwitchEngineError) -> Void) throws(ControlPlaneError) {
        var engine = makeEngine()
        do {
            try body(&engine)
        } catch {
            throw ControlPlaneError(error)
        }
        adopt(engine)
    }

    public func setting(of port: Int) -> PortSetting { portSettings[port] ?? .standard }
}

/// A switch's spanning tree as asked for: on or off, and the bridge's priority and timers.
public struct SwitchSpanningTree: Equatable, Sendable {
    public var enabled = false
    public var configuration = SpanningTreeConfiguration()

    public init(enabled: Bool = false, configuration: SpanningTreeConfiguration = SpanningTreeConfiguration()) {
        self.enabled = enabled
        self.configuration = configuration
    }
}

/// IGMP/MLD snooping as asked for: on or off, and its settings (kept while off).
public struct SwitchMulticast: Equatable, Sendable {
    public var snooping = false
    public var configuration = MulticastSnoopingConfiguration()

    public init(snooping: Bool = false, configuration: MulticastSnoopingConfiguration = MulticastSnoopingConfiguration()) {
        self.snooping = snooping
        self.configuration = configuration
    }
}

extension ControlPlaneError {
    /// The same rule broken in the engine or the worker, with its HTTP meaning.
    public init(_ error: SwitchEngineError) {
        switch error {
        case .noSuchPort, .noSuchVLAN: self = .unprocessable(code: "unprocessable", message: error.description)
        case .vlanExists: self = .conflict(code: "vlan_exists", message: error.description)
        case .vlanInUse: self = .conflict(code: "vlan_in_use", message: error.description)
        case .invalidVLAN, .invalid: self = .unprocessable(code: "unprocessable", message: error.description)
        }
    }
}
