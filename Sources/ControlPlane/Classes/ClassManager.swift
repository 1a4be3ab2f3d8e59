// ClassManager: a class is one lab per student from one template, and one student token per
// student scoped to that lab alone. The template is analyzed before anything is touched (a
// teacher's mistake is refused with the analyzer's problems, each at its pointer under
// /template); labs are ordinary labs built and changed through LabManager. The class is saved
// before its labs are built, so a vsquared that stops part-way builds the missing ones on start.
import JSON
import LabEngine
import Log
import Posix
import Synchronization

public final class ClassManager: @unchecked Sendable {
    let store: Store
    let labs: LabManager
    let tokens: TokenManager
    let events: EventBus
    let log = Log(label: "vsquared.classes")
    public let membership = ClassMembership()
    /// One change of a class at a time (creates, student changes, template changes, deletes).
    let operations = Lock()
    /// `classes`, held briefly.
    let lock = Lock()
    var classes: [String: ClassSpec] = [:]
    /// Labs checked or reset at once.
    static let width = 8

    public init(store: Store, labs: LabManager, tokens: TokenManager, events: EventBus) throws {
        self.store = store
        self.labs = labs
        self.tokens = tokens
        self.events = events
        for spec in try store.loadClasses() {
            classes[spec.name] = spec
            membership.set(spec)
        }
    }

    /// Builds the labs of students whose lab is missing (a create or an add that did not finish).
    public func start() {
        operations.withLock {
            for spec in lock.withLock({ Array(classes.values) }) {
                for student in spec.students where (try? labs.get(spec.lab(of: student.id))) == nil {
                    log.warning("building a missing lab", [("class", spec.name), ("student", student.id)])
                    _ = try? labs.create(name: spec.lab(of: student.id), document: spec.document(for: student))
                }
            }
        }
    }

    // MARK: the resource

    /// A student token, shown once: `{student, name, lab, token_id, token}`.
    public typealias IssuedToken = JSONObject

    /// Refuses a bad template or student list before anything exists; then saves the class, issues
    /// every student's token and builds every lab. Answers the class with the tokens.
    public func create(name: String, template: JSON, students: [ClassStudent], permissions: Set<StudentPermission>,
                       quotas: Quotas = Quotas()) throws -> JSONObject {
        try operations.withLock {
            guard lock.withLock({ classes[name] == nil }) else { throw ControlPlaneError.nameTaken(kind: "class", name: name) }
            try checkTemplate(template, quotas: quotas)
            var spec = ClassSpec(name: name, template: template, students: [], permissions: permissions)
            spec.quotas = quotas
            try checkNewStudents(students, of: spec)
            spec.createdAt = Clock.rfc3339(Clock.wallSeconds())
            let issued = try admit(students, to: &spec)
            events.publish("class.created", ["class": JSON(name), "students": JSON(spec.students.count)])
            var reply = try get(name)
            reply["tokens"] = JSON(issued.map(JSON.object))
            return reply
        }
    }

    public func list() -> [JSONObject] { lock.withLock { classes.keys.sorted() }.compactMap { try? get($0) } }

    /// The class with every student's lab and its state.
    public func get(_ name: String) throws -> JSONObject {
        let spec = try self.spec(name)
        var states: [String: Int] = [:]
        let students: [JSON] = spec.students.map { student in
            let lab = spec.lab(of: student.id)
            let state = (try? labs.get(lab))?["state"]?.stringValue ?? "missing"
            states[state, default: 0] += 1
            return ["id": JSON(student.id), "name": JSON(student.name), "unix_user": JSON(student.unixUser), "lab": JSON(lab),
                    "lab_state": JSON(state), "token_id": JSON(student.tokenID)]
        }
        let ready = states["ready"] ?? 0
        let state = spec.students.isEmpty || ready == spec.students.count ? "ready"
            : (states["applying"] ?? 0) > 0 ? "applying" : ready == 0 ? "failed" : "degraded"
        return ["name": JSON(spec.name), "generation": JSON(spec.generation), "state": JSON(state),
                "labs": ["total": JSON(spec.students.count), "ready": JSON(ready)],
                "permissions": StudentPermission.json(spec.permissions), "quotas": spec.quotas.json, "template": spec.template, "students": .array(students),
                "created_at": JSON(spec.createdAt)]
    }

