// /v1/labs: whole networks from one topology document. A document with problems is refused with
// every problem (422 invalid_topology, each with its JSON pointer, and its line and column when the
// document was YAML); members are ordinary switches, cables and stacks under their global names.
// The body is {name, topology} as JSON, or the topology document itself as YAML with ?name=.
// POST /v1/labs/plan answers what a create would do, and does nothing. POST /v1/labs/{name}/checks
// runs the checks its document declares; GET shows them and the runs kept. A PUT with `share` is a
// coordinator handing this vsquared its share of a lab spread over hosts: only a peer may send one.
import ControlPlane
import JSON
import LabEngine
import YAML

public enum LabRoutes {
    public static func register(on router: inout RouterBuilder, labs: LabManager) {
        router.add("POST", "/v1/labs") { request in
            if request.isYAML { return try createFromYAML(request, labs) }
            try refuseNameQuery(request)
            var reader = try JSONReader(try request.json())
            let name = try reader.string("name", matching: ResourceName.isValid, ruleText: ResourceName.rule)
            let topology = try reader.object("topology")
            try reader.finish()
            try refuseReserved(name)
            return .json(.object(try labs.create(name: name, document: .object(topology.object))), status: 201)
        }
        router.add("POST", "/v1/labs/plan") { request in
            if request.isYAML {
                let name = try yamlName(request)
                let document = try parsedYAML(request)
                return .json(.object(try located(document) { try labs.plan(name: name, document: document.json) }))
            }
            try refuseNameQuery(request)
            var reader = try JSONReader(try request.json())
            let name = try reader.string("name", matching: ResourceName.isValid, ruleText: ResourceName.rule)
            let topology = try reader.object("topology")
            try reader.finish()
            return .json(.object(try labs.plan(name: name, document: .object(topology.object))))
        }
        router.add("GET", "/v1/labs") { _ in .json(["labs": JSON(labs.list().map(JSON.object))]) }
        router.add("GET", "/v1/labs/{name}") { request in
            let lab = try labs.get(try request.resourceName("name", kind: "lab"))
            return tagged(.json(.object(lab)), lab)
        }
        router.add("PUT", "/v1/labs/{name}") { request in
            let name = try request.resourceName("name", kind: "lab")
            let dryRun = try request.boolQuery("dry_run")
            let document: JSON
            var yaml: YAMLDocument?
            var share: (host: String, generation: Int)?
            if request.isYAML {
                yaml = try parsedYAML(request)
                document = yaml!.json
            } else {
                var reader = try JSONReader(try request.json())
                if let named = try reader.optionalString("name"), named != name {
                    throw ControlPlaneError.unprocessableField(path: "name", message: "the body names lab \(named), the path \(name)")
                }
                document = .object(try reader.object("topology").object)
                if var marked = try reader.optionalObject("share") {
                    share = (try marked.string("host", matching: ResourceName.isValid, ruleText: ResourceName.rule),
                             try marked.int("generation", in: 1...Int(Int32.max)))
                    try marked.finish()
                }
                try reader.finish()
            }
            if let share {
                guard let peer = request.principal.peerURL else {
                    throw ControlPlaneError.notAPeer(message: "only a peer of this vsquared (VSQUARE_PEERS) may hand it a share of a lab")
                }
                guard !dryRun else { throw ControlPlaneError.unprocessableField(path: "dry_run", message: "a share is applied, not planned") }
                let (reply, created) = try labs.receiveShare(name: name, document: document, host: share.host, generation: share.generation, peer: peer)
                return tagged(.json(.object(reply), status: created ? 201 : 200), reply)
            }
            let ifMatch = try generation(ifMatch: request.header("if-match")) { try labs.generation(name) }
            let reply = try located(yaml) {
                try labs.update(name: name, document: document, ifMatch: ifMatch, dryRun: dryRun, peer: request.principal.peerURL)
            }
            return dryRun ? .json(.object(reply)) : tagged(.json(.object(reply)), reply)
        }
        router.add("POST", "/v1/labs/{name}/reset") { request in
            let name = try request.resourceName("name", kind: "lab")
            let reply = try labs.reset(name: name, only: try request.names("members"), peer: request.principal.peerURL)
            return tagged(.json(.object(reply)), reply)
        }
        router.add("POST", "/v1/labs/{name}/checks") { request in
            .json(.object(try labs.runChecks(try request.resourceName("name", kind: "lab"))))
        }
        router.add("GET", "/v1/labs/{name}/checks") { request in
            let name = try request.resourceName("name", kind: "lab")
            return .json(.object(try labs.checks(name, limit: try request.intQuery("limit", in: 1...50) ?? 10)))
        }
        router.add("DELETE", "/v1/labs/{name}") { request in
            try labs.delete(try request.resourceName("name", kind: "lab"), peer: request.principal.peerURL)
            return .noContent
        }
    }

