// ControlOp: one op of a worker's JSON control socket — name, parameter summary, handler — and
// the errors a handler throws. Each worker keeps a registry of its ops beside their code (OVS
// unixctl style); ControlServer runs them.
import JSON

public struct ControlOp<Context: AnyObject>: Sendable {
    public let name: String
    /// The parameters, as `help` shows them.
    public let parameters: String
    public let summary: String
    public let handler: @Sendable (Context, inout JSONReader) throws -> JSONObject

    public init(name: String, parameters: String, summary: String,
                handler: @escaping @Sendable (Context, inout JSONReader) throws -> JSONObject) {
        self.name = name
        self.parameters = parameters
        self.summary = summary
        self.handler = handler
    }
}

/// An error reply: a stable `code` (the HTTP API's vocabulary) and a message for people.
public struct ControlError: Error, Equatable, Sendable {
    public let code: String
    public let message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// Errors that know their control-protocol code (a worker's own rule violations).
public protocol ControlCodedError: Error {
    var code: String { get }
    var description: String { get }
}
