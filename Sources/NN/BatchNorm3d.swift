// BatchNorm3d: forward and backward, as PyTorch's torch.nn.BatchNorm3d
// (https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm3d.html), optionally followed by
// ReLU or leaky ReLU in the same passes over memory.
import Foundation

/// Batch normalisation over N, D, H, W for each channel, with learned γ (weight) and β (bias),
/// then an optional activation: `y = act(γ·x̂ + β)` with `x̂ = (x − mean)/σ`.
///
/// - input `x` and output `y`: N × C × D × H × W
/// - weight γ, bias β, runningMean, runningVariance: C
///
/// Training mode normalises with the batch's mean and *biased* variance and moves the running
/// statistics by `momentum` using the *unbiased* variance (PyTorch's semantics). Evaluation
/// mode normalises with the running statistics, so a sample's output does not depend on the
/// rest of its batch.
///
/// With `activation: .relu` the layer equals BatchNorm3d followed by ReLU (likewise leaky
/// ReLU), but reads and writes each activation once instead of twice, forward and backward.
public final class BatchNorm3d: Layer {

    /// What the layer applies to the normalised, scaled and shifted value p = γ·x̂ + β.
    public enum Activation: Equatable, Sendable {
        /// y = p: plain batch norm.
        case none
        /// y = max(p, 0), as `ReLU`.
        case relu
        /// y = p > 0 ? p : slope·p, as `LeakyReLU(slope:)` (slope ≥ 0).
        case leakyReLU(slope: Float)
    }

    public let channels: Int
    public let epsilon: Float
    public let momentum: Float
    public let activation: Activation
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Tensor
    public let runningVariance: Tensor
    /// How many training-mode batches have updated the running statistics.
    public var batchesTracked: Int = 0
    public var isTraining = true

    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private let normalised = Tensor(shape: [0])  // x̂, N × C × D × H × W, kept in training mode
    private let inverseStdBuffer = Tensor(shape: [0])  // 1/σ per channel, from the last forward
    private var lastWasTraining = true

    /// - Parameters:
    ///   - channels: C.
    ///   - epsilon: added to the variance before the square root (PyTorch: 1e-5).
    ///   - momentum: weight of the new batch in the running statistics (PyTorch: 0.1).
    ///   - activation: applied to the output in the same pass (default none).
    public init(channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1,
                activation: Activation = .none) {
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        self.activation = activation
        weight = Parameter(name: "bn_weight", shape: [channels])
        bias = Parameter(name: "bn_bias", shape: [channels])
        runningMean = Tensor(shape: [channels])
        runningVariance = Tensor(shape: [channels])
        weight.value.fill(1)
        runningVariance.fill(1)
    }

