// The forward pass of a kernel-4, stride-2, padding-1 transposed convolution without the products
// that the padding crops.
//
// ConvTranspose3d's forward pass computes every (tap, input voxel) product, Wᵀ · x, and folds
// them into the output. Along an axis of n input voxels, input i and tap t land on output
// 2i − 1 + t, so tap 0 of the first voxel and tap 3 of the last land outside and are cropped:
// 2 of 4n products per axis, 1 − (1 − 1/2n)³ of all of them (33 % at n = 4, 18 % at n = 8).
// Here the taps are grouped by the voxels they keep along D and along H:
//   class 0 = tap 0, inputs 1 ..< n;  class 1 = taps 1 and 2, inputs 0 ..< n;
//   class 2 = tap 3, inputs 0 ..< n − 1,
// and each of the 9 (D, H) class pairs is one matrix product over the sub-box of x its taps
// keep, with all four W taps: 23 % fewer products at n = 4, 12 % at n = 8. (Skipping W's border
// as well takes 27 smaller products over 9 sub-boxes of x; measured, it was no faster.)
// The weights must be regrouped so that every class's taps sit side by side, which takes longer
// than one pass saves, so it is done once, for weights that no longer change.

/// One axis's three tap classes.
private enum TapClass {

    static let taps: [[Int]] = [[0], [1, 2], [3]]

    /// Input voxels a class keeps along an axis of `n`.
    static func kept(_ axisClass: Int, of n: Int) -> Range<Int> {
        axisClass == 0 ? 1..<n : axisClass == 1 ? 0..<n : 0..<(n - 1)
    }

    /// (class, index within the class) of tap t.
    static func place(ofTap t: Int) -> (axisClass: Int, index: Int) {
        t == 0 ? (0, 0) : t == 3 ? (2, 0) : (1, t - 1)
    }
}

/// ConvTranspose3d's weights (Cin × Cout × 4 × 4 × 4) regrouped by tap class for
/// `foldProductSkippingBorder`: Cin rows of 64·Cout, each the 9 classes one after another, every
/// class Cout × (its taps: kd, kh, then kw 0 ..< 4).
public struct TapClassWeights {

    public let inputChannels: Int
    public let outputChannels: Int
    let values: [Float]
    /// Where class c = cd·3 + ch starts within a row, in multiples of Cout.
    let classStart: [Int]

    /// - Parameter weight: Cin × Cout × 4 × 4 × 4, PyTorch's ConvTranspose3d layout.
    public init(weight: UnsafePointer<Float>, inputChannels: Int, outputChannels: Int) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        let classTaps = (0..<9).map(Self.taps(ofClass:))
        classStart = classTaps.indices.map { c in classTaps[..<c].reduce(0) { $0 + $1.count } }
        let rowLength = 64 * outputChannels
        let starts = classStart
        values = [Float](unsafeUninitializedCapacity: inputChannels * rowLength) { buffer, count in
            for ci in 0..<inputChannels {
                let source = weight + ci * rowLength
                let row = buffer.baseAddress! + ci * rowLength
                for (c, taps) in classTaps.enumerated() {
                    let block = row + starts[c] * outputChannels
                    for co in 0..<outputChannels {
                        for (index, tap) in taps.enumerated() {
                            block[co * taps.count + index] = source[co * 64 + tap]
                        }
                    }
                }
            }
            count = inputChannels * rowLength
        }
    }

    /// Taps of class c = cd·3 + ch: 4, 8 or 16.
    @inline(__always)
    static func tapCount(ofClass c: Int) -> Int {
        (c / 3 == 1 ? 2 : 1) * (c % 3 == 1 ? 2 : 1) * 4
    }

    /// The taps (kd·16 + kh·4 + kw) of class c, in their order within the class.
    static func taps(ofClass c: Int) -> [Int] {
        TapClass.taps[c / 3].flatMap { kd in
            TapClass.taps[c % 3].flatMap { kh in (0..<4).map { kw in kd * 16 + kh * 4 + kw } }
        }
    }
}

extension ConvolutionGeometry {

