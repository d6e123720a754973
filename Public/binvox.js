// binvox reading in the page, for the server's chairs and the user's own files, and the
// 26-connected largest part (the server's `largest_component`, done here for local files).
//
// Format (Patrick Min): ASCII header lines `#binvox 1`, `dim a b c`, optional `translate`,
// `scale`, comment and unknown lines, then `data` and (value, count) byte pairs. `dim a b c`
// gives the x, z, y extents; the decoded stream runs x slowest, then z, then y:
// flat = x*nz*ny + z*ny + y, +y up. Version 2 files may hold values 0–255: non-zero is occupied.

/** Grids above this many voxels are refused before anything is allocated (512³). */
export const MAX_VOXELS = 512 * 512 * 512;

/** Extents above this are refused, as the server does. */
export const MAX_EXTENT = 1024;

/**
 * A decoded grid.
 * @typedef {object} Grid
 * @property {number} nx extent along x
 * @property {number} ny extent along y (up)
 * @property {number} nz extent along z
 * @property {Uint8Array} voxels 0/1, flat = x*nz*ny + z*ny + y
 * @property {number[]} translate binvox translate (x, y, z)
 * @property {number} scale binvox scale
 * @property {number} occupied number of occupied voxels
 */

/** An error in a .binvox file; the message names the file, the byte offset and the problem. */
export class BinvoxError extends Error {}

/**
 * Decodes .binvox bytes.
 * @param {Uint8Array} bytes the whole file
 * @param {string} name the file's name, for error messages
 * @returns {Grid}
 */
export function parseBinvox(bytes, name = "file") {
  const fail = (offset, message) => {
    throw new BinvoxError(`${name}: byte ${offset}: ${message}`);
  };

  // 1. Header: lines up to and including "data"; any whitespace between tokens, CRLF too.
  let offset = 0;
  let dims = null;
  let translate = [0, 0, 0];
  let scale = 1;
  let first = true;
  for (;;) {
    if (offset >= bytes.length) fail(offset, "expected a 'data' line, found the end of the file");
    const lineStart = offset;
    let end = bytes.indexOf(0x0a, offset);
    if (end < 0) end = bytes.length;
    // Only the header is text; stop decoding a line that is clearly binary.
    if (end - lineStart > 4096) fail(lineStart, "header line longer than 4096 bytes");
    const line = new TextDecoder("utf-8", { fatal: false })
      .decode(bytes.subarray(lineStart, end)).trim();
    offset = end + 1;
    const tokens = line.split(/\s+/).filter((t) => t.length > 0);
    if (first) {
      if (tokens[0] !== "#binvox") {
        fail(lineStart, `expected '#binvox' on the first line, found '${line.slice(0, 40)}'`);
      }
      first = false;
      continue;
    }
    if (tokens.length === 0 || tokens[0].startsWith("#")) continue;
    const key = tokens[0].toLowerCase();
    if (key === "data") break;
    if (key === "dim") {
      const values = tokens.slice(1, 4).map(Number);
      if (values.length !== 3 || !values.every((v) => Number.isInteger(v) && v > 0)) {
        fail(lineStart, `expected 'dim' and three positive whole numbers, found '${line}'`);
      }
      if (values.some((v) => v > MAX_EXTENT)) {
        fail(lineStart, `extents ${values.join("×")} are above ${MAX_EXTENT}`);
      }
      dims = values;
    } else if (key === "translate") {
      const values = tokens.slice(1, 4).map(Number);
      if (values.length !== 3 || !values.every(Number.isFinite)) {
        fail(lineStart, `expected 'translate' and three numbers, found '${line}'`);
      }
      translate = values;
    } else if (key === "scale") {
      const value = Number(tokens[1]);
      if (!Number.isFinite(value) || value <= 0) {
        fail(lineStart, `expected 'scale' and a positive number, found '${line}'`);
      }
      scale = value;
    }
    // Unknown lines are skipped, as the server's reader does.
  }
  if (!dims) fail(offset, "the header has no 'dim' line");

  // 2. Run-length payload: exactly nx*nz*ny entries.
  const [nx, nz, ny] = dims;
  const total = nx * ny * nz;
  if (total > MAX_VOXELS) {
    fail(offset, `${nx}×${nz}×${ny} = ${total} voxels is more than this viewer shows `
      + `(${MAX_VOXELS})`);
  }
  const voxels = new Uint8Array(total);
  let index = 0;
  let occupied = 0;
  for (let p = offset; p < bytes.length; p += 2) {
    if (p + 1 >= bytes.length) fail(p, "a value byte without its count (odd payload length)");
    const value = bytes[p];
    const count = bytes[p + 1];
    if (index + count > total) {
      fail(p, `runs cover more than the ${total} voxels of a ${nx}×${nz}×${ny} grid`);
    }
    if (value !== 0) {
      voxels.fill(1, index, index + count);
      occupied += count;
    }
    index += count;
  }
  if (index !== total) {
    fail(bytes.length, `runs cover ${index} voxels, expected ${total} (${nx}×${nz}×${ny})`);
  }
  return { nx, ny, nz, voxels, translate, scale, occupied };
}

