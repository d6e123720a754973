// The matrix products of Conv3d and ConvTranspose3d, computed a slab of channels at a time.
//
// Every pass of both layers is one of two shapes over a group of samples side by side
// (width = count · columns):
//   - a product with the unfolded volumes, P = A · U or dW += B · Uᵀ (Conv3d forward and weight
//     gradient, ConvTranspose3d backward);
//   - a folded product, volumes = fold(Aᵀ · B) (ConvTranspose3d forward, Conv3d input gradient).
// U has C·k³ rows; at 64³ one sample's U is 32–128 MB. Unfolding all of it and then multiplying
// sends it through main memory twice, so instead each slab of a few channels (k³ rows each) is
// unfolded into a cache-sized scratch and multiplied at once (P accumulates over slabs), and each
// slab of Aᵀ · B is folded while it is still in cache.

extension ConvolutionGeometry {

    /// Scratch a slab may fill, in floats (1 MB): about what stays in a core's L2 cache.
    public static let slabFloats = 1 << 18

    /// Channels per slab for a group of `count` samples: as many as fit in `budget` floats,
    /// at least one.
    public func slabChannels(count: Int, budget: Int = slabFloats) -> Int {
        let perChannel = kernel * kernel * kernel * columns * count
        return max(1, min(channels, budget / max(1, perChannel)))
    }

    /// Floats of scratch the slab products need for any group of up to `count` samples. (A
    /// smaller group can fit more channels in a slab, and its slab can be larger than a full
    /// group's: 16 channels of 4 samples take more than 12 channels of 5. A slab is at most the
    /// budget, or one channel when a channel alone is larger, and never more than the whole.)
    public func slabScratchSize(count: Int, budget: Int = slabFloats) -> Int {
        let perSample = kernel * kernel * kernel * columns
        return min(channels * perSample * count, max(budget, perSample * count))
    }

    /// For `count` volumes side by side with unfolded matrix U (rows × count·columns), without
    /// ever holding more than one slab of U (in `scratch`, `slabScratchSize(count:budget:)`
    /// floats):
    ///   product.result (m × width) = product.weights (m × rows) · U,
    ///   weightGradient.result (g × rows) += weightGradient.outer (g × width) · Uᵀ.
    /// Either may be nil; rows of `product.weights` and of the results are `rows` apart.
    /// `budget` (tests set it small) is the scratch's size in floats.
    public func multiplyUnfolded(
        _ volumes: UnsafePointer<Float>, count: Int, scratch: UnsafeMutablePointer<Float>,
        product: (weights: UnsafePointer<Float>, rows: Int, result: UnsafeMutablePointer<Float>)?,
        weightGradient: (outer: UnsafePointer<Float>, rows: Int,
                         result: UnsafeMutablePointer<Float>)?,
        budget: Int = slabFloats
    ) {
        let width = count * columns
        let taps = kernel * kernel * kernel
        let slab = slabChannels(count: count, budget: budget)
        for first in Swift.stride(from: 0, to: channels, by: slab) {
            let channelRange = first..<min(channels, first + slab)
            let (firstRow, slabRows) = (first * taps, channelRange.count * taps)
            unfold(channels: channelRange, ofVolumes: volumes, count: count, into: scratch)
            if let product {
                BLAS.gemm(m: product.rows, n: width, k: slabRows, a: product.weights + firstRow,
                          lda: rows, b: scratch, ldb: width, beta: first == 0 ? 0 : 1,
                          c: product.result, ldc: width)
            }
            if let weightGradient {
                BLAS.gemm(transposeB: true, m: weightGradient.rows, n: slabRows, k: width,
                          a: weightGradient.outer, lda: width, b: scratch, ldb: width, beta: 1,
                          c: weightGradient.result + firstRow, ldc: rows)
            }
        }
    }

    /// `count` volumes = fold(Aᵀ · B), with A = `weights` (inner × rows) and B = `sideBySide`
    /// (inner × count·columns); each slab of Aᵀ · B passes through `scratch`
    /// (`slabScratchSize(count:budget:)` floats). Only channels `outputChannels` (default all;
    /// whole slabs) are computed and overwritten.
    public func foldProduct(weights: UnsafePointer<Float>, inner: Int,
                            sideBySide: UnsafePointer<Float>, count: Int,
                            outputChannels: Range<Int>? = nil,
                            scratch: UnsafeMutablePointer<Float>,
                            into volumes: UnsafeMutablePointer<Float>,
                            budget: Int = slabFloats) {
        let width = count * columns
        let taps = kernel * kernel * kernel
        let slab = slabChannels(count: count, budget: budget)
        let range = outputChannels ?? 0..<channels
        for first in Swift.stride(from: range.lowerBound, to: range.upperBound, by: slab) {
            let channelRange = first..<min(range.upperBound, first + slab)
            BLAS.gemm(transposeA: true, m: channelRange.count * taps, n: width, k: inner,
                      a: weights + first * taps, lda: rows, b: sideBySide, ldb: width,
                      c: scratch, ldc: width)
            fold(channels: channelRange, sideBySide: scratch, count: count, into: volumes)
        }
    }

    /// The rows of channels `channelRange` of the side-by-side unfolded matrix of `count`
    /// volumes (`volumeSize` apart), as a (range.count · k³) × count·columns matrix.
    public func unfold(channels channelRange: Range<Int>, ofVolumes volumes: UnsafePointer<Float>,
                       count: Int, into matrix: UnsafeMutablePointer<Float>) {
        let part = restricted(toChannels: channelRange.count)
        let channelOffset = channelRange.lowerBound * voxelsPerChannel
        for s in 0..<count {
            part.unfold(volumes + s * volumeSize + channelOffset, into: matrix + s * columns,
                        columnStride: count * columns)
        }
    }

    /// The adjoint of `unfold(channels:ofVolumes:count:into:)`: overwrites channels
    /// `channelRange` of `count` volumes with the fold of a slab's rows.
    public func fold(channels channelRange: Range<Int>, sideBySide matrix: UnsafePointer<Float>,
                     count: Int, into volumes: UnsafeMutablePointer<Float>) {
        let part = restricted(toChannels: channelRange.count)
        let channelOffset = channelRange.lowerBound * voxelsPerChannel
        for s in 0..<count {
            part.fold(matrix + s * columns, columnStride: count * columns,
                      into: volumes + s * volumeSize + channelOffset)
        }
    }

    var voxelsPerChannel: Int { inputExtent.x * inputExtent.y * inputExtent.z }

    private func restricted(toChannels count: Int) -> ConvolutionGeometry {
        ConvolutionGeometry(channels: count, inputExtent: inputExtent, kernel: kernel,
                            stride: stride, padding: padding)
    }
}
