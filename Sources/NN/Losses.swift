// Binary cross-entropy on logits: the discriminator's loss, computed without ever taking
// log(sigmoid(x)), which overflows to inf/NaN in float32 for |x| beyond ~17 (3D-GAN ports hit
// exactly this when D becomes confident).
import Foundation

/// Mean binary cross-entropy between `sigmoid(logits)` and targets in [0, 1] (soft targets such
/// as 0.9 for one-sided label smoothing are fine), as PyTorch's BCEWithLogitsLoss(mean).
///
/// - logits: N values (any shape), targets: as many values.
/// - Returns: the loss and ∂loss/∂logits (same count as logits).
///
/// Per element `ℓ = max(x, 0) − x·t + log1p(e^−|x|)`, which equals
/// `−t·log σ(x) − (1−t)·log(1 − σ(x))` but stays finite for every finite x;
/// `∂ℓ/∂x = σ(x) − t`. The mean divides by N.
public func binaryCrossEntropyWithLogits(logits: UnsafeBufferPointer<Float>,
                                         targets: UnsafeBufferPointer<Float>)
    -> (loss: Float, gradient: [Float])
{
    precondition(logits.count == targets.count && !logits.isEmpty, "BCE count mismatch")
    let n = Float(logits.count)
    var total = 0.0
    var gradient = [Float](repeating: 0, count: logits.count)
    for index in 0..<logits.count {
        let x = logits[index]
        let t = targets[index]
        total += Double(max(x, 0) - x * t + log1pf(expf(-abs(x))))
        gradient[index] = (sigmoid(x) - t) / n
    }
    return (Float(total / Double(n)), gradient)
}

/// The same loss with every target equal to `target`.
public func binaryCrossEntropyWithLogits(logits: UnsafeBufferPointer<Float>, target: Float)
    -> (loss: Float, gradient: [Float])
{
    let targets = [Float](repeating: target, count: logits.count)
    return targets.withUnsafeBufferPointer {
        binaryCrossEntropyWithLogits(logits: logits, targets: $0)
    }
}
