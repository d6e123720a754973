// Element-wise activations: forward and backward side by side. Each keeps its output buffer;
// backward needs only the output (ReLU, sigmoid) or the input's sign (leaky ReLU).
import Foundation

/// ReLU, `y = max(x, 0)`; any shape. Backward: `dx = dy · [y > 0]`.
public final class ReLU: Layer {

    public var isTraining = true
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])

    public init() {}

    public func forward(_ x: Tensor) -> Tensor {
        output.resize(to: x.shape)
        let (source, target) = (x.data, output.data)
        for index in 0..<x.count { target[index] = max(source[index], 0) }
        return output
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        inputGradient.resize(to: dy.shape)
        let (y, g, dx) = (output.data, dy.data, inputGradient.data)
        for index in 0..<dy.count { dx[index] = y[index] > 0 ? g[index] : 0 }
        return inputGradient
    }
}

/// Leaky ReLU, `y = x > 0 ? x : slope·x` (3D-GAN's discriminator uses slope 0.2); any shape.
/// Backward: `dx = dy` where `y > 0`, else `slope·dy` (y and x share their sign).
public final class LeakyReLU: Layer {

    public let slope: Float
    public var isTraining = true
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])

    public init(slope: Float = 0.2) { self.slope = slope }

    public func forward(_ x: Tensor) -> Tensor {
        output.resize(to: x.shape)
        let (source, target, slope) = (x.data, output.data, slope)
        for index in 0..<x.count {
            let value = source[index]
            target[index] = value > 0 ? value : slope * value
        }
        return output
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        inputGradient.resize(to: dy.shape)
        let (y, g, dx, slope) = (output.data, dy.data, inputGradient.data, slope)
        for index in 0..<dy.count { dx[index] = y[index] > 0 ? g[index] : slope * g[index] }
        return inputGradient
    }
}

/// Logistic sigmoid, `y = 1/(1 + e^−x)`; any shape. Backward: `dx = dy · y · (1 − y)`.
public final class Sigmoid: Layer {

    public var isTraining = true
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])

    public init() {}

    public func forward(_ x: Tensor) -> Tensor {
        output.resize(to: x.shape)
        let (source, target) = (x.data, output.data)
        for index in 0..<x.count { target[index] = sigmoid(source[index]) }
        return output
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        inputGradient.resize(to: dy.shape)
        let (y, g, dx) = (output.data, dy.data, inputGradient.data)
        for index in 0..<dy.count { dx[index] = g[index] * y[index] * (1 - y[index]) }
        return inputGradient
    }
}

/// The logistic function, evaluated so that `exp` never overflows: for x < 0 it uses
/// e^x/(1 + e^x), for x ≥ 0 the usual 1/(1 + e^−x).
@inline(__always)
public func sigmoid(_ x: Float) -> Float {
    if x >= 0 { return 1 / (1 + expf(-x)) }
    let e = expf(x)
    return e / (1 + e)
}
