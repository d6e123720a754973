#!/usr/bin/env python3
"""Prints the ratio table of `bench/compare`: voxgan's time ÷ the reference's time for every
figure both sides measured (below 1: voxgan is faster), with peak memory ratios for the model
and training cases, as Markdown.

    python compare.py --voxgan A.json [B.json ...] --reference C.json [D.json ...]

Each file is a `voxgan bench --json` or `reference.py --json` report; several per side are
merged (bench/compare runs one suite at a time, alternating sides, so both see similar load).
"""
import argparse
import json
import math
import sys


def load(paths):
    figures, reports = {}, []
    for path in paths:
        with open(path) as handle:
            report = json.load(handle)
        reports.append(report)
        for entry in report.get("figures", []):
            figures[entry["id"]] = entry
    return figures, reports


def sgemm_range(reports, key):
    values = [r[k][key] for r in reports for k in ("sgemm_start", "sgemm_end") if k in r]
    return (min(values), max(values)) if values else (math.nan, math.nan)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--voxgan", nargs="+", required=True)
    parser.add_argument("--reference", nargs="+", required=True)
    args = parser.parse_args()
    ours, our_reports = load(args.voxgan)
    theirs, their_reports = load(args.reference)
    if not ours or not theirs:
        sys.exit("compare: no figures on one side (did a run fail?)")

    first = our_reports[0]
    machine = first.get("machine", {})
    versions = next((r["versions"] for r in their_reports if "versions" in r), {})
    loads = [r["machine"].get("load_average", math.nan) for r in our_reports + their_reports
             if "machine" in r]
    print(f"Machine: {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores; "
          f"{first.get('threads', '?')} compute thread(s) on both sides; "
          f"1-minute load average {min(loads):.1f}–{max(loads):.1f} during the runs.")
    print("Reference: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".")
    for label, reports, what in (("voxgan", our_reports, "OpenBLAS sgemm"),
                                 ("reference", their_reports, "torch.mm")):
        low1, high1 = sgemm_range(reports, "gflops_1_thread")
        lowN, highN = sgemm_range(reports, "gflops_all_threads")
        print(f"Yardstick, {label} ({what} 1024³): {low1:.0f}–{high1:.0f} GFLOP/s on 1 thread, "
              f"{lowN:.0f}–{highN:.0f} on all (start and end of each suite).")
    print()
    print("| figure | voxgan ms | reference ms | ratio (voxgan ÷ reference) | peak memory ratio |")
    print("|---|---:|---:|---:|---:|")
    suite_logs = {}
    order = ["model", "train", "layers", "formats", "mesh", "render"]
    ranked = sorted(ours.items(), key=lambda item: order.index(item[0].split(".")[0])
                    if item[0].split(".")[0] in order else len(order))
    for fid, mine in ranked:
        other = theirs.get(fid)
        if other is None:
            continue
        ratio = mine["median_ms"] / other["median_ms"]
        suite_logs.setdefault(fid.split(".")[0], []).append(math.log(ratio))
        memory = ""
        if "peak_rss_mb" in mine and "peak_rss_mb" in other:
            memory = f"{mine['peak_rss_mb']:.0f} ÷ {other['peak_rss_mb']:.0f} MB = " \
                     f"{mine['peak_rss_mb'] / other['peak_rss_mb']:.2f}"
        name = mine["name"]
        if other["name"] != name:
            name += f" (reference: {other['name']})"
        ratio_text = f"{ratio:.2f}" if ratio >= 0.1 else f"{ratio:.2g}"
        print(f"| {name} | {span(mine)} | {span(other)} | {ratio_text} | {memory} |")
    print()
    print("Geometric mean of the ratios per suite: " + ", ".join(
        f"{suite} {math.exp(sum(logs) / len(logs)):.2g} ({len(logs)})"
        for suite, logs in suite_logs.items()) + ".")
    missing = sorted(set(ours) - set(theirs))
    if missing:
        print("Only voxgan measured: " + ", ".join(missing) + ".")


def span(entry):
    return f"{fmt(entry['median_ms'])} ({fmt(entry['min_ms'])}–{fmt(entry['max_ms'])})"


def fmt(ms):
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.1f}" if ms >= 10 else f"{ms:.2f}" \
        if ms >= 1 else f"{ms:.3f}"


if __name__ == "__main__":
    main()
