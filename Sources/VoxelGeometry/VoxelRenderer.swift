// A software renderer for voxel grids: no GPU, no X, no shared state (callable from any
// thread).
//
// Orthographic projection makes every visible voxel face a parallelogram on screen, and all
// faces of one orientation share the same shape. So the renderer
//   1. collects the exposed faces that point towards the camera (at most 3 of 6 directions),
//   2. frames them: the projected extent of their voxels fills the image, less a margin,
//   3. scan-converts each face at `supersample`× resolution, row by row: the span of pixels
//      inside a face is solved from its parallelogram coordinates (s, t), so no pixel outside
//      it is visited; a z-buffer keeps the nearest face,
//   4. averages each supersample block into one output pixel (premultiplied alpha).
// Shading is flat per face orientation: ambient plus one key light fixed relative to the
// camera (from the upper left, slightly in front), so the top, left and right faces read as
// three distinct tones from any angle.
import Foundation
import Voxels

/// How to render a grid.
public struct RenderOptions: Equatable, Sendable {

    /// What fills the picture.
    public enum Framing: Equatable, Sendable {

        /// The occupied voxels, so every model fills the image.
        case model

        /// The whole grid box, so sizes stay comparable across pictures (interpolation strips).
        case grid
    }

    /// Width and height of the image in pixels, within `sizeRange`.
    public var size: Int

    /// The picture sizes every voxgan command and route accepts: below 16 px a chair is a
    /// smudge, above 2048 px one image is 16 MB of pixels before encoding.
    public static let sizeRange = 16...2048

    /// Degrees around +y; 0 looks at the chair's front (from −z towards +z, the backrest),
    /// positive values move the camera towards +x.
    public var azimuth: Double

    /// Degrees above the horizon; 35.264 (arctan 1/√2) with azimuth 45 is the isometric view.
    public var elevation: Double

    /// Colour behind the model, straight (not premultiplied) alpha.
    public var background: SIMD4<UInt8>

    /// Ignores `background` and leaves the background fully transparent.
    public var transparent: Bool

    /// Draws thin dark lines along the edges of every visible voxel face.
    public var outlines: Bool

    /// Samples per pixel along each axis (1–4); 2 gives 4 samples per pixel. Lowered for
    /// large images so the supersampled side stays within 8192 samples.
    public var supersample: Int

    /// Colours each voxel by its probability (a viridis-like ramp from 0 to 1) instead of
    /// `colour`, when probabilities are passed to the renderer.
    public var colourByProbability: Bool

    /// Base colour of the voxels before shading.
    public var colour: SIMD3<UInt8>

    /// Free border on each side, as a fraction of the image size.
    public var margin: Double

    public var framing: Framing

    public init(size: Int = 512, azimuth: Double = 45, elevation: Double = 35.264,
                background: SIMD4<UInt8> = SIMD4(255, 255, 255, 255), transparent: Bool = false,
                outlines: Bool = false, supersample: Int = 2, colourByProbability: Bool = false,
                colour: SIMD3<UInt8> = SIMD3(96, 140, 196), margin: Double = 0.04,
                framing: Framing = .model) {
        self.size = size
        self.azimuth = azimuth
        self.elevation = elevation
        self.background = background
        self.transparent = transparent
        self.outlines = outlines
        self.supersample = supersample
        self.colourByProbability = colourByProbability
        self.colour = colour
        self.margin = margin
        self.framing = framing
    }
}

/// Pictures of voxel grids.
///
/// See Also: `RenderOptions`, `PNGEncoder`, `ImageSheet`.
public enum VoxelRenderer {

    /// Renders the occupied voxels of `grid` as shaded cubes.
    ///
    /// - Parameters:
    ///   - probabilities: optional per-voxel probabilities laid out `p[x][y][z]`
    ///     (`p[(x·ny + y)·nz + z]`), used for colour when `options.colourByProbability`.
    ///   - options: size, camera, colours; an empty grid gives a background-only image.
    /// - Returns: an `options.size` × `options.size` image.
    public static func render(_ grid: VoxelGrid, probabilities: UnsafeBufferPointer<Float>? = nil,
                              options: RenderOptions = RenderOptions()) -> RGBAImage {
        precondition(options.size > 0, "render: size must be positive, got \(options.size)")
        if let probabilities {
            precondition(probabilities.count == grid.count,
                         "render: \(probabilities.count) probabilities for \(grid.count) voxels")
        }
        let background = options.transparent ? SIMD4<UInt8>(0, 0, 0, 0) : options.background
        let occupancy = PaddedOccupancy(grid)
        guard !occupancy.occupied.isEmpty else {
            return RGBAImage(width: options.size, height: options.size, fill: background)
        }
        var raster = Raster(options: options, background: background)
        raster.draw(occupancy: occupancy, grid: grid,
                    probabilities: options.colourByProbability ? probabilities : nil)
        return raster.downsample()
    }
}

