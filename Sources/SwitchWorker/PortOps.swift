// Port ops: `ports` (state, endpoints, VLANs, counters), `port.set` and `port.kick`.
import JSON
import WorkerControl
import SwitchEngine

enum PortOps {
    static let ops: [SwitchOp] = [
        SwitchOp(name: "ports", parameters: "{port?, all?}",
                  summary: "ports that are plugged in or configured (all: every port; port: just one)") { worker, reader in
            let only = try reader.optionalPort("port", on: worker)
            let all = try reader.bool("all", default: false)
            let numbers = only.map { [$0] } ?? worker.engine.ports.indices.filter { number in
                all || worker.engine.ports[number].active || worker.engine.ports[number] != PortState()
                    || worker.engine.portSpanningTree[number] != PortSpanningTreeSettings()
            }
            return ["ports": JSON(numbers.map { worker.portJSON($0) })]
        },
        SwitchOp(name: "port.set", parameters: "{port, enabled?, allocatable?, untagged_vlan? (null: none), tagged_vlans?}",
                  summary: "change a port's settings; the port's MAC entries are flushed if its VLANs change") { worker, reader in
            let port = try reader.port("port", on: worker)
            var change = PortChange()
            if reader.contains("enabled") { change.enabled = try reader.bool("enabled") }
            if reader.contains("allocatable") { change.allocatable = try reader.bool("allocatable") }
            switch try reader.patch("untagged_vlan", { (r: inout JSONReader, key: String) throws(JSONFieldError) in
                VLANID(try r.int(key, in: 1...4094))
            }) {
            case .absent: break
            case .clear: change.untaggedVLAN = .some(nil)
            case .set(let vlan): change.untaggedVLAN = .some(vlan)
            }
            if reader.contains("tagged_vlans") { change.taggedVLANs = Set(try reader.vlanList("tagged_vlans").map(VLANID.init)) }
            try worker.engine.setPort(port, change)
            return ["port": worker.portJSON(port)]
        },
        SwitchOp(name: "port.kick", parameters: "{port}", summary: "unplug every client on a port (they see their ctl stream close)") { worker, reader in
            let port = try reader.port("port", on: worker)
            return ["port": JSON(port), "kicked": JSON(worker.kick(port: port))]
        },
    ]
}

extension SwitchWorker {
    func portJSON(_ number: Int) -> JSON {
        let port = engine.ports[number]
        let plugged = portEndpoints[number].compactMap { endpoints.get($0) }
        return [
            "port": JSON(number),
            "connected": JSON(port.active),
            "enabled": JSON(port.enabled),
            "allocatable": JSON(port.allocatable),
            "untagged_vlan": port.untaggedVLAN.map { JSON(Int($0)) } ?? .null,
            "tagged_vlans": JSON(port.taggedVLANs.sorted().map { JSON(Int($0)) }),
            "endpoints": JSON(plugged.map(endpointJSON)),
            "counters": countersJSON(port.counters),
            "stp": number == 0 ? .null : portSpanningTreeJSON(number),
        ]
    }

    func countersJSON(_ counters: PortCounters) -> JSON {
        var drops = JSONObject()
        for cause in DropCause.allCases { drops[cause.rawValue] = JSON(counters[drop: cause]) }
        return ["rx_frames": JSON(counters.rxFrames), "rx_bytes": JSON(counters.rxBytes),
                "tx_frames": JSON(counters.txFrames), "tx_bytes": JSON(counters.txBytes), "drops": .object(drops)]
    }
}
