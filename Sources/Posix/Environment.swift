// The process environment as a dictionary (the C `environ` global is off-limits in Swift 6).
import Glibc

public enum Environment {
    public static func current() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = Glibc.environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}
