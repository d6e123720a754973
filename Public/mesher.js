// Voxel grid → one triangle mesh of its exposed faces, as typed arrays for a single three.js
// BufferGeometry. One object per voxel is what ran an earlier three.js voxel viewer out of
// memory on dense 64³ grids; here a 64³ grid that is half full costs a few typed arrays.
//
// Greedy meshing: for each axis and each plane between two layers of voxels, a 2-D mask marks
// where an occupied voxel meets an empty one (+1: the face looks along +axis, −1: along
// −axis); equal neighbouring entries are merged into rectangles, so a flat side of a solid
// block is one quad instead of one per voxel. Coordinates are voxel units: voxel (x, y, z)
// spans [x, x+1] × [y, y+1] × [z, z+1], +y up. Out-of-range voxels count as empty.

/**
 * @typedef {object} MeshArrays
 * @property {Float32Array} positions 3 per vertex, voxel units
 * @property {Float32Array} normals 3 per vertex, one per face (flat shading)
 * @property {Uint32Array} indices 3 per triangle, counter-clockwise seen from outside
 * @property {number} quads merged rectangles
 */

/**
 * Meshes the exposed faces of a grid.
 * @param {{nx: number, ny: number, nz: number, voxels: Uint8Array}} grid
 *   voxels 0/1 with flat = x*nz*ny + z*ny + y
 * @returns {MeshArrays}
 */
export function meshGrid(grid) {
  const { nx, ny, nz, voxels } = grid;
  const extent = [nx, ny, nz];
  const stride = [nz * ny, 1, ny]; // flat-index step along x, y, z

  // 1. The occupied box, so sparse large grids scan only where the shape is.
  const low = [nx, ny, nz];
  const high = [-1, -1, -1];
  for (let x = 0; x < nx; x++) {
    for (let z = 0; z < nz; z++) {
      const row = x * stride[0] + z * stride[2];
      for (let y = 0; y < ny; y++) {
        if (!voxels[row + y]) continue;
        if (x < low[0]) low[0] = x;
        if (x > high[0]) high[0] = x;
        if (y < low[1]) low[1] = y;
        if (y > high[1]) high[1] = y;
        if (z < low[2]) low[2] = z;
        if (z > high[2]) high[2] = z;
      }
    }
  }
  if (high[0] < 0) {
    return { positions: new Float32Array(0), normals: new Float32Array(0),
             indices: new Uint32Array(0), quads: 0 };
  }

  // 2. Greedy rectangles per axis d (u, v the other two, cyclic so (d, u, v) is right-handed).
  // Each quad is 7 numbers: d, sign, plane, u0, v0, width (along u), height (along v).
  let quads = new Int32Array(7 * 1024);
  let count = 0;
  const push = (d, sign, plane, u0, v0, w, h) => {
    if ((count + 1) * 7 > quads.length) {
      const grown = new Int32Array(quads.length * 2);
      grown.set(quads);
      quads = grown;
    }
    quads.set([d, sign, plane, u0, v0, w, h], count * 7);
    count++;
  };
  const occupied = (x, y, z) => voxels[x * stride[0] + y + z * stride[2]] === 1;
  const cell = [0, 0, 0];
  for (let d = 0; d < 3; d++) {
    const u = (d + 1) % 3;
    const v = (d + 2) % 3;
    const uLow = low[u];
    const vLow = low[v];
    const width = high[u] - uLow + 1;
    const height = high[v] - vLow + 1;
    const mask = new Int8Array(width * height);
    for (let plane = low[d]; plane <= high[d] + 1; plane++) {
      // The mask between layer plane−1 and layer plane.
      let any = false;
      for (let j = 0; j < height; j++) {
        for (let i = 0; i < width; i++) {
          cell[u] = uLow + i;
          cell[v] = vLow + j;
          cell[d] = plane - 1;
          const behind = plane - 1 >= 0 && occupied(cell[0], cell[1], cell[2]);
          cell[d] = plane;
          const ahead = plane < extent[d] && occupied(cell[0], cell[1], cell[2]);
          const m = behind === ahead ? 0 : (behind ? 1 : -1);
          mask[i + j * width] = m;
          if (m) any = true;
        }
      }
      if (!any) continue;

      // Merge: grow along u, then along v while whole rows match; clear what was taken.
      for (let j = 0; j < height; j++) {
        for (let i = 0; i < width;) {
          const m = mask[i + j * width];
          if (!m) {
            i++;
            continue;
          }
          let w = 1;
          while (i + w < width && mask[i + w + j * width] === m) w++;
          let h = 1;
          grow: while (j + h < height) {
            for (let k = 0; k < w; k++) {
              if (mask[i + k + (j + h) * width] !== m) break grow;
            }
            h++;
          }
          for (let jj = 0; jj < h; jj++) {
            mask.fill(0, i + (j + jj) * width, i + w + (j + jj) * width);
          }
          push(d, m, plane, uLow + i, vLow + j, w, h);
          i += w;
        }
      }
    }
  }

  // 3. Typed arrays: 4 vertices and 2 triangles per quad.
  const positions = new Float32Array(count * 12);
  const normals = new Float32Array(count * 12);
  const indices = new Uint32Array(count * 6);
  const corner = [0, 0, 0];
  for (let q = 0; q < count; q++) {
    const base = q * 7;
    const d = quads[base];
    const sign = quads[base + 1];
    const u = (d + 1) % 3;
    const v = (d + 2) % 3;
    const plane = quads[base + 2];
    const u0 = quads[base + 3];
    const v0 = quads[base + 4];
    const w = quads[base + 5];
    const h = quads[base + 6];
    // Counter-clockwise around +d is (u0,v0) (u1,v0) (u1,v1) (u0,v1); reversed for −d.
    const us = sign > 0 ? [u0, u0 + w, u0 + w, u0] : [u0, u0, u0 + w, u0 + w];
    const vs = sign > 0 ? [v0, v0, v0 + h, v0 + h] : [v0, v0 + h, v0 + h, v0];
    for (let k = 0; k < 4; k++) {
      corner[d] = plane;
      corner[u] = us[k];
      corner[v] = vs[k];
      const p = (q * 4 + k) * 3;
      positions[p] = corner[0];
      positions[p + 1] = corner[1];
      positions[p + 2] = corner[2];
      normals[p + d] = sign;
    }
    const first = q * 4;
    indices.set([first, first + 1, first + 2, first, first + 2, first + 3], q * 6);
  }
  return { positions, normals, indices, quads: count };
}

