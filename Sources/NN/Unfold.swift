// The geometry shared by Conv3d and ConvTranspose3d: unfolding a volume into columns (im2col)
// and folding columns back into a volume (its adjoint, col2im). Conv3d's forward pass unfolds
// its input; ConvTranspose3d's forward pass folds into its output, which is why the two layers'
// forward and backward passes mirror each other.

/// A 3-D convolution's shapes. "Volume" is the convolution's input side (C × D × H × W);
/// "columns" is the unfolded matrix (C·k³ rows × oD·oH·oW columns), one column per output voxel.
public struct ConvolutionGeometry: Equatable {

    public let channels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let inputExtent: SIMD3<Int>
    public let outputExtent: SIMD3<Int>

    /// Geometry of a convolution reading a `channels × inputExtent` volume. Output extent per
    /// axis is `floor((in + 2p − k)/s) + 1` (PyTorch's Conv3d).
    public init(channels: Int, inputExtent: SIMD3<Int>, kernel: Int, stride: Int,
                padding: Int) {
        self.channels = channels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.inputExtent = inputExtent
        let out = (inputExtent &+ 2 &* padding &- kernel) / stride &+ 1
        self.outputExtent = out
    }

    /// Rows of the column matrix: C·k³.
    public var rows: Int { channels * kernel * kernel * kernel }

    /// Columns of the column matrix: one per output voxel.
    public var columns: Int { outputExtent.x * outputExtent.y * outputExtent.z }

    public var volumeSize: Int { channels * inputExtent.x * inputExtent.y * inputExtent.z }

    /// True when unfolding is a plain copy: the kernel covers the whole unpadded input, so
    /// there is one output voxel and the columns are the volume itself (the first generator
    /// layer and the last discriminator layer).
    public var isFullyConnected: Bool {
        padding == 0 && inputExtent == SIMD3(repeating: kernel)
    }

    /// True for the models' stride-2 layers (kernel 4, stride 2, padding 1, even extents), which
    /// take the specialised paths below: there output voxel `o` reads input voxels 2o−1 … 2o+2
    /// along each axis, and only the first and last output of an axis touch the padding.
    public var isStride2Kernel4: Bool {
        kernel == 4 && stride == 2 && padding == 1
            && inputExtent.x % 2 == 0 && inputExtent.y % 2 == 0 && inputExtent.z % 2 == 0
            && inputExtent.x >= 2 && inputExtent.y >= 2 && inputExtent.z >= 2
    }

    /// The range of output indices `o` along one axis for which `o·s − p + k` lies in `0..<n`.
    @inline(__always)
    private func validRange(kernelOffset k: Int, inputLength n: Int, outputLength: Int)
        -> Range<Int>
    {
        // o·s ≥ p − k  and  o·s ≤ n − 1 + p − k
        let low = max(0, ceilDiv(padding - k, stride))
        let high = min(outputLength, floorDiv(n - 1 + padding - k, stride) + 1)
        return low..<max(low, high)
    }

