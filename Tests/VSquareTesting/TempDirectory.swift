// TempDirectory: a fresh directory under /tmp for one test, removed with everything in it.
import Glibc

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

    public func remove() {
        _ = "rm -rf '\(path)'".withCString { system($0) }
    }
}
