// The viewer's page logic: the current chair (from a seed, from a latent on an interpolation
// path, or from the user's own .binvox file), its 3-D view, the controls, the gallery and the
// interpolation strip. Every chair is one merged BufferGeometry: culled, greedily merged voxel
// faces built here from the binvox bytes ("cubes"), or the server's marching-cubes OBJ
// ("smooth"). Server errors ({"error", "field"}) appear in the message area.
import * as THREE from "three";
import { OrbitControls } from "/vendor/three/examples/jsm/controls/OrbitControls.js";
import { parseBinvox, largestComponent, BinvoxError } from "./binvox.js";
import { meshGrid, parseOBJ } from "./mesher.js";

const GALLERY_PAGE = 12;
const THUMB_SIZE = 128;
const STRIP_CELL = 112;
const MAX_FILE_BYTES = 64 * 1024 * 1024;

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------
// Server requests

/** A failed request or a bad file, with a message meant for the person using the page. */
class ViewerError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.status = status;
  }
}

/** fetch that turns network failures and non-2xx answers into readable ViewerErrors. */
async function request(url, init = undefined) {
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new ViewerError(`cannot reach the server for ${url}: ${error.message}`);
  }
  if (response.ok) return response;
  const text = await response.text();
  let detail = text.trim().slice(0, 300) || response.statusText;
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error === "string") {
      detail = body.error + (body.field ? ` (field: ${body.field})` : "");
    }
  } catch {
    // Not JSON (a proxy's page, say): show the start of the text as it is.
  }
  throw new ViewerError(`server error ${response.status}: ${detail}`, response.status);
}

// ---------------------------------------------------------------------------------------------
// State

const state = {
  model: null,
  /** {kind: "seed", seed} | {kind: "z", z, label} | {kind: "file", name, bytes} */
  source: null,
  threshold: 0.5,
  mesh: "cubes",
  largest: false,
  galleryPage: 0,
  /** Bumped by every load, so a slow answer for an older chair is dropped. */
  generation: 0,
  /** What the last display took, for the status line and the browser test. */
  stats: null,
  latents: new Map(),
};

// ---------------------------------------------------------------------------------------------
// Three.js scene: one mesh at a time, rendered on demand (no animation loop while idle).

const canvas = $("canvas");
const viewport = $("viewport");
const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
const scene = new THREE.Scene();
scene.background = new THREE.Color(0xe9ecf1);
const camera = new THREE.PerspectiveCamera(35, 1, 0.1, 5000);
const controls = new OrbitControls(camera, canvas);
controls.addEventListener("change", render);

// Sky/ground fill, a key light from the viewer's upper left and a weaker rim from behind.
scene.add(new THREE.HemisphereLight(0xffffff, 0x6b6f7a, 0.65));
const key = new THREE.DirectionalLight(0xffffff, 0.75);
key.position.set(-0.45, 1.0, -0.6);
scene.add(key);
const rim = new THREE.DirectionalLight(0xffffff, 0.3);
rim.position.set(0.7, 0.4, 1.0);
scene.add(rim);

// Lambert lights per vertex: with one normal per voxel face that is exact, and it costs a
// third of MeshStandardMaterial's per-pixel shading (measured on SwiftShader), which is what
// keeps dense grids turning smoothly on weak GPUs.
const material = new THREE.MeshLambertMaterial({ color: 0xc0804a });
let chairMesh = null;
let floor = null;
let framedExtent = 0;

const radians = (degrees) => degrees * Math.PI / 180;

function render() {
  renderer.render(scene, camera);
}

function resize() {
  const width = viewport.clientWidth;
  const height = viewport.clientHeight;
  if (width === 0 || height === 0) return;
  renderer.setSize(width, height, false);
  camera.aspect = width / height;
  camera.updateProjectionMatrix();
  render();
}
new ResizeObserver(resize).observe(viewport);

