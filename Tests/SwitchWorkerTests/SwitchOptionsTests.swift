// The vsquare-switch command line, parsed in-process.
import SwitchWorker
import Testing

@Suite struct SwitchOptionsTests {
    func run(_ arguments: [String]) throws -> SwitchOptions {
        guard case .run(let options) = try SwitchOptions.parse(arguments) else { throw SwitchOptions.Invalid(description: "not run") }
        return options
    }

    @Test func defaults() throws {
        let options = try run(["--dir", "/tmp/lab/sw1/"])
        #expect(options.directory == "/tmp/lab/sw1")
        #expect(options.control == "/tmp/lab/sw1/control")
        #expect(options.ports == 32)
        #expect(!options.hub)
        #expect(options.mode == 0o600)
        #expect(options.macAgingSeconds == 300)
        #expect(options.name == "sw1")
        #expect(options.nice == nil)
        #expect(options.sends == .ioUring)
    }

    @Test func everyFlag() throws {
        let options = try run(["--dir", "/d", "--control=/c.sock", "--ports", "4096", "--hub", "--mode", "0660",
                               "--group", "kvm", "--mac-aging", "30", "--name", "lab", "--queue-frames", "10", "--max-frame-size", "1518",
                               "--nice", "5", "--sends", "sendmmsg"])
        #expect(options.control == "/c.sock")
        #expect(options.ports == 4096)
        #expect(options.hub)
        #expect(options.mode == 0o660)
        #expect(options.group == "kvm")
        #expect(options.macAgingSeconds == 30)
        #expect(options.name == "lab")
        #expect(options.queueFrames == 10)
        #expect(options.maxFrameSize == 1518)
        #expect(options.nice == 5)
        #expect(options.sends == .sendmmsg)
    }

    @Test func directoryModeFollowsVdeSwitch() throws {
        #expect(try run(["--dir", "/d"]).directoryMode == 0o2700)
        #expect(try run(["--dir", "/d", "--mode", "660"]).directoryMode == 0o2770)
        #expect(try run(["--dir", "/d", "--mode", "666"]).directoryMode == 0o2777)
    }

    @Test(arguments: [
        ([], "--dir is required"),
        (["--dir"], "option --dir needs a value"),
        (["--dir", "/d", "--ports", "0"], "--ports must be an integer from 1 to 4096, not 0"),
        (["--dir", "/d", "--ports", "5000"], "--ports must be an integer from 1 to 4096, not 5000"),
        (["--dir", "/d", "--mode", "999"], "--mode must be octal, like 0660, not 999"),
        (["--dir", "/d", "--frobnicate"], "unknown option --frobnicate"),
        (["--dir", "/d", "--nice", "-21"], "--nice must be an integer from -20 to 19, not -21"),
        (["--dir", "/d", "--sends", "writev"], "--sends must be io_uring or sendmmsg, not writev"),
        (["--dir", "/" + String(repeating: "x", count: 95)], "the directory path is longer than 90 characters: /" + String(repeating: "x", count: 95)),
    ])
    func refuses(_ arguments: [String], _ message: String) {
        #expect(throws: SwitchOptions.Invalid(description: message)) { _ = try SwitchOptions.parse(arguments) }
    }
}
