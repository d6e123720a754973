// The engine's one random-number generator, specified exactly so that anyone can reproduce a
// sample's z from its seed in a few lines of any language.
import Foundation

/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit state advanced by the golden-ratio constant
/// and mixed into each output.
///
///     state = state + 0x9E3779B97F4A7C15            (wrapping)
///     z = state
///     z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9      (wrapping)
///     z = (z ^ (z >> 27)) * 0x94D049BB133111EB      (wrapping)
///     output = z ^ (z >> 31)
///
/// A seed is the initial state. `uniform()` is `(output >> 11) · 2⁻⁵³`, in [0, 1).
/// `normal()` is Box–Muller on two consecutive uniforms u1, u2:
/// `sqrt(−2·ln(1 − u1)) · cos(2π·u2)`, computed in double precision; the sine partner is
/// discarded so every normal draw consumes exactly two outputs.
public struct SplitMix64: RandomNumberGenerator, Equatable {

    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A double in [0, 1) from the top 53 bits of one output.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A standard normal draw (two outputs, Box–Muller cosine branch).
    public mutating func normal() -> Double {
        let u1 = uniform()
        let u2 = uniform()
        return (-2 * log(1 - u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// One element of z: `std·normal()` or `std·(2·uniform() − 1)`, as float32.
    public mutating func latent(_ distribution: LatentDistribution, std: Double) -> Float {
        switch distribution {
        case .normal: return Float(std * normal())
        case .uniform: return Float(std * (2 * uniform() - 1))
        }
    }
}

/// The distribution the generator's latent vector z is drawn from.
public enum LatentDistribution: String, Sendable {
    /// z_i = std · N(0, 1) — voxgan's default (the original Chainer port found it trains
    /// better than the paper's uniform z).
    case normal
    /// z_i = std · (2·U[0,1) − 1), uniform on [−std, std).
    case uniform
}

/// Maps a 64-bit seed to a latent vector: a fresh `SplitMix64(seed:)`, then `dimension` draws
/// in order, each converted to float32 after scaling by `std`.
public func latentVector(seed: UInt64, dimension: Int, distribution: LatentDistribution,
                         std: Double) -> [Float] {
    var generator = SplitMix64(seed: seed)
    return (0..<dimension).map { _ in generator.latent(distribution, std: std) }
}
