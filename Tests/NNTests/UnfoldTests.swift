// ConvolutionGeometry's unfold and fold against their definitions, on the specialised
// kernel-4 stride-2 path and the general one, with columns side by side in a wider matrix.
import NN
import XCTest

final class UnfoldTests: XCTestCase {

    /// columns[(c,kd,kh,kw), o] = volume[c, o·s − p + k] or 0, straight from the definition.
    private func unfoldByDefinition(_ g: ConvolutionGeometry, _ volume: [Float]) -> [Float] {
        let (inD, inH, inW) = (g.inputExtent.x, g.inputExtent.y, g.inputExtent.z)
        let (outD, outH, outW) = (g.outputExtent.x, g.outputExtent.y, g.outputExtent.z)
        var columns = [Float](repeating: 0, count: g.rows * g.columns)
        var row = 0
        for c in 0..<g.channels {
            for kd in 0..<g.kernel {
                for kh in 0..<g.kernel {
                    for kw in 0..<g.kernel {
                        for od in 0..<outD {
                            for oh in 0..<outH {
                                for ow in 0..<outW {
                                    let i = od * g.stride - g.padding + kd
                                    let j = oh * g.stride - g.padding + kh
                                    let l = ow * g.stride - g.padding + kw
                                    guard (0..<inD).contains(i), (0..<inH).contains(j),
                                          (0..<inW).contains(l) else { continue }
                                    columns[row * g.columns + (od * outH + oh) * outW + ow] =
                                        volume[((c * inD + i) * inH + j) * inW + l]
                                }
                            }
                        }
                        row += 1
                    }
                }
            }
        }
        return columns
    }

    /// Unfold matches the definition inside a wider matrix (columns `offset` into rows of
    /// `stride`) and leaves the rest alone; fold is its adjoint: ⟨unfold v, u⟩ = ⟨v, fold u⟩.
    private func check(_ g: ConvolutionGeometry, file: StaticString = #filePath,
                       line: UInt = #line) {
        var random = SplitMix64(seed: 5)
        let volume = (0..<g.volumeSize).map { _ in Float(random.normal()) }
        let expected = unfoldByDefinition(g, volume)
        let (offset, stride) = (3, g.columns + 7)
        let sentinel: Float = 12345
        var wide = [Float](repeating: sentinel, count: g.rows * stride)
        volume.withUnsafeBufferPointer { v in
            wide.withUnsafeMutableBufferPointer {
                g.unfold(v.baseAddress!, into: $0.baseAddress! + offset, columnStride: stride)
            }
        }
        for row in 0..<g.rows {
            for column in 0..<stride {
                let value = wide[row * stride + column]
                if column >= offset && column < offset + g.columns {
                    XCTAssertEqual(value, expected[row * g.columns + column - offset],
                                   "unfold row \(row) column \(column)", file: file, line: line)
                } else {
                    XCTAssertEqual(value, sentinel, "unfold wrote outside its columns",
                                   file: file, line: line)
                }
            }
        }

        let u = (0..<(g.rows * stride)).map { _ in Float(random.normal()) }
        var folded = [Float](repeating: .nan, count: g.volumeSize)
        u.withUnsafeBufferPointer { columns in
            folded.withUnsafeMutableBufferPointer {
                g.fold(columns.baseAddress! + offset, columnStride: stride,
                       into: $0.baseAddress!)
            }
        }
        var left = 0.0, right = 0.0
        for row in 0..<g.rows {
            for column in 0..<g.columns {
                left += Double(expected[row * g.columns + column])
                    * Double(u[row * stride + offset + column])
            }
        }
        for index in 0..<g.volumeSize { right += Double(volume[index]) * Double(folded[index]) }
        XCTAssertEqual(left, right, accuracy: 1e-4 * max(1, abs(left)), "fold is not the adjoint",
                       file: file, line: line)
    }

    /// Rows of 2, 16 and 24 voxels: the scalar path, and the four-at-a-time path with only
    /// a first and a last block, and with a middle block.
    func testStride2Kernel4NonCubic() {
        for extent in [SIMD3(4, 6, 2), SIMD3(2, 4, 16), SIMD3(4, 2, 24)] {
            let g = ConvolutionGeometry(channels: 2, inputExtent: extent, kernel: 4, stride: 2,
                                        padding: 1)
            XCTAssertTrue(g.isStride2Kernel4)
            check(g)
        }
    }

    func testStride2Kernel4OddExtentTakesTheGeneralPath() {
        let g = ConvolutionGeometry(channels: 2, inputExtent: SIMD3(5, 4, 4), kernel: 4,
                                    stride: 2, padding: 1)
        XCTAssertFalse(g.isStride2Kernel4)
        check(g)
    }