/** Front-right view from above of a grid of the given size (front is −z, +y up). */
function frame(nx, ny, nz) {
  const radius = 0.5 * Math.hypot(nx, ny, nz);
  // Fit the grid's sphere in the narrower of the two fields of view (portrait on phones).
  const vertical = radians(camera.fov / 2);
  const horizontal = Math.atan(Math.tan(vertical) * camera.aspect);
  // A little inside the sphere: chairs rarely reach the grid's corners.
  const distance = radius / Math.sin(Math.min(vertical, horizontal)) * 0.9;
  const azimuth = radians(40);
  const elevation = radians(22);
  camera.position.set(distance * Math.sin(azimuth) * Math.cos(elevation),
                      distance * Math.sin(elevation),
                      -distance * Math.cos(azimuth) * Math.cos(elevation));
  camera.near = distance / 100;
  camera.far = distance * 10;
  camera.updateProjectionMatrix();
  controls.target.set(0, 0, 0);
  controls.update();
  framedExtent = Math.max(nx, ny, nz);
}

/** Replaces the displayed chair; the geometry is in voxel units with the grid centred. */
function showGeometry(geometry, grid) {
  if (chairMesh) {
    scene.remove(chairMesh);
    chairMesh.geometry.dispose();
    chairMesh = null;
  }
  if (floor) {
    scene.remove(floor);
    floor.geometry.dispose();
    floor.material.dispose();
  }
  const extent = Math.max(grid.nx, grid.ny, grid.nz);
  floor = new THREE.GridHelper(extent, Math.min(extent, 32), 0xb4bac4, 0xd0d4db);
  floor.position.y = -grid.ny / 2;
  scene.add(floor);
  if (geometry) {
    chairMesh = new THREE.Mesh(geometry, material);
    scene.add(chairMesh);
  }
  // Keep the user's view across chairs of one size; a new size gets a fresh framing.
  if (extent !== framedExtent) frame(grid.nx, grid.ny, grid.nz);
  render();
}

/** One BufferGeometry of the grid's exposed faces, centred on the grid. */
function cubesGeometry(grid) {
  const arrays = meshGrid(grid);
  if (arrays.quads === 0) return { geometry: null, triangles: 0 };
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute("position", new THREE.BufferAttribute(arrays.positions, 3));
  geometry.setAttribute("normal", new THREE.BufferAttribute(arrays.normals, 3));
  geometry.setIndex(new THREE.BufferAttribute(arrays.indices, 1));
  geometry.translate(-grid.nx / 2, -grid.ny / 2, -grid.nz / 2);
  return { geometry, triangles: arrays.quads * 2 };
}

/** The server's OBJ (binvox coordinates: translate + scale·i/d) → voxel units, centred. */
function objGeometry(text, grid) {
  const { positions, indices } = parseOBJ(text);
  if (indices.length === 0) return { geometry: null, triangles: 0 };
  const d = Math.max(grid.nx, grid.ny, grid.nz);
  const factor = d / grid.scale;
  const [tx, ty, tz] = grid.translate;
  for (let i = 0; i < positions.length; i += 3) {
    positions[i] = (positions[i] - tx) * factor - grid.nx / 2;
    positions[i + 1] = (positions[i + 1] - ty) * factor - grid.ny / 2;
    positions[i + 2] = (positions[i + 2] - tz) * factor - grid.nz / 2;
  }
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute("position", new THREE.BufferAttribute(positions, 3));
  geometry.setIndex(new THREE.BufferAttribute(indices, 1));
  geometry.computeVertexNormals();
  return { geometry, triangles: indices.length / 3 };
}

// ---------------------------------------------------------------------------------------------
// Messages, status, overlay

function showMessage(text) {
  $("message-text").textContent = text;
  $("message").hidden = false;
}

function clearMessage() {
  $("message").hidden = true;
  $("message-text").textContent = "";
}

function setOverlay(text, busy = false) {
  const overlay = $("overlay");
  overlay.textContent = text || "";
  overlay.hidden = !text;
  overlay.classList.toggle("busy", busy);
}

function reportError(error) {
  if (!(error instanceof ViewerError || error instanceof BinvoxError)) {
    // A bug in this page rather than a server answer: keep the details for the console too.
    console.warn(error);
  }
  showMessage(error.message || String(error));
}

// ---------------------------------------------------------------------------------------------
// Loading a chair

