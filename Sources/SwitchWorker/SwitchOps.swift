// Built-in and switch-wide ops: `help`, `version`, `status`, `config.get`, `config.set`,
// `counters`, `trace` and `shutdown`.
import Glibc
import JSON
import WorkerControl
import Posix
import SwitchEngine

public enum VSquareSwitchVersion {
    public static let current = "0.1.0"
    /// Bumped when the control protocol changes incompatibly.
    public static let protocolVersion = 1
}

enum SwitchOps {
    static let ops: [SwitchOp] = [
        SwitchOp(name: "help", parameters: "{}", summary: "every op with its parameters") { worker, _ in
            worker.control.helpReply()
        },
        SwitchOp(name: "version", parameters: "{}", summary: "software and protocol versions") { _, _ in
            ["version": JSON(VSquareSwitchVersion.current), "protocol": JSON(VSquareSwitchVersion.protocolVersion)]
        },
        SwitchOp(name: "status", parameters: "{}", summary: "identity, uptime and what is plugged in") { worker, _ in
            worker.statusJSON()
        },
        SwitchOp(name: "config.get", parameters: "{}", summary: "switch settings") { worker, _ in
            worker.configJSON()
        },
        SwitchOp(name: "config.set", parameters: "{hub?, mac_aging_s?, mac_table_capacity?, max_frame_size?, generation?}",
                  summary: "change switch settings; generation records which desired state was applied") { worker, reader in
            let hub = reader.contains("hub") ? try reader.bool("hub") : nil
            let aging = try reader.optionalInt("mac_aging_s", in: 1...1_000_000)
            let capacity = try reader.optionalInt("mac_table_capacity", in: 1...16_777_216)
            let maxFrame = try reader.optionalInt("max_frame_size", in: 60...65535)
            let generation = try reader.optionalInt("generation", in: 0...Int.max)
            try worker.engine.configure { configuration in
                if let hub { configuration.hub = hub }
                if let aging { configuration.macAgingSeconds = aging }
                if let capacity { configuration.macTableCapacity = capacity }
                if let maxFrame { configuration.maxFrameSize = maxFrame }
            }
            if let maxFrame, maxFrame + 1 != worker.receiveBatch.slotSize {
                worker.receiveBatch = ReceiveBatch(count: SwitchWorker.batchSize, slotSize: maxFrame + 1)
            }
            if let generation { worker.appliedGeneration = Int64(generation) }
            return worker.configJSON()
        },
        SwitchOp(name: "counters", parameters: "{}", summary: "per-port counters, totals, MAC table and handshake tallies") { worker, _ in
            worker.countersReport()
        },
        SwitchOp(name: "counters.reset", parameters: "{port?}", summary: "zero the counters of one port or all") { worker, reader in
            let port = try reader.optionalPort("port", on: worker)
            worker.engine.resetCounters(port: port)
            return [:]
        },
        SwitchOp(name: "trace", parameters: "{port, frame: hex}",
                  summary: "what the switch would do with this frame arriving on this port (changes nothing)") { worker, reader in
            let port = try reader.port("port", on: worker)
            let hex = try reader.string("frame")
            guard let bytes = parseHex(hex) else {
                throw JSONFieldError(path: "frame", rule: "must be an even number of hexadecimal digits")
            }
            var frame = bytes
            let decision = worker.engine.receive(&frame, from: port, now: Clock.monotonicNanoseconds(), learn: false)
            return worker.traceJSON(decision, from: port)
        },
        SwitchOp(name: "shutdown", parameters: "{}", summary: "unplug every client and exit") { worker, _ in
            worker.running = false
            return [:]
        },
    ]

    static func parseHex(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<(index + 2)], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}

