#!/usr/bin/env python3
"""Time wgpu-persistence next to GUDHI and CubicalRipser on the same images, in one run.

For each image (uniform noise and smoothed noise, seed-fixed numpy, float32; 1024x1024 by default):

  ours        target/release/wgpu-persistence time IMAGE.npy --backend cpu|gpu --construction v|t
              (in-process timing: load once, --warmup untimed runs, then --repeat runs; median and min)
  GUDHI new   gudhi.sklearn.cubical_persistence.CubicalPersistence (T), GUDHI 3.13's 2D code; when
              scikit-learn is missing, the function it calls for a 2D top-cell image,
              gudhi._pers_cub_low_dim_ext._persistence_on_rectangle_from_top_cells
  GUDHI old   gudhi.CubicalComplex(top_dimensional_cells=...) + persistence() (T)
  CubicalRipser  cripser.computePH(img, maxdim=1) (V)
  ours (python)  wgpu_persistence.persistence(img, construction=..., backend="cpu"), our Python package
              (pip install .), when it imports: the same CPU backend called from Python
  torch-topological  torch_topological.nn.CubicalComplex()(tensor) (T, through GUDHI), when it imports

Volumes (--volumes, default 64 and 128 voxels a side; uniform and smoothed noise): ours (CPU
backend, V and T, all three dimensions) against CubicalRipser's full computePH(vol, maxdim=2) (V)
and, up to --gudhi-volume-max voxels a side, GUDHI's CubicalComplex (T), with the same pair-count
checks in H0, H1 and H2.

Then a training batch (64 probability maps of 256x256 by default, superlevel as the loss uses): ours
on the whole batch in one call (diagrams, and the loss with its gradient map, end to end; one core
and all cores), the references in a Python loop over the maps (diagrams only).

For the 2D images the CPU measurements (ours, GUDHI new, CubicalRipser) are made in --rounds
interleaved rounds (default 3), and each figure is the median of its rounds' medians: the shared VM
this was written on has slow phases that last seconds, and a library timed in one block can fall into
one. The Python libraries are timed with time.perf_counter: --warmup untimed runs (default 3, the same
number for every library on the 2D images and the batch; one for volumes and for our GPU backend),
then the median of --repeat runs, single-threaded (OMP_NUM_THREADS=1 and friends; the process and its children are pinned to one
CPU unless --no-pin). The same script checks that the numbers of finite pairs with birth != death in
H0 and H1 agree between ours (CPU diagram, GPU pair counts) and each reference of the same
construction, and says MISMATCH loudly when they do not.

Usage:
  python3 scripts/side_by_side.py                    # 1024x1024, repeat 5
  python3 scripts/side_by_side.py --sizes 1024 512 --repeat 7
  python3 scripts/side_by_side.py --quick            # repeat 2, no GUDHI old path
  python3 scripts/side_by_side.py --batch 16 128     # a smaller training batch (--no-batch: none)
  python3 scripts/side_by_side.py --criterion        # only print criterion medians from target/criterion
  python3 scripts/side_by_side.py --sizes 256 --no-batch --volumes 64 128 --volume-repeat 3
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "TBB_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import glob  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "target", "release", "wgpu-persistence")

try:  # our Python package, when installed in the running Python (pip install .)
    import wgpu_persistence as ours_py  # noqa: E402
except ImportError:
    ours_py = None


def torch_topological_fn(img):
    """torch-topological's cubical complex on one image (T, through GUDHI), or None."""
    try:
        import torch
        from torch_topological.nn import CubicalComplex
    except ImportError:
        return None
    complex_ = CubicalComplex()
    x = torch.from_numpy(np.ascontiguousarray(img))
    fn = lambda: [info.diagram.detach().numpy() for info in complex_(x)]  # noqa: E731
    try:
        fn()
    except Exception as e:  # torch-topological 0.1.9 hands GUDHI 3.13 a tensor it refuses
        TORCH_TOPOLOGICAL_FAILED.add(f"{type(e).__name__}: {str(e).splitlines()[0]}")
        return None
    return fn


TORCH_TOPOLOGICAL_FAILED = set()


