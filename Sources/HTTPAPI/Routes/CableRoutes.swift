// /v1/cables: cables between switch ports, their impairments (PATCH changes only the fields named;
// null turns one off), cut and restore, and their counters.
import CableEngine
import ControlPlane
import JSON
import Posix

public enum CableRoutes {
    public static func register(on router: inout RouterBuilder, cables: CableManager) {
        router.add("POST", "/v1/cables") { request in
            .json(.object(try cables.create(try CableSpec(body: try request.json()))), status: 201)
        }
        router.add("GET", "/v1/cables") { request in
            .json(["cables": JSON(try request.inLab(cables.list()).map(JSON.object))])
        }
        router.add("GET", "/v1/cables/{name}") { request in
            .json(.object(try cables.get(try request.resourceName("name", kind: "cable"))))
        }
        router.add("PATCH", "/v1/cables/{name}") { request in
            let name = try request.resourceName("name", kind: "cable")
            try request.refuseLabMember(.cable, name, cables.membership)
            var reader = try JSONReader(try request.json())
            let description = try reader.optionalString("description")
            var impairments = try reader.optionalObject("impairments")
            for fixed in ["name", "a", "b", "seed"] where reader.contains(fixed) {
                throw ControlPlaneError.unprocessable(code: "unprocessable",
                                                      message: "`\(fixed)` cannot be changed; delete the cable and create it again")
            }
            try reader.finish()
            return .json(.object(try cables.update(name) { spec in
                if let description { spec.description = description }
                if impairments != nil { try spec.applyImpairments(&impairments!) }
            }))
        }
        router.add("DELETE", "/v1/cables/{name}") { request in
            let name = try request.resourceName("name", kind: "cable")
            try request.refuseLabMember(.cable, name, cables.membership)
            try cables.delete(name)
            return .noContent
        }
        router.add("POST", "/v1/cables/{name}/cut") { request in
            .json(.object(try cables.update(try request.resourceName("name", kind: "cable")) { $0.cut = true }))
        }
        router.add("POST", "/v1/cables/{name}/restore") { request in
            .json(.object(try cables.update(try request.resourceName("name", kind: "cable")) { $0.cut = false }))
        }
        router.add("GET", "/v1/cables/{name}/metrics") { request in
            .json(.object(WorkerReply.body(try cables.ask(try request.resourceName("name", kind: "cable"), "counters"))))
        }
    }
}
