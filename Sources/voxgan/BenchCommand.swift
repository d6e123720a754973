import CommandLineKit
import Foundation
import GAN
import NN
import Serving
import VoxelGeometry
import Voxels

#if canImport(Glibc)
import Glibc
#endif

/// `voxgan bench`: speed figures, each the median of repeats with min and max, next to the
/// sgemm rate measured in the same run.
///
/// Every figure has an `id` (`model.g32-128.b8`, `mesh.cubes_obj`, ...) that
/// `bench/reference/reference.py` uses for the same work in PyTorch, trimesh, scikit-image,
/// matplotlib and h5py, so `bench/compare` can print ratios. Model and training cases run in
/// child processes (`voxgan bench model --case ID`), so each has its own peak memory.
enum BenchCommand {

    static let suites = ["all", "gemm", "layers", "model", "train", "formats", "mesh", "render",
                         "serve"]

    static let spec = CommandSpec(
        name: "voxgan bench",
        abstract: "Benchmark voxgan against references.",
        discussion: """
            Every figure is the median of repeats with min and max, in milliseconds per \
            operation. The sgemm rate of this machine, measured at the start and the end of the \
            same run, is the yardstick: compare ratios, not seconds, across machines. Set \
            --threads 1 (and OPENBLAS_NUM_THREADS=1) for repeatable single-thread figures. \
            model and train cases each run in a child process so that their peak memory \
            (ru_maxrss) is their own. 'all' runs every suite but serve.
            """,
        arguments: [Argument("suite", help: suites.joined(separator: ", ") + " (default: all).",
                             optional: true)],
        options: [
            .value("json", "FILE", help: "Also write the figures as JSON."),
            .value("threads", "N", help: "Compute threads (default: all cores)."),
            .value("batch", "N", default: "8", help: "Batch size for layer figures."),
            .value("repeats", "N", default: "3", help: "Timed repeats of slow figures (fast "
                   + "ones repeat at least 21 times)."),
            .value("data", "DIR", default: "../shared/data", env: "VOXGAN_DATA",
                   help: "The chair data (formats, mesh, render)."),
            .value("weights", "FILE", default: "Models/chairs32.h5", env: "VOXGAN_WEIGHTS",
                   help: "Model for serve (default shape with random weights if missing)."),
            .value("case", "ID", help: "Run one model or train case in this process "
                   + "(what the parent process re-executes itself with)."),
        ])

    // MARK: Figures

    /// Median, minimum and maximum seconds of repeats (`Timing`'s figures, constructible here).
    struct Times {
        var median: Double
        var min: Double
        var max: Double
    }

    /// One measured figure: seconds per operation, `items` samples (or requests) each.
    struct Figure {
        var id: String
        var name: String
        var timing: Times
        var items = 1
        var extra: [String: Any] = [:]

        init(id: String, name: String, timing: Times, items: Int = 1) {
            (self.id, self.name, self.timing, self.items) = (id, name, timing, items)
        }

        init(id: String, name: String, timing: Timing, items: Int = 1) {
            self.init(id: id, name: name,
                      timing: Times(median: timing.median, min: timing.min, max: timing.max),
                      items: items)
        }

        var json: [String: Any] {
            var object = extra
            object["id"] = id
            object["name"] = name
            object["median_ms"] = timing.median * 1000
            object["min_ms"] = timing.min * 1000
            object["max_ms"] = timing.max * 1000
            object["items"] = items
            return object
        }

        /// `name  median (min–max) ms  [per item]  extra`.
        var line: String {
            let median = milliseconds(timing.median)
            var text = name.padding(toLength: 46, withPad: " ", startingAt: 0)
                + String(repeating: " ", count: max(0, 8 - median.count)) + median + " ms  ("
                + milliseconds(timing.min) + "–" + milliseconds(timing.max) + ")"
            if items > 1 {
                text += String(format: "  %.2f ms/item, %.1f items/s",
                               timing.median * 1000 / Double(items),
                               Double(items) / timing.median)
            }
            if let peak = extra["peak_rss_mb"] as? Double {
                text += String(format: "  peak %.0f MB", peak)
            }
            if let note = extra["note"] as? String { text += "  " + note }
            return text
        }
    }

