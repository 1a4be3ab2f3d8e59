// CSVTable: rows for a spreadsheet or a course script (RFC 4180: CRLF line ends, a field with a
// comma, a quote or a line break quoted, quotes doubled), answered as text/csv.
public struct CSVTable: Sendable {
    public var header: [String]
    public var rows: [[String]]

    public init(header: [String], rows: [[String]]) {
        self.header = header
        self.rows = rows
    }

    public var text: String {
        ([header] + rows).map { $0.map(CSVTable.field).joined(separator: ",") + "\r\n" }.joined()
    }

    public func response(status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "text/csv; charset=utf-8")], body: Array(text.utf8))
    }

    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        var quoted = "\""
        for character in text { quoted += character == "\"" ? "\"\"" : String(character) }
        return quoted + "\""
    }
}

extension HTTPRequest {
    /// The client asks for text/csv (in Accept) rather than JSON.
    public var wantsCSV: Bool {
        (header("accept") ?? "").split(separator: ",").contains { $0.split(separator: ";").first.map { $0.trimmingSpaces().lowercased() } == "text/csv" }
    }
}
