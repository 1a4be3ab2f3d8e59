// ClassSpec: a class as the store keeps it — its template (a lab document), its students (each
// with the lab built for them and the id of their token), what students may do in their labs,
// and the generation of the template (bumped by every applied PUT).
import JSON
import LabEngine

/// What a class lets its students do in their own labs; reading it is always allowed.
public enum StudentPermission: String, Sendable, CaseIterable {
    /// Run commands on its stacks (exec, and stopping what exec started).
    case exec
    /// Change a cable's impairments.
    case impair
    /// Cut and restore its cables.
    case cutRestore = "cut_restore"
    /// Reset its lab.
    case reset
    /// Run its checks.
    case checks

    /// `{exec: true, …}`: every permission, true when held.
    public static func json(_ held: Set<StudentPermission>) -> JSON {
        .object(JSONObject(allCases.map { ($0.rawValue, JSON(held.contains($0))) }))
    }

    /// The permissions `json` wrote; those it leaves out are held.
    public static func read(_ json: JSON?) -> Set<StudentPermission> {
        Set(allCases.filter { json?[$0.rawValue]?.boolValue ?? true })
    }
}

public struct ClassStudent: Equatable, Sendable {
    /// Local to the class; the student's lab is `CLASS-ID`.
    public var id: String
    public var name: String
    /// The Unix account that alone may plug into the lab's switches, when given.
    public var unixUser: String?
    /// The student token's id (its secret is only ever shown once).
    public var tokenID: String?

    public init(id: String, name: String, unixUser: String? = nil, tokenID: String? = nil) {
        self.id = id
        self.name = name
        self.unixUser = unixUser
        self.tokenID = tokenID
    }

    var storedJSON: JSON { ["id": JSON(id), "name": JSON(name), "unix_user": JSON(unixUser), "token_id": JSON(tokenID)] }

    init?(stored json: JSON) {
        guard let id = json["id"]?.stringValue else { return nil }
        self.init(id: id, name: json["name"]?.stringValue ?? id, unixUser: json["unix_user"]?.stringValue, tokenID: json["token_id"]?.stringValue)
    }
}

public struct ClassSpec: Equatable, Sendable {
    public var name: String
    public var template: JSON
    public var students: [ClassStudent]
    public var permissions: Set<StudentPermission>
    /// What each student's lab may hold, and each student may use at once.
    public var quotas = Quotas()
    public var generation = 1
    public var createdAt = ""

    public init(name: String, template: JSON, students: [ClassStudent], permissions: Set<StudentPermission>) {
        self.name = name
        self.template = template
        self.students = students
        self.permissions = permissions
    }

    /// The lab built for `student`.
    public func lab(of student: String) -> String { LabNames.global(lab: name, local: student) }

    /// The document of `student`'s lab: the template, with every switch's VDE directory given to
    /// the student's Unix user when there is one (VDE's own model: only their qemu or vde_plug plugs in).
    public func document(for student: ClassStudent) -> JSON {
        guard let user = student.unixUser, var document = template.objectValue, let switches = document["switches"]?.arrayValue else { return template }
        document["switches"] = .array(switches.map { item in
            guard var body = item.objectValue else { return item }
            body["socket_owner"] = JSON(user)
            return .object(body)
        })
        return .object(document)
    }

    var storedJSON: JSON {
        ["name": JSON(name), "template": template, "students": JSON(students.map(\.storedJSON)),
         "permissions": StudentPermission.json(permissions), "quotas": quotas.json, "generation": JSON(generation), "created_at": JSON(createdAt)]
    }

    init?(stored json: JSON) {
        guard let name = json["name"]?.stringValue, let template = json["template"] else { return nil }
        self.init(name: name, template: template, students: (json["students"]?.arrayValue ?? []).compactMap(ClassStudent.init(stored:)),
                  permissions: StudentPermission.read(json["permissions"]))
        quotas = Quotas(stored: json["quotas"])
        generation = json["generation"]?.intValue ?? 1
        createdAt = json["created_at"]?.stringValue ?? ""
    }
}
