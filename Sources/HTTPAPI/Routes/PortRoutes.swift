// /v1/switches/{name}/ports: what is plugged in and each port's settings, as the worker reports
// them; PATCH changes settings (stored, then applied); POST …/kick unplugs whatever is plugged in
// (the port itself stays: it is the switch's).
import ControlPlane
import JSON
import SwitchEngine

public enum PortRoutes {
    public static func register(on router: inout RouterBuilder, switches: SwitchManager) {
        router.add("GET", "/v1/switches/{name}/ports") { request in
            let name = try request.resourceName("name", kind: "switch")
            let all = try request.boolQuery("all")
            let reply = try switches.ask(name, "ports", all ? ["all": true] : [:])
            return .json(["ports": reply["ports"] ?? []])
        }
        router.add("GET", "/v1/switches/{name}/ports/{n}") { request in
            let (name, port) = try target(request, switches)
            return .json(try portView(switches, name, port))
        }
        router.add("PATCH", "/v1/switches/{name}/ports/{n}") { request in
            let (name, port) = try target(request, switches)
            var reader = try JSONReader(try request.json())
            var change = PortChange()
            if reader.contains("enabled") { change.enabled = try reader.bool("enabled") }
            switch try reader.patch("untagged_vlan", { (r: inout JSONReader, key: String) throws(JSONFieldError) in
                VLANID(try r.int(key, in: 1...4094))
            }) {
            case .absent: break
            case .clear: change.untaggedVLAN = .some(nil)
            case .set(let vlan): change.untaggedVLAN = .some(vlan)
            }
            if reader.contains("tagged_vlans") { change.taggedVLANs = Set(try reader.ints("tagged_vlans", in: 1...4094, what: "a VLAN ID").map(VLANID.init)) }
            let stp = try reader.optionalObject("stp").map { body throws(JSONFieldError) in try SpanningTreePortChange(body) }
            try reader.finish()
            if stp != nil && port == 0 {
                throw ControlPlaneError.unprocessableField(path: "stp", message: "port 0 (the management port) takes no part in the spanning tree")
            }
            try switches.setPort(name, port, change, spanningTree: stp)
            return .json(try portView(switches, name, port))
        }
        router.add("POST", "/v1/switches/{name}/ports/{n}/kick") { request in
            let (name, port) = try target(request, switches)
            let reply = try switches.ask(name, "port.kick", ["port": JSON(port)])
            return .json(["port": JSON(port), "kicked": reply["kicked"] ?? 0])
        }
    }

    static func target(_ request: HTTPRequest, _ switches: SwitchManager) throws -> (String, Int) {
        let name = try request.resourceName("name", kind: "switch")
        let size = try switches.spec(name).ports
        let text = request.parameter("n")
        guard let port = Int(text), (0...size).contains(port) else {
            throw Problem(.notFound, detail: "switch \(name) has ports 0 to \(size); there is no port \(text)")
        }
        return (name, port)
    }

    static func portView(_ switches: SwitchManager, _ name: String, _ port: Int) throws -> JSON {
        try switches.ask(name, "ports", ["port": JSON(port)])["ports"]?[0] ?? .null
    }
}
