// Weight initialisation, seeded and reproducible.

/// How convolution weights are drawn.
public enum WeightInitialization: String, Sendable {
    /// N(0, 0.02²): the DCGAN convention most 3D-GAN ports follow.
    case dcgan
    /// Xavier/Glorot normal: N(0, 2/(fan_in + fan_out)) with PyTorch's fans for a 5-D weight
    /// (fan_in = size(1)·k³, fan_out = size(0)·k³).
    case xavier
}

/// Fills every convolution weight of `layers` from `generator` in order; batch-norm γ = 1,
/// β = 0; biases 0.
public func initialize(_ layers: [Layer], scheme: WeightInitialization,
                       generator: inout SplitMix64) {
    for layer in layers {
        let weight: Parameter?
        switch layer {
        case let conv as Conv3d: weight = conv.weight
        case let conv as ConvTranspose3d: weight = conv.weight
        default: weight = nil
        }
        if let weight {
            let shape = weight.value.shape
            let receptive = shape.dropFirst(2).reduce(1, *)
            let std: Double
            switch scheme {
            case .dcgan: std = 0.02
            case .xavier: std = (2.0 / Double((shape[0] + shape[1]) * receptive)).squareRoot()
            }
            for index in 0..<weight.value.count {
                weight.value.data[index] = Float(std * generator.normal())
            }
        }
        for parameter in layer.parameters where parameter !== weight {
            parameter.value.fill(parameter.name == "bn_weight" ? 1 : 0)
        }
    }
}
