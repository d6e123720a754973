// The 3D-GAN generator and discriminator (Wu et al. 2016, "Learning a Probabilistic Latent Space
// of Object Shapes via 3D Generative-Adversarial Modeling"), for 32³ and 64³ grids.
import NN

/// Shape of a generator: its output resolution, latent size and hidden channel widths.
public struct GeneratorConfig: Equatable, Codable, Sendable {

    /// Output grid side R: 32 or 64 (any power of two ≥ 8 works).
    public var resolution: Int
    /// Length of z (the paper: 200).
    public var zDimension: Int
    /// Output channels of every layer but the last, widest first: the paper's 64³ model is
    /// [512, 256, 128, 64]; a 32³ model has one entry fewer.
    public var channels: [Int]

    public init(resolution: Int, zDimension: Int = 200, channels: [Int]) {
        self.resolution = resolution
        self.zDimension = zDimension
        self.channels = channels
    }

    /// The paper's 64³ generator: 200 → 512 → 256 → 128 → 64 → 1.
    public static let paper64 = GeneratorConfig(resolution: 64, channels: [512, 256, 128, 64])

    /// How many transposed convolutions reach `resolution` from 1³: 1³ → 4³, then doublings.
    public static func layerCount(resolution: Int) -> Int? {
        var side = 4
        var layers = 1
        while side < resolution { side *= 2; layers += 1 }
        return side == resolution && resolution >= 8 ? layers : nil
    }

    public func validate() throws {
        guard let layers = Self.layerCount(resolution: resolution) else {
            throw ModelError("resolution must be 4·2^k ≥ 8 (32 or 64), got \(resolution)")
        }
        guard channels.count == layers - 1 else {
            throw ModelError("resolution \(resolution) needs \(layers - 1) channel widths, got \(channels.count)")
        }
        guard zDimension > 0, channels.allSatisfy({ $0 > 0 }) else {
            throw ModelError("z dimension and channel widths must be positive")
        }
    }
}

/// Shape of a discriminator. Its channels run narrowest first, mirroring the generator.
public struct DiscriminatorConfig: Equatable, Codable, Sendable {

    public var resolution: Int
    /// Output channels of every stride-2 convolution, narrowest first: [64, 128, 256, 512] for
    /// the paper's 64³ model.
    public var channels: [Int]
    /// Batch norm after every convolution but the first and the last (the DCGAN convention).
    public var batchNorm: Bool
    /// A learned bias in every convolution.
    public var bias: Bool
    public var leakySlope: Float

    public init(resolution: Int, channels: [Int], batchNorm: Bool = true, bias: Bool = false,
                leakySlope: Float = 0.2) {
        self.resolution = resolution
        self.channels = channels
        self.batchNorm = batchNorm
        self.bias = bias
        self.leakySlope = leakySlope
    }

    public static let paper64 = DiscriminatorConfig(resolution: 64, channels: [64, 128, 256, 512])

    public func validate() throws {
        guard let layers = GeneratorConfig.layerCount(resolution: resolution) else {
            throw ModelError("resolution must be 4·2^k ≥ 8 (32 or 64), got \(resolution)")
        }
        guard channels.count == layers - 1, channels.allSatisfy({ $0 > 0 }) else {
            throw ModelError("resolution \(resolution) needs \(layers - 1) positive discriminator widths, got \(channels)")
        }
    }
}

/// A model that cannot be built or loaded as asked.
public struct ModelError: Error, CustomStringConvertible {

    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// One convolution of a network with the batch norm that follows it, if any: the unit a
/// weights file stores as `layerN`.
public struct ConvolutionBlock {

    public let convolution: Layer
    public let batchNorm: BatchNorm3d?

    public var weight: Parameter {
        (convolution as? Conv3d)?.weight ?? (convolution as! ConvTranspose3d).weight
    }

    public var bias: Parameter? {
        (convolution as? Conv3d)?.bias ?? (convolution as? ConvTranspose3d)?.bias
    }
}

/// G: z (N × zDim × 1 × 1 × 1) → probabilities (N × 1 × R × R × R).
///
/// ConvTranspose3d k4 s2 (padding 0 for the first layer, 1³ → 4³; padding 1 after, doubling
/// the side), BatchNorm3d + ReLU between layers (one fused layer), sigmoid at the end. The
/// output axes D, H, W are the voxel grid's x, y, z (+y up).
public final class Generator {

    public let config: GeneratorConfig
    public let blocks: [ConvolutionBlock]
    private let network: Sequential
    private let sigmoid = Sigmoid()

    public init(config: GeneratorConfig, bias: Bool = false) throws {
        try config.validate()
        self.config = config
        var layers: [Layer] = []
        var blocks: [ConvolutionBlock] = []
        let widths = [config.zDimension] + config.channels + [1]
        for index in 0..<(widths.count - 1) {
            let conv = ConvTranspose3d(inputChannels: widths[index],
                                       outputChannels: widths[index + 1], kernelSize: 4,
                                       stride: index == 0 ? 1 : 2, padding: index == 0 ? 0 : 1,
                                       bias: bias)
            layers.append(conv)
            let isLast = index == widths.count - 2
            let bn = isLast ? nil : BatchNorm3d(channels: widths[index + 1], activation: .relu)
            if let bn { layers.append(bn) }
            blocks.append(ConvolutionBlock(convolution: conv, batchNorm: bn))
        }
        self.blocks = blocks
        self.network = Sequential(layers)
    }

