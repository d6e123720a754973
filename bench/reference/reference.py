#!/usr/bin/env python3
"""The work `voxgan bench` measures, done the way a Python user would do it.

PyTorch (CPU) for the generator, discriminator, layers and training step; trimesh for binvox
files and cube meshes; scikit-image for marching cubes; matplotlib `voxels` for a picture;
h5py for packed datasets. Every figure has the same `id` as voxgan's, is the median of repeats
(after one warm-up) with min and max in milliseconds per operation, and the JSON has the same
shape, so `bench/reference/compare.py` can divide one by the other.

    python reference.py [all|gemm|layers|model|train|formats|mesh|render] --json FILE
                        [--threads N] [--repeats N] [--data DIR] [--batch N]

Model and training cases run in child processes (this script with --case ID), so each peak
memory (ru_maxrss) is its own, as on voxgan's side. Run inside bench/reference/.venv
(setup.sh makes it).
"""
import argparse
import collections
import datetime
import glob
import hashlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

SUITES = ["all", "gemm", "layers", "model", "train", "formats", "mesh", "render"]
CHAIR_FILE = "chairs/shapenet_64/1a6f615e8b1b5ae4dbbc9440457e303e.binvox"

# Generator shapes and training configurations: the same as BenchCommand.swift's.
GENERATORS = {
    "g32-128": dict(resolution=32, channels=[128, 64, 32]),
    "g32-256": dict(resolution=32, channels=[256, 128, 64]),
    "g64-paper": dict(resolution=64, channels=[512, 256, 128, 64]),
}
TRAININGS = {
    # voxgan's TrainingConfig() defaults: D without batch norm, with bias.
    "t32-recipe": dict(resolution=32, g=[256, 128, 64], d=[64, 128, 256], bn=False, bias=True,
                       batch=32),
    "t32-128": dict(resolution=32, g=[128, 64, 32], d=[32, 64, 128], bn=True, bias=False,
                    batch=32),
    "t64-paper": dict(resolution=64, g=[512, 256, 128, 64], d=[64, 128, 256, 512], bn=False,
                      bias=True, batch=8),
}


def case_ids(suite):
    if suite == "model":
        return [f"model.{key}.b{batch}" for key in GENERATORS for batch in (1, 8, 32)]
    return [f"train.{key}.b{config['batch']}" for key, config in TRAININGS.items()]


