// The whole API surface in one place: every route file registers here, in a fixed order, and
// the dashboard's static files answer GETs that match no route.
import ControlPlane
import Log

/// What the routes need from the rest of vsquared.
public struct APIContext: Sendable {
    public var daemon: DaemonInfo
    public var switches: SwitchManager
    public var cables: CableManager
    public var stacks: StackManager
    public var labs: LabManager
    public var experiments: ExperimentManager
    public var tokens: TokenManager
    public var classes: ClassManager
    public var audit: AuditLog
    public var events: EventBus
    public var httpMetrics: HTTPMetrics
    public var staticFiles: StaticFiles?

    public init(daemon: DaemonInfo, switches: SwitchManager, cables: CableManager, stacks: StackManager, labs: LabManager,
                experiments: ExperimentManager, tokens: TokenManager, classes: ClassManager, audit: AuditLog, events: EventBus, httpMetrics: HTTPMetrics,
                staticFiles: StaticFiles?) {
        self.daemon = daemon
        self.switches = switches
        self.cables = cables
        self.stacks = stacks
        self.labs = labs
        self.experiments = experiments
        self.tokens = tokens
        self.classes = classes
        self.audit = audit
        self.events = events
        self.httpMetrics = httpMetrics
        self.staticFiles = staticFiles
    }
}

public enum APIRouter {
    public static func make(_ context: APIContext, log: Log) -> Router {
        var builder = RouterBuilder()
        SystemRoutes.register(on: &builder, daemon: context.daemon)
        SwitchRoutes.register(on: &builder, switches: context.switches, cables: context.cables)
        PortRoutes.register(on: &builder, switches: context.switches)
        VLANRoutes.register(on: &builder, switches: context.switches)
        MACRoutes.register(on: &builder, switches: context.switches)
        CableRoutes.register(on: &builder, cables: context.cables)
        CaptureRoutes.register(on: &builder, switches: context.switches, cables: context.cables)
        let quotas = QuotaLedger(classes: context.classes.membership)
        StackRoutes.register(on: &builder, stacks: context.stacks, quotas: quotas)
        LabRoutes.register(on: &builder, labs: context.labs)
        ExperimentRoutes.register(on: &builder, experiments: context.experiments)
        MetricsRoutes.register(on: &builder, switches: context.switches, cables: context.cables, stacks: context.stacks,
                               http: context.httpMetrics)
        EventRoutes.register(on: &builder, events: context.events, tokens: context.tokens, quotas: quotas,
                             visible: ScopeGate.visible(labs: context.labs.membership, classes: context.classes.membership))
        TokenRoutes.register(on: &builder, tokens: context.tokens)
        ClassRoutes.register(on: &builder, classes: context.classes)
        AuditRoutes.register(on: &builder, audit: context.audit)
        let staticFiles = context.staticFiles
        builder.add("GET", "/") { _ in
            guard let response = staticFiles?.response(for: "/") else {
                throw Problem(.notFound, detail: "the dashboard is not installed (no web-static directory)")
            }
            return response
        }
        if let staticFiles {
            builder.setFallback { request in
                request.path.hasPrefix("/v1/") ? nil : staticFiles.response(for: request.path)
            }
        }
        builder.setGate(ScopeGate.gate(labs: context.labs.membership, classes: context.classes.membership))
        return builder.build(log: log)
    }
}
