// /v1/switches/{name}/macs: the learned MAC table (filtered by ?vlan= and ?port=) and its flush.
// A filter is a question, not a reference: a port the switch does not have simply matches nothing.
import ControlPlane
import JSON

public enum MACRoutes {
    public static func register(on router: inout RouterBuilder, switches: SwitchManager) {
        router.add("GET", "/v1/switches/{name}/macs") { request in
            let name = try request.resourceName("name", kind: "switch")
            guard let filters = try filters(request, switches, name) else { return .json(["macs": [], "count": 0]) }
            let reply = try switches.ask(name, "macs", filters)
            return .json(["macs": reply["macs"] ?? [], "count": reply["count"] ?? 0])
        }
        router.add("DELETE", "/v1/switches/{name}/macs") { request in
            let name = try request.resourceName("name", kind: "switch")
            guard let filters = try filters(request, switches, name) else { return .json(["flushed": 0]) }
            let reply = try switches.ask(name, "macs.flush", filters)
            return .json(["flushed": reply["flushed"] ?? 0])
        }
    }

    /// The worker's filter parameters; nil when they can match no entry on this switch.
    static func filters(_ request: HTTPRequest, _ switches: SwitchManager, _ name: String) throws -> JSONObject? {
        var filters = JSONObject()
        if let vlan = try request.intQuery("vlan", in: 0...4094) { filters["vlan"] = JSON(vlan) }
        if let port = try request.intQuery("port", in: 0...4096) {
            guard port <= (try switches.spec(name).ports) else { return nil }
            filters["port"] = JSON(port)
        }
        return filters
    }
}