    func testGeneralShapes() {
        check(ConvolutionGeometry(channels: 3, inputExtent: SIMD3(5, 6, 7), kernel: 3, stride: 2,
                                  padding: 1))
        check(ConvolutionGeometry(channels: 1, inputExtent: SIMD3(3, 3, 3), kernel: 2, stride: 1,
                                  padding: 2))
    }

    /// The slab-at-a-time products equal the whole-matrix ones: P = A·U, dW += B·Uᵀ and
    /// fold(Aᵀ·B), for 5 channels in slabs of 2 (the last one partial), 2 samples side by side.
    func testSlabProductsMatchWholeMatrixProducts() {
        for g in [ConvolutionGeometry(channels: 5, inputExtent: SIMD3(4, 6, 8), kernel: 4,
                                      stride: 2, padding: 1),
                  ConvolutionGeometry(channels: 5, inputExtent: SIMD3(5, 4, 3), kernel: 3,
                                      stride: 1, padding: 1)] {
            checkSlabProducts(g, count: 2)
        }
    }

    private func checkSlabProducts(_ g: ConvolutionGeometry, count: Int,
                                   file: StaticString = #filePath, line: UInt = #line) {
        var random = SplitMix64(seed: 9)
        func values(_ n: Int) -> [Float] { (0..<n).map { _ in Float(random.normal()) } }
        let (m, width) = (3, count * g.columns)
        let volumes = values(count * g.volumeSize)
        let weights = values(m * g.rows)
        let outer = values(m * width)
        let taps = g.kernel * g.kernel * g.kernel
        let budget = 2 * taps * width
        XCTAssertEqual(g.slabChannels(count: count, budget: budget), 2)

        // Whole matrices, by definition.
        var unfolded = [Float](repeating: 0, count: g.rows * width)
        for s in 0..<count {
            let one = unfoldByDefinition(g, Array(volumes[(s * g.volumeSize)...]
                                                    .prefix(g.volumeSize)))
            for row in 0..<g.rows {
                for column in 0..<g.columns {
                    unfolded[row * width + s * g.columns + column] = one[row * g.columns + column]
                }
            }
        }
        var product = [Float](repeating: 0, count: m * width)
        var gradient = [Float](repeating: 0.5, count: m * g.rows)
        var transposed = [Float](repeating: 0, count: g.rows * width)  // Aᵀ · B
        for i in 0..<m {
            for row in 0..<g.rows {
                for column in 0..<width {
                    product[i * width + column] += weights[i * g.rows + row]
                        * unfolded[row * width + column]
                    gradient[i * g.rows + row] += outer[i * width + column]
                        * unfolded[row * width + column]
                    transposed[row * width + column] += weights[i * g.rows + row]
                        * outer[i * width + column]
                }
            }
        }
        var expectedFold = [Float](repeating: 0, count: count * g.volumeSize)
        transposed.withUnsafeBufferPointer { t in
            expectedFold.withUnsafeMutableBufferPointer {
                g.fold(channels: 0..<g.channels, sideBySide: t.baseAddress!, count: count,
                       into: $0.baseAddress!)
            }
        }

        // In slabs.
        var scratch = [Float](repeating: .nan, count: g.slabScratchSize(count: count,
                                                                         budget: budget))
        var slabProduct = [Float](repeating: .nan, count: m * width)
        var slabGradient = [Float](repeating: 0.5, count: m * g.rows)
        var slabFold = [Float](repeating: .nan, count: count * g.volumeSize)
        volumes.withUnsafeBufferPointer { v in
            weights.withUnsafeBufferPointer { w in
                outer.withUnsafeBufferPointer { b in
                    scratch.withUnsafeMutableBufferPointer { s in
                        slabProduct.withUnsafeMutableBufferPointer { p in
                            slabGradient.withUnsafeMutableBufferPointer { d in
                                g.multiplyUnfolded(v.baseAddress!, count: count,
                                                   scratch: s.baseAddress!,
                                                   product: (w.baseAddress!, m, p.baseAddress!),
                                                   weightGradient: (b.baseAddress!, m,
                                                                    d.baseAddress!),
                                                   budget: budget)
                            }
                        }
                        slabFold.withUnsafeMutableBufferPointer {
                            g.foldProduct(weights: w.baseAddress!, inner: m,
                                          sideBySide: b.baseAddress!, count: count,
                                          scratch: s.baseAddress!, into: $0.baseAddress!,
                                          budget: budget)
                        }
                    }
                }
            }
        }
        for (name, got, expected) in [("A·U", slabProduct, product),
                                      ("B·Uᵀ", slabGradient, gradient),
                                      ("fold(Aᵀ·B)", slabFold, expectedFold)] {
            for index in expected.indices {
                XCTAssertEqual(got[index], expected[index],
                               accuracy: 1e-4 * max(1, abs(expected[index])),
                               "\(name) at \(index)", file: file, line: line)
            }
        }
    }
}