    static func milliseconds(_ seconds: Double) -> String {
        let ms = seconds * 1000
        return ms >= 100 ? String(format: "%.0f", ms) : ms >= 10 ? String(format: "%.1f", ms)
            : ms >= 1 ? String(format: "%.2f", ms) : String(format: "%.3f", ms)
    }

    /// Settings every suite reads.
    struct Settings {
        var threads: Int
        var repeats: Int
        var batch: Int
        var data: String
        var weights: String
        var executable: String
    }

    // MARK: Entry point

    static func run(_ arguments: [String]) throws {
        guard let options = try spec.parse(arguments) else { return }
        let suite = options.positionals.first ?? "all"
        guard suites.contains(suite) else {
            throw UsageError("unknown suite '\(suite)'; choose one of "
                             + suites.joined(separator: ", "))
        }
        if let threads = try options.int("threads", in: 1...256) { ComputeThreads.count = threads }
        let settings = Settings(
            threads: ComputeThreads.count,
            repeats: try options.int("repeats", in: 1...1000) ?? 3,
            batch: try options.int("batch", in: 1...1024) ?? 8,
            data: options.string("data", default: "../shared/data"),
            weights: defaultableWeights(options),
            executable: Bundle.main.executablePath ?? CommandLine.arguments[0])

        // A child: one case, its figures and its own peak memory as JSON, nothing on stdout.
        if let id = options.string("case") {
            guard let path = options.string("json") else {
                throw UsageError("--case needs --json FILE for its result")
            }
            let figures = try runCase(id, settings: settings)
            let object: [String: Any] = ["figures": figures.map(\.json),
                                         "peak_rss_mb": peakResidentMegabytes()]
            try JSONSerialization.data(withJSONObject: object)
                .write(to: URL(fileURLWithPath: path))
            return
        }

        if let path = options.string("json") { try OutputFile.checkWritable(path) }
        var report: [String: Any] = ["threads": settings.threads,
                                     "machine": machineDescription(),
                                     "repeats": settings.repeats, "suite": suite,
                                     "date": ISO8601DateFormatter().string(from: Date())]
        let machine = report["machine"] as! [String: Any]
        print("voxgan bench \(suite): \(machine["cpu"]!), \(machine["cores"]!) cores, "
              + "OpenBLAS \(machine["openblas_core"]!) kernels, "
              + "\(settings.threads) compute thread(s), \(settings.repeats) repeats; "
              + "milliseconds per operation, median (min–max)")
        let sgemmStart = sgemm(settings)
        report["sgemm_start"] = sgemmStart.json
        print(sgemmStart.line)

        var figures: [Figure] = []
        let chosen = suite == "all" ? suites.filter { $0 != "all" && $0 != "serve" } : [suite]
        for name in chosen where name != "gemm" {
            print("\n[\(name)]")
            let found: [Figure]
            switch name {
            case "layers": found = layerFigures(settings)
            case "model", "train": found = try childCases(name, settings: settings)
            case "formats": found = try formatFigures(settings)
            case "mesh": found = try meshFigures(settings)
            case "render": found = try renderFigures(settings)
            default: found = try serveFigures(settings)
            }
            figures += found
        }

        let sgemmEnd = sgemm(settings)
        report["sgemm_end"] = sgemmEnd.json
        print("\n" + sgemmEnd.line + " (end of run)")
        report["figures"] = figures.map(\.json)
        if let path = options.string("json") {
            let data = try JSONSerialization.data(withJSONObject: report,
                                                  options: [.prettyPrinted, .sortedKeys])
            try OutputFile.write([UInt8](data), to: path)
        }
    }

