// LabNames: a member's global name, derived from the lab's name and the member's local one, so
// that two labs built from one document never clash. `lab-local` when that fits a resource name
// (63 characters); otherwise cut and given a short hash of the whole, so it stays unique and stable.
import JSON
import Posix

public enum LabNames {
    public static let maximumLength = 63

    public static func global(lab: String, local: String) -> String {
        let plain = "\(lab)-\(local)"
        guard plain.utf8.count > maximumLength else { return plain }
        let suffix = "-" + String(StableHash.fnv1a(plain) >> 32, radix: 16)
        let kept = String(plain.utf8.prefix(maximumLength - suffix.utf8.count)).map { $0.hasSuffix("-") ? String($0.dropLast()) : $0 } ?? ""
        return kept + suffix
    }

    /// The member's body as its noun is given it: its own name and every switch it names made global,
    /// and the lab's own fields (labels, vlans, stp_ports, startup) left out.
    public static func nounBody(_ member: LabMember, lab: String) -> JSONObject {
        var body = member.body
        for field in LabAnalyzer.labFields[member.kind.listName] ?? [] { body[field] = nil }
        body["name"] = JSON(global(lab: lab, local: member.name))
        func globalSwitch(_ value: JSON?) -> JSON? {
            guard var end = value?.objectValue, let name = end["switch"]?.stringValue else { return value }
            end["switch"] = JSON(global(lab: lab, local: name))
            return .object(end)
        }
        switch member.kind {
        case .switch:
            break
        case .cable:
            body["a"] = globalSwitch(body["a"])
            body["b"] = globalSwitch(body["b"])
        case .stack:
            if let interfaces = body["interfaces"]?.arrayValue {
                body["interfaces"] = .array(interfaces.map { globalSwitch($0) ?? $0 })
            }
        }
        return body
    }
}