    public var parameters: [Parameter] { [weight, bias] }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 5 && x.shape[1] == channels,
                     "BatchNorm3d expects N×\(channels)×D×H×W, got \(x.shape)")
        switch activation {
        case .none: forward(x, Identity())
        case .relu: forward(x, Rectifier())
        case .leakyReLU(let slope): forward(x, LeakyRectifier(slope: slope))
        }
        if isTraining { batchesTracked += 1 }
        return output
    }

    /// The forward pass with the activation's rule compiled in.
    private func forward<Rule: ElementwiseActivation>(_ x: Tensor, _ rule: Rule) {
        let batch = x.shape[0]
        let spatial = x.count / (batch * channels)
        let count = batch * spatial
        output.resize(to: x.shape)
        lastWasTraining = isTraining
        if isTraining { normalised.resize(to: x.shape) }
        inverseStdBuffer.resize(to: [channels])
        let inverseStd = inverseStdBuffer.data
        let (xData, yData, xhat) = (x.data, output.data, normalised.data)
        let (gamma, beta) = (weight.value.data, bias.value.data)
        let (meanData, varianceData) = (runningMean.data, runningVariance.data)
        let training = isTraining
        let (eps, momentum, channels) = (epsilon, momentum, channels)

        let perChannel = { (c: Int) in
            // 1. Statistics: the batch's (training) or the running ones (evaluation). The
            //    variance sums squared deviations from the mean (a second pass), never
            //    E[x²] − mean², which cancels badly when the mean is large.
            var mean: Float
            var variance: Float
            if training {
                var sum = 0.0
                for n in 0..<batch {
                    sum += blockSum(xData + (n * channels + c) * spatial, spatial)
                }
                mean = Float(sum / Double(count))
                var squares = 0.0
                for n in 0..<batch {
                    squares += blockSumOfSquares(xData + (n * channels + c) * spatial, spatial,
                                                 around: mean)
                }
                variance = Float(squares / Double(count))
                let unbiased = Float(squares / Double(max(count - 1, 1)))
                meanData[c] = (1 - momentum) * meanData[c] + momentum * mean
                varianceData[c] = (1 - momentum) * varianceData[c] + momentum * unbiased
            } else {
                mean = meanData[c]
                variance = varianceData[c]
            }
            let invStd = 1 / (variance + eps).squareRoot()
            inverseStd[c] = invStd

            // 2. Normalise, scale, shift and activate in one pass. Training keeps x̂ and forms
            //    p = γ·x̂ + β from it, the expression backward repeats to find the activation's
            //    mask; evaluation folds everything into one multiply-add per element.
            for n in 0..<batch {
                let offset = (n * channels + c) * spatial
                if training {
                    normaliseRow(xData + offset, mean: mean, inverseStd: invStd, gamma: gamma[c],
                                 beta: beta[c], rule, normalised: xhat + offset,
                                 output: yData + offset, count: spatial)
                } else {
                    let scale = gamma[c] * invStd
                    scaleRow(xData + offset, scale: scale, shift: beta[c] - mean * scale, rule,
                             output: yData + offset, count: spatial)
                }
            }
        }
        if count * channels >= 1 << 16 && ComputeThreads.count > 1 {
            ComputeThreads.parallelRanges(channels) { _, range in range.forEach(perChannel) }
        } else {
            (0..<channels).forEach(perChannel)
        }
    }

    /// Given dy = ∂L/∂y (N × C × D × H × W), with g = dy · act′(p) and p = γ·x̂ + β:
    ///
    /// Training mode:  dx = γ/σ · (g − mean(g) − x̂ · mean(g · x̂)),
    ///                 dγ += Σ g · x̂,  dβ += Σ g   (sums over N, D, H, W).
    /// Evaluation mode: dx = g · γ/σ_running only, with act′ read from the sign of the stored
    /// output; γ and β get no gradient there (the engine never trains in evaluation mode).
    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        precondition(dy.shape == output.shape, "BatchNorm3d gradient shape mismatch")
        switch activation {
        case .none: return backward(dy, Identity(), needsInputGradient: needsInputGradient)
        case .relu: return backward(dy, Rectifier(), needsInputGradient: needsInputGradient)
        case .leakyReLU(let slope):
            return backward(dy, LeakyRectifier(slope: slope),
                            needsInputGradient: needsInputGradient)
        }
    }

    private func backward<Rule: ElementwiseActivation>(_ dy: Tensor, _ rule: Rule,
                                                       needsInputGradient: Bool) -> Tensor? {
        let batch = dy.shape[0]
        let spatial = dy.count / (batch * channels)
        let count = Float(batch * spatial)
        let channels = channels
        inputGradient.resize(to: dy.shape)
        let (dyData, dxData, xhat, yData) = (dy.data, inputGradient.data, normalised.data,
                                             output.data)
        let (gamma, beta) = (weight.value.data, bias.value.data)
        let (dGamma, dBeta) = (weight.gradient.data, bias.gradient.data)
        let inverseStd = inverseStdBuffer.data
        let training = lastWasTraining
        let (updatesGamma, updatesBeta) = (weight.requiresGradient, bias.requiresGradient)
        if !training && !needsInputGradient { return nil }
        if !needsInputGradient && !updatesGamma && !updatesBeta { return nil }

        let perChannel = { (c: Int) in
            let scale = gamma[c] * inverseStd[c]
            guard training else {
                for n in 0..<batch {
                    let offset = (n * channels + c) * spatial
                    scaledGradientRow(dyData + offset, output: yData + offset, scale: scale, rule,
                                      inputGradient: dxData + offset, count: spatial)
                }
                return
            }

            // 1. Σ g and Σ g·x̂, with g = dy·act′(γ·x̂ + β) formed on the fly, never stored.
            var sumG = 0.0
            var sumGXhat = 0.0
            for n in 0..<batch {
                let offset = (n * channels + c) * spatial
                let sums = gradientSumsRow(dyData + offset, normalised: xhat + offset,
                                           gamma: gamma[c], beta: beta[c], rule, count: spatial)
                sumG += sums.g
                sumGXhat += sums.gXhat
            }
            if updatesGamma { dGamma[c] += Float(sumGXhat) }
            if updatesBeta { dBeta[c] += Float(sumG) }
            guard needsInputGradient else { return }

            // 2. dx from the same g, recomputed from dy and x̂.
            let meanG = Float(sumG) / count
            let meanGXhat = Float(sumGXhat) / count
            for n in 0..<batch {
                let offset = (n * channels + c) * spatial
                inputGradientRow(dyData + offset, normalised: xhat + offset, gamma: gamma[c],
                                 beta: beta[c], rule, scale: scale, meanG: meanG,
                                 meanGXhat: meanGXhat, inputGradient: dxData + offset,
                                 count: spatial)
            }
        }
        if dy.count >= 1 << 16 && ComputeThreads.count > 1 {
            ComputeThreads.parallelRanges(channels) { _, range in range.forEach(perChannel) }
        } else {
            (0..<channels).forEach(perChannel)
        }
        return needsInputGradient ? inputGradient : nil
    }
}

