// StackNamespace: how vsquared reaches a netns stack's network namespace. As root, a named
// namespace (`ip netns add vsq-<instance>-<name>`, see InstanceScope; commands through `ip netns
// exec`, which also shows /etc/netns/<namespace>/resolv.conf as /etc/resolv.conf). As a normal user, the vdens approach: a
// user + network + mount namespace held open by a small holder process (`unshare --map-root-user`),
// entered with nsenter (keeping the user's ids, which the namespace maps to its root); the stack's resolv.conf is bind-mounted inside its mount namespace, and its
// interfaces are veth pairs (a tap needs /dev/net/tun, which a user may not open).
import Glibc
import JSON
import Posix

struct StackNamespace: Sendable {
    enum Mode: String, Sendable {
        case root
        case unprivileged
    }

    let mode: Mode
    /// vsq-<instance>-<stack>
    let name: String
    /// Where the unprivileged holder's pid is kept, beside the stack's other runtime files.
    let holderFile: String
    /// The stack's /etc files (resolv.conf).
    let etcDirectory: String

    static let ip = "/usr/sbin/ip"
    static let nsenter = "/usr/bin/nsenter"
    static let unshare = "/usr/bin/unshare"

    /// Root uses named namespaces; anyone else gets user namespaces.
    static var currentMode: Mode { geteuid() == 0 ? .root : .unprivileged }

    init(stack: String, runDirectory: String, scope: InstanceScope, mode: Mode = StackNamespace.currentMode) {
        self.mode = mode
        name = scope.namespaceName(stack)
        holderFile = runDirectory + "/" + stack + ".holder"
        etcDirectory = mode == .root ? "/etc/netns/" + name : runDirectory + "/" + stack + "-etc"
    }

    /// The holder's pid, if it is alive and still the holder of this stack.
    var holderPID: Int32? {
        guard let text = FileSystem.readFile(holderFile).map({ String(decoding: $0, as: UTF8.self) }),
              let pid = text.split(whereSeparator: \.isWhitespace).first.flatMap({ Int32($0) }),
              let command = FileSystem.readFile("/proc/\(pid)/cmdline") else { return nil }
        return String(decoding: command, as: UTF8.self).hasPrefix(holderTitle) ? pid : nil
    }

    /// The holder's argv[0], so it can be recognised after a vsquared restart (and found by its path).
    private var holderTitle: String { "vsquare-holder:" + holderFile }

    /// The command prefix that runs a program inside the namespace (nil: the holder is gone).
    var enter: [String]? {
        switch mode {
        case .root: return [StackNamespace.ip, "netns", "exec", name]
        case .unprivileged:
            return holderPID.map { [StackNamespace.nsenter, "--target", String($0), "--user", "--net", "--mount", "--preserve-credentials", "--"] }
        }
    }

    /// Creates the namespace; false if it already existed (root) or could not be made.
    func create() throws -> Bool {
        switch mode {
        case .root:
            guard StackNamespace.runIP(["netns", "add", name])?.exitCode == 0 else { return false }
        case .unprivileged:
            if holderPID != nil { return false }
            // bash's exec -a names the holder; sleep keeps the namespaces open with nothing else in them.
            let holder = try ChildProcess(path: StackNamespace.unshare, arguments: [
                "--user", "--map-root-user", "--net", "--mount", "--propagation", "private", "--",
                "/bin/bash", "-c", "exec -a \(holderTitle) sleep infinity"], stdin: .null, stdout: .null, stderr: .null, detached: true)
            try FileSystem.writeFile(holderFile, String(holder.pid) + "\n")
            // The holder is ready once it runs sleep inside its own network namespace.
            let ready = (0..<100).contains { _ in
                if holderPID != nil && StackNamespace.inode("/proc/\(holder.pid)/ns/net") != StackNamespace.inode("/proc/self/ns/net") {
                    return true
                }
                usleep(20_000)
                return false
            }
            guard ready else {
                holder.signal(SIGKILL)
                unlink(holderFile)
                throw ControlPlaneError.unprocessable(code: "unprocessable",
                    message: "no user namespace could be made (are unprivileged user namespaces allowed here?)")
            }
        }
        _ = run([StackNamespace.ip, "link", "set", "lo", "up"])
        return true
    }

    /// Makes sure the namespace exists (after a reboot or a holder's death); true if it was made anew.
    @discardableResult
    func ensure() -> Bool {
        switch mode {
        case .root: return (try? create()) ?? false
        case .unprivileged: return holderPID == nil ? (try? create()) ?? false : false
        }
    }

    /// Writes resolv.conf (and, unprivileged, shows it as /etc/resolv.conf inside).
    func writeResolv(_ nameservers: [String]) throws {
        try FileSystem.makeDirectories(etcDirectory, mode: 0o755)
        let path = etcDirectory + "/resolv.conf"
        if !nameservers.isEmpty || !FileSystem.exists(path) {
            try FileSystem.writeFile(path, nameservers.map { "nameserver \($0)\n" }.joined())
        }
        if mode == .unprivileged { _ = run(["/usr/bin/mount", "--bind", path, "/etc/resolv.conf"]) }
    }

    /// Runs `arguments` inside the namespace.
    func run(_ arguments: [String], stdin: [UInt8] = [], timeout: Double = 10) -> ProcessResult? {
        guard let enter else { return nil }
        return try? ProcessRunner.run(enter[0], Array(enter.dropFirst()) + arguments, stdin: stdin, timeoutSeconds: timeout)
    }

    /// `ip` inside the namespace (root: `ip -n`, without a new process in the namespace).
    func ip(_ arguments: [String], stdin: [UInt8] = []) -> ProcessResult? {
        mode == .root ? StackNamespace.runIP(["-n", name] + arguments, stdin: stdin) : run([StackNamespace.ip] + arguments, stdin: stdin)
    }

    /// Kills everything in the namespace and removes it and its files.
    func destroy() {
        let holder = holderPID
        for pid in processes() { kill(pid, SIGKILL) }
        // The holder is vsquared's child when this vsquared made it: reap it (ECHILD otherwise).
        if let holder {
            kill(holder, SIGKILL)
            waitpid(holder, nil, 0)
        }
        if mode == .root { _ = StackNamespace.runIP(["netns", "del", name]) }
        unlink(holderFile)
        FileSystem.removeTree(etcDirectory)
    }

    /// Pids whose network namespace is this one (the holder included).
    func processes() -> [Int32] {
        let reference = mode == .root ? "/run/netns/" + name : holderPID.map { "/proc/\($0)/ns/net" }
        guard let reference, let target = StackNamespace.inode(reference) else { return [] }
        return (FileSystem.listDirectory("/proc") ?? []).compactMap { entry in
            guard let pid = Int32(entry), pid != getpid() else { return nil }
            return StackNamespace.inode("/proc/\(entry)/ns/net") == target ? pid : nil
        }
    }

    private static func inode(_ path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }

    @discardableResult
    static func runIP(_ arguments: [String], stdin: [UInt8] = [], timeout: Double = 10) -> ProcessResult? {
        try? ProcessRunner.run(ip, arguments, stdin: stdin, timeoutSeconds: timeout)
    }
}
