// DaemonConfig: vsquared's settings from its command line and environment (flags win), with
// defaults that work for root (/var/lib/vsquare, /run/vsquare) and for a normal user (XDG dirs).
// Built from (arguments, environment, uid) so tests need no process.
import ControlPlane
import Log
import Posix

struct DaemonConfig: Equatable {
    var listen: SocketAddress
    /// State directory: the SQLite database lives here.
    var home: String
    /// Runtime directory: sockets and pid files of workers.
    var run: String
    /// The dashboard's directory, if one was named.
    var web: String?
    var logLevel: Log.Level
    /// A file of bearer tokens; when set, every request but /v1/health and the dashboard needs one.
    var tokensFile: String?
    /// A file of peers (other vsquared daemons, `URL TOKEN` per line) that may take shares of this one's labs and hand it theirs.
    var peersFile: String?
    /// The vsquare-switch executable, if named (default: beside vsquared).
    var switchBinary: String?
    /// The vsquare-cable executable, if named (default: beside vsquared).
    var cableBinary: String?
    /// How many experiment runs are kept per experiment, and for how many days.
    var runHistory = RunRetention()
    /// How many audit entries are kept (the newest).
    var auditKeep = 100_000

    static let defaultListen = "127.0.0.1:8420"

    enum Command: Equatable {
        case serve(DaemonConfig)
        case help
        case version
    }

    struct Invalid: Error, Equatable, CustomStringConvertible {
        let description: String
    }

    static let usage = """
    Usage: vsquared [options]

    vsquared is the vsquare control plane: it keeps the desired network (switches, cables, stacks)
    in its store, runs and supervises the worker processes that make it real, and serves the
    HTTP/JSON API and the dashboard.

    Options (each has an environment variable; a flag wins over the variable):
      --listen HOST:PORT   Address to serve HTTP on. Port 0 picks a free port.   VSQUARE_LISTEN
                           Default 127.0.0.1:8420. IPv6 as [::1]:8420. Only loopback
                           addresses are accepted unless tokens are configured.
      --home DIR           State directory (holds vsquare.db).                    VSQUARE_HOME
                           Default /var/lib/vsquare as root, else
                           $XDG_STATE_HOME/vsquare (~/.local/state/vsquare).
      --run DIR            Runtime directory for worker sockets and pid files.   VSQUARE_RUN
                           Default /run/vsquare as root, else
                           $XDG_RUNTIME_DIR/vsquare (/tmp/vsquare-UID without it);
                           with a --home other than the default, that path plus
                           -XXXXXX, the home's instance prefix (also in the names
                           of stack namespaces: vsq-XXXXXX-STACK).
      --web DIR            Dashboard files to serve at /.                         VSQUARE_WEB
                           Default: the web-static directory of the source tree
                           this binary was built in, else /usr/share/vsquare/web-static.
      --log-level LEVEL    debug, info, warning or error. Default info.          VSQUARE_LOG_LEVEL
      --tokens FILE        Bearer tokens, one per line: every request except    VSQUARE_TOKENS
                           GET /v1/health and the dashboard's files then needs
                           "Authorization: Bearer <token>". Required to listen
                           on anything but loopback.
      --peers FILE         Other vsquared daemons, "URL TOKEN" per line: a lab  VSQUARE_PEERS
                           may place members on them (hosts: in its document),
                           and a request bearing a peer's token is that peer's.
      --switch-binary PATH The vsquare-switch executable. Default: the one      VSQUARE_SWITCH_BIN
                           beside vsquared.
      --cable-binary PATH  The vsquare-cable executable. Default: the one       VSQUARE_CABLE_BIN
                           beside vsquared.
      --run-history N      Experiment runs kept per experiment (the newest).   VSQUARE_RUN_HISTORY
                           Default 50.
      --run-history-days D Days a finished run is kept. Default 30.           VSQUARE_RUN_HISTORY_DAYS
      --audit-keep N       Audit entries kept (requests, plugs, unplugs; the   VSQUARE_AUDIT_KEEP
                           newest). Default 100000.
      -h, --help           Show this text and exit.
      --version            Print the version and exit.

    Workers (one process per switch) keep running when vsquared stops, is restarted or is
    killed; the next vsquared adopts them, so no client is unplugged.

    Signals: SIGTERM and SIGINT stop accepting connections, let requests in flight finish
    (up to 10 s) and exit 0. Exit codes: 0 success, 64 bad command line or configuration,
    1 any other failure.
    """

