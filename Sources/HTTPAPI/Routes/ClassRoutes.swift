// /v1/classes: one lab per student from a template. A class's body is JSON, or the same as YAML
// (the template's problems then carry their line and column). The answers that hold student
// tokens (a create, students added, a token issued again) and the grade tables are CSV for a
// course script when asked with `Accept: text/csv`, JSON otherwise.
import ControlPlane
import JSON
import LabEngine
import YAML

public enum ClassRoutes {
    public static func register(on router: inout RouterBuilder, classes: ClassManager) {
        router.add("POST", "/v1/classes") { request in
            let (body, yaml) = try parsed(request)
            var reader = try JSONReader(body)
            let name = try reader.string("name", matching: ResourceName.isValid, ruleText: ResourceName.rule)
            let template = try reader.object("template")
            let students = try readStudents(&reader)
            let permissions = try readPermissions(&reader)
            let quotas = try reader.value("quotas").map { try Quotas(reading: $0, path: "quotas") }
            try reader.finish()
            let reply = try LabRoutes.located(yaml) {
                try classes.create(name: name, template: .object(template.object), students: students,
                                   permissions: permissions ?? Set(StudentPermission.allCases), quotas: quotas ?? Quotas())
            }
            return withTokens(request, reply, status: 201)
        }
        router.add("GET", "/v1/classes") { _ in .json(["classes": JSON(classes.list().map(JSON.object))]) }
        router.add("GET", "/v1/classes/{name}") { request in
            let reply = try classes.get(try request.resourceName("name", kind: "class"))
            return LabRoutes.tagged(.json(.object(reply)), reply)
        }
        router.add("PUT", "/v1/classes/{name}") { request in
            let name = try request.resourceName("name", kind: "class")
            let dryRun = try request.boolQuery("dry_run")
            let (body, yaml) = try parsed(request)
            var reader = try JSONReader(body)
            if let named = try reader.optionalString("name"), named != name {
                throw ControlPlaneError.unprocessableField(path: "name", message: "the body names class \(named), the path \(name)")
            }
            let template = try reader.object("template")
            let permissions = try readPermissions(&reader)
            let quotas = try reader.value("quotas").map { try Quotas(reading: $0, path: "quotas") }
            try reader.finish()
            let ifMatch = try LabRoutes.generation(ifMatch: request.header("if-match")) { try classes.generation(name) }
            let reply = try LabRoutes.located(yaml) {
                try classes.update(name, template: .object(template.object), permissions: permissions, quotas: quotas, ifMatch: ifMatch,
                                   dryRun: dryRun)
            }
            return dryRun ? .json(.object(reply)) : LabRoutes.tagged(.json(.object(reply)), reply)
        }
        router.add("DELETE", "/v1/classes/{name}") { request in
            try classes.delete(try request.resourceName("name", kind: "class"))
            return .noContent
        }
        router.add("POST", "/v1/classes/{name}/students") { request in
            let name = try request.resourceName("name", kind: "class")
            var reader = try JSONReader(try request.json())
            let students = try readStudents(&reader)
            try reader.finish()
            return withTokens(request, try classes.addStudents(name, students), status: 201)
        }
        router.add("DELETE", "/v1/classes/{name}/students/{id}") { request in
            try classes.removeStudent(try request.resourceName("name", kind: "class"), try request.resourceName("id", kind: "student"))
            return .noContent
        }
        router.add("POST", "/v1/classes/{name}/students/{id}/token") { request in
            let issued = try classes.reissueToken(try request.resourceName("name", kind: "class"), try request.resourceName("id", kind: "student"))
            return request.wantsCSV ? tokenTable([.object(issued)]).response(status: 201) : .json(.object(issued), status: 201)
        }
        router.add("POST", "/v1/classes/{name}/reset") { request in
            let name = try request.resourceName("name", kind: "class")
            return .json(.object(try classes.reset(name, only: try request.names("students"))))
        }
        router.add("POST", "/v1/classes/{name}/checks") { request in
            let name = try request.resourceName("name", kind: "class")
            return grades(request, try classes.runChecks(name, only: try request.names("students")))
        }
        router.add("GET", "/v1/classes/{name}/checks") { request in
            grades(request, try classes.grades(try request.resourceName("name", kind: "class")))
        }
    }

    /// The body as JSON, and the YAML document it was (for the problems' positions) when it was YAML.
    static func parsed(_ request: HTTPRequest) throws -> (JSON, YAMLDocument?) {
        guard request.isYAML else { return (try request.json(), nil) }
        let document = try LabRoutes.parsedYAML(request)
        return (document.json, document)
    }

    /// `students: [{id, name?, unix_user?}]`.
    static func readStudents(_ reader: inout JSONReader) throws -> [ClassStudent] {
        try reader.array("students") { (item, path) throws(JSONFieldError) -> ClassStudent in
            var student = try JSONReader(item, path: path)
            let id = try student.string("id", matching: ResourceName.isValid, ruleText: ResourceName.rule)
            let name = try student.string("name", default: id)
            let unixUser = try student.optionalString("unix_user", nullable: true)
            try student.finish()
            return ClassStudent(id: id, name: name, unixUser: unixUser)
        }
    }

    /// `permissions: {exec, impair, cut_restore, reset, checks}`, each true or false (true when left out); nil when not given.
    static func readPermissions(_ reader: inout JSONReader) throws -> Set<StudentPermission>? {
        guard var permissions = try reader.optionalObject("permissions") else { return nil }
        var held: Set<StudentPermission> = []
        for permission in StudentPermission.allCases where try permissions.bool(permission.rawValue, default: true) { held.insert(permission) }
        try permissions.finish()
        return held
    }

    /// The class (with its new tokens), or its tokens alone as CSV.
    static func withTokens(_ request: HTTPRequest, _ reply: JSONObject, status: Int) -> HTTPResponse {
        request.wantsCSV ? tokenTable(reply["tokens"]?.arrayValue ?? []).response(status: status) : .json(.object(reply), status: status)
    }

    static func tokenTable(_ tokens: [JSON]) -> CSVTable {
        let columns = ["student", "name", "unix_user", "lab", "token_id", "token"]
        return CSVTable(header: columns, rows: tokens.map { token in columns.map { token[$0]?.stringValue ?? "" } })
    }

    /// The grade table as JSON, or as CSV: one row a student, one column a check (the points
    /// earned, empty when it did not run), the total and the most there was.
    static func grades(_ request: HTTPRequest, _ table: JSONObject) -> HTTPResponse {
        guard request.wantsCSV else { return .json(.object(table)) }
        let checks = (table["checks"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
        let maximum = table["max_points"]?.intValue ?? 0
        let rows = (table["students"]?.arrayValue ?? []).map { row -> [String] in
            let results = checks.map { check in row["results"]?[check]?["points"]?.intValue.map(String.init) ?? "" }
            return [row["student"]?.stringValue ?? "", row["name"]?.stringValue ?? ""] + results
                + [row["points"]?.intValue.map(String.init) ?? "", String(maximum), row["at"]?.stringValue ?? ""]
        }
        return CSVTable(header: ["student", "name"] + checks + ["total", "max", "at"], rows: rows).response()
    }
}
