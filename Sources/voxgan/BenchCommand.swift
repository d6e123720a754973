import CommandLineKit
import Foundation
import NN

/// `voxgan bench`: speed figures, each next to the sgemm rate measured in the same run.
enum BenchCommand {

    static let spec = CommandSpec(
        name: "bench",
        abstract: "Benchmark voxgan against references.",
        discussion: """
            Every figure is the median of repeats with min and max. The sgemm rate of this
            machine, measured in the same run, is the yardstick: compare ratios, not seconds,
            across machines. Set OPENBLAS_NUM_THREADS=1 for repeatable single-thread figures.
            """,
        arguments: [Argument("suite", help: "all, gemm, layers (default: all).", optional: true)],
        options: [
            .value("json", "FILE", help: "Also write the figures as JSON."),
            .value("threads", "N", help: "Compute threads (default: all cores)."),
            .value("batch", "N", default: "8", help: "Batch size for layer figures."),
            .value("repeats", "N", default: "3", help: "Timed repeats per figure."),
        ])

    static func run(_ arguments: [String]) throws {
        guard let options = try spec.parse(arguments) else { return }
        let suite = options.positionals.first ?? "all"
        let known = ["all", "gemm", "layers"]
        guard known.contains(suite) else {
            throw UsageError("unknown suite '\(suite)'; choose one of \(known.joined(separator: ", "))")
        }
        if let threads = try options.int("threads", in: 1...256) { ComputeThreads.count = threads }
        let batch = try options.int("batch", in: 1...1024) ?? 8
        let repeats = try options.int("repeats", in: 1...1000) ?? 3
        var report: [String: Any] = ["threads": ComputeThreads.count, "machine": machineDescription()]

        let sgemm1 = EngineBenchmarks.sgemmRate(threads: 1)
        let sgemmAll = EngineBenchmarks.sgemmRate(threads: ComputeThreads.count)
        report["sgemm_gflops_1_thread"] = sgemm1
        report["sgemm_gflops_all_threads"] = sgemmAll
        print(String(format: "sgemm 1024³: %.1f GFLOP/s on 1 thread, %.1f on %d", sgemm1, sgemmAll,
                     ComputeThreads.count))

        if suite == "all" || suite == "layers" {
            var rows: [[String: Any]] = []
            for resolution in [32, 64] {
                for figure in EngineBenchmarks.layers(resolution: resolution, batch: batch, repeats: repeats) {
                    print(String(format: "%-34@ batch %d  forward %7.2f ms %6.1f GFLOP/s (%3.0f%% of sgemm)  backward %7.2f ms %6.1f GFLOP/s (%3.0f%%)",
                                 figure.name as NSString, figure.batch, figure.forward.median * 1000,
                                 figure.forwardGFLOPS, 100 * figure.forwardGFLOPS / sgemmAll,
                                 figure.backward.median * 1000, figure.backwardGFLOPS,
                                 100 * figure.backwardGFLOPS / sgemmAll))
                    rows.append(["name": figure.name, "resolution": resolution, "batch": figure.batch,
                                 "gflop": figure.gflop, "forward_ms": figure.forward.median * 1000,
                                 "forward_min_ms": figure.forward.min * 1000,
                                 "forward_max_ms": figure.forward.max * 1000,
                                 "backward_ms": figure.backward.median * 1000,
                                 "forward_gflops": figure.forwardGFLOPS,
                                 "backward_gflops": figure.backwardGFLOPS])
                }
            }
            report["layers"] = rows
        }
        if let path = options.string("json") {
            let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: path))
        }
    }

    static func machineDescription() -> [String: Any] {
        var model = "unknown"
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let value = line.split(separator: ":", maxSplits: 1).last {
            model = value.trimmingCharacters(in: .whitespaces)
        }
        return ["cpu": model, "cores": ProcessInfo.processInfo.activeProcessorCount]
    }
}