    /// The class's generation (its ETag).
    public func generation(_ name: String) throws -> Int { try spec(name).generation }

    /// Every student's lab and token go, then the class.
    public func delete(_ name: String) throws {
        try operations.withLock {
            let spec = try self.spec(name)
            events.publish("class.deleting", ["class": JSON(name)])
            for student in spec.students { try dismiss(student, of: spec) }
            try store.deleteClass(name)
            membership.remove(className: name)
            lock.withLock { classes[name] = nil }
            events.publish("class.deleted", ["class": JSON(name)])
        }
    }

    /// New students join: a token and a lab each. Answers the class with the new tokens.
    public func addStudents(_ name: String, _ students: [ClassStudent]) throws -> JSONObject {
        try operations.withLock {
            var spec = try self.spec(name)
            try checkNewStudents(students, of: spec)
            let issued = try admit(students, to: &spec)
            var reply = try get(name)
            reply["tokens"] = JSON(issued.map(JSON.object))
            return reply
        }
    }

    /// The student's lab and token go; the class keeps the rest.
    public func removeStudent(_ name: String, _ id: String) throws {
        try operations.withLock {
            var spec = try self.spec(name)
            guard let student = spec.students.first(where: { $0.id == id }) else { throw ControlPlaneError.notFound(kind: "student", name: "\(id) in class \(name)") }
            try dismiss(student, of: spec)
            spec.students.removeAll { $0.id == id }
            try save(spec)
            events.publish("class.student_removed", ["class": JSON(name), "student": JSON(id)])
        }
    }

    /// A new token for the student (the old one stops working at once): for a lost token.
    public func reissueToken(_ name: String, _ id: String) throws -> IssuedToken {
        try operations.withLock {
            var spec = try self.spec(name)
            guard let index = spec.students.firstIndex(where: { $0.id == id }) else {
                throw ControlPlaneError.notFound(kind: "student", name: "\(id) in class \(name)")
            }
            if let old = spec.students[index].tokenID { try? tokens.revoke(old) }
            let issued = try issue(spec.students[index], of: spec)
            spec.students[index].tokenID = issued["token_id"]?.stringValue
            try save(spec)
            return issued
        }
    }

    /// A new template (and permissions): analyzed first, then each lab's plan; applied lab by lab
    /// unless `dryRun`, touching in each only what differs. Answers every lab's plan or outcome.
    public func update(_ name: String, template: JSON, permissions: Set<StudentPermission>?, quotas: Quotas?, ifMatch: Int?,
                       dryRun: Bool) throws -> JSONObject {
        try operations.withLock {
            var spec = try self.spec(name)
            if let ifMatch, ifMatch != spec.generation { throw ControlPlaneError.staleGeneration(current: spec.generation) }
            try checkTemplate(template, quotas: quotas ?? spec.quotas)
            if dryRun {
                var next = spec
                next.template = template
                let plans: [JSON] = try spec.students.map { student in
                    let plan = try labs.update(name: spec.lab(of: student.id), document: next.document(for: student), ifMatch: nil, dryRun: true)
                    return ["student": JSON(student.id), "lab": JSON(spec.lab(of: student.id)), "steps": plan["steps"] ?? []]
                }
                return ["name": JSON(name), "generation": JSON(spec.generation), "labs": .array(plans)]
            }
            let changed = template != spec.template
            if changed { spec.generation += 1 }
            spec.template = template
            if let permissions { spec.permissions = permissions }
            if let quotas { spec.quotas = quotas }
            try save(spec)
            var outcomes: [JSON] = []
            for student in spec.students {
                let lab = spec.lab(of: student.id)
                var outcome: JSONObject = ["student": JSON(student.id), "lab": JSON(lab)]
                do {
                    let reply = try labs.update(name: lab, document: spec.document(for: student), ifMatch: nil, dryRun: false)
                    outcome["outcome"] = JSON((reply["steps"]?.arrayValue ?? []).isEmpty ? "unchanged" : "applied")
                    outcome["steps"] = reply["steps"] ?? []
                } catch let error as ControlPlaneError {
                    outcome["outcome"] = "failed"
                    outcome["message"] = JSON(error.description)
                }
                outcomes.append(.object(outcome))
            }
            events.publish("class.updated", ["class": JSON(name), "generation": JSON(spec.generation)])
            var reply = try get(name)
            reply["applied"] = .array(outcomes)
            return reply
        }
    }