    static func parse(arguments: [String], environment: [String: String], uid: UInt32) throws(Invalid) -> Command {
        var values: [String: String] = [:]
        let flags = ["--listen": "VSQUARE_LISTEN", "--home": "VSQUARE_HOME", "--run": "VSQUARE_RUN",
                     "--web": "VSQUARE_WEB", "--log-level": "VSQUARE_LOG_LEVEL", "--tokens": "VSQUARE_TOKENS",
                     "--peers": "VSQUARE_PEERS", "--switch-binary": "VSQUARE_SWITCH_BIN", "--cable-binary": "VSQUARE_CABLE_BIN",
                     "--run-history": "VSQUARE_RUN_HISTORY", "--run-history-days": "VSQUARE_RUN_HISTORY_DAYS",
                     "--audit-keep": "VSQUARE_AUDIT_KEEP"]
        for (_, variable) in flags { if let value = environment[variable], !value.isEmpty { values[variable] = value } }
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            switch argument {
            case "-h", "--help": return .help
            case "--version": return .version
            default:
                var name = argument
                var value: String?
                if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                    name = String(argument[..<equals])
                    value = String(argument[argument.index(after: equals)...])
                }
                guard let variable = flags[name] else { throw Invalid(description: "unknown option \(argument)") }
                if value == nil {
                    guard index < arguments.count else { throw Invalid(description: "option \(name) needs a value") }
                    value = arguments[index]
                    index += 1
                }
                values[variable] = value
            }
        }

        let listenText = values["VSQUARE_LISTEN"] ?? defaultListen
        guard let listen = SocketAddress(hostPort: listenText) else {
            throw Invalid(description: "listen address \(listenText) is not HOST:PORT with a numeric IPv4 or [IPv6] host")
        }
        let tokensFile = values["VSQUARE_TOKENS"]
        guard listen.isLoopback || tokensFile != nil else {
            throw Invalid(description: "refusing to listen on \(listenText) without tokens: set VSQUARE_TOKENS (or --tokens) to a file of bearer tokens")
        }
        let levelText = values["VSQUARE_LOG_LEVEL"] ?? "info"
        guard let level = Log.Level(name: levelText) else {
            throw Invalid(description: "log level \(levelText) is not one of debug, info, warning, error")
        }
        let home = values["VSQUARE_HOME"] ?? defaultHome(environment: environment, uid: uid)
        // A daemon with a home of its own gets a run directory of its own too, so two never share sockets.
        let standardRun = defaultRun(environment: environment, uid: uid)
        let run = values["VSQUARE_RUN"]
            ?? (home == defaultHome(environment: environment, uid: uid) ? standardRun : standardRun + "-" + InstanceScope(home: home).prefix)
        for (what, path) in [("home", home), ("run", run)] where !path.hasPrefix("/") {
            throw Invalid(description: "the \(what) directory must be an absolute path, not \(path)")
        }
        var runHistory = RunRetention()
        if let text = values["VSQUARE_RUN_HISTORY"] {
            guard let count = Int(text), (1...100_000).contains(count) else { throw Invalid(description: "run history \(text) is not a count of 1 to 100000 runs") }
            runHistory.count = count
        }
        if let text = values["VSQUARE_RUN_HISTORY_DAYS"] {
            guard let days = Double(text), days > 0, days <= 36_500 else { throw Invalid(description: "run history days \(text) is not a number of days above 0") }
            runHistory.ageSeconds = days * 86_400
        }
        var auditKeep = 100_000
        if let text = values["VSQUARE_AUDIT_KEEP"] {
            guard let count = Int(text), (100...100_000_000).contains(count) else { throw Invalid(description: "audit keep \(text) is not a count of 100 to 100000000 entries") }
            auditKeep = count
        }
        return .serve(DaemonConfig(listen: listen, home: home, run: run, web: values["VSQUARE_WEB"], logLevel: level,
                                   tokensFile: tokensFile, peersFile: values["VSQUARE_PEERS"], switchBinary: values["VSQUARE_SWITCH_BIN"],
                                   cableBinary: values["VSQUARE_CABLE_BIN"], runHistory: runHistory, auditKeep: auditKeep))
    }

    static func defaultHome(environment: [String: String], uid: UInt32) -> String {
        if uid == 0 { return "/var/lib/vsquare" }
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/vsquare" }
        return (environment["HOME"] ?? "/tmp") + "/.local/state/vsquare"
    }

    static func defaultRun(environment: [String: String], uid: UInt32) -> String {
        if uid == 0 { return "/run/vsquare" }
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") { return runtime + "/vsquare" }
        return "/tmp/vsquare-\(uid)"
    }

    /// The dashboard directory: as configured, else `web-static` in the source tree above the
    /// executable (a development build), else the installed copy.
    func resolvedWebDirectory(executable: String) -> String? {
        if let web { return web }
        var directory = executable
        for _ in 0..<6 {
            guard let slash = directory.lastIndex(of: "/") else { break }
            directory = String(directory[..<slash])
            let candidate = directory + "/web-static"
            if FileSystem.exists(candidate + "/index.html") { return candidate }
        }
        let installed = "/usr/share/vsquare/web-static"
        return FileSystem.isDirectory(installed) ? installed : nil
    }
}