    /// The yardstick: square sgemm 1024 on one thread and on all compute threads.
    struct SgemmRates {
        var one: Double
        var all: Double
        var threads: Int

        var json: [String: Any] {
            ["gflops_1_thread": one, "gflops_all_threads": all, "threads": threads]
        }

        var line: String {
            String(format: "sgemm 1024³: %.1f GFLOP/s on 1 thread, %.1f on %d", one, all, threads)
        }
    }

    static func sgemm(_ settings: Settings) -> SgemmRates {
        SgemmRates(one: EngineBenchmarks.sgemmRate(threads: 1),
                   all: EngineBenchmarks.sgemmRate(threads: settings.threads),
                   threads: settings.threads)
    }

    // MARK: layers

    static func layerFigures(_ settings: Settings) -> [Figure] {
        var figures: [Figure] = []
        for resolution in [32, 64] {
            for figure in EngineBenchmarks.layers(resolution: resolution, batch: settings.batch,
                                                  repeats: settings.repeats) {
                let base = "layers.\(resolution).\(figure.name.split(separator: " ")[0])"
                let name = "\(resolution)³ net: " + figure.name
                var forward = Figure(id: base + ".forward", name: name + " fwd",
                                     timing: figure.forward, items: figure.batch)
                forward.extra = ["gflops": figure.forwardGFLOPS, "gflop": figure.gflop]
                forward.extra["note"] = String(format: "%.1f GFLOP/s", figure.forwardGFLOPS)
                // EngineBenchmarks subtracts the forward's min from the forward+backward run's
                // min (and max from max), which can invert the range; here every statistic of
                // the forward+backward runs has the forward's median taken off instead.
                let f = figure.forward
                let b = figure.backward
                let backwardTimes = Times(median: b.median,
                                          min: max(b.min + f.min - f.median, 1e-9),
                                          max: max(b.max + f.max - f.median, 1e-9))
                var backward = Figure(id: base + ".backward", name: name + " bwd",
                                      timing: backwardTimes, items: figure.batch)
                backward.extra = ["gflops": figure.backwardGFLOPS, "gflop": 2 * figure.gflop]
                backward.extra["note"] = String(format: "%.1f GFLOP/s", figure.backwardGFLOPS)
                print(forward.line)
                print(backward.line)
                figures += [forward, backward]
            }
        }
        return figures
    }

    // MARK: model and train (child processes)

    /// Generator shapes measured: the default model, the wider 32³ one, the paper's 64³.
    static let generators: [(key: String, config: GeneratorConfig)] = [
        ("g32-128", GeneratorConfig(resolution: 32, channels: [128, 64, 32])),
        ("g32-256", GeneratorConfig(resolution: 32, channels: [256, 128, 64])),
        ("g64-paper", GeneratorConfig.paper64),
    ]

    /// Training configurations measured, with their batch sizes.
    static var trainings: [(key: String, config: TrainingConfig)] {
        var wide = TrainingConfig()
        wide.generatorChannels = [256, 128, 64]
        wide.discriminatorChannels = [64, 128, 256]
        wide.discriminatorBatchNorm = false
        wide.discriminatorBias = true
        var small = TrainingConfig()
        small.generatorChannels = [128, 64, 32]
        small.discriminatorChannels = [32, 64, 128]
        small.discriminatorBatchNorm = true
        small.discriminatorBias = false
        var paper = TrainingConfig.paper64
        paper.batchSize = 8
        return [("t32-recipe", wide), ("t32-128", small), ("t64-paper", paper)]
    }

    static func caseIDs(_ suite: String) -> [String] {
        suite == "model"
            ? generators.flatMap { g in [1, 8, 32].map { "model.\(g.key).b\($0)" } }
            : trainings.map { "train.\($0.key).b\($0.config.batchSize)" }
    }

