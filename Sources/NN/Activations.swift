// Element-wise activations: forward and backward side by side. Each keeps its output buffer;
// backward needs only the output (ReLU, sigmoid) or the input's sign (leaky ReLU). The rules of
// ReLU and leaky ReLU are written once, below the layers, as `ElementwiseActivation`s that
// BatchNorm3d also applies inside its own passes; their loops run on 16-float vectors.
import Foundation

/// ReLU, `y = max(x, 0)`; any shape. Backward: `dx = dy · [y > 0]`.
public final class ReLU: Layer {

    public var isTraining = true
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])

    public init() {}

    public func forward(_ x: Tensor) -> Tensor {
        output.resize(to: x.shape)
        Rectifier().apply(x.data, to: output.data, count: x.count)
        return output
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        inputGradient.resize(to: dy.shape)
        // y ≤ 0 exactly where x ≤ 0, so the output's sign stands in for the input's.
        Rectifier().gradient(dy.data, at: output.data, to: inputGradient.data, count: dy.count)
        return inputGradient
    }
}

/// Leaky ReLU, `y = x > 0 ? x : slope·x` (3D-GAN's discriminator uses slope 0.2); any shape.
/// Backward: `dx = dy` where `y > 0`, else `slope·dy` (y and x share their sign for slope ≥ 0).
public final class LeakyReLU: Layer {

    public let slope: Float
    public var isTraining = true
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])

    public init(slope: Float = 0.2) { self.slope = slope }

    public func forward(_ x: Tensor) -> Tensor {
        output.resize(to: x.shape)
        LeakyRectifier(slope: slope).apply(x.data, to: output.data, count: x.count)
        return output
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        inputGradient.resize(to: dy.shape)
        LeakyRectifier(slope: slope).gradient(dy.data, at: output.data, to: inputGradient.data,
                                              count: dy.count)
        return inputGradient
    }
}

/// Logistic sigmoid, `y = 1/(1 + e^−x)`; any shape. Backward: `dx = dy · y · (1 − y)`.
///
/// The forward loop stays scalar (one `expf` call per element); it runs once per step, on G's
/// last output only.
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

// MARK: - Element-wise rules shared with BatchNorm3d

/// The vector the element-wise loops work on: 16 floats, four SSE registers.
typealias FloatVector = SIMD16<Float>

/// One activation's rule, for one float and for a vector of them. Generic code specialised on
/// each conforming type compiles to straight vector code with no per-element branch.
///
/// Every rule keeps `p ≤ 0` as its only test, so a NaN passes through as NaN (the trainer
/// watches for it) and the gradient at exactly 0 is PyTorch's (ReLU 0, leaky ReLU `slope`).
protocol ElementwiseActivation {

    /// y = f(p).
    func callAsFunction(_ p: Float) -> Float
    func callAsFunction(_ p: FloatVector) -> FloatVector

    /// ∂L/∂p from g = ∂L/∂y; `p` may also be anything with p's sign where `p ≤ 0`, such as y.
    func gradient(_ g: Float, at p: Float) -> Float
    func gradient(_ g: FloatVector, at p: FloatVector) -> FloatVector
}

/// No activation: y = p.
struct Identity: ElementwiseActivation {

    @inline(__always) func callAsFunction(_ p: Float) -> Float { p }
    @inline(__always) func callAsFunction(_ p: FloatVector) -> FloatVector { p }
    @inline(__always) func gradient(_ g: Float, at p: Float) -> Float { g }
    @inline(__always) func gradient(_ g: FloatVector, at p: FloatVector) -> FloatVector { g }
}

/// ReLU: y = p ≤ 0 ? 0 : p.
struct Rectifier: ElementwiseActivation {

    @inline(__always) func callAsFunction(_ p: Float) -> Float { p <= 0 ? 0 : p }

    @inline(__always) func callAsFunction(_ p: FloatVector) -> FloatVector {
        p.replacing(with: 0, where: p .<= 0)
    }

    @inline(__always) func gradient(_ g: Float, at p: Float) -> Float { p <= 0 ? 0 : g }

    @inline(__always) func gradient(_ g: FloatVector, at p: FloatVector) -> FloatVector {
        g.replacing(with: 0, where: p .<= 0)
    }
}

/// Leaky ReLU: y = p ≤ 0 ? slope·p : p.
struct LeakyRectifier: ElementwiseActivation {

    let slope: Float

    @inline(__always) func callAsFunction(_ p: Float) -> Float { p <= 0 ? slope * p : p }

    @inline(__always) func callAsFunction(_ p: FloatVector) -> FloatVector {
        p.replacing(with: slope * p, where: p .<= 0)
    }

    @inline(__always) func gradient(_ g: Float, at p: Float) -> Float { p <= 0 ? slope * g : g }

    @inline(__always) func gradient(_ g: FloatVector, at p: FloatVector) -> FloatVector {
        g.replacing(with: slope * g, where: p .<= 0)
    }
}

extension ElementwiseActivation {

    /// target[i] = f(source[i]) for i < count.
    @inline(__always)
    func apply(_ source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>,
               count: Int) {
        var index = 0
        while index + FloatVector.scalarCount <= count {
            let p = FloatVector.load(source + index)
            self(p).store(to: target + index)
            index += FloatVector.scalarCount
        }
        while index < count {
            target[index] = self(source[index])
            index += 1
        }
    }

    /// dx[i] = gradient(dy[i], at: p[i]) for i < count.
    @inline(__always)
    func gradient(_ dy: UnsafePointer<Float>, at p: UnsafePointer<Float>,
                  to dx: UnsafeMutablePointer<Float>, count: Int) {
        var index = 0
        while index + FloatVector.scalarCount <= count {
            gradient(FloatVector.load(dy + index), at: FloatVector.load(p + index))
                .store(to: dx + index)
            index += FloatVector.scalarCount
        }
        while index < count {
            dx[index] = gradient(dy[index], at: p[index])
            index += 1
        }
    }
}

extension FloatVector {

    /// The 16 floats from `pointer` on (any alignment).
    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>) -> FloatVector {
        UnsafeRawPointer(pointer).loadUnaligned(as: FloatVector.self)
    }

    @inline(__always)
    func store(to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: FloatVector.self)
    }
}
