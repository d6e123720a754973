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

    /// Width and height of the image in pixels.
    public var size: Int

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

    /// Samples per pixel along each axis (1–4); 2 gives 4 samples per pixel.
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

/// The supersampled colour and depth buffers of one render.
struct Raster {

    let size: Int
    let supersample: Int
    let side: Int
    let options: RenderOptions

    /// Premultiplied RGBA (R in the low byte), `side × side`, rows top first.
    var colour: [UInt32]

    /// Depth towards the camera in lattice units; larger is nearer.
    var depth: [Float]

    init(options: RenderOptions, background: SIMD4<UInt8>) {
        size = options.size
        supersample = min(max(options.supersample, 1), 4)
        side = size * supersample
        self.options = options
        colour = [UInt32](repeating: packPremultiplied(background), count: side * side)
        depth = [Float](repeating: -.infinity, count: side * side)
    }

    /// One face orientation as seen on screen.
    struct Orientation {
        /// Direction index (−x, +x, −y, +y, −z, +z).
        var direction: Int
        /// Lattice offset of the face's first corner from its voxel.
        var corner: SIMD3<Double>
        /// Screen-space maps from pixel offsets to face coordinates (s, t).
        var sx: Double, sy: Double, tx: Double, ty: Double
        /// Depth change per unit of s and t.
        var depthS: Double, depthT: Double
        /// Screen distance in pixels between opposite sides (s = 0 to 1, t = 0 to 1).
        var widthS: Double, widthT: Double
        /// Screen bounding box of the face relative to its first corner.
        var low: SIMD2<Double>, high: SIMD2<Double>
        var brightness: Double
    }