    /// True where skipping the cropped border pays: a kernel-4 stride-2 padding-1 geometry whose
    /// transposed convolution reads at most 8 voxels per axis (the D and H borders are 12 % or
    /// more of the products; at 16³, 6 %, it measured no faster), with 16 or more output
    /// channels so that every class's product has rows enough for sgemm's kernels.
    public var skipsCroppedBorder: Bool {
        isStride2Kernel4 && channels >= 16 && outputExtent.x <= 8 && outputExtent.y <= 8
            && outputExtent.z <= 8
    }

    /// Scratch the class products of a slab may fill, in floats (4 MB). In the 32³ generator's
    /// 8³ → 16³ layer at batch 1 that makes slabs of 32 output channels, measured faster than
    /// 1 MB slabs (9 channels) and than all 64 at once.
    public static let classProductFloats = 1 << 20

    /// The classes (cd·3 + ch) that the two threads sharing a sample take: the middle class and
    /// the four corners, and the four edges, about half of the products each (at 4³: 1,600 and
    /// 1,536 per output channel; at 8³: 14,464 and 14,336).
    private static let classShares: [[Int]] = [[4, 0, 2, 6, 8], [1, 3, 5, 7]]

    /// Floats of class products per output channel: (4n − 2) per axis along D and H, which is
    /// 1·(n − 1) + 2·n + 1·(n − 1) kept (tap, voxel) pairs, and 4n along W.
    private var keptProductsPerChannel: Int {
        (4 * outputExtent.x - 2) * (4 * outputExtent.y - 2) * 4 * outputExtent.z
    }

    /// Output channels per slab of class products: the budget's worth, but at least 16 (or
    /// all) so that the smallest class still has 64 rows, in slabs of equal size. It depends on
    /// the geometry alone, so a sample's products are the same calls however it is computed.
    public func borderSkippingSlab(budget: Int = classProductFloats) -> Int {
        let most = min(channels, max(16, budget / keptProductsPerChannel))
        let slabs = (channels + most - 1) / most
        return (channels + slabs - 1) / slabs
    }

    /// Floats of scratch `foldProductSkippingBorder` needs: two sub-boxes of x and one slab of
    /// class products.
    public func borderSkippingScratchSize(inputChannels: Int,
                                          budget: Int = classProductFloats) -> Int {
        2 * inputChannels * outputExtent.x * outputExtent.y * outputExtent.z
            + borderSkippingSlab(budget: budget) * keptProductsPerChannel
    }

