// One iteration of adversarial training, split into the discriminator's pass and the
// generator's pass so that tests can compare each with PyTorch before any optimiser step.
import NN

/// What one discriminator pass measured.
public struct DiscriminatorPassResult {
    /// BCE of D on the real batch (against the real label) and on the fake batch (against 0).
    public var lossReal: Float
    public var lossFake: Float
    /// Share of the 2N samples D classified right (logit > 0 for real, < 0 for fake), on the
    /// current batch before D's update — the paper's gate reads this.
    public var accuracy: Float
    public var realLogits: [Float]
    public var fakeLogits: [Float]
    /// False when the gate skipped the update (D's gradients were then not computed for the
    /// fake half and must not be applied).
    public var computedGradients: Bool

    public var loss: Float { lossReal + lossFake }
}

/// The losses of one GAN iteration, computed as PyTorch's reference procedure does:
///
///     fake = G(z)
///     loss_D = BCE(D(real), real_label) + BCE(D(fake.detach()), 0)   (two separate D calls,
///                                                                      batch statistics each)
///     loss_G = BCE(D(fake), 1)                                        (non-saturating)
public final class AdversarialStep {

    public let generator: Generator
    public let discriminator: Discriminator
    /// Target for real samples: 1, or e.g. 0.9 for one-sided label smoothing.
    public var realLabel: Float

    private let logitGradient = Tensor(shape: [0])
    private var discriminatorCachesHoldFake = false
    private var cachedFakeLogits: [Float] = []

    public init(generator: Generator, discriminator: Discriminator, realLabel: Float = 1) {
        self.generator = generator
        self.discriminator = discriminator
        self.realLabel = realLabel
    }

    /// Zeroes D's gradients, then accumulates ∂loss_D/∂θ_D. When `skipIfAccuracyAbove` is set
    /// and D's accuracy on this batch exceeds it, no gradient is computed and the result says
    /// so (the caller must not apply an update).
    ///
    /// With a gate, both halves are run forward first, because the gate needs D's accuracy on
    /// the whole batch; backward runs only when D will be updated (the paper's gate skips most
    /// D steps once D is good, and a skipped step then costs two forward passes, not two
    /// backward). Without a gate each half's backward follows its forward, so D runs forward
    /// only twice. Either way the fake half's gradients are summed first.
    public func discriminatorPass(real: Tensor, fake: Tensor,
                                  skipIfAccuracyAbove threshold: Float? = nil)
        -> DiscriminatorPassResult
    {
        discriminator.parameters.forEach { $0.zeroGradient() }
        guard let threshold else { return ungatedDiscriminatorPass(real: real, fake: fake) }

        // 1. Both halves forward; D's caches end up describing the fake half.
        let realLogits = discriminator(real).toArray()
        let fakeLogits = discriminator(fake).toArray()
        discriminatorCachesHoldFake = true
        cachedFakeLogits = fakeLogits

        // 2. Losses and the accuracy the gate reads.
        let (lossReal, realGradient) = realLogits.withUnsafeBufferPointer {
            binaryCrossEntropyWithLogits(logits: $0, target: realLabel)
        }
        let (lossFake, fakeGradient) = fakeLogits.withUnsafeBufferPointer {
            binaryCrossEntropyWithLogits(logits: $0, target: 0)
        }
        let accuracy = Self.accuracy(realLogits: realLogits, fakeLogits: fakeLogits)
        let skip = accuracy > threshold

        // 3. Backward: the fake half from the caches in place, then the real half after
        //    running it forward again (same batch statistics, same logits).
        if !skip {
            backwardThroughDiscriminator(fakeGradient, needsInputGradient: false)
            _ = discriminator(real)
            discriminatorCachesHoldFake = false
            backwardThroughDiscriminator(realGradient, needsInputGradient: false)
        }
        return DiscriminatorPassResult(lossReal: lossReal, lossFake: lossFake, accuracy: accuracy,
                                       realLogits: realLogits, fakeLogits: fakeLogits,
                                       computedGradients: !skip)
    }

    /// Each half forward and straight back: the fake half, then the real half.
    private func ungatedDiscriminatorPass(real: Tensor, fake: Tensor) -> DiscriminatorPassResult {
        let fakeLogits = discriminator(fake).toArray()
        let (lossFake, fakeGradient) = fakeLogits.withUnsafeBufferPointer {
            binaryCrossEntropyWithLogits(logits: $0, target: 0)
        }
        backwardThroughDiscriminator(fakeGradient, needsInputGradient: false)

        let realLogits = discriminator(real).toArray()
        discriminatorCachesHoldFake = false
        let (lossReal, realGradient) = realLogits.withUnsafeBufferPointer {
            binaryCrossEntropyWithLogits(logits: $0, target: realLabel)
        }
        backwardThroughDiscriminator(realGradient, needsInputGradient: false)

        return DiscriminatorPassResult(
            lossReal: lossReal, lossFake: lossFake,
            accuracy: Self.accuracy(realLogits: realLogits, fakeLogits: fakeLogits),
            realLogits: realLogits, fakeLogits: fakeLogits, computedGradients: true)
    }

    /// Share of samples D classifies right: logit > 0 for real, < 0 for fake.
    private static func accuracy(realLogits: [Float], fakeLogits: [Float]) -> Float {
        let correct = realLogits.filter { $0 > 0 }.count + fakeLogits.filter { $0 < 0 }.count
        return Float(correct) / Float(realLogits.count + fakeLogits.count)
    }

    /// Call after D's parameters changed, so the generator pass runs D on `fake` afresh.
    public func discriminatorDidUpdate() { discriminatorCachesHoldFake = false }

    /// Zeroes G's gradients, then accumulates ∂loss_G/∂θ_G through D. Returns loss_G.
    /// D's parameters are marked as not requiring gradients for the pass, so D's backward
    /// computes only its input gradient (its weight gradients, half its backward arithmetic,
    /// would be thrown away) and D's gradients keep what the discriminator pass left.
    @discardableResult
    public func generatorPass(fake: Tensor) -> Float {
        generator.parameters.forEach { $0.zeroGradient() }
        // D's caches still describe `fake` when D was not updated since its fake half.
        let fakeLogits = discriminatorCachesHoldFake ? cachedFakeLogits : discriminator(fake).toArray()
        discriminatorCachesHoldFake = true
        let (loss, gradient) = fakeLogits.withUnsafeBufferPointer {
            binaryCrossEntropyWithLogits(logits: $0, target: 1)
        }
        let discriminatorParameters = discriminator.parameters
        let required = discriminatorParameters.map(\.requiresGradient)
        discriminatorParameters.forEach { $0.requiresGradient = false }
        defer { zip(discriminatorParameters, required).forEach { $0.requiresGradient = $1 } }
        let fakeGradient = backwardThroughDiscriminator(gradient, needsInputGradient: true)!
        generator.backward(fakeGradient)
        return loss
    }

    @discardableResult
    private func backwardThroughDiscriminator(_ gradient: [Float], needsInputGradient: Bool)
        -> Tensor?
    {
        logitGradient.resize(to: [gradient.count, 1, 1, 1, 1])
        gradient.withUnsafeBufferPointer {
            logitGradient.data.update(from: $0.baseAddress!, count: gradient.count)
        }
        return discriminator.backward(logitGradient, needsInputGradient: needsInputGradient)
    }
}
