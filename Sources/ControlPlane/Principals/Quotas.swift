// Quotas: how much a principal (a token) or each student of a class may use. Static ones bound
// what a class's template builds in every student's lab (switches, their ports, cables, stacks):
// over them is 403 quota_exceeded before anything is made. Concurrent ones bound use (commands
// running at once, event streams open): over them is 429 quota_exceeded. exec_output_bytes cuts a
// command's output (its answer says truncated). A limit left out is no limit.
import JSON
import LabEngine

public struct Quotas: Sendable, Equatable {
    public enum Name: String, Sendable, CaseIterable {
        case switches, ports, cables, stacks
        case execs
        case execOutputBytes = "exec_output_bytes"
        case eventStreams = "event_streams"

        /// Bounds use at a moment (429 when over), not what is built (403).
        public var isConcurrent: Bool { self == .execs || self == .eventStreams }

        /// Largest value a quota may be set to.
        var ceiling: Int { self == .execOutputBytes ? 1 << 20 : 100_000 }
    }

    public var limits: [Name: Int] = [:]

    public init(_ limits: [Name: Int] = [:]) { self.limits = limits }

    public subscript(name: Name) -> Int? {
        get { limits[name] }
        set { limits[name] = newValue }
    }

    public var isEmpty: Bool { limits.isEmpty }

    /// The tighter of each limit.
    public func merged(with other: Quotas?) -> Quotas {
        guard let other else { return self }
        var merged = self
        for (name, limit) in other.limits { merged.limits[name] = min(limit, limits[name] ?? limit) }
        return merged
    }

    public var json: JSON { .object(JSONObject(Name.allCases.compactMap { name in limits[name].map { (name.rawValue, JSON($0)) } })) }

    /// `{switches?, …}` as a body gives it; only `allowed` names may appear. 400 for anything else.
    public init(reading json: JSON, path: String, allowed: [Name] = Name.allCases) throws(JSONFieldError) {
        var reader = try JSONReader(json, path: path)
        for name in allowed {
            if let limit = try reader.optionalInt(name.rawValue, in: 0...name.ceiling) { limits[name] = limit }
        }
        try reader.finish()
    }

    /// The quotas `json` wrote.
    public init(stored json: JSON?) {
        for name in Name.allCases { if let limit = json?[name.rawValue]?.intValue { limits[name] = limit } }
    }

    /// What one lab of an analyzed template holds, against the static quotas: the first one it goes over.
    public func excess(of template: LabAnalysis) -> (name: Name, limit: Int, wanted: Int)? {
        let wanted: [(Name, Int)] = [
            (.switches, template.switches.count), (.ports, template.switches.reduce(0) { $0 + $1.ports }),
            (.cables, template.cables.count), (.stacks, template.stacks.count),
        ]
        for (name, count) in wanted { if let limit = limits[name], count > limit { return (name, limit, count) } }
        return nil
    }
}
