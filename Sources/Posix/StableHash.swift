// StableHash: FNV-1a, for names derived from other names (instance prefixes, lab member names):
// small, and the same across builds and processes (Swift's Hasher is seeded per process).

public enum StableHash {
    public static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
