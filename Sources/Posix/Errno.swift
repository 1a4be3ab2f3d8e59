// Errno: a failed system call as a typed error that names the call, plus the retry/EAGAIN
// conventions every wrapper in this module follows (EINTR retried, EAGAIN a value, EBADF a trap).
import Glibc

/// A system call that failed with `errno`; `call` names it ("bind", "connect"…).
public struct Errno: Error, Equatable, CustomStringConvertible, Sendable {
    public let code: Int32
    public let call: String

    public init(_ code: Int32, call: String) {
        self.code = code
        self.call = call
    }

    public var description: String { "\(call): \(String(cString: strerror(code))) (errno \(code))" }
}

/// The outcome of a non-blocking call: done, or it would have blocked.
public enum IOResult<T> {
    case done(T)
    case wouldBlock
}

/// Runs `body` until it does not fail with EINTR; -1 with any other errno throws.
/// EBADF and EFAULT are our bugs, not the world's, so they trap.
@inline(__always)
@discardableResult
public func syscall<T: FixedWidthInteger>(_ call: String, _ body: () -> T) throws -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        precondition(code != EBADF && code != EFAULT, "\(call): \(code == EBADF ? "bad file descriptor" : "bad address")")
        throw Errno(code, call: call)
    }
}

/// Like `syscall`, but EAGAIN/EWOULDBLOCK becomes `.wouldBlock`.
@inline(__always)
public func nonBlockingSyscall<T: FixedWidthInteger>(_ call: String, _ body: () -> T) throws -> IOResult<T> {
    do {
        return .done(try syscall(call, body))
    } catch let error as Errno where error.code == EAGAIN || error.code == EWOULDBLOCK {
        return .wouldBlock
    }
}
