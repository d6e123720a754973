// Pictures written while training: a sheet of samples from the same fixed z every interval
// (progress at a glance) and a plot of the loss and accuracy curves from history.csv.
import Foundation
import VoxelGeometry
import Voxels

enum TrainingPictures {

    /// Renders the first `count` grids of `probabilities` ([n][x][y][z], thresholded at
    /// `threshold`, coloured by probability) as a 4-column sheet.
    static func writeSampleSheet(probabilities: [Float], count: Int, resolution: Int,
                                 threshold: Float, path: String) {
        let voxels = resolution * resolution * resolution
        let shown = min(count, probabilities.count / voxels)
        var options = RenderOptions()
        options.size = 128
        options.colourByProbability = true
        let images: [RGBAImage] = probabilities.withUnsafeBufferPointer { all in
            (0..<shown).map { n in
                let slice = UnsafeBufferPointer(rebasing: all[(n * voxels)..<((n + 1) * voxels)])
                let grid = VoxelGrid(probabilities: slice, nx: resolution, ny: resolution,
                                     nz: resolution, threshold: threshold)
                return VoxelRenderer.render(grid, probabilities: slice, options: options)
            }
        }
        let sheet = ImageSheet.compose(images, columns: 4, padding: 4)
        if let bytes = try? PNGEncoder.encode(sheet) {
            try? Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
    }

    /// Two panels from history.csv: D and G loss (top); D accuracy, D update rate and
    /// generated/data occupancy ratio on [0, 1.5] (bottom).
    static func writeLossPlot(historyPath: String, to path: String) {
        guard let text = try? String(contentsOfFile: historyPath, encoding: .utf8) else { return }
        let rows = text.split(separator: "\n").dropFirst().map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map { Double($0) }
        }
        guard rows.count >= 2 else { return }
        func column(_ index: Int) -> [(Double, Double)] {
            rows.compactMap { row in
                guard row.count > index, let x = row[0], let y = row[index] else { return nil }
                return (x, y)
            }
        }
        let occupancyRatio = rows.compactMap { row -> (Double, Double)? in
            guard row.count > 8, let x = row[0], let o = row[7], let d = row[8], d > 0 else { return nil }
            return (x, o / d)
        }
        var plot = LinePlot(width: 900, height: 560)
        let losses = [(column(2), SIMD4<UInt8>(31, 119, 180, 255), "D LOSS"),
                      (column(3), SIMD4<UInt8>(255, 127, 14, 255), "G LOSS")]
        let lossMax = max(0.5, losses.flatMap { $0.0.map { $0.1 } }.filter { $0.isFinite }.max() ?? 1)
        plot.panel(top: 10, height: 260, series: losses, yRange: 0...lossMax)
        plot.panel(top: 290, height: 240,
                   series: [(column(4), SIMD4(44, 160, 44, 255), "D ACC"),
                            (column(5), SIMD4(150, 150, 150, 255), "D UPDATED"),
                            (occupancyRatio, SIMD4(148, 103, 189, 255), "OCC/DATA")],
                   yRange: 0...1.5)
        plot.text("ITERATION", x: 420, y: 545, colour: SIMD4(60, 60, 60, 255))
        if let bytes = try? PNGEncoder.encode(plot.image) {
            try? Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
    }
}

/// A minimal raster plotter: axes, polylines, and labels in a 3×5 pixel font drawn at 2×.
struct LinePlot {

    var image: RGBAImage
    private let left = 70
    private let right = 20

    init(width: Int, height: Int) {
        image = RGBAImage(width: width, height: height, fill: SIMD4(255, 255, 255, 255))
    }