function sourceLabel(source) {
  if (source.kind === "seed") return `seed ${source.seed}`;
  if (source.kind === "z") return source.label;
  return source.name;
}

/** The threshold as sent and shown: the model's exact value until the slider moves. */
function thresholdText() {
  return String(Number(state.threshold.toFixed(4)));
}

/** Query options shared by every single-chair request. */
function optionParams(format, extra = {}) {
  const params = new URLSearchParams({ format, ...extra });
  if (state.source.kind !== "file") params.set("threshold", thresholdText());
  if (state.largest) params.set("largest_component", "true");
  return params;
}

/** Fetches one format of the current chair: GET for a seed, POST for a latent or a file. */
function fetchFormat(source, format, extra = {}) {
  if (source.kind === "seed") {
    const params = optionParams(format, extra);
    params.set("seed", source.seed);
    return request(`/v1/sample?${params}`);
  }
  if (source.kind === "z") {
    const body = { z: source.z, format, threshold: Number(thresholdText()),
                   largest_component: state.largest, ...extra };
    return request("/v1/sample", { method: "POST", body: JSON.stringify(body),
                                   headers: { "Content-Type": "application/json" } });
  }
  return request(`/v1/convert?${optionParams(format, extra)}`, {
    method: "POST", body: source.bytes, headers: { "Content-Type": "application/octet-stream" },
  });
}

/** Shows `source` with the current options; errors go to the message area. */
async function load(source) {
  const generation = ++state.generation;
  state.source = source;
  clearMessage();
  setOverlay(`loading ${sourceLabel(source)}…`, true);
  updateDownloads();
  updateControls();
  try {
    const started = performance.now();

    // 1. The occupancy grid: the server's binvox, or the user's file as it is.
    let grid;
    if (source.kind === "file") {
      grid = parseBinvox(source.bytes, source.name);
      if (state.largest && grid.occupied > 0) grid = largestComponent(grid);
    } else {
      const response = await fetchFormat(source, "binvox");
      const bytes = new Uint8Array(await response.arrayBuffer());
      grid = parseBinvox(bytes, `${sourceLabel(source)}.binvox`);
    }
    if (generation !== state.generation) return;
    const fetched = performance.now();

    // 2. One geometry: built here for cubes, the server's marching cubes for smooth.
    let built = { geometry: null, triangles: 0 };
    if (grid.occupied > 0) {
      if (state.mesh === "smooth") {
        const response = await fetchFormat(source, "obj", { mesh: "smooth" });
        const text = await response.text();
        if (generation !== state.generation) return;
        built = objGeometry(text, grid);
      } else {
        built = cubesGeometry(grid);
      }
    }
    const meshed = performance.now();
    showGeometry(built.geometry, grid);
    const shown = performance.now();

    state.stats = {
      source: sourceLabel(source), resolution: [grid.nx, grid.ny, grid.nz],
      occupied: grid.occupied, triangles: built.triangles, mesh: state.mesh,
      fetchMs: fetched - started, meshMs: meshed - fetched, renderMs: shown - meshed,
    };
    const total = grid.nx * grid.ny * grid.nz;
    const percent = (100 * grid.occupied / total).toFixed(1);
    const size = grid.nx === grid.ny && grid.ny === grid.nz
      ? `${grid.nx}³` : `${grid.nx}×${grid.ny}×${grid.nz}`;
    $("status").textContent = `${sourceLabel(source)} · ${size} · `
      + `${grid.occupied.toLocaleString("en")} voxels (${percent} %) · `
      + `${built.triangles.toLocaleString("en")} triangles · `
      + (source.kind === "file" ? "" : `threshold ${thresholdText()} · `)
      + `meshed in ${(meshed - fetched).toFixed(0)} ms`;
    if (grid.occupied === 0) {
      setOverlay(source.kind === "file"
        ? `${source.name} is empty: no voxel is set.`
        : `Empty chair: no voxel of ${sourceLabel(source)} is above the threshold `
          + `${thresholdText()}. Try a lower threshold.`);
    } else {
      setOverlay("");
    }
  } catch (error) {
    if (generation !== state.generation) return;
    setOverlay("");
    $("status").textContent = "";
    reportError(error);
  }
  markCurrentThumb();
}

