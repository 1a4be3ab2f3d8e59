// /v1/labs: whole networks from one topology document. A document with problems is refused with
// every problem (422 invalid_topology, each with its JSON pointer, and its line and column when the
// document was YAML); members are ordinary switches, cables and stacks under their global names.
// The body is {name, topology} as JSON, or the topology document itself as YAML with ?name=.
// POST /v1/labs/plan answers what a create would do, and does nothing.
import ControlPlane
import JSON
import YAML

public enum LabRoutes {
    public static func register(on router: inout RouterBuilder, labs: LabManager) {
        router.add("POST", "/v1/labs") { request in
            if request.isYAML { return try createFromYAML(request, labs) }
            if request.queryValue("name") != nil {
                throw ControlPlaneError.unprocessableField(path: "name", message: "with a JSON body the name goes in the body, not in ?name=")
            }
            var reader = try JSONReader(try request.json())
            let name = try reader.string("name", matching: ResourceName.isValid, ruleText: ResourceName.rule)
            let topology = try reader.object("topology")
            try reader.finish()
            try refuseReserved(name)
            return .json(.object(try labs.create(name: name, document: .object(topology.object))), status: 201)
        }
        router.add("POST", "/v1/labs/plan") { request in
            var reader = try JSONReader(try request.json())
            let name = try reader.string("name", matching: ResourceName.isValid, ruleText: ResourceName.rule)
            let topology = try reader.object("topology")
            try reader.finish()
            return .json(.object(try labs.plan(name: name, document: .object(topology.object))))
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

    /// /v1/labs/plan is the planner's: no lab can be called plan.
    static func refuseReserved(_ name: String) throws {
        if name == "plan" { throw ControlPlaneError.unprocessableField(path: "name", message: "plan is reserved (POST /v1/labs/plan)") }
    }

    /// A YAML topology document; its problems carry the line and column they point at.
    static func createFromYAML(_ request: HTTPRequest, _ labs: LabManager) throws -> HTTPResponse {
        guard let name = try request.singleQuery("name") else {
            throw ControlPlaneError.unprocessableField(path: "name", message: "a YAML topology names its lab with ?name=")
        }
        guard ResourceName.isValid(name) else { throw JSONFieldError(path: "name", rule: "must be \(ResourceName.rule)") }
        try refuseReserved(name)
        let document: YAMLDocument
        do {
            document = try YAMLDocument(text: String(decoding: request.body, as: UTF8.self))
        } catch {
            var extra = JSONObject()
            if let position = error.position {
                extra["line"] = JSON(position.line)
                extra["column"] = JSON(position.column)
            }
            throw Problem(.malformedYAML, detail: error.description, extra: extra)
        }
        do {
            return .json(.object(try labs.create(name: name, document: document.json)), status: 201)
        } catch ControlPlaneError.invalidTopology(let problems) {
            let located = problems.map { problem -> JSON in
                var item = problem.json
                if let position = document.positions[problem.pointer] {
                    item["line"] = JSON(position.line)
                    item["column"] = JSON(position.column)
                }
                return .object(item)
            }
            throw Problem(.invalidTopology, detail: ControlPlaneError.invalidTopology(problems: problems).description,
                          extra: ["problems": .array(located)])
        }
    }
}
