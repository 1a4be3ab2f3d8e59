// MAC table ops: `macs` (filtered by VLAN and port) and `macs.flush`.
import JSON
import WorkerControl
import Posix
import SwitchEngine

enum MACOps {
    static let ops: [SwitchOp] = [
        SwitchOp(name: "macs", parameters: "{vlan?, port?}", summary: "learned addresses: mac, vlan, port, age_s") { worker, reader in
            let vlan = try reader.optionalInt("vlan", in: 0...4094).map(VLANID.init)
            let port = try reader.optionalPort("port", on: worker)
            let entries = worker.engine.macTable.list(vlan: vlan, port: port, now: Clock.monotonicNanoseconds())
            return ["macs": JSON(entries.map { entry in
                ["mac": JSON(entry.mac.description), "vlan": JSON(Int(entry.vlan)), "port": JSON(entry.port),
                 "age_s": JSON(Int(entry.ageNanoseconds / 1_000_000_000))]
            }), "count": JSON(entries.count)]
        },
        SwitchOp(name: "macs.flush", parameters: "{vlan?, port?}", summary: "forget learned addresses (all, or those matching)") { worker, reader in
            let vlan = try reader.optionalInt("vlan", in: 0...4094).map(VLANID.init)
            let port = try reader.optionalPort("port", on: worker)
            return ["flushed": JSON(worker.engine.flushMACs(vlan: vlan, port: port))]
        },
    ]
}