    mutating func panel(top: Int, height: Int, series: [([(Double, Double)], SIMD4<UInt8>, String)],
                        yRange: ClosedRange<Double>) {
        let xs = series.flatMap { $0.0.map { $0.0 } }
        guard let xMin = xs.min(), let xMax = xs.max(), xMax > xMin else { return }
        let width = image.width - left - right
        let axis = SIMD4<UInt8>(120, 120, 120, 255)
        line(left, top + height, left + width, top + height, axis)
        line(left, top, left, top + height, axis)
        text(String(format: "%.2f", yRange.upperBound), x: 4, y: top, colour: axis)
        text(String(format: "%.2f", yRange.lowerBound), x: 4, y: top + height - 10, colour: axis)
        text(String(Int(xMin)), x: left, y: top + height + 4, colour: axis)
        let last = String(Int(xMax))
        text(last, x: left + width - 8 * last.count, y: top + height + 4, colour: axis)
        for (index, (points, colour, label)) in series.enumerated() {
            text(label, x: left + 12 + index * 130, y: top + 2, colour: colour)
            var previous: (Int, Int)?
            for (x, y) in points where y.isFinite {
                let px = left + Int(Double(width) * (x - xMin) / (xMax - xMin))
                let clamped = min(max(y, yRange.lowerBound), yRange.upperBound)
                let py = top + height - Int(Double(height) * (clamped - yRange.lowerBound)
                                             / (yRange.upperBound - yRange.lowerBound))
                if let (qx, qy) = previous { line(qx, qy, px, py, colour) }
                previous = (px, py)
            }
        }
    }

    mutating func set(_ x: Int, _ y: Int, _ colour: SIMD4<UInt8>) {
        guard x >= 0, y >= 0, x < image.width, y < image.height else { return }
        let offset = (y * image.width + x) * 4
        for channel in 0..<4 { image.pixels[offset + channel] = colour[channel] }
    }

    /// Bresenham's line, two pixels thick.
    mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ colour: SIMD4<UInt8>) {
        var (x, y) = (x0, y0)
        let (dx, dy) = (abs(x1 - x0), -abs(y1 - y0))
        let (sx, sy) = (x0 < x1 ? 1 : -1, y0 < y1 ? 1 : -1)
        var error = dx + dy
        while true {
            set(x, y, colour)
            set(x, y + 1, colour)
            if x == x1 && y == y1 { break }
            let twice = 2 * error
            if twice >= dy { error += dy; x += sx }
            if twice <= dx { error += dx; y += sy }
        }
    }

    /// Upper-case letters, digits and a little punctuation, 3 columns × 5 rows each, as
    /// 15-bit masks read row by row from the top left.
    static let glyphs: [Character: UInt16] = [
        "0": 0b111_101_101_101_111, "1": 0b010_110_010_010_111, "2": 0b111_001_111_100_111,
        "3": 0b111_001_111_001_111, "4": 0b101_101_111_001_001, "5": 0b111_100_111_001_111,
        "6": 0b111_100_111_101_111, "7": 0b111_001_010_010_010, "8": 0b111_101_111_101_111,
        "9": 0b111_101_111_001_111, ".": 0b000_000_000_000_010, "/": 0b001_001_010_100_100,
        "-": 0b000_000_111_000_000, "A": 0b010_101_111_101_101, "C": 0b111_100_100_100_111,
        "D": 0b110_101_101_101_110, "E": 0b111_100_110_100_111, "G": 0b111_100_101_101_111,
        "I": 0b111_010_010_010_111, "L": 0b100_100_100_100_111, "N": 0b101_111_111_101_101,
        "O": 0b111_101_101_101_111, "P": 0b111_101_111_100_100, "R": 0b110_101_110_101_101,
        "S": 0b111_100_111_001_111, "T": 0b111_010_010_010_010, "U": 0b101_101_101_101_111,
        "Y": 0b101_101_010_010_010,
    ]

    mutating func text(_ string: String, x: Int, y: Int, colour: SIMD4<UInt8>) {
        for (index, character) in string.enumerated() {
            guard let mask = Self.glyphs[character] else { continue }
            for row in 0..<5 {
                for column in 0..<3 where mask & (1 << (14 - (row * 3 + column))) != 0 {
                    for dy in 0..<2 {
                        for dx in 0..<2 { set(x + index * 8 + column * 2 + dx, y + row * 2 + dy, colour) }
                    }
                }
            }
        }
    }
}
