// Thread: a plain pthread, for work that blocks on its own (a ticker, a supervisor loop, a test's side call).
import Glibc
import Synchronization

public final class Thread: @unchecked Sendable {
    private var handle = pthread_t()
    private let body: @Sendable () -> Void

    /// Starts `body` on a new thread at once.
    public init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&handle, nil, { context in
            let thread = Unmanaged<Thread>.fromOpaque(context!).takeRetainedValue()
            thread.body()
            return nil
        }, context)
        precondition(rc == 0, "pthread_create failed")
    }

    public func join() { pthread_join(handle, nil) }

    /// Runs `body(0..<count)` on up to `width` threads at once and returns when every call has.
    public static func concurrently(_ count: Int, width: Int, _ body: @escaping @Sendable (Int) -> Void) {
        guard count > 1, width > 1 else { return (0..<count).forEach(body) }
        let next = WorkCursor()
        let threads = (0..<min(width, count)).map { _ in
            Thread {
                while case let index = next.value.add(1, ordering: .relaxed).oldValue, index < count { body(index) }
            }
        }
        threads.forEach { $0.join() }
    }
}

/// The next index `concurrently` hands out.
private final class WorkCursor: Sendable {
    let value = Atomic<Int>(0)
}

/// A boolean that one thread sets and another reads.
public final class Flag: Sendable {
    private let value = Atomic<Bool>(false)

    public init() {}

    public func set() { value.store(true, ordering: .releasing) }
    public var isSet: Bool { value.load(ordering: .acquiring) }
}
