// Mailbox: messages posted by worker threads and taken by the one thread that waits for them (a
// run's scheduler waiting for its tasks), without polling.
import Glibc

public final class Mailbox<Message: Sendable>: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var messages: [Message] = []

    public init() {
        pthread_mutex_init(&mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(&condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    public func post(_ message: Message) {
        pthread_mutex_lock(&mutex)
        messages.append(message)
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    /// Every message posted so far, waiting up to `timeoutSeconds` for the first; [] if none came.
    public func take(timeoutSeconds: Double) -> [Message] {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let nanoseconds = Int(deadline.tv_nsec) + Int(max(0, timeoutSeconds) * 1e9)
        deadline.tv_sec += nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while messages.isEmpty {
            if pthread_cond_timedwait(&condition, &mutex, &deadline) == ETIMEDOUT { break }
        }
        defer { messages = [] }
        return messages
    }
}