    /// Runs every case of `suite` in its own child process and collects the figures.
    static func childCases(_ suite: String, settings: Settings) throws -> [Figure] {
        var figures: [Figure] = []
        let scratch = NSTemporaryDirectory() + "voxgan-bench-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for id in caseIDs(suite) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: settings.executable)
            process.arguments = ["bench", suite, "--case", id, "--json", scratch,
                                 "--threads", String(settings.threads),
                                 "--repeats", String(settings.repeats)]
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0,
                  let data = FileManager.default.contents(atPath: scratch),
                  let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let list = object["figures"] as? [[String: Any]] else {
                throw CommandFailure("bench case \(id) failed (exit status "
                                     + "\(process.terminationStatus))")
            }
            try? FileManager.default.removeItem(atPath: scratch)
            for entry in list {
                var figure = Figure(
                    id: entry["id"] as! String, name: entry["name"] as! String,
                    timing: Times(median: (entry["median_ms"] as! Double) / 1000,
                                   min: (entry["min_ms"] as! Double) / 1000,
                                   max: (entry["max_ms"] as! Double) / 1000),
                    items: entry["items"] as! Int)
                figure.extra = entry.filter {
                    !["id", "name", "median_ms", "min_ms", "max_ms", "items"].contains($0.key)
                }
                figure.extra["peak_rss_mb"] = object["peak_rss_mb"]
                print(figure.line)
                figures.append(figure)
            }
        }
        return figures
    }

    /// One model or train case, in this process.
    static func runCase(_ id: String, settings: Settings) throws -> [Figure] {
        let parts = id.split(separator: ".").map(String.init)
        guard parts.count == 3, let batch = Int(parts[2].dropFirst()) else {
            throw UsageError("unknown case '\(id)'; cases: "
                             + (caseIDs("model") + caseIDs("train")).joined(separator: ", "))
        }
        var random = SplitMix64(seed: 11)
        if parts[0] == "model", let g = generators.first(where: { $0.key == parts[1] }) {
            let generator = try Generator(config: g.config)
            initialize(generator.layers, scheme: .dcgan, generator: &random)
            // As the server and `voxgan sample` run it.
            generator.freezeForInference()
            let z = Tensor(shape: [batch, g.config.zDimension, 1, 1, 1])
            for i in 0..<z.count { z.data[i] = Float(random.normal()) }
            let repeats = batch == 1 ? max(settings.repeats, 21) : settings.repeats
            let timing = Timing.measure(repeats: repeats) { _ = generator(z) }
            let label = batch == 1 ? "latency" : "throughput"
            return [Figure(id: id, name: "G \(g.config.resolution)³ "
                           + g.config.channels.map(String.init).joined(separator: ",")
                           + " batch \(batch) \(label)", timing: timing, items: batch)]
        }
        if parts[0] == "train", let t = trainings.first(where: { $0.key == parts[1] }) {
            var config = t.config
            config.batchSize = batch
            let timing = try trainingStep(config, repeats: settings.repeats, random: &random)
            return [Figure(id: id, name: "train step \(config.resolution)³ G "
                           + config.generatorChannels.map(String.init).joined(separator: ",")
                           + " D " + config.discriminatorChannels.map(String.init)
                               .joined(separator: ",") + " batch \(batch)",
                           timing: timing, items: batch)]
        }
        throw UsageError("unknown case '\(id)'; cases: "
                         + (caseIDs("model") + caseIDs("train")).joined(separator: ", "))
    }

    /// Seconds per full GAN iteration as the trainer runs it (gate off, so every step does
    /// all the work): G forward, D on real and on fake with backward, Adam on D, G's pass
    /// through D with backward, Adam on G. Real grids are random at 6 % occupancy (the cost
    /// does not depend on their content).
    static func trainingStep(_ config: TrainingConfig, repeats: Int,
                             random: inout SplitMix64) throws -> Timing {
        let generator = try Generator(config: config.generatorConfig)
        let discriminator = try Discriminator(config: config.discriminatorConfig)
        initialize(generator.layers, scheme: .dcgan, generator: &random)
        initialize(discriminator.layers, scheme: .dcgan, generator: &random)
        let gOptimizer = Adam(parameters: generator.parameters,
                              learningRate: Float(config.generatorLearningRate),
                              beta1: Float(config.beta1), beta2: Float(config.beta2))
        let dOptimizer = Adam(parameters: discriminator.parameters,
                              learningRate: Float(config.discriminatorLearningRate),
                              beta1: Float(config.beta1), beta2: Float(config.beta2))
        let step = AdversarialStep(generator: generator, discriminator: discriminator,
                                   realLabel: Float(config.realLabel))
        let r = config.resolution
        let real = Tensor(shape: [config.batchSize, 1, r, r, r])
        for i in 0..<real.count { real.data[i] = random.uniform() < 0.06 ? 1 : 0 }
        let z = Tensor(shape: [config.batchSize, config.zDimension, 1, 1, 1])
        for i in 0..<z.count { z.data[i] = Float(random.normal()) }
        generator.isTraining = true
        discriminator.isTraining = true
        return Timing.measure(repeats: repeats) {
            let fake = generator(z)
            _ = step.discriminatorPass(real: real, fake: fake)
            dOptimizer.update()
            step.discriminatorDidUpdate()
            step.generatorPass(fake: fake)
            gOptimizer.update()
        }
    }

    static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
    }

    // MARK: formats, mesh, render

    /// The 64³ chair the geometry and format figures use.
    static let chairFile = "chairs/shapenet_64/1a6f615e8b1b5ae4dbbc9440457e303e.binvox"

    static func chair(_ settings: Settings) throws -> (VoxelGrid, String) {
        let path = (settings.data as NSString).appendingPathComponent(chairFile)
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandFailure("\(path): not found (give --data DIR, the chair data folder)")
        }
        return (try Binvox.read(path: path), path)
    }

    static func chairNote(_ grid: VoxelGrid, _ path: String) -> String {
        "chair: \(path) (\(grid.nx)³, \(grid.occupiedCount) voxels)"
    }

    static func fast(_ settings: Settings) -> Int { max(settings.repeats, 21) }

    static func formatFigures(_ settings: Settings) throws -> [Figure] {
        let (grid, path) = try chair(settings)
        let temporary = NSTemporaryDirectory() + "voxgan-bench-\(getpid())"
        defer {
            try? FileManager.default.removeItem(atPath: temporary + ".binvox")
            try? FileManager.default.removeItem(atPath: temporary + ".h5")
        }
        var figures: [Figure] = []
        print(chairNote(grid, path))
        figures.append(Figure(id: "formats.binvox_read64", name: "binvox 64³ read",
                              timing: Timing.measure(repeats: fast(settings)) {
                                  _ = try? Binvox.read(path: path)
                              }))
        figures.append(Figure(id: "formats.binvox_write64", name: "binvox 64³ write",
                              timing: Timing.measure(repeats: fast(settings)) {
                                  try? Binvox.write(grid, to: temporary + ".binvox")
                              }))

        // Packing the 889 ModelNet10 train chairs (839 kept), then loading the result.
        let folder = (settings.data as NSString).appendingPathComponent("chairs/modelnet10_32")
        var packFailure: Error?
        let pack = Timing.measure(repeats: settings.repeats) {
            do {
                let result = try DatasetPacker(resolution: 32, dedupe: true).pack(inputs: [folder])
                try result.write(to: temporary + ".h5", source: "benchmark")
            } catch { packFailure = error }
        }
        if let packFailure { throw packFailure }
        figures.append(Figure(id: "formats.pack889", name: "pack 889 chairs 32³ (dedupe, h5)",
                              timing: pack, items: 889))
        figures.append(Figure(id: "formats.load_packed", name: "load the packed 839 chairs",
                              timing: Timing.measure(repeats: fast(settings)) {
                                  _ = try? PackedDataset.load(path: temporary + ".h5")
                              }, items: 839))
        figures.forEach { print($0.line) }
        return figures
    }

    static func meshFigures(_ settings: Settings) throws -> [Figure] {
        let (grid, path) = try chair(settings)
        var probabilities = [Float](repeating: 0, count: grid.count)
        for (index, byte) in grid.bytesXYZ().enumerated() { probabilities[index] = Float(byte) }
        print(chairNote(grid, path))
        let figures = probabilities.withUnsafeBufferPointer { buffer -> [Figure] in
            func smooth() -> TriangleMesh {
                VoxelMesher.smooth(probabilities: buffer, nx: grid.nx, ny: grid.ny, nz: grid.nz,
                                   translate: grid.translate, scale: grid.scale)
            }
            return [
                Figure(id: "mesh.cubes_obj", name: "culled cubes + OBJ bytes",
                       timing: Timing.measure(repeats: fast(settings)) {
                           _ = OBJWriter.encode(VoxelMesher.cubes(grid), comment: "bench")
                       }),
                Figure(id: "mesh.marching_cubes", name: "marching cubes",
                       timing: Timing.measure(repeats: fast(settings)) { _ = smooth() }),
                Figure(id: "mesh.marching_cubes_obj", name: "marching cubes + OBJ bytes",
                       timing: Timing.measure(repeats: fast(settings)) {
                           _ = OBJWriter.encode(smooth(), comment: "bench")
                       }),
            ]
        }
        figures.forEach { print($0.line) }
        return figures
    }

    static func renderFigures(_ settings: Settings) throws -> [Figure] {
        let (grid, path) = try chair(settings)
        print(chairNote(grid, path))
        let figure = Figure(
            id: "render.png512", name: "render 512×512 + PNG (default view)",
            timing: Timing.measure(repeats: fast(settings)) {
                _ = try? PNGEncoder.encode(VoxelRenderer.render(grid,
                                                                 options: RenderOptions(size: 512)))
            })
        print(figure.line)
        return [figure]
    }

    // MARK: serve

    /// Offline generator throughput against the in-process server's at 1, 4 and 16 clients
    /// on 127.0.0.1, plus cached responses per second.
    static func serveFigures(_ settings: Settings) throws -> [Figure] {
        // 1. The model: the weights file, or the default shape with random weights (same cost).
        var weights = settings.weights
        var temporaryWeights: String?
        if !FileManager.default.fileExists(atPath: weights) {
            let generator = try Generator(config: GeneratorConfig(resolution: 32,
                                                                  channels: [128, 64, 32]))
            var random = SplitMix64(seed: 3)
            initialize(generator.layers, scheme: .dcgan, generator: &random)
            weights = NSTemporaryDirectory() + "voxgan-bench-\(getpid())-weights.h5"
            try WeightsFile.write(generator: generator, metadata: WeightsMetadata(), to: weights)
            temporaryWeights = weights
            print("(\(settings.weights) not found: a random generator of the default shape "
                  + "G 32³ 128,64,32)")
        }
        defer {
            if let temporaryWeights { try? FileManager.default.removeItem(atPath: temporaryWeights) }
        }
        let model = try loadChairModel(weightsPath: weights)

        var configuration = ServerConfiguration()
        configuration.http.host = "127.0.0.1"
        configuration.http.port = 0
        configuration.accessLog = .off
        configuration.publicDirectory = nil
        configuration.threeDirectory = nil
        configuration.shutdownGraceSeconds = 2
        let maxBatch = configuration.maxBatch

        // 2. Offline: the generator alone, batches as large as the server's.
        let latents = (0..<maxBatch).map { model.latent(seed: 1_000_000 + UInt64($0)) }
        var figures: [Figure] = []
        let offline = Figure(id: "serve.offline_b\(maxBatch)",
                             name: "generator offline, batch \(maxBatch)",
                             timing: Timing.measure(repeats: max(settings.repeats, 11)) {
                                 _ = try? model.generate(latents: latents)
                             }, items: maxBatch)
        print(offline.line)
        figures.append(offline)
        let offlineRate = Double(maxBatch) / offline.timing.median

        // 3. The server, in-process on a free loopback port.
        let server = try VoxganServer(model: model, configuration: configuration)
        try server.start()
        defer { server.stop() }
        var nextSeed: UInt64 = 1
        var rateAt16 = 0.0
        for clients in [1, 4, 16] {
            let perClient = clients == 1 ? 48 : clients == 4 ? 32 : 16
            var rates: [Double] = []
            var latencies: [Double] = []
            var runs: [Double] = []
            for _ in 0..<settings.repeats {
                let firstSeed = nextSeed
                nextSeed += UInt64(clients * perClient)
                let run = try LoadRun.run(port: server.port, clients: clients,
                                          requestsPerClient: perClient) { client, index in
                    // Fresh seeds: every request needs the generator.
                    "/v1/sample?seed=\(firstSeed + UInt64(client * perClient + index))"
                }
                runs.append(run.seconds)
                rates.append(Double(clients * perClient) / run.seconds)
                latencies += run.latencies
            }
            latencies.sort()
            let sorted = runs.sorted()
            var figure = Figure(id: "serve.clients\(clients)",
                                name: "server, \(clients) client(s), \(perClient) requests each",
                                timing: Times(median: sorted[sorted.count / 2], min: sorted[0],
                                               max: sorted[sorted.count - 1]),
                                items: clients * perClient)
            let p = { (q: Double) in latencies[min(latencies.count - 1,
                                                   Int(q * Double(latencies.count)))] * 1000 }
            let rate = Double(clients * perClient) / figure.timing.median
            figure.extra = ["requests_per_second": rate,
                            "requests_per_second_min": rates.min()!,
                            "requests_per_second_max": rates.max()!,
                            "latency_p50_ms": p(0.5), "latency_p90_ms": p(0.9),
                            "latency_p99_ms": p(0.99),
                            "share_of_offline": rate / offlineRate,
                            "note": String(format: "latency p50 %.1f p90 %.1f p99 %.1f ms; "
                                           + "%.0f %% of offline", p(0.5), p(0.9), p(0.99),
                                           100 * rate / offlineRate)]
            if clients == 16 { rateAt16 = rate }
            print(figure.line)
            figures.append(figure)
        }

        // 4. Cached: the same chair over and over, answered from the response cache.
        let cachedClients = 4
        let cachedPerClient = 2500
        var cachedRuns: [Double] = []
        for _ in 0..<settings.repeats {
            let run = try LoadRun.run(port: server.port, clients: cachedClients,
                                      requestsPerClient: cachedPerClient) { _, _ in
                "/v1/sample?seed=1"
            }
            cachedRuns.append(run.seconds)
        }
        cachedRuns.sort()
        var cached = Figure(id: "serve.cached",
                            name: "server, cached, \(cachedClients) clients",
                            timing: Times(median: cachedRuns[cachedRuns.count / 2],
                                           min: cachedRuns[0], max: cachedRuns.last!),
                            items: cachedClients * cachedPerClient)
        let cachedRate = Double(cachedClients * cachedPerClient) / cached.timing.median
        cached.extra = ["requests_per_second": cachedRate]
        print(cached.line)
        figures.append(cached)
        print(String(format: "goals: 16 clients at %.0f %% of offline (goal ≥ 90 %%): %@; "
                     + "%.0f cached responses/s (goal ≥ 10 000): %@",
                     100 * rateAt16 / offlineRate,
                     rateAt16 >= 0.9 * offlineRate ? "met" : "NOT met",
                     cachedRate, cachedRate >= 10_000 ? "met" : "NOT met"))
        return figures
    }

    static func machineDescription() -> [String: Any] {
        var model = "unknown"
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let value = line.split(separator: ":", maxSplits: 1).last {
            model = value.trimmingCharacters(in: .whitespaces)
        }
        return ["cpu": model, "cores": ProcessInfo.processInfo.activeProcessorCount,
                "load_average": loadAverage(), "openblas_core": BLAS.coreName]
    }

    /// The 1-minute load average: other jobs on a shared machine skew every figure.
    static func loadAverage() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = text.split(separator: " ").first, let value = Double(first) else {
            return -1
        }
        return value
    }
}

