// VLAN ops: `vlans`, `vlan.create`, `vlan.delete` (refused while in use) and `vlan.set`
// (exactly these untagged and tagged members).
import JSON
import WorkerControl
import SwitchEngine

enum VLANOps {
    static let ops: [SwitchOp] = [
        SwitchOp(name: "vlans", parameters: "{}", summary: "every VLAN with its untagged and tagged member ports") { worker, _ in
            ["vlans": JSON(worker.engine.vlans.sorted().map { worker.vlanJSON($0) })]
        },
        SwitchOp(name: "vlan.create", parameters: "{vlan}", summary: "create a VLAN (1 to 4094)") { worker, reader in
            let vlan = try reader.int("vlan", in: 1...4094)
            try worker.engine.createVLAN(vlan)
            return ["vlan": worker.vlanJSON(VLANID(vlan))]
        },
        SwitchOp(name: "vlan.delete", parameters: "{vlan}", summary: "delete a VLAN no port carries") { worker, reader in
            let vlan = try reader.int("vlan", in: 1...4094)
            try worker.engine.deleteVLAN(vlan)
            return ["vlan": JSON(vlan)]
        },
        SwitchOp(name: "vlan.set", parameters: "{vlan, untagged: [port], tagged: [port]}",
                  summary: "make exactly these ports the VLAN's untagged and tagged members") { worker, reader in
            let vlan = try reader.int("vlan", in: 1...4094)
            let untagged = reader.contains("untagged") ? try reader.ports("untagged", on: worker) : []
            let tagged = reader.contains("tagged") ? try reader.ports("tagged", on: worker) : []
            try worker.engine.setVLANMembers(vlan, untagged: untagged, tagged: tagged)
            return ["vlan": worker.vlanJSON(VLANID(vlan))]
        },
    ]
}

extension SwitchWorker {
    func vlanJSON(_ vlan: VLANID) -> JSON {
        let members = engine.members(of: vlan)
        return ["vlan": JSON(Int(vlan)),
                "untagged": JSON(members.filter { !$0.tagged }.map { JSON($0.port) }),
                "tagged": JSON(members.filter(\.tagged).map { JSON($0.port) })]
    }
}