def table_counts(table):
    """Finite pairs with birth != death, per dimension 0 and 1, of one of our Python tables."""
    finite = (table[:, 4] >= 0) & (table[:, 1] != table[:, 2])
    return [int(np.sum(finite & (table[:, 0] == k))) for k in (0, 1)]


# ---------------------------------------------------------------------------------------------
# Images

def box_blur(a, r):
    """One separable box-blur pass of radius r, edges clamped (as benches/stages.rs)."""
    k = 2 * r + 1
    for axis in (1, 0):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (r + 1, r)
        c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis)
        n = a.shape[axis]
        hi = np.take(c, np.arange(k, k + n), axis=axis)
        lo = np.take(c, np.arange(0, n), axis=axis)
        a = (hi - lo) / k
    return a


def make_images(sizes):
    images = []
    for n in sizes:
        rng = np.random.default_rng(1000 + n)
        noise = rng.random((n, n))
        smooth = noise
        for _ in range(3):
            smooth = box_blur(smooth, 4)
        images.append((f"noise {n}x{n}", np.ascontiguousarray(noise, dtype=np.float32)))
        images.append((f"smooth {n}x{n}", np.ascontiguousarray(smooth, dtype=np.float32)))
    return images


# ---------------------------------------------------------------------------------------------
# Counting

def finite_counts(diagrams):
    """Finite pairs with birth != death, per dimension 0 and 1. diagrams: [array (k,2), ...]."""
    out = []
    for d in diagrams:
        d = np.asarray(d, dtype=np.float64).reshape(-1, 2)
        ok = np.isfinite(d).all(axis=1) & (np.abs(d).max(axis=1, initial=0) < 1e300) & (d[:, 0] != d[:, 1])
        out.append(int(ok.sum()))
    return out


def ours_csv_counts(path, construction):
    """Finite pairs with birth != death per dimension, and all pairs per dimension, from our CSV."""
    res = subprocess.run([CLI, "diagram", path, "--backend", "cpu", "--construction", construction],
                         check=True, capture_output=True, text=True)
    lines = res.stdout.splitlines()
    assert lines[0] == "dim,birth,death,birth_index,death_index", lines[0]
    finite, total = [0, 0], [0, 0]
    for line in lines[1:]:
        dim, birth, death, _, _ = line.split(",")
        k = int(dim)
        total[k] += 1
        b, d = float(birth), float(death)
        if np.isfinite(d) and b != d:
            finite[k] += 1
    return finite, total


# ---------------------------------------------------------------------------------------------
# Timing

def time_python(fn, repeat, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), result