// MARK: - A loopback HTTP load generator

/// Keep-alive HTTP/1.1 GET clients on 127.0.0.1, one thread each, a bounded number of
/// requests per client.
enum LoadRun {

    struct Result {
        var seconds: Double
        var latencies: [Double]
    }

    /// Runs `clients` threads, each sending `requestsPerClient` GETs of `target(client, i)`
    /// one after another on its own connection. Throws on any connection error or non-200.
    static func run(port: Int, clients: Int, requestsPerClient: Int,
                    target: @escaping @Sendable (Int, Int) -> String) throws -> Result {
        final class Collected: @unchecked Sendable {
            let lock = NSLock()
            var latencies: [Double] = []
            var failure: String?
        }
        let collected = Collected()
        let group = DispatchGroup()
        let start = DispatchTime.now().uptimeNanoseconds
        for client in 0..<clients {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                var local: [Double] = []
                do {
                    let connection = try LoopbackConnection(port: port)
                    defer { connection.close() }
                    for index in 0..<requestsPerClient {
                        let begin = DispatchTime.now().uptimeNanoseconds
                        let status = try connection.get(target(client, index))
                        guard status == 200 else {
                            throw CommandFailure("GET \(target(client, index)): status \(status)")
                        }
                        local.append(Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9)
                    }
                } catch {
                    collected.lock.withLock {
                        collected.failure = collected.failure ?? "\(error)"
                    }
                }
                collected.lock.withLock { collected.latencies += local }
            }
            thread.start()
        }
        group.wait()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if let failure = collected.failure { throw CommandFailure("bench serve: \(failure)") }
        return Result(seconds: seconds, latencies: collected.latencies)
    }
}

