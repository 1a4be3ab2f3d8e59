// TestRun: what ties the machine-wide things a test makes (network namespaces, veths, taps, and the
// namespaces of the daemons it starts) to one run of ops/test, so that the run's sweep
// (ops/lib/sweep) finds and removes whatever a crashed or killed test left behind.
// ops/test sets VSQ_TEST_RUN (a short id) and VSQ_TEST_LEDGER (a file the tests append to).
import Glibc
import Posix

public enum TestRun {
    /// `vt` and the run's id: the first characters of every namespace and link a test names itself.
    public static let prefix: String = "vt" + (Environment.current()["VSQ_TEST_RUN"] ?? "00")

    /// A name for a namespace or link: the run's prefix, then `tag` (links: 15 characters at most).
    public static func name(_ tag: String) -> String { prefix + tag }

    /// A random hex tag of `length` characters, so names from tests running at once never meet.
    public static func tag(_ length: Int = 6) -> String {
        String((0..<length).map { _ in "0123456789abcdef".randomElement()! })
    }

    /// Notes a namespace prefix a daemon of this run uses (`vsq-<instance>-`), for the sweep.
    public static func record(namespacePrefix: String) {
        guard let ledger = Environment.current()["VSQ_TEST_LEDGER"] else { return }
        let fd = open(ledger, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let line = Array("namespace-prefix \(namespacePrefix)\n".utf8)
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
