// BPDU: the spanning tree's messages as IEEE 802.1D-2004 clause 9 lays them out — configuration
// and TCN BPDUs (legacy STP) and RST BPDUs — carried in an LLC frame to 01:80:C2:00:00:00.
// Parsing refuses anything short or unknown (the caller counts it); nothing here keeps state.

/// A bridge identifier: the priority (a multiple of 4096) in the top 16 bits, the bridge's MAC below.
/// Smaller is better, as the standard compares them.
public struct BridgeID: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var raw: UInt64

    public init(raw: UInt64) { self.raw = raw }
    public init(priority: UInt16, address: MACAddress) { raw = UInt64(priority) << 48 | address.bits }

    public var priority: UInt16 { UInt16(raw >> 48) }
    public var address: MACAddress { MACAddress(bits: raw & 0xFFFF_FFFF_FFFF) }
    /// As Linux prints it (`8000.02:00:00:00:00:01`): the priority in hex, then the address.
    public var description: String {
        let hex = String(priority, radix: 16)
        return String(repeating: "0", count: 4 - hex.count) + hex + "." + address.description
    }
    public static func < (lhs: BridgeID, rhs: BridgeID) -> Bool { lhs.raw < rhs.raw }
}

/// A port identifier: its priority (a multiple of 16) in the top 4 bits, the port number below.
public struct PortID: Comparable, Hashable, Sendable {
    public var raw: UInt16
    public init(raw: UInt16) { self.raw = raw }
    public init(priority: UInt8, number: Int) { raw = UInt16(priority & 0xF0) << 8 | UInt16(number & 0x0FFF) }
    public var number: Int { Int(raw & 0x0FFF) }
    public static func < (lhs: PortID, rhs: PortID) -> Bool { lhs.raw < rhs.raw }
}

/// What a BPDU claims about the path to the root, compared field by field (smaller is better).
public struct PriorityVector: Comparable, Hashable, Sendable {
    public var root: BridgeID
    public var rootPathCost: UInt32
    public var designatedBridge: BridgeID
    public var designatedPort: PortID

    public init(root: BridgeID, rootPathCost: UInt32, designatedBridge: BridgeID, designatedPort: PortID) {
        self.root = root
        self.rootPathCost = rootPathCost
        self.designatedBridge = designatedBridge
        self.designatedPort = designatedPort
    }

    public static func < (lhs: PriorityVector, rhs: PriorityVector) -> Bool {
        (lhs.root, lhs.rootPathCost, lhs.designatedBridge, lhs.designatedPort)
            < (rhs.root, rhs.rootPathCost, rhs.designatedBridge, rhs.designatedPort)
    }
}

/// The timers a BPDU carries, in seconds (on the wire in 1/256 s).
public struct BPDUTimes: Equatable, Sendable {
    public var messageAge: Double
    public var maxAge: Double
    public var helloTime: Double
    public var forwardDelay: Double

    public init(messageAge: Double, maxAge: Double, helloTime: Double, forwardDelay: Double) {
        self.messageAge = messageAge
        self.maxAge = maxAge
        self.helloTime = helloTime
        self.forwardDelay = forwardDelay
    }
}

/// The role a port claims in the flags of an RST BPDU.
public enum PortRole: String, Sendable, CaseIterable {
    case disabled, root, designated, alternate, backup

    /// Bits 2–3 of the flags: 1 alternate or backup, 2 root, 3 designated (0 is "unknown").
    var flagBits: UInt8 {
        switch self {
        case .disabled: 0
        case .alternate, .backup: 1
        case .root: 2
        case .designated: 3
        }
    }
}

