// swift-tools-version:6.0
// vsquare: Virtual Distributed Ethernet as supervised worker processes driven over HTTP.
// Module layering (dependencies point down): vsquared → HTTPAPI → ControlPlane → {JSON, Posix, Log, C shims}.
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]
/// The per-frame modules: release builds skip dynamic exclusivity checks (a measurable share of
/// the forwarding loop's user time); debug builds and tests keep them.
let hotPath: [SwiftSetting] = strict + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "vsquare",
    products: [
        .executable(name: "vsquared", targets: ["vsquared"]),
        .executable(name: "vsquare-switch", targets: ["vsquare-switch"]),
        .executable(name: "vsquare-cable", targets: ["vsquare-cable"]),
    ],
    targets: [
        // C libraries, each only behind its shim module.
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .systemLibrary(name: "CJansson", pkgConfig: "jansson", providers: [.apt(["libjansson-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        // libslirp's pkg-config file wants glib's development files; its header needs none, so no pkgConfig here.
        .systemLibrary(name: "CSlirp", providers: [.apt(["libslirp-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .target(name: "CLinux", cSettings: [.define("_GNU_SOURCE")]),

        .target(name: "Posix", dependencies: ["CLinux"], swiftSettings: strict),
        .target(name: "Log", dependencies: ["Posix"], swiftSettings: strict),
        .target(name: "JSON", dependencies: ["CJansson"], swiftSettings: strict),
        .target(name: "YAML", dependencies: ["CYAML", "JSON"], swiftSettings: strict),
        .target(name: "HTTPClient", dependencies: ["CCurl", "JSON"], swiftSettings: strict),
        .target(name: "PacketCapture", dependencies: ["CPcap"], swiftSettings: strict),
        .target(name: "VDEWire", dependencies: ["Posix"], swiftSettings: strict),
        .target(name: "SwitchEngine", swiftSettings: hotPath),
        .target(name: "CableEngine", dependencies: ["JSON", "Posix", "SwitchEngine"], swiftSettings: strict),
        .target(name: "LabEngine", dependencies: ["JSON", "Posix"], swiftSettings: strict),
        .target(name: "ExperimentEngine", dependencies: ["JSON", "LabEngine", "PacketCapture", "Posix"], swiftSettings: strict),
        .target(name: "CableWorker", dependencies: ["CableEngine", "SwitchEngine", "VDEWire", "WorkerControl", "PacketCapture", "CSodium", "CSlirp", "JSON", "Posix", "Log"],
                swiftSettings: strict),
        .executableTarget(name: "vsquare-cable", dependencies: ["CableWorker", "JSON", "Posix", "Log"], swiftSettings: strict),
        .target(name: "WorkerControl", dependencies: ["JSON", "PacketCapture", "Posix", "Log"], swiftSettings: strict),
        .target(name: "SwitchWorker", dependencies: ["SwitchEngine", "VDEWire", "WorkerControl", "PacketCapture", "JSON", "Posix", "Log"], swiftSettings: hotPath),
        .executableTarget(name: "vsquare-switch", dependencies: ["SwitchWorker", "JSON", "Posix", "Log"], swiftSettings: strict),
        .target(name: "ControlPlane", dependencies: ["CSQLite", "CSodium", "HTTPClient", "JSON", "Posix", "Log", "SwitchEngine", "CableEngine", "LabEngine", "ExperimentEngine"],
                swiftSettings: strict),
        .target(name: "HTTPAPI", dependencies: ["CMicroHTTPD", "ControlPlane", "CableEngine", "LabEngine", "PacketCapture", "JSON", "YAML", "Posix", "Log"],
                swiftSettings: strict),
        .executableTarget(name: "vsquared", dependencies: ["HTTPAPI", "ControlPlane", "JSON", "Posix", "Log"], swiftSettings: strict),

        .target(name: "VSquareTesting", dependencies: ["Posix", "JSON", "VDEWire"], path: "Tests/VSquareTesting", swiftSettings: strict),
        .testTarget(name: "JSONTests", dependencies: ["JSON"], swiftSettings: strict),
        .testTarget(name: "YAMLTests", dependencies: ["YAML", "JSON"], swiftSettings: strict),
        .testTarget(name: "PacketCaptureTests", dependencies: ["PacketCapture", "Posix", "VSquareTesting"], swiftSettings: strict),
        .testTarget(name: "VDEWireTests", dependencies: ["VDEWire"], swiftSettings: strict),
        .testTarget(name: "SwitchEngineTests", dependencies: ["SwitchEngine", "CableEngine"], swiftSettings: strict),
        .testTarget(name: "CableEngineTests", dependencies: ["CableEngine", "SwitchEngine"], swiftSettings: strict),
        .testTarget(name: "ExperimentEngineTests", dependencies: ["ExperimentEngine", "CableEngine", "ControlPlane", "JSON", "LabEngine"], swiftSettings: strict),
        .testTarget(name: "LabEngineTests", dependencies: ["LabEngine", "ControlPlane", "JSON", "YAML"], swiftSettings: strict),
        .testTarget(name: "CableWorkerTests", dependencies: ["CableWorker", "CableEngine", "VDEWire", "VSquareTesting", "JSON", "Posix"], swiftSettings: strict),
        .testTarget(name: "SwitchWorkerTests", dependencies: ["SwitchWorker", "SwitchEngine", "VDEWire", "VSquareTesting", "JSON", "Posix"],
                    swiftSettings: strict),
        .testTarget(name: "ControlPlaneTests", dependencies: ["ControlPlane", "LabEngine", "VSquareTesting"], swiftSettings: strict),
        .testTarget(name: "HTTPAPITests", dependencies: ["HTTPAPI", "VSquareTesting", "JSON", "Log"], swiftSettings: strict),
        .testTarget(name: "VSquaredTests", dependencies: ["vsquared", "VSquareTesting", "JSON", "Posix", "VDEWire", "YAML"], swiftSettings: strict),
    ]
)
