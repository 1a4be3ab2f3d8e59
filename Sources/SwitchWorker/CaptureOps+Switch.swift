// The switch's capture point: a port, and which way (`rx` received there, `tx` sent out of it,
// `both`, what tcpdump on an interface shows). The ops themselves are CaptureOps, shared with cables.
import JSON
import PacketCapture
import WorkerControl

extension SwitchWorker: CaptureHost {
    public func capturePoint(_ reader: inout JSONReader) throws -> CapturePoint {
        let port = try reader.int("port", in: 1...engine.portCount)
        let direction = try reader.string("direction", default: "both")
        guard ["rx", "tx", "both"].contains(direction) else {
            throw JSONFieldError(path: "direction", rule: "must be rx, tx or both")
        }
        return CapturePoint(channels: [port], received: direction != "tx", sent: direction != "rx")
    }
}