    /// One volume (this geometry's input side, Cout × 2n per axis, overwritten) = fold(Wᵀ · x),
    /// as `foldProduct` for one sample, computing only the products the fold keeps along D and
    /// H. `x` is Cin × n (this geometry's output extent); needs `skipsCroppedBorder`'s geometry
    /// (any channel count). `shared`: two threads share the work (OpenBLAS on one thread
    /// each), each slab's class products split by `classShares` and its fold by channels; the
    /// products are the same calls either way, so the output is the same bits.
    public func foldProductSkippingBorder(weights: TapClassWeights, x: UnsafePointer<Float>,
                                          scratch: UnsafeMutablePointer<Float>,
                                          into volume: UnsafeMutablePointer<Float>,
                                          shared: Bool = false,
                                          budget: Int = classProductFloats) {
        precondition(isStride2Kernel4 && weights.outputChannels == channels,
                     "border skipping needs kernel 4, stride 2, padding 1 and matching weights")
        let cin = weights.inputChannels
        let n = outputExtent

        // 1. x without its first or last H row (H classes 0 and 2), Cin × nD × (nH − 1) × nW;
        //    class 1 keeps all of x. The D restriction is then a column offset.
        var subBoxes = [UnsafePointer<Float>](repeating: x, count: 3)
        var free = scratch
        for ch in [0, 2] {
            let keptH = TapClass.kept(ch, of: n.y)
            subBoxes[ch] = UnsafePointer(free)
            for plane in 0..<(cin * n.x) {
                free.update(from: x + (plane * n.y + keptH.lowerBound) * n.z,
                            count: keptH.count * n.z)
                free += keptH.count * n.z
            }
        }

        // 2. Where each class's product goes within a slab's scratch, and its columns.
        let slab = borderSkippingSlab(budget: budget)
        var classOffsets = [Int](repeating: 0, count: 9)
        var classColumns = [Int](repeating: 0, count: 9)
        var offset = 0
        for c in 0..<9 {
            let keptD = TapClass.kept(c / 3, of: n.x)
            classColumns[c] = keptD.count * TapClass.kept(c % 3, of: n.y).count * n.z
            classOffsets[c] = offset
            offset += slab * TapClassWeights.tapCount(ofClass: c) * classColumns[c]
        }

        // 3. Per slab of output channels: the 9 class products (Cout′·taps × kept voxels each),
        //    then their fold, while the slab is still in cache.
        let products = free
        let classProducts = classOffsets.map { products + $0 }
        let columns = classColumns
        weights.values.withUnsafeBufferPointer { w in
            for first in Swift.stride(from: 0, to: channels, by: slab) {
                let count = min(slab, channels - first)
                let multiply = { (c: Int) in
                    guard columns[c] > 0 else { return }
                    let keptD = TapClass.kept(c / 3, of: n.x)
                    let plane = columns[c] / keptD.count
                    let taps = TapClassWeights.tapCount(ofClass: c)
                    BLAS.gemm(transposeA: true, m: count * taps, n: columns[c], k: cin,
                              a: w.baseAddress! + weights.classStart[c] * channels + first * taps,
                              lda: 64 * channels, b: subBoxes[c % 3] + keptD.lowerBound * plane,
                              ldb: n.x * plane, c: classProducts[c], ldc: columns[c])
                }
                if shared {
                    ComputeThreads.parallelRanges(2, blasThreads: 1) { _, part in
                        for share in part { Self.classShares[share].forEach(multiply) }
                    }
                    ComputeThreads.parallelRanges(count, blasThreads: 1) { _, part in
                        let channels = (first + part.lowerBound)..<(first + part.upperBound)
                        foldClassProducts(classProducts, columns: columns, channels: channels,
                                          slabFirst: first, into: volume)
                    }
                } else {
                    (0..<9).forEach(multiply)
                    foldClassProducts(classProducts, columns: columns,
                                      channels: first..<(first + count), slabFirst: first,
                                      into: volume)
                }
            }
        }
    }

    /// Adds every class product row onto the output voxels it lands on, one output channel at a
    /// time, in the order `foldStride2Kernel4` adds the same terms.
    private func foldClassProducts(_ classProducts: [UnsafeMutablePointer<Float>], columns: [Int],
                                   channels channelRange: Range<Int>, slabFirst: Int,
                                   into volume: UnsafeMutablePointer<Float>) {
        let n = outputExtent
        let (outD, outH, outW) = (inputExtent.x, inputExtent.y, inputExtent.z)
        for co in channelRange {
            let channel = volume + co * outD * outH * outW
            channel.update(repeating: 0, count: outD * outH * outW)
            for kd in 0..<4 {
                let (cd, indexD) = TapClass.place(ofTap: kd)
                let keptD = TapClass.kept(cd, of: n.x)
                for kh in 0..<4 {
                    let (ch, indexH) = TapClass.place(ofTap: kh)
                    let keptH = TapClass.kept(ch, of: n.y)
                    let c = cd * 3 + ch
                    let tapsH = ch == 1 ? 2 : 1
                    let taps = TapClassWeights.tapCount(ofClass: c)
                    // The class's kw 0 row of (kd, kh); kw 1, 2, 3 follow a row apart.
                    let kw0 = classProducts[c] + ((co - slabFirst) * taps
                                                  + (indexD * tapsH + indexH) * 4) * columns[c]
                    for (dIndex, d) in keptD.enumerated() {
                        let od = 2 * d - 1 + kd
                        for (hIndex, h) in keptH.enumerated() {
                            let oh = 2 * h - 1 + kh
                            Self.addTaps(kw0 + (dIndex * keptH.count + hIndex) * n.z,
                                         columnStride: columns[c], count: n.z,
                                         into: channel + (od * outH + oh) * outW)
                        }
                    }
                }
            }
        }
    }
}
