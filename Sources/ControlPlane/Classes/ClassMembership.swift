// ClassMembership: which class (and which student of it) each lab belongs to, and what that class
// lets its students do. Kept apart from ClassManager's lock, so the access gate never waits
// behind a class being built.
import Synchronization

public struct ClassPlacement: Sendable, Equatable {
    public let className: String
    public let student: String
    public let permissions: Set<StudentPermission>
    public let quotas: Quotas

    public init(className: String, student: String, permissions: Set<StudentPermission>, quotas: Quotas = Quotas()) {
        self.className = className
        self.student = student
        self.permissions = permissions
        self.quotas = quotas
    }
}

public final class ClassMembership: Sendable {
    private let placements = Mutex<[String: ClassPlacement]>([:])

    public init() {}

    /// The class lab `lab` was built for, if any.
    public func placement(of lab: String) -> ClassPlacement? { placements.withLock { $0[lab] } }

    /// Places every student's lab of `spec` (and forgets labs of students it no longer has).
    func set(_ spec: ClassSpec) {
        placements.withLock { placements in
            placements = placements.filter { $0.value.className != spec.name }
            for student in spec.students {
                placements[spec.lab(of: student.id)] = ClassPlacement(className: spec.name, student: student.id, permissions: spec.permissions,
                                                                          quotas: spec.quotas)
            }
        }
    }

    func remove(className: String) {
        placements.withLock { $0 = $0.filter { $0.value.className != className } }
    }
}
