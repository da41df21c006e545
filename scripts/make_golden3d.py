#!/usr/bin/env python3
"""Generate the golden 3D persistence diagrams in tests/golden3d/.

Usage (from the repository root):

    pip install gudhi cripser numpy
    python3 scripts/make_golden3d.py

Every test case is written to tests/golden3d/<name>.json:

    {"name": ..., "shape": [D, H, W], "data": [row-major float32 values],
     "versions": {...},
     "diagrams": {"v_sub"|"v_super"|"t_sub"|"t_super":
                  {"0": {"finite": [[b, d], ...], "essential": [b, ...]},
                   "1": {...}, "2": {...}}},
     "cripser_v_sub": <one diagram like the above> or null}

Conventions are those of scripts/make_golden.py (docs/conventions.md sections 1-3), in 3D:
  * v_*: GUDHI CubicalComplex(vertices=vol) (voxels are vertices, cells take the max of their
    vertices; 6-connected components).
  * t_*: GUDHI CubicalComplex(top_dimensional_cells=vol) (voxels are cubes, lower cells take the
    min of the cubes around them; 26-connected components).
  * *_super: the sublevel filtration of -vol, values negated back.
  * Pairs with birth == death are dropped; finite pairs sorted by (birth, death). A full grid has
    one essential class, in H0; every other (birth, +inf) pair is a finite pair killed by a cell
    of value +inf.
  * cripser_v_sub: CubicalRipser's full computePH(vol, maxdim=2) (not its top_dim mode, which
    drops H2 pairs), as a second opinion for v_sub; null where a side is 1 (its V mode is wrong on
    degenerate grids).

Self-checks (the script aborts if one fails, except the cripser comparison, which warns):
  * every finite value is a voxel value; exactly one essential class, in H0;
  * H0 equals an independent union-find (elder rule) over 6- (V) or 26-neighbours (T);
  * the Euler characteristic of every sublevel set equals b0 - b1 + b2 from the diagram.
"""

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import VERSIONS, diagram_json, elder_h0, f32, jnum  # noqa: E402
from make_golden import check_euler, raw_cripser, raw_cubical, report_warnings, warn  # noqa: E402
from make_golden import to_diagram as to_diagram_2d  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "golden3d")
SEED = 20261124
DIMS = (0, 1, 2)
def to_diagram(raw, negate):
    return to_diagram_2d(raw, negate, DIMS)


def neighbours(mode):
    if mode == "v":
        return [(0, 0, 1), (0, 1, 0), (1, 0, 0)]
    out = []
    for dz in (-1, 0, 1):
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                if (dz, dy, dx) > (0, 0, 0):
                    out.append((dz, dy, dx))
    return out


def uf_h0(vol, mode):
    d, h, w = vol.shape
    a = vol.astype(np.float64).ravel()
    edges = []
    for dz, dy, dx in neighbours(mode):
        for z in range(d):
            for y in range(h):
                for x in range(w):
                    z2, y2, x2 = z + dz, y + dy, x + dx
                    if 0 <= z2 < d and 0 <= y2 < h and 0 <= x2 < w:
                        i, j = (z * h + y) * w + x, (z2 * h + y2) * w + x2
                        edges.append((max(a[i], a[j]), i, j))
    return elder_h0(a, edges)


def check_h0(vol, mode, negate, diag, label):
    src = -vol if negate else vol
    pairs, ess = uf_h0(src, mode)
    pairs = [(b, e) for b, e in pairs if b != e]
    if negate:
        pairs = [(-b, -e) for b, e in pairs]
        ess = [-b for b in ess]
    assert sorted((f32(b), f32(e)) for b, e in pairs) == diag[0]["finite"], f"{label}: H0"
    assert sorted(f32(b) for b in ess) == diag[0]["essential"], f"{label}: essential H0"


