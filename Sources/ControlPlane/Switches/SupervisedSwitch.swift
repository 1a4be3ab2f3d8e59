// SupervisedSwitch: one switch as the control plane holds it — its spec (desired state), its
// directory, and the supervised worker that runs it (whose recipe follows the spec).
import Glibc
import JSON
import Posix

final class SupervisedSwitch {
    var spec: SwitchSpec {
        didSet { worker.recipe = SupervisedSwitch.recipe(spec, directory: directory, configuration: configuration, carrier: carrier) }
    }
    let directory: String
    let configuration: SwitchManagerConfiguration
    let worker: SupervisedWorker
    let carrier: CarrierBook

    init(spec: SwitchSpec, directory: String, configuration: SwitchManagerConfiguration, carrier: CarrierBook) {
        self.spec = spec
        self.directory = directory
        self.configuration = configuration
        self.carrier = carrier
        worker = SupervisedWorker(recipe: SupervisedSwitch.recipe(spec, directory: directory, configuration: configuration, carrier: carrier))
    }

    var lifecycle: WorkerLifecycle { worker.lifecycle }
    var client: WorkerClient { worker.client }

    /// How to run this switch's worker: vsquare-switch with the spec's size, mode and aging, then
    /// the VLANs and port settings applied through its control socket (SwitchConfigPlan), and the
    /// cables cut at it named again (CarrierBook).
    static func recipe(_ spec: SwitchSpec, directory: String, configuration: SwitchManagerConfiguration,
                       carrier: CarrierBook) -> WorkerRecipe {
        var arguments = ["--dir", directory, "--ports", String(spec.ports), "--name", spec.name,
                         "--mode", SwitchSpec.octal(spec.socketMode), "--mac-aging", String(spec.macAgingSeconds)]
        if spec.hub { arguments.append("--hub") }
        if let group = spec.socketGroup { arguments += ["--group", group] }
        if let owner = spec.socketOwner { arguments += ["--owner", owner] }
        return WorkerRecipe(
            kind: "switch", name: spec.name, binary: configuration.switchBinary, arguments: arguments,
            controlPath: directory + "/control", logPath: configuration.logDirectory + "/switch-" + spec.name + ".log",
            prepare: { FileSystem.removeTree(directory) },
            configure: { client in
                try SupervisedSwitch.converge(client, to: spec)
                for cable in carrier.cutCables(at: spec.name) { try client.call("cable.carrier", ["cable": JSON(cable), "up": false]) }
            })
    }

    /// Makes the worker's configuration equal the spec, op by op.
    static func converge(_ client: WorkerClient, to spec: SwitchSpec) throws {
        let observed = ObservedSwitchConfig(config: try client.call("config.get"), vlans: try client.call("vlans"),
                                            ports: try client.call("ports"))
        for step in SwitchConfigPlan.plan(spec: spec, observed: observed) { try client.call(step.op, step.parameters) }
    }
}
