// The whole API surface in one place: every route file registers here, in a fixed order, and
// the dashboard's static files answer GETs that match no route.
import ControlPlane
import Log

public enum APIRouter {
    public static func make(daemon: DaemonInfo, staticFiles: StaticFiles?, log: Log) -> Router {
        var builder = RouterBuilder()
        SystemRoutes.register(on: &builder, daemon: daemon)
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
        return builder.build(log: log)
    }
}
