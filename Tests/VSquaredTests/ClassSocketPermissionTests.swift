// VDE's own permission model for a class on a shared server: two Unix users the test creates (and
// removes), one student each. Each student's switches' VDE directories are owned by that user and
// closed to others, so Debian's vde_plug, run as each user, plugs into its own lab's switch and is
// refused by the other's.
import Glibc
import JSON
import Posix
import Testing
import VSquareTesting

@Suite(.serialized, .enabled(if: geteuid() == 0, "creating Unix users and giving sockets to them need root"))
struct ClassSocketPermissionTests {
    struct UserNotMade: Error { let name: String }

    /// A system user with no home and no shell, removed when the test ends.
    final class TestUser {
        let name: String
        init() throws {
            name = "vsqt-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
            let made = try ProcessRunner.run("/usr/sbin/useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                                             environment: [:], stdin: [], timeoutSeconds: 20, outputCap: 1 << 16)
            guard made.exitCode == 0 else { throw UserNotMade(name: name) }
        }
        deinit { _ = try? ProcessRunner.run("/usr/sbin/userdel", [name], environment: [:], stdin: [], timeoutSeconds: 20, outputCap: 1 << 16) }
    }

    @Test func eachStudentPlugsIntoItsOwnLabAndIsRefusedByTheOther() throws {
        let ann = try TestUser(), ben = try TestUser()
        let directory = TempDirectory(prefix: "vsqd")
        let daemon = try DaemonProcess(directory: directory)
        defer { _ = try? daemon.client.request("DELETE", "/v1/classes/perm") }
        // Both users must be able to reach the switches' directories, as on a server's /run/vsquare.
        for path in [directory.path, daemon.run] { chmod(path, 0o755) }
        let created = try daemon.client.send("POST", "/v1/classes", json: [
            "name": "perm", "template": ["switches": [["name": "lan", "ports": 4]]],
            "students": [["id": "a", "unix_user": JSON(ann.name)], ["id": "b", "unix_user": JSON(ben.name)]],
        ])
        #expect(created.status == 201, "\(created.text)")
        func plugURL(_ lab: String) throws -> String {
            try #require(try daemon.json("/v1/labs/\(lab)")["members"]?[0]?["plug_url"]?.stringValue)
        }
        let aURL = try plugURL("perm-a"), bURL = try plugURL("perm-b")
        let annID = try #require(UnixUser.id(of: ann.name))
        #expect(FileSystem.owner(String(aURL.dropFirst("vde://".count)))?.uid == annID.uid, "ann does not own her switch's directory")
        #expect(try daemon.json("/v1/switches/perm-a-lan")["socket_owner"]?.stringValue == ann.name)

        for (user, own, other) in [(ann.name, aURL, bURL), (ben.name, bURL, aURL)] {
            let plugged = try VDEPlugProcess(url: own, user: user)
            let refused = try VDEPlugProcess(url: other, user: user)
            // The stranger's vde_plug cannot open the other's directory and ends; its own stays plugged in.
            #expect(refused.process.wait(timeoutSeconds: 5) != nil, "\(user) plugged into another student's switch")
            #expect(plugged.process.wait(timeoutSeconds: 0.5) == nil, "\(user)'s vde_plug could not plug into its own switch")
            let lab = own == aURL ? "perm-a-lan" : "perm-b-lan"
            #expect(eventually { (try? daemon.json("/v1/switches/\(lab)/ports"))?["ports"]?.arrayValue?
                .contains { ($0["endpoints"]?.arrayValue ?? []).contains { $0["uid"]?.intValue == Int(UnixUser.id(of: user)?.uid ?? 0) } } == true },
                    "\(user) is not on its switch")
            plugged.closeInput()
            _ = plugged.process.wait(timeoutSeconds: 5)
        }
        // Who plugged in is in the audit log, by user.
        #expect(try daemon.json("/v1/audit?kind=plug&principal=\(ann.name)")["entries"]?.arrayValue?.first?["switch"] == "perm-a-lan")
        #expect(try daemon.client.request("DELETE", "/v1/classes/perm").status == 204)
    }
}
