// Tshark: Debian's tshark (Wireshark's reader) decoding a pcap stream, as a user's `… | tshark -r -`
// would: one row per frame, one column per field asked for.
import Glibc
import Posix

public enum Tshark {
    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    public static var isInstalled: Bool { FileSystem.exists("/usr/bin/tshark") }

    /// The `fields` of each frame of the capture `bytes`.
    public static func fields(_ bytes: [UInt8], _ fields: [String]) throws -> [[String]] {
        let directory = "/tmp/vsq-pcap-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileSystem.makeDirectories(directory, mode: 0o755)
        defer { FileSystem.removeTree(directory) }
        try FileSystem.writeFile(directory + "/capture.pcap", bytes)
        let result = try ProcessRunner.run("/usr/bin/tshark", ["-r", directory + "/capture.pcap", "-T", "fields"] + fields.flatMap { ["-e", $0] },
                                           environment: ["PATH": "/usr/bin:/bin", "HOME": directory], timeoutSeconds: 60)
        guard result.exitCode == 0 else { throw Failed(description: "tshark: " + String(decoding: result.stderr, as: UTF8.self)) }
        return String(decoding: result.stdout, as: UTF8.self).split(separator: "\n")
            .map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }
}
