// File-system helpers the daemon needs at start-up: make directories with a mode, read small files,
// resolve real paths (for the static-file traversal check), and identify the current user.
import Glibc

public enum FileSystem {
    /// Creates `path` and any missing parents with `mode`; an existing directory is fine.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, mode) != 0 && errno != EEXIST { throw Errno(errno, call: "mkdir \(prefix)") }
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw Errno(errno, call: "stat \(path)") }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw Errno(ENOTDIR, call: "mkdir \(path)") }
    }

    /// The whole file, or nil if it cannot be opened as a regular file.
    public static func readFile(_ path: String, limit: Int = 64 << 20) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) <= limit else { return nil }
        // Read to end of file: the size is only a hint (files under /proc report 0).
        var bytes = [UInt8](repeating: 0, count: max(Int(info.st_size), 4096))
        var offset = 0
        while true {
            if offset == bytes.count {
                guard bytes.count < limit else { return nil }
                bytes += [UInt8](repeating: 0, count: bytes.count)
            }
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            offset += count
        }
        return Array(bytes[..<offset])
    }

    /// The size of the file at `path` in bytes, or nil if it does not exist.
    public static func size(_ path: String) -> Int? {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : nil
    }

    /// Up to the last `maximum` bytes of the file written past `offset`, or nil if it cannot be read.
    public static func readTail(_ path: String, from offset: Int, maximum: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        let start = max(offset, Int(info.st_size) - maximum)
        guard Int(info.st_size) > start else { return [] }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) - start)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, off_t(start)) }
        return count > 0 ? Array(bytes[..<count]) : []
    }

    /// The canonical absolute path with symbolic links resolved, or nil if it does not exist.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The path of the running executable.
    public static func executablePath() -> String {
        realPath("/proc/self/exe") ?? CommandLine.arguments[0]
    }

    public static var isRoot: Bool { geteuid() == 0 }
}

extension FileSystem {
    /// The names in `path` (without `.` and `..`), or nil if it cannot be read.
    public static func listDirectory(_ path: String) -> [String]? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The owner of `path`, or nil if it does not exist.
    public static func owner(_ path: String) -> (uid: UInt32, gid: UInt32)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (info.st_uid, info.st_gid)
    }

    /// The numeric id of group `name` (a number is taken as is), or nil.
    public static func groupID(_ name: String) -> UInt32? {
        if let number = UInt32(name) { return number }
        guard let group = getgrnam(name) else { return nil }
        return group.pointee.gr_gid
    }
}

extension FileSystem {
    /// Replaces the file at `path` with `text` (mode applies when it is created: 0o600 for a key).
    public static func writeFile(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
        try writeFile(path, Array(text.utf8), mode: mode)
    }

    /// Replaces the file at `path` with `contents`.
    public static func writeFile(_ path: String, _ contents: [UInt8], mode: mode_t = 0o644) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Errno(errno, call: "open " + path) }
        defer { close(fd) }
        var bytes = contents[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw Errno(errno, call: "write " + path) }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Removes a directory tree we own (a switch's control directory, a namespace's /etc files).
    public static func removeTree(_ path: String) {
        for name in listDirectory(path) ?? [] {
            let child = path + "/" + name
            if isDirectory(child) { removeTree(child) } else { unlink(child) }
        }
        rmdir(path)
    }
}

/// Writes `text` to a descriptor (1 stdout, 2 stderr) in one call, without stdio buffering.
public func writeText(_ text: String, to fd: Int32) {
    _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
}
