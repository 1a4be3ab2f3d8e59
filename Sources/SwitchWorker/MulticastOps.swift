// Multicast snooping ops: `multicast` (the settings, each group with its member ports, the router
// ports, the counters) and `multicast.set` (snooping on or off, querier, query interval, VLANs).
// The worker ticks snooping every 250 ms and sends the queries it asks for.
import Posix
import JSON
import WorkerControl
import SwitchEngine

enum MulticastOps {
    static let ops: [SwitchOp] = [
        SwitchOp(name: "multicast", parameters: "{}", summary: "IGMP/MLD snooping: settings, groups and their ports, router ports, counters") { worker, _ in
            worker.multicastJSON()
        },
        SwitchOp(name: "multicast.set", parameters: "{snooping?, querier?, query_interval_s?, vlans? (null: all)}",
                  summary: "turn IGMP/MLD snooping on or off and set its querier, query interval and VLANs") { worker, reader in
            var configuration = worker.engine.multicastSnooping?.configuration ?? worker.multicastConfiguration
            let snooping = reader.contains("snooping") ? try reader.bool("snooping") : worker.engine.multicastSnooping != nil
            if reader.contains("querier") { configuration.querier = try reader.bool("querier") }
            if let interval = try reader.optionalDouble("query_interval_s", in: 1...3600) { configuration.queryIntervalSeconds = interval }
            switch try reader.patch("vlans", { (r: inout JSONReader, key: String) throws(JSONFieldError) in try r.ints(key, in: 1...4094, what: "a VLAN ID") }) {
            case .absent: break
            case .clear: configuration.vlans = nil
            case .set(let vids): configuration.vlans = Set(vids.map(VLANID.init))
            }
            worker.multicastConfiguration = configuration
            if snooping {
                try worker.engine.enableMulticastSnooping(address: worker.bridgeAddress, configuration: configuration)
                worker.tickMulticast(now: Clock.monotonicNanoseconds())
            } else {
                worker.engine.disableMulticastSnooping()
            }
            return worker.multicastJSON()
        },
    ]
}

extension SwitchWorker {
    static let multicastTickNanoseconds: UInt64 = 250_000_000

    func tickMulticast(now: UInt64) {
        engine.tickMulticastSnooping(now: now)
        nextMulticastTick = now + SwitchWorker.multicastTickNanoseconds
        sendMulticastQueries()
    }

    /// Sends the queries snooping asked for.
    func sendMulticastQueries() {
        sendOwnFrames(engine.takeMulticastTransmissions())
    }

    /// What `multicast.set` takes, as it is now (for `config.get`).
    func multicastSettingsJSON() -> JSON {
        let configuration = engine.multicastSnooping?.configuration ?? multicastConfiguration
        return ["snooping": JSON(engine.multicastSnooping != nil), "querier": JSON(configuration.querier),
                "query_interval_s": JSON(configuration.queryIntervalSeconds),
                "vlans": configuration.vlans.map { JSON($0.sorted().map { JSON(Int($0)) }) } ?? .null]
    }

    func multicastJSON() -> JSONObject {
        var object = multicastSettingsJSON().objectValue ?? [:]
        let now = Clock.monotonicNanoseconds()
        guard let snooping = engine.multicastSnooping else {
            object["groups"] = []
            object["router_ports"] = []
            object["queriers"] = []
            object["counters"] = .null
            return object
        }
        object["groups"] = JSON(snooping.members.sorted { ($0.key.vlan, $0.key.group) < ($1.key.vlan, $1.key.group) }.map { key, ports -> JSON in
            ["vlan": JSON(Int(key.vlan)), "group": JSON(key.group.description),
             "ports": JSON(ports.keys.sorted().map { JSON($0) }),
             "expires_s": JSON(Double(ports.values.max().map { $0 > now ? $0 - now : 0 } ?? 0) / 1e9)]
        })
        object["router_ports"] = JSON(snooping.routerPorts.sorted { $0.key < $1.key }.flatMap { vlan, ports in
            ports.keys.sorted().map { ["vlan": JSON(Int(vlan)), "port": JSON($0)] as JSON }
        })
        // Per VLAN, who asks: this switch, another querier (IGMP, MLD), or nobody.
        object["queriers"] = JSON(engine.vlans.sorted().filter { snooping.snoops($0) }.map { vlan -> JSON in
            let other = snooping.otherQueriers[vlan] ?? [:]
            return ["vlan": JSON(Int(vlan)), "igmp": JSON(querier(other[true], now)), "mld": JSON(querier(other[false], now))]
        })
        let counters = snooping.counters
        object["counters"] = ["reports": JSON(counters.reports), "leaves": JSON(counters.leaves), "queries_heard": JSON(counters.queriesHeard),
                              "queries_sent": JSON(counters.queriesSent), "bad_checksum": JSON(counters.badChecksum),
                              "malformed": JSON(counters.malformed)]
        return object

        func querier(_ other: UInt64?, _ now: UInt64) -> String {
            if let other, other > now { return "other" }
            return snooping.configuration.querier ? "this switch" : "none"
        }
    }
}
