// /v1/switches: create, list, read, change, delete and restart switches. Handlers parse, call the
// SwitchManager and encode; the manager validates against the engine's rules and owns the workers.
import ControlPlane
import JSON
import Posix
import SwitchEngine

public enum SwitchRoutes {
    public static func register(on router: inout RouterBuilder, switches: SwitchManager, cables: CableManager) {
        router.add("POST", "/v1/switches") { request in
            .json(.object(try switches.create(try parseCreate(request.json()))), status: 201)
        }
        router.add("GET", "/v1/switches") { _ in
            .json(["switches": JSON(switches.list().map(JSON.object))])
        }
        router.add("GET", "/v1/switches/{name}") { request in
            .json(.object(try switches.get(try request.resourceName("name", kind: "switch"))))
        }
        router.add("PATCH", "/v1/switches/{name}") { request in
            let name = try request.resourceName("name", kind: "switch")
            var reader = try JSONReader(try request.json())
            let description = try reader.optionalString("description")
            let hub = reader.contains("hub") ? try reader.bool("hub") : nil
            let aging = try reader.optionalInt("mac_aging_s", in: 1...1_000_000)
            for fixed in ["name", "ports", "socket_mode", "socket_group"] where reader.contains(fixed) {
                throw ControlPlaneError.unprocessable(code: "unprocessable",
                    message: "`\(fixed)` cannot be changed on a running switch; delete it and create it again")
            }
            try reader.finish()
            return .json(.object(try switches.update(name) { spec in
                if let description { spec.description = try checkedDescription(description) }
                if let hub { spec.hub = hub }
                if let aging { spec.macAgingSeconds = aging }
            }))
        }
        router.add("DELETE", "/v1/switches/{name}") { request in
            let force = try request.boolQuery("force")
            try cables.deleteSwitch(try request.resourceName("name", kind: "switch"), force: force)
            return .noContent
        }
        router.add("POST", "/v1/switches/{name}/restart") { request in
            .json(.object(try switches.restart(try request.resourceName("name", kind: "switch"))))
        }
    }

    static func parseCreate(_ body: JSON) throws -> SwitchSpec {
        var reader = try JSONReader(body)
        let name = try reader.string("name", matching: ResourceName.isValid, ruleText: ResourceName.rule)
        var spec = SwitchSpec(name: name)
        spec.description = try checkedDescription(try reader.string("description", default: ""))
        spec.ports = try reader.int("ports", in: 1...4096, default: 32)
        spec.hub = try reader.bool("hub", default: false)
        spec.macAgingSeconds = try reader.int("mac_aging_s", in: 1...1_000_000, default: 300)
        let mode = try reader.string("socket_mode", default: "0600")
        // Clients connect to the sockets as the owner at least, so the owner needs read and write.
        guard mode.utf8.count <= 4, let parsed = UInt32(mode, radix: 8), parsed <= 0o777, parsed & 0o600 == 0o600 else {
            throw JSONFieldError(path: "socket_mode", rule: "must be an octal mode that lets the owner read and write, such as \"0660\", not \(mode)")
        }
        spec.socketMode = parsed
        spec.socketGroup = try reader.optionalString("socket_group", nullable: true)
        if let group = spec.socketGroup, !(1...32).contains(group.utf8.count) {
            throw JSONFieldError(path: "socket_group", rule: "must be a group name or number of 1 to 32 characters")
        }
        // The worker would refuse an unknown group at every start: refuse it now.
        if let group = spec.socketGroup, FileSystem.groupID(group) == nil {
            throw ControlPlaneError.unprocessableField(path: "socket_group", message: "there is no group named \(group) on this host")
        }
        try reader.finish()
        return spec
    }

    static func checkedDescription(_ text: String) throws(JSONFieldError) -> String {
        guard text.count <= 1024 else { throw JSONFieldError(path: "description", rule: "must be at most 1024 characters") }
        return text
    }
}
