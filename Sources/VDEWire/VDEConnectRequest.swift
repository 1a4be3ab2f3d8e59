// The vde:// connect handshake (vde-wire.md §1.3–1.4): the v3 request a client writes on the
// `ctl` stream and the 110-byte sockaddr_un the switch answers with. Little-endian host structs,
// encoded explicitly; decoding is lenient where real clients differ and strict where it matters.

/// What a client asks for in the `type` field.
public enum VDERequestKind: Equatable, Sendable {
    /// A normal port; `port` 0 means "any free port".
    case port(Int)
    /// REQ_NEW_PORT0: the management port 0.
    case port0
}

public struct VDEConnectRequest: Equatable, Sendable {
    public static let magic: UInt32 = 0xFEED_FACE
    public static let version: UInt32 = 3
    /// magic + version + type + sun_family + sun_path.
    public static let headerSize = 122
    public static let maxDescriptionSize = 127

    public var kind: VDERequestKind
    /// Absolute path of the client's bound datagram socket.
    public var socketPath: String
    /// Free text such as `vdeplug: user=root pid=6257`.
    public var description: String

    public init(kind: VDERequestKind, socketPath: String, description: String) {
        self.kind = kind
        self.socketPath = socketPath
        self.description = description
    }

    /// How a vsquare cable end introduces itself, so a switch knows a link to another switch.
    public static func cableDescription(_ cable: String) -> String { cablePrefix + cable }

    /// The vsquare cable this request comes from, or nil for any other client.
    public var cableName: String? {
        description.hasPrefix(VDEConnectRequest.cablePrefix) ? String(description.dropFirst(VDEConnectRequest.cablePrefix.count)) : nil
    }

    private static let cablePrefix = "vsquare-cable: "

    /// Why a request is refused; the switch closes the ctl stream on any of these.
    public enum ParseError: Error, Equatable, Sendable {
        case tooShort(Int)
        case badMagic(UInt32)
        case unsupportedVersion(UInt32)
        case badKind(Int32)
        case badPort(Int)
        case badSocketFamily(UInt16)
        case emptySocketPath
    }

    /// The bytes a vdeplug4 client sends: 122 bytes plus the description, no trailing NUL.
    public func encoded() -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(VDEConnectRequest.headerSize + description.utf8.count)
        appendLE(VDEConnectRequest.magic, to: &bytes)
        appendLE(VDEConnectRequest.version, to: &bytes)
        let type: UInt32
        switch kind {
        case .port(let port): type = UInt32(truncatingIfNeeded: port << 8)
        case .port0: type = 1
        }
        appendLE(type, to: &bytes)
        bytes += VDEConnectReply.sockaddrUnix(socketPath)
        bytes += description.utf8.prefix(VDEConnectRequest.maxDescriptionSize)
        return bytes
    }

    /// Parses a request. Everything after offset 122 is the description, cut at the first NUL
    /// and with invalid UTF-8 replaced.
    public static func decode(_ bytes: some Collection<UInt8>) throws(ParseError) -> VDEConnectRequest {
        let data = Array(bytes)
        guard data.count >= headerSize else { throw .tooShort(data.count) }
        let magic = readLE32(data, 0)
        guard magic == VDEConnectRequest.magic else { throw .badMagic(magic) }
        let version = readLE32(data, 4)
        guard version == VDEConnectRequest.version else { throw .unsupportedVersion(version) }
        let type = Int32(bitPattern: readLE32(data, 8))
        let kind: VDERequestKind
        switch type & 0xFF {
        case 0:
            let port = Int(type >> 8)
            guard port >= 0 else { throw .badPort(port) }
            kind = .port(port)
        case 1:
            kind = .port0
        default:
            throw .badKind(type & 0xFF)
        }
        let family = UInt16(data[12]) | UInt16(data[13]) << 8
        guard family == 1 else { throw .badSocketFamily(family) }
        let pathBytes = data[14..<122].prefix { $0 != 0 }
        guard !pathBytes.isEmpty else { throw .emptySocketPath }
        let descriptionBytes = data[122...].prefix(255).prefix { $0 != 0 }
        return VDEConnectRequest(kind: kind, socketPath: String(decoding: pathBytes, as: UTF8.self),
                                 description: String(decoding: descriptionBytes, as: UTF8.self))
    }
}

public enum VDEConnectReply {
    public static let size = 110

    /// A `struct sockaddr_un` (family 1 LE + 108-byte NUL-padded path) for `path`, truncated to 107 bytes.
    public static func sockaddrUnix(_ path: String) -> [UInt8] {
        var bytes: [UInt8] = [1, 0]
        let pathBytes = Array(path.utf8.prefix(107))
        bytes += pathBytes
        bytes += [UInt8](repeating: 0, count: 108 - pathBytes.count)
        return bytes
    }

    /// The reply carrying the port's datagram socket path.
    public static func encode(portSocketPath: String) -> [UInt8] { sockaddrUnix(portSocketPath) }

    /// The path inside a reply, or nil if the reply is malformed.
    public static func decode(_ bytes: [UInt8]) -> String? {
        guard bytes.count >= 3, bytes[0] == 1, bytes[1] == 0 else { return nil }
        let path = bytes[2...].prefix { $0 != 0 }
        return path.isEmpty ? nil : String(decoding: path, as: UTF8.self)
    }
}

@inline(__always)
func appendLE(_ value: UInt32, to bytes: inout [UInt8]) {
    bytes += [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
}

@inline(__always)
func readLE32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
}
