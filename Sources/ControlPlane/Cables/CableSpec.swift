// CableSpec: what a user asked a cable to be — which two switch ports it joins, the impairments
// of each direction, the random seed (reported, so a run can be repeated) and whether it is cut.
import CableEngine
import JSON

public struct CableEndSpec: Equatable, Sendable {
    public var switchName: String
    /// The port asked for; nil takes any free one.
    public var port: Int?

    public init(switchName: String, port: Int?) {
        self.switchName = switchName
        self.port = port
    }

    public var json: JSONObject { ["switch": JSON(switchName), "port": port.map { JSON($0) } ?? .null] }
}

public struct CableSpec: Equatable, Sendable {
    public var name: String
    public var description = ""
    public var a: CableEndSpec
    public var b: CableEndSpec
    public var aToB = CableImpairments.none
    public var bToA = CableImpairments.none
    public var seed: UInt64 = UInt64.random(in: 1...UInt64(Int64.max))
    public var cut = false
    public var generation = 1
    public var createdAt = ""

    public init(name: String, a: CableEndSpec, b: CableEndSpec) {
        self.name = name
        self.a = a
        self.b = b
    }

    /// The store's encoding.
    public var storedJSON: JSON {
        ["name": JSON(name), "description": JSON(description), "a": .object(a.json), "b": .object(b.json),
         "a_to_b": .object(aToB.json), "b_to_a": .object(bToA.json), "seed": JSON(String(seed)), "cut": JSON(cut),
         "generation": JSON(generation), "created_at": JSON(createdAt)]
    }

    public init?(stored json: JSON) {
        guard let name = json["name"]?.stringValue, let aSwitch = json["a"]?["switch"]?.stringValue,
              let bSwitch = json["b"]?["switch"]?.stringValue else { return nil }
        self.init(name: name, a: CableEndSpec(switchName: aSwitch, port: json["a"]?["port"]?.intValue),
                  b: CableEndSpec(switchName: bSwitch, port: json["b"]?["port"]?.intValue))
        description = json["description"]?.stringValue ?? ""
        for (key, direction) in [("a_to_b", \CableSpec.aToB), ("b_to_a", \CableSpec.bToA)] {
            if let stored = json[key], var reader = try? JSONReader(stored),
               let impairments = try? CableImpairments.none.merging(&reader) {
                self[keyPath: direction] = impairments
            }
        }
        seed = json["seed"]?.stringValue.flatMap(UInt64.init) ?? seed
        cut = json["cut"]?.boolValue ?? false
        generation = json["generation"]?.intValue ?? 1
        createdAt = json["created_at"]?.stringValue ?? ""
    }
}
