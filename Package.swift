// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "netpol",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "netpol", targets: ["netpol"]),
        .library(name: "NetpolModel", targets: ["NetpolModel"]),
        .library(name: "NetpolEngine", targets: ["NetpolEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
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
            name: "NetpolRules",
            dependencies: ["NetpolModel", "NetpolEngine"]
        ),
        .target(
            name: "NetpolRender",
            dependencies: ["NetpolModel", "NetpolEngine", "NetpolRules"]
        ),
        .target(
            name: "NetpolDataplane",
            dependencies: ["NetpolModel", "NetpolEngine", "NetpolRules", "NetpolRender"]
        ),
        .target(name: "CNetpolSystem"),
        .target(
            name: "NetpolLab",
            dependencies: ["CNetpolSystem", "NetpolModel", "NetpolEngine", "NetpolRules", "NetpolDataplane"]
        ),
        .target(
            name: "NetpolWorkload",
            dependencies: ["NetpolModel"]
        ),
        .target(
            name: "NetpolBench",
            dependencies: ["NetpolModel", "NetpolEngine", "NetpolRules", "NetpolRender", "NetpolDataplane", "NetpolLab", "NetpolWorkload"]
        ),
        .target(
            name: "NetpolTesting",
            dependencies: ["NetpolModel", "NetpolEngine", "NetpolDataplane", "NetpolWorkload"]
        ),
        .executableTarget(
            name: "netpol",
            dependencies: [
                "NetpolModel",
                "NetpolEngine",
                "NetpolRules",
                "NetpolRender",
                "NetpolDataplane",
                "NetpolLab",
                "NetpolWorkload",
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
            name: "NetpolEngineTests",
            dependencies: ["NetpolModel", "NetpolEngine", "NetpolTesting", "NetpolWorkload"]
        ),
        .testTarget(
            name: "NetpolRulesTests",
            dependencies: ["NetpolModel", "NetpolEngine", "NetpolRules", "NetpolRender", "NetpolDataplane", "NetpolTesting"]
        ),
        .testTarget(
            name: "NetpolLabTests",
            dependencies: ["NetpolModel", "NetpolEngine", "NetpolRules", "NetpolRender", "NetpolDataplane", "NetpolLab", "NetpolTesting"]
        ),
        .testTarget(
            name: "NetpolCLITests",
            dependencies: ["netpol"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
