// SwitchOptions: the vsquare-switch command line (scripts and benchmarks rely on it), parsed from
// an argument list so tests need no process.
//
//   vsquare-switch --dir DIR [--control PATH] [--ports N] [--hub] [--mode OCTAL] [--group NAME] [--owner USER]
//                  [--mac-aging S] [--name NAME] [--queue-frames N] [--max-frame-size N] [--nice N]
//                  [--sends io_uring|sendmmsg]

import Posix
import WorkerControl

public struct SwitchOptions: Equatable, Sendable {
    /// The VDE control directory clients name (`vde://DIR`).
    public var directory: String
    /// The JSON control socket; default `DIR/control`.
    public var control: String
    public var ports = 32
    public var hub = false
    /// Mode of `ctl` and port sockets; the directory gets the matching search bits.
    public var mode: UInt32 = 0o600
    public var group: String?
    /// The user owning the directory and `ctl` (as root): with mode 0600 only that user plugs in.
    public var owner: String?
    public var macAgingSeconds = 300
    /// Shown in `status` and logs; default the directory's last component.
    public var name: String
    /// Frames each endpoint may hold while its client is slow.
    public var queueFrames = 4096
    public var maxFrameSize = 9216
    /// The nice value the data path asks for, or nil to keep the one it was started with. A
    /// negative one (ovs-vswitchd runs at -10) lets floods to many slow clients go a batch at a
    /// time, but costs a single fast client (ops/bench/dataplane --vsquare-nice), so it is opt-in.
    public var nice: Int?
    /// How the data path sends; io_uring falls back to sendmmsg where the kernel has none.
    public var sends = SendPath.ioUring

    /// Longest control directory accepted (room for `/.PPPPP-SSSSS` in a 108-byte sun_path).
    public static let maxDirectoryLength = 90

    public typealias Command = WorkerCommand<SwitchOptions>
    public typealias Invalid = InvalidOptions


    public static let usage = """
    Usage: vsquare-switch --dir DIR [options]

    One VDE-compatible learning switch. Clients plug in with vde://DIR (qemu -nic vde,sock=DIR,
    vde_plug vde://DIR, slirpvde, vde_plug2tap); the switch is driven with JSON lines on its
    control socket.

      --dir DIR            Control directory (created if missing; at most 90 characters).
      --control PATH       JSON control socket. Default DIR/control.
      --ports N            Ports 1..N, 1 to 4096. Default 32.
      --hub                Start in hub mode (every frame to every port, no learning).
      --mode OCTAL         Mode of the ctl and port sockets, e.g. 0660. Default 0600.
      --group NAME         Group owning the directory and sockets.
      --owner USER         User owning the directory and ctl (run as root).
      --mac-aging S        Seconds before an unused MAC entry ages out. Default 300.
      --name NAME          Name shown in status and logs. Default: the directory's name.
      --queue-frames N     Frames queued per client while it is slow. Default 4096.
      --max-frame-size N   Largest frame forwarded, 60 to 65535 bytes. Default 9216.
      --nice N             Scheduling priority, -20 to 19. Default: as started. A negative one
                           (ovs-vswitchd runs at -10) keeps clients woken by flooded frames from
                           preempting the switch in mid-batch. Raising it needs root or
                           CAP_SYS_NICE; without them the switch keeps the nice value it was
                           started with and says so in its log; status shows the value it has.
      --sends HOW          io_uring (default) or sendmmsg. With io_uring the frames a batch
                           sends to every client leave in one system call, so a client woken
                           by its first frame cannot preempt the switch before the rest are
                           queued. Where the kernel has no io_uring the switch uses sendmmsg
                           and says so in its log; status shows the one in use.
      -h, --help           Show this text.
      --version            Print the version.

    SIGTERM and SIGINT unplug every client and remove the sockets. Exit codes: 0 success,
    64 bad command line, 1 any other failure.
    """

    public static func parse(_ arguments: [String]) throws(Invalid) -> Command {
        let flags: CommandLineFlags
        do {
            flags = try CommandLineFlags(arguments, valued: ["--dir", "--control", "--ports", "--mode", "--group", "--owner", "--mac-aging", "--name",
                                                             "--queue-frames", "--max-frame-size", "--nice", "--sends"], switches: ["--hub"])
        } catch {
            throw Invalid(description: error.message)
        }
        if flags.wantsHelp { return .help }
        if flags.wantsVersion { return .version }
        let values = flags.values
        let hub = flags.switches.contains("--hub")
        guard var directory = values["--dir"], !directory.isEmpty else { throw Invalid(description: "--dir is required") }
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        guard directory.utf8.count <= maxDirectoryLength else {
            throw Invalid(description: "the directory path is longer than \(maxDirectoryLength) characters: \(directory)")
        }
        let name = values["--name"] ?? String(directory.split(separator: "/").last ?? "switch")
        var options = SwitchOptions(directory: directory, control: values["--control"] ?? directory + "/control", name: name)
        options.hub = hub
        func number(_ flag: String, _ range: ClosedRange<Int>) throws(Invalid) -> Int? {
            guard let text = values[flag] else { return nil }
            guard let value = Int(text), range.contains(value) else {
                throw Invalid(description: "\(flag) must be an integer from \(range.lowerBound) to \(range.upperBound), not \(text)")
            }
            return value
        }
        options.ports = try number("--ports", 1...4096) ?? options.ports
        options.macAgingSeconds = try number("--mac-aging", 1...1_000_000) ?? options.macAgingSeconds
        options.queueFrames = try number("--queue-frames", 1...1_000_000) ?? options.queueFrames
        options.maxFrameSize = try number("--max-frame-size", 60...65535) ?? options.maxFrameSize
        options.nice = try number("--nice", -20...19)
        if let text = values["--sends"] {
            guard let sends = SendPath(rawValue: text) else { throw Invalid(description: "--sends must be io_uring or sendmmsg, not \(text)") }
            options.sends = sends
        }
        if let text = values["--mode"] {
            guard let mode = UInt32(text, radix: 8), mode <= 0o777 else { throw Invalid(description: "--mode must be octal, like 0660, not \(text)") }
            options.mode = mode
        }
        options.group = values["--group"]
        options.owner = values["--owner"]
        guard options.control.utf8.count < 108 else { throw Invalid(description: "the control socket path is too long: \(options.control)") }
        return .run(options)
    }

    /// The directory's mode as vde_switch derives it: setgid, plus for each of user, group and
    /// other that has any bit in `mode`, that class's bits and search (0600 → 02700, 0660 → 02770).
    public var directoryMode: UInt32 {
        var result: UInt32 = 0o2000
        for shift: UInt32 in [6, 3, 0] where (mode >> shift) & 7 != 0 {
            result |= ((mode >> shift) & 7 | 1) << shift
        }
        return result
    }
}

/// How a switch's data path hands frames to the kernel.
public enum SendPath: String, Sendable {
    case ioUring = "io_uring"
    case sendmmsg
}
