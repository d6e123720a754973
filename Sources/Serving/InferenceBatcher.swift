// Inference off the HTTP threads. Requests reserve room in a bounded queue (full → the caller
// answers 503 at once), then submit their latents; one batcher thread groups queued latents
// into generator calls of up to `maxBatch`, waiting at most `maxDelay` after the oldest one
// arrived for more to join; finished requests continue on a small worker pool, where the
// meshing, rendering and encoding happen.
import Foundation

/// A fixed set of threads running submitted closures in FIFO order.
public final class WorkerPool {

    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var head = 0
    private var stopping = false
    private var threads: [Thread] = []
    private var busy = 0

    /// Starts `threads` worker threads named `name`.
    public init(threads count: Int, name: String) {
        for index in 0..<max(1, count) {
            // The thread keeps the pool alive until `shutdown()` lets it return.
            let thread = Thread { self.run() }
            thread.name = "\(name)-\(index)"
            thread.stackSize = 8 << 20
            threads.append(thread)
            thread.start()
        }
    }

    /// Jobs waiting or running.
    public var backlog: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count - head + busy
    }

    public func submit(_ job: @escaping () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets queued jobs finish, then ends the threads (they exit on their own).
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while head == jobs.count, !stopping { condition.wait() }
            if head == jobs.count {
                condition.unlock()
                return
            }
            let job = jobs[head]
            head += 1
            if head > 1024, head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            busy += 1
            condition.unlock()
            job()
            condition.lock()
            busy -= 1
            condition.unlock()
        }
    }
}

/// Room in the inference queue for `count` latents, taken before the connection is suspended
/// so that a full queue is known at once. Submit it exactly once.
public final class InferenceReservation {
    fileprivate let count: Int
    fileprivate var used = false
    fileprivate init(count: Int) { self.count = count }
}

/// Groups latents from concurrent requests into generator batches.
public final class InferenceBatcher {

    private struct Item {
        let latent: [Float]
        let job: Job
        let index: Int
        let enqueued: UInt64
    }

    private final class Job {
        var outputs: [[Float]]
        var remaining: Int
        var failure: Error?
        let completion: (Result<[[Float]], Error>) -> Void

        init(count: Int, completion: @escaping (Result<[[Float]], Error>) -> Void) {
            outputs = [[Float]](repeating: [], count: count)
            remaining = count
            self.completion = completion
        }
    }

    public let model: ChairModel
    public let maxBatch: Int
    /// Seconds the oldest queued latent may wait for a batch to fill.
    public let maxDelay: Double
    /// Latents queued or reserved at most.
    public let capacity: Int

    private let metrics: Metrics?
    private let workers: WorkerPool
    private let condition = NSCondition()
    private var queue: [Item] = []
    private var reserved = 0
    private var stopping = false
    private var running = false
    private var thread: Thread?

    /// - Parameters:
    ///   - model: the generator; called only from the batcher thread.
    ///   - maxBatch: latents per generator call at most.
    ///   - maxDelay: seconds to wait for a batch to fill, counted from the oldest latent.
    ///   - capacity: latents that may wait (queued plus reserved).
    ///   - workers: where completions run.
    ///   - metrics: receives batch sizes and inference times.
    public init(model: ChairModel, maxBatch: Int, maxDelay: Double, capacity: Int,
                workers: WorkerPool, metrics: Metrics?) {
        self.model = model
        self.maxBatch = max(1, maxBatch)
        self.maxDelay = max(0, maxDelay)
        self.capacity = max(1, capacity)
        self.workers = workers
        self.metrics = metrics
        // The thread keeps the batcher alive until `shutdown()` lets it return.
        let thread = Thread { self.run() }
        thread.name = "voxgan-batcher"
        thread.stackSize = 16 << 20
        self.thread = thread
        thread.start()
    }

    /// Latents waiting for a batch (not yet handed to the generator).
    public var queueDepth: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count
    }

    /// Whether a generator call is in progress.
    public var isGenerating: Bool {
        condition.lock()
        defer { condition.unlock() }
        return running
    }

    /// Reserves room for `count` latents, or returns nil when the queue is full (or stopped).
    public func reserve(_ count: Int) -> InferenceReservation? {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping, count <= capacity, queue.count + reserved + count <= capacity else {
            return nil
        }
        reserved += count
        return InferenceReservation(count: count)
    }

    /// Queues `latents` (as many as reserved); `completion` runs on the worker pool with one
    /// probability array per latent, in order, or the generator's error.
    public func submit(_ reservation: InferenceReservation, latents: [[Float]],
                       completion: @escaping (Result<[[Float]], Error>) -> Void) {
        precondition(!reservation.used && latents.count == reservation.count,
                     "reservation for \(reservation.count) latents used for \(latents.count)")
        reservation.used = true
        let job = Job(count: latents.count, completion: completion)
        let now = DispatchTime.now().uptimeNanoseconds
        condition.lock()
        reserved -= reservation.count
        for (index, latent) in latents.enumerated() {
            queue.append(Item(latent: latent, job: job, index: index, enqueued: now))
        }
        condition.signal()
        condition.unlock()
        if latents.isEmpty { workers.submit { completion(.success([])) } }
    }

    /// Finishes what is queued, then ends the batcher thread.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func run() {
        let delayNanoseconds = UInt64(maxDelay * 1e9)
        while true {
            // 1. Wait for a full batch, or for the oldest latent's delay to run out.
            condition.lock()
            while true {
                if queue.isEmpty {
                    if stopping {
                        condition.unlock()
                        return
                    }
                    condition.wait()
                    continue
                }
                if queue.count >= maxBatch || stopping { break }
                let deadline = queue[0].enqueued + delayNanoseconds
                let now = DispatchTime.now().uptimeNanoseconds
                if now >= deadline { break }
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(deadline - now) / 1e9))
            }
            let take = min(maxBatch, queue.count)
            let batch = Array(queue[0..<take])
            queue.removeFirst(take)
            running = true
            condition.unlock()

            // 2. One generator call for the whole batch.
            let started = DispatchTime.now().uptimeNanoseconds
            let result = Result { try model.generate(latents: batch.map(\.latent)) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            metrics?.recordBatch(size: batch.count, seconds: seconds)
            condition.lock()
            running = false
            condition.unlock()

            // 3. Hand each finished request to the workers.
            for (offset, item) in batch.enumerated() {
                let job = item.job
                switch result {
                case .success(let outputs) where outputs.count == batch.count:
                    job.outputs[item.index] = outputs[offset]
                case .success(let outputs):
                    job.failure = job.failure ?? InferenceError(
                        "generator returned \(outputs.count) grids for \(batch.count) latents")
                case .failure(let error):
                    job.failure = job.failure ?? error
                }
                job.remaining -= 1
                if job.remaining == 0 {
                    let outcome: Result<[[Float]], Error> =
                        job.failure.map { .failure($0) } ?? .success(job.outputs)
                    workers.submit { job.completion(outcome) }
                }
            }
        }
    }
}

/// The generator misbehaved.
public struct InferenceError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
