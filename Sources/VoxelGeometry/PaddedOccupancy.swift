// The grid unpacked to one byte per voxel with an empty layer on every side, so neighbour
// tests are plain offsets with no range checks. Shared by the cube mesher and the renderer.
import Voxels

/// Occupancy bytes of an `nx × ny × nz` grid padded to `(nx+2) × (ny+2) × (nz+2)`.
///
/// Layout `[x][y][z]`, z fastest: voxel (x, y, z) of the grid sits at padded index
/// `((x+1)·(ny+2) + (y+1))·(nz+2) + (z+1)`; the padding layer is all zero.
struct PaddedOccupancy {

    let nx: Int
    let ny: Int
    let nz: Int

    /// Strides of the padded array along x, y and z.
    let strideX: Int
    let strideY: Int

    /// 1 for occupied, 0 for empty.
    var cells: [UInt8]

    /// Padded indices of the occupied voxels, in the grid's bit-stream order (x slowest, then
    /// z, then y).
    var occupied: [Int32]

    init(_ grid: VoxelGrid) {
        nx = grid.nx
        ny = grid.ny
        nz = grid.nz
        strideY = nz + 2
        strideX = (ny + 2) * (nz + 2)
        let total = (nx + 2) * strideX
        var cells = [UInt8](repeating: 0, count: total)
        var occupied: [Int32] = []

        // Walk the set bits only: chairs fill a few percent of their grid.
        let ny = self.ny, nz = self.nz, strideX = self.strideX, strideY = self.strideY
        let columnLength = ny, sliceLength = nz * ny
        cells.withUnsafeMutableBufferPointer { out in
            for (wordIndex, word) in grid.words.enumerated() where word != 0 {
                var bits = word
                while bits != 0 {
                    let stream = wordIndex << 6 + bits.trailingZeroBitCount
                    bits &= bits - 1
                    // Stream order is x slowest, then z, then y fastest.
                    let x = stream / sliceLength
                    let rest = stream - x * sliceLength
                    let z = rest / columnLength
                    let y = rest - z * columnLength
                    let padded = (x + 1) * strideX + (y + 1) * strideY + z + 1
                    out[padded] = 1
                    occupied.append(Int32(padded))
                }
            }
        }
        self.cells = cells
        self.occupied = occupied
    }

    /// Grid coordinates of a padded index.
    @inline(__always)
    func coordinates(_ padded: Int) -> (x: Int, y: Int, z: Int) {
        let x = padded / strideX
        let rest = padded - x * strideX
        let y = rest / strideY
        return (x - 1, y - 1, rest - y * strideY - 1)
    }
}
