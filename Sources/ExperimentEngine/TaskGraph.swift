// TaskGraph: an experiment's tasks and what each is `after`, as a graph: who depends on whom, a
// cycle if there is one (named as a path, `a → b → c → a`), and a topological order. Pure: the
// analyzer reports with it and the scheduler runs by it.

public struct TaskGraph: Sendable {
    /// Task ids in document order.
    public let ids: [String]
    /// For each task, the tasks it is after (known ones only, each once, in document order).
    public let prerequisites: [String: [String]]
    /// For each task, the tasks that are after it, in document order.
    public let dependents: [String: [String]]

    /// `tasks` as (id, after) pairs; ids after the first of a kind, and `after` entries naming no
    /// task, are the analyzer's to report and are left out here.
    public init(_ tasks: [(id: String, after: [String])]) {
        var ids: [String] = []
        var seen: Set<String> = []
        for task in tasks where seen.insert(task.id).inserted { ids.append(task.id) }
        var prerequisites: [String: [String]] = [:]
        var dependents: [String: [String]] = Dictionary(uniqueKeysWithValues: ids.map { ($0, []) })
        var done: Set<String> = []
        for task in tasks where done.insert(task.id).inserted {
            var unique: [String] = []
            for before in task.after where seen.contains(before) && !unique.contains(before) { unique.append(before) }
            prerequisites[task.id] = unique
        }
        for id in ids { for before in prerequisites[id] ?? [] { dependents[before, default: []].append(id) } }
        self.ids = ids
        self.prerequisites = prerequisites
        self.dependents = dependents
    }

    /// A cycle through `after`, as the path that closes it (`[a, b, c, a]`: a is after c, which is
    /// after b, which is after a — written in the order the tasks would have to run); nil if none.
    public func cycle() -> [String]? {
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        var path: [String] = []
        func visit(_ id: String) -> [String]? {
            marks[id] = .visiting
            path.append(id)
            for next in dependents[id] ?? [] {
                switch marks[next] {
                case .visiting:
                    let start = path.firstIndex(of: next)!
                    return Array(path[start...]) + [next]
                case .done:
                    continue
                case nil:
                    if let found = visit(next) { return found }
                }
            }
            path.removeLast()
            marks[id] = .done
            return nil
        }
        for id in ids where marks[id] == nil {
            if let found = visit(id) { return found }
        }
        return nil
    }

    /// Every task after `id`, directly or not.
    public func descendants(of id: String) -> Set<String> { reachable(from: id, along: dependents) }

    /// Every task `id` is after, directly or not.
    public func ancestors(of id: String) -> Set<String> { reachable(from: id, along: prerequisites) }

    private func reachable(from id: String, along edges: [String: [String]]) -> Set<String> {
        var found: Set<String> = []
        var queue = edges[id] ?? []
        while let next = queue.popLast() {
            if found.insert(next).inserted { queue += edges[next] ?? [] }
        }
        return found
    }
}
