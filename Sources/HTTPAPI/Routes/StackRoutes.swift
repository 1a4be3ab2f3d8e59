// /v1/stacks: network-namespace nodes on the virtual Ethernet (create, read with live state,
// change addresses/routes/forwarding/host forwards, delete) and commands run inside them.
import CableEngine
import ControlPlane
import JSON
import Posix

public enum StackRoutes {
    public static func register(on router: inout RouterBuilder, stacks: StackManager, quotas: QuotaLedger) {
        router.add("POST", "/v1/stacks") { request in
            .json(.object(try stacks.create(try StackSpec(body: try request.json()))), status: 201)
        }
        router.add("GET", "/v1/stacks") { request in .json(["stacks": JSON(try request.inLab(stacks.list()).map(JSON.object))]) }
        router.add("GET", "/v1/stacks/{name}") { request in
            .json(.object(try stacks.get(try request.resourceName("name", kind: "stack"))))
        }
        router.add("PATCH", "/v1/stacks/{name}") { request in
            let name = try request.resourceName("name", kind: "stack")
            try request.refuseLabMember(.stack, name, stacks.membership)
            var reader = try JSONReader(try request.json())
            let routes = reader.contains("routes") ? try StackSpec.routes(&reader) : nil
            let forwarding = reader.contains("forwarding") ? try reader.bool("forwarding") : nil
            let forwards = reader.contains("host_forwards") ? try StackSpec.hostForwards(&reader) : nil
            var addresses: [String: [String]] = [:]
            if var interfaces = try reader.optionalObject("interfaces") {
                for key in interfaces.object.keys {
                    var one = try interfaces.object(key)
                    addresses[key] = try StackSpec.prefixes(&one, "addresses")
                    try one.finish()
                }
                try interfaces.finish()
            }
            try reader.finish()
            return .json(.object(try stacks.update(name) { spec in
                if let routes { spec.routes = routes }
                if let forwarding { spec.forwarding = forwarding }
                if let forwards {
                    guard spec.kind == "slirp" else {
                        throw ControlPlaneError.unprocessableField(path: "host_forwards", message: "only a slirp stack has host forwards")
                    }
                    spec.hostForwards = forwards
                }
                for (interface, list) in addresses {
                    guard let index = spec.interfaces.firstIndex(where: { $0.name == interface }) else {
                        throw ControlPlaneError.unprocessableField(path: "interfaces.\(interface)", message: "stack \(name) has no interface \(interface)")
                    }
                    spec.interfaces[index].addresses = list
                }
            }))
        }
        router.add("DELETE", "/v1/stacks/{name}") { request in
            let name = try request.resourceName("name", kind: "stack")
            try request.refuseLabMember(.stack, name, stacks.membership)
            try stacks.delete(name)
            return .noContent
        }
        router.add("POST", "/v1/stacks/{name}/exec") { request in
            let name = try request.resourceName("name", kind: "stack")
            var reader = try JSONReader(try request.json())
            let argv = try reader.array("argv") { (item, path) throws(JSONFieldError) in
                guard let text = item.stringValue else { throw JSONFieldError(path: path, rule: "must be a string") }
                return text
            }
            guard !argv.isEmpty else { throw JSONFieldError(path: "argv", rule: "must name a program") }
            let stdin = Array((try reader.optionalString("stdin") ?? "").utf8)
            var environment: [String: String] = [:]
            if let env = try reader.optionalObject("env") {
                for (key, value) in env.object {
                    guard let text = value.stringValue else { throw JSONFieldError(path: "env.\(key)", rule: "must be a string") }
                    environment[key] = text
                }
            }
            let timeout = try reader.optionalDouble("timeout_s", in: 0.1...3600) ?? 30
            let detach = try reader.bool("detach", default: false)
            try reader.finish()
            let limits = quotas.quotas(request.principal, lab: stacks.membership?.lab(of: .stack, name))
            if detach {
                guard stdin.isEmpty else { throw ControlPlaneError.unprocessableField(path: "stdin", message: "a detached process reads no stdin") }
                // A process that outlives its request cannot be counted against a limit of commands at once.
                if let limit = limits[.execs] { throw ControlPlaneError.quotaExceeded(quota: .execs, limit: limit, wanted: limit + 1, atOnce: false) }
                return .json(.object(try stacks.start(name, argv: argv, environment: environment)), status: 201)
            }
            let release = try quotas.take(.execs, for: request.principal, limit: limits[.execs])
            defer { release() }
            return .json(.object(try stacks.exec(name, argv: argv, stdin: stdin, environment: environment, timeoutSeconds: timeout,
                                                 outputCap: limits[.execOutputBytes] ?? StackManager.execOutputCap)))
        }
        router.add("GET", "/v1/stacks/{name}/processes") { request in
            .json(["processes": JSON(try stacks.processList(try request.resourceName("name", kind: "stack")))])
        }
        router.add("GET", "/v1/stacks/{name}/processes/{id}") { request in
            let name = try request.resourceName("name", kind: "stack")
            return .json(.object(try stacks.process(name, try request.intParameter("id", in: 1...Int(Int32.max), kind: "process"))))
        }
        router.add("DELETE", "/v1/stacks/{name}/processes/{id}") { request in
            let name = try request.resourceName("name", kind: "stack")
            return .json(.object(try stacks.stopProcess(name, try request.intParameter("id", in: 1...Int(Int32.max), kind: "process"))))
        }
    }
}
