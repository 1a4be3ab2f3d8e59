// ErrorCode: the single list of stable error codes that clients see in problem+json bodies
// (workers use the same words on their control sockets). api/openapi.yaml lists the same codes;
// a test holds the two lists equal.

public enum ErrorCode: String, CaseIterable, Sendable {
    case notFound = "not_found"
    case methodNotAllowed = "method_not_allowed"
    case payloadTooLarge = "payload_too_large"
    case unsupportedMediaType = "unsupported_media_type"
    case malformedJSON = "malformed_json"
    case malformedYAML = "malformed_yaml"
    case invalidField = "invalid_field"
    case invalidFilter = "invalid_filter"
    case unauthorized = "unauthorized"
    case forbidden = "forbidden"
    case nameTaken = "name_taken"
    case vlanInUse = "vlan_in_use"
    case vlanExists = "vlan_exists"
    case switchInUse = "switch_in_use"
    case portInUse = "port_in_use"
    case conflict = "conflict"
    case unprocessable = "unprocessable"
    case pathTooLong = "path_too_long"
    case invalidTopology = "invalid_topology"
    case invalidExperiment = "invalid_experiment"
    case runFinished = "run_finished"
    case applyFailed = "apply_failed"
    case labMember = "lab_member"
    case labBusy = "lab_busy"
    case quotaExceeded = "quota_exceeded"
    case generationMismatch = "generation_mismatch"
    case workerUnavailable = "worker_unavailable"
    case internalError = "internal"
}
