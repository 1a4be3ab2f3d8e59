// FrameReceiving: anything a test reads frames from (Debian's vde_plug, libvdeplug, our VDEClient).
// `frames(before:)` is how a test shows that nothing leaked without waiting out a quiet window:
// after the switch has handled the frame that must not arrive, a marker that must arrive is sent
// on the same way; one socket delivers in order, so whatever leaked comes before the marker.
import VDEWire

public protocol FrameReceiving {
    func receive(timeoutSeconds: Double) throws -> [UInt8]?
}

extension VDEClient: FrameReceiving {}
extension VDEPlugProcess: FrameReceiving {}
extension LibVDEPlug: FrameReceiving {}

public struct MarkerNotSeen: Error, CustomStringConvertible {
    public let before: Int
    public var description: String { "the marker frame never arrived (\(before) other frames did)" }
}

extension FrameReceiving {
    /// The frames that arrive ahead of `marker`; throws if the marker does not come within `timeoutSeconds`.
    public func frames(before marker: [UInt8], timeoutSeconds: Double = 5) throws -> [[UInt8]] {
        var before: [[UInt8]] = []
        while let frame = try receive(timeoutSeconds: timeoutSeconds) {
            if frame == marker { return before }
            before.append(frame)
        }
        throw MarkerNotSeen(before: before.count)
    }
}