extension SwitchWorker {
    func statusJSON() -> JSONObject {
        [
            "name": JSON(options.name),
            "instance_id": JSON(instanceID),
            "pid": JSON(Int(getpid())),
            "version": JSON(VSquareSwitchVersion.current),
            "uptime_s": JSON(Int((Clock.monotonicNanoseconds() - startedAt) / 1_000_000_000)),
            "dir": JSON(options.directory),
            "control": JSON(options.control),
            "ports": JSON(engine.portCount),
            "active_ports": JSON(engine.ports.filter(\.active).count),
            "endpoints": JSON(endpoints.count),
            "hub": JSON(engine.configuration.hub),
            "nice": JSON(ProcessPriority.current),
            "sends": JSON(sendPath.rawValue),
            "applied_generation": JSON(appliedGeneration),
            "stp": .object(spanningTreeSummaryJSON()),
        ]
    }

    func configJSON() -> JSONObject {
        [
            "hub": JSON(engine.configuration.hub),
            "mac_aging_s": JSON(engine.configuration.macAgingSeconds),
            "mac_table_capacity": JSON(engine.configuration.macTableCapacity),
            "max_frame_size": JSON(engine.configuration.maxFrameSize),
            "ports": JSON(engine.portCount),
            "queue_frames": JSON(options.queueFrames),
            "applied_generation": JSON(appliedGeneration),
            "stp": spanningTreeSettingsJSON(),
            "multicast": multicastSettingsJSON(),
        ]
    }

    func countersReport() -> JSONObject {
        let totals = engine.ports.reduce(PortCounters()) { $0 + $1.counters }
        let table = engine.macTable
        return [
            "ports": JSON(engine.ports.indices.filter { engine.ports[$0].active || engine.ports[$0].counters != PortCounters() }
                .map { number -> JSON in
                    var object: JSONObject = ["port": JSON(number)]
                    for (key, value) in countersJSON(engine.ports[number].counters).objectValue ?? [:] { object[key] = value }
                    return .object(object)
                }),
            "totals": countersJSON(totals),
            "mac_table": ["entries": JSON(table.count), "capacity": JSON(table.capacity), "learned": JSON(table.totals.learned),
                          "moved": JSON(table.totals.moved), "expired": JSON(table.totals.expired), "refused": JSON(table.totals.refused)],
            "handshakes": ["accepted": JSON(stats.handshakesAccepted), "refused": JSON(stats.handshakesRefused)],
            "data_socket_errors": JSON(stats.dataSocketErrors),
            "control_errors": JSON(control.errors),
            "events_suppressed": JSON(eventLimiter.suppressed),
        ]
    }

    func traceJSON(_ decision: Decision, from port: Int) -> JSONObject {
        func edit(_ edit: EgressEdit) -> JSON {
            switch edit {
            case .none: return "none"
            case .insertTag(let vlan): return JSON("insert_tag \(vlan)")
            case .stripTag: return "strip_tag"
            case .rewriteTCI(let tci): return JSON("rewrite_tci \(tci)")
            }
        }
        var result: JSONObject = ["vlan": JSON(Int(decision.frameClass.vlan)), "length": JSON(decision.length)]
        switch decision.forwarding {
        case .unicast(let target, let change):
            result["action"] = "unicast"
            result["outputs"] = [["port": JSON(target), "edit": edit(change)]]
        case .flood:
            result["action"] = "flood"
            result["outputs"] = JSON(engine.floodTargets(for: decision.frameClass).filter { $0.port != port }.map { target in
                ["port": JSON(target.port), "edit": edit(decision.frameClass.egress(tagged: target.tagged))]
            })
        case .multicast(let targets):
            result["action"] = "multicast"
            result["outputs"] = JSON(targets.filter { $0.port != port }.map { target in
                ["port": JSON(target.port), "edit": edit(decision.frameClass.egress(tagged: target.tagged))]
            })
        case .drop(let cause):
            result["action"] = "drop"
            result["cause"] = JSON(cause.rawValue)
        case .filtered:
            result["action"] = "filtered"
        case .bridge:
            result["action"] = "bridge"
        }
        return result
    }
}