public struct BPDU: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// A legacy configuration BPDU (protocol version 0, type 0x00).
        case configuration
        /// A legacy topology change notification (type 0x80): no fields.
        case topologyChangeNotification
        /// A rapid spanning tree BPDU (version 2, type 0x02).
        case rapid
    }

    public static let groupAddress = MACAddress(bits: 0x0180_C200_0000)
    public static let configurationLength = 35
    public static let rapidLength = 36

    public var kind: Kind
    public var topologyChange = false
    public var proposal = false
    /// The sender's port role; legacy configuration BPDUs always speak as designated.
    public var role: PortRole = .designated
    public var learning = false
    public var forwarding = false
    public var agreement = false
    public var topologyChangeAck = false
    public var vector = PriorityVector(root: BridgeID(raw: 0), rootPathCost: 0, designatedBridge: BridgeID(raw: 0),
                                       designatedPort: PortID(raw: 0))
    public var times = BPDUTimes(messageAge: 0, maxAge: 20, helloTime: 2, forwardDelay: 15)

    public init(kind: Kind) { self.kind = kind }

    /// Why a BPDU was refused.
    public enum Malformed: Error, Equatable, Sendable {
        case short, notLLC, protocolID, unknownType
    }

    /// Reads the BPDU in an Ethernet frame (header, 802.2 LLC `42 42 03`, then the BPDU).
    public static func parse(frame bytes: UnsafeRawBufferPointer, length: Int) throws(Malformed) -> BPDU {
        // The 802.3 length field says how much is LLC and BPDU; padding comes after it.
        guard length >= 14 + 3 + 4 else { throw .short }
        let llcLength = Int(bytes[12]) << 8 | Int(bytes[13])
        guard llcLength <= 1500, bytes[14] == 0x42, bytes[15] == 0x42, bytes[16] == 0x03 else { throw .notLLC }
        let available = min(length, 14 + llcLength) - 17
        let base = 17
        guard available >= 4 else { throw .short }
        guard bytes[base] == 0, bytes[base + 1] == 0 else { throw .protocolID }
        let version = bytes[base + 2]
        let type = bytes[base + 3]
        func u16(_ offset: Int) -> UInt16 { UInt16(bytes[base + offset]) << 8 | UInt16(bytes[base + offset + 1]) }
        func u32(_ offset: Int) -> UInt32 { UInt32(u16(offset)) << 16 | UInt32(u16(offset + 2)) }
        func u64(_ offset: Int) -> UInt64 { UInt64(u32(offset)) << 32 | UInt64(u32(offset + 4)) }
        func seconds(_ offset: Int) -> Double { Double(u16(offset)) / 256 }
        var bpdu: BPDU
        switch type {
        case 0x80:
            return BPDU(kind: .topologyChangeNotification)
        case 0x00:
            guard available >= configurationLength else { throw .short }
            bpdu = BPDU(kind: .configuration)
        case 0x02 where version >= 2:
            guard available >= rapidLength else { throw .short }
            bpdu = BPDU(kind: .rapid)
        default:
            throw .unknownType
        }
        let flags = bytes[base + 4]
        bpdu.topologyChange = flags & 0x01 != 0
        bpdu.topologyChangeAck = flags & 0x80 != 0
        if bpdu.kind == .rapid {
            bpdu.proposal = flags & 0x02 != 0
            bpdu.role = switch (flags >> 2) & 0x03 {
            case 1: .alternate
            case 2: .root
            case 3: .designated
            default: .disabled   // "unknown": treated as nothing to learn from
            }
            bpdu.learning = flags & 0x10 != 0
            bpdu.forwarding = flags & 0x20 != 0
            bpdu.agreement = flags & 0x40 != 0
        }
        bpdu.vector = PriorityVector(root: BridgeID(raw: u64(5)), rootPathCost: u32(13),
                                     designatedBridge: BridgeID(raw: u64(17)), designatedPort: PortID(raw: u16(25)))
        bpdu.times = BPDUTimes(messageAge: seconds(27), maxAge: seconds(29), helloTime: seconds(31), forwardDelay: seconds(33))
        return bpdu
    }

    /// The whole Ethernet frame, from `source`, padded to 60 bytes.
    public func frame(from source: MACAddress) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(60)
        func put16(_ value: UInt16) { bytes += [UInt8(value >> 8), UInt8(value & 0xFF)] }
        func put32(_ value: UInt32) { put16(UInt16(value >> 16)); put16(UInt16(value & 0xFFFF)) }
        func put64(_ value: UInt64) { put32(UInt32(value >> 32)); put32(UInt32(value & 0xFFFF_FFFF)) }
        func putSeconds(_ value: Double) { put16(UInt16(clamping: Int((value * 256).rounded()))) }
        put64(BPDU.groupAddress.bits << 16)
        bytes.removeLast(2)
        put64(source.bits << 16)
        bytes.removeLast(2)
        let body: Int = switch kind {
        case .topologyChangeNotification: 4
        case .configuration: BPDU.configurationLength
        case .rapid: BPDU.rapidLength
        }
        put16(UInt16(3 + body))
        bytes += [0x42, 0x42, 0x03, 0x00, 0x00]
        switch kind {
        case .topologyChangeNotification:
            bytes += [0x00, 0x80]
        case .configuration, .rapid:
            bytes += kind == .rapid ? [0x02, 0x02] : [0x00, 0x00]
            var flags: UInt8 = topologyChange ? 0x01 : 0
            if topologyChangeAck { flags |= 0x80 }
            if kind == .rapid {
                if proposal { flags |= 0x02 }
                flags |= role.flagBits << 2
                if learning { flags |= 0x10 }
                if forwarding { flags |= 0x20 }
                if agreement { flags |= 0x40 }
            }
            bytes.append(flags)
            put64(vector.root.raw)
            put32(vector.rootPathCost)
            put64(vector.designatedBridge.raw)
            put16(vector.designatedPort.raw)
            putSeconds(times.messageAge)
            putSeconds(times.maxAge)
            putSeconds(times.helloTime)
            putSeconds(times.forwardDelay)
            if kind == .rapid { bytes.append(0) }   // version 1 length
        }
        if bytes.count < 60 { bytes += [UInt8](repeating: 0, count: 60 - bytes.count) }
        return bytes
    }
}