    /// columns[(c,kd,kh,kw), (od,oh,ow)] = volume[c, od·s−p+kd, oh·s−p+kh, ow·s−p+kw], or 0 in
    /// the padding. `volume` is C×D×H×W, `columns` is rows × columns with rows
    /// `columnStride` ≥ `columns` apart (several samples' columns can sit side by side).
    public func unfold(_ volume: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>,
                       columnStride: Int? = nil) {
        let columnCount = columnStride ?? self.columns
        if isStride2Kernel4 {
            unfoldStride2Kernel4(volume, into: columns, columnStride: columnCount)
            return
        }
        let (inD, inH, inW) = (inputExtent.x, inputExtent.y, inputExtent.z)
        let (outD, outH, outW) = (outputExtent.x, outputExtent.y, outputExtent.z)
        var row = 0
        for c in 0..<channels {
            let channel = volume + c * inD * inH * inW
            for kd in 0..<kernel {
                let validD = validRange(kernelOffset: kd, inputLength: inD, outputLength: outD)
                for kh in 0..<kernel {
                    let validH = validRange(kernelOffset: kh, inputLength: inH,
                                            outputLength: outH)
                    for kw in 0..<kernel {
                        let validW = validRange(kernelOffset: kw, inputLength: inW,
                                                outputLength: outW)
                        let destination = columns + row * columnCount
                        row += 1
                        destination.update(repeating: 0, count: outD * outH * outW)
                        for od in validD {
                            let id = od * stride - padding + kd
                            for oh in validH {
                                let ih = oh * stride - padding + kh
                                let source = channel + (id * inH + ih) * inW - padding + kw
                                let target = destination + (od * outH + oh) * outW
                                if stride == 1 {
                                    (target + validW.lowerBound).update(
                                        from: source + validW.lowerBound, count: validW.count)
                                } else {
                                    for ow in validW { target[ow] = source[ow * stride] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `unfold`: adds every column entry back onto the volume voxel it came from.
    /// `volume` (C×D×H×W) is overwritten, not accumulated into; `columns` rows are
    /// `columnStride` apart, as in `unfold`.
    public func fold(_ columns: UnsafePointer<Float>, columnStride: Int? = nil,
                     into volume: UnsafeMutablePointer<Float>) {
        let columnCount = columnStride ?? self.columns
        if isStride2Kernel4 {
            foldStride2Kernel4(columns, columnStride: columnCount, into: volume)
            return
        }
        let (inD, inH, inW) = (inputExtent.x, inputExtent.y, inputExtent.z)
        let (outD, outH, outW) = (outputExtent.x, outputExtent.y, outputExtent.z)
        volume.update(repeating: 0, count: volumeSize)
        var row = 0
        for c in 0..<channels {
            let channel = volume + c * inD * inH * inW
            for kd in 0..<kernel {
                let validD = validRange(kernelOffset: kd, inputLength: inD, outputLength: outD)
                for kh in 0..<kernel {
                    let validH = validRange(kernelOffset: kh, inputLength: inH,
                                            outputLength: outH)
                    for kw in 0..<kernel {
                        let validW = validRange(kernelOffset: kw, inputLength: inW,
                                                outputLength: outW)
                        let sourceRow = columns + row * columnCount
                        row += 1
                        for od in validD {
                            let id = od * stride - padding + kd
                            for oh in validH {
                                let ih = oh * stride - padding + kh
                                let target = channel + (id * inH + ih) * inW - padding + kw
                                let source = sourceRow + (od * outH + oh) * outW
                                for ow in validW { target[ow * stride] += source[ow] }
                            }
                        }
                    }
                }
            }
        }
    }
}

// Kernel 4, stride 2, padding 1 on even extents: the same results as the general loops, in
// the order that suits memory. Along W, output `ow` reads input 2·ow − 1 + kw, so one pass over
// an input row fills the four kw rows at once (kw 1 and 3 take its even voxels, kw 0 and 2 its
// odd ones), and the padding is written only where it is.
extension ConvolutionGeometry {

    /// The two (kernel offset, output index) pairs with i = 2·o − 1 + k along an axis; at the
    /// ends of the axis one of them has an output index outside the output, and callers skip it.
    @inline(__always)
    private static func readers(of i: Int) -> ((k: Int, o: Int), (k: Int, o: Int)) {
        if i % 2 == 0 { return ((k: 1, o: i / 2), (k: 3, o: i / 2 - 1)) }
        return ((k: 0, o: (i + 1) / 2), (k: 2, o: (i - 1) / 2))
    }

    fileprivate func unfoldStride2Kernel4(_ volume: UnsafePointer<Float>,
                                          into columns: UnsafeMutablePointer<Float>,
                                          columnStride: Int) {
        let (inD, inH, inW) = (inputExtent.x, inputExtent.y, inputExtent.z)
        let (outD, outH, outW) = (outputExtent.x, outputExtent.y, outputExtent.z)
        for c in 0..<channels {
            let channel = volume + c * inD * inH * inW
            for kd in 0..<4 {
                for kh in 0..<4 {
                    let t0 = columns + ((c * 4 + kd) * 4 + kh) * 4 * columnStride
                    let (t1, t2, t3) = (t0 + columnStride, t0 + 2 * columnStride,
                                        t0 + 3 * columnStride)
                    for od in 0..<outD {
                        let id = 2 * od - 1 + kd
                        for oh in 0..<outH {
                            let ih = 2 * oh - 1 + kh
                            let offset = (od * outH + oh) * outW
                            guard id >= 0, id < inD, ih >= 0, ih < inH else {
                                (t0 + offset).update(repeating: 0, count: outW)
                                (t1 + offset).update(repeating: 0, count: outW)
                                (t2 + offset).update(repeating: 0, count: outW)
                                (t3 + offset).update(repeating: 0, count: outW)
                                continue
                            }
                            Self.spreadRow(channel + (id * inH + ih) * inW, count: outW,
                                           t0 + offset, t1 + offset, t2 + offset, t3 + offset)
                        }
                    }
                }
            }
        }
    }

    /// Fold one (kd, kh) block at a time: its four kw rows are read once, front to back, and
    /// each of their row segments adds onto the volume row it came from (a channel of the
    /// volume stays in cache while its 16 blocks are added).
    fileprivate func foldStride2Kernel4(_ columns: UnsafePointer<Float>, columnStride: Int,
                                        into volume: UnsafeMutablePointer<Float>) {
        let (inD, inH, inW) = (inputExtent.x, inputExtent.y, inputExtent.z)
        let (outD, outH, outW) = (outputExtent.x, outputExtent.y, outputExtent.z)
        volume.update(repeating: 0, count: volumeSize)
        for c in 0..<channels {
            let channel = volume + c * inD * inH * inW
            for kd in 0..<4 {
                for kh in 0..<4 {
                    let s0 = columns + ((c * 4 + kd) * 4 + kh) * 4 * columnStride
                    for od in 0..<outD {
                        let id = 2 * od - 1 + kd
                        guard id >= 0, id < inD else { continue }
                        for oh in 0..<outH {
                            let ih = 2 * oh - 1 + kh
                            guard ih >= 0, ih < inH else { continue }
                            Self.addTaps(s0 + (od * outH + oh) * outW,
                                         columnStride: columnStride, count: outW,
                                         into: channel + (id * inH + ih) * inW)
                        }
                    }
                }
            }
        }
    }

    /// The four kw segments that read one input row of 2·count voxels:
    /// r1[j] = row[2j], r2[j] = row[2j + 1], r0[j + 1] = row[2j + 1], r3[j] = row[2j + 2], and
    /// the padding r0[0] = r3[count − 1] = 0. When count is a multiple of 4 (every model
    /// layer), four outputs of each segment per step from one deinterleaved load.
    @inline(__always)
    private static func spreadRow(_ row: UnsafePointer<Float>, count: Int,
                                  _ r0: UnsafeMutablePointer<Float>,
                                  _ r1: UnsafeMutablePointer<Float>,
                                  _ r2: UnsafeMutablePointer<Float>,
                                  _ r3: UnsafeMutablePointer<Float>) {
        guard count % 4 == 0 else {
            r0[0] = 0
            for j in 0..<count {
                r1[j] = row[2 * j]
                r2[j] = row[2 * j + 1]
                if j + 1 < count { r0[j + 1] = row[2 * j + 1] }
                r3[j] = j + 1 < count ? row[2 * j + 2] : 0
            }
            return
        }
        for j in Swift.stride(from: 0, to: count, by: 4) {
            let here = load8(row + 2 * j)  // row[2j ..< 2j + 8]
            let (even, odd) = (here.evenHalf, here.oddHalf)
            store(even, at: r1 + j)
            store(odd, at: r2 + j)
            // r0[j] is the previous block's last odd voxel (the padding for the first block).
            store(SIMD4(j == 0 ? 0 : row[2 * j - 1], odd[0], odd[1], odd[2]), at: r0 + j)
            // r3[j + 3] is the next block's first even voxel (the padding for the last block).
            store(SIMD4(even[1], even[2], even[3], j + 4 < count ? row[2 * j + 8] : 0),
                  at: r3 + j)
        }
    }

    /// Adds the four kw segments at `s0 + kw·columnStride` onto the volume row they came from
    /// (2·count voxels): row[2j] += kw1[j] + kw3[j − 1],  row[2j + 1] += kw2[j] + kw0[j + 1]
    /// (terms outside the segments are the padding, absent). Four voxel pairs per step when
    /// count is a multiple of 4.
    @inline(__always)
    static func addTaps(_ s0: UnsafePointer<Float>, columnStride: Int, count: Int,
                                into row: UnsafeMutablePointer<Float>) {
        let (s1, s2, s3) = (s0 + columnStride, s0 + 2 * columnStride, s0 + 3 * columnStride)
        guard count % 4 == 0 else {
            for j in 0..<count {
                row[2 * j] += j > 0 ? s1[j] + s3[j - 1] : s1[j]
                row[2 * j + 1] += j + 1 < count ? s2[j] + s0[j + 1] : s2[j]
            }
            return
        }
        for j in Swift.stride(from: 0, to: count, by: 4) {
            let before = j == 0 ? SIMD4(0, s3[0], s3[1], s3[2]) : load(s3 + j - 1)
            let after = j + 4 < count ? load(s0 + j + 1) : SIMD4(s0[j + 1], s0[j + 2], s0[j + 3], 0)
            var both = SIMD8<Float>()
            both.evenHalf = load(s1 + j) + before
            both.oddHalf = load(s2 + j) + after
            let target = UnsafeMutableRawPointer(row + 2 * j)
            target.storeBytes(of: target.loadUnaligned(as: SIMD8<Float>.self) + both,
                              as: SIMD8<Float>.self)
        }
    }
}

@inline(__always)
private func load(_ pointer: UnsafePointer<Float>) -> SIMD4<Float> {
    UnsafeRawPointer(pointer).loadUnaligned(as: SIMD4<Float>.self)
}

@inline(__always)
private func load8(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
private func store(_ value: SIMD4<Float>, at pointer: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD4<Float>.self)
}

@inline(__always)
func floorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

@inline(__always)
func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }
