"""Diagrams from Python: equal to GUDHI on every golden file on both backends, the table's layout,
pixel types, batches, threads, processes made by fork, and bad inputs."""

import os
import threading
import multiprocessing as mp

import numpy as np
import pytest

import wgpu_persistence as wp
from conftest import GOLDEN_2D, GOLDEN_3D, check_indices, golden_multiset, load_golden, table_multiset

CONSTRUCTIONS_2D = {"v": "v", "t": "t", "f": "freudenthal"}


def test_golden_files_are_there():
    assert len(GOLDEN_2D) >= 20 and len(GOLDEN_3D) >= 8


@pytest.mark.parametrize("path", GOLDEN_2D, ids=lambda p: p.stem)
def test_images_equal_gudhi(path, backend):
    case, x = load_golden(path)
    for tag, construction in CONSTRUCTIONS_2D.items():
        for superlevel in (False, True):
            name = f"{tag}_{'super' if superlevel else 'sub'}"
            table = wp.persistence(x, construction=construction, superlevel=superlevel, backend=backend)
            assert table.dtype == np.float64 and table.shape[1] == 5
            check_indices(x, table, superlevel)
            for dim in (0, 1):
                assert table_multiset(table, dim) == golden_multiset(case["diagrams"][name], dim), (
                    f"{path.name} {name} H{dim} on {backend}"
                )


@pytest.mark.parametrize("path", GOLDEN_3D, ids=lambda p: p.stem)
def test_volumes_equal_gudhi(path, backend):
    case, x = load_golden(path)
    for construction in ("v", "t"):
        for superlevel in (False, True):
            name = f"{construction}_{'super' if superlevel else 'sub'}"
            table = wp.persistence(x, construction=construction, superlevel=superlevel, backend=backend)
            check_indices(x, table, superlevel)
            for dim in (0, 1, 2):
                assert table_multiset(table, dim) == golden_multiset(case["diagrams"][name], dim), (
                    f"{path.name} {name} H{dim} on {backend}"
                )


def ties(shape, levels, seed):
    return np.random.default_rng(seed).integers(0, levels, size=shape).astype(np.float32)


def test_backends_agree_row_for_row():
    for seed, shape in enumerate([(1, 1), (1, 17), (17, 1), (33, 65), (8, 9, 10)]):
        x = ties(shape, 4, seed)
        for construction in ("v", "t") + (("freudenthal",) if len(shape) == 2 else ()):
            a = wp.persistence(x, construction=construction, backend="cpu")
            b = wp.persistence(x, construction=construction, backend="gpu")
            assert np.array_equal(a, b), (shape, construction)


def test_keep_zero_keeps_every_pixel_pair():
    x = ties((12, 13), 3, 7)
    table = wp.persistence(x, keep_zero=True)
    # in V every pixel creates a component: one H0 row per pixel
    assert (table[:, 0] == 0).sum() == x.size
    assert (wp.persistence(x)[:, 1] != wp.persistence(x)[:, 2]).all()


@pytest.mark.parametrize(
    "dtype", ["float32", "float64", "uint8", "uint16", "int16", "int32", "bool", "int8", "float16", "int64", "uint32"]
)
def test_pixel_types(dtype):
    x = ties((11, 14), 2 if dtype == "bool" else 5, 3)
    want = wp.persistence(x)
    got = wp.persistence(x.astype(dtype))
    assert np.array_equal(got, want), dtype


def test_array_likes_and_layouts():
    x = ties((10, 12), 6, 11)
    want = wp.persistence(x)
    assert np.array_equal(wp.persistence(x.tolist()), want)
    assert np.array_equal(wp.persistence(np.asfortranarray(x)), want)
    assert np.array_equal(wp.persistence(x.astype(">f4")), want)
    big = np.zeros((20, 24), np.float32)
    big[::2, ::2] = x
    assert np.array_equal(wp.persistence(big[::2, ::2]), want)


def test_batch_equals_one_by_one(backend):
    x = ties((2, 3, 9, 11), 4, 5)
    tables = wp.persistence_batch(x, superlevel=True, backend=backend)
    assert len(tables) == 6
    for table, item in zip(tables, x.reshape(6, 9, 11)):
        assert np.array_equal(table, wp.persistence(item, superlevel=True, backend=backend))
    volumes = ties((3, 4, 5, 6), 3, 6)
    tables = wp.persistence_batch(volumes, spatial_dims=3, construction="t", backend=backend)
    for table, item in zip(tables, volumes):
        assert np.array_equal(table, wp.persistence(item, construction="t", backend=backend))


def test_threads_get_the_serial_answers():
    images = [ties((64, 64), 8, s) for s in range(16)]
    want = [wp.persistence(x) for x in images]
    got = [None] * len(images)

    def work(i):
        got[i] = wp.persistence(images[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(images))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(a, b) for a, b in zip(got, want))


def _child(backend, queue):
    x = ties((40, 40), 5, 1)
    queue.put((os.getpid(), wp.persistence(x, backend=backend).tolist()))


