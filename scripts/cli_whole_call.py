#!/usr/bin/env python3
"""The CLI's whole call against the computation in process, on 1024x1024 uniform noise.

What it times, in alternated rounds so that a drift of the machine's speed touches every figure:
- `diagram noise.npy --backend cpu -o FILE` (CSV, then JSON): the whole process, from its start to
  its exit, file in and file out (wall time around the subprocess);
- `time noise.npy --backend cpu --repeat R`: the diagram in process, warm (after the warm-up runs
  of `time`), the median of R calls;
- `time noise.npy --backend cpu --warmup 0 --repeat 1`: the diagram in process, its first call in a
  fresh process (what the CLI's one call pays: fresh pages for every buffer).

It prints the medians over the rounds and the ratios of the whole call to both in-process figures.
The image is the one of `scripts/side_by_side.py` (numpy `default_rng(5)`, float32).

    python3 scripts/cli_whole_call.py [--rounds 15] [--repeat 10] [--no-build] [--cli PATH]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "target", "release", "wgpu-persistence")


def whole_call(cli, path, fmt, out):
    """Seconds from the start of one `diagram` process to its exit."""
    start = time.perf_counter()
    subprocess.run([cli, "diagram", path, "--backend", "cpu", "-f", fmt, "-o", out],
                   check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def in_process(cli, path, extra):
    """`median_s` of one `time` call, or None where the binary refuses it (one from before
    `--warmup 0`)."""
    res = subprocess.run([cli, "time", path, "--backend", "cpu", *extra],
                         capture_output=True, text=True)
    return json.loads(res.stdout)["median_s"] if res.returncode == 0 else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=10, help="calls per warm `time` run")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--cli", default=CLI, help="the binary to time (default: target/release)")
    args = parser.parse_args()
    if not args.no_build and args.cli == CLI:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "wgpu-persistence"],
                       cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "noise1024.npy")
        np.save(path, np.random.default_rng(5).random((1024, 1024), dtype=np.float32))
        out = os.path.join(tmp, "out")
        figures = {"csv": [], "json": [], "warm": [], "first": []}
        for _ in range(args.rounds):
            figures["csv"].append(whole_call(args.cli, path, "csv", out + ".csv"))
            figures["warm"].append(in_process(args.cli, path, ["--repeat", str(args.repeat)]))
            figures["json"].append(whole_call(args.cli, path, "json", out + ".json"))
            figures["first"].append(in_process(args.cli, path, ["--warmup", "0", "--repeat", "1"]))
        rows = int(subprocess.run(["wc", "-l", out + ".csv"], capture_output=True, text=True)
                   .stdout.split()[0]) - 1
    figures = {k: [x for x in v if x is not None] for k, v in figures.items()}
    median = {k: statistics.median(v) for k, v in figures.items() if v}
    low = {k: min(v) for k, v in figures.items() if v}
    version = subprocess.run([args.cli, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{version}; {os.cpu_count()} cores; {args.rounds} alternated rounds; "
          f"1024x1024 uniform noise, {rows} pairs")
    print("| figure | median | min |")
    print("|---|---:|---:|")
    names = {
        "csv": "whole CLI call, CSV (`diagram -o out.csv`)",
        "json": "whole CLI call, JSON (`diagram -f json -o out.json`)",
        "warm": f"in process, warm (`time --repeat {args.repeat}`, median)",
        "first": "in process, first call of a process (`time --warmup 0 --repeat 1`)",
    }
    for key, name in names.items():
        if key in median:
            print(f"| {name} | {median[key] * 1e3:.1f} ms | {low[key] * 1e3:.1f} ms |")
    for fmt in ("csv", "json"):
        line = f"{fmt.upper()}: whole call / warm in-process = {median[fmt] / median['warm']:.2f}"
        if "first" in median:
            line += f"; whole call / first call in process = {median[fmt] / median['first']:.2f}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
