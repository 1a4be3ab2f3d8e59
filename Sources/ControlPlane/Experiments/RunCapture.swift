// RunCapture: a capture_start task's packet capture, written to a pcap file in the run's directory
// as it streams, until its capture_stop task (or the end of the repetition) stops it; the tally
// and the file's name go into the run's record, and so into its report.
import Glibc
import JSON
import Posix
import Synchronization

final class RunCapture: @unchecked Sendable {
    let task: String
    /// The file's name in the run's directory.
    let file: String
    private let session: CaptureSession
    private var copier: Thread?
    /// Set once a stop is asked for: the copier then waits at most a few seconds more for the end of the stream.
    private let stopAsked = Mutex<UInt64?>(nil)

    init(task: String, file: String, directory: String, session: CaptureSession) throws {
        self.task = task
        self.file = file
        self.session = session
        let fd = open(directory + "/" + file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Errno(errno, call: "open \(directory)/\(file)") }
        copier = Thread { [self] in
            var chunk: [UInt8] = []
            chunk.reserveCapacity(65536)
            while true {
                if let asked = stopAsked.withLock({ $0 }), Clock.monotonicNanoseconds() - asked > 5_000_000_000 { break }
                guard (try? session.stream.waitReadable(timeoutSeconds: 0.5)) == true else { continue }
                chunk.removeAll(keepingCapacity: true)
                guard let result = try? session.stream.read(into: &chunk, maximum: 65536) else { break }
                guard case .done(let count) = result else { continue }
                if count == 0 { break }
                var written = 0
                while written < chunk.count {
                    let wrote = chunk.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
                    if wrote <= 0 { break }
                    written += wrote
                }
            }
            close(fd)
            session.stream.close()
        }
    }

    /// Ends the capture (the worker writes what it holds, then ends the stream) and waits for the file.
    func stop() -> JSONObject {
        stopAsked.withLock { $0 = Clock.monotonicNanoseconds() }
        var tally = session.finish() ?? [:]
        copier?.join()
        copier = nil
        tally["task"] = JSON(task)
        tally["file"] = JSON(file)
        return tally
    }
}
