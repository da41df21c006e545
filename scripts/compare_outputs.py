#!/usr/bin/env python3
"""Run two builds of the CLI on the golden inputs and check that their outputs are byte-identical.

A change that should not change what is computed (a refactor, a faster writer) is held to this: every
`diagram` (CSV and JSON; V, T, Freudenthal; sub- and superlevel; zero-persistence pairs kept or not;
images, volumes and a batch), every `loss` (the value printed and the gradient written) and every
`repair` (the lines printed and the map written) on the inputs of tests/golden/ and tests/golden3d/,
on each backend asked for.

Usage (from the repository root; only the Python standard library is needed):

    git worktree add /tmp/before <commit> && (cd /tmp/before && cargo build --release)
    cargo build --release
    python3 scripts/compare_outputs.py /tmp/before/target/release/wgpu-persistence \\
        target/release/wgpu-persistence --backend cpu gpu

Exit status 0 when every output matches, 1 otherwise (each difference is printed).
"""

import argparse
import array
import glob
import json
import os
import struct
import subprocess
import sys
import tempfile


def save_npy(path, shape, values):
    """A little-endian float32 .npy file, C order."""
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else ""))
    header += " " * (64 - (10 + len(header) + 1) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(array.array("f", values).tobytes())


def load_golden(path):
    case = json.load(open(path))
    return case["name"], case["shape"], [float(v) for v in case["data"]]  # "inf" / "-inf" strings too


def unit(values):
    """The values mapped onto [0, 1] (a probability map for `loss` and `repair`); infinities clamped."""
    finite = [v for v in values if v == v and abs(v) != float("inf")]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    span = hi - lo or 1.0
    return [min(1.0, max(0.0, (v - lo) / span)) if abs(v) != float("inf") else (1.0 if v > 0 else 0.0)
            for v in values]


def run(binary, args, outputs):
    """stdout, exit status and the bytes of every output file of one call."""
    for path in outputs:
        if os.path.exists(path):
            os.remove(path)
    done = subprocess.run([binary] + args, capture_output=True, env=dict(os.environ, XDG_RUNTIME_DIR=tempfile.gettempdir()))
    files = [open(p, "rb").read() if os.path.exists(p) else None for p in outputs]
    return done.returncode, done.stdout, files


def calls(workdir, backends):
    """(label, arguments, output files) of every call compared."""
    out = os.path.join(workdir, "out")
    items = []
    images = sorted(glob.glob("tests/golden/*.json"))
    volumes = sorted(glob.glob("tests/golden3d/*.json"))
    by_shape = {}
    for path in images:
        name, shape, values = load_golden(path)
        npy = os.path.join(workdir, name + ".npy")
        save_npy(npy, shape, values)
        by_shape.setdefault(tuple(shape), []).append(values)
        probability = os.path.join(workdir, name + "_p.npy")
        save_npy(probability, shape, unit(values))
        for backend in backends:
            for c in ["v", "t", "freudenthal"]:
                for sup in ([], ["--superlevel"]):
                    for fmt in ["csv", "json"]:
                        for keep in ([], ["--keep-zero"]):
                            items.append((f"diagram {name} {c} {sup} {fmt} {keep} {backend}",
                                          ["diagram", npy, "-c", c, "-f", fmt, "-b", backend, "-o", out] + sup + keep,
                                          [out]))
            for betti in ["1,1", "1,0", "2,3"]:
                for kind in ["squared", "l1"]:
                    items.append((f"loss {name} {betti} {kind} {backend}",
                                  ["loss", probability, "--betti", betti, "--kind", kind, "-b", backend,
                                   "--gradient", out + ".npy"],
                                  [out + ".npy"]))
            if shape[0] * shape[1] <= 32 * 32:
                items.append((f"repair {name} {backend}",
                              ["repair", probability, "--betti", "1,1", "-b", backend, "-o", out + ".npy",
                               "--steps", "200"],
                              [out + ".npy"]))
    # a batch: the images of the most common shape, stacked
    shape, stack = max(by_shape.items(), key=lambda kv: len(kv[1]))
    batch = os.path.join(workdir, "batch.npy")
    save_npy(batch, (len(stack),) + shape, [v for values in stack for v in values])
    for backend in backends:
        for fmt in ["csv", "json"]:
            items.append((f"diagram batch {fmt} {backend}",
                          ["diagram", batch, "--batch", "-f", fmt, "-b", backend, "-o", out], [out]))
    for path in volumes:
        name, shape, values = load_golden(path)
        npy = os.path.join(workdir, name + ".npy")
        save_npy(npy, shape, values)
        probability = os.path.join(workdir, name + "_p.npy")
        save_npy(probability, shape, unit(values))
        for backend in backends:
            for c in ["v", "t"]:
                for sup in ([], ["--superlevel"]):
                    for fmt in ["csv", "json"]:
                        items.append((f"diagram {name} {c} {sup} {fmt} {backend}",
                                      ["diagram", npy, "-c", c, "-f", fmt, "-b", backend, "-o", out] + sup,
                                      [out]))
            items.append((f"loss {name} 1,0,1 {backend}",
                          ["loss", probability, "--betti", "1,0,1", "-b", backend, "--gradient", out + ".npy"],
                          [out + ".npy"]))
    items.append(("diagram of the bundled sample", ["diagram", "-b", backends[0]], []))
    return items


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--backend", nargs="+", default=["cpu"], choices=["cpu", "gpu"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        items = calls(workdir, args.backend)
        differences = 0
        for label, call, outputs in items:
            before = run(args.before, call, outputs)
            after = run(args.after, call, outputs)
            if before != after:
                differences += 1
                what = "exit status" if before[0] != after[0] else "stdout" if before[1] != after[1] else "output file"
                print(f"DIFFERENT ({what}): {label}")
        print(f"{len(items)} calls compared, {differences} different")
        sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