/**
 * Keeps only the largest 26-connected part of a grid (ties: the one met first in flat order).
 * @param {Grid} grid
 * @returns {Grid} a new grid
 */
export function largestComponent(grid) {
  const { nx, ny, nz, voxels } = grid;
  const labels = new Int32Array(voxels.length);
  const queue = new Int32Array(grid.occupied);
  const strideX = nz * ny;
  const strideZ = ny;
  let bestLabel = 0;
  let bestSize = 0;
  let label = 0;

  // Breadth-first flood fill from each unlabelled voxel; the queue holds flat indices.
  for (let start = 0; start < voxels.length; start++) {
    if (!voxels[start] || labels[start]) continue;
    label += 1;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    labels[start] = label;
    while (head < tail) {
      const flat = queue[head++];
      const x = Math.floor(flat / strideX);
      const z = Math.floor((flat - x * strideX) / strideZ);
      const y = flat - x * strideX - z * strideZ;
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        if (xx < 0 || xx >= nx) continue;
        for (let dz = -1; dz <= 1; dz++) {
          const zz = z + dz;
          if (zz < 0 || zz >= nz) continue;
          for (let dy = -1; dy <= 1; dy++) {
            const yy = y + dy;
            if (yy < 0 || yy >= ny) continue;
            const neighbour = xx * strideX + zz * strideZ + yy;
            if (voxels[neighbour] && !labels[neighbour]) {
              labels[neighbour] = label;
              queue[tail++] = neighbour;
            }
          }
        }
      }
    }
    if (tail > bestSize) {
      bestSize = tail;
      bestLabel = label;
    }
  }

  const kept = new Uint8Array(voxels.length);
  for (let i = 0; i < voxels.length; i++) kept[i] = labels[i] === bestLabel && bestLabel ? 1 : 0;
  return { ...grid, voxels: kept, occupied: bestSize };
}

/**
 * Encodes a grid as .binvox bytes (runs of 1–255), for downloads of local files.
 * @param {Grid} grid
 * @returns {Uint8Array}
 */
export function writeBinvox(grid) {
  const { nx, ny, nz, voxels, translate, scale } = grid;
  const header = `#binvox 1\ndim ${nx} ${nz} ${ny}\ntranslate ${translate.join(" ")}\n`
    + `scale ${scale}\ndata\n`;
  const head = new TextEncoder().encode(header);
  const runs = [];
  let i = 0;
  while (i < voxels.length) {
    const value = voxels[i];
    let count = 1;
    while (count < 255 && i + count < voxels.length && voxels[i + count] === value) count++;
    runs.push(value, count);
    i += count;
  }
  const out = new Uint8Array(head.length + runs.length);
  out.set(head, 0);
  out.set(runs, head.length);
  return out;
}
