// Switch specs: the engine's rules applied to desired state, the store encoding, and the plan
// that brings a worker's configuration to the spec.
@testable import ControlPlane
import JSON
import LabEngine
import SwitchEngine
import Testing

@Suite struct SwitchSpecTests {
    func labSpec() throws -> SwitchSpec {
        var spec = SwitchSpec(name: "lab")
        spec.ports = 8
        try spec.change { (engine: inout SwitchEngine) throws(SwitchEngineError) in
            try engine.createVLAN(10)
            try engine.setVLANMembers(10, untagged: [1, 2], tagged: [8])
            try engine.setPort(3, PortChange(enabled: false))
        }
        return spec
    }

    @Test func changesGoThroughTheEnginesRules() throws {
        var spec = try labSpec()
        #expect(spec.vlans == [1, 10])
        #expect(spec.setting(of: 1) == PortSetting(untaggedVLAN: 10))
        #expect(spec.setting(of: 8) == PortSetting(taggedVLANs: [10]))
        #expect(spec.setting(of: 3).enabled == false)
        #expect(spec.setting(of: 4) == .standard)
        let before = spec
        #expect(throws: ControlPlaneError.conflict(code: "vlan_in_use", message: "VLAN 10 is in use by ports 1, 2, 8")) {
            try spec.change { (engine: inout SwitchEngine) throws(SwitchEngineError) in try engine.deleteVLAN(10) }
        }
        #expect(spec == before, "a refused change changes nothing")
    }

    @Test func roundTripsThroughTheStoreEncoding() throws {
        var spec = try labSpec()
        spec.description = "a lab"
        spec.socketMode = 0o660
        spec.socketGroup = "kvm"
        spec.generation = 7
        #expect(SwitchSpec(stored: try JSON.parse(spec.storedJSON.serialized())) == spec)
    }

    @Test func planCreatesThenConfiguresThenDeletes() throws {
        let spec = try labSpec()
        let observed = ObservedSwitchConfig(hub: false, macAgingSeconds: 300, appliedGeneration: 0, vlans: [1, 20],
                                            ports: [2: PortSetting(untaggedVLAN: 20), 5: .standard])
        let plan = SwitchConfigPlan.plan(spec: spec, observed: observed).map(\.op)
        #expect(plan == ["vlan.create", "port.set", "port.set", "port.set", "port.set", "vlan.delete", "config.set"])
        let ports = SwitchConfigPlan.plan(spec: spec, observed: observed).filter { $0.op == "port.set" }.compactMap { $0.parameters["port"]?.intValue }
        #expect(ports == [1, 2, 3, 8], "port 5 is already standard")
    }

    @Test func aConvergedWorkerNeedsNoOps() throws {
        let spec = try labSpec()
        let observed = ObservedSwitchConfig(hub: false, macAgingSeconds: 300, appliedGeneration: spec.generation, vlans: spec.vlans,
                                            ports: spec.portSettings)
        #expect(SwitchConfigPlan.plan(spec: spec, observed: observed).isEmpty)
    }

    @Test func namesFollowTheRule() {
        for good in ["a", "lab-1", "0", String(repeating: "x", count: 63)] { #expect(ResourceName.isValid(good), "\(good)") }
        for bad in ["", "-a", "A", "a_b", "a.b", "é", String(repeating: "x", count: 64), "a b"] { #expect(!ResourceName.isValid(bad), "\(bad)") }
    }
}
