// /v1/switches: create, list, read, change, delete and restart switches. Handlers parse, call the
// SwitchManager and encode; the manager validates against the engine's rules and owns the workers.
import ControlPlane
import JSON
import Posix
import SwitchEngine

public enum SwitchRoutes {
    public static func register(on router: inout RouterBuilder, switches: SwitchManager, cables: CableManager) {
        router.add("POST", "/v1/switches") { request in
            .json(.object(try switches.create(try SwitchSpec(body: try request.json()))), status: 201)
        }
        router.add("GET", "/v1/switches") { request in
            .json(["switches": JSON(try request.inLab(switches.list()).map(JSON.object))])
        }
        router.add("GET", "/v1/switches/{name}") { request in
            .json(.object(try switches.get(try request.resourceName("name", kind: "switch"))))
        }
        router.add("PATCH", "/v1/switches/{name}") { request in
            let name = try request.resourceName("name", kind: "switch")
            try request.refuseLabMember(.`switch`, name, switches.membership)
            var reader = try JSONReader(try request.json())
            let description = try reader.optionalString("description")
            let hub = reader.contains("hub") ? try reader.bool("hub") : nil
            let aging = try reader.optionalInt("mac_aging_s", in: 1...1_000_000)
            let stp = try reader.optionalObject("stp")
            let tree = try stp.map { try switches.spec(name).spanningTree.merged(with: $0) }
            let multicast = try reader.optionalObject("multicast").map { body throws in try switches.spec(name).multicast.merged(with: body) }
            for fixed in ["name", "ports", "socket_mode", "socket_group"] where reader.contains(fixed) {
                throw ControlPlaneError.unprocessable(code: "unprocessable",
                    message: "`\(fixed)` cannot be changed on a running switch; delete it and create it again")
            }
            try reader.finish()
            return .json(.object(try switches.update(name) { spec in
                if let description { spec.description = try SwitchSpec.checkedDescription(description) }
                if let hub { spec.hub = hub }
                if let aging { spec.macAgingSeconds = aging }
                if let tree { spec.spanningTree = tree }
                if let multicast { spec.multicast = multicast }
            }))
        }
        router.add("DELETE", "/v1/switches/{name}") { request in
            let name = try request.resourceName("name", kind: "switch")
            try request.refuseLabMember(.switch, name, switches.membership)
            try cables.deleteSwitch(name, force: try request.boolQuery("force"))
            return .noContent
        }
        router.add("GET", "/v1/switches/{name}/stp") { request in
            .json(.object(WorkerReply.body(try switches.ask(try request.resourceName("name", kind: "switch"), "stp"))))
        }
        router.add("GET", "/v1/switches/{name}/multicast") { request in
            .json(.object(WorkerReply.body(try switches.ask(try request.resourceName("name", kind: "switch"), "multicast"))))
        }
        router.add("POST", "/v1/switches/{name}/restart") { request in
            .json(.object(try switches.restart(try request.resourceName("name", kind: "switch"))))
        }
    }
}