// MARK: - Row kernels
//
// Each works on one contiguous D·H·W row of one sample and channel, 16 floats at a time with a
// scalar tail. The vector and the scalar forms of every expression are the same operations in
// the same order, so an element gets the same bits whichever form handles it.

/// Floats summed per vector lane before a block's total goes into a Double: short enough that
/// the Float lanes lose almost nothing (256 additions each), long enough that the Double
/// additions cost nothing.
private let statisticsBlock = 4096

/// Σ values[0..<count], in Float lanes per block and in Double across blocks.
@inline(__always)
private func blockSum(_ values: UnsafePointer<Float>, _ count: Int) -> Double {
    blockSum(count, { FloatVector.load(values + $0) }, { values[$0] })
}

/// Σ (values[i] − mean)² over i < count, blocked like `blockSum`.
@inline(__always)
private func blockSumOfSquares(_ values: UnsafePointer<Float>, _ count: Int,
                               around mean: Float) -> Double {
    let meanVector = FloatVector(repeating: mean)
    return blockSum(count, {
        let deviation = FloatVector.load(values + $0) - meanVector
        return deviation * deviation
    }, {
        let deviation = values[$0] - mean
        return deviation * deviation
    })
}

/// Σ term(i) over i < count: `vectorTerm(i)` gives the terms i ..< i + 16 and `scalarTerm(i)`
/// the one term of the tail, summed in Float lanes per block and in Double across blocks.
@inline(__always)
private func blockSum(_ count: Int, _ vectorTerm: (Int) -> FloatVector,
                      _ scalarTerm: (Int) -> Float) -> Double {
    var total = 0.0
    var start = 0
    while start < count {
        let end = min(start + statisticsBlock, count)
        var lanes = FloatVector()
        var index = start
        while index + FloatVector.scalarCount <= end {
            lanes += vectorTerm(index)
            index += FloatVector.scalarCount
        }
        var tail: Float = 0
        while index < end {
            tail += scalarTerm(index)
            index += 1
        }
        total += lanes.doubleSum + Double(tail)
        start = end
    }
    return total
}

/// Training forward of one row: x̂ = (x − mean)·(1/σ), y = act(γ·x̂ + β).
@inline(__always)
private func normaliseRow<Rule: ElementwiseActivation>(
    _ x: UnsafePointer<Float>, mean: Float, inverseStd: Float, gamma: Float, beta: Float,
    _ rule: Rule, normalised xhat: UnsafeMutablePointer<Float>,
    output y: UnsafeMutablePointer<Float>, count: Int
) {
    let (meanVector, inverseStdVector) = (FloatVector(repeating: mean),
                                          FloatVector(repeating: inverseStd))
    let (gammaVector, betaVector) = (FloatVector(repeating: gamma), FloatVector(repeating: beta))
    var index = 0
    while index + FloatVector.scalarCount <= count {
        let normalised = (FloatVector.load(x + index) - meanVector) * inverseStdVector
        normalised.store(to: xhat + index)
        rule(gammaVector * normalised + betaVector).store(to: y + index)
        index += FloatVector.scalarCount
    }
    while index < count {
        let normalised = (x[index] - mean) * inverseStd
        xhat[index] = normalised
        y[index] = rule(gamma * normalised + beta)
        index += 1
    }
}

