// /v1/experiments: a topology plus a task graph, run on request in a private lab. A document with
// problems is refused with every problem (422 invalid_experiment, each at its JSON pointer, with
// line and column for YAML). The body is {name, document} as JSON, or the document itself as YAML
// with ?name=. A run answers 202 at once with its Location; its progress is in the event stream.
import ControlPlane
import JSON
import LabEngine
import Posix
import YAML

public enum ExperimentRoutes {
    /// Runs are numbered from 1; more than this many repetitions in one run is a mistake.
    static let repeatLimit = 100

    public static func register(on router: inout RouterBuilder, experiments: ExperimentManager) {
        router.add("POST", "/v1/experiments") { request in
            let (name, document, yaml) = try body(request, pathName: nil)
            return .json(.object(try LabRoutes.located(yaml) { try experiments.create(name: name, document: document) }), status: 201)
        }
        router.add("GET", "/v1/experiments") { _ in .json(["experiments": JSON(experiments.list().map(JSON.object))]) }
        router.add("GET", "/v1/experiments/{name}") { request in
            let experiment = try experiments.get(try request.resourceName("name", kind: "experiment"))
            return LabRoutes.tagged(.json(.object(experiment)), experiment)
        }
        router.add("PUT", "/v1/experiments/{name}") { request in
            let name = try request.resourceName("name", kind: "experiment")
            let (_, document, yaml) = try body(request, pathName: name)
            let ifMatch = try LabRoutes.generation(ifMatch: request.header("if-match")) { try experiments.generation(name) }
            let reply = try LabRoutes.located(yaml) { try experiments.update(name: name, document: document, ifMatch: ifMatch) }
            return LabRoutes.tagged(.json(.object(reply)), reply)
        }
        router.add("DELETE", "/v1/experiments/{name}") { request in
            try experiments.delete(try request.resourceName("name", kind: "experiment"))
            return .noContent
        }
        router.add("POST", "/v1/experiments/{name}/runs") { request in
            let name = try request.resourceName("name", kind: "experiment")
            var repeatCount = 1
            if !request.body.isEmpty {
                var reader = try JSONReader(try request.json())
                repeatCount = try reader.optionalInt("repeat", in: 1...repeatLimit) ?? 1
                try reader.finish()
            }
            let run = try experiments.startRun(name, repeatCount: repeatCount)
            var response = HTTPResponse.json(.object(run), status: 202)
            response.headers.append(("Location", "/v1/experiments/\(name)/runs/\(run["id"]?.intValue ?? 0)"))
            return response
        }
        router.add("GET", "/v1/experiments/{name}/runs") { request in
            .json(["runs": JSON(try experiments.runs(try request.resourceName("name", kind: "experiment")).map(JSON.object))])
        }
        router.add("GET", "/v1/experiments/{name}/runs/{id}") { request in
            let (name, number) = try target(request)
            return .json(.object(try experiments.run(name, number)))
        }
        router.add("POST", "/v1/experiments/{name}/runs/{id}/cancel") { request in
            let (name, number) = try target(request)
            return .json(.object(try experiments.cancel(name, number)), status: 202)
        }
        router.add("GET", "/v1/experiments/{name}/runs/{id}/report") { request in
            let (name, number) = try target(request)
            var response = HTTPResponse.json(.object(try experiments.report(name, number)))
            response.headers.append(("Content-Disposition", "attachment; filename=\"\(name)-run-\(number)-report.json\""))
            return response
        }
        router.add("GET", "/v1/experiments/{name}/runs/{id}/captures/{file}") { request in
            let (name, number) = try target(request)
            let file = request.parameter("file")
            let path = try experiments.captureFile(name, number, file: file)
            guard let bytes = FileSystem.readFile(path) else {
                throw Problem(.notFound, detail: "the capture file \(file) of run \(number) is gone")
            }
            return HTTPResponse(status: 200, headers: [("Content-Type", "application/vnd.tcpdump.pcap"),
                                                       ("Content-Disposition", "attachment; filename=\"\(name)-run-\(number)-\(file)\"")], body: bytes)
        }
    }

    /// The experiment's name (from the body, or ?name= for YAML, or the path) and its document.
    static func body(_ request: HTTPRequest, pathName: String?) throws -> (String, JSON, YAMLDocument?) {
        if request.isYAML {
            let name = try pathName ?? LabRoutes.yamlName(request)
            if pathName != nil, request.queryValue("name") != nil {
                throw ControlPlaneError.unprocessableField(path: "name", message: "the path names the experiment; ?name= is not used here")
            }
            let yaml = try LabRoutes.parsedYAML(request)
            guard yaml.json.objectValue != nil else {
                throw ControlPlaneError.unprocessableField(path: "", message: "an experiment document is a mapping with topology and tasks")
            }
            return (name, yaml.json, yaml)
        }
        try LabRoutes.refuseNameQuery(request)
        var reader = try JSONReader(try request.json())
        let name: String
        if let pathName {
            if let named = try reader.optionalString("name"), named != pathName {
                throw ControlPlaneError.unprocessableField(path: "name", message: "the body names experiment \(named), the path \(pathName)")
            }
            name = pathName
        } else {
            name = try reader.string("name", matching: ResourceName.isValid, ruleText: ResourceName.rule)
        }
        let document = try reader.object("document")
        try reader.finish()
        return (name, .object(document.object), nil)
    }

    static func target(_ request: HTTPRequest) throws -> (String, Int) {
        (try request.resourceName("name", kind: "experiment"), try request.intParameter("id", in: 1...Int(Int32.max), kind: "run"))
    }
}
