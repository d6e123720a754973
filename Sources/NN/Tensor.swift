// Float32 tensors in PyTorch's NCDHW layout, and the thread settings every layer shares.
//
// Dimension letters used throughout the engine:
//   N batch, C channels, D H W spatial extents (depth, height, width = x, y, z of a voxel grid),
//   K = C·k³ rows of an unfolded (im2col) matrix, L = D·H·W columns.
import Foundation

/// A contiguous float32 array with a shape, row-major (the last axis fastest), like a
/// contiguous PyTorch tensor. Layers keep their outputs in tensors they own and reuse them
/// from one call to the next, so a training step allocates nothing once warmed up.
public final class Tensor {

    public private(set) var shape: [Int]
    public private(set) var count: Int
    private var capacity: Int
    public private(set) var data: UnsafeMutablePointer<Float>

    /// A zero-filled tensor of `shape`.
    public init(shape: [Int]) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.capacity = max(count, 1)
        self.data = .allocate(capacity: capacity)
        data.initialize(repeating: 0, count: capacity)
    }

    /// A tensor holding `values` (row-major) with `shape`.
    public convenience init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "\(values.count) values for \(shape)")
        self.init(shape: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit { data.deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: data, count: count) }

    /// Batch size: the first extent.
    public var batch: Int { shape[0] }

    /// Elements per sample: everything after the first extent.
    public var sampleSize: Int { shape.count > 1 ? count / shape[0] : 1 }

    /// Gives the tensor a new shape, reallocating only when it must grow. Contents are
    /// unspecified afterwards unless the element count is unchanged.
    public func resize(to newShape: [Int]) {
        let newCount = newShape.reduce(1, *)
        if newCount > capacity {
            data.deallocate()
            capacity = newCount
            data = .allocate(capacity: capacity)
            data.initialize(repeating: 0, count: capacity)
        }
        shape = newShape
        count = newCount
    }

    public func fill(_ value: Float) { data.update(repeating: value, count: count) }

    public func copy(from other: Tensor) {
        resize(to: other.shape)
        data.update(from: other.data, count: count)
    }

    public func toArray() -> [Float] { Array(buffer) }

    /// True when any element is NaN or infinite.
    public var hasNonFinite: Bool {
        for index in 0..<count where !data[index].isFinite { return true }
        return false
    }
}

/// A trainable tensor and the gradient accumulated for it.
public final class Parameter {

    /// Name in the PyTorch `state_dict` sense, e.g. "weight" or "bn_weight".
    public let name: String
    public let value: Tensor
    public let gradient: Tensor
    /// When false, backward passes leave `gradient` alone and skip the work of computing it
    /// (PyTorch's `requires_grad`): the generator's pass through D needs D's input gradient
    /// only, and D's weight gradients would be half of D's backward arithmetic.
    public var requiresGradient = true

    public init(name: String, shape: [Int]) {
        self.name = name
        self.value = Tensor(shape: shape)
        self.gradient = Tensor(shape: shape)
    }

    public func zeroGradient() { gradient.fill(0) }
}

/// How many threads the engine uses. Batched work is split over samples, one thread each with
/// single-threaded OpenBLAS; work on a single sample lets OpenBLAS use the threads instead, so
/// the two never oversubscribe the cores.
public enum ComputeThreads {

    /// Number of worker threads; defaults to `VOXGAN_THREADS` or the number of cores.
    nonisolated(unsafe) public static var count: Int = {
        if let text = ProcessInfo.processInfo.environment["VOXGAN_THREADS"], let n = Int(text),
           n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Runs `body(worker, range)` over `0..<total` split into contiguous ranges, one per worker,
    /// in parallel. The split depends only on `total` and `count`, so results are reproducible.
    /// `blasThreads: 1` keeps OpenBLAS on one thread even when one worker does everything.
    public static func parallelRanges(_ total: Int, blasThreads: Int? = nil,
                                      _ body: (_ worker: Int, _ range: Range<Int>) -> Void) {
        let workers = min(count, total)
        if let blasThreads { BLAS.setThreads(blasThreads) }
        if workers <= 1 {
            if total > 0 { body(0, 0..<total) }
            return
        }
        BLAS.setThreads(1)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let start = total * worker / workers
            let end = total * (worker + 1) / workers
            body(worker, start..<end)
        }
    }

    /// Runs `body(worker, range)` over `0..<total`: split among the workers when there are
    /// several threads and items, else as one range with OpenBLAS using every thread. Layers go
    /// through here so that within a pass only one kind of parallelism runs, and a batch keeps
    /// to one kind from layer to layer (an idle OpenBLAS thread spins for a while and would
    /// take a worker's core).
    public static func distribute(_ total: Int,
                                  _ body: (_ worker: Int, _ range: Range<Int>) -> Void) {
        if workers(for: total) == 1 {
            BLAS.withAllThreads { if total > 0 { body(0, 0..<total) } }
        } else {
            parallelRanges(total, body)
        }
    }

    /// The number of workers `parallelRanges` uses for `total` items.
    public static func workers(for total: Int) -> Int { max(1, min(count, total)) }
}