def all_cpus():
    """preexec_fn: let a child use every CPU even when this process is pinned to one."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, range(os.cpu_count() or 1))


def time_ours(path, backend, construction, repeat, extra=(), all_cores=False, warmup=1):
    res = subprocess.run([CLI, "time", path, "--backend", backend, "--construction", construction,
                          "--repeat", str(repeat), "--warmup", str(warmup), *extra],
                         capture_output=True, text=True,
                         preexec_fn=all_cpus if all_cores else None)
    if res.returncode != 0:
        return None, res.stderr.strip()
    return json.loads(res.stdout.strip().splitlines()[-1]), res.stderr.strip()


def gudhi_new_fn(img):
    try:
        from gudhi.sklearn.cubical_persistence import CubicalPersistence
        cp = CubicalPersistence(homology_dimensions=[0, 1], n_jobs=1)
        return (lambda: cp.fit_transform([img])[0]), "CubicalPersistence.fit_transform"
    except ImportError:
        from gudhi._pers_cub_low_dim_ext import _persistence_on_rectangle_from_top_cells as f
        return (lambda: f(img, 0.0)), "_persistence_on_rectangle_from_top_cells (sklearn missing)"


def gudhi_old(img):
    import gudhi
    cc = gudhi.CubicalComplex(top_dimensional_cells=img)
    cc.persistence(homology_coeff_field=2, min_persistence=0)
    return [cc.persistence_intervals_in_dimension(k) for k in (0, 1)]


def cripser_run(img):
    import cripser
    r = cripser.computePH(img, maxdim=1)
    return [r[r[:, 0] == k][:, 1:3] for k in (0, 1)]


def cripser_volume(vol):
    import cripser
    r = cripser.computePH(vol, maxdim=2)
    return [r[r[:, 0] == k][:, 1:3] for k in (0, 1, 2)]


def gudhi_volume(vol):
    import gudhi
    cc = gudhi.CubicalComplex(top_dimensional_cells=vol)
    cc.persistence(homology_coeff_field=2, min_persistence=0)
    return [cc.persistence_intervals_in_dimension(k) for k in (0, 1, 2)]


def make_volumes(sizes):
    out = []
    for n in sizes:
        rng = np.random.default_rng(3000 + n)
        out.append((f"uniform noise {n}^3", rng.random((n, n, n)).astype(np.float32)))
        a = rng.random((n, n, n))
        for axis in range(3):
            for _ in range(2):
                a = (np.roll(a, 1, axis) + a + np.roll(a, -1, axis)) / 3.0
        out.append((f"smoothed noise {n}^3", a.astype(np.float32)))
    return out


def run_volumes(args, tmp, checks):
    """Ours (CPU) on volumes against CubicalRipser (V) and, for small ones, GUDHI (T)."""
    rows, ratios = [], []
    for name, vol in make_volumes(args.volumes):
        path = os.path.join(tmp, name.replace(" ", "_").replace("^", "") + ".npy")
        np.save(path, vol)
        med, counts = {}, {}
        for all_cores in (False, True):
            for construction in ("v", "t"):
                report, err = time_ours(path, "cpu", construction, args.volume_repeat, all_cores=all_cores)
                if report is None:
                    print(f"ours cpu {construction} on {name} failed: {err}", file=sys.stderr)
                    continue
                k = [report["pairs"][0] - 1, *report["pairs"][1:]]
                counts[("ours", construction)] = k
                med[(construction, all_cores)] = report["median_s"]
                lib = "ours (cpu, all cores)" if all_cores else "ours (cpu)"
                rows.append((name, lib, construction.upper(), report["median_s"], report["min_s"], k))
        vol64 = vol.astype(np.float64)
        m, lo, res = time_python(lambda: cripser_volume(vol64), args.volume_repeat)
        med["cripser"] = m
        counts[("CubicalRipser", "v")] = finite_counts(res)
        rows.append((name, "CubicalRipser computePH (maxdim=2)", "V", m, lo, counts[("CubicalRipser", "v")]))
        if max(vol.shape) <= args.gudhi_volume_max:
            m, lo, res = time_python(lambda: gudhi_volume(vol64), args.volume_repeat)
            med["gudhi"] = m
            counts[("GUDHI", "t")] = finite_counts(res)
            rows.append((name, "GUDHI CubicalComplex.persistence", "T", m, lo, counts[("GUDHI", "t")]))
        for (lib, construction), k in counts.items():
            if lib == "ours":
                continue
            ours = counts.get(("ours", construction))
            checks.append(f"{'ok' if k == ours else 'MISMATCH'} {name} {construction.upper()}: finite pairs "
                          f"with birth != death (H0, H1, H2): ours {ours}, {lib} {k}")
        ratios.append(f"| {name} | {ratio(med.get('cripser'), med.get(('v', False)))} | "
                      f"{ratio(med.get('cripser'), med.get(('v', True)))} | "
                      f"{ratio(med.get('gudhi'), med.get(('t', False)))} |")
        print(f"done: {name}", file=sys.stderr)
    return rows, ratios


# ---------------------------------------------------------------------------------------------
# Machine

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def version(pkg):
    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def git_rev():
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return rev + (" (working tree has uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# ---------------------------------------------------------------------------------------------
# Criterion summary

def criterion_table():
    rows = []
    for path in sorted(glob.glob(os.path.join(ROOT, "target", "criterion", "**", "new", "estimates.json"),
                                 recursive=True)):
        bench_dir = os.path.dirname(os.path.dirname(path))
        bench = os.path.join(bench_dir, "new", "benchmark.json")
        try:
            with open(bench) as f:
                name = json.load(f)["full_id"]
        except (OSError, KeyError, ValueError):
            name = os.path.relpath(bench_dir, os.path.join(ROOT, "target", "criterion"))
        with open(path) as f:
            est = json.load(f)
        runs = "?"
        try:
            with open(os.path.join(bench_dir, "new", "sample.json")) as f:
                sample = json.load(f)
            iters, times = sample["iters"], sample["times"]
            # --quick stops after one run of a slow bench and stores it twice, 1 ns apart
            if len(iters) == 2 and iters[0] == iters[1] and abs(times[1] - times[0]) < 2:
                runs = f"{int(iters[0])} (--quick)"
            else:
                runs = str(int(sum(iters)))
        except (OSError, KeyError, ValueError):
            pass
        rows.append((name, est["median"]["point_estimate"] * 1e-9, est["mean"]["point_estimate"] * 1e-9,
                     runs, datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)))
    if not rows:
        print("no criterion results under target/criterion (run cargo bench --bench stages first)")
        return
    print("| bench | median | mean | timed runs | measured (UTC) |")
    print("|---|---:|---:|---:|---|")
    for name, med, mean, runs, when in rows:
        print(f"| `{name}` | {fmt_s(med)} | {fmt_s(mean)} | {runs} | {when:%Y-%m-%d %H:%M} |")


def fmt_s(s):
    if s is None:
        return "-"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} µs"


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "-"


# ---------------------------------------------------------------------------------------------
# Training batch

def make_batch(b, n):
    rng = np.random.default_rng(2000 + n)
    maps = []
    for _ in range(b):
        m = rng.random((n, n))
        for _ in range(3):
            m = box_blur(m, 4)
        maps.append((m - m.min()) / (m.max() - m.min()))
    return np.ascontiguousarray(np.array(maps), dtype=np.float32)


def run_batch(args, tmp, repeat, gpu_repeat, checks, adapters):
    """Ours on a whole batch (diagrams; loss + gradient) against the references one map at a time."""
    b, n = args.batch
    maps = make_batch(b, n)
    path = os.path.join(tmp, "batch.npy")
    np.save(path, maps)
    label = f"{b} x {n}x{n}"
    rows, med, ours_pairs = [], {}, {}

    def row(lib, construction, what, m, lo, k):
        kk = f"{k[0]}, {k[1]}" if k else "-"
        rows.append(f"| {label} | {lib} | {construction} | {what} | {fmt_s(m)} | {fmt_s(lo)} | {kk} |")

    runs = [("cpu", False), ("cpu", True)] + ([] if args.no_gpu else [("gpu", False)])
    for backend, all_cores in runs:
        cores = ", all cores" if all_cores else ""
        count = repeat if backend == "cpu" else gpu_repeat
        for construction, what, extra in (("t", "diagrams", ["--superlevel"]),
                                           ("v", "diagrams", ["--superlevel"]),
                                           ("v", "loss + gradient", ["--loss", "1,0"])):
            report, err = time_ours(path, backend, construction, count, ["--batch", *extra], all_cores,
                                    warmup=args.warmup if backend == "cpu" else 1)
            if report is None:
                print(f"ours {backend} batch {construction} {what} failed: {err}", file=sys.stderr)
                continue
            if backend == "gpu":
                adapters.add(report["adapter"])
            # the essential class of each map is not a finite pair
            k = [report["pairs"][0] - b, report["pairs"][1]]
            ours_pairs[construction] = k
            med[(backend, all_cores, construction, what)] = report["median_s"]
            row(f"ours ({backend}{cores})", construction.upper(), what, report["median_s"], report["min_s"], k)
    if ours_py is not None:
        m, lo, res = time_python(lambda: ours_py.persistence_batch(maps, superlevel=True, backend="cpu"),
                                 repeat, args.warmup)
        med["py diagrams"] = m
        row("ours (python, cpu)", "V", "diagrams", m, lo, np.sum([table_counts(t) for t in res], axis=0).tolist())
        m, lo, _ = time_python(lambda: ours_py.topological_loss_batch(maps, [1, 0], backend="cpu"),
                               repeat, args.warmup)
        med["py loss"] = m
        row("ours (python, cpu)", "V", "loss + gradient", m, lo, None)
    neg = [np.ascontiguousarray(-m) for m in maps]  # superlevel = sublevel of -f
    fn_new = [gudhi_new_fn(m)[0] for m in neg]
    m, lo, res = time_python(lambda: [f() for f in fn_new], repeat, args.warmup)
    med["gudhi_new"] = m
    k = np.sum([finite_counts(r) for r in res], axis=0).tolist()
    row("GUDHI new 2D code, one map at a time", "T", "diagrams", m, lo, k)
    checks.append(f"{'ok' if k == ours_pairs.get('t') else 'MISMATCH'} batch {label} T superlevel: finite "
                  f"pairs with birth != death (H0, H1): ours {ours_pairs.get('t')}, GUDHI new {k}")
    m, lo, res = time_python(lambda: [cripser_run(x) for x in neg], repeat, args.warmup)
    med["cripser"] = m
    k = np.sum([finite_counts(r) for r in res], axis=0).tolist()
    row("CubicalRipser computePH, one map at a time", "V", "diagrams", m, lo, k)
    checks.append(f"{'ok' if k == ours_pairs.get('v') else 'MISMATCH'} batch {label} V superlevel: finite "
                  f"pairs with birth != death (H0, H1): ours {ours_pairs.get('v')}, CubicalRipser {k}")
    ratios = [f"| ours-python / ours-cpu, one core (loss + gradient, V) | "
              f"{ratio(med.get('py loss'), med.get(('cpu', False, 'v', 'loss + gradient')))} |"]
    tt = [torch_topological_fn(-x) for x in maps]
    if not args.quick and all(f is not None for f in tt):
        m, lo, res = time_python(lambda: [f() for f in tt], max(1, repeat // 2), 1)
        med["torch_topological"] = m
        row("torch-topological CubicalComplex, one map at a time", "T", "diagrams", m, lo,
            np.sum([finite_counts(r) for r in res], axis=0).tolist())
        ratios.append(f"| torch-topological (diagrams) / ours-python, one core (loss + gradient, V) | "
                      f"{ratio(med.get('torch_topological'), med.get('py loss'))} |")
    for cores, name in ((False, "ours-cpu, one core"), (True, "ours-cpu, all cores")):
        ratios.append(f"| GUDHI new (diagrams) / {name} (diagrams, T) | "
                      f"{ratio(med.get('gudhi_new'), med.get(('cpu', cores, 't', 'diagrams')))} |")
        ratios.append(f"| CubicalRipser (diagrams) / {name} (diagrams, V) | "
                      f"{ratio(med.get('cripser'), med.get(('cpu', cores, 'v', 'diagrams')))} |")
        ratios.append(f"| CubicalRipser (diagrams) / {name} (loss + gradient, V) | "
                      f"{ratio(med.get('cripser'), med.get(('cpu', cores, 'v', 'loss + gradient')))} |")
    print(f"done: batch {label}", file=sys.stderr)
    return rows, ratios


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[1024],
                    help="image sides (default 1024; none: skip the 2D images)")
    ap.add_argument("--repeat", type=int, default=None, help="timed runs per measurement (default 5)")
    ap.add_argument("--gpu-repeat", type=int, default=None,
                    help="timed runs for our GPU backend (default: min(repeat, 3); lavapipe is slow)")
    ap.add_argument("--quick", action="store_true", help="repeat 2, one round, and skip the GUDHI old path")
    ap.add_argument("--rounds", type=int, default=None,
                    help="interleaved rounds of the CPU measurements of each 2D image (ours, GUDHI new, "
                         "CubicalRipser); each figure is the median of its rounds' medians (default 3)")
    ap.add_argument("--batch", type=int, nargs=2, default=[64, 256], metavar=("B", "SIZE"),
                    help="training batch: B maps of SIZE x SIZE (default 64 256)")
    ap.add_argument("--no-batch", action="store_true", help="skip the training-batch comparison")
    ap.add_argument("--volumes", type=int, nargs="*", default=[64, 128], metavar="SIDE",
                    help="volume sides (default 64 128; none: skip volumes)")
    ap.add_argument("--volume-repeat", type=int, default=3, help="timed runs per volume measurement")
    ap.add_argument("--warmup", type=int, default=3,
                    help="untimed runs before the timed ones, for every library, on the 2D images and the "
                         "batch (default 3: glibc's malloc takes a few calls to settle its thresholds, "
                         "until which large results fault in fresh pages; volumes and our GPU backend: 1)")
    ap.add_argument("--gudhi-volume-max", type=int, default=64,
                    help="time GUDHI's CubicalComplex on volumes up to this side (default 64)")
    ap.add_argument("--no-gpu", action="store_true", help="skip our GPU backend")
    ap.add_argument("--no-build", action="store_true",
                    help="do not run cargo build --release first (when the CLI exists)")
    ap.add_argument("--no-pin", action="store_true", help="do not pin to one CPU")
    ap.add_argument("--criterion", action="store_true",
                    help="only print the criterion medians found under target/criterion")
    args = ap.parse_args()
    if args.criterion:
        criterion_table()
        return 0
    repeat = args.repeat or (2 if args.quick else 5)
    if args.rounds is not None and args.rounds < 1:
        ap.error("--rounds must be at least 1")
    if args.warmup < 1:
        ap.error("--warmup must be at least 1")
    args.rounds = args.rounds or (1 if args.quick else 3)
    gpu_repeat = args.gpu_repeat or min(repeat, 3)

    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp())  # silences Mesa's warning
    pinned = "not pinned"
    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        cpu = max(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})  # inherited by the CLI processes
        pinned = f"pinned to CPU {cpu}"

    if not args.no_build or not os.path.exists(CLI):
        # cheap when up to date; keeps the binary in step with the working tree
        print("cargo build --release", file=sys.stderr)
        built = subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT).returncode == 0
        if not built:
            if not os.path.exists(CLI):
                print("error: cargo build --release failed and there is no CLI to time", file=sys.stderr)
                return 2
            print("warning: cargo build --release failed; timing the existing (older) CLI", file=sys.stderr)

    import cripser  # noqa: F401
    import gudhi

    ours_version = subprocess.run([CLI, "--version"], capture_output=True, text=True).stdout.strip()
    print("# side by side")
    print()
    print(f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; commit {git_rev()}")
    print(f"- CPU: {cpu_model()}, {os.cpu_count()} cores, memory {memory_gib()}; this run {pinned}, "
          f"OMP_NUM_THREADS=1; load average at start {os.getloadavg()[0]:.2f}")
    print(f"- {ours_version}; GUDHI {gudhi.__version__}; CubicalRipser (cripser) {version('cripser')}; "
          f"numpy {np.__version__}; scikit-learn {version('scikit-learn')}; Python {platform.python_version()}")
    print(f"- repeats: {repeat} (after {args.warmup} untimed runs for every library on the 2D images and the "
          f"batch, one for volumes and our GPU backend; ours: in-process), "
          f"GPU backend {gpu_repeat}; 2D images: CPU measurements in {args.rounds} interleaved rounds "
          f"(median of the rounds' medians; min over all runs)")
    print()

    rows, checks, adapters = [], [], set()
    gudhi_new_label = None
    with tempfile.TemporaryDirectory() as tmp:
        for name, img in make_images(args.sizes):
            path = os.path.join(tmp, name.replace(" ", "_") + ".npy")
            np.save(path, img)
            med, counts, totals = {}, {}, {}
            for construction in ("v", "t"):
                counts[("ours", construction)], totals[construction] = ours_csv_counts(path, construction)
            # the CPU measurements in interleaved rounds: this shared VM has slow phases that last
            # seconds, and one library timed in one block can fall into one; each figure is the median
            # of its rounds' medians (min: the least over all runs)
            per = {}

            def add(key, m, lo):
                per.setdefault(key, []).append((m, lo))

            fn, gudhi_new_label = gudhi_new_fn(img)
            for round_index in range(args.rounds):
                for construction in ("v", "t"):
                    report, err = time_ours(path, "cpu", construction, repeat, warmup=args.warmup)
                    if report is None:
                        print(f"ours cpu {construction} on {name} failed: {err}", file=sys.stderr)
                        continue
                    add(("cpu", construction), report["median_s"], report["min_s"])
                    if report["pairs"] != totals[construction] and round_index == 0:
                        checks.append(f"MISMATCH {name} {construction.upper()}: ours cpu reports pairs "
                                      f"{report['pairs']}, our CPU diagram has {totals[construction]}")
                if ours_py is not None:
                    for construction in ("v", "t"):
                        m, lo, res = time_python(
                            lambda: ours_py.persistence(img, construction=construction, backend="cpu"),
                            repeat, args.warmup)
                        add(("py", construction), m, lo)
                        counts[("ours (python)", construction)] = table_counts(res)
                m, lo, res = time_python(fn, repeat, args.warmup)
                add("gudhi_new", m, lo)
                counts[("GUDHI new", "t")] = finite_counts(res)
                m, lo, res = time_python(lambda: cripser_run(img), repeat, args.warmup)
                add("cripser", m, lo)
                counts[("CubicalRipser", "v")] = finite_counts(res)

            def summary(key):
                ms = [m for m, _ in per[key]]
                return statistics.median(ms), min(lo for _, lo in per[key])

            for construction in ("v", "t"):
                if ("cpu", construction) in per:
                    m, lo = summary(("cpu", construction))
                    med[("cpu", construction)] = m
                    rows.append((name, "ours (cpu)", construction.upper(), m, lo,
                                 counts[("ours", construction)]))
                if ("py", construction) in per:
                    m, lo = summary(("py", construction))
                    med[("py", construction)] = m
                    rows.append((name, "ours (python, cpu)", construction.upper(), m, lo,
                                 counts[("ours (python)", construction)]))
                if args.no_gpu:
                    continue
                report, err = time_ours(path, "gpu", construction, gpu_repeat)
                if report is None:
                    print(f"ours gpu {construction} on {name} failed: {err}", file=sys.stderr)
                    continue
                adapters.add(report["adapter"])
                med[("gpu", construction)] = report["median_s"]
                rows.append((name, "ours (gpu)", construction.upper(), report["median_s"],
                             report["min_s"], counts[("ours", construction)]))
                if report["pairs"] != totals[construction]:
                    checks.append(f"MISMATCH {name} {construction.upper()}: ours gpu reports pairs "
                                  f"{report['pairs']}, our CPU diagram has {totals[construction]}")
            m, lo = summary("gudhi_new")
            med["gudhi_new"] = m
            rows.append((name, "GUDHI new 2D code", "T", m, lo, counts[("GUDHI new", "t")]))
            if not args.quick:
                m, lo, res = time_python(lambda: gudhi_old(img), repeat)
                counts[("GUDHI old", "t")] = finite_counts(res)
                rows.append((name, "GUDHI CubicalComplex.persistence", "T", m, lo, counts[("GUDHI old", "t")]))
            m, lo = summary("cripser")
            med["cripser"] = m
            rows.append((name, "CubicalRipser computePH", "V", m, lo, counts[("CubicalRipser", "v")]))
            tt = None if args.quick else torch_topological_fn(img)
            if tt is not None:
                m, lo, res = time_python(tt, repeat, 1)
                med["torch_topological"] = m
                counts[("torch-topological", "t")] = finite_counts(res)
                rows.append((name, "torch-topological CubicalComplex", "T", m, lo,
                             counts[("torch-topological", "t")]))
            for (lib, construction), k in counts.items():
                if lib == "ours":
                    continue
                ours = counts[("ours", construction)]
                status = "ok" if k == ours else "MISMATCH"
                checks.append(f"{status} {name} {construction.upper()}: finite pairs with birth != death "
                              f"(H0, H1): ours {ours}, {lib} {k}")
            rows.append((name, "ratios", None, med, None, None))
            print(f"done: {name}", file=sys.stderr)

        volume_rows, volume_ratios = [], []
        if args.volumes:
            volume_rows, volume_ratios = run_volumes(args, tmp, checks)
        batch_rows, batch_ratios = [], []
        if not args.no_batch:
            batch_rows, batch_ratios = run_batch(args, tmp, repeat, gpu_repeat, checks, adapters)

    print(f"GPU adapter reported by our GPU runs: {', '.join(sorted(adapters)) or 'none (skipped)'}")
    print(f"GUDHI new 2D code timed through: {gudhi_new_label}")
    if TORCH_TOPOLOGICAL_FAILED:
        print(f"torch-topological installed but failed, so it has no row: {'; '.join(sorted(TORCH_TOPOLOGICAL_FAILED))}")
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    print()
    print("| image | library / backend | construction | median | min | finite pairs H0, H1 |")
    print("|---|---|---|---:|---:|---|")
    ratio_lines = []
    for name, lib, construction, m, lo, k in rows:
        if lib == "ratios":
            med = m
            ratio_lines.append(
                f"| {name} | {ratio(med.get('gudhi_new'), med.get(('cpu', 't')))} | "
                f"{ratio(med.get('cripser'), med.get(('cpu', 'v')))} | "
                f"{ratio(med.get(('gpu', 'v')), med.get(('cpu', 'v')))} | "
                f"{ratio(med.get(('gpu', 't')), med.get(('cpu', 't')))} | "
                f"{ratio(med.get(('py', 'v')), med.get(('cpu', 'v')))} | "
                f"{ratio(med.get('torch_topological'), med.get(('py', 't')))} |")
            continue
        kk = f"{k[0]}, {k[1]}" if k else "-"
        print(f"| {name} | {lib} | {construction} | {fmt_s(m)} | {fmt_s(lo)} | {kk} |")
    print()
    print("Ratios of medians (above 1: ours-cpu is faster; GPU columns: above 1, the GPU backend is slower):")
    print()
    print("| image | GUDHI new / ours-cpu (T) | CubicalRipser / ours-cpu (V) | ours-gpu / ours-cpu (V) "
          "| ours-gpu / ours-cpu (T) | ours-python / ours-cpu (V) | torch-topological / ours-python (T) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for line in ratio_lines:
        print(line)
    if volume_rows:
        print()
        print("Volumes (all three dimensions; ours: CPU backend, in-process timing after one warm-up):")
        print()
        print("| volume | library / backend | construction | median | min | finite pairs H0, H1, H2 |")
        print("|---|---|---|---:|---:|---|")
        for name, lib, construction, m, lo, k in volume_rows:
            print(f"| {name} | {lib} | {construction} | {fmt_s(m)} | {fmt_s(lo)} | "
                  f"{', '.join(map(str, k)) if k else '-'} |")
        print()
        print("| volume | CubicalRipser / ours-cpu (V) | CubicalRipser / ours-cpu all cores (V) "
              "| GUDHI CubicalComplex / ours-cpu (T) |")
        print("|---|---:|---:|---:|")
        for line in volume_ratios:
            print(line)
    if batch_rows:
        b, n = args.batch
        print()
        print(f"Training batch: {b} probability maps of {n}x{n} (smoothed noise scaled to [0, 1]), superlevel "
              "filtration as the loss uses. Ours: one call for the whole batch (`time --batch`; with "
              "`--loss 1,0`: the loss and its gradient map, from the host array to the gradient on the "
              "host). References: a Python loop over the maps, diagrams only (no loss, no gradient).")
        print()
        print("| batch | library / backend | construction | what | median | min | finite pairs H0, H1 (sum) |")
        print("|---|---|---|---|---:|---:|---|")
        for row in batch_rows:
            print(row)
        print()
        print("| ratio of medians (above 1: ours is faster) | value |")
        print("|---|---:|")
        for line in batch_ratios:
            print(line)
    print()
    print("Pair-count checks:")
    bad = [c for c in checks if c.startswith("MISMATCH")]
    for c in checks:
        print(("!!! " if c.startswith("MISMATCH") else "    ") + c)
    if bad:
        print()
        print(f"!!! {len(bad)} MISMATCH(ES) IN PAIR COUNTS !!!")
        return 1
    print("all pair counts agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
