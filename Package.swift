// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "netpol",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "netpol", targets: ["netpol"]),
        .executable(name: "netpol-bench", targets: ["netpol-bench"]),
        .library(name: "NetpolModel", targets: ["NetpolModel"]),
        .library(name: "NetpolEngine", targets: ["NetpolEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .target(
            name: "NetpolModel",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "NetpolEngine",
            dependencies: ["NetpolModel"]
        ),
        .target(
            name: "NetpolLint",
            dependencies: ["NetpolModel", "NetpolEngine"]
        ),
        .target(
            name: "NetpolRules",
            dependencies: ["NetpolModel", "NetpolEngine"]
        ),
        .target(
            name: "NetpolRender",
            dependencies: ["NetpolModel", "NetpolEngine", "NetpolRules"]
        ),
        .target(
            name: "NetpolDataplane",
            dependencies: ["CNetpolSystem", "NetpolModel", "NetpolEngine", "NetpolRules", "NetpolRender"]
        ),
        .target(name: "CNetpolSystem"),
        .target(
            name: "NetpolLab",
            dependencies: ["CNetpolSystem", "NetpolModel", "NetpolEngine", "NetpolRules", "NetpolDataplane"]
        ),
        .target(
            name: "NetpolKube",
            dependencies: [
                "NetpolModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "NetpolAgent",
            dependencies: [
                "NetpolModel", "NetpolEngine", "NetpolRules", "NetpolDataplane", "NetpolKube",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "NetpolWorkload",
            dependencies: ["NetpolModel"]
        ),
        .target(
            name: "NetpolBench",
            dependencies: [
                "NetpolModel", "NetpolEngine", "NetpolRules", "NetpolRender", "NetpolDataplane", "NetpolLab", "NetpolWorkload",
                "NetpolAgent", "NetpolTesting",
            ]
        ),
        .target(
            name: "NetpolTesting",
            dependencies: [
                "NetpolModel", "NetpolEngine", "NetpolDataplane", "NetpolWorkload", "NetpolKube",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .executableTarget(
            name: "netpol",
            dependencies: [
                "NetpolModel",
                "NetpolEngine",
                "NetpolLint",
                "NetpolRules",
                "NetpolRender",
                "NetpolDataplane",
                "NetpolLab",
                "NetpolWorkload",
                "NetpolKube",
                "NetpolAgent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The benchmarks run the agent against the fake API server, so they link
        // NetpolTesting: an executable of their own keeps test code out of `netpol`.
        .executableTarget(
            name: "netpol-bench",
            dependencies: [
                "NetpolModel",
                "NetpolBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "NetpolModelTests",
            dependencies: [
                "NetpolModel",
                "NetpolTesting",
                "NetpolWorkload",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "NetpolLintTests",
            dependencies: ["NetpolModel", "NetpolEngine", "NetpolLint", "NetpolWorkload"]
        ),
        .testTarget(
            name: "NetpolEngineTests",
            dependencies: ["NetpolModel", "NetpolEngine", "NetpolTesting", "NetpolWorkload"]
        ),
        // The golden rulesets are read and rewritten (NETPOL_UPDATE_GOLDEN=1) in
        // place, through #filePath: sources of the test, not bundle resources.
        .testTarget(
            name: "NetpolRulesTests",
            dependencies: ["NetpolModel", "NetpolEngine", "NetpolRules", "NetpolRender", "NetpolDataplane", "NetpolTesting"],
            exclude: ["Golden"]
        ),
        .testTarget(
            name: "NetpolLabTests",
            dependencies: ["NetpolModel", "NetpolEngine", "NetpolRules", "NetpolRender", "NetpolDataplane", "NetpolLab", "NetpolTesting"]
        ),
        .testTarget(
            name: "NetpolAgentTests",
            dependencies: [
                "NetpolModel", "NetpolEngine", "NetpolRules", "NetpolDataplane", "NetpolLab", "NetpolKube", "NetpolAgent", "NetpolTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(
            name: "NetpolCLITests",
            dependencies: ["netpol", "netpol-bench", "NetpolModel", "NetpolEngine", "NetpolDataplane", "NetpolLab", "NetpolTesting", "NetpolWorkload"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