    mutating func draw(occupancy: PaddedOccupancy, grid: VoxelGrid,
                       probabilities: UnsafeBufferPointer<Float>?) {
        let camera = Camera(azimuth: options.azimuth, elevation: options.elevation)
        let sx = occupancy.strideX, sy = occupancy.strideY
        let neighbour = [-sx, sx, -sy, sy, -1, 1]
        let visible = (0..<6).filter { d in
            (d & 1 == 1 ? 1 : -1) * camera.forward[d / 2] > 1e-9
        }

        // 1. Exposed faces towards the camera, and the extent of their voxels on screen.
        var faces: [(voxel: SIMD3<Int32>, direction: UInt8)] = []
        faces.reserveCapacity(occupancy.occupied.count * 2)
        var cornerRight: [Double] = [], cornerUp: [Double] = []
        for corner in 0..<8 {
            let offset = SIMD3<Double>(Double(corner & 1), Double((corner >> 1) & 1),
                                       Double(corner >> 2))
            cornerRight.append((offset * camera.right).sum())
            cornerUp.append((offset * camera.up).sum())
        }
        var low = SIMD2<Double>(.infinity, .infinity), high = -low
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
                let right = (position * camera.right).sum()
                let up = (position * camera.up).sum()
                low = pointwiseMin(low, SIMD2(right + cornerRight.min()!, up + cornerUp.min()!))
                high = pointwiseMax(high, SIMD2(right + cornerRight.max()!, up + cornerUp.max()!))
            }
        }
        if options.framing == .grid {
            low = SIMD2(.infinity, .infinity)
            high = -low
            for corner in 0..<8 {
                let position = SIMD3<Double>(Double((corner & 1) * grid.nx),
                                             Double(((corner >> 1) & 1) * grid.ny),
                                             Double((corner >> 2) * grid.nz))
                let point = SIMD2((position * camera.right).sum(), (position * camera.up).sum())
                low = pointwiseMin(low, point)
                high = pointwiseMax(high, point)
            }
        }
        guard !faces.isEmpty else { return }

        // 2. Lattice units to supersampled pixels: x right, y down, centred.
        let extent = max(high.x - low.x, high.y - low.y, 1e-9)
        let usable = Double(side) * max(0.05, 1 - 2 * options.margin)
        let scale = usable / extent
        let centre = (low + high) / 2
        let half = Double(side) / 2
        func screen(_ point: SIMD3<Double>) -> SIMD2<Double> {
            SIMD2(((point * camera.right).sum() - centre.x) * scale + half,
                  half - ((point * camera.up).sum() - centre.y) * scale)
        }
        func screenVector(_ vector: SIMD3<Double>) -> SIMD2<Double> {
            SIMD2((vector * camera.right).sum() * scale, -(vector * camera.up).sum() * scale)
        }

        var orientations: [Orientation?] = Array(repeating: nil, count: 6)
        for d in visible {
            let axes = [SIMD3<Double>(1, 0, 0), SIMD3<Double>(0, 1, 0), SIMD3<Double>(0, 0, 1)]
            let uAxis = axes[FaceDirections.uAxis[d]], vAxis = axes[FaceDirections.vAxis[d]]
            var normal = SIMD3<Double>.zero
            normal[d / 2] = d & 1 == 1 ? 1 : -1
            let a = screenVector(uAxis), b = screenVector(vAxis)
            let determinant = a.x * b.y - a.y * b.x
            guard abs(determinant) > 1e-12 else { continue }  // edge-on: covers no pixels
            let corners = [SIMD2<Double>.zero, a, a + b, b]
            orientations[d] = Orientation(
                direction: d, corner: SIMD3(FaceDirections.latticeOffset(direction: d, corner: 0)),
                sx: b.y / determinant, sy: -b.x / determinant,
                tx: -a.y / determinant, ty: a.x / determinant,
                depthS: (uAxis * camera.forward).sum(), depthT: (vAxis * camera.forward).sum(),
                widthS: abs(determinant) / (b * b).sum().squareRoot(),
                widthT: abs(determinant) / (a * a).sum().squareRoot(),
                low: corners.reduce(SIMD2(.infinity, .infinity)) { pointwiseMin($0, $1) },
                high: corners.reduce(-SIMD2(.infinity, .infinity)) { pointwiseMax($0, $1) },
                brightness: camera.shade(normal))
        }

        // Lines about one output pixel wide where two faces meet (half on each face), thinner
        // when voxels are only a few pixels across.
        let lineWidth = options.outlines ? min(0.5 * Double(supersample), 0.12 * scale) : -1
        let base = SIMD3<Double>(options.colour)
        let ny = grid.ny, nz = grid.nz

        // 3. Scan conversion.
        let side = self.side
        colour.withUnsafeMutableBufferPointer { colour in
            depth.withUnsafeMutableBufferPointer { depth in
                for face in faces {
                    guard let o = orientations[Int(face.direction)] else { continue }
                    let voxel = SIMD3<Double>(face.voxel)
                    var rgb = base
                    if let probabilities {
                        let x = Int(face.voxel.x), y = Int(face.voxel.y), z = Int(face.voxel.z)
                        rgb = probabilityColour(probabilities[(x * ny + y) * nz + z])
                    }
                    let fill = packOpaque(rgb * o.brightness)
                    let line = packOpaque(rgb * o.brightness * 0.45)
                    let first = voxel + o.corner
                    let origin = screen(first)
                    let originDepth = (first * camera.forward).sum()
                    let top = max(0, Int((origin.y + o.low.y - 0.5).rounded(.up)))
                    let bottom = min(side - 1, Int((origin.y + o.high.y - 0.5).rounded(.down)))
                    guard top <= bottom else { continue }
                    let epsilon = 1e-3
                    for row in top...bottom {
                        let dy = Double(row) + 0.5 - origin.y
                        // s = sRow + o.sx·dx and t = tRow + o.tx·dx, dx = x + 0.5 − origin.x.
                        let sRow = o.sy * dy, tRow = o.ty * dy
                        var from = -Double.infinity, to = Double.infinity
                        if !Raster.span(sRow, o.sx, epsilon, &from, &to) { continue }
                        if !Raster.span(tRow, o.tx, epsilon, &from, &to) { continue }
                        let start = max(0, Int((from + origin.x - 0.5).rounded(.up)))
                        let end = min(side - 1, Int((to + origin.x - 0.5).rounded(.down)))
                        guard start <= end else { continue }
                        let rowBase = row * side
                        var dx = Double(start) + 0.5 - origin.x
                        for x in start...end {
                            let s = sRow + o.sx * dx, t = tRow + o.tx * dx
                            dx += 1
                            let z = Float(originDepth + o.depthS * s + o.depthT * t)
                            let index = rowBase + x
                            guard z > depth[index] else { continue }
                            depth[index] = z
                            if lineWidth > 0 {
                                let edge = min(min(s, 1 - s) * o.widthS, min(t, 1 - t) * o.widthT)
                                colour[index] = edge < lineWidth ? line : fill
                            } else {
                                colour[index] = fill
                            }
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
        let samples = UInt32(n * n)
        var pixels = [UInt8](repeating: 0, count: size * size * 4)
        colour.withUnsafeBufferPointer { colour in
            pixels.withUnsafeMutableBufferPointer { pixels in
                for y in 0..<size {
                    for x in 0..<size {
                        var r: UInt32 = 0, g: UInt32 = 0, b: UInt32 = 0, a: UInt32 = 0
                        for sy in 0..<n {
                            let rowBase = (y * n + sy) * side + x * n
                            for sx in 0..<n {
                                let value = colour[rowBase + sx]
                                r += value & 0xFF
                                g += (value >> 8) & 0xFF
                                b += (value >> 16) & 0xFF
                                a += value >> 24
                            }
                        }
                        let index = (y * size + x) * 4
                        if a == 255 * samples {
                            pixels[index] = UInt8((r + samples / 2) / samples)
                            pixels[index + 1] = UInt8((g + samples / 2) / samples)
                            pixels[index + 2] = UInt8((b + samples / 2) / samples)
                            pixels[index + 3] = 255
                        } else if a > 0 {
                            // Premultiplied sums over the alpha sum give straight colour.
                            pixels[index] = UInt8(min(255, (r * 255 + a / 2) / a))
                            pixels[index + 1] = UInt8(min(255, (g * 255 + a / 2) / a))
                            pixels[index + 2] = UInt8(min(255, (b * 255 + a / 2) / a))
                            pixels[index + 3] = UInt8((a + samples / 2) / samples)
                        }
                    }
                }
            }
        }
        return RGBAImage(width: size, height: size, pixels: pixels)
    }
}
