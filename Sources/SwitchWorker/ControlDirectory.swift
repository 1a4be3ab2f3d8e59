// ControlDirectory: the VDE control directory a switch serves (vde-wire.md §1.2): created with
// vde_switch's modes, `ctl` bound (a stale one replaced, a live switch refused), leftover port
// sockets of a previous run removed, and on exit everything we made removed again.
import Glibc
import Posix

/// Why a switch could not start; the executable maps these to exit 1.
public enum SwitchStartError: Error, CustomStringConvertible {
    case directory(String, Errno)
    case anotherSwitch(String)
    case unknownGroup(String)
    case unknownUser(String)
    case socket(String, Errno)

    public var description: String {
        switch self {
        case .directory(let path, let error): return "cannot prepare the control directory \(path): \(error)"
        case .anotherSwitch(let path): return "another switch is already serving \(path)"
        case .unknownGroup(let group): return "no such group: \(group)"
        case .unknownUser(let user): return "no such user: \(user)"
        case .socket(let path, let error): return "cannot create the socket \(path): \(error)"
        }
    }
}

struct ControlDirectory {
    let path: String
    let mode: UInt32
    let groupID: UInt32?
    /// The owner of the directory and `ctl` (-1 when not set: chown leaves it).
    let ownerID: UInt32
    /// Whether we created the directory (and so remove it at exit).
    let created: Bool

    init(options: SwitchOptions) throws {
        path = options.directory
        mode = options.mode
        if let group = options.group {
            guard let id = FileSystem.groupID(group) else { throw SwitchStartError.unknownGroup(group) }
            groupID = id
        } else {
            groupID = nil
        }
        if let owner = options.owner {
            guard let id = UInt32(owner) ?? UnixUser.id(of: owner)?.uid else { throw SwitchStartError.unknownUser(owner) }
            ownerID = id
        } else {
            ownerID = UInt32.max
        }
        let existed = FileSystem.isDirectory(path)
        do {
            try FileSystem.makeDirectories(path, mode: 0o700)
        } catch let error as Errno {
            throw SwitchStartError.directory(path, error)
        }
        created = !existed
        chmod(path, mode_t(options.directoryMode))
        if groupID != nil || ownerID != UInt32.max { _ = chown(path, ownerID, groupID ?? UInt32.max) }
        removeLeftoverPortSockets()
    }

    /// Port sockets are named `NNN.F`; a previous switch that died leaves them behind.
    private func removeLeftoverPortSockets() {
        for name in FileSystem.listDirectory(path) ?? [] {
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 2, parts[0].count >= 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) {
                unlink(path + "/" + name)
            }
        }
    }

    /// Binds `DIR/ctl`. A stale socket (nobody answers) is replaced; a live switch is refused.
    func listen() throws -> Socket {
        let ctl = path + "/ctl"
        if FileSystem.exists(ctl) {
            if let probe = try? Socket(family: AF_UNIX, type: Int32(SOCK_STREAM.rawValue)), (try? probe.connect(.unix(path: ctl))) != nil {
                throw SwitchStartError.anotherSwitch(path)
            }
            unlink(ctl)
        }
        do {
            let socket = try Socket.listenUnix(ctl, backlog: 64)
            chmod(ctl, mode_t(mode))
            if groupID != nil || ownerID != UInt32.max { _ = chown(ctl, ownerID, groupID ?? UInt32.max) }
            return socket
        } catch let error as Errno {
            throw SwitchStartError.socket(ctl, error)
        }
    }

    /// A non-blocking datagram socket connected to the client at `clientPath` and bound to
    /// `DIR/NNN.F`, with vde_switch's ownership rules (§1.2): as root, owned by the client's uid
    /// and mode & 0700; otherwise mode as configured.
    func portSocket(port: Int, clientPath: String, clientUID: UInt32) throws -> (Socket, String) {
        let socket = try Socket(family: AF_UNIX, type: Int32(SOCK_DGRAM.rawValue))
        try socket.setNonBlocking()
        try socket.connect(.unix(path: clientPath))
        let number = String(port)
        let name = String(repeating: "0", count: max(0, 3 - number.count)) + number + "." + String(socket.fd)
        let socketPath = path + "/" + name
        unlink(socketPath)
        try socket.bind(.unix(path: socketPath))
        if geteuid() == 0 {
            _ = chown(socketPath, clientUID, groupID ?? UInt32.max)
            chmod(socketPath, mode_t(mode & 0o700))
        } else {
            if let groupID { _ = chown(socketPath, UInt32.max, groupID) }
            chmod(socketPath, mode_t(mode))
        }
        // More room in flight before our own queue is needed; SO_SNDBUFFORCE lifts the sysctl cap for root.
        if (try? socket.setOption(SOL_SOCKET, SO_SNDBUFFORCE, SwitchWorker.socketBufferBytes)) == nil {
            try? socket.setOption(SOL_SOCKET, SO_SNDBUF, SwitchWorker.socketBufferBytes)
        }
        return (socket, socketPath)
    }

    /// Removes `ctl` and, if we created it and it is now empty, the directory.
    func remove() {
        unlink(path + "/ctl")
        removeLeftoverPortSockets()
        if created { rmdir(path) }
    }
}
