// voxgan-serve: the HTTP server for generated chairs. Parses options (each also readable from a
// VOXGAN_* variable), opens the model, listens, warms the model up, then serves until SIGTERM
// or SIGINT, when it stops accepting, lets requests in progress finish and exits 0.
import CommandLineKit
import Foundation
import Serving

let defaultWeights = "Models/chairs32.h5"

let spec = CommandSpec(
    name: "voxgan-serve",
    abstract: "Serve generated chairs over HTTP.",
    discussion: """
        Prints 'voxgan-serve: listening on http://HOST:PORT' once bound (with --port 0, the \
        port the system chose), then 'voxgan-serve: ready' after a warm-up generation. \
        One access-log line per request goes to --access-log.
        """,
    options: [
        .value("weights", "PATH", env: "VOXGAN_WEIGHTS",
               help: "Generator weights (.h5). Default: \(defaultWeights) in the current "
                   + "directory, else in the nearest folder above the executable that has it."),
        .value("host", "ADDRESS", default: "127.0.0.1", env: "VOXGAN_HOST",
               help: "Numeric address to listen on."),
        .value("port", "N", default: "8080", env: "VOXGAN_PORT",
               help: "TCP port; 0 picks a free one and prints it."),
        .value("threads", "N", env: "VOXGAN_THREADS",
               help: "HTTP worker threads (default: the number of cores)."),
        .value("max-batch", "N", default: "16", env: "VOXGAN_MAX_BATCH",
               help: "Latents per generator call at most."),
        .value("max-delay-ms", "MS", default: "5", env: "VOXGAN_MAX_DELAY_MS",
               help: "How long a request waits for its batch to fill."),
        .value("queue", "N", default: "256", env: "VOXGAN_QUEUE",
               help: "Latents that may wait for the generator; beyond, 503 at once."),
        .value("workers", "N", default: "2", env: "VOXGAN_WORKERS",
               help: "Threads for meshing, rendering and encoding."),
        .value("max-samples", "N", default: "256", env: "VOXGAN_MAX_SAMPLES",
               help: "Chairs per POST /v1/samples at most (413 above)."),
        .value("max-steps", "N", default: "32", env: "VOXGAN_MAX_STEPS",
               help: "Steps per /v1/interpolate at most."),
        .value("cache-mb", "MB", default: "64", env: "VOXGAN_CACHE_MB",
               help: "Memory for cached results (0 disables the cache)."),
        .value("connection-limit", "N", default: "256", env: "VOXGAN_CONNECTION_LIMIT",
               help: "Open connections at most."),
        .value("per-ip-limit", "N", default: "64", env: "VOXGAN_PER_IP_LIMIT",
               help: "Open connections per client address at most (0: no limit)."),
        .value("timeout", "SECONDS", default: "10", env: "VOXGAN_TIMEOUT",
               help: "Idle connections, keep-alive ones included, are closed after this."),
        .value("memory-limit", "BYTES", default: "65536", env: "VOXGAN_MEMORY_LIMIT",
               help: "Memory per connection for the request line, headers and buffers."),
        .value("max-body", "BYTES", default: "8388608", env: "VOXGAN_MAX_BODY",
               help: "Largest request body (413 above)."),
        .value("public", "DIR", env: "VOXGAN_PUBLIC",
               help: "Directory served at / (the browser viewer). Default: Public, found "
                   + "like the weights."),
        .value("three-dir", "DIR", default: "/usr/share/javascript/three",
               env: "VOXGAN_THREE_DIR", help: "three.js directory served at /vendor/three/."),
        .value("access-log", "DEST", default: "-", env: "VOXGAN_ACCESS_LOG",
               help: "Access log: '-' (standard output), 'stderr', 'off' or a file."),
        .flag("synthetic", env: "VOXGAN_SYNTHETIC",
              help: "Development only: serve a synthetic stand-in chair model, no weights."),
        .value("synthetic-resolution", "R", default: "32",
               help: "Development only: resolution of the synthetic model."),
    ])

/// THE place where weights become a model: the trained generator of a voxgan weights file.
func openModel(path: String) throws -> ChairModel {
    try loadChairModel(weightsPath: path)
}

/// The weights file to open: as given, or the default in the current directory, or in the
/// nearest folder above the executable that has it (the package, for a `swift build` binary).
func resolveWeights(_ given: String?) throws -> String {
    if let given {
        try checkWeightsFile(given)
        return given
    }
    if let found = PackageFiles.find(defaultWeights) { return found }
    throw CommandFailure("\(defaultWeights): no such weights file (looked in the current "
                         + "directory and above the executable; give --weights)")
}

