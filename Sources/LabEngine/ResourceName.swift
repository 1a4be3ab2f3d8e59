// ResourceName: the one rule for the names of switches, cables, stacks, labs, experiments and a
// lab's hosts, shared by the nouns' validators and the lab analyzer.

/// Names of switches, cables, stacks and experiments.
public enum ResourceName {
    public static let rule = "a name of 1 to 63 characters: lowercase letters, digits and '-', starting with a letter or digit"

    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        func allowed(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
        return allowed(bytes[0]) && bytes.dropFirst().allSatisfy { allowed($0) || $0 == 0x2D }
    }
}
