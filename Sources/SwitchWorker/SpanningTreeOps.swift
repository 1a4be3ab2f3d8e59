// Spanning tree ops: `stp` (the bridge, the root it sees, each port's role and state), `stp.set`
// (on or off, priority, timers) and `port.stp.set` (path cost, priority, edge). The worker runs
// the tree: it ticks it every 100 ms, sends the BPDUs it asks for, and reports role changes and
// topology changes as events.
import Glibc
import Posix
import JSON
import WorkerControl
import SwitchEngine
import VDEWire

enum SpanningTreeOps {
    static let ops: [SwitchOp] = [
        SwitchOp(name: "stp", parameters: "{}", summary: "the spanning tree: bridge, root, root port and cost, each port's role and state") { worker, _ in
            worker.spanningTreeJSON()
        },
        SwitchOp(name: "stp.set", parameters: "{enabled?, priority?, hello_s?, max_age_s?, forward_delay_s?}",
                  summary: "turn the rapid spanning tree on or off and set the bridge's priority and timers") { worker, reader in
            var configuration = worker.engine.spanningTree?.configuration ?? worker.spanningTreeConfiguration
            let enabled = reader.contains("enabled") ? try reader.bool("enabled") : worker.engine.spanningTree != nil
            if let priority = try reader.optionalInt("priority", in: 0...61440) { configuration.priority = UInt16(priority) }
            if let hello = try reader.optionalDouble("hello_s", in: 1...10) { configuration.helloSeconds = hello }
            if let maxAge = try reader.optionalDouble("max_age_s", in: 6...40) { configuration.maxAgeSeconds = maxAge }
            if let delay = try reader.optionalDouble("forward_delay_s", in: 4...30) { configuration.forwardDelaySeconds = delay }
            if let problem = configuration.problem { throw SwitchEngineError.invalid(problem) }
            worker.spanningTreeConfiguration = configuration
            if enabled {
                try worker.engine.enableSpanningTree(address: worker.bridgeAddress, configuration: configuration, now: Clock.monotonicNanoseconds())
                worker.tickSpanningTree(now: Clock.monotonicNanoseconds())
            } else if worker.engine.spanningTree != nil {
                worker.engine.disableSpanningTree()
            }
            return worker.spanningTreeJSON()
        },
        SwitchOp(name: "cable.carrier", parameters: "{cable, up}",
                  summary: "a vsquare cable plugged in here was cut (up false) or restored: its ports lose or regain carrier") { worker, reader in
            let cable = try reader.string("cable")
            let up = try reader.bool("up")
            if up {
                worker.cablesWithoutCarrier.remove(cable)
            } else {
                worker.cablesWithoutCarrier.insert(cable)
            }
            let ports = worker.portsPlugged(by: VDEConnectRequest.cableDescription(cable))
            for port in ports { worker.engine.setCarrier(port, up) }
            worker.sendSpanningTreeFrames()
            return ["ports": JSON(ports.map { JSON($0) })]
        },
        SwitchOp(name: "port.stp.set", parameters: "{port, path_cost?, priority?, edge? (true, false, null: auto)}",
                  summary: "a port's spanning tree cost, priority and edge setting (kept while the tree is off)") { worker, reader in
            let port = try reader.int("port", in: 1...worker.engine.portCount)
            let cost = try reader.optionalInt("path_cost", in: 1...200_000_000).map(UInt32.init)
            let priority = try reader.optionalInt("priority", in: 0...240).map(UInt8.init)
            var edge: Bool??
            switch try reader.patch("edge", { (r: inout JSONReader, key: String) throws(JSONFieldError) in try r.bool(key) }) {
            case .absent: edge = nil
            case .clear: edge = .some(nil)
            case .set(let value): edge = .some(value)
            }
            try worker.engine.configureSpanningTreePort(port, pathCost: cost, priority: priority, adminEdge: edge, now: Clock.monotonicNanoseconds())
            worker.sendSpanningTreeFrames()
            return ["port": worker.portSpanningTreeJSON(port)]
        },
    ]
}

extension SwitchWorker {
    static let spanningTreeTickNanoseconds: UInt64 = 100_000_000

    /// The bridge's MAC: locally administered, from the switch's name, so a restarted worker keeps its identity.
    var bridgeAddress: MACAddress {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in options.name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return MACAddress(bits: 0x0200_0000_0000 | (hash & 0x00FF_FFFF_FFFF))
    }

    /// The ports where a client with this handshake description is plugged in.
    func portsPlugged(by description: String) -> [Int] {
        engine.ports.indices.filter { port in
            portEndpoints[port].contains { endpoints.get($0)?.description == description }
        }
    }

