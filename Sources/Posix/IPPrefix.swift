// IPPrefix: an address with a prefix length ("10.0.2.2/24", "fd00::1/64"), as stacks and slirp
// uplinks are addressed. Parsing is inet_pton's, so only numeric forms are accepted.
import Glibc

public struct IPPrefix: Equatable, Sendable, CustomStringConvertible {
    public enum Address: Equatable, Sendable {
        case ipv4(UInt32)
        case ipv6([UInt8])
    }

    public let address: Address
    public let length: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let length = Int(parts[1]) else { return nil }
        if let v4 = SocketAddress.parse4(String(parts[0])), (0...32).contains(length) {
            address = .ipv4(UInt32(bigEndian: v4.s_addr))
        } else if var v6 = SocketAddress.parse6(String(parts[0])), (0...128).contains(length) {
            address = .ipv6(withUnsafeBytes(of: &v6) { Array($0) })
        } else {
            return nil
        }
        self.length = length
    }

    public var isIPv6: Bool { if case .ipv6 = address { true } else { false } }

    /// The IPv4 netmask in host order (0 for IPv6).
    public var ipv4Mask: UInt32 { isIPv6 || length == 0 ? 0 : ~UInt32(0) << (32 - UInt32(length)) }

    /// The IPv4 network (address & mask) plus `host`, in host order.
    public func ipv4Host(_ host: UInt32) -> UInt32? {
        guard case .ipv4(let value) = address else { return nil }
        return (value & ipv4Mask) | (host & ~ipv4Mask)
    }

    /// The address's bytes with every bit past the prefix cleared (IPv6 only).
    public var ipv6Network: [UInt8]? {
        guard case .ipv6(let bytes) = address else { return nil }
        return bytes.enumerated().map { index, byte in
            let kept = max(0, min(8, length - index * 8))
            return kept == 8 ? byte : byte & ~(UInt8(0xFF) >> kept)
        }
    }

    public static func ipv4Text(_ value: UInt32) -> String {
        "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
    }

    public static func ipv6Text(_ bytes: [UInt8]) -> String {
        var addr = in6_addr()
        withUnsafeMutableBytes(of: &addr) { $0.copyBytes(from: bytes.prefix(16)) }
        var text = [UInt8](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let written = text.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { inet_ntop(AF_INET6, &addr, $0.baseAddress, socklen_t($0.count)) }
        }
        guard written != nil else { return "::" }
        return String(decoding: text.prefix { $0 != 0 }, as: UTF8.self)
    }

    public var addressText: String {
        switch address {
        case .ipv4(let value): IPPrefix.ipv4Text(value)
        case .ipv6(let bytes): IPPrefix.ipv6Text(bytes)
        }
    }

    public var description: String { "\(addressText)/\(length)" }
}
