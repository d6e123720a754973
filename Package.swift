// swift-tools-version:6.0
// voxgan: a 3D-GAN for voxel chairs, its trainer and its HTTP server.
//
// Modules follow the data flow, each depending only on those above it:
//   C system libraries (OpenBLAS, HDF5, libpng, libmicrohttpd) and CShim
//   → HDF5Kit (typed HDF5 files), CommandLineKit (argument parsing)
//   → Voxels (grids, binvox, packed datasets) → VoxelGeometry (meshes, OBJ/STL, PNG renders)
//   → NN (tensors, layers with forward and backward, optimisers)
//   → GAN (generator, discriminator, weights files, training, metrics)
//   → Serving (HTTP routes, batching inference) → the three executables.
import PackageDescription

let optimise: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "voxgan",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "voxgan", targets: ["voxgan"]),
        .executable(name: "voxgan-train", targets: ["voxgan-train"]),
        .executable(name: "voxgan-serve", targets: ["voxgan-serve"]),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd",
                       providers: [.apt(["libmicrohttpd-dev"])]),
        .target(name: "CShim", dependencies: ["CHDF5", "CPNG", "CMicroHTTPD"]),

        .target(name: "CommandLineKit"),
        .target(name: "HDF5Kit", dependencies: ["CHDF5", "CShim"]),
        .target(name: "Voxels", dependencies: ["HDF5Kit"], swiftSettings: optimise),
        .target(name: "VoxelGeometry", dependencies: ["Voxels", "CPNG", "CShim"],
                swiftSettings: optimise),
        .target(name: "NN", dependencies: ["COpenBLAS"], swiftSettings: optimise),
        .target(name: "GAN", dependencies: ["NN", "Voxels", "VoxelGeometry", "HDF5Kit"],
                swiftSettings: optimise),
        .target(name: "Serving",
                dependencies: ["GAN", "NN", "Voxels", "VoxelGeometry", "HDF5Kit",
                               "CMicroHTTPD", "CShim"]),

        .executableTarget(name: "voxgan",
                          dependencies: ["CommandLineKit", "Voxels", "VoxelGeometry", "NN",
                                         "GAN", "Serving"]),
        .executableTarget(name: "voxgan-train", dependencies: ["CommandLineKit", "GAN", "Voxels"]),
        .executableTarget(name: "voxgan-serve", dependencies: ["CommandLineKit", "Serving"]),

        .testTarget(name: "CommandLineKitTests", dependencies: ["CommandLineKit"]),
        .testTarget(name: "VoxelsTests", dependencies: ["Voxels", "HDF5Kit"]),
        .testTarget(name: "VoxelGeometryTests", dependencies: ["VoxelGeometry", "Voxels"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "HDF5Kit"]),
        .testTarget(name: "GANTests", dependencies: ["GAN", "NN", "Voxels", "HDF5Kit"]),
        .testTarget(name: "ServingTests", dependencies: ["Serving", "GAN", "Voxels"]),
    ],
    // Language mode 5: the engine shares buffers across threads by design (disjoint slices,
    // joined before use), which strict Swift 6 checking cannot express without copies.
    swiftLanguageModes: [.v5]
)
