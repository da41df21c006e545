#!/usr/bin/env python3
"""What the Python package adds to the Rust API's time, on the same inputs, in one run.

  Rust API   target/release/wgpu-persistence time INPUT.npy ... (the CLI's in-process timing: the
             input is loaded once, then Context::compute_slice / topological_loss_batch is timed)
  Python     wgpu_persistence.persistence(x) / topological_loss_batch(maps, ...) on an array that is
             already in memory, timed with time.perf_counter (the copy out of NumPy, the GIL release,
             the thread pool and the conversion of the diagram to a NumPy table included)

Inputs: uniform noise 1024x1024 (float32, numpy default_rng(5)), its diagram (V, sublevel); and a
training batch of 64 probability maps of 256x256 (smoothed noise scaled to [0, 1]), its loss with
the gradient map (V, superlevel, prior 1,0). Both on the CPU backend on all cores (the default of
both APIs), and with --gpu also on the GPU backend. The measurements alternate in --rounds rounds
(a shared VM has slow phases); each figure is the median of the rounds' medians. Like the CLI, each
Python measurement runs in a fresh process: in one process, a call that frees a large array makes
glibc raise its mmap threshold, and a later call of another shape then pays for page faults that
neither pays alone (seen: the batch loss 25 ms alone, 40-45 ms after 1024x1024 diagrams, in Rust
and in Python alike).

Usage: .venv/bin/python scripts/python_overhead.py [--repeat 15] [--rounds 5] [--gpu]
(needs the package installed in the running Python: pip install .)
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

import wgpu_persistence as wp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "target", "release", "wgpu-persistence")


def box_blur(a, r):
    k = 2 * r + 1
    for axis in (a.ndim - 2, a.ndim - 1):  # the last two axes: rows, columns
        pad = [(0, 0)] * a.ndim
        pad[axis] = (r, r)
        c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis, dtype=np.float64)
        c = np.concatenate([np.zeros_like(c.take([0], axis=axis)), c], axis=axis)
        n = a.shape[axis]
        a = (c.take(range(k, k + n), axis=axis) - c.take(range(0, n), axis=axis)) / k
    return a


def inputs():
    noise = np.random.default_rng(5).random((1024, 1024)).astype(np.float32)
    rng = np.random.default_rng(64256)
    maps = box_blur(box_blur(rng.random((64, 256, 256)), 4), 4)
    lo = maps.min(axis=(1, 2), keepdims=True)
    hi = maps.max(axis=(1, 2), keepdims=True)
    maps = np.ascontiguousarray((maps - lo) / (hi - lo), dtype=np.float32)
    return noise, maps


def rust(path, backend, repeat, extra):
    res = subprocess.run(
        [CLI, "time", path, "--backend", backend, "--repeat", str(repeat), "--warmup", "2", *extra],
        capture_output=True, text=True, check=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])["median_s"]


def python(case, backend, repeat):
    """The median of `repeat` timed calls of `case` in a fresh Python process."""
    res = subprocess.run(
        [sys.executable, __file__, "--child", case, backend, str(repeat)],
        capture_output=True, text=True, check=True,
    )
    return float(res.stdout.strip().splitlines()[-1])


def child(case, backend, repeat):
    noise, maps = inputs()
    fn = CASES[case][2]
    for _ in range(2):
        fn(noise, maps, backend)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(noise, maps, backend)
        times.append(time.perf_counter() - t)
    print(statistics.median(times))


# name: (which input, the Rust CLI's arguments, the Python call)
CASES = {
    "diagram, 1024x1024 noise, V": (0, [], lambda noise, maps, b: wp.persistence(noise, backend=b)),
    "loss + gradient, 64 x 256x256 maps, V": (
        1,
        ["--batch", "--loss", "1,0"],
        lambda noise, maps, b: wp.topological_loss_batch(maps, [1, 0], backend=b),
    ),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--gpu", action="store_true", help="also the GPU backend (any adapter)")
    ap.add_argument("--child", nargs=3, metavar=("CASE", "BACKEND", "REPEAT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    if not os.path.exists(CLI):
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    arrays = inputs()
    backends = ["cpu"] + (["gpu"] if args.gpu else [])
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for backend in backends:
            for name, (which, extra, _) in CASES.items():
                path = os.path.join(tmp, "input.npy")
                np.save(path, arrays[which])
                rs, ps = [], []
                for _ in range(args.rounds):
                    rs.append(rust(path, backend, args.repeat, extra))
                    ps.append(python(name, backend, args.repeat))
                r, p = statistics.median(rs), statistics.median(ps)
                rows.append((backend, name, r, p))
                print(f"done: {backend} {name}", file=sys.stderr)
    info = wp.backend_info(backends[-1])
    print(f"- adapter: {info['adapter'] or 'none'}; CPU threads {info['threads']}; "
          f"{args.rounds} rounds x {args.repeat} runs; load average {os.getloadavg()[0]:.2f}")
    print()
    print("| backend | what | Rust API (median) | Python (median) | Python / Rust |")
    print("|---|---|---:|---:|---:|")
    for backend, name, r, p in rows:
        print(f"| {backend} | {name} | {r * 1e3:.2f} ms | {p * 1e3:.2f} ms | {p / r:.3f} |")


if __name__ == "__main__":
    main()
