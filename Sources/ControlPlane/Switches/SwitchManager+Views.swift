// How a switch looks in the API: the spec (what was asked) composed with what the worker reports
// (state, pid, uptime, ports in use, applied generation). Nothing observed is taken from the spec.
import JSON
import LabEngine
import Posix

/// What a view needs from a switch, copied under the lock so the worker can be asked without it.
struct SwitchSnapshot {
    let spec: SwitchSpec
    let lifecycle: WorkerLifecycle
    let directory: String
    let client: WorkerClient
}

extension SwitchManager {
    /// Called with the lock held (a mutation replying with the state it produced).
    func view(_ handle: SupervisedSwitch) -> JSONObject { view(snapshot(handle)) }

    func snapshot(_ handle: SupervisedSwitch) -> SwitchSnapshot {
        SwitchSnapshot(spec: handle.spec, lifecycle: handle.lifecycle, directory: handle.directory, client: handle.client)
    }

    /// The spanning tree as asked for, with the bridge and the root the worker sees (null while off or not running).
    static func spanningTreeView(_ tree: SwitchSpanningTree, live: JSON?) -> JSON {
        var object = tree.json.objectValue ?? [:]
        for key in ["bridge_id", "root_id", "root_port", "root_path_cost", "is_root", "topology_changes", "last_topology_change_s", "blocked_ports"] {
            object[key] = live?[key] ?? .null
        }
        return .object(object)
    }

    /// Composes the view, asking the worker for `status`; needs no lock.
    func view(_ handle: SwitchSnapshot) -> JSONObject {
        let spec = handle.spec
        var status: JSON?
        if handle.lifecycle.state == .running { status = try? handle.client.call("status") }
        return [
            "name": JSON(spec.name),
            "description": JSON(spec.description),
            "ports": JSON(spec.ports),
            "hub": JSON(spec.hub),
            "mac_aging_s": JSON(spec.macAgingSeconds),
            "stp": SwitchManager.spanningTreeView(spec.spanningTree, live: status?["stp"]),
            "multicast": spec.multicast.json,
            "socket_mode": JSON(SwitchSpec.octal(spec.socketMode)),
            "socket_group": JSON(spec.socketGroup), "socket_owner": JSON(spec.socketOwner),
            "plug_url": JSON("vde://" + handle.directory),
            "qemu_nic": JSON("-nic vde,sock=" + handle.directory),
            "state": JSON(status == nil && handle.lifecycle.state == .running ? "unresponsive" : handle.lifecycle.state.rawValue),
            "pid": status?["pid"] ?? .null,
            "uptime_s": status?["uptime_s"] ?? .null,
            "ports_in_use": status?["active_ports"] ?? .null,
            "restart_count": JSON(handle.lifecycle.restartCount),
            "last_exit_reason": JSON(handle.lifecycle.lastExit?.description),
            "failure": JSON(handle.lifecycle.failureReason),
            "lab": JSON(membership?.lab(of: .switch, spec.name)),
            "generation": JSON(spec.generation),
            "applied_generation": status?["applied_generation"] ?? .null,
            "created_at": JSON(spec.createdAt),
        ]
    }
}
