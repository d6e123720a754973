// Optimisers with PyTorch's update rules (torch.optim.Adam and torch.optim.SGD, no weight
// decay, no AMSGrad, no momentum for SGD).
import Foundation

/// Adam (Kingma & Ba) exactly as torch.optim.Adam computes it:
///
///     m = β1·m + (1−β1)·g;   v = β2·v + (1−β2)·g²
///     p −= (lr / (1 − β1ᵗ)) · m / (sqrt(v) / sqrt(1 − β2ᵗ) + ε)
///
/// ε is added after the bias correction of v, as PyTorch does.
public final class Adam {

    public let parameters: [Parameter]
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    /// Steps taken so far (t after the next step is `step + 1`).
    public private(set) var step: Int = 0
    /// First and second moment estimates, one tensor per parameter, same shapes.
    public let firstMoments: [Tensor]
    public let secondMoments: [Tensor]

    public init(parameters: [Parameter], learningRate: Float, beta1: Float = 0.9,
                beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        firstMoments = parameters.map { Tensor(shape: $0.value.shape) }
        secondMoments = parameters.map { Tensor(shape: $0.value.shape) }
    }

    /// Applies one update from the parameters' accumulated gradients.
    public func update() {
        step += 1
        let t = Double(step)
        let stepSize = Float(Double(learningRate) / (1 - pow(Double(beta1), t)))
        let correction2 = Float((1 - pow(Double(beta2), t)).squareRoot())
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        for (index, parameter) in parameters.enumerated() {
            let (p, g) = (parameter.value.data, parameter.gradient.data)
            let (m, v) = (firstMoments[index].data, secondMoments[index].data)
            for i in 0..<parameter.value.count {
                m[i] = b1 * m[i] + (1 - b1) * g[i]
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                let denominator = v[i].squareRoot() / correction2 + eps
                p[i] -= stepSize * m[i] / denominator
            }
        }
    }

    /// Restores the step count from a checkpoint (the moments are restored by writing into
    /// `firstMoments` and `secondMoments`).
    public func restore(step: Int) { self.step = step }

    public func zeroGradients() { parameters.forEach { $0.zeroGradient() } }
}

/// Plain stochastic gradient descent: `p −= lr · g`.
public final class SGD {

    public let parameters: [Parameter]
    public var learningRate: Float

    public init(parameters: [Parameter], learningRate: Float) {
        self.parameters = parameters
        self.learningRate = learningRate
    }

    public func update() {
        for parameter in parameters {
            let (p, g, lr) = (parameter.value.data, parameter.gradient.data, learningRate)
            for i in 0..<parameter.value.count { p[i] -= lr * g[i] }
        }
    }

    public func zeroGradients() { parameters.forEach { $0.zeroGradient() } }
}