// MARK: - Camera and shading

/// Camera basis in lattice space: `forward` points from the model towards the camera.
struct Camera {

    let right: SIMD3<Double>
    let up: SIMD3<Double>
    let forward: SIMD3<Double>

    init(azimuth: Double, elevation: Double) {
        let a = azimuth * .pi / 180, e = elevation * .pi / 180
        forward = SIMD3(sin(a) * cos(e), sin(e), -cos(a) * cos(e))
        // up × forward, normalised; written out so it stays defined looking straight down.
        right = SIMD3(-cos(a), 0, -sin(a))
        up = cross(forward, right)
    }

    /// Brightness of a face with outward normal `normal`: ambient plus a key light from the
    /// viewer's upper left.
    func shade(_ normal: SIMD3<Double>) -> Double {
        var light = -0.45 * right + 0.75 * up + 0.5 * forward
        light /= (light * light).sum().squareRoot()
        return 0.42 + 0.58 * max(0, (normal * light).sum())
    }
}

/// A viridis-like ramp, five stops from dark purple (0) to yellow (1).
func probabilityColour(_ p: Float) -> SIMD3<Double> {
    let stops: [SIMD3<Double>] = [SIMD3(68, 1, 84), SIMD3(59, 82, 139), SIMD3(33, 145, 140),
                                  SIMD3(94, 201, 98), SIMD3(253, 231, 37)]
    let clamped = p.isNaN ? 0 : Double(min(max(p, 0), 1)) * 4
    let index = min(Int(clamped), 3)
    let t = clamped - Double(index)
    return stops[index] * (1 - t) + stops[index + 1] * t
}

@inline(__always)
func packPremultiplied(_ colour: SIMD4<UInt8>) -> UInt32 {
    let alpha = UInt32(colour.w)
    let r = (UInt32(colour.x) * alpha + 127) / 255
    let g = (UInt32(colour.y) * alpha + 127) / 255
    let b = (UInt32(colour.z) * alpha + 127) / 255
    return r | g << 8 | b << 16 | alpha << 24
}

@inline(__always)
func packOpaque(_ rgb: SIMD3<Double>) -> UInt32 {
    let r = UInt32(min(max(rgb.x.rounded(), 0), 255))
    let g = UInt32(min(max(rgb.y.rounded(), 0), 255))
    let b = UInt32(min(max(rgb.z.rounded(), 0), 255))
    return r | g << 8 | b << 16 | 255 << 24
}

// MARK: - Rasteriser

/// The supersampled buffer of one render.
///
/// Each sample is one `UInt32`: quantised depth in the high 16 bits (larger is nearer, 0 is
/// the background) and a palette index in the low 16. The depth test is then a single
/// unsigned comparison, and the buffer is half the size of separate colour and depth planes.
/// 16 bits of depth over the model's depth range resolve 1/500 of a voxel at 128³, far finer
/// than any gap between two surfaces that can overlap on screen.
struct Raster {

    let size: Int
    let supersample: Int
    let side: Int
    let options: RenderOptions

    /// `side × side` samples, rows top first.
    var samples: [UInt32]

    /// Premultiplied RGBA (R in the low byte) per palette index; index 0 is the background.
    var palette: [UInt32]

    /// Straight RGBA per palette index, for pixels whose samples all agree.
    var straight: [SIMD4<UInt8>]

    init(options: RenderOptions, background: SIMD4<UInt8>) {
        size = options.size
        supersample = min(max(options.supersample, 1), 4, max(1, 8192 / max(options.size, 1)))
        side = size * supersample
        self.options = options
        samples = [UInt32](repeating: 0, count: side * side)
        palette = [packPremultiplied(background)]
        straight = [background]
    }

