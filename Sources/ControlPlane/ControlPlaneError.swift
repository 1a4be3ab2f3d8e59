// ControlPlaneError: what a manager refuses, with the stable code clients see. HTTPAPI/Problem.swift
// maps each case to its HTTP status; nothing else decides that.
import JSON
import LabEngine
import Posix

public enum ControlPlaneError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No such resource (404).
    case notFound(kind: String, name: String)
    /// The name is already in use (409).
    case nameTaken(kind: String, name: String)
    /// The request conflicts with the current state, e.g. a VLAN still in use (409).
    case conflict(code: String, message: String)
    /// Well-formed but impossible, e.g. a port beyond the switch's size (422).
    case unprocessable(code: String, message: String)
    /// The worker that holds the observed state does not answer (503).
    case workerUnavailable(name: String, reason: String)
    /// A field broke a rule (400).
    case invalidField(path: String, message: String)
    /// A field is well-formed but impossible with the rest of the request or with what exists,
    /// e.g. a stack interface naming a switch there is none of (422).
    case unprocessableField(path: String, message: String)
    /// A topology document with problems, every one of them (422 `invalid_topology`).
    case invalidTopology(problems: [LabProblem])
    /// An experiment document with problems: every one of them, each at its pointer.
    case invalidExperiment(problems: [LabProblem])
    /// The caller's If-Match names a generation the lab has moved on from (412 `generation_mismatch`).
    case staleGeneration(current: Int)
    /// A step of a lab's apply failed; the lab was put back to `generation` (422 `apply_failed`).
    case applyFailed(failures: [JSON], generation: Int)
    /// Over a quota (`quota_exceeded`, naming it): 429 when that many are in use at once, worth a
    /// retry; 403 when it can never be (a lab too big, a detached process under a limit of commands at once).
    case quotaExceeded(quota: Quotas.Name, limit: Int, wanted: Int, atOnce: Bool)
    /// Another vsquared (a host of the lab) did not do what was asked of it (502 `peer_failed`).
    case peerFailed(host: String, message: String)
    /// Only a peer of VSQUARE_PEERS may hand this vsquared a share of a lab (403 `not_a_peer`).
    case notAPeer(message: String)

    public var code: String {
        switch self {
        case .notFound: return "not_found"
        case .nameTaken: return "name_taken"
        case .conflict(let code, _), .unprocessable(let code, _): return code
        case .workerUnavailable: return "worker_unavailable"
        case .invalidField: return "invalid_field"
        case .unprocessableField: return "unprocessable"
        case .invalidTopology: return "invalid_topology"
        case .invalidExperiment: return "invalid_experiment"
        case .staleGeneration: return "generation_mismatch"
        case .applyFailed: return "apply_failed"
        case .quotaExceeded: return "quota_exceeded"
        case .peerFailed: return "peer_failed"
        case .notAPeer: return "not_a_peer"
        }
    }

    public var description: String {
        switch self {
        case .notFound(let kind, let name): return "there is no \(kind) named \(name)"
        case .nameTaken(let kind, let name): return "a \(kind) named \(name) already exists"
        case .conflict(_, let message), .unprocessable(_, let message): return message
        case .workerUnavailable(let name, let reason): return "the worker of \(name) does not answer: \(reason)"
        case .invalidField(_, let message), .unprocessableField(_, let message): return message
        case .invalidExperiment(let problems):
            return "the experiment has \(problems.count) problem\(problems.count == 1 ? "" : "s"): " + problems.prefix(3).map(\.description).joined(separator: "; ")
        case .invalidTopology(let problems):
            return "the topology has \(problems.count) problem\(problems.count == 1 ? "" : "s"): " + problems.prefix(3).map(\.description).joined(separator: "; ")
        case .staleGeneration(let current):
            return "the lab is at generation \(current), not the one If-Match names; GET it again and redo the change"
        case .applyFailed(let failures, let generation):
            return "the new document could not be applied (\(failures.compactMap { $0["member"]?.stringValue }.joined(separator: ", ")) failed); "
                + "the lab is back at generation \(generation)"
        case .quotaExceeded(let quota, let limit, let wanted, let atOnce):
            if atOnce { return "quota \(quota.rawValue) is \(limit) at once; that many are in use" }
            if quota.isConcurrent { return "quota \(quota.rawValue) is \(limit) at once: a detached process outlives its request and cannot be counted" }
            return "quota \(quota.rawValue) is \(limit) per lab; this would make \(wanted)"
        case .peerFailed(let host, let message): return "host \(host) did not do it: \(message)"
        case .notAPeer(let message): return message
        }
    }
}

extension ControlPlaneError {
    /// 422 path_too_long unless `path` fits in a unix socket address (a worker could never bind it).
    static func checkSocketPath(_ path: String) throws(ControlPlaneError) {
        guard path.utf8.count <= SocketAddress.maxUnixPathLength else {
            throw .unprocessable(code: "path_too_long",
                                 message: "the socket \(path) would be longer than \(SocketAddress.maxUnixPathLength) bytes; use a shorter name or VSQUARE_RUN")
        }
    }
}
