// TempDirectory: a fresh directory under /tmp for one test, removed with everything in it.
import Glibc
import Posix

public final class TempDirectory: @unchecked Sendable {
    public let path: String

    /// Short paths on purpose: unix socket paths must stay under 108 bytes.
    public init(prefix: String = "vsq") {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(cString: made!)
    }

    deinit { remove() }

    /// Ends every process still running from this directory (workers, vde_plugs), then deletes it.
    public func remove() {
        for pid in TempDirectory.processes(mentioning: path) { kill(pid, SIGKILL) }
        _ = "rm -rf '\(path)'".withCString { system($0) }
    }

    /// Pids (other than ours) whose command line contains `text`.
    public static func processes(mentioning text: String) -> [Int32] {
        (FileSystem.listDirectory("/proc") ?? []).compactMap { entry -> Int32? in
            guard let pid = Int32(entry), pid != getpid(), let bytes = FileSystem.readFile("/proc/\(entry)/cmdline") else { return nil }
            return String(decoding: bytes.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).contains(text) ? pid : nil
        }
    }
}
