// Paths through latent space for /v1/interpolate.
import Foundation

enum LatentPath {

    /// `steps` latents from `start` to `end` inclusive. Gaussian z: spherical interpolation
    /// (slerp), which keeps the path at the radius where a Gaussian's mass is, instead of
    /// cutting through the low-norm middle; uniform z: straight lines.
    static func interpolate(from start: [Float], to end: [Float], steps: Int,
                            spherical: Bool) -> [[Float]] {
        precondition(start.count == end.count && steps >= 2, "bad interpolation request")
        let a = start.map(Double.init)
        let b = end.map(Double.init)
        let normA = a.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let normB = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
        var cosine = 0.0
        if normA > 0, normB > 0 {
            cosine = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } / (normA * normB)
        }
        let angle = acos(min(1, max(-1, cosine)))

        return (0..<steps).map { step in
            let t = Double(step) / Double(steps - 1)
            // Nearly parallel vectors (or lerp asked): slerp's weights become 0/0.
            let (wa, wb): (Double, Double)
            if spherical, sin(angle) > 1e-6 {
                wa = sin((1 - t) * angle) / sin(angle)
                wb = sin(t * angle) / sin(angle)
            } else {
                wa = 1 - t
                wb = t
            }
            return zip(a, b).map { Float(wa * $0 + wb * $1) }
        }
    }

    /// A stable text key for a latent: the hex SHA-256 of its float32 bits (little-endian).
    static func key(_ z: [Float]) -> String {
        var hash = SHA256()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(z.count * 4)
        for value in z {
            let bits = value.bitPattern
            bytes += [UInt8(bits & 0xff), UInt8(bits >> 8 & 0xff), UInt8(bits >> 16 & 0xff),
                      UInt8(bits >> 24)]
        }
        hash.update(bytes)
        return SHA256.hexString(hash.finalize())
    }
}
