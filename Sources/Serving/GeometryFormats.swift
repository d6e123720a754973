// Meshes (OBJ, STL) and pictures (PNG) of a grid, through the VoxelGeometry module.
import VoxelGeometry
import Voxels

enum GeometryFormats {

    static func encode(_ grid: VoxelGrid, probabilities: [Float]?,
                       options: OutputOptions) throws -> [UInt8] {
        switch options.format {
        case .obj:
            return OBJWriter.encode(mesh(grid, probabilities: probabilities, options: options),
                                    normals: true, comment: "voxgan chair, \(options.key)")
        case .stl:
            return STLWriter.encode(mesh(grid, probabilities: probabilities, options: options),
                                    name: "voxgan chair")
        case .png:
            let image = probabilities.map { values in
                values.withUnsafeBufferPointer {
                    VoxelRenderer.render(grid, probabilities: $0, options: renderOptions(options))
                }
            } ?? VoxelRenderer.render(grid, options: renderOptions(options))
            return try PNGEncoder.encode(image)
        default:
            preconditionFailure("GeometryFormats cannot encode \(options.format)")
        }
    }

    /// Renders every grid in a cell of `options.size` pixels, framed on the whole grid box so
    /// that sizes compare across cells, `columns` cells per row.
    static func sheet(grids: [VoxelGrid], probabilities: [[Float]], columns: Int,
                      options: OutputOptions) throws -> [UInt8] {
        var render = renderOptions(options)
        render.framing = .grid
        let sheet = ImageSheet.render(grids: grids, columns: columns, cellSize: options.size,
                                      options: render)
        return try PNGEncoder.encode(sheet)
    }

    private static func renderOptions(_ options: OutputOptions) -> RenderOptions {
        RenderOptions(size: options.size, azimuth: options.azimuth, elevation: options.elevation)
    }

    /// Cubes: exposed voxel faces, coplanar ones merged unless merge=false. Smooth: marching cubes at the
    /// threshold over the generator's probabilities (voxels of other components zeroed when
    /// only the largest is kept), or over the 0/1 occupancy for uploaded grids.
    private static func mesh(_ grid: VoxelGrid, probabilities: [Float]?,
                             options: OutputOptions) -> TriangleMesh {
        switch options.mesh {
        case .cubes:
            return VoxelMesher.cubes(grid, mergeCoplanar: options.mergeCoplanar)
        case .smooth:
            guard var values = probabilities, let threshold = options.threshold else {
                return VoxelMesher.smooth(grid)
            }
            if options.largestComponent {
                let (ny, nz) = (grid.ny, grid.nz)
                for x in 0..<grid.nx {
                    for y in 0..<ny {
                        for z in 0..<nz where values[(x * ny + y) * nz + z] > threshold
                            && !grid[x, y, z] {
                            values[(x * ny + y) * nz + z] = 0
                        }
                    }
                }
            }
            return values.withUnsafeBufferPointer {
                VoxelMesher.smooth(probabilities: $0, nx: grid.nx, ny: grid.ny, nz: grid.nz,
                                   isoLevel: threshold, translate: grid.translate,
                                   scale: grid.scale)
            }
        }
    }
}