    func tickSpanningTree(now: UInt64) {
        engine.tickSpanningTree(now: now)
        nextSpanningTreeTick = now + SwitchWorker.spanningTreeTickNanoseconds
        sendSpanningTreeFrames()
    }

    /// Sends the BPDUs the tree asked for and reports what changed.
    func sendSpanningTreeFrames() {
        let output = engine.takeSpanningTreeOutput()
        sendOwnFrames(output.frames)
        guard let tree = engine.spanningTree else { return }
        for event in output.events {
            switch event {
            case .portRole(let port, let role, let state):
                control.emit(["event": "port.stp_role", "port": JSON(port), "role": JSON(role.rawValue), "state": JSON(state.rawValue)])
            case .topologyChange(let port, let received):
                control.emit(["event": "stp.topology_change", "port": JSON(port), "origin": received ? "received" : "detected",
                              "topology_changes": JSON(tree.topologyChanges)])
            }
        }
    }

    /// What `stp.set` takes, as it is now: `config.get` reports it so vsquared can plan the difference.
    func spanningTreeSettingsJSON() -> JSON {
        let configuration = engine.spanningTree?.configuration ?? spanningTreeConfiguration
        return ["enabled": JSON(engine.spanningTree != nil), "priority": JSON(Int(configuration.priority)),
                "hello_s": JSON(configuration.helloSeconds), "max_age_s": JSON(configuration.maxAgeSeconds),
                "forward_delay_s": JSON(configuration.forwardDelaySeconds)]
    }

    /// The bridge and the root it sees (nulls while the tree is off).
    func spanningTreeSummaryJSON() -> JSONObject {
        let configuration = engine.spanningTree?.configuration ?? spanningTreeConfiguration
        let tree = engine.spanningTree
        return [
            "enabled": JSON(tree != nil),
            "bridge_id": JSON(BridgeID(priority: configuration.priority, address: bridgeAddress).description),
            "root_id": tree.map { JSON($0.rootVector.root.description) } ?? .null,
            "root_port": tree?.rootPort.map { JSON($0) } ?? .null,
            "root_path_cost": tree.map { JSON(Int($0.rootPathCost)) } ?? .null,
            "is_root": tree.map { JSON($0.isRoot) } ?? .null,
            "topology_changes": tree.map { JSON($0.topologyChanges) } ?? .null,
            "last_topology_change_s": tree?.lastTopologyChange.map { JSON(Double(Clock.monotonicNanoseconds() &- $0) / 1e9) } ?? .null,
            // The ports that break loops (alternate and backup ones, discarding while the tree stands): what a drawing dashes.
            "blocked_ports": tree.map { tree in
                JSON(engine.ports.indices.dropFirst().filter { engine.ports[$0].active && [.alternate, .backup].contains(tree.ports[$0].role) }.map { JSON($0) })
            } ?? .null,
        ]
    }

    func spanningTreeJSON() -> JSONObject {
        var object = spanningTreeSummaryJSON()
        for (key, value) in spanningTreeSettingsJSON().objectValue ?? [:] { object[key] = value }
        let numbers = engine.ports.indices.dropFirst().filter { engine.ports[$0].active || engine.portSpanningTree[$0] != PortSpanningTreeSettings() }
        object["ports"] = JSON(numbers.map { portSpanningTreeJSON($0) })
        return object
    }

    func portSpanningTreeJSON(_ port: Int) -> JSON {
        let settings = engine.portSpanningTree[port]
        var object: JSONObject = [
            "port": JSON(port),
            "path_cost": JSON(Int(settings.pathCost)),
            "priority": JSON(Int(settings.priority)),
            "edge": settings.adminEdge.map { JSON($0) } ?? .null,
        ]
        let live = ["role", "state", "oper_edge", "protocol", "designated_bridge", "bpdus_in", "bpdus_out", "bpdus_malformed",
                    "forwarding_transitions"]
        for key in live { object[key] = .null }
        if let tree = engine.spanningTree {
            let state = tree.ports[port]
            object["role"] = JSON(state.role.rawValue)
            object["state"] = JSON(state.state.rawValue)
            object["oper_edge"] = JSON(state.operEdge)
            object["protocol"] = JSON(state.rapid ? "rstp" : "stp")
            object["designated_bridge"] = state.received.map { JSON($0.designatedBridge.description) } ?? .null
            object["bpdus_in"] = JSON(state.counters.bpdusIn)
            object["bpdus_out"] = JSON(state.counters.bpdusOut)
            object["bpdus_malformed"] = JSON(state.counters.malformed)
            object["forwarding_transitions"] = JSON(state.counters.forwardingTransitions)
        }
        return .object(object)
    }
}
