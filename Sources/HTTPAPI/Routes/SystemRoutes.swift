// System routes: /v1/health (liveness plus store check, never behind auth) and /v1/version.
import ControlPlane
import JSON

public enum SystemRoutes {
    public static func register(on router: inout RouterBuilder, daemon: DaemonInfo) {
        router.add("GET", "/v1/health") { _ in
            let storeOK = daemon.store.isHealthy()
            let body: JSON = [
                "status": JSON(storeOK ? "ok" : "degraded"),
                "version": JSON(VSquareVersion.current),
                "uptime_s": JSON(daemon.uptimeSeconds),
                "started_at": JSON(daemon.startedAt),
                "store": ["ok": JSON(storeOK)],
            ]
            return .json(body, status: storeOK ? 200 : 503)
        }
        router.add("GET", "/v1/version") { _ in
            .json([
                "version": JSON(VSquareVersion.current),
                "api": "v1",
                "schema_version": JSON(Store.latestVersion),
                "instance": JSON(daemon.scope.prefix),
            ])
        }
    }
}
