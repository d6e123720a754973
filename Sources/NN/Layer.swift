// What every layer provides, and a sequence of layers run as one.

/// A layer with a forward pass and the backward pass that differentiates it.
///
/// `forward` keeps what `backward` needs (usually a reference to its input and its own output
/// buffer), so a backward call must follow the forward call it differentiates, before the next
/// forward call on the same layer. Gradients with respect to parameters are *added* to
/// `Parameter.gradient` (zero them between steps), as PyTorch's autograd does.
public protocol Layer: AnyObject {

    /// Training mode (batch statistics in batch norm) or evaluation mode.
    var isTraining: Bool { get set }

    var parameters: [Parameter] { get }

    /// Computes the output; the returned tensor is owned by the layer and reused next call.
    func forward(_ input: Tensor) -> Tensor

    /// Given ∂L/∂output, accumulates ∂L/∂parameters and returns ∂L/∂input when asked for.
    func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor?
}

extension Layer {

    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input) }

    public var parameters: [Parameter] { [] }
}

/// Layers applied one after another.
public final class Sequential: Layer {

    public let layers: [Layer]

    public init(_ layers: [Layer]) { self.layers = layers }

    public var isTraining: Bool {
        get { layers.first?.isTraining ?? true }
        set { layers.forEach { $0.isTraining = newValue } }
    }

    public var parameters: [Parameter] { layers.flatMap { $0.parameters } }

    public func forward(_ input: Tensor) -> Tensor {
        layers.reduce(input) { $1.forward($0) }
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor? {
        var gradient = outputGradient
        for (index, layer) in layers.enumerated().reversed() {
            let wantInput = index > 0 || needsInputGradient
            guard let next = layer.backward(gradient, needsInputGradient: wantInput) else {
                return nil
            }
            gradient = next
        }
        return gradient
    }
}
