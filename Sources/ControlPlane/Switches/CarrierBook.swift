// CarrierBook: which cut cables end at which switch. A restarted switch worker starts with every
// port's carrier up, so its recipe tells it again (the worker holds the names and applies them
// when the cable's end plugs back in). Its own lock: read while a worker starts, off the managers'.
import Posix

final class CarrierBook: @unchecked Sendable {
    private let lock = Lock()
    private var cutCables: [String: Set<String>] = [:]

    /// Records that `cable`, with an end at `switchName`, is cut (`up` false) or not.
    func set(cable: String, at switchName: String, up: Bool) {
        lock.withLock {
            if up {
                cutCables[switchName]?.remove(cable)
            } else {
                cutCables[switchName, default: []].insert(cable)
            }
        }
    }

    /// The cut cables with an end at `switchName`.
    func cutCables(at switchName: String) -> [String] {
        lock.withLock { (cutCables[switchName] ?? []).sorted() }
    }
}