    /// Resets the labs of `only` (every student when nil); answers when each is ready again. (LabManager
    /// carries out one apply or reset at a time, so today they follow one another.)
    public func reset(_ name: String, only: [String]?) throws -> JSONObject {
        let spec = try self.spec(name)
        let chosen = try students(only, of: spec)
        let started = Clock.monotonicNanoseconds()
        let results = Mutex<[Int: JSON]>([:])
        Thread.concurrently(chosen.count, width: ClassManager.width) { [labs] index in
            let student = chosen[index], lab = spec.lab(of: student.id)
            var result: JSONObject = ["student": JSON(student.id), "lab": JSON(lab)]
            do {
                let reply = try labs.reset(name: lab, only: nil)
                result["state"] = reply["state"] ?? .null
                result["duration_ms"] = reply["reset"]?["duration_ms"] ?? .null
            } catch {
                result["state"] = "failed"
                result["message"] = JSON(String(describing: error))
            }
            results.withLock { $0[index] = .object(result) }
        }
        events.publish("class.reset", ["class": JSON(name), "students": JSON(chosen.map { JSON($0.id) })])
        var reply = try get(name)
        reply["reset"] = ["labs": JSON(chosen.indices.map { results.withLock { $0 }[$0] ?? .null }),
                          "duration_ms": JSON(Int((Clock.monotonicNanoseconds() - started) / 1_000_000))]
        return reply
    }

    /// Runs the checks in the labs of `only` (every student when nil), several labs at once; the grade table.
    public func runChecks(_ name: String, only: [String]?) throws -> JSONObject {
        let spec = try self.spec(name)
        let chosen = try students(only, of: spec)
        let started = Clock.monotonicNanoseconds()
        let at = Clock.rfc3339(Clock.wallSeconds())
        let runs = Mutex<[String: JSON]>([:])
        Thread.concurrently(chosen.count, width: ClassManager.width) { [labs] index in
            let lab = spec.lab(of: chosen[index].id)
            let run: JSON
            do { run = .object(try labs.runChecks(lab)) } catch { run = ["error": JSON(String(describing: error))] }
            runs.withLock { $0[chosen[index].id] = run }
        }
        let byStudent = runs.withLock { $0 }
        var table = grades(spec, runs: byStudent, only: chosen)
        table["at"] = JSON(at)
        table["duration_ms"] = JSON(Int((Clock.monotonicNanoseconds() - started) / 1_000_000))
        events.publish("class.checked", ["class": JSON(name), "students": JSON(chosen.count)])
        return table
    }

    /// The grade table from each lab's newest run.
    public func grades(_ name: String) throws -> JSONObject {
        let spec = try self.spec(name)
        var runs: [String: JSON] = [:]
        for student in spec.students {
            runs[student.id] = (try? labs.latestCheckRun(spec.lab(of: student.id))) ?? nil
        }
        return grades(spec, runs: runs, only: spec.students)
    }

    // MARK: the pieces

    /// `{class, checks: [{id, description, points}], max_points, students: [{student, name, lab, at, points, results}]}`;
    /// `results` maps each check to `{passed, points}`, null when it did not run.
    private func grades(_ spec: ClassSpec, runs: [String: JSON], only: [ClassStudent]) -> JSONObject {
        let checks = LabAnalyzer.analyze(spec.template, vocabulary: labs.vocabulary).checks
        let rows: [JSON] = only.map { student in
            let run = runs[student.id]
            var results = JSONObject()
            for check in checks {
                let result = run?["results"]?.arrayValue?.first { $0["check"]?.stringValue == check.id }
                results[check.id] = result.map { ["passed": $0["passed"] ?? false, "points": $0["points"] ?? 0] } ?? .null
            }
            return ["student": JSON(student.id), "name": JSON(student.name), "lab": JSON(spec.lab(of: student.id)),
                    "at": run?["at"] ?? .null, "points": run?["points"] ?? .null, "error": run?["error"] ?? .null, "results": .object(results)]
        }
        return ["class": JSON(spec.name), "generation": JSON(spec.generation),
                "checks": JSON(checks.map { JSON.object(["id": JSON($0.id), "description": JSON($0.description), "points": JSON($0.points)]) }),
                "max_points": JSON(checks.reduce(0) { $0 + $1.points }), "students": .array(rows)]
    }