def khalimsky(vol, mode):
    """(values, dims) of every cell of the complex, on the Khalimsky grid."""
    a = vol.astype(np.float64)
    if mode == "v":
        k = a
        for axis in range(3):
            n = k.shape[axis]
            shape = list(k.shape)
            shape[axis] = 2 * n - 1
            out = np.empty(shape)
            idx = [slice(None)] * 3
            idx[axis] = slice(0, None, 2)
            out[tuple(idx)] = k
            if n > 1:
                lo = np.take(k, range(n - 1), axis=axis)
                hi = np.take(k, range(1, n), axis=axis)
                idx[axis] = slice(1, None, 2)
                out[tuple(idx)] = np.maximum(lo, hi)
            k = out
        odd = lambda n: np.arange(n) % 2
    else:
        k = a
        for axis in range(3):
            n = k.shape[axis]
            shape = list(k.shape)
            shape[axis] = 2 * n + 1
            out = np.empty(shape)
            idx = [slice(None)] * 3
            idx[axis] = slice(1, None, 2)
            out[tuple(idx)] = k
            pad_shape = list(k.shape)
            pad_shape[axis] = 1
            inf = np.full(pad_shape, np.inf)
            padded = np.concatenate([inf, k, inf], axis=axis)
            lo = np.take(padded, range(n + 1), axis=axis)
            hi = np.take(padded, range(1, n + 2), axis=axis)
            idx[axis] = slice(0, None, 2)
            out[tuple(idx)] = np.minimum(lo, hi)
            k = out
        odd = lambda n: np.arange(n) % 2
    oz, oy, ox = np.meshgrid(odd(k.shape[0]), odd(k.shape[1]), odd(k.shape[2]), indexing="ij")
    return k.ravel(), (oz + oy + ox).ravel()


def check_values(vol, diag, label):
    allowed = {f32(v) for v in vol.ravel()}
    for dim in DIMS:
        for v in [v for p in diag[dim]["finite"] for v in p] + diag[dim]["essential"]:
            assert v in allowed, f"{label}: value {v} is not a voxel value"
    assert len(diag[0]["essential"]) == 1, f"{label}: essential H0"
    assert not diag[1]["essential"] and not diag[2]["essential"], f"{label}: essential H1/H2"