    /// One face orientation as seen on screen.
    struct Orientation {
        /// Lattice offset of the face's first corner from its voxel.
        var corner: SIMD3<Double>
        /// Maps from pixel offsets (dx, dy) to face coordinates: s = sx·dx + sy·dy, likewise t.
        var sx: Double, sy: Double, tx: Double, ty: Double
        /// Quantised depth change per unit of s and t.
        var depthS: Double, depthT: Double
        /// Screen distance in pixels between opposite sides (s = 0 to 1, t = 0 to 1).
        var widthS: Double, widthT: Double
        /// Screen bounding box of the face relative to its first corner.
        var low: SIMD2<Double>, high: SIMD2<Double>
        /// Palette index of the first colour level's fill; its outline colour follows it.
        var paletteBase: Int
    }

    /// Probability colours are quantised to this many levels (palette entries per side).
    static let levels = 256

    mutating func draw(occupancy: PaddedOccupancy, grid: VoxelGrid,
                       probabilities: UnsafeBufferPointer<Float>?) {
        let camera = Camera(azimuth: options.azimuth, elevation: options.elevation)
        let sx = occupancy.strideX, sy = occupancy.strideY
        let neighbour = [-sx, sx, -sy, sy, -1, 1]
        let visible = (0..<6).filter { d in
            (d & 1 == 1 ? 1 : -1) * camera.forward[d / 2] > 1e-9
        }

        // 1. Exposed faces towards the camera, and the extent of their voxels on screen and
        // in depth (extremes of a cube's projection are at its corners).
        var faces: [(voxel: SIMD3<Int32>, direction: UInt8)] = []
        faces.reserveCapacity(occupancy.occupied.count * 2)
        var cornerLow = SIMD3<Double>(repeating: .infinity), cornerHigh = -cornerLow
        for corner in 0..<8 {
            let offset = SIMD3<Double>(Double(corner & 1), Double((corner >> 1) & 1),
                                       Double(corner >> 2))
            let projected = SIMD3((offset * camera.right).sum(), (offset * camera.up).sum(),
                                  (offset * camera.forward).sum())
            cornerLow = pointwiseMin(cornerLow, projected)
            cornerHigh = pointwiseMax(cornerHigh, projected)
        }
        var low = SIMD3<Double>(repeating: .infinity), high = -low
        occupancy.cells.withUnsafeBufferPointer { cells in
            for padded in occupancy.occupied {
                let voxel = Int(padded)
                var exposed = false
                let c = occupancy.coordinates(voxel)
                let at = SIMD3(Int32(c.x), Int32(c.y), Int32(c.z))
                for d in visible where cells[voxel + neighbour[d]] == 0 {
                    faces.append((at, UInt8(d)))
                    exposed = true
                }
                guard exposed else { continue }
                let position = SIMD3<Double>(Double(c.x), Double(c.y), Double(c.z))
                let projected = SIMD3((position * camera.right).sum(),
                                      (position * camera.up).sum(),
                                      (position * camera.forward).sum())
                low = pointwiseMin(low, projected + cornerLow)
                high = pointwiseMax(high, projected + cornerHigh)
            }
        }
        guard !faces.isEmpty else { return }
        if options.framing == .grid {
            for corner in 0..<8 {
                let position = SIMD3<Double>(Double((corner & 1) * grid.nx),
                                             Double(((corner >> 1) & 1) * grid.ny),
                                             Double((corner >> 2) * grid.nz))
                let point = SIMD2((position * camera.right).sum(), (position * camera.up).sum())
                if corner == 0 {
                    low.x = point.x
                    low.y = point.y
                    high.x = point.x
                    high.y = point.y
                }
                low = SIMD3(min(low.x, point.x), min(low.y, point.y), low.z)
                high = SIMD3(max(high.x, point.x), max(high.y, point.y), high.z)
            }
        }

        // 2. Lattice units to supersampled pixels (x right, y down, centred) and depth to
        // 1...65534.
        let extent = max(high.x - low.x, high.y - low.y, 1e-9)
        let scale = Double(side) * max(0.05, 1 - 2 * options.margin) / extent
        let centre = (SIMD2(low.x, low.y) + SIMD2(high.x, high.y)) / 2
        let half = Double(side) / 2
        let depthScale = 65533 / max(high.z - low.z, 1e-9)
        func screenVector(_ vector: SIMD3<Double>) -> SIMD2<Double> {
            SIMD2((vector * camera.right).sum() * scale, -(vector * camera.up).sum() * scale)
        }

        // Palette: per visible side and colour level, a fill and a darker outline colour.
        let levels = probabilities == nil ? 1 : Raster.levels
        let base = SIMD3<Double>(options.colour)
        var orientations: [Orientation?] = Array(repeating: nil, count: 6)
        for d in visible {
            let axes = [SIMD3<Double>(1, 0, 0), SIMD3<Double>(0, 1, 0), SIMD3<Double>(0, 0, 1)]
            let uAxis = axes[FaceDirections.uAxis[d]], vAxis = axes[FaceDirections.vAxis[d]]
            var normal = SIMD3<Double>.zero
            normal[d / 2] = d & 1 == 1 ? 1 : -1
            let brightness = camera.shade(normal)
            let paletteBase = palette.count
            for level in 0..<levels {
                let rgb = probabilities == nil
                    ? base : probabilityColour(Float(level) / Float(levels - 1))
                for factor in [brightness, brightness * 0.55] {
                    let colour = packOpaque(rgb * factor)
                    palette.append(colour)
                    straight.append(SIMD4(UInt8(colour & 0xFF), UInt8((colour >> 8) & 0xFF),
                                          UInt8((colour >> 16) & 0xFF), 255))
                }
            }
            let a = screenVector(uAxis), b = screenVector(vAxis)
            let determinant = a.x * b.y - a.y * b.x
            guard abs(determinant) > 1e-12 else { continue }  // edge-on: covers no pixels
            let corners = [SIMD2<Double>.zero, a, a + b, b]
            orientations[d] = Orientation(
                corner: SIMD3(FaceDirections.latticeOffset(direction: d, corner: 0)),
                sx: b.y / determinant, sy: -b.x / determinant,
                tx: -a.y / determinant, ty: a.x / determinant,
                depthS: (uAxis * camera.forward).sum() * depthScale,
                depthT: (vAxis * camera.forward).sum() * depthScale,
                widthS: abs(determinant) / (b * b).sum().squareRoot(),
                widthT: abs(determinant) / (a * a).sum().squareRoot(),
                low: corners.reduce(SIMD2(.infinity, .infinity)) { pointwiseMin($0, $1) },
                high: corners.reduce(-SIMD2(.infinity, .infinity)) { pointwiseMax($0, $1) },
                paletteBase: paletteBase)
        }

        // Lines about one output pixel wide where two faces meet (half on each face), thinner
        // when voxels are only a few pixels across.
        let lineWidth = options.outlines ? min(0.5 * Double(supersample), 0.1 * scale) : -1
        let ny = grid.ny, nz = grid.nz

        // 3. Scan conversion, row by row within each face.
        let side = self.side
        samples.withUnsafeMutableBufferPointer { samples in
            for face in faces {
                guard let o = orientations[Int(face.direction)] else { continue }
                var entry = o.paletteBase
                if let probabilities {
                    let x = Int(face.voxel.x), y = Int(face.voxel.y), z = Int(face.voxel.z)
                    let p = probabilities[(x * ny + y) * nz + z]
                    let level = p.isNaN ? 0 : Int((min(max(p, 0), 1) * Float(levels - 1)).rounded())
                    entry += 2 * level
                }
                let fill = UInt32(entry), line = UInt32(entry + 1)
                let first = SIMD3<Double>(face.voxel) + o.corner
                let origin = SIMD2(((first * camera.right).sum() - centre.x) * scale + half,
                                   half - ((first * camera.up).sum() - centre.y) * scale)
                let originDepth = ((first * camera.forward).sum() - low.z) * depthScale + 1
                let top = max(0, Int((origin.y + o.low.y - 0.5).rounded(.up)))
                let bottom = min(side - 1, Int((origin.y + o.high.y - 0.5).rounded(.down)))
                guard top <= bottom else { continue }
                let epsilon = 1e-3
                for row in top...bottom {
                    let dy = Double(row) + 0.5 - origin.y
                    // s = sRow + o.sx·dx and t = tRow + o.tx·dx, with dx = x + 0.5 − origin.x.
                    let sRow = o.sy * dy, tRow = o.ty * dy
                    var from = -Double.infinity, to = Double.infinity
                    if !Raster.span(sRow, o.sx, epsilon, &from, &to) { continue }
                    if !Raster.span(tRow, o.tx, epsilon, &from, &to) { continue }
                    let start = max(0, Int((from + origin.x - 0.5).rounded(.up)))
                    let end = min(side - 1, Int((to + origin.x - 0.5).rounded(.down)))
                    guard start <= end else { continue }
                    let dx = Double(start) + 0.5 - origin.x
                    let s0 = sRow + o.sx * dx, t0 = tRow + o.tx * dx
                    let depth0 = originDepth + o.depthS * s0 + o.depthT * t0
                    let depthStep = o.depthS * o.sx + o.depthT * o.tx
                    let rowBase = row * side
                    if lineWidth < 0 {
                        var depth = Float(depth0)
                        let step = Float(depthStep)
                        for x in start...end {
                            let value = UInt32(min(max(depth, 1), 65534)) << 16 | fill
                            if value > samples[rowBase + x] { samples[rowBase + x] = value }
                            depth += step
                        }
                    } else {
                        for x in start...end {
                            let k = Double(x - start)
                            let s = s0 + o.sx * k, t = t0 + o.tx * k
                            let depth = depth0 + depthStep * k
                            let edge = min(min(s, 1 - s) * o.widthS, min(t, 1 - t) * o.widthT)
                            let value = UInt32(min(max(depth, 1), 65534)) << 16
                                | (edge < lineWidth ? line : fill)
                            if value > samples[rowBase + x] { samples[rowBase + x] = value }
                        }
                    }
                }
            }
        }
    }