    private func spec(_ name: String) throws -> ClassSpec {
        guard let spec = lock.withLock({ classes[name] }) else { throw ControlPlaneError.notFound(kind: "class", name: name) }
        return spec
    }

    private func students(_ only: [String]?, of spec: ClassSpec) throws -> [ClassStudent] {
        guard let only else { return spec.students }
        return try only.map { id in
            guard let student = spec.students.first(where: { $0.id == id }) else {
                throw ControlPlaneError.unprocessableField(path: "students", message: "class \(spec.name) has no student \(id)")
            }
            return student
        }
    }

    /// The analyzer's problems, each at its pointer under /template; then what one lab of it holds against the quotas.
    private func checkTemplate(_ template: JSON, quotas: Quotas) throws {
        let analysis = LabAnalyzer.analyze(template, vocabulary: labs.vocabulary)
        let problems = analysis.errors + labs.hostProblems(analysis)
        guard problems.isEmpty else {
            throw ControlPlaneError.invalidTopology(problems: problems.map { LabProblem($0.severity, "/template" + $0.pointer, $0.code, $0.message) })
        }
        if let excess = quotas.excess(of: analysis) { throw ControlPlaneError.quotaExceeded(quota: excess.name, limit: excess.limit, wanted: excess.wanted, atOnce: false) }
    }

    /// Ids new to the class, labs whose names are free, Unix users that exist.
    private func checkNewStudents(_ students: [ClassStudent], of spec: ClassSpec) throws {
        var seen = Set(spec.students.map(\.id))
        for (index, student) in students.enumerated() {
            guard seen.insert(student.id).inserted else {
                throw ControlPlaneError.unprocessableField(path: "students[\(index)].id", message: "student \(student.id) is already in class \(spec.name)")
            }
            let lab = spec.lab(of: student.id)
            if (try? labs.get(lab)) != nil { throw ControlPlaneError.nameTaken(kind: "lab", name: lab) }
            if let user = student.unixUser { try SwitchSpec.checkOwner(user, field: "students[\(index)].unix_user") }
        }
    }

    /// Tokens for `students`, the class saved with them, then their labs built.
    private func admit(_ students: [ClassStudent], to spec: inout ClassSpec) throws -> [IssuedToken] {
        var issued: [IssuedToken] = []
        for var student in students {
            let token = try issue(student, of: spec)
            student.tokenID = token["token_id"]?.stringValue
            spec.students.append(student)
            issued.append(token)
        }
        try save(spec)
        for student in students {
            _ = try labs.create(name: spec.lab(of: student.id), document: spec.document(for: student))
            events.publish("class.student_added", ["class": JSON(spec.name), "student": JSON(student.id), "lab": JSON(spec.lab(of: student.id))])
        }
        return issued
    }

    private func issue(_ student: ClassStudent, of spec: ClassSpec) throws -> IssuedToken {
        let lab = spec.lab(of: student.id)
        let (record, token) = try tokens.issue(name: "\(spec.name)/\(student.id)", role: .student, scope: AccessScope(labs: [lab]), expiresAt: nil)
        return ["student": JSON(student.id), "name": JSON(student.name), "unix_user": JSON(student.unixUser), "lab": JSON(lab),
                "token_id": JSON(record.id), "token": JSON(token)]
    }

    /// The student's lab and token go.
    private func dismiss(_ student: ClassStudent, of spec: ClassSpec) throws {
        let lab = spec.lab(of: student.id)
        if (try? labs.get(lab)) != nil { try labs.delete(lab) }
        if let token = student.tokenID { try? tokens.revoke(token) }
    }

    private func save(_ spec: ClassSpec) throws {
        try store.saveClass(spec)
        lock.withLock { classes[spec.name] = spec }
        membership.set(spec)
    }
}
