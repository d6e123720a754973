// Counters, gauges and histograms for GET /metrics, in the Prometheus text exposition format
// (version 0.0.4). One lock guards everything: updates are a few additions per request.
import Foundation

/// A cumulative histogram with fixed upper bounds.
struct Histogram {

    let bounds: [Double]
    private(set) var counts: [UInt64]
    private(set) var sum: Double = 0
    private(set) var count: UInt64 = 0

    init(bounds: [Double]) {
        self.bounds = bounds
        self.counts = [UInt64](repeating: 0, count: bounds.count)
    }

    mutating func observe(_ value: Double) {
        if let bucket = bounds.firstIndex(where: { value <= $0 }) { counts[bucket] += 1 }
        sum += value
        count += 1
    }

    /// Prometheus lines for this histogram; `labels` is "" or `key="value",` pairs ending
    /// in a comma.
    func lines(name: String, labels: String) -> [String] {
        var lines: [String] = []
        var cumulative: UInt64 = 0
        for (bound, bucketCount) in zip(bounds, counts) {
            cumulative += bucketCount
            lines.append("\(name)_bucket{\(labels)le=\"\(Metrics.format(bound))\"} \(cumulative)")
        }
        lines.append("\(name)_bucket{\(labels)le=\"+Inf\"} \(count)")
        let plain = labels.isEmpty ? "" : "{\(labels.dropLast())}"
        lines.append("\(name)_sum\(plain) \(Metrics.format(sum))")
        lines.append("\(name)_count\(plain) \(count)")
        return lines
    }
}

/// The server's metrics. Thread-safe.
public final class Metrics {

    private static let latencyBounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25, 0.5, 1, 2.5, 5, 10]
    private static let batchBounds: [Double] = [1, 2, 4, 8, 16, 32, 64, 128]

    private let lock = NSLock()
    private var requests: [RequestKey: UInt64] = [:]
    private var aborted: [String: UInt64] = [:]
    private var latency: [String: Histogram] = [:]
    private var batchSizes = Histogram(bounds: Metrics.batchBounds)
    private var inference = Histogram(bounds: Metrics.latencyBounds)
    private var samplesGenerated: UInt64 = 0
    private var cacheHits: UInt64 = 0
    private var cacheMisses: UInt64 = 0
    private var rejected: UInt64 = 0
    private let buildInfo: [(String, String)]
    private let started = Date()

    /// Reads the inference queue depth at scrape time.
    var queueDepth: () -> Int = { 0 }
    /// Reads the number of requests in progress at scrape time.
    var inProgress: () -> Int = { 0 }

    private struct RequestKey: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    /// - Parameter buildInfo: labels of the constant `voxgan_build_info` gauge.
    public init(buildInfo: [(String, String)]) {
        self.buildInfo = buildInfo
    }

    /// - Parameters:
    ///   - status: status sent, 0 when the request ended before any (labelled "none").
    ///   - completedNormally: false when the client left, timed out or was cut off; such
    ///     requests are also counted in `voxgan_http_requests_aborted_total`.
    func recordRequest(route: String, method: String, status: Int, completedNormally: Bool,
                       seconds: Double) {
        lock.lock()
        requests[RequestKey(route: route, method: method, status: status), default: 0] += 1
        if !completedNormally { aborted[route, default: 0] += 1 }
        latency[route, default: Histogram(bounds: Metrics.latencyBounds)].observe(seconds)
        lock.unlock()
    }

    func recordBatch(size: Int, seconds: Double) {
        lock.lock()
        batchSizes.observe(Double(size))
        inference.observe(seconds)
        samplesGenerated += UInt64(size)
        lock.unlock()
    }

    func recordCache(hit: Bool) {
        lock.lock()
        if hit { cacheHits += 1 } else { cacheMisses += 1 }
        lock.unlock()
    }

    func recordQueueFull() {
        lock.lock()
        rejected += 1
        lock.unlock()
    }

    /// Number of requests counted so far for `route` (any method and status).
    public func requestCount(route: String) -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        return requests.filter { $0.key.route == route }.values.reduce(0, +)
    }

    /// The exposition text.
    public func render() -> String {
        let depth = queueDepth()
        let running = inProgress()
        lock.lock()
        defer { lock.unlock() }
        var lines: [String] = []
        func header(_ name: String, _ type: String, _ help: String) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
        }

        header("voxgan_http_requests_total", "counter",
               "HTTP requests by route, method and status (\"none\": ended before a response).")
        for (key, value) in requests.sorted(by: { ($0.key.route, $0.key.method, $0.key.status)
                                                  < ($1.key.route, $1.key.method, $1.key.status) }) {
            let status = key.status == 0 ? "none" : String(key.status)
            lines.append("voxgan_http_requests_total{route=\"\(key.route)\",method=\"\(key.method)\","
                         + "status=\"\(status)\"} \(value)")
        }
        header("voxgan_http_requests_aborted_total", "counter",
               "Requests whose connection ended abnormally (client gone, timeout, cut off), "
               + "by route; status \"none\" above when no response was sent.")
        for (route, value) in aborted.sorted(by: { $0.key < $1.key }) {
            lines.append("voxgan_http_requests_aborted_total{route=\"\(route)\"} \(value)")
        }
        header("voxgan_http_request_duration_seconds", "histogram",
               "Time from request headers to the end of the response, by route.")
        for (route, histogram) in latency.sorted(by: { $0.key < $1.key }) {
            lines += histogram.lines(name: "voxgan_http_request_duration_seconds",
                                     labels: "route=\"\(route)\",")
        }
        header("voxgan_http_requests_in_progress", "gauge", "Requests started and not finished.")
        lines.append("voxgan_http_requests_in_progress \(running)")
        header("voxgan_inference_queue_depth", "gauge", "Latents waiting for the generator.")
        lines.append("voxgan_inference_queue_depth \(depth)")
        header("voxgan_inference_queue_rejections_total", "counter",
               "Requests answered 503 because the inference queue was full.")
        lines.append("voxgan_inference_queue_rejections_total \(rejected)")
        header("voxgan_inference_batch_size", "histogram", "Latents per generator call.")
        lines += batchSizes.lines(name: "voxgan_inference_batch_size", labels: "")
        header("voxgan_inference_seconds", "histogram", "Wall time of one generator call.")
        lines += inference.lines(name: "voxgan_inference_seconds", labels: "")
        header("voxgan_samples_generated_total", "counter", "Chairs the generator produced.")
        lines.append("voxgan_samples_generated_total \(samplesGenerated)")
        header("voxgan_cache_requests_total", "counter", "Result cache lookups by outcome.")
        lines.append("voxgan_cache_requests_total{result=\"hit\"} \(cacheHits)")
        lines.append("voxgan_cache_requests_total{result=\"miss\"} \(cacheMisses)")
        header("voxgan_process_start_time_seconds", "gauge", "Start time, seconds since 1970.")
        lines.append("voxgan_process_start_time_seconds "
                     + Metrics.format(started.timeIntervalSince1970.rounded()))
        header("voxgan_build_info", "gauge", "Build and model identity; always 1.")
        let labels = buildInfo.map { "\($0.0)=\"\(Metrics.escape($0.1))\"" }
            .joined(separator: ",")
        lines.append("voxgan_build_info{\(labels)} 1")
        return lines.joined(separator: "\n") + "\n"
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
