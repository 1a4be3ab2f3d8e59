// SwitchConfigPlan: the worker ops that make a running worker's configuration equal to a spec,
// computed from the spec and what the worker reports (`config.get`, `vlans`, `ports`). Pure: it is
// tested without processes. Order: settings, then VLAN creations, then ports, then VLAN deletions
// (ports must leave a VLAN before it can go, and new VLANs must exist before ports join them).
import JSON
import SwitchEngine

public struct WorkerOp: Equatable, Sendable {
    public var op: String
    public var parameters: JSONObject

    public init(_ op: String, _ parameters: JSONObject) {
        self.op = op
        self.parameters = parameters
    }
}

/// What a worker says its configuration is.
public struct ObservedSwitchConfig: Equatable, Sendable {
    public var hub: Bool
    public var macAgingSeconds: Int
    public var appliedGeneration: Int
    public var vlans: Set<VLANID>
    public var spanningTree: SwitchSpanningTree
    public var multicast = SwitchMulticast()
    /// Every port the worker reported (plugged in or configured), with its settings.
    public var ports: [Int: PortSetting]

    public init(hub: Bool, macAgingSeconds: Int, appliedGeneration: Int, vlans: Set<VLANID>, ports: [Int: PortSetting],
                spanningTree: SwitchSpanningTree = SwitchSpanningTree()) {
        self.spanningTree = spanningTree
        self.hub = hub
        self.macAgingSeconds = macAgingSeconds
        self.appliedGeneration = appliedGeneration
        self.vlans = vlans
        self.ports = ports
    }

    /// Reads the replies of `config.get`, `vlans` and `ports`.
    public init(config: JSON, vlans: JSON, ports: JSON) {
        hub = config["hub"]?.boolValue ?? false
        macAgingSeconds = config["mac_aging_s"]?.intValue ?? 300
        appliedGeneration = config["applied_generation"]?.intValue ?? 0
        spanningTree = config["stp"].map(SwitchSpanningTree.init(json:)) ?? SwitchSpanningTree()
        multicast = config["multicast"].map(SwitchMulticast.init(json:)) ?? SwitchMulticast()
        self.vlans = Set((vlans["vlans"]?.arrayValue ?? []).compactMap { $0["vlan"]?.intValue.map { VLANID($0) } })
        var observed: [Int: PortSetting] = [:]
        for port in ports["ports"]?.arrayValue ?? [] {
            guard let number = port["port"]?.intValue else { continue }
            observed[number] = PortSetting(json: port)
        }
        self.ports = observed
    }
}

public enum SwitchConfigPlan {
    public static func plan(spec: SwitchSpec, observed: ObservedSwitchConfig) -> [WorkerOp] {
        var ops: [WorkerOp] = []
        for vlan in spec.vlans.subtracting(observed.vlans).sorted() {
            ops.append(WorkerOp("vlan.create", ["vlan": JSON(Int(vlan))]))
        }
        let ports = Set(spec.portSettings.keys).union(observed.ports.keys).sorted()
        for port in ports {
            let wanted = spec.setting(of: port)
            let have = observed.ports[port] ?? .standard
            guard wanted != have else { continue }
            var base = wanted
            base.spanningTree = have.spanningTree
            if base != have { ops.append(WorkerOp("port.set", wanted.json(port: port))) }
            if wanted.spanningTree != have.spanningTree {
                var parameters = wanted.spanningTree.json.objectValue ?? [:]
                parameters["port"] = JSON(port)
                ops.append(WorkerOp("port.stp.set", parameters))
            }
        }
        if spec.spanningTree != observed.spanningTree {
            ops.append(WorkerOp("stp.set", spec.spanningTree.json.objectValue ?? [:]))
        }
        if spec.multicast != observed.multicast {
            ops.append(WorkerOp("multicast.set", spec.multicast.json.objectValue ?? [:]))
        }
        for vlan in observed.vlans.subtracting(spec.vlans).sorted() {
            ops.append(WorkerOp("vlan.delete", ["vlan": JSON(Int(vlan))]))
        }
        // Last, so `applied_generation` changes only once everything before it is in place.
        if spec.hub != observed.hub || spec.macAgingSeconds != observed.macAgingSeconds || spec.generation != observed.appliedGeneration {
            ops.append(WorkerOp("config.set", ["hub": JSON(spec.hub), "mac_aging_s": JSON(spec.macAgingSeconds),
                                               "generation": JSON(spec.generation)]))
        }
        return ops
    }
}
