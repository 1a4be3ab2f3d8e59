// /v1/switches/{name}/vlans: VLANs and their untagged/tagged member ports (configuration, so read
// from the desired state); POST creates, PUT sets the members exactly, DELETE refuses while in use.
import ControlPlane
import JSON

public enum VLANRoutes {
    public static func register(on router: inout RouterBuilder, switches: SwitchManager) {
        router.add("GET", "/v1/switches/{name}/vlans") { request in
            .json(["vlans": JSON(try switches.vlans(try request.resourceName("name", kind: "switch")))])
        }
        router.add("POST", "/v1/switches/{name}/vlans") { request in
            let name = try request.resourceName("name", kind: "switch")
            var reader = try JSONReader(try request.json())
            let vid = try reader.int("vid", in: 1...4094)
            let (untagged, tagged) = try members(&reader, required: false)
            try reader.finish()
            try switches.createVLAN(name, vid, untagged: untagged, tagged: tagged)
            return .json(try switches.vlan(name, vid), status: 201)
        }
        router.add("GET", "/v1/switches/{name}/vlans/{vid}") { request in
            let name = try request.resourceName("name", kind: "switch")
            return .json(try switches.vlan(name, try request.intParameter("vid", in: 1...4094, kind: "VLAN")))
        }
        router.add("PUT", "/v1/switches/{name}/vlans/{vid}") { request in
            let name = try request.resourceName("name", kind: "switch")
            let vid = try request.intParameter("vid", in: 1...4094, kind: "VLAN")
            var reader = try JSONReader(try request.json())
            // A VLAN as GET shows it may be PUT back; its vid, if given, must be the one in the path.
            if let body = try reader.optionalInt("vid", in: 1...4094), body != vid {
                throw ControlPlaneError.unprocessable(code: "unprocessable", message: "the body's vid \(body) is not the path's \(vid)")
            }
            let (untagged, tagged) = try members(&reader, required: true)
            try reader.finish()
            try switches.setVLAN(name, vid, untagged: untagged, tagged: tagged)
            return .json(try switches.vlan(name, vid))
        }
        router.add("DELETE", "/v1/switches/{name}/vlans/{vid}") { request in
            let name = try request.resourceName("name", kind: "switch")
            try switches.deleteVLAN(name, try request.intParameter("vid", in: 1...4094, kind: "VLAN"))
            return .noContent
        }
    }

    static func members(_ reader: inout JSONReader, required: Bool) throws -> ([Int], [Int]) {
        func ports(_ key: String) throws -> [Int] {
            guard required || reader.contains(key) else { return [] }
            return try reader.ints(key, in: 0...4096, what: "a port number")
        }
        return (try ports("untagged"), try ports("tagged"))
    }
}