    public var isTraining: Bool {
        get { network.isTraining }
        set { network.isTraining = newValue }
    }

    public var parameters: [Parameter] { network.parameters }

    public var layers: [Layer] { network.layers }

    /// Evaluation mode for good, for a generator that only generates (the server, `voxgan
    /// sample`): every sample is computed alone with single-threaded products, so its
    /// probabilities are the same bits whatever its batch and the thread count, and the
    /// transposed convolutions regroup their weights once to skip the products their padding
    /// crops (15 % of G 256,128,64's arithmetic). Call it after the weights are loaded, on a
    /// generator nothing trains; training mode undoes it.
    public func freezeForInference() {
        isTraining = false
        for case let convolution as ConvTranspose3d in layers { convolution.freezeForInference() }
    }

    /// Pre-sigmoid outputs, N × 1 × R × R × R.
    public func logits(_ z: Tensor) -> Tensor {
        precondition(z.count == z.shape[0] * config.zDimension, "z must be N×\(config.zDimension)")
        if z.shape.count != 5 {
            z.resize(to: [z.shape[0], config.zDimension, 1, 1, 1])
        }
        return network(z)
    }

    /// Occupancy probabilities, N × 1 × R × R × R (owned by the generator; copy to keep).
    public func callAsFunction(_ z: Tensor) -> Tensor { sigmoid(logits(z)) }

    /// Probabilities for N latents (N × Z), `chunk` samples per forward pass, so that peak
    /// memory is one chunk's activations (at 64³, 64 samples at once need over 2 GB more than 8).
    /// Evaluation mode only: there a sample does not depend on its batch, so chunks change nothing.
    public func probabilities(latents z: Tensor, chunk: Int) -> [Float] {
        precondition(!isTraining, "chunked generation needs evaluation mode")
        let count = z.shape[0]
        let part = Tensor(shape: [0])
        var result: [Float] = []
        for first in Swift.stride(from: 0, to: count, by: max(chunk, 1)) {
            let n = min(max(chunk, 1), count - first)
            part.resize(to: [n, config.zDimension, 1, 1, 1])
            part.data.update(from: z.data + first * config.zDimension, count: n * config.zDimension)
            result += callAsFunction(part).toArray()
        }
        return result
    }

    /// Backward from ∂L/∂probabilities through the sigmoid and every layer; accumulates the
    /// parameter gradients.
    public func backward(_ probabilityGradient: Tensor) {
        let logitGradient = sigmoid.backward(probabilityGradient, needsInputGradient: true)!
        _ = network.backward(logitGradient, needsInputGradient: false)
    }
}

/// D: grids (N × 1 × R × R × R, values in [0, 1]) → one logit per sample (N × 1 × 1 × 1 × 1).
///
/// Conv3d k4 s2 p1 halving the side down to 4³, LeakyReLU(0.2) after each (with BatchNorm3d
/// before it, as one fused layer, on all but the first when `batchNorm`), then Conv3d k4 s1 p0
/// to 1³. No sigmoid: the loss takes logits.
public final class Discriminator {

    public let config: DiscriminatorConfig
    public let blocks: [ConvolutionBlock]
    private let network: Sequential

    public init(config: DiscriminatorConfig) throws {
        try config.validate()
        self.config = config
        var layers: [Layer] = []
        var blocks: [ConvolutionBlock] = []
        let widths = [1] + config.channels
        for index in 0..<config.channels.count {
            let conv = Conv3d(inputChannels: widths[index], outputChannels: widths[index + 1],
                              kernelSize: 4, stride: 2, padding: 1, bias: config.bias)
            layers.append(conv)
            let bn = (config.batchNorm && index > 0)
                ? BatchNorm3d(channels: widths[index + 1],
                              activation: .leakyReLU(slope: config.leakySlope))
                : nil
            layers.append(bn ?? LeakyReLU(slope: config.leakySlope) as Layer)
            blocks.append(ConvolutionBlock(convolution: conv, batchNorm: bn))
        }
        let last = Conv3d(inputChannels: widths.last!, outputChannels: 1, kernelSize: 4,
                          stride: 1, padding: 0, bias: config.bias)
        layers.append(last)
        blocks.append(ConvolutionBlock(convolution: last, batchNorm: nil))
        self.blocks = blocks
        self.network = Sequential(layers)
    }

    public var isTraining: Bool {
        get { network.isTraining }
        set { network.isTraining = newValue }
    }

    public var parameters: [Parameter] { network.parameters }

    public var layers: [Layer] { network.layers }

    /// Logits, N × 1 × 1 × 1 × 1.
    public func callAsFunction(_ grids: Tensor) -> Tensor { network(grids) }

    /// Backward from ∂L/∂logits; returns ∂L/∂grids when asked (the generator's step needs it).
    @discardableResult
    public func backward(_ logitGradient: Tensor, needsInputGradient: Bool) -> Tensor? {
        network.backward(logitGradient, needsInputGradient: needsInputGradient)
    }
}

extension Array where Element == ConvolutionBlock {

    /// Every batch norm's running statistics and counters, for checkpoints.
    var batchNorms: [BatchNorm3d] { compactMap { $0.batchNorm } }
}
