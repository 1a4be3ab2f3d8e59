// The cable's control ops: help, version, status, impairments.get/set, cut, restore, counters,
// counters.reset, slirp.forwards.set, shutdown, and the capture ops (CaptureOps). Events: end.up, end.down, cable.cut, cable.restored.
import CableEngine
import Glibc
import JSON
import Posix
import WorkerControl

typealias CableOp = ControlOp<CableWorker>

public enum VSquareCableVersion {
    public static let current = "0.1.0"
}

enum CableOps {
    static let all: [CableOp] = CaptureOps.ops(pointParameters: "direction? (a_to_b|b_to_a|both)") + [
        CableOp(name: "help", parameters: "{}", summary: "every op with its parameters") { worker, _ in worker.control.helpReply() },
        CableOp(name: "version", parameters: "{}", summary: "software version") { _, _ in
            ["version": JSON(VSquareCableVersion.current), "protocol": 1]
        },
        CableOp(name: "status", parameters: "{}", summary: "identity, uptime, ends, cut") { worker, _ in worker.statusJSON() },
        CableOp(name: "impairments.get", parameters: "{}", summary: "both directions' impairments and the seed") { worker, _ in
            worker.impairmentsJSON()
        },
        CableOp(name: "impairments.set", parameters: "{a_to_b?, b_to_a?, generation?}",
                summary: "change impairments per direction; fields left out stay, null turns one off") { worker, reader in
            var next = worker.directions.map(\.impairments)
            for (index, key) in ["a_to_b", "b_to_a"].enumerated() {
                if var nested = try reader.optionalObject(key) {
                    next[index] = try next[index].merging(&nested)
                    try nested.finish()
                }
            }
            let generation = try reader.optionalInt("generation", in: 0...Int.max)
            for index in 0..<2 { worker.directions[index].impairments = next[index] }
            if let generation { worker.appliedGeneration = Int64(generation) }
            return worker.impairmentsJSON()
        },
        CableOp(name: "cut", parameters: "{}", summary: "carrier down: both directions drop (counted as cut)") { worker, _ in
            worker.setCut(true)
            return worker.statusJSON()
        },
        CableOp(name: "restore", parameters: "{}", summary: "carrier up again") { worker, _ in
            worker.setCut(false)
            return worker.statusJSON()
        },
        CableOp(name: "counters", parameters: "{}", summary: "per direction: frames and bytes in and out, drops by cause") { worker, _ in
            ["a_to_b": .object(worker.directions[0].counters.json), "b_to_a": .object(worker.directions[1].counters.json)]
        },
        CableOp(name: "counters.reset", parameters: "{}", summary: "zero the counters") { worker, _ in
            for index in 0..<2 { worker.directions[index].resetCounters() }
            return [:]
        },
        CableOp(name: "slirp.forwards.set", parameters: "{forwards: [{protocol, host_address?, host_port, guest_address, guest_port}]}",
                summary: "replace a slirp end's host port forwards") { worker, reader in
            guard let slirp = worker.ends.compactMap({ $0 as? SlirpEnd }).first else {
                throw ControlError("not_slirp", "this cable has no slirp end")
            }
            let wanted = try reader.array("forwards") { (item, path) throws(JSONFieldError) in
                guard let forward = HostForward(json: item), SocketAddress.parse4(forward.hostAddress) != nil,
                      SocketAddress.parse4(forward.guestAddress) != nil,
                      (1...65535).contains(forward.hostPort), (1...65535).contains(forward.guestPort) else {
                    throw JSONFieldError(path: path, rule: "must be {protocol: tcp|udp, host_address, host_port, guest_address, guest_port} with IPv4 addresses")
                }
                return forward
            }
            let refused = slirp.setForwards(Set(wanted))
            guard refused.isEmpty else {
                throw ControlError("forward_refused", "libslirp refused " + refused.map { "\($0.hostAddress):\($0.hostPort)" }.joined(separator: ", ")
                                   + " (is the host port in use?)")
            }
            return slirp.status
        },
        CableOp(name: "shutdown", parameters: "{}", summary: "unplug both ends and exit") { worker, _ in
            worker.running = false
            return [:]
        },
    ]
}

extension CableWorker {
    func statusJSON() -> JSONObject {
        ["name": JSON(options.name), "instance_id": JSON(instanceID), "pid": JSON(Int(getpid())), "version": JSON(VSquareCableVersion.current),
         "uptime_s": JSON(Int((Clock.monotonicNanoseconds() - startedAt) / 1_000_000_000)),
         "state": JSON(isCut ? "cut" : ends.allSatisfy(\.isUp) ? "up" : "connecting"),
         "cut": JSON(isCut), "seed": JSON(String(options.seed)),
         "ends": JSON(ends.map { JSON.object($0.status) }),
         "queued_frames": JSON(queues.reduce(0) { $0 + $1.count }),
         "applied_generation": JSON(appliedGeneration)]
    }

    func impairmentsJSON() -> JSONObject {
        ["a_to_b": .object(directions[0].impairments.json), "b_to_a": .object(directions[1].impairments.json),
         "seed": JSON(String(options.seed)), "applied_generation": JSON(appliedGeneration)]
    }
}