function loadSeedText(text) {
  // The server judges the seed, so a bad one shows the server's own message.
  const trimmed = text.trim();
  $("seed").value = trimmed;
  if (/^\d+$/.test(trimmed)) history.replaceState(null, "", `#seed=${trimmed}`);
  return load({ kind: "seed", seed: trimmed });
}

function randomSeed() {
  const values = new Uint32Array(1);
  crypto.getRandomValues(values);
  return String(values[0] & 0x7fffffff);
}

async function openFile(file) {
  if (!file) return;
  clearMessage();
  if (file.size > MAX_FILE_BYTES) {
    showMessage(`${file.name}: ${file.size.toLocaleString("en")} bytes is more than this viewer `
      + `opens (${MAX_FILE_BYTES / 1024 / 1024} MiB)`);
    return;
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  await load({ kind: "file", name: file.name, bytes });
}

// ---------------------------------------------------------------------------------------------
// Downloads: seeded chairs are plain links; latents and files are fetched on click.

function updateDownloads() {
  for (const link of document.querySelectorAll(".downloads a")) {
    const format = link.dataset.format;
    const source = state.source;
    if (source && source.kind === "seed") {
      const params = optionParams(format);
      params.set("seed", source.seed);
      link.href = `/v1/sample?${params}`;
      link.download = `chair-${source.seed}.${format}`;
    } else if (source) {
      link.href = "#";
      const stem = source.kind === "file" ? source.name.replace(/\.binvox$/i, "") : "chair";
      link.download = `${stem}.${format}`;
    }
  }
}

async function downloadByFetch(event) {
  const link = event.currentTarget;
  if (!state.source || state.source.kind === "seed") return;
  event.preventDefault();
  try {
    const response = await fetchFormat(state.source, link.dataset.format);
    const url = URL.createObjectURL(await response.blob());
    const temporary = document.createElement("a");
    temporary.href = url;
    temporary.download = link.download;
    document.body.appendChild(temporary);
    temporary.click();
    temporary.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (error) {
    reportError(error);
  }
}

function updateControls() {
  const isFile = state.source && state.source.kind === "file";
  // The threshold applies to the generator's probabilities; a file is already 0/1.
  $("threshold").disabled = isFile;
  $("threshold").title = isFile ? "a .binvox file is already a binary grid" : "";
}

// ---------------------------------------------------------------------------------------------
// Gallery and interpolation

function thumbURL(seed) {
  const params = new URLSearchParams({ seed, format: "png", size: THUMB_SIZE,
                                       threshold: thresholdText() });
  if (state.largest) params.set("largest_component", "true");
  return `/v1/sample?${params}`;
}

/** An image that failed: ask again with fetch to show the server's message. */
async function explainImageError(url, what) {
  try {
    await request(url);
    showMessage(`${what} could not be shown (the browser could not decode it)`);
  } catch (error) {
    showMessage(`${what}: ${error.message}`);
  }
}

function renderGallery() {
  const gallery = $("gallery");
  gallery.textContent = "";
  const first = state.galleryPage * GALLERY_PAGE;
  $("gallery-range").textContent = `seeds ${first}–${first + GALLERY_PAGE - 1}`;
  $("gallery-prev").disabled = state.galleryPage === 0;
  for (let seed = first; seed < first + GALLERY_PAGE; seed++) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "thumb";
    button.dataset.seed = String(seed);
    button.title = `open seed ${seed} in 3-D`;
    const image = document.createElement("img");
    image.alt = `chair, seed ${seed}`;
    image.width = THUMB_SIZE;
    image.height = THUMB_SIZE;
    const url = thumbURL(seed);
    image.addEventListener("error", () => {
      button.classList.add("failed");
      explainImageError(url, `thumbnail of seed ${seed}`);
    }, { once: true });
    image.src = url;
    const label = document.createElement("span");
    label.textContent = String(seed);
    button.append(image, label);
    button.addEventListener("click", () => {
      loadSeedText(String(seed));
      if (window.matchMedia("(max-width: 700px)").matches) {
        viewport.scrollIntoView({ behavior: "smooth" });
      }
    });
    gallery.append(button);
  }
  markCurrentThumb();
}

function markCurrentThumb() {
  const current = state.source && state.source.kind === "seed" ? String(state.source.seed) : null;
  for (const thumb of document.querySelectorAll(".thumb")) {
    thumb.classList.toggle("current", thumb.dataset.seed === current);
  }
}

const strip = { from: "1", to: "2", steps: 8 };

function renderStrip() {
  strip.from = $("from").value.trim();
  strip.to = $("to").value.trim();
  strip.steps = Number($("steps").value) || 8;
  const params = new URLSearchParams({
    from: strip.from, to: strip.to, steps: strip.steps, format: "png", columns: strip.steps,
    size: STRIP_CELL, threshold: thresholdText(),
  });
  if (state.largest) params.set("largest_component", "true");
  const url = `/v1/interpolate?${params}`;
  const image = $("strip");
  image.onerror = () => explainImageError(url, `interpolation from ${strip.from} to ${strip.to}`);
  image.src = url;
}

async function latent(seed) {
  if (!state.latents.has(seed)) {
    const response = await request(`/v1/z?seed=${encodeURIComponent(seed)}`);
    state.latents.set(seed, (await response.json()).z);
  }
  return state.latents.get(seed);
}

/**
 * The latent at step `step` of `steps` from a to b, as the server computes it: spherical for a
 * normal z (the path stays where a Gaussian's mass is), straight for a uniform one.
 */
function pathLatent(a, b, step, steps, spherical) {
  const t = step / (steps - 1);
  const dot = a.reduce((sum, value, i) => sum + value * b[i], 0);
  const normA = Math.hypot(...a);
  const normB = Math.hypot(...b);
  const cosine = normA > 0 && normB > 0 ? dot / (normA * normB) : 0;
  const angle = Math.acos(Math.min(1, Math.max(-1, cosine)));
  let wa = 1 - t;
  let wb = t;
  if (spherical && Math.sin(angle) > 1e-6) {
    wa = Math.sin((1 - t) * angle) / Math.sin(angle);
    wb = Math.sin(t * angle) / Math.sin(angle);
  }
  return a.map((value, i) => Math.fround(wa * value + wb * b[i]));
}

async function openStripCell(event) {
  const image = event.currentTarget;
  if (!image.naturalWidth) return;
  const step = Math.min(strip.steps - 1,
                        Math.floor(event.offsetX / image.clientWidth * strip.steps));
  if (step === 0) return loadSeedText(strip.from);
  if (step === strip.steps - 1) return loadSeedText(strip.to);
  try {
    const [a, b] = await Promise.all([latent(strip.from), latent(strip.to)]);
    const spherical = state.model ? state.model.z_distribution === "normal" : true;
    const z = pathLatent(a, b, step, strip.steps, spherical);
    await load({ kind: "z", z,
                 label: `step ${step} of ${strip.steps - 1} from seed ${strip.from} `
                   + `to ${strip.to}` });
  } catch (error) {
    reportError(error);
  }
}

// ---------------------------------------------------------------------------------------------
// Model metadata

/** Fills a <dl> with [name, value, title?] rows (as text, never as HTML). */
function fillList(list, rows) {
  list.textContent = "";
  for (const [name, value, title] of rows) {
    const term = document.createElement("dt");
    term.textContent = name;
    const detail = document.createElement("dd");
    detail.textContent = value;
    if (title) detail.title = title;
    list.append(term, detail);
  }
}

function showModel(model) {
  state.model = model;
  const r = model.resolution;
  $("model-summary").textContent = `${r}³ chairs from a ${model.z_dimension}-d `
    + `${model.z_distribution} latent · server ${model.server_version}`;
  const sha = String(model.weights_sha256 || "");
  fillList($("model-info"), [
    ["resolution", `${r}³, ${model.voxel_layout}`],
    ["latent", `${model.z_dimension}-d, ${model.z_distribution}`],
    ["recommended threshold", String(model.recommended_threshold)],
    ["weights", sha.slice(0, 16) + (sha.length > 16 ? "…" : ""), sha],
    ["formats", (model.formats || []).join(", ")],
    ["server", model.server_version],
  ]);
  // Training details (the trainer's own keys) are long: folded away by default.
  fillList($("training-info"), Object.entries(model.info || {}));
  if (model.limits && model.limits.max_interpolation_steps) {
    $("steps").max = String(model.limits.max_interpolation_steps);
  }
}

// ---------------------------------------------------------------------------------------------
// Wiring

function wire() {
  $("seed-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadSeedText($("seed").value);
  });
  $("random").addEventListener("click", () => loadSeedText(randomSeed()));
  $("message-close").addEventListener("click", clearMessage);
  $("reset-view").addEventListener("click", () => {
    framedExtent = 0;
    if (state.stats) frame(...state.stats.resolution);
    render();
  });

  const slider = $("threshold");
  slider.addEventListener("input", () => {
    $("threshold-value").textContent = Number(slider.value).toFixed(2);
  });
  slider.addEventListener("change", () => {
    // A value the person picks is kept to hundredths, so its URLs stay short and cacheable.
    state.threshold = Math.round(Number(slider.value) * 100) / 100;
    $("threshold-value").textContent = thresholdText();
    if (state.source) load(state.source);
    renderGallery();
    renderStrip();
  });
  for (const radio of document.querySelectorAll("input[name=mesh]")) {
    radio.addEventListener("change", () => {
      state.mesh = radio.value;
      if (state.source) load(state.source);
    });
  }
  $("largest").addEventListener("change", (event) => {
    state.largest = event.target.checked;
    if (state.source) load(state.source);
    renderGallery();
    renderStrip();
  });
  for (const link of document.querySelectorAll(".downloads a")) {
    link.addEventListener("click", downloadByFetch);
  }

  $("file").addEventListener("change", (event) => openFile(event.target.files[0]));
  let depth = 0;
  const hint = $("drop-hint");
  document.addEventListener("dragenter", (event) => {
    event.preventDefault();
    depth++;
    viewport.classList.add("dragging");
    hint.hidden = false;
  });
  document.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) {
      viewport.classList.remove("dragging");
      hint.hidden = true;
    }
  });
  document.addEventListener("dragover", (event) => event.preventDefault());
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    depth = 0;
    viewport.classList.remove("dragging");
    hint.hidden = true;
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) openFile(file);
  });

  $("gallery-prev").addEventListener("click", () => {
    state.galleryPage = Math.max(0, state.galleryPage - 1);
    renderGallery();
  });
  $("gallery-next").addEventListener("click", () => {
    state.galleryPage += 1;
    renderGallery();
  });
  $("interpolation-form").addEventListener("submit", (event) => {
    event.preventDefault();
    renderStrip();
  });
  $("strip").addEventListener("click", openStripCell);
}

