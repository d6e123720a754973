// BatchNorm3d: forward and backward, as PyTorch's torch.nn.BatchNorm3d
// (https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm3d.html).
import Foundation

/// Batch normalisation over N, D, H, W for each channel, with learned γ (weight) and β (bias).
///
/// - input `x` and output `y`: N × C × D × H × W
/// - weight γ, bias β, runningMean, runningVariance: C
///
/// Training mode normalises with the batch's mean and *biased* variance and moves the running
/// statistics by `momentum` using the *unbiased* variance (PyTorch's semantics). Evaluation
/// mode normalises with the running statistics, so a sample's output does not depend on the
/// rest of its batch.
public final class BatchNorm3d: Layer {

    public let channels: Int
    public let epsilon: Float
    public let momentum: Float
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Tensor
    public let runningVariance: Tensor
    /// How many training-mode batches have updated the running statistics.
    public var batchesTracked: Int = 0
    public var isTraining = true

    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private let normalised = Tensor(shape: [0])  // x̂, kept for backward in training mode
    private let inverseStdBuffer = Tensor(shape: [0])  // 1/σ per channel, from the last forward
    private var lastWasTraining = true

    /// - Parameters:
    ///   - channels: C.
    ///   - epsilon: added to the variance before the square root (PyTorch: 1e-5).
    ///   - momentum: weight of the new batch in the running statistics (PyTorch: 0.1).
    public init(channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
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
        let (eps, momentum) = (epsilon, momentum)

        do {
            let perChannel = { (c: Int) in
                // 1. Statistics: the batch's (training) or the running ones (evaluation).
                var mean: Float
                var variance: Float
                if training {
                    var sum = 0.0
                    for n in 0..<batch {
                        let row = xData + (n * self.channels + c) * spatial
                        for index in 0..<spatial { sum += Double(row[index]) }
                    }
                    let mean64 = sum / Double(count)
                    var squares = 0.0
                    for n in 0..<batch {
                        let row = xData + (n * self.channels + c) * spatial
                        for index in 0..<spatial {
                            let d = Double(row[index]) - mean64
                            squares += d * d
                        }
                    }
                    mean = Float(mean64)
                    variance = Float(squares / Double(count))
                    let unbiased = Float(squares / Double(max(count - 1, 1)))
                    meanData[c] = (1 - momentum) * meanData[c] + momentum * mean
                    varianceData[c] = (1 - momentum) * varianceData[c] + momentum * unbiased
                } else {
                    mean = meanData[c]
                    variance = varianceData[c]
                }

                // 2. Normalise, scale and shift.
                let invStd = 1 / (variance + eps).squareRoot()
                inverseStd[c] = invStd
                let scale = gamma[c] * invStd
                let shift = beta[c] - mean * scale
                for n in 0..<batch {
                    let offset = (n * self.channels + c) * spatial
                    let row = xData + offset
                    let out = yData + offset
                    for index in 0..<spatial { out[index] = row[index] * scale + shift }
                    if training {
                        let normalisedRow = xhat + offset
                        for index in 0..<spatial {
                            normalisedRow[index] = (row[index] - mean) * invStd
                        }
                    }
                }
            }
            if count * channels >= 1 << 16 && ComputeThreads.count > 1 {
                ComputeThreads.parallelRanges(channels) { _, range in range.forEach(perChannel) }
            } else {
                (0..<channels).forEach(perChannel)
            }
        }
        if training { batchesTracked += 1 }
        return output
    }

    /// Training mode:  dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂)),
    ///                 dγ += Σ dy · x̂,  dβ += Σ dy   (sums over N, D, H, W).
    /// Evaluation mode: dx = dy · γ/σ_running only; γ and β get no gradient there (the
    /// engine never trains in evaluation mode).
    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        precondition(dy.shape == output.shape, "BatchNorm3d gradient shape mismatch")
        let batch = dy.shape[0]
        let spatial = dy.count / (batch * channels)
        let count = Float(batch * spatial)
        inputGradient.resize(to: dy.shape)
        if !lastWasTraining {
            guard needsInputGradient else { return nil }
            for c in 0..<channels {
                let scale = weight.value.data[c] * inverseStdBuffer.data[c]
                for n in 0..<batch {
                    let offset = (n * channels + c) * spatial
                    for index in offset..<(offset + spatial) {
                        inputGradient.data[index] = dy.data[index] * scale
                    }
                }
            }
            return inputGradient
        }
        let (dyData, dxData, xhat) = (dy.data, inputGradient.data, normalised.data)
        let (gamma, dGamma, dBeta) = (weight.value.data, weight.gradient.data, bias.gradient.data)
        do {
            let inverseStd = inverseStdBuffer.data
            let perChannel = { (c: Int) in
                var sumDy = 0.0
                var sumDyXhat = 0.0
                for n in 0..<batch {
                    let offset = (n * self.channels + c) * spatial
                    for index in 0..<spatial {
                        let g = Double(dyData[offset + index])
                        sumDy += g
                        sumDyXhat += g * Double(xhat[offset + index])
                    }
                }
                dGamma[c] += Float(sumDyXhat)
                dBeta[c] += Float(sumDy)
                guard needsInputGradient else { return }
                let meanDy = Float(sumDy) / count
                let meanDyXhat = Float(sumDyXhat) / count
                let scale = gamma[c] * inverseStd[c]
                for n in 0..<batch {
                    let offset = (n * self.channels + c) * spatial
                    for index in 0..<spatial {
                        let i = offset + index
                        dxData[i] = scale * (dyData[i] - meanDy - xhat[i] * meanDyXhat)
                    }
                }
            }
            if dy.count >= 1 << 16 && ComputeThreads.count > 1 {
                ComputeThreads.parallelRanges(channels) { _, range in range.forEach(perChannel) }
            } else {
                (0..<channels).forEach(perChannel)
            }
        }
        return needsInputGradient ? inputGradient : nil
    }
}
