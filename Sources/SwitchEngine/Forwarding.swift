// What the engine decides for one frame, and how the frame must look on each output port.
// The worker carries this out; the same decision answers "what would happen to this frame?".

/// How a frame entered: its VLAN, and the tag it carried if any.
public struct FrameClass: Equatable, Sendable {
    /// The VLAN the frame belongs to.
    public var vlan: VLANID
    /// The TCI of the frame's own 802.1Q tag (PCP, DEI, VID), or nil if it came untagged.
    public var tci: UInt16?

    public init(vlan: VLANID, tci: UInt16?) {
        self.vlan = vlan
        self.tci = tci
    }

    /// The change the frame needs to leave through a port that carries its VLAN `tagged` or not.
    @inline(__always)
    public func egress(tagged: Bool) -> EgressEdit {
        switch (tci, tagged) {
        case (nil, false): return .none
        case (nil, true): return .insertTag(vlan)
        case (.some, false): return .stripTag
        case (.some(let tci), true):
            // A priority tag (VID 0) leaves with the VLAN it was classified into, PCP kept.
            return tci & 0x0FFF == vlan ? .none : .rewriteTCI(tci & 0xF000 | vlan)
        }
    }
}

/// A change to a frame on its way out.
public enum EgressEdit: Equatable, Sendable {
    case none
    /// Insert `81 00` and a TCI with this VID (PCP 0) after the source MAC.
    case insertTag(VLANID)
    /// Remove the 4-byte tag after the source MAC (padding back to 60 bytes if that makes it short).
    case stripTag
    /// Replace the tag's TCI with this one.
    case rewriteTCI(UInt16)

    /// The frame length after the edit.
    @inline(__always)
    public func length(from length: Int) -> Int {
        switch self {
        case .none, .rewriteTCI: return length
        case .insertTag: return length + 4
        case .stripTag: return max(length - 4, SwitchEngine.paddedFrameSize)
        }
    }

    /// Applies the edit to a copy of `frame` (for tests and slow paths; the worker uses iovecs).
    public func apply(to frame: [UInt8]) -> [UInt8] {
        switch self {
        case .none:
            return frame
        case .insertTag(let vlan):
            return Array(frame[0..<12]) + [0x81, 0x00, UInt8(vlan >> 8), UInt8(vlan & 0xFF)] + Array(frame[12...])
        case .stripTag:
            let stripped = Array(frame[0..<12]) + Array(frame[16...])
            return stripped + [UInt8](repeating: 0, count: max(0, SwitchEngine.paddedFrameSize - stripped.count))
        case .rewriteTCI(let tci):
            var copy = frame
            copy[14] = UInt8(tci >> 8)
            copy[15] = UInt8(tci & 0xFF)
            return copy
        }
    }
}

/// Where a frame goes.
public enum Forwarding: Equatable, Sendable {
    /// To one port, edited as `edit` says.
    case unicast(port: Int, edit: EgressEdit)
    /// To every port in `SwitchEngine.floodTargets(vlan:)` but the ingress port, each with its own edit.
    case flood
    /// To these ports (a snooped group's members and the ports towards its queriers) but the ingress port.
    case multicast([FloodTarget])
    /// Dropped and counted under `cause`.
    case drop(DropCause)
    /// Not forwarded and not an error: the destination is on the port it came from.
    case filtered
    /// For the bridge itself: a BPDU, handed to `receiveBPDU` (only while the spanning tree runs).
    case bridge
}

/// The engine's answer for one frame.
public struct Decision: Equatable, Sendable {
    public var forwarding: Forwarding
    public var frameClass: FrameClass
    /// The frame's length after padding (frames under 60 bytes are padded with zeros).
    public var length: Int
}

/// A port that receives a flooded frame, and whether it carries the VLAN tagged.
public struct FloodTarget: Equatable, Sendable {
    public var port: Int
    public var tagged: Bool
}