/// One keep-alive TCP connection to 127.0.0.1:port speaking just enough HTTP/1.1 for GETs
/// answered with Content-Length.
final class LoopbackConnection {

    private let socket: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var pending: [UInt8] = []

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else {
            throw CommandFailure("socket: \(String(cString: strerror(errno)))")
        }
        var one: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one,
                   socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(socket)
            throw CommandFailure("connect to 127.0.0.1:\(port): \(message)")
        }
    }

    func close() { Glibc.close(socket) }

    /// Sends one GET and reads the whole response; returns the status code.
    func get(_ target: String) throws -> Int {
        let request = Array("GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes {
                send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard n > 0 else { throw CommandFailure("send: \(String(cString: strerror(errno)))") }
            sent += n
        }

        // Headers up to the blank line, then Content-Length bytes of body.
        var headerEnd: Int?
        while headerEnd == nil {
            try receive()
            headerEnd = find([13, 10, 13, 10], in: pending)
        }
        let head = String(decoding: pending[0..<headerEnd!], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.split(separator: " ").count >= 2,
              let status = Int(statusLine.split(separator: " ")[1]) else {
            throw CommandFailure("malformed status line '\(lines.first ?? "")'")
        }
        var length = 0
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length" {
                length = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
            }
        }
        let total = headerEnd! + 4 + length
        while pending.count < total { try receive() }
        pending.removeFirst(total)
        return status
    }

    private func receive() throws {
        let n = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        guard n > 0 else {
            throw CommandFailure(n == 0 ? "connection closed by the server"
                                 : "recv: \(String(cString: strerror(errno)))")
        }
        pending += buffer[0..<n]
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start] == needle[0]
            && Array(haystack[start..<(start + needle.count)]) == needle {
            return start
        }
        return nil
    }
}
