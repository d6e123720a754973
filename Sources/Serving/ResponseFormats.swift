// Encoders from a generated (or uploaded) grid to the bytes of each response format:
//   binvox  the grid, run-length encoded (Voxels.Binvox)
//   obj     a mesh: culled cubes with coplanar faces merged, or marching cubes ("smooth")
//   stl     the same mesh, binary STL
//   png     a shaded render at `size`, `azimuth`, `elevation`
//   npy     float32, shape (1, R, R, R), axes [x][y][z] (x slowest, +y up): the generator's
//           probabilities for generated chairs, 0/1 occupancy for converted files
//   json    seed, z, resolution, threshold, occupied voxel count and fraction, bounding box
import Foundation
import Voxels

enum ResponseFormats {

    /// The occupancy grid a request's options make from an R³ probability array [x][y][z].
    static func grid(probabilities: [Float], resolution: Int, options: OutputOptions)
        -> VoxelGrid
    {
        var grid = probabilities.withUnsafeBufferPointer {
            VoxelGrid(probabilities: $0, nx: resolution, ny: resolution, nz: resolution,
                      threshold: options.threshold ?? 0.5)
        }
        if options.largestComponent { grid = grid.largestComponent() }
        return grid
    }

    /// The bytes of one generated chair in `options.format`.
    static func sample(probabilities: [Float], resolution: Int, options: OutputOptions,
                       seed: UInt64?, z: [Float]) throws -> [UInt8] {
        switch options.format {
        case .npy:
            return npy(probabilities, shape: [1, resolution, resolution, resolution])
        case .json:
            let grid = self.grid(probabilities: probabilities, resolution: resolution,
                                 options: options)
            return json(grid: grid, seed: seed, z: z, threshold: options.threshold)
        default:
            let grid = self.grid(probabilities: probabilities, resolution: resolution,
                                 options: options)
            return try encode(grid, probabilities: probabilities, options: options)
        }
    }

    /// The bytes of `grid` in `options.format`. `probabilities` (R³, [x][y][z], same extents
    /// as `grid`) lets smooth meshes and renders follow the generator's soft surface.
    static func encode(_ grid: VoxelGrid, probabilities: [Float]?,
                       options: OutputOptions) throws -> [UInt8] {
        switch options.format {
        case .binvox:
            return Binvox.encode(grid)
        case .npy:
            let occupancy = grid.bytesXYZ().map { Float($0) }
            return npy(occupancy, shape: [1, grid.nx, grid.ny, grid.nz])
        case .json:
            return json(grid: grid, seed: nil, z: nil, threshold: options.threshold)
        case .obj, .stl, .png:
            return try GeometryFormats.encode(grid, probabilities: probabilities,
                                              options: options)
        }
    }

    /// A PNG sheet of renders, `columns` per row, one cell of `options.size` per chair.
    static func sheet(probabilities: [[Float]], resolution: Int, columns: Int,
                      options: OutputOptions) throws -> [UInt8] {
        let grids = probabilities.map {
            grid(probabilities: $0, resolution: resolution, options: options)
        }
        return try GeometryFormats.sheet(grids: grids, probabilities: probabilities,
                                         columns: columns, options: options)
    }

    // MARK: npy

    /// NumPy .npy version 1.0 of little-endian float32 values in C order with `shape`. The
    /// header is padded with spaces so that the data starts at a multiple of 64 bytes.
    static func npy(_ values: [Float], shape: [Int]) -> [UInt8] {
        precondition(shape.reduce(1, *) == values.count, "npy shape does not match the values")
        let dimensions = shape.map(String.init).joined(separator: ", ")
            + (shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dimensions)), }"
        let preamble = 10  // magic (6), version (2), header length (2)
        let unpadded = preamble + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let headerLength = header.utf8.count

        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        bytes += [UInt8(headerLength & 0xff), UInt8(headerLength >> 8)]
        bytes += Array(header.utf8)
        bytes.reserveCapacity(bytes.count + values.count * 4)
        for value in values {
            let bits = value.bitPattern.littleEndian
            bytes += [UInt8(bits & 0xff), UInt8(bits >> 8 & 0xff), UInt8(bits >> 16 & 0xff),
                      UInt8(bits >> 24)]
        }
        return bytes
    }

    // MARK: json

    static func json(grid: VoxelGrid, seed: UInt64?, z: [Float]?, threshold: Float?) -> [UInt8] {
        var members: [(String, JSONValue)] = []
        if let seed { members.append(("seed", .int(seed))) }
        members.append(("resolution", .array([.int(grid.nx), .int(grid.ny), .int(grid.nz)])))
        if let threshold { members.append(("threshold", .float(threshold))) }
        members.append(("occupied_voxels", .int(grid.occupiedCount)))
        members.append(("occupancy", .double(grid.occupancy)))
        if let box = grid.boundingBox {
            members.append(("bounding_box", .object([
                ("min", .array([.int(box.min.x), .int(box.min.y), .int(box.min.z)])),
                ("max", .array([.int(box.max.x), .int(box.max.y), .int(box.max.z)])),
            ])))
        } else {
            members.append(("bounding_box", .null))
        }
        if let z { members.append(("z", .array(z.map { .float($0) }))) }
        return Array((JSONValue.object(members).serialized() + "\n").utf8)
    }
}