def make_cases():
    rng = np.random.default_rng(SEED)
    q = lambda shape, hi: rng.integers(0, hi + 1, size=shape).astype(np.float32)
    cases = []
    add = lambda name, vol: cases.append((name, np.ascontiguousarray(vol, dtype=np.float32)))

    add("one_voxel", np.array([[[0.5]]], dtype=np.float32))
    add("line_1x1x7_q3", q((1, 1, 7), 2))
    add("column_7x1x1_q3", q((7, 1, 1), 2))
    add("slab_1x6x7_q4", q((1, 6, 7), 3))
    add("slab_5x1x6_q4", q((5, 1, 6), 3))
    add("thin_2x5x6_q3", q((2, 5, 6), 2))
    add("quant_4x5x6_q3", q((4, 5, 6), 2))
    add("ties_6x6x6_q2", q((6, 6, 6), 1))
    add("quant_7x8x9_q8", q((7, 8, 9), 7))
    add("uniform_8x8x8", rng.random((8, 8, 8)).astype(np.float32))
    add("uniform_5x9x7", rng.random((5, 9, 7)).astype(np.float32))
    add("constant_4x4x4", np.full((4, 4, 4), 2.5, dtype=np.float32))
    zz, yy, xx = np.mgrid[0:5, 0:5, 0:5]
    add("checker_5x5x5", ((zz + yy + xx) % 2).astype(np.float32))
    zz, yy, xx = np.mgrid[0:6, 0:8, 0:8]
    add("checker2_6x8x8", ((zz // 2 + yy // 2 + xx // 2) % 2).astype(np.float32))
    # a hollow box with a little noise: a void in the superlevel direction
    box = np.zeros((7, 7, 7))
    box[1:6, 1:6, 1:6] = 1.0
    box[2:5, 2:5, 2:5] = 0.0
    add("hollow_box_7", (box + 0.05 * rng.random((7, 7, 7))).astype(np.float32))
    # a soft solid torus: one component, one tunnel (H1) in the superlevel direction
    zz, yy, xx = np.mgrid[0:16, 0:16, 0:16]
    rho = np.hypot(yy - 7.5, xx - 7.5)
    torus = np.exp(-(((rho - 5.0) ** 2 + (zz - 7.5) ** 2) / 4.0))
    torus += 0.08 * rng.standard_normal((16, 16, 16))
    add("torus_16", np.clip(torus, 0.0, 1.0).astype(np.float32))
    smooth = rng.random((12, 12, 12))
    for axis in range(3):
        smooth = (np.roll(smooth, 1, axis) + smooth + np.roll(smooth, -1, axis)) / 3.0
    add("smooth_12x12x12", smooth.astype(np.float32))
    add("quant_10x10x10_q8", q((10, 10, 10), 7))
    add("uniform_24x24x24", rng.random((24, 24, 24)).astype(np.float32))
    inf_vol = rng.random((6, 6, 6))
    u = rng.random((6, 6, 6))
    inf_vol[u < 0.05] = np.inf
    inf_vol[u > 0.95] = -np.inf
    add("inf_mixed_6x6x6", inf_vol.astype(np.float32))
    return cases


def process(name, vol):
    assert vol.dtype == np.float32 and vol.ndim == 3
    diagrams = {}
    for mode in ("v", "t"):
        for sup in (False, True):
            label = f"{name}/{mode}_{'super' if sup else 'sub'}"
            src = -vol if sup else vol
            diag = to_diagram(raw_cubical(src, mode), negate=sup)
            check_values(vol, diag, label)
            check_h0(vol, mode, sup, diag, label)
            check_euler(vol, mode, sup, diag, label, cells=khalimsky)
            diagrams[f"{mode}_{'super' if sup else 'sub'}"] = diag
    crip = None
    if min(vol.shape) > 1:
        crip = to_diagram(raw_cripser(vol, maxdim=2), negate=False)
        if crip != diagrams["v_sub"]:
            warn(f"{name}: cripser.computePH and GUDHI v_sub DISAGREE")
    doc = {
        "name": name,
        "shape": list(vol.shape),
        "data": [jnum(v, keep_neg_zero=True) for v in vol.ravel()],
        "versions": VERSIONS,
        "diagrams": {k: diagram_json(v) for k, v in diagrams.items()},
        "cripser_v_sub": None if crip is None else diagram_json(crip),
    }
    with open(os.path.join(OUT_DIR, f"{name}.json"), "w") as fh:
        fh.write(json.dumps(doc, separators=(",", ":"), allow_nan=False) + "\n")
    counts = " ".join(
        f"{k}:" + "/".join(str(len(v[d]["finite"])) for d in DIMS) for k, v in diagrams.items())
    state = "-" if crip is None else "ok" if crip == diagrams["v_sub"] else "DIFF"
    print(f"{name:22s} {vol.shape}  H0/H1/H2 finite pairs  {counts}  cripser={state}")


README = """\
# Golden 3D persistence diagrams

Each `*.json` file here is one small volume (`shape` = [D, H, W], `data` = its row-major float32
values) with its reference diagrams (H0, H1, H2; finite pairs with birth != death sorted by
(birth, death), and the births of essential classes) for the sublevel and superlevel filtrations
of the V construction (`v_*`, GUDHI `CubicalComplex(vertices=...)`) and the T construction (`t_*`,
GUDHI `CubicalComplex(top_dimensional_cells=...)`), with `homology_coeff_field=2`, plus
`cripser_v_sub`, CubicalRipser's full `computePH(vol, maxdim=2)` as a second opinion (null where a
side is 1). Generated with `python3 scripts/make_golden3d.py` (deterministic), using GUDHI {gudhi},
CubicalRipser {cripser} and NumPy {numpy}; the script also checks H0 against an independent
union-find and the Euler characteristic of every sublevel set. Infinities are written as the
strings "inf" / "-inf" (only in `inf_mixed_6x6x6.json`).
"""


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    cases = make_cases()
    names = [n for n, _ in cases]
    assert len(set(names)) == len(names)
    for name, vol in cases:
        process(name, vol)
    with open(os.path.join(OUT_DIR, "README.md"), "w") as fh:
        fh.write(README.format(**VERSIONS))
    report_warnings()


if __name__ == "__main__":
    main()
