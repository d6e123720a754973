// Timings for `voxgan bench mesh` and `voxgan bench render`: seconds per run, median of
// repeats, after one warm-up run.
import Foundation
import Voxels

/// Median wall-clock seconds of the module's hot paths on a given grid.
public enum GeometryBenchmarks {

    /// Culled-cube meshing plus OBJ encoding (the bytes a client downloads).
    public static func culledCubeOBJ(_ grid: VoxelGrid, repeats: Int = 21) -> Double {
        median(repeats) {
            let mesh = VoxelMesher.cubes(grid)
            return OBJWriter.encode(mesh, comment: "benchmark").count
        }
    }

    /// Marching cubes on the occupancy as 0/1 probabilities in `[x][y][z]` order.
    public static func marchingCubes(_ grid: VoxelGrid, repeats: Int = 21) -> Double {
        var probabilities = [Float](repeating: 0, count: grid.count)
        for (index, byte) in grid.bytesXYZ().enumerated() { probabilities[index] = Float(byte) }
        return probabilities.withUnsafeBufferPointer { buffer in
            median(repeats) {
                VoxelMesher.smooth(probabilities: buffer, nx: grid.nx, ny: grid.ny, nz: grid.nz,
                                   translate: grid.translate, scale: grid.scale).triangles.count
            }
        }
    }

    /// Rendering at `size` × `size` with default options plus PNG encoding.
    public static func renderPNG(_ grid: VoxelGrid, size: Int = 512, repeats: Int = 21) -> Double {
        median(repeats) {
            let image = VoxelRenderer.render(grid, options: RenderOptions(size: size))
            return (try? PNGEncoder.encode(image))?.count ?? 0
        }
    }

    /// A sheet of the grids (16 of them in the trainer's use) at `cellSize` pixels, as PNG.
    public static func sheetPNG(_ grids: [VoxelGrid], columns: Int = 4, cellSize: Int = 128,
                                repeats: Int = 11) -> Double {
        median(repeats) {
            let sheet = ImageSheet.render(grids: grids, columns: columns, cellSize: cellSize)
            return (try? PNGEncoder.encode(sheet))?.count ?? 0
        }
    }

    /// Runs `body` once to warm up, then `repeats` times; the median duration in seconds.
    /// `body` returns a size so the optimiser cannot drop the work.
    static func median(_ repeats: Int, _ body: () -> Int) -> Double {
        var sink = body()
        var times: [Double] = []
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            sink &+= body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        if sink == Int.min { print("") }
        times.sort()
        return times[times.count / 2]
    }
}