/// The folder served at /: as given, or the default found like the weights. A missing folder
/// fails at start, not as 404s later.
func resolvePublic(_ given: String?) throws -> String {
    if let given {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: given, isDirectory: &isFolder),
              isFolder.boolValue else {
            throw CommandFailure("--public \(given): no such folder")
        }
        return given
    }
    return PackageFiles.find("Public") ?? "Public"
}

/// One line for a --weights that cannot be a weights file, before HDF5 or Foundation get to
/// print theirs.
func checkWeightsFile(_ path: String) throws {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
        throw CommandFailure("--weights \(path): no such file")
    }
    guard !isFolder.boolValue else {
        throw CommandFailure("--weights \(path): is a folder, not a weights file (.h5)")
    }
    guard FileManager.default.isReadableFile(atPath: path) else {
        throw CommandFailure("--weights \(path): permission denied")
    }
}

func say(_ line: String) {
    print("voxgan-serve: \(line)")
    fflush(stdout)
}

runCommand("voxgan-serve") {
    if Array(CommandLine.arguments.dropFirst()) == ["--version"] {
        print("voxgan-serve \(ServingVersion.string)")
        return
    }
    guard let options = try spec.parse(Array(CommandLine.arguments.dropFirst())) else { return }

    // 1. Configuration, every value checked before anything starts.
    var configuration = ServerConfiguration()
    configuration.http.host = options.string("host", default: "127.0.0.1")
    configuration.http.port = try options.int("port", in: 0...65535)!
    configuration.http.threads = try options.int("threads", in: 1...256)
        ?? ProcessInfo.processInfo.activeProcessorCount
    configuration.http.connectionLimit = try options.int("connection-limit", in: 1...1_000_000)!
    configuration.http.perIPConnectionLimit = try options.int("per-ip-limit", in: 0...1_000_000)!
    configuration.http.connectionTimeoutSeconds = try options.int("timeout", in: 1...86_400)!
    configuration.http.connectionMemoryLimit = try options.int("memory-limit",
                                                               in: 8192...(64 << 20))!
    configuration.http.maxBodyBytes = try options.int("max-body", in: 1...(1 << 30))!
    configuration.maxBatch = try options.int("max-batch", in: 1...1024)!
    configuration.maxDelayMilliseconds = try options.double("max-delay-ms", in: 0...10_000)!
    configuration.queueCapacity = try options.int("queue", in: 1...1_000_000)!
    configuration.workerThreads = try options.int("workers", in: 1...256)!
    configuration.maxSamplesPerRequest = try options.int("max-samples", in: 1...100_000)!
    configuration.maxInterpolationSteps = try options.int("max-steps", in: 2...1024)!
    configuration.cacheBytes = try options.int("cache-mb", in: 0...1_000_000)! << 20
    configuration.publicDirectory = try resolvePublic(options.string("public"))
    configuration.threeDirectory = options.string("three-dir", default: "/usr/share/javascript/three")
    configuration.accessLog = AccessLogDestination(argument: options.string("access-log",
                                                                           default: "-"))

    // 2. Signals: blocked in every thread (they inherit this mask), taken by sigwait below.
    signal(SIGPIPE, SIG_IGN)
    var stopSignals = sigset_t()
    sigemptyset(&stopSignals)
    sigaddset(&stopSignals, SIGTERM)
    sigaddset(&stopSignals, SIGINT)
    pthread_sigmask(SIG_BLOCK, &stopSignals, nil)

    // 3. The model.
    let model: ChairModel
    if options.flag("synthetic") {
        model = SyntheticChairModel(resolution: try options.int("synthetic-resolution",
                                                                in: 4...256)!)
    } else {
        let path = try resolveWeights(options.string("weights"))
        model = try openModel(path: path)
    }

    // 4. Listen, warm up, serve.
    let server = try VoxganServer(model: model, configuration: configuration)
    try server.listen()
    say("listening on \(server.baseURL)")
    try server.warmUp()
    say("ready (resolution \(model.resolution), weights \(model.weightsSHA256.prefix(12)))")

    var received: Int32 = 0
    sigwait(&stopSignals, &received)
    say("stopping on signal \(received): finishing requests in progress")
    server.stop()
    say("stopped")
}
