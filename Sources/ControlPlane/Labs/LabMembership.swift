// LabMembership: which lab each switch, cable and stack belongs to, by global name. Kept apart from
// LabManager's lock so that a member's view never waits behind a lab being built.
import LabEngine
import Synchronization

public final class LabMembership: Sendable {
    private let owners = Mutex<[String: String]>([:])

    public init() {}

    /// The lab `name` of kind `kind` belongs to, if any.
    public func lab(of kind: LabMember.Kind, _ name: String) -> String? {
        owners.withLock { $0["\(kind.rawValue) \(name)"] }
    }

    /// Marks the members of `lab` (global names) as its own, or frees them.
    func set(_ members: [(kind: LabMember.Kind, name: String)], lab: String?) {
        owners.withLock { owners in
            for member in members { owners["\(member.kind.rawValue) \(member.name)"] = lab }
        }
    }
}
