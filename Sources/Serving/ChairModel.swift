// What the server needs from a generator, and a synthetic stand-in for tests and development.
// The trained generator is connected in ModelAdapter.swift (the GAN module's side).
import Foundation
import NN

/// What the server needs from a trained generator. Implementations are thread-safe.
public protocol ChairModel: AnyObject {

    /// Side R of the generated R×R×R grids.
    var resolution: Int { get }

    /// Length of a latent vector z (200 for the real model).
    var zDimension: Int { get }

    /// Metadata for `GET /v1/model` (resolution, z distribution, std, training summary,
    /// threshold...).
    var info: [String: String] { get }

    /// Lowercase hex SHA-256 of the weights file; part of every ETag, so a new model never
    /// serves a stale cached chair.
    var weightsSHA256: String { get }

    /// Default for `threshold` when a request does not give one.
    var recommendedThreshold: Float { get }

    /// How z is drawn, named as in the weights file (`normal` or `uniform`): interpolation is
    /// spherical for normal z, linear for uniform z.
    var zDistribution: LatentDistribution { get }

    /// The z a seed maps to (deterministic, documented by the GAN module).
    func latent(seed: UInt64) -> [Float]

    /// Evaluation-mode generation: `latents.count` × zDimension floats in, one array of R³
    /// probabilities per latent out, each laid out [x][y][z] (x slowest). Results for one
    /// latent never depend on the others in the batch.
    func generate(latents: [[Float]]) throws -> [[Float]]
}

/// A deterministic fake generator: a four-legged chair with a back whose seat height, width,
/// depth, back height and leg thickness follow the first five entries of z through `tanh`.
///
/// Probabilities are a sigmoid of the signed distance (in voxels) to the chair's boxes, laid
/// out [x][y][z] with +y up and the backrest toward +z, like the real model's output. Seeds
/// map to standard-normal z through SplitMix64 and Box–Muller. For queue tests, generation can
/// be slowed (`batchDelay`) or held at a gate (`holdGeneration()` / `releaseGeneration()`).
public final class SyntheticChairModel: ChairModel {

    public let resolution: Int
    public let zDimension: Int
    public let recommendedThreshold: Float = 0.5
    public let zDistribution = LatentDistribution.normal

    /// Seconds every `generate` call sleeps, once per batch.
    public let batchDelay: Double

    private let condition = NSCondition()
    private var held = false
    private var running = 0
    private var batchSizeLog: [Int] = []

    /// - Parameters:
    ///   - resolution: side R of the generated grids.
    ///   - zDimension: length of z (at least 5).
    ///   - batchDelay: seconds each `generate` call sleeps, whatever the batch size.
    public init(resolution: Int = 32, zDimension: Int = 200, batchDelay: Double = 0) {
        precondition(resolution >= 4, "synthetic model needs a resolution of at least 4")
        precondition(zDimension >= 5, "synthetic model needs at least 5 latent dimensions")
        self.resolution = resolution
        self.zDimension = zDimension
        self.batchDelay = batchDelay
    }

    public var info: [String: String] {
        [
            "model": "synthetic chair (test stand-in, not trained)",
            "resolution": String(resolution),
            "z_distribution": "normal",
            "z_std": "1",
            "threshold": String(recommendedThreshold),
        ]
    }

    public var weightsSHA256: String {
        SHA256.hex("voxgan synthetic chair model v1 r\(resolution) z\(zDimension)")
    }

    /// Makes every later `generate` call wait until `releaseGeneration()`.
    public func holdGeneration() {
        condition.lock()
        held = true
        condition.unlock()
    }

    /// Lets held and later `generate` calls run.
    public func releaseGeneration() {
        condition.lock()
        held = false
        condition.broadcast()
        condition.unlock()
    }

    /// Number of `generate` calls currently running (held ones included).
    public var runningCalls: Int {
        condition.lock()
        defer { condition.unlock() }
        return running
    }

    /// The batch size of every `generate` call so far, in order.
    public var batchSizes: [Int] {
        condition.lock()
        defer { condition.unlock() }
        return batchSizeLog
    }

    /// The documented seed → z mapping of the real model (NN's `latentVector`), so clients
    /// that reproduce z from a seed agree with the stand-in too.
    public func latent(seed: UInt64) -> [Float] {
        latentVector(seed: seed, dimension: zDimension, distribution: .normal, std: 1)
    }

    public func generate(latents: [[Float]]) throws -> [[Float]] {
        condition.lock()
        running += 1
        batchSizeLog.append(latents.count)
        while held { condition.wait() }
        condition.unlock()
        defer {
            condition.lock()
            running -= 1
            condition.unlock()
        }

        if batchDelay > 0 { Thread.sleep(forTimeInterval: batchDelay) }
        return try latents.map { z in
            guard z.count == zDimension else {
                throw SyntheticModelError(
                    message: "latent has \(z.count) values, expected \(zDimension)")
            }
            return chair(z)
        }
    }

    /// One chair's probabilities, [x][y][z], in a unit cube sampled at voxel centres.
    private func chair(_ z: [Float]) -> [Float] {
        func shape(_ index: Int, _ base: Float, _ spread: Float) -> Float {
            base + spread * Float(tanh(Double(z[index])))
        }
        let seatHeight = shape(0, 0.42, 0.08)
        let halfWidth = shape(1, 0.28, 0.06)
        let halfDepth = shape(2, 0.25, 0.05)
        let backHeight = shape(3, 0.36, 0.08)
        let leg = shape(4, 0.05, 0.015)
        let seatThickness: Float = 0.07

        // Boxes as (centre, half extents), in [0, 1]³ with +y up.
        let cx: Float = 0.5
        let cz: Float = 0.5
        var boxes: [(SIMD3<Float>, SIMD3<Float>)] = []
        let seatCentreY = seatHeight - seatThickness / 2
        boxes.append((SIMD3(cx, seatCentreY, cz), SIMD3(halfWidth, seatThickness / 2, halfDepth)))
        for sx: Float in [-1, 1] {
            for sz: Float in [-1, 1] {
                let centre = SIMD3(cx + sx * (halfWidth - leg), (seatHeight - seatThickness) / 2,
                                   cz + sz * (halfDepth - leg))
                boxes.append((centre, SIMD3(leg, (seatHeight - seatThickness) / 2, leg)))
            }
        }
        let backTop = min(seatHeight + backHeight, 0.97)
        boxes.append((SIMD3(cx, (seatHeight + backTop) / 2, cz + halfDepth - leg),
                      SIMD3(halfWidth, (backTop - seatHeight) / 2, leg)))

        // Signed distance in voxels (positive inside) through a steep sigmoid.
        let r = resolution
        let scale = Float(r)
        var probabilities = [Float](repeating: 0, count: r * r * r)
        for x in 0..<r {
            for y in 0..<r {
                for zIndex in 0..<r {
                    let point = (SIMD3(Float(x), Float(y), Float(zIndex)) + 0.5) / scale
                    var inside = -Float.greatestFiniteMagnitude
                    for (centre, half) in boxes {
                        let offset = point - centre
                        let margin = half - SIMD3(Swift.abs(offset.x), Swift.abs(offset.y),
                                                  Swift.abs(offset.z))
                        inside = max(inside, margin.min())
                    }
                    let distance = Double(inside * scale)
                    probabilities[(x * r + y) * r + zIndex] = Float(1 / (1 + exp(-3 * distance)))
                }
            }
        }
        return probabilities
    }
}

/// A synthetic-model call with a wrongly sized latent.
public struct SyntheticModelError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
