// StreamCipher: authenticated encryption of a remote cable's records (the only file that touches
// libsodium). Both sides send a random 32-byte salt; each direction's key is BLAKE2b keyed with the
// pre-shared key over a label, both salts and the direction, so every connection has fresh keys.
// Records are sealed with ChaCha20-Poly1305 (IETF) under a per-direction counter nonce; a record
// that does not open (wrong key, tampering, replay) ends the connection.
import CSodium

enum StreamCipherError: Error {
    case authenticationFailed
}

struct StreamCipher {
    static let saltSize = 32
    static let keySize = 32
    static let tagSize = 16

    private var sendKey: [UInt8]
    private var receiveKey: [UInt8]
    private var sendCounter: UInt64 = 0
    private var receiveCounter: UInt64 = 0

    /// Call once per process before using the cipher.
    static func prepare() { _ = sodium_init() }

    static func randomSalt() -> [UInt8] {
        var salt = [UInt8](repeating: 0, count: saltSize)
        randombytes_buf(&salt, saltSize)
        return salt
    }

    /// `connector` says which side this is; both sides derive the same two keys, swapped.
    init(presharedKey: [UInt8], connectorSalt: [UInt8], listenerSalt: [UInt8], connector: Bool) {
        func derive(_ direction: String) -> [UInt8] {
            let message = Array("vsquare-cable v1 \(direction)".utf8) + connectorSalt + listenerSalt
            var key = [UInt8](repeating: 0, count: StreamCipher.keySize)
            _ = crypto_generichash(&key, StreamCipher.keySize, message, UInt64(message.count), presharedKey, presharedKey.count)
            return key
        }
        let toListener = derive("connector->listener")
        let toConnector = derive("listener->connector")
        sendKey = connector ? toListener : toConnector
        receiveKey = connector ? toConnector : toListener
    }

    private static func nonce(_ counter: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 12)
        for index in 0..<8 { bytes[4 + index] = UInt8(truncatingIfNeeded: counter >> (8 * UInt64(index))) }
        return bytes
    }

    mutating func seal(_ plain: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: plain.count + StreamCipher.tagSize)
        var length: UInt64 = 0
        let nonce = StreamCipher.nonce(sendCounter)
        sendCounter += 1
        _ = crypto_aead_chacha20poly1305_ietf_encrypt(&out, &length, plain, UInt64(plain.count), nil, 0, nil, nonce, sendKey)
        return Array(out[..<Int(length)])
    }

    mutating func open(_ sealed: [UInt8]) throws(StreamCipherError) -> [UInt8] {
        guard sealed.count >= StreamCipher.tagSize else { throw .authenticationFailed }
        var out = [UInt8](repeating: 0, count: sealed.count)
        var length: UInt64 = 0
        let nonce = StreamCipher.nonce(receiveCounter)
        guard crypto_aead_chacha20poly1305_ietf_decrypt(&out, &length, nil, sealed, UInt64(sealed.count), nil, 0, nonce, receiveKey) == 0 else {
            throw .authenticationFailed
        }
        receiveCounter += 1
        return Array(out[..<Int(length)])
    }
}