@pytest.mark.parametrize("child_backend", ["cpu", "auto", "gpu"])
def test_forked_child_computes(child_backend, backend):
    # the parent has a context and a thread pool before the fork: the child must make its own
    x = ties((40, 40), 5, 1)
    want = wp.persistence(x, backend=backend)
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(child_backend, queue))
    child.start()
    pid, table = queue.get(timeout=120)
    child.join(timeout=30)
    assert child.exitcode == 0 and pid != os.getpid()
    assert np.array_equal(np.array(table), want)
    # and the parent's context still works
    assert np.array_equal(wp.persistence(x, backend=backend), want)


def test_backend_info():
    cpu = wp.backend_info("cpu")
    assert cpu["backend"] == "cpu" and cpu["adapter"] is None and cpu["threads"] >= 1
    auto = wp.backend_info()
    assert auto["backend"] in ("cpu", "gpu")
    if auto["backend"] == "cpu" and os.environ.get("WGPU_PERSISTENCE_BACKEND", "") == "":
        assert auto["fallback_reason"]  # says why: no adapter, or a software one skipped
    with pytest.raises(ValueError, match="unknown backend"):
        wp.backend_info("tpu")


@pytest.mark.parametrize(
    "x, error, message",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0]], np.float32), ValueError, "NaN at linear index 1"),
        (np.zeros((0, 4), np.float32), ValueError, "empty"),
        (np.zeros(5, np.float32), ValueError, "axes"),
        (np.float32(1), ValueError, "got 0 \\(shape \\[\\]\\)"),  # a scalar has no axes (not one)
        (np.zeros((2, 2, 2, 2), np.float32), ValueError, "axes"),
        (np.zeros((3, 3), np.complex64), TypeError, "unsupported pixel type"),
        (np.array([["a", "b"], ["c", "d"]]), TypeError, "unsupported pixel type"),
        (np.array([[0, 2**40]], np.int64), TypeError, "int32 range"),
        (np.array([[0, 2**33]], np.uint64), TypeError, "int32 range"),
    ],
)
def test_bad_inputs(x, error, message):
    with pytest.raises(error, match=message):
        wp.persistence(x)


def test_bad_arguments():
    x = np.zeros((4, 4), np.float32)
    with pytest.raises(ValueError, match="unknown construction"):
        wp.persistence(x, construction="w")
    with pytest.raises(ValueError, match="unknown backend"):
        wp.persistence(x, backend="tpu")
    with pytest.raises(ValueError):
        wp.persistence(np.zeros((3, 4, 5), np.float32), construction="freudenthal")
    with pytest.raises(ValueError, match="spatial_dims"):
        wp.persistence_batch(np.zeros((2, 4, 4), np.float32), spatial_dims=4)
    with pytest.raises(ValueError, match="at least 3 axes"):
        wp.persistence_batch(x)
    with pytest.raises(ValueError, match="empty"):
        wp.persistence_batch(np.zeros((0, 4, 4), np.float32))


GOLDEN_EXACT = sorted((GOLDEN_2D[0].parent.parent / "golden_exact").glob("*.json"))


def exact_multiset(pairs, essential):
    return sorted((float(b), float(e)) for b, e in pairs), sorted(float(b) for b in essential)


@pytest.mark.parametrize("path", GOLDEN_EXACT, ids=lambda p: p.stem)
def test_float64_and_int32_equal_gudhi_exactly(path, backend):
    # values float32 cannot hold (1e39, 2^24 + 1, 1 + 1e-12): ordered and reported exactly
    import json

    case = json.loads(path.read_text())
    x = np.array(case["data"], dtype=case["dtype"]).reshape(case["shape"])
    for construction in ("v", "t"):
        for superlevel in (False, True):
            name = f"{construction}_{'super' if superlevel else 'sub'}"
            table = wp.persistence(x, construction=construction, superlevel=superlevel, backend=backend)
            flat = x.reshape(-1).astype(np.float64)
            assert np.array_equal(flat[table[:, 3].astype(np.int64)], table[:, 1])
            for dim in range(x.ndim):
                rows = table[table[:, 0] == dim]
                finite = rows[:, 4] >= 0
                got = exact_multiset(rows[finite][:, 1:3], rows[~finite][:, 1])
                want = case["diagrams"][name][str(dim)]
                assert got == exact_multiset(want["finite"], want["essential"]), (
                    f"{path.name} {name} H{dim} on {backend}"
                )


def test_exact_golden_files_are_there():
    assert len(GOLDEN_EXACT) >= 8


def _resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="Linux only: reads /proc")
def test_memory_stays_flat_over_many_calls():
    # the CPU backend (auto on CI): 4,500 calls after a warm-up grow the process by less than 16 MiB
    x = ties((96, 96), 29, 3)
    maps = ties((4, 48, 48), 13, 4) / 12
    def calls():
        wp.persistence(x, backend="cpu")
        wp.persistence_batch(maps, superlevel=True, backend="cpu")
        wp.topological_loss_batch(maps, [1, 1], backend="cpu")
    for _ in range(50):
        calls()
    before = _resident_bytes()
    for _ in range(1500):
        calls()
    after = _resident_bytes()
    assert after < before + (16 << 20), (before, after)