/// Evaluation forward of one row: y = act(x·scale + shift).
@inline(__always)
private func scaleRow<Rule: ElementwiseActivation>(
    _ x: UnsafePointer<Float>, scale: Float, shift: Float, _ rule: Rule,
    output y: UnsafeMutablePointer<Float>, count: Int
) {
    let (scaleVector, shiftVector) = (FloatVector(repeating: scale),
                                      FloatVector(repeating: shift))
    var index = 0
    while index + FloatVector.scalarCount <= count {
        rule(FloatVector.load(x + index) * scaleVector + shiftVector).store(to: y + index)
        index += FloatVector.scalarCount
    }
    while index < count {
        y[index] = rule(x[index] * scale + shift)
        index += 1
    }
}

/// Evaluation backward of one row: dx = act′ · dy · scale, act′ from the sign of y.
@inline(__always)
private func scaledGradientRow<Rule: ElementwiseActivation>(
    _ dy: UnsafePointer<Float>, output y: UnsafePointer<Float>, scale: Float, _ rule: Rule,
    inputGradient dx: UnsafeMutablePointer<Float>, count: Int
) {
    let scaleVector = FloatVector(repeating: scale)
    var index = 0
    while index + FloatVector.scalarCount <= count {
        let g = rule.gradient(FloatVector.load(dy + index), at: FloatVector.load(y + index))
        (g * scaleVector).store(to: dx + index)
        index += FloatVector.scalarCount
    }
    while index < count {
        dx[index] = rule.gradient(dy[index], at: y[index]) * scale
        index += 1
    }
}

/// Training backward, first pass over one row: Σ g and Σ g·x̂ with g = act′(γ·x̂ + β)·dy,
/// blocked like `blockSum`.
@inline(__always)
private func gradientSumsRow<Rule: ElementwiseActivation>(
    _ dy: UnsafePointer<Float>, normalised xhat: UnsafePointer<Float>, gamma: Float,
    beta: Float, _ rule: Rule, count: Int
) -> (g: Double, gXhat: Double) {
    let (gammaVector, betaVector) = (FloatVector(repeating: gamma), FloatVector(repeating: beta))
    var (totalG, totalGXhat) = (0.0, 0.0)
    var start = 0
    while start < count {
        let end = min(start + statisticsBlock, count)
        var (lanesG, lanesGXhat) = (FloatVector(), FloatVector())
        var index = start
        while index + FloatVector.scalarCount <= end {
            let normalised = FloatVector.load(xhat + index)
            let g = rule.gradient(FloatVector.load(dy + index),
                                  at: gammaVector * normalised + betaVector)
            lanesG += g
            lanesGXhat += g * normalised
            index += FloatVector.scalarCount
        }
        var (tailG, tailGXhat): (Float, Float) = (0, 0)
        while index < end {
            let g = rule.gradient(dy[index], at: gamma * xhat[index] + beta)
            tailG += g
            tailGXhat += g * xhat[index]
            index += 1
        }
        totalG += lanesG.doubleSum + Double(tailG)
        totalGXhat += lanesGXhat.doubleSum + Double(tailGXhat)
        start = end
    }
    return (totalG, totalGXhat)
}

/// Training backward, second pass over one row: dx = scale·(g − mean(g) − x̂·mean(g·x̂)).
@inline(__always)
private func inputGradientRow<Rule: ElementwiseActivation>(
    _ dy: UnsafePointer<Float>, normalised xhat: UnsafePointer<Float>, gamma: Float,
    beta: Float, _ rule: Rule, scale: Float, meanG: Float, meanGXhat: Float,
    inputGradient dx: UnsafeMutablePointer<Float>, count: Int
) {
    let (gammaVector, betaVector) = (FloatVector(repeating: gamma), FloatVector(repeating: beta))
    let (scaleVector, meanGVector, meanGXhatVector) = (FloatVector(repeating: scale),
                                                       FloatVector(repeating: meanG),
                                                       FloatVector(repeating: meanGXhat))
    var index = 0
    while index + FloatVector.scalarCount <= count {
        let normalised = FloatVector.load(xhat + index)
        let g = rule.gradient(FloatVector.load(dy + index),
                              at: gammaVector * normalised + betaVector)
        (scaleVector * (g - meanGVector - normalised * meanGXhatVector)).store(to: dx + index)
        index += FloatVector.scalarCount
    }
    while index < count {
        let g = rule.gradient(dy[index], at: gamma * xhat[index] + beta)
        dx[index] = scale * (g - meanG - xhat[index] * meanGXhat)
        index += 1
    }
}

extension FloatVector {

    /// The 16 lanes added in Double.
    @inline(__always)
    fileprivate var doubleSum: Double {
        var total = 0.0
        for lane in indices { total += Double(self[lane]) }
        return total
    }
}
