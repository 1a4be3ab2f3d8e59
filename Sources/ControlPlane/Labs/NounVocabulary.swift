// NounVocabulary: a lab member's body read by the validator of its own noun (SwitchSpec, CableSpec,
// StackSpec from a create body), so a topology document means what the API means, field for field.
import JSON
import LabEngine

public struct NounVocabulary: MemberVocabulary {
    public init() {}

    public func switchFacts(_ body: JSON) throws(MemberRefusal) -> SwitchFacts {
        let spec = try refusal { try SwitchSpec(body: body) }
        return SwitchFacts(name: spec.name, ports: spec.ports)
    }

    public func cableFacts(_ body: JSON) throws(MemberRefusal) -> CableFacts {
        let spec = try refusal { try CableSpec(body: body) }
        func end(_ end: CableEndSpec) -> CableEndFacts {
            CableEndFacts(switchName: end.remote == nil ? end.switchName : nil, port: end.port)
        }
        return CableFacts(name: spec.name, a: end(spec.a), b: end(spec.b))
    }

    public func stackFacts(_ body: JSON) throws(MemberRefusal) -> StackFacts {
        let spec = try refusal { try StackSpec(body: body) }
        return StackFacts(name: spec.name, kind: spec.kind,
                          interfaces: spec.interfaces.map {
                              InterfaceFacts(name: $0.name, switchName: $0.switchName, port: $0.port, vlan: $0.vlan, addresses: $0.addresses, dhcp: $0.dhcp)
                          },
                          routes: spec.routes.map { ($0.to, $0.via) })
    }

    /// The validator's error as a refusal of one field: its path, code and message.
    private func refusal<T>(_ read: () throws -> T) throws(MemberRefusal) -> T {
        do {
            return try read()
        } catch let error as JSONFieldError {
            throw MemberRefusal(field: error.path, code: "invalid_field", message: error.description)
        } catch let error as ControlPlaneError {
            switch error {
            case .unprocessableField(let path, let message), .invalidField(let path, let message):
                throw MemberRefusal(field: path, code: error.code, message: message)
            default:
                throw MemberRefusal(field: "", code: error.code, message: error.description)
            }
        } catch {
            throw MemberRefusal(field: "", code: "invalid_field", message: String(describing: error))
        }
    }
}
