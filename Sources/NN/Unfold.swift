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
    /// the padding. `volume` is C×D×H×W, `columns` is rows × columns.
    public func unfold(_ volume: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>) {
        let (inD, inH, inW) = (inputExtent.x, inputExtent.y, inputExtent.z)
        let (outD, outH, outW) = (outputExtent.x, outputExtent.y, outputExtent.z)
        let columnCount = outD * outH * outW
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
                        destination.update(repeating: 0, count: columnCount)
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
    /// `volume` (C×D×H×W) is overwritten, not accumulated into.
    public func fold(_ columns: UnsafePointer<Float>, into volume: UnsafeMutablePointer<Float>) {
        let (inD, inH, inW) = (inputExtent.x, inputExtent.y, inputExtent.z)
        let (outD, outH, outW) = (outputExtent.x, outputExtent.y, outputExtent.z)
        let columnCount = outD * outH * outW
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

@inline(__always)
func floorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

@inline(__always)
func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }
