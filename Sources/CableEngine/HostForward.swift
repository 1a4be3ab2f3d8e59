// HostForward: a host port forwarded to an address behind a slirp uplink; the same value in the
// stack's stored spec, the API and the slirp end's control op.
import JSON

/// A host port forwarded to an address behind slirp.
public struct HostForward: Equatable, Hashable, Sendable {
    public var udp: Bool
    public var hostAddress: String
    public var hostPort: Int
    public var guestAddress: String
    public var guestPort: Int

    public init(udp: Bool, hostAddress: String, hostPort: Int, guestAddress: String, guestPort: Int) {
        self.udp = udp
        self.hostAddress = hostAddress
        self.hostPort = hostPort
        self.guestAddress = guestAddress
        self.guestPort = guestPort
    }

    public var json: JSONObject {
        ["protocol": JSON(udp ? "udp" : "tcp"), "host_address": JSON(hostAddress), "host_port": JSON(hostPort),
         "guest_address": JSON(guestAddress), "guest_port": JSON(guestPort)]
    }

    public init?(json: JSON) {
        guard let proto = json["protocol"]?.stringValue, proto == "tcp" || proto == "udp",
              let hostPort = json["host_port"]?.intValue, let guestAddress = json["guest_address"]?.stringValue,
              let guestPort = json["guest_port"]?.intValue else { return nil }
        self.init(udp: proto == "udp", hostAddress: json["host_address"]?.stringValue ?? "127.0.0.1", hostPort: hostPort,
                  guestAddress: guestAddress, guestPort: guestPort)
    }
}
