// LabPeers: a coordinator's side of a lab spread over hosts. Each peer's share is applied, read,
// reset and deleted through that peer's own public API (the same /v1/labs resource, marked as a
// share), with the token VSQUARE_PEERS gives it. What was last heard from each host is kept here,
// so a lab's view never waits on a peer: a peer that does not answer is `unreachable`, by name.
import HTTPClient
import JSON
import LabEngine
import Posix

final class LabPeers: @unchecked Sendable {
    let book: PeerBook
    /// An apply on a peer waits for its members to run (up to LabManager.readySeconds) and more.
    let applying = HTTPClient(connectSeconds: 2, totalSeconds: 90)
    /// Reads and deletes are quick or the peer is taken for unreachable.
    let asking = HTTPClient(connectSeconds: 1, totalSeconds: 3)
    let lock = Lock()
    /// Lab → host → what that host last said about its share.
    private var heard: [String: [String: HostStatus]] = [:]

    init(book: PeerBook) { self.book = book }

    /// What one host last said about its share of a lab.
    struct HostStatus: Equatable {
        /// `ready`, `degraded`, `applying`, `failed` (its share has members that do not run),
        /// `refused` (it would not take the share) or `unreachable`.
        var state: String
        var host: LabHost
        var message: String?
        /// The share's members as the peer shows them, each with its `host`.
        var members: [JSON] = []
    }

    /// How a request to a peer ended.
    enum Answer {
        case view(JSONObject)
        /// The peer answered with an error: its status and problem.
        case refused(Int, JSONObject)
        /// 404: it holds no such lab.
        case missing
        case unreachable(String)
    }

    func status(_ lab: String) -> [String: HostStatus] { lock.withLock { heard[lab] ?? [:] } }

    func record(_ lab: String, host: String, _ status: HostStatus) { lock.withLock { heard[lab, default: [:]][host] = status } }

    func forget(_ lab: String) { _ = lock.withLock { heard.removeValue(forKey: lab) } }

    /// Hands `host` its share (creating the lab there, or applying the difference).
    func apply(_ lab: String, host: LabHost, members: [LabMember], generation: Int) -> Answer {
        let body: JSON = ["topology": LabMember.document(of: members), "share": ["host": JSON(host.name), "generation": JSON(generation)]]
        return send(applying, "PUT", host, "/v1/labs/" + lab, body)
    }

    func read(_ lab: String, host: LabHost) -> Answer { send(asking, "GET", host, "/v1/labs/" + lab, nil) }

    func reset(_ lab: String, host: LabHost, only: [String]?) -> Answer {
        send(applying, "POST", host, "/v1/labs/\(lab)/reset" + (only.map { "?members=" + $0.joined(separator: ",") } ?? ""), nil)
    }

    /// A POST without a body (a cable's cut or restore) to `path` on `host`.
    func post(_ path: String, host: LabHost) -> Answer { send(asking, "POST", host, path, nil) }

    /// Whether the host no longer holds the share (deleted now, or it had none).
    func delete(_ lab: String, host: LabHost) -> Answer { send(applying, "DELETE", host, "/v1/labs/" + lab, nil) }

    /// Runs a command in a stack on `host` (POST /v1/stacks/{name}/exec there): the same answer as StackManager.exec.
    func exec(host: LabHost, stack: String, argv: [String], stdin: [UInt8], environment: [String: String],
              timeoutSeconds: Double) throws -> JSONObject {
        var body: JSONObject = ["argv": JSON(argv.map { JSON($0) }), "timeout_s": JSON(min(3600, max(0.1, timeoutSeconds)))]
        if !stdin.isEmpty { body["stdin"] = JSON(String(decoding: stdin, as: UTF8.self)) }
        if !environment.isEmpty { body["environment"] = .object(JSONObject(environment.map { ($0.key, JSON($0.value)) })) }
        let client = HTTPClient(connectSeconds: 2, totalSeconds: timeoutSeconds + 10)
        switch send(client, "POST", host, "/v1/stacks/\(stack)/exec", .object(body)) {
        case .view(let answer): return answer
        case .missing: throw ControlPlaneError.notFound(kind: "stack", name: stack)
        case .refused(let status, let problem): throw ControlPlaneError.peerFailed(host: host.name, message: LabPeers.refusal(status, problem))
        case .unreachable(let why): throw ControlPlaneError.peerFailed(host: host.name, message: why)
        }
    }

    /// A peer's refusal in one line: its status, code and detail (and its first problem, if it lists them).
    static func refusal(_ status: Int, _ problem: JSONObject) -> String {
        var text = "\(status) \(problem["code"]?.stringValue ?? "error"): \(problem["detail"]?.stringValue ?? "")"
        if let first = problem["problems"]?.arrayValue?.first {
            text += " (\(first["pointer"]?.stringValue ?? ""): \(first["message"]?.stringValue ?? ""))"
        }
        return text
    }

    private func send(_ client: HTTPClient, _ method: String, _ host: LabHost, _ path: String, _ body: JSON?) -> Answer {
        guard let api = host.api, let peer = book.peer(url: api) else {
            return .unreachable("\(host.api ?? "-") is not in this vsquared's VSQUARE_PEERS")
        }
        do {
            let response = try client.send(method, peer.url + path, token: peer.token, json: body)
            let object = response.json?.objectValue ?? [:]
            switch response.status {
            case 200..<300: return .view(object)
            case 404 where object["code"]?.stringValue == "not_found": return .missing
            default: return .refused(response.status, object)
            }
        } catch {
            return .unreachable(error.description)
        }
    }
}
