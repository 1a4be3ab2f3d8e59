// A worker's control reply as the API passes it on: without the reply's own `id` and `ok`.
import JSON

public enum WorkerReply {
    public static func body(_ reply: JSON) -> JSONObject {
        var object = reply.objectValue ?? [:]
        object["id"] = nil
        object["ok"] = nil
        return object
    }
}
