// Measurements for `voxgan bench gemm|layers`: the sgemm rate that every other figure is
// compared with, and each convolution layer's forward and backward rate at 3D-GAN sizes.
import Foundation

/// Median, minimum and maximum of repeated timings, in seconds.
public struct Timing: Codable, Sendable {
    public var median: Double
    public var min: Double
    public var max: Double

    public static func measure(repeats: Int, warmup: Int = 1, _ body: () -> Void) -> Timing {
        for _ in 0..<warmup { body() }
        var times: [Double] = []
        for _ in 0..<Swift.max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        times.sort()
        return Timing(median: times[times.count / 2], min: times.first!, max: times.last!)
    }
}

public enum EngineBenchmarks {

    /// GFLOP/s of a square sgemm of side `n` on `threads` OpenBLAS threads.
    public static func sgemmRate(n: Int = 1024, threads: Int = 1, repeats: Int = 5) -> Double {
        let a = Tensor(shape: [n, n]), b = Tensor(shape: [n, n]), c = Tensor(shape: [n, n])
        var random = SplitMix64(seed: 7)
        for i in 0..<a.count { a.data[i] = Float(random.uniform()); b.data[i] = Float(random.uniform()) }
        BLAS.setThreads(threads)
        let timing = Timing.measure(repeats: repeats) {
            BLAS.gemm(m: n, n: n, k: n, a: a.data, lda: n, b: b.data, ldb: n, c: c.data, ldc: n)
        }
        return 2 * Double(n * n * n) / timing.median / 1e9
    }

    /// One layer's figures.
    public struct LayerFigure: Codable, Sendable {
        public var name: String
        public var batch: Int
        public var gflop: Double
        public var forward: Timing
        public var backward: Timing
        public var forwardGFLOPS: Double { gflop / forward.median }
        /// Backward does twice the forward's multiply-adds (input and weight gradients).
        public var backwardGFLOPS: Double { 2 * gflop / backward.median }
    }

    /// Times forward and backward (input and weight gradients) of a convolution layer on a
    /// random input of `inputShape`.
    public static func measure(_ name: String, layer: Layer, inputShape: [Int], flopsPerOutput: Double,
                               repeats: Int) -> LayerFigure {
        let input = Tensor(shape: inputShape)
        var random = SplitMix64(seed: 3)
        for i in 0..<input.count { input.data[i] = Float(random.normal()) }
        for parameter in layer.parameters {
            for i in 0..<parameter.value.count { parameter.value.data[i] = Float(0.02 * random.normal()) }
        }
        let output = layer(input)
        let gradient = Tensor(shape: output.shape)
        gradient.fill(0.01)
        let gflop = flopsPerOutput * Double(output.count) / 1e9
        let forward = Timing.measure(repeats: repeats) { _ = layer(input) }
        let backward = Timing.measure(repeats: repeats) {
            _ = layer(input)
            _ = layer.backward(gradient, needsInputGradient: true)
        }
        // Backward alone: each forward+backward figure less the forward's median, so the
        // range keeps its order (min ≤ median ≤ max).
        var backwardOnly = backward
        backwardOnly.median = Swift.max(backward.median - forward.median, 1e-9)
        backwardOnly.min = Swift.max(backward.min - forward.median, 1e-9)
        backwardOnly.max = Swift.max(backward.max - forward.median, 1e-9)
        return LayerFigure(name: name, batch: inputShape[0], gflop: gflop, forward: forward,
                           backward: backwardOnly)
    }

    /// The convolution layers of the 32³ (G 256/128/64, D 64/128/256) and 64³ paper models.
    public static func layers(resolution: Int, batch: Int, repeats: Int = 3) -> [LayerFigure] {
        let gWidths = resolution == 64 ? [200, 512, 256, 128, 64, 1] : [200, 256, 128, 64, 1]
        var figures: [LayerFigure] = []
        var side = 1
        for index in 0..<(gWidths.count - 1) {
            let (cin, cout) = (gWidths[index], gWidths[index + 1])
            let layer = ConvTranspose3d(inputChannels: cin, outputChannels: cout, kernelSize: 4,
                                        stride: index == 0 ? 1 : 2, padding: index == 0 ? 0 : 1)
            // Each input voxel meets Cout·k³ weights per input channel.
            let flopsPerInput = 2.0 * Double(cout * 64)
            let inputCount = Double(batch * cin * side * side * side)
            let outSide = index == 0 ? 4 : side * 2
            let outputs = Double(batch * cout * outSide * outSide * outSide)
            figures.append(measure("G\(index) convT \(cin)→\(cout) \(side)³→\(outSide)³", layer: layer,
                                   inputShape: [batch, cin, side, side, side],
                                   flopsPerOutput: flopsPerInput * inputCount / outputs,
                                   repeats: repeats))
            side = outSide
        }
        let dWidths = resolution == 64 ? [1, 64, 128, 256, 512] : [1, 64, 128, 256]
        side = resolution
        for index in 0..<(dWidths.count - 1) {
            let (cin, cout) = (dWidths[index], dWidths[index + 1])
            let layer = Conv3d(inputChannels: cin, outputChannels: cout, kernelSize: 4, stride: 2,
                               padding: 1)
            figures.append(measure("D\(index) conv \(cin)→\(cout) \(side)³→\(side / 2)³", layer: layer,
                                   inputShape: [batch, cin, side, side, side],
                                   flopsPerOutput: 2.0 * Double(cin * 64), repeats: repeats))
            side /= 2
        }
        return figures
    }
}