    /// Narrows [from, to] (pixel offsets dx) to where `value + slope·dx` lies in
    /// [−epsilon, 1 + epsilon]; false when that is nowhere.
    @inline(__always)
    static func span(_ value: Double, _ slope: Double, _ epsilon: Double, _ from: inout Double,
                     _ to: inout Double) -> Bool {
        if abs(slope) < 1e-12 {
            return value >= -epsilon && value <= 1 + epsilon
        }
        var a = (-epsilon - value) / slope, b = (1 + epsilon - value) / slope
        if a > b { swap(&a, &b) }
        from = max(from, a)
        to = min(to, b)
        return from <= to
    }

    /// Averages each supersample block into one pixel and un-premultiplies alpha.
    func downsample() -> RGBAImage {
        let n = supersample, size = self.size, side = self.side
        let count = UInt32(n * n)
        var pixels = [UInt8](repeating: 0, count: size * size * 4)
        samples.withUnsafeBufferPointer { samples in
            palette.withUnsafeBufferPointer { palette in
                straight.withUnsafeBufferPointer { straight in
                    pixels.withUnsafeMutableBufferPointer { pixels in
                        for y in 0..<size {
                            for x in 0..<size {
                                let first = (y * n) * side + x * n
                                let entry = samples[first] & 0xFFFF
                                var uniform = true
                                // Halves 0x00FF00FF lanes: R and B in one, G and A in other.
                                var redBlue: UInt64 = 0, greenAlpha: UInt64 = 0
                                for sy in 0..<n {
                                    for sx in 0..<n {
                                        let sample = samples[first + sy * side + sx] & 0xFFFF
                                        uniform = uniform && sample == entry
                                        let colour = UInt64(palette[Int(sample)])
                                        redBlue += colour & 0x00FF_00FF
                                        greenAlpha += (colour >> 8) & 0x00FF_00FF
                                    }
                                }
                                let index = (y * size + x) * 4
                                if uniform {
                                    let colour = straight[Int(entry)]
                                    pixels[index] = colour.x
                                    pixels[index + 1] = colour.y
                                    pixels[index + 2] = colour.z
                                    pixels[index + 3] = colour.w
                                    continue
                                }
                                let r = UInt32(redBlue & 0xFFFF), b = UInt32(redBlue >> 16)
                                let g = UInt32(greenAlpha & 0xFFFF), a = UInt32(greenAlpha >> 16)
                                if a == 255 * count {
                                    pixels[index] = UInt8((r + count / 2) / count)
                                    pixels[index + 1] = UInt8((g + count / 2) / count)
                                    pixels[index + 2] = UInt8((b + count / 2) / count)
                                    pixels[index + 3] = 255
                                } else if a > 0 {
                                    // Premultiplied sums over the alpha sum: straight colour.
                                    pixels[index] = UInt8(min(255, (r * 255 + a / 2) / a))
                                    pixels[index + 1] = UInt8(min(255, (g * 255 + a / 2) / a))
                                    pixels[index + 2] = UInt8(min(255, (b * 255 + a / 2) / a))
                                    pixels[index + 3] = UInt8((a + count / 2) / count)
                                }
                            }
                        }
                    }
                }
            }
        }
        return RGBAImage(width: size, height: size, pixels: pixels)
    }
}
