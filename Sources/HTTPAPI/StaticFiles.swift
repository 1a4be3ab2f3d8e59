// StaticFiles: serves the dashboard from one directory (web-static/). Paths are checked twice
// against traversal: no `.`/`..` segments or NULs, and the resolved real path must stay inside the root.
import Posix

public struct StaticFiles: Sendable {
    /// The canonical root directory.
    public let root: String

    public init?(root: String) {
        guard let resolved = FileSystem.realPath(root), FileSystem.isDirectory(resolved) else { return nil }
        self.root = resolved
    }

    static let contentTypes: [String: String] = [
        "html": "text/html; charset=utf-8",
        "js": "text/javascript; charset=utf-8",
        "mjs": "text/javascript; charset=utf-8",
        "css": "text/css; charset=utf-8",
        "json": "application/json",
        "svg": "image/svg+xml",
        "png": "image/png",
        "ico": "image/x-icon",
        "txt": "text/plain; charset=utf-8",
        "woff2": "font/woff2",
    ]

    /// The file for `path` (`/` is `index.html`), or nil when there is none or the path is refused.
    public func response(for path: String) -> HTTPResponse? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        guard !segments.contains(where: { $0 == "." || $0 == ".." || $0.contains("\0") || $0.contains("\\") }) else { return nil }
        let relative = segments.isEmpty ? "index.html" : segments.joined(separator: "/")
        guard let resolved = FileSystem.realPath(root + "/" + relative),
              resolved.hasPrefix(root + "/"),
              let bytes = FileSystem.readFile(resolved) else { return nil }
        let suffix = resolved.split(separator: ".").last.map { String($0).lowercased() } ?? ""
        let type = StaticFiles.contentTypes[suffix] ?? "application/octet-stream"
        return HTTPResponse(status: 200, headers: [("Content-Type", type), ("Cache-Control", "no-cache"),
                                                   ("X-Content-Type-Options", "nosniff")],
                            body: bytes, route: "static")
    }
}