    /// A lab's (or an experiment's) generation is its entity tag.
    static func tagged(_ response: HTTPResponse, _ lab: JSONObject) -> HTTPResponse {
        var response = response
        if let generation = lab["generation"]?.intValue { response.headers.append(("ETag", "\"\(generation)\"")) }
        return response
    }

    /// The generation an If-Match header names (nil without one, or for `*`); 412 when none of its
    /// entity tags is the current one (RFC 9110 §13.1.1: a value that is no entity tag matches nothing).
    static func generation(ifMatch header: String?, current generation: () throws -> Int) throws -> Int? {
        guard let header = header.map({ Substring($0).trimmingSpaces() }), !header.isEmpty, header != "*" else { return nil }
        let tags = header.split(separator: ",").map { $0.trimmingSpaces() }.map { $0.hasPrefix("W/") ? String($0.dropFirst(2)) : $0 }
        let current = try generation()
        if tags.contains("\"\(current)\"") { return current }
        throw ControlPlaneError.staleGeneration(current: current)
    }

    /// /v1/labs/plan is the planner's: no lab can be called plan.
    static func refuseReserved(_ name: String) throws {
        if name == "plan" { throw ControlPlaneError.unprocessableField(path: "name", message: "plan is reserved (POST /v1/labs/plan)") }
    }

    /// A YAML topology document; its problems carry the line and column they point at.
    static func createFromYAML(_ request: HTTPRequest, _ labs: LabManager) throws -> HTTPResponse {
        let name = try yamlName(request)
        try refuseReserved(name)
        let document = try parsedYAML(request)
        return .json(.object(try located(document) { try labs.create(name: name, document: document.json) }), status: 201)
    }

    /// A YAML body is the document alone: the lab's name is ?name=.
    static func yamlName(_ request: HTTPRequest) throws -> String {
        guard let name = try request.singleQuery("name") else {
            throw ControlPlaneError.unprocessableField(path: "name", message: "a YAML topology names its lab with ?name=")
        }
        guard ResourceName.isValid(name) else { throw JSONFieldError(path: "name", rule: "must be \(ResourceName.rule)") }
        return name
    }

    /// A JSON body names the lab itself.
    static func refuseNameQuery(_ request: HTTPRequest) throws {
        if request.queryValue("name") != nil {
            throw ControlPlaneError.unprocessableField(path: "name", message: "with a JSON body the name goes in the body, not in ?name=")
        }
    }

    /// The body as a YAML document (400 malformed_yaml, with the position, when it is not one).
    static func parsedYAML(_ request: HTTPRequest) throws -> YAMLDocument {
        do {
            return try YAMLDocument(text: String(decoding: request.body, as: UTF8.self))
        } catch {
            var extra = JSONObject()
            if let position = error.position {
                extra["line"] = JSON(position.line)
                extra["column"] = JSON(position.column)
            }
            throw Problem(.malformedYAML, detail: error.description, extra: extra)
        }
    }

    /// Runs `body`; a document (a topology or an experiment) refused with problems gets each
    /// problem's line and column in `document`.
    static func located(_ document: YAMLDocument?, _ body: () throws -> JSONObject) throws -> JSONObject {
        do {
            return try body()
        } catch let error as ControlPlaneError where document != nil {
            let code: ErrorCode, problems: [LabProblem]
            switch error {
            case .invalidTopology(let found): (code, problems) = (.invalidTopology, found)
            case .invalidExperiment(let found): (code, problems) = (.invalidExperiment, found)
            default: throw error
            }
            let located = problems.map { problem -> JSON in
                var item = problem.json
                // A missing field has no position of its own: the nearest object that holds it does.
                var pointer = Substring(problem.pointer)
                while document!.positions[String(pointer)] == nil, let slash = pointer.lastIndex(of: "/") { pointer = pointer[..<slash] }
                if let position = document!.positions[String(pointer)] {
                    item["line"] = JSON(position.line)
                    item["column"] = JSON(position.column)
                }
                return .object(item)
            }
            throw Problem(code, detail: error.description, extra: ["problems": .array(located)])
        }
    }
}
