// ControlOps: this worker's control-socket ops (ControlServer runs them). Each file next to this one registers the ops of
// one noun (PortOps, VLANOps, MACOps, SwitchOps; CaptureOps come from WorkerControl), as OVS registers unixctl commands beside their
// code. A handler reads its parameters from the request and returns the reply's fields.
import JSON
import SwitchEngine
import WorkerControl

typealias SwitchOp = ControlOp<SwitchWorker>

enum ControlOps {
    static let all: [SwitchOp] = SwitchOps.ops + PortOps.ops + VLANOps.ops + MACOps.ops + SpanningTreeOps.ops + MulticastOps.ops
        + CaptureOps.ops(pointParameters: "port, direction? (rx|tx|both)")
}

/// The engine's rule violations carry their control-protocol code.
extension SwitchEngineError: ControlCodedError {}

extension JSONReader {
    /// A port number that exists on this switch (0 is the management port).
    mutating func port(_ key: String, on worker: SwitchWorker) throws -> Int {
        try int(key, in: 0...worker.engine.portCount)
    }

    mutating func optionalPort(_ key: String, on worker: SwitchWorker) throws -> Int? {
        try optionalInt(key, in: 0...worker.engine.portCount)
    }

    /// A list of port numbers that exist on this switch.
    mutating func ports(_ key: String, on worker: SwitchWorker) throws -> [Int] {
        try ints(key, in: 0...worker.engine.portCount, what: "a port number")
    }

    /// A list of VLAN IDs (1...4094).
    mutating func vlanList(_ key: String) throws -> [Int] {
        try ints(key, in: 1...4094, what: "a VLAN ID")
    }
}
