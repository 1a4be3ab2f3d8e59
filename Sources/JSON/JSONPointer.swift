// JSONPointer: RFC 6901 pointers, as used to say where in a document a problem is.

public enum JSONPointer {
    /// One key escaped for a pointer: `~` as `~0`, `/` as `~1`.
    public static func token(_ key: String) -> String {
        var token = ""
        for character in key {
            switch character {
            case "~": token += "~0"
            case "/": token += "~1"
            default: token.append(character)
            }
        }
        return token
    }
}
