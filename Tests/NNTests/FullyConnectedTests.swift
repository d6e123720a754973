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

    func testFirstGeneratorLayerForEveryBatchSizeAndThreadCount() {
        let (cin, cout) = (6, 3)
        let rows = cout * 64
        for threads in [1, 2] {
            ComputeThreads.count = threads
            for batch in 1...5 {
                var random = SplitMix64(seed: UInt64(batch))
                let layer = ConvTranspose3d(inputChannels: cin, outputChannels: cout,
                                            kernelSize: 4)
                let w = layer.weight.value
                for i in 0..<w.count { w.data[i] = Float(random.normal()) }
                let x = Tensor(shape: [batch, cin, 1, 1, 1])
                for i in 0..<x.count { x.data[i] = Float(random.normal()) }
                let dy = Tensor(shape: [batch, cout, 4, 4, 4])
                for i in 0..<dy.count { dy.data[i] = Float(random.normal()) }

                let y = layer(x)
                let dx = layer.backward(dy, needsInputGradient: true)!
                for n in 0..<batch {
                    for r in 0..<rows {
                        var sum: Float = 0
                        for c in 0..<cin { sum += x.data[n * cin + c] * w.data[c * rows + r] }
                        XCTAssertEqual(y.data[n * rows + r], sum, accuracy: 1e-4,
                                       "y, batch \(batch), \(threads) threads")
                    }
                    for c in 0..<cin {
                        var sum: Float = 0
                        for r in 0..<rows { sum += dy.data[n * rows + r] * w.data[c * rows + r] }
                        XCTAssertEqual(dx.data[n * cin + c], sum, accuracy: 1e-3,
                                       "dx, batch \(batch), \(threads) threads")
                    }
                }
                for c in 0..<cin {
                    for r in 0..<rows {
                        var sum: Float = 0
                        for n in 0..<batch { sum += x.data[n * cin + c] * dy.data[n * rows + r] }
                        XCTAssertEqual(layer.weight.gradient.data[c * rows + r], sum,
                                       accuracy: 1e-4, "dW, batch \(batch), \(threads) threads")
                    }
                }
            }
        }
    }

    func testLastDiscriminatorLayerForEveryBatchSizeAndThreadCount() {
        let (cin, cout) = (3, 2)
        let rows = cin * 64
        for threads in [1, 2] {
            ComputeThreads.count = threads
            for batch in 1...5 {
                var random = SplitMix64(seed: UInt64(10 + batch))
                let layer = Conv3d(inputChannels: cin, outputChannels: cout, kernelSize: 4)
                let w = layer.weight.value
                for i in 0..<w.count { w.data[i] = Float(random.normal()) }
                let x = Tensor(shape: [batch, cin, 4, 4, 4])
                for i in 0..<x.count { x.data[i] = Float(random.normal()) }
                let dy = Tensor(shape: [batch, cout, 1, 1, 1])
                for i in 0..<dy.count { dy.data[i] = Float(random.normal()) }

                let y = layer(x)
                let dx = layer.backward(dy, needsInputGradient: true)!
                for n in 0..<batch {
                    for o in 0..<cout {
                        var sum: Float = 0
                        for r in 0..<rows { sum += x.data[n * rows + r] * w.data[o * rows + r] }
                        XCTAssertEqual(y.data[n * cout + o], sum, accuracy: 1e-3,
                                       "y, batch \(batch), \(threads) threads")
                    }
                    for r in 0..<rows {
                        var sum: Float = 0
                        for o in 0..<cout { sum += dy.data[n * cout + o] * w.data[o * rows + r] }
                        XCTAssertEqual(dx.data[n * rows + r], sum, accuracy: 1e-4,
                                       "dx, batch \(batch), \(threads) threads")
                    }
                }
                for o in 0..<cout {
                    for r in 0..<rows {
                        var sum: Float = 0
                        for n in 0..<batch { sum += dy.data[n * cout + o] * x.data[n * rows + r] }
                        XCTAssertEqual(layer.weight.gradient.data[o * rows + r], sum,
                                       accuracy: 1e-4, "dW, batch \(batch), \(threads) threads")
                    }
                }
            }
        }
    }
}
