// DaemonConfig from (arguments, environment, uid): flags beat variables, defaults for root and users.
import Posix
import Testing
@testable import vsquared

@Suite struct DaemonConfigTests {
    func serve(_ arguments: [String], _ environment: [String: String] = [:], uid: UInt32 = 1000) throws -> DaemonConfig {
        guard case .serve(let config) = try DaemonConfig.parse(arguments: arguments, environment: environment, uid: uid) else {
            throw DaemonConfig.Invalid(description: "not a serve command")
        }
        return config
    }

    @Test func rootDefaults() throws {
        let config = try serve([], uid: 0)
        #expect(config.listen == SocketAddress(hostPort: "127.0.0.1:8420"))
        #expect(config.home == "/var/lib/vsquare")
        #expect(config.run == "/run/vsquare")
        #expect(config.logLevel == .info)
    }

    @Test func userDefaultsFollowXDG() throws {
        let config = try serve([], ["XDG_STATE_HOME": "/home/ann/.state", "XDG_RUNTIME_DIR": "/run/user/1000", "HOME": "/home/ann"])
        #expect(config.home == "/home/ann/.state/vsquare")
        #expect(config.run == "/run/user/1000/vsquare")
        let bare = try serve([], ["HOME": "/home/ann"], uid: 1001)
        #expect(bare.home == "/home/ann/.local/state/vsquare")
        #expect(bare.run == "/tmp/vsquare-1001")
    }

    @Test func flagsBeatEnvironment() throws {
        let environment = ["VSQUARE_LISTEN": "127.0.0.1:9000", "VSQUARE_HOME": "/env/home", "VSQUARE_RUN": "/env/run"]
        let fromEnvironment = try serve([], environment)
        #expect(fromEnvironment.listen.port == 9000)
        #expect(fromEnvironment.home == "/env/home")
        let fromFlags = try serve(["--listen", "[::1]:9100", "--home=/flag/home", "--log-level", "debug"], environment)
        #expect(fromFlags.listen == .ipv6(host: "::1", port: 9100))
        #expect(fromFlags.home == "/flag/home")
        #expect(fromFlags.run == "/env/run")
        #expect(fromFlags.logLevel == .debug)
    }

    @Test func helpAndVersion() throws {
        #expect(try DaemonConfig.parse(arguments: ["--help"], environment: [:], uid: 0) == .help)
        #expect(try DaemonConfig.parse(arguments: ["-h"], environment: [:], uid: 0) == .help)
        #expect(try DaemonConfig.parse(arguments: ["--version"], environment: [:], uid: 0) == .version)
    }

    @Test(arguments: [
        (["--bogus"], [String: String](), "unknown option --bogus"),
        (["--listen"], [:], "option --listen needs a value"),
        (["--listen", "nowhere"], [:], "listen address nowhere is not HOST:PORT with a numeric IPv4 or [IPv6] host"),
        (["--listen", "0.0.0.0:80"], [:],
         "refusing to listen on 0.0.0.0:80 without tokens: set VSQUARE_TOKENS (or --tokens) to a file of bearer tokens"),
        ([], ["VSQUARE_LISTEN": "10.1.2.3:8420"],
         "refusing to listen on 10.1.2.3:8420 without tokens: set VSQUARE_TOKENS (or --tokens) to a file of bearer tokens"),
        (["--log-level", "loud"], [:], "log level loud is not one of debug, info, warning, error"),
        (["--home", "relative/dir"], [:], "the home directory must be an absolute path, not relative/dir"),
    ])
    func refusesBadInput(arguments: [String], environment: [String: String], message: String) {
        #expect(throws: DaemonConfig.Invalid(description: message)) {
            _ = try DaemonConfig.parse(arguments: arguments, environment: environment, uid: 1000)
        }
    }

    @Test func nonLoopbackNeedsTokens() throws {
        let config = try serve(["--listen", "0.0.0.0:8420", "--tokens", "/etc/vsquare/tokens"])
        #expect(config.tokensFile == "/etc/vsquare/tokens")
        #expect(!config.listen.isLoopback)
    }

    @Test func peersComeFromAFlagOrTheEnvironment() throws {
        #expect(try serve([]).peersFile == nil)
        #expect(try serve(["--peers", "/etc/vsquare/peers"]).peersFile == "/etc/vsquare/peers")
        let parsed = try DaemonConfig.parse(arguments: [], environment: ["VSQUARE_PEERS": "/srv/peers"], uid: 1000)
        #expect(parsed == .serve(try serve(["--peers", "/srv/peers"])))
    }

    @Test func usageMentionsEveryFlagAndVariable() {
        for word in ["--listen", "--home", "--run", "--web", "--log-level", "--tokens", "--peers", "--switch-binary", "--help", "--version",
                     "VSQUARE_LISTEN", "VSQUARE_HOME", "VSQUARE_RUN", "VSQUARE_WEB", "VSQUARE_LOG_LEVEL", "VSQUARE_TOKENS",
                     "VSQUARE_PEERS", "VSQUARE_SWITCH_BIN"] {
            #expect(DaemonConfig.usage.contains(word), "usage does not mention \(word)")
        }
    }
}
