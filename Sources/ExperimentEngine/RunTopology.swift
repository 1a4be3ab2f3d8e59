// RunTopology: the lab document one run of an experiment builds. The topology as declared, plus
// the uplink's slirp stack when the experiment has one, and a seed for every cable that declares
// none, drawn from the run's seed: the same seed gives every cable the same random source, so a
// lossy cable drops the same frames again.
import JSON
import Posix

public enum RunTopology {
    public static func document(_ topology: JSON, settings: ExperimentSettings, seed: UInt64, labels: JSONObject) -> JSON {
        var document = topology.objectValue ?? [:]
        var declared = document["labels"]?.objectValue ?? [:]
        for (key, value) in labels { declared[key] = value }
        document["labels"] = .object(declared)
        if let cables = document["cables"]?.arrayValue {
            document["cables"] = .array(cables.map { cable in
                guard var body = cable.objectValue, body["seed"] == nil, let name = body["name"]?.stringValue else { return cable }
                body["seed"] = JSON(String(cableSeed(seed, cable: name)))
                return .object(body)
            })
        }
        if let uplink = settings.uplinkSwitch {
            var stacks = document["stacks"]?.arrayValue ?? []
            stacks.append(["name": JSON(ExperimentAnalyzer.uplinkName), "kind": "slirp",
                           "interfaces": [["name": "wan", "switch": JSON(uplink)]]])
            document["stacks"] = .array(stacks)
        }
        return .object(document)
    }

    /// A cable's seed from the run's: stable, distinct per cable, within what a cable accepts (1 to 2⁶³−1).
    public static func cableSeed(_ seed: UInt64, cable: String) -> UInt64 {
        max(1, StableHash.fnv1a("\(seed)/\(cable)") >> 1)
    }
}