/**
 * Reads the vertices and faces of an OBJ file (the server's smooth meshes) into indexed
 * arrays; polygons become triangle fans, texture and normal indices are ignored (normals are
 * recomputed from the shared vertices, which shades a marching-cubes surface smoothly).
 * @param {string} text OBJ file contents
 * @returns {{positions: Float32Array, indices: Uint32Array}}
 */
export function parseOBJ(text) {
  const positions = [];
  const indices = [];
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    if (line.startsWith("v ")) {
      const parts = line.trim().split(/\s+/);
      positions.push(Number(parts[1]), Number(parts[2]), Number(parts[3]));
    } else if (line.startsWith("f ")) {
      const vertexCount = positions.length / 3;
      const corners = line.trim().split(/\s+/).slice(1).map((token) => {
        const value = parseInt(token, 10);
        // OBJ indices are 1-based; negative ones count back from the latest vertex.
        const index = value < 0 ? vertexCount + value : value - 1;
        if (!Number.isInteger(index) || index < 0 || index >= vertexCount) {
          throw new Error(`OBJ line ${n + 1}: face refers to vertex '${token}', `
            + `but ${vertexCount} vertices are defined`);
        }
        return index;
      });
      for (let k = 1; k + 1 < corners.length; k++) {
        indices.push(corners[0], corners[k], corners[k + 1]);
      }
    }
  }
  return { positions: new Float32Array(positions), indices: new Uint32Array(indices) };
}