def measure(body, repeats, warmup=1):
    """Median, min and max seconds of `repeats` runs of body() after `warmup` runs."""
    for _ in range(warmup):
        body()
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    times.sort()
    return dict(median=times[len(times) // 2], min=times[0], max=times[-1])


def figure(fid, name, timing, items=1, **extra):
    entry = dict(extra)
    entry.update(id=fid, name=name, items=items, median_ms=timing["median"] * 1000,
                 min_ms=timing["min"] * 1000, max_ms=timing["max"] * 1000)
    return entry


def line(entry):
    text = f"{entry['name']:<46}{entry['median_ms']:>10.3f} ms  " \
           f"({entry['min_ms']:.3f}–{entry['max_ms']:.3f})"
    if entry["items"] > 1:
        per = entry["median_ms"] / entry["items"]
        text += f"  {per:.2f} ms/item, {1000 / per:.1f} items/s"
    if "peak_rss_mb" in entry:
        text += f"  peak {entry['peak_rss_mb']:.0f} MB"
    if "note" in entry:
        text += "  " + entry["note"]
    return text


def fast(repeats):
    return max(repeats, 21)


# ---------------------------------------------------------------------------------------------
# The networks (3D-GAN, Wu et al. 2016), as voxgan's Generator and Discriminator build them.

def generator(torch, resolution, channels, z_dim=200):
    nn = torch.nn
    widths = [z_dim] + channels + [1]
    layers = []
    for index in range(len(widths) - 1):
        first = index == 0
        layers.append(nn.ConvTranspose3d(widths[index], widths[index + 1], 4,
                                         stride=1 if first else 2, padding=0 if first else 1,
                                         bias=False))
        if index < len(widths) - 2:
            layers += [nn.BatchNorm3d(widths[index + 1]), nn.ReLU()]
    layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


def discriminator(torch, channels, batch_norm, bias, slope=0.2):
    nn = torch.nn
    widths = [1] + channels
    layers = []
    for index in range(len(channels)):
        layers.append(nn.Conv3d(widths[index], widths[index + 1], 4, stride=2, padding=1,
                                bias=bias))
        if batch_norm and index > 0:
            layers.append(nn.BatchNorm3d(widths[index + 1]))
        layers.append(nn.LeakyReLU(slope))
    layers.append(nn.Conv3d(widths[-1], 1, 4, stride=1, padding=0, bias=bias))
    return nn.Sequential(*layers)


def init_dcgan(torch, module):
    for layer in module.modules():
        if isinstance(layer, (torch.nn.Conv3d, torch.nn.ConvTranspose3d)):
            torch.nn.init.normal_(layer.weight, 0.0, 0.02)
            if layer.bias is not None:
                torch.nn.init.zeros_(layer.bias)


def run_case(case, repeats):
    """One model or training case in this process; figures for the parent."""
    import torch
    torch.manual_seed(11)
    kind, key, batch_text = case.split(".")
    batch = int(batch_text[1:])
    if kind == "model":
        config = GENERATORS[key]
        g = generator(torch, config["resolution"], config["channels"])
        init_dcgan(torch, g)
        g.eval()
        z = torch.randn(batch, 200, 1, 1, 1)

        def forward():
            with torch.inference_mode():
                g(z)

        timing = measure(forward, max(repeats, 21) if batch == 1 else repeats)
        label = "latency" if batch == 1 else "throughput"
        channels = ",".join(map(str, config["channels"]))
        return [figure(case, f"G {config['resolution']}³ {channels} batch {batch} {label}",
                       timing, items=batch)]

    config = TRAININGS[key]
    r = config["resolution"]
    g = generator(torch, r, config["g"])
    d = discriminator(torch, config["d"], config["bn"], config["bias"])
    init_dcgan(torch, g)
    init_dcgan(torch, d)
    g_optimizer = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_optimizer = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    loss = torch.nn.BCEWithLogitsLoss()
    real = (torch.rand(batch, 1, r, r, r) < 0.06).float()
    z = torch.randn(batch, 200, 1, 1, 1)
    real_label = torch.full((batch, 1, 1, 1, 1), 0.9)
    zeros = torch.zeros(batch, 1, 1, 1, 1)
    ones = torch.ones(batch, 1, 1, 1, 1)
    g.train()
    d.train()

    def step():
        # The same procedure as voxgan's trainer with the gate off.
        fake = g(z)
        d_optimizer.zero_grad()
        loss(d(real), real_label).backward()
        loss(d(fake.detach()), zeros).backward()
        d_optimizer.step()
        g_optimizer.zero_grad()
        loss(d(fake), ones).backward()
        g_optimizer.step()

    timing = measure(step, repeats)
    name = f"train step {r}³ G {','.join(map(str, config['g']))} " \
           f"D {','.join(map(str, config['d']))} batch {batch}"
    return [figure(case, name, timing, items=batch)]


def child_cases(suite, args):
    figures = []
    for case in case_ids(suite):
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
            scratch = handle.name
        try:
            subprocess.run([sys.executable, os.path.abspath(__file__), suite, "--case", case,
                            "--json", scratch, "--threads", str(args.threads),
                            "--repeats", str(args.repeats)], check=True)
            with open(scratch) as handle:
                result = json.load(handle)
        finally:
            os.unlink(scratch)
        for entry in result["figures"]:
            entry["peak_rss_mb"] = result["peak_rss_mb"]
            print(line(entry), flush=True)
            figures.append(entry)
    return figures


# ---------------------------------------------------------------------------------------------
# The yardstick and the layers

def sgemm(threads):
    import torch
    rates = {}
    for count, key in ((1, "gflops_1_thread"), (threads, "gflops_all_threads")):
        torch.set_num_threads(count)
        a = torch.rand(1024, 1024)
        b = torch.rand(1024, 1024)
        timing = measure(lambda: torch.mm(a, b), 5)
        rates[key] = 2 * 1024 ** 3 / timing["median"] / 1e9
    torch.set_num_threads(threads)
    rates["threads"] = threads
    return rates


def layer_figures(args):
    """Each convolution of the 32³ (G 256/128/64, D 64/128/256) and 64³ paper models, forward
    and backward (input and weight gradients) at batch --batch, like EngineBenchmarks.layers."""
    import torch
    nn = torch.nn
    torch.manual_seed(3)
    figures = []
    for resolution in (32, 64):
        g_widths = [200, 512, 256, 128, 64, 1] if resolution == 64 else [200, 256, 128, 64, 1]
        d_widths = [1, 64, 128, 256, 512] if resolution == 64 else [1, 64, 128, 256]
        layers = []
        side = 1
        for index in range(len(g_widths) - 1):
            cin, cout = g_widths[index], g_widths[index + 1]
            out_side = 4 if index == 0 else side * 2
            layer = nn.ConvTranspose3d(cin, cout, 4, stride=1 if index == 0 else 2,
                                       padding=0 if index == 0 else 1, bias=False)
            layers.append((f"G{index}",
                           f"{resolution}³ net: G{index} convT {cin}→{cout} {side}³→{out_side}³",
                           layer, [args.batch, cin, side, side, side]))
            side = out_side
        side = resolution
        for index in range(len(d_widths) - 1):
            cin, cout = d_widths[index], d_widths[index + 1]
            layer = nn.Conv3d(cin, cout, 4, stride=2, padding=1, bias=False)
            layers.append((f"D{index}",
                           f"{resolution}³ net: D{index} conv {cin}→{cout} {side}³→{side // 2}³",
                           layer, [args.batch, cin, side, side, side]))
            side //= 2
        for key, name, layer, shape in layers:
            nn.init.normal_(layer.weight, 0.0, 0.02)
            x = torch.randn(*shape, requires_grad=True)
            with torch.no_grad():
                out_shape = layer(x).shape
            gradient = torch.full(out_shape, 0.01)

            def forward():
                with torch.no_grad():
                    layer(x)

            def both():
                x.grad = None
                layer.weight.grad = None
                layer(x).backward(gradient)

            f = measure(forward, args.repeats)
            fb = measure(both, args.repeats)
            # Backward alone: the forward's median taken off every statistic of the
            # forward+backward runs (as voxgan bench reports it).
            b = {k: max(fb[k] - f["median"], 1e-9) for k in f}
            base = f"layers.{resolution}.{key}"
            figures.append(figure(base + ".forward", name + " fwd", f, items=args.batch))
            figures.append(figure(base + ".backward", name + " bwd", b, items=args.batch))
            print(line(figures[-2]), flush=True)
            print(line(figures[-1]), flush=True)
    return figures


# ---------------------------------------------------------------------------------------------
# Files, meshes and pictures

def load_binvox_matrix(path):
    """The grid as trimesh's binvox reader returns it: a dense numpy bool array (its default
    axis order 'xzy'; the order does not change any timing here)."""
    import trimesh.exchange.binvox as binvox
    with open(path, "rb") as handle:
        return binvox.load_binvox(handle).matrix


def chair(args):
    path = os.path.join(args.data, CHAIR_FILE)
    if not os.path.exists(path):
        sys.exit(f"{path}: not found (give --data DIR, the chair data folder)")
    return path, load_binvox_matrix(path)


def format_figures(args):
    import h5py
    import numpy as np
    import trimesh.exchange.binvox as binvox
    path, matrix = chair(args)
    print(f"chair: {path} ({matrix.shape[0]}³, {int(matrix.sum())} voxels)")
    figures = []
    with open(path, "rb") as handle:
        voxels = binvox.load_binvox(handle)
    # trimesh 5.2's run-length encoder warns of a uint8 overflow while exporting this grid;
    # the timing is what matters here, so the warning is silenced.
    import warnings
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="trimesh")
    scratch = tempfile.mkdtemp(prefix="voxgan-reference-")
    target = os.path.join(scratch, "chair.binvox")

    def write():
        with open(target, "wb") as handle:
            handle.write(binvox.export_binvox(voxels))

    figures.append(figure("formats.binvox_read64", "binvox 64³ read",
                          measure(lambda: load_binvox_matrix(path), fast(args.repeats))))
    figures.append(figure("formats.binvox_write64", "binvox 64³ write",
                          measure(write, fast(args.repeats))))

    # Pack the 889 ModelNet10 train chairs: drop MANIFEST duplicate_of rows and repeated
    # grids, write uint8 N×32×32×32 with one deflated chunk per grid, as `voxgan pack` does.
    folder = os.path.join(args.data, "chairs/modelnet10_32")
    files = sorted(glob.glob(os.path.join(folder, "**/*.binvox"), recursive=True))
    duplicates = set()
    manifest = os.path.join(args.data, "MANIFEST.tsv")
    if os.path.exists(manifest):
        with open(manifest) as handle:
            header = handle.readline().rstrip("\n").split("\t")
            for row in handle:
                fields = dict(zip(header, row.rstrip("\n").split("\t")))
                if fields.get("duplicate_of"):
                    duplicates.add(os.path.basename(fields.get("path", fields.get("file", ""))))
    packed = os.path.join(scratch, "chairs.h5")

    def pack():
        grids, names, seen = [], [], set()
        for name in files:
            if os.path.basename(name) in duplicates:
                continue
            grid = load_binvox_matrix(name).astype(np.uint8)
            digest = hashlib.sha1(grid.tobytes()).digest()
            if digest in seen:
                continue
            seen.add(digest)
            grids.append(grid)
            names.append(os.path.relpath(name, os.path.dirname(folder)))
        with h5py.File(packed, "w") as handle:
            handle.create_dataset("voxels", data=np.stack(grids), chunks=(1, 32, 32, 32),
                                  compression="gzip", compression_opts=4)
            handle.create_dataset("names", data=names, dtype=h5py.string_dtype())
        return len(grids)

    kept = pack()

    def load():
        with h5py.File(packed, "r") as handle:
            handle["voxels"][:]

    figures.append(figure("formats.pack889", "pack 889 chairs 32³ (dedupe, h5)",
                          measure(pack, args.repeats, warmup=0), items=len(files),
                          note=f"{kept} kept"))
    figures.append(figure("formats.load_packed", f"load the packed {kept} chairs",
                          measure(load, fast(args.repeats)), items=kept))
    for entry in figures:
        print(line(entry), flush=True)
    for name in os.listdir(scratch):
        os.unlink(os.path.join(scratch, name))
    os.rmdir(scratch)
    return figures


def mesh_figures(args):
    import numpy as np
    import skimage.measure
    import trimesh
    path, matrix = chair(args)
    print(f"chair: {path} ({matrix.shape[0]}³, {int(matrix.sum())} voxels)")
    occupancy = matrix.astype(np.float32)

    def cubes():
        # trimesh's voxel-to-mesh: every occupied voxel as a box.
        mesh = trimesh.voxel.VoxelGrid(matrix).as_boxes()
        return mesh.export(file_type="obj")

    def smooth():
        padded = np.pad(occupancy, 1)
        return skimage.measure.marching_cubes(padded, level=0.5)

    def smooth_obj():
        vertices, faces, _, _ = smooth()
        return trimesh.Trimesh(vertices, faces, process=False).export(file_type="obj")

    figures = [
        figure("mesh.cubes_obj", "cubes (trimesh as_boxes) + OBJ bytes",
               measure(cubes, args.repeats)),
        figure("mesh.marching_cubes", "marching cubes (scikit-image)",
               measure(smooth, fast(args.repeats))),
        figure("mesh.marching_cubes_obj", "marching cubes + OBJ bytes (trimesh)",
               measure(smooth_obj, args.repeats)),
    ]
    for entry in figures:
        print(line(entry), flush=True)
    return figures


def render_figures(args):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    path, matrix = chair(args)
    print(f"chair: {path} ({matrix.shape[0]}³, {int(matrix.sum())} voxels)")
    upright = np.transpose(matrix, (0, 2, 1))  # matplotlib's z is up; binvox's y is

    def render():
        figure_ = plt.figure(figsize=(5.12, 5.12), dpi=100)
        axes = figure_.add_subplot(projection="3d")
        axes.voxels(upright, facecolors="#b0b0b0", edgecolor=None)
        axes.set_axis_off()
        buffer = io.BytesIO()
        figure_.savefig(buffer, format="png", dpi=100)
        plt.close(figure_)
        return buffer.getvalue()

    entry = figure("render.png512", "render 512×512 + PNG (matplotlib voxels)",
                   measure(render, args.repeats))
    print(line(entry), flush=True)
    return [entry]


# ---------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("suite", nargs="?", default="all", choices=SUITES)
    parser.add_argument("--json", help="write the figures as JSON")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--data", default=os.environ.get("VOXGAN_DATA", "../shared/data"))
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()

    import torch
    torch.set_num_threads(args.threads)
    if args.case:
        figures = run_case(args.case, args.repeats)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with open(args.json, "w") as handle:
            json.dump(dict(figures=figures, peak_rss_mb=peak), handle)
        return

    import h5py
    import matplotlib
    import numpy
    import skimage
    import trimesh
    cpu = "unknown"
    with open("/proc/cpuinfo") as handle:
        for text in handle:
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    report = collections.OrderedDict(
        suite=args.suite, threads=args.threads, repeats=args.repeats,
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(),
        machine=dict(cpu=cpu, cores=os.cpu_count(), load_average=os.getloadavg()[0]),
        versions=dict(python=sys.version.split()[0], torch=torch.__version__,
                      trimesh=trimesh.__version__, scikit_image=skimage.__version__,
                      matplotlib=matplotlib.__version__, h5py=h5py.__version__,
                      numpy=numpy.__version__))
    print(f"reference {args.suite}: {cpu}, {os.cpu_count()} cores, {args.threads} thread(s), "
          f"{args.repeats} repeats; torch {torch.__version__}; milliseconds per operation, "
          f"median (min–max)", flush=True)
    report["sgemm_start"] = sgemm(args.threads)
    print("torch.mm 1024³: {gflops_1_thread:.1f} GFLOP/s on 1 thread, {gflops_all_threads:.1f} "
          "on {threads}".format(**report["sgemm_start"]), flush=True)

    chosen = [s for s in SUITES if s not in ("all", "gemm")] if args.suite == "all" \
        else [args.suite]
    figures = []
    for suite in chosen:
        if suite == "gemm":
            continue
        print(f"\n[{suite}]", flush=True)
        if suite == "layers":
            figures += layer_figures(args)
        elif suite in ("model", "train"):
            figures += child_cases(suite, args)
        elif suite == "formats":
            figures += format_figures(args)
        elif suite == "mesh":
            figures += mesh_figures(args)
        elif suite == "render":
            figures += render_figures(args)
    report["sgemm_end"] = sgemm(args.threads)
    print("\ntorch.mm 1024³: {gflops_1_thread:.1f} GFLOP/s on 1 thread, {gflops_all_threads:.1f} "
          "on {threads} (end of run)".format(**report["sgemm_end"]), flush=True)
    report["figures"] = figures
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()
