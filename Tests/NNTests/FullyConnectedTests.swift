// The 1³ ↔ 4³ layers (the generator's first, the discriminator's last) take their own paths:
// one matrix-vector product per sample for one or two samples, workers splitting samples or
// weight-gradient columns otherwise. Every batch size and thread count must give the product
// by definition.
import NN
import XCTest

final class FullyConnectedTests: XCTestCase {

    private var savedThreads = ComputeThreads.count

    override func setUp() { savedThreads = ComputeThreads.count }

    override func tearDown() { ComputeThreads.count = savedThreads }

    /// ConvTranspose3d 1³ → 4³ is Y (N × Cout·64) = X (N × Cin) · W, with W stored Cin × Cout·64.
    func testFirstGeneratorLayerForEveryBatchSizeAndThreadCount() {
        let (cin, cout) = (6, 3)
        check(inputShape: { [$0, cin, 1, 1, 1] }, outputWidth: cout * 64,
              weightIsInputMajor: true) {
            ConvTranspose3d(inputChannels: cin, outputChannels: cout, kernelSize: 4)
        }
    }

    /// Conv3d 4³ → 1³ is Y (N × Cout) = X (N × Cin·64) · Wᵀ, with W stored Cout × Cin·64.
    func testLastDiscriminatorLayerForEveryBatchSizeAndThreadCount() {
        let (cin, cout) = (3, 2)
        check(inputShape: { [$0, cin, 4, 4, 4] }, outputWidth: cout,
              weightIsInputMajor: false) {
            Conv3d(inputChannels: cin, outputChannels: cout, kernelSize: 4)
        }
    }

    /// y = x·M, dx = dy·Mᵀ, dM = xᵀ·dy for batches 1–5 on 1 and 2 threads, where M is the
    /// weight (input-major) or its transpose.
    private func check(inputShape: (Int) -> [Int], outputWidth: Int, weightIsInputMajor: Bool,
                       makeLayer: () -> Layer, file: StaticString = #filePath,
                       line: UInt = #line) {
        for threads in [1, 2] {
            ComputeThreads.count = threads
            for batch in 1...5 {
                var random = SplitMix64(seed: UInt64(10 * threads + batch))
                let layer = makeLayer()
                let w = layer.parameters[0]
                for i in 0..<w.value.count { w.value.data[i] = Float(random.normal()) }
                let x = Tensor(shape: inputShape(batch))
                for i in 0..<x.count { x.data[i] = Float(random.normal()) }
                let inputWidth = x.sampleSize
                func m(_ i: Int, _ o: Int) -> Int {
                    weightIsInputMajor ? i * outputWidth + o : o * inputWidth + i
                }

                let y = layer(x)
                XCTAssertEqual(y.sampleSize, outputWidth, file: file, line: line)
                let dy = Tensor(shape: y.shape)
                for i in 0..<dy.count { dy.data[i] = Float(random.normal()) }
                let dx = layer.backward(dy, needsInputGradient: true)!
                let context = "batch \(batch), \(threads) threads"
                for n in 0..<batch {
                    for o in 0..<outputWidth {
                        var sum: Float = 0
                        for i in 0..<inputWidth {
                            sum += x.data[n * inputWidth + i] * w.value.data[m(i, o)]
                        }
                        XCTAssertEqual(y.data[n * outputWidth + o], sum, accuracy: 1e-3,
                                       "y, \(context)", file: file, line: line)
                    }
                    for i in 0..<inputWidth {
                        var sum: Float = 0
                        for o in 0..<outputWidth {
                            sum += dy.data[n * outputWidth + o] * w.value.data[m(i, o)]
                        }
                        XCTAssertEqual(dx.data[n * inputWidth + i], sum, accuracy: 1e-3,
                                       "dx, \(context)", file: file, line: line)
                    }
                }
                for i in 0..<inputWidth {
                    for o in 0..<outputWidth {
                        var sum: Float = 0
                        for n in 0..<batch {
                            sum += x.data[n * inputWidth + i] * dy.data[n * outputWidth + o]
                        }
                        XCTAssertEqual(w.gradient.data[m(i, o)], sum, accuracy: 1e-4,
                                       "dW, \(context)", file: file, line: line)
                    }
                }
            }
        }
    }
}
