// SwitchSpec from a create body: the one validator of a switch's fields, used by POST /v1/switches
// and by every lab member that is a switch.
import Glibc
import JSON
import LabEngine
import Posix

extension SwitchSpec {
    /// A create body (POST /v1/switches, or a lab's member): every field checked, 400 for a broken
    /// rule, 422 for what this host cannot do.
    public init(body: JSON) throws {
        var reader = try JSONReader(body)
        let name = try reader.string("name", matching: ResourceName.isValid, ruleText: ResourceName.rule)
        var spec = SwitchSpec(name: name)
        spec.description = try SwitchSpec.checkedDescription(try reader.string("description", default: ""))
        spec.ports = try reader.int("ports", in: 1...4096, default: 32)
        spec.hub = try reader.bool("hub", default: false)
        spec.macAgingSeconds = try reader.int("mac_aging_s", in: 1...1_000_000, default: 300)
        if let stp = try reader.optionalObject("stp") { spec.spanningTree = try SwitchSpanningTree().merged(with: stp) }
        if let snooping = try reader.optionalObject("multicast") { spec.multicast = try SwitchMulticast().merged(with: snooping) }
        let mode = try reader.string("socket_mode", default: "0600")
        // Clients connect to the sockets as the owner at least, so the owner needs read and write.
        guard mode.utf8.count <= 4, let parsed = UInt32(mode, radix: 8), parsed <= 0o777, parsed & 0o600 == 0o600 else {
            throw JSONFieldError(path: "socket_mode", rule: "must be an octal mode that lets the owner read and write, such as \"0660\", not \(mode)")
        }
        spec.socketMode = parsed
        spec.socketGroup = try reader.optionalString("socket_group", nullable: true)
        // A portable group name (letters, digits, `_`, `.`, `-`, not first): what the spec's pattern says.
        if let group = spec.socketGroup, !(1...32).contains(group.utf8.count) || group.hasPrefix("-")
            || !group.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || [0x5F, 0x2E, 0x2D].contains($0) }) {
            throw JSONFieldError(path: "socket_group", rule: "must be a group name or number of 1 to 32 letters, digits, `_`, `.` or `-` (not first)")
        }
        // The worker would refuse an unknown group at every start: refuse it now.
        if let group = spec.socketGroup, FileSystem.groupID(group) == nil {
            throw ControlPlaneError.unprocessableField(path: "socket_group", message: "there is no group named \(group) on this host")
        }
        spec.socketOwner = try reader.optionalString("socket_owner", nullable: true)
        if let owner = spec.socketOwner { try SwitchSpec.checkOwner(owner, field: "socket_owner") }
        try reader.finish()
        self = spec
    }

    /// `owner` names a user of this host that this vsquared may give sockets to (400 for a name
    /// that cannot be one, 422 for one that is not here or not ours to give to).
    public static func checkOwner(_ owner: String, field: String) throws {
        guard (1...32).contains(owner.unicodeScalars.count), !owner.contains("/") else {
            throw JSONFieldError(path: field, rule: "must be a Unix user name")
        }
        guard let user = UnixUser.id(of: owner) else {
            throw ControlPlaneError.unprocessableField(path: field, message: "there is no Unix user \(owner) on this host")
        }
        // Only root gives a directory to another user; the worker runs as vsquared does.
        guard geteuid() == 0 || user.uid == geteuid() else {
            throw ControlPlaneError.unprocessableField(path: field, message: "only a vsquared running as root can give a switch's sockets to \(owner)")
        }
    }

    public static func checkedDescription(_ text: String) throws(JSONFieldError) -> String {
        guard text.count <= 1024 else { throw JSONFieldError(path: "description", rule: "must be at most 1024 characters") }
        return text
    }
}
