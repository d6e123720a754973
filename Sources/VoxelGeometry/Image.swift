// RGBA images, their PNG encoding (libpng, through the C shim) and sheets of many images.
import CShim
import Voxels

/// An 8-bit RGBA image: `pixels[(y·width + x)·4 + channel]`, channels R, G, B, A, rows top
/// first, alpha not premultiplied.
public struct RGBAImage: Equatable, Sendable {

    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "image size \(width)×\(height) is negative")
        precondition(pixels.count == width * height * 4,
                     "\(pixels.count) bytes for a \(width)×\(height) RGBA image")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An image filled with one colour.
    public init(width: Int, height: Int, fill: SIMD4<UInt8>) {
        precondition(width >= 0 && height >= 0, "image size \(width)×\(height) is negative")
        var pixels = [UInt8](repeating: 0, count: width * height * 4)
        for index in stride(from: 0, to: pixels.count, by: 4) {
            pixels[index] = fill.x
            pixels[index + 1] = fill.y
            pixels[index + 2] = fill.z
            pixels[index + 3] = fill.w
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// The pixel at column `x`, row `y` (0 = top).
    public subscript(x: Int, y: Int) -> SIMD4<UInt8> {
        get {
            let index = (y * width + x) * 4
            return SIMD4(pixels[index], pixels[index + 1], pixels[index + 2], pixels[index + 3])
        }
        set {
            let index = (y * width + x) * 4
            pixels[index] = newValue.x
            pixels[index + 1] = newValue.y
            pixels[index + 2] = newValue.z
            pixels[index + 3] = newValue.w
        }
    }

    /// Every pixel has alpha 255.
    public var isOpaque: Bool {
        pixels.withUnsafeBufferPointer { bytes in
            var index = 3
            while index < bytes.count {
                if bytes[index] != 255 { return false }
                index += 4
            }
            return true
        }
    }
}

/// A failure of libpng, with the image it was given.
public struct PNGError: Error, CustomStringConvertible {

    public let description: String

    public init(_ description: String) { self.description = description }
}

/// PNG encoding with libpng.
public enum PNGEncoder {

    /// The image as PNG bytes: RGB when every pixel is opaque, RGBA otherwise; 8 bits per
    /// channel, no row filter, zlib level `compressionLevel` (0–9; 3 encodes a 512×512 render
    /// in about 2 ms at ~25 kB). No time stamp, so equal images give equal bytes.
    public static func encode(_ image: RGBAImage, compressionLevel: Int = 3) throws -> [UInt8] {
        guard image.width > 0, image.height > 0 else {
            throw PNGError("PNG: cannot encode an empty \(image.width)×\(image.height) image")
        }
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            voxgan_png_encode(pixels.baseAddress, Int32(image.width), Int32(image.height),
                              image.isOpaque ? 0 : 1, Int32(min(max(compressionLevel, 0), 9)),
                              &output, &size)
        }
        guard status == 0, let output else {
            throw PNGError("PNG: libpng failed (code \(status)) to encode a "
                           + "\(image.width)×\(image.height) image")
        }
        defer { voxgan_png_free(output) }
        return Array(UnsafeBufferPointer(start: output, count: size))
    }
}

/// PNG decoding with libpng, to RGBA (for tests and for reading images back).
public enum PNGDecoder {

    public static func decode(_ bytes: [UInt8]) throws -> RGBAImage {
        var output: UnsafeMutablePointer<UInt8>? = nil
        var width: Int32 = 0, height: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { png in
            voxgan_png_decode(png.baseAddress, png.count, &output, &width, &height, &message,
                              message.count)
        }
        guard status == 0, let output else {
            let reason = String(decoding: message.prefix(while: { $0 != 0 }).map(UInt8.init),
                                as: UTF8.self)
            throw PNGError("PNG: cannot decode \(bytes.count) bytes: \(reason)")
        }
        defer { voxgan_png_free(output) }
        let count = Int(width) * Int(height) * 4
        return RGBAImage(width: Int(width), height: Int(height),
                         pixels: Array(UnsafeBufferPointer(start: output, count: count)))
    }
}

/// Many images in one, in a grid: training progress, galleries, interpolation strips.
public enum ImageSheet {

    /// Lays `images` out row by row, `columns` per row, each centred in a cell as large as the
    /// largest image, with `padding` pixels between cells and around the edge.
    ///
    /// - Parameters:
    ///   - columns: cells per row; fewer images than columns give a one-row strip.
    ///   - background: fills the padding and the cells' free space.
    public static func compose(_ images: [RGBAImage], columns: Int, padding: Int = 4,
                               background: SIMD4<UInt8> = SIMD4(255, 255, 255, 255))
        -> RGBAImage
    {
        precondition(columns > 0, "sheet: columns must be positive, got \(columns)")
        precondition(padding >= 0, "sheet: padding must not be negative, got \(padding)")
        guard !images.isEmpty else {
            return RGBAImage(width: 2 * padding + 1, height: 2 * padding + 1, fill: background)
        }
        let cellWidth = images.map(\.width).max()!
        let cellHeight = images.map(\.height).max()!
        let used = min(columns, images.count)
        let rows = (images.count + columns - 1) / columns
        let width = used * cellWidth + (used + 1) * padding
        let height = rows * cellHeight + (rows + 1) * padding
        var sheet = RGBAImage(width: width, height: height, fill: background)
        sheet.pixels.withUnsafeMutableBufferPointer { target in
            for (index, image) in images.enumerated() {
                let left = padding + (index % columns) * (cellWidth + padding)
                    + (cellWidth - image.width) / 2
                let top = padding + (index / columns) * (cellHeight + padding)
                    + (cellHeight - image.height) / 2
                image.pixels.withUnsafeBufferPointer { source in
                    for row in 0..<image.height {
                        let from = row * image.width * 4
                        let to = ((top + row) * width + left) * 4
                        for byte in 0..<(image.width * 4) {
                            target[to + byte] = source[from + byte]
                        }
                    }
                }
            }
        }
        return sheet
    }

    /// Renders every grid at `cellSize` pixels with `options` and composes them, 4 pixels
    /// apart, on the options' background (transparent if the options say so).
    public static func render(grids: [VoxelGrid], columns: Int, cellSize: Int,
                              options: RenderOptions = RenderOptions()) -> RGBAImage {
        var cellOptions = options
        cellOptions.size = cellSize
        let images = grids.map { VoxelRenderer.render($0, options: cellOptions) }
        return compose(images, columns: columns, padding: 4,
                       background: options.transparent ? SIMD4(0, 0, 0, 0) : options.background)
    }
}
