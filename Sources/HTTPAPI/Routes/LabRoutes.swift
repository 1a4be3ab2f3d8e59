// /v1/labs: whole networks from one topology document. A document with problems is refused with
// every problem (422 invalid_topology, each with its JSON pointer); members are ordinary
// switches, cables and stacks under their global names.
import ControlPlane
import JSON

public enum LabRoutes {
    public static func register(on router: inout RouterBuilder, labs: LabManager) {
        router.add("POST", "/v1/labs") { request in
            var reader = try JSONReader(try request.json())
            let name = try reader.string("name", matching: ResourceName.isValid, ruleText: ResourceName.rule)
            let topology = try reader.object("topology")
            try reader.finish()
            return .json(.object(try labs.create(name: name, document: .object(topology.object))), status: 201)
        }
        router.add("GET", "/v1/labs") { _ in .json(["labs": JSON(labs.list().map(JSON.object))]) }
        router.add("GET", "/v1/labs/{name}") { request in
            .json(.object(try labs.get(try request.resourceName("name", kind: "lab"))))
        }
        router.add("DELETE", "/v1/labs/{name}") { request in
            try labs.delete(try request.resourceName("name", kind: "lab"))
            return .noContent
        }
    }
}
