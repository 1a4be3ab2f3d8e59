// /v1/switches/{name}/macs: the learned MAC table (filtered by ?vlan= and ?port=) and its flush.
import ControlPlane
import JSON

public enum MACRoutes {
    public static func register(on router: inout RouterBuilder, switches: SwitchManager) {
        router.add("GET", "/v1/switches/{name}/macs") { request in
            let reply = try switches.ask(try request.resourceName("name", kind: "switch"), "macs", try filters(request))
            return .json(["macs": reply["macs"] ?? [], "count": reply["count"] ?? 0])
        }
        router.add("DELETE", "/v1/switches/{name}/macs") { request in
            let reply = try switches.ask(try request.resourceName("name", kind: "switch"), "macs.flush", try filters(request))
            return .json(["flushed": reply["flushed"] ?? 0])
        }
    }

    static func filters(_ request: HTTPRequest) throws -> JSONObject {
        var filters = JSONObject()
        if let vlan = try request.intQuery("vlan", in: 0...4094) { filters["vlan"] = JSON(vlan) }
        if let port = try request.intQuery("port", in: 0...4096) { filters["port"] = JSON(port) }
        return filters
    }
}