async function start() {
  wire();
  resize();
  try {
    const response = await request("/v1/model");
    showModel(await response.json());
  } catch (error) {
    reportError(error);
    $("model-summary").textContent = "model unavailable";
    return;
  }

  // The model's own threshold: a GAN's outputs are often below 0.5 where a voxel belongs.
  state.threshold = Number(state.model.recommended_threshold) || 0.5;
  $("threshold").value = String(state.threshold);
  $("threshold-value").textContent = thresholdText();

  const match = /seed=(\d+)/.exec(location.hash);
  renderGallery();
  renderStrip();
  await loadSeedText(match ? match[1] : $("seed").value);
}

/** Hooks for the browser test and for measuring in the console. */
window.voxgan = {
  state,
  load,
  /** Renders `frames` frames while turning the camera; returns milliseconds per frame. */
  spin(frames = 30) {
    const gl = renderer.getContext();
    const pixel = new Uint8Array(4);
    const started = performance.now();
    for (let i = 0; i < frames; i++) {
      camera.position.applyAxisAngle(new THREE.Vector3(0, 1, 0), (2 * Math.PI) / frames);
      camera.lookAt(controls.target);
      render();
      // Reading a pixel waits for the frame to be drawn; finish() alone may not.
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
    }
    controls.update();
    return (performance.now() - started) / frames;
  },
  ready: start(),
};
