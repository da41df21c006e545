#!/usr/bin/env python3
"""Golden diagrams of float64 and int32 inputs whose values float32 cannot hold exactly (issue 15):
tests/golden_exact/*.json, made by GUDHI on the exact values.

Each file: `name`, `dtype` ("float64" or "int32"), `shape`, `data` (row-major, exact JSON numbers:
Python writes float64 so that it reads back to the same bits), and `diagrams` with `v_sub`,
`v_super`, `t_sub`, `t_super`: per dimension the finite pairs (birth != death) sorted and the births
of essential classes, exact values (float64), from GUDHI `CubicalComplex(vertices=...)` (V) and
`CubicalComplex(top_dimensional_cells=...)` (T) with `homology_coeff_field=2` on the float64 values;
superlevel as the sublevel filtration of `-f`, reported in values of `f`.

Usage: python3 scripts/make_golden_exact.py   (needs gudhi==3.13.0 and numpy; deterministic)
"""

import json
import math
import pathlib

import gudhi
import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "golden_exact"


def cases():
    rng = np.random.default_rng(1517)
    yield "issue_f64_beyond_f32", np.array([[0, 1e39, 5, 1e40, 1]], np.float64)
    yield "issue_f64_1e300", np.array([[0, 1e300, 2, -1e300, 1, 3e299]], np.float64)
    yield "issue_i32_beyond_2p24", np.array([[0, 16777217, 16777216, 16777218, 1]], np.int32)
    # 1 + k * 1e-10: every value rounds to one or two float32s, 1000 exact levels
    yield "f64_near_ties_24x24", 1.0 + rng.integers(0, 1000, (24, 24)) * 1e-10
    yield "f64_near_ties_31x17", 1.0 + rng.integers(0, 6, (31, 17)) * 1e-12
    yield "f64_uniform_40x40", rng.random((40, 40))
    yield "i32_large_20x23", (1 << 28) + rng.integers(-50, 50, (20, 23)).astype(np.int32)
    yield "i32_wide_16x16", rng.integers(-(1 << 31), (1 << 31) - 1, (16, 16), dtype=np.int64).astype(np.int32)
    yield "f64_near_ties_6x7x8", 1.0 + rng.integers(0, 5, (6, 7, 8)) * 1e-12
    yield "i32_large_5x5x5", (1 << 26) + rng.integers(0, 7, (5, 5, 5)).astype(np.int32)


def diagram(values, mode, negate):
    f = -values if negate else values
    key = "vertices" if mode == "v" else "top_dimensional_cells"
    cc = gudhi.CubicalComplex(**{key: f})
    pers = cc.persistence(homology_coeff_field=2, min_persistence=-1)
    dims = range(values.ndim)
    out = {str(k): {"finite": [], "essential": []} for k in dims}
    for d, (b, e) in pers:
        if b == e:
            continue
        if negate:
            b, e = -b, -e
        if math.isinf(e):
            out[str(d)]["essential"].append(b)
        else:
            out[str(d)]["finite"].append([b, e])
    for k in out.values():
        k["finite"].sort()
        k["essential"].sort()
    return out


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, x in cases():
        exact = x.astype(np.float64)
        diagrams = {
            f"{mode}_{'super' if negate else 'sub'}": diagram(exact, mode, negate)
            for mode in ("v", "t")
            for negate in (False, True)
        }
        case = {
            "name": name,
            "dtype": "int32" if x.dtype == np.int32 else "float64",
            "shape": list(x.shape),
            "data": [int(v) for v in x.reshape(-1)] if x.dtype == np.int32 else [float(v) for v in x.reshape(-1)],
            "versions": {"gudhi": gudhi.__version__, "numpy": np.__version__},
            "diagrams": diagrams,
        }
        (OUT / f"{name}.json").write_text(json.dumps(case) + "\n")
        lost = np.unique(x.astype(np.float32)).size < np.unique(x).size
        print(f"{name}: {x.dtype} {x.shape}, {np.unique(x).size} values"
              f"{' (fewer in float32)' if lost else ''}")


if __name__ == "__main__":
    main()
