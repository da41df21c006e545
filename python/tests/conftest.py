"""Shared fixtures: the backends every test runs on, and the golden files of the Rust tests."""

import json
import os
import pathlib

import numpy as np
import pytest

import wgpu_persistence as wp

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOLDEN_2D = sorted((ROOT / "tests" / "golden").glob("*.json"))
GOLDEN_3D = sorted((ROOT / "tests" / "golden3d").glob("*.json"))


def _backends():
    # As the Rust tests: the GPU half runs on any adapter (lavapipe in CI) and fails when there is
    # none, unless WGPU_PERSISTENCE_NO_GPU=1 says this machine has none on purpose.
    if os.environ.get("WGPU_PERSISTENCE_NO_GPU") == "1":
        return ["cpu"]
    return ["cpu", "gpu"]


@pytest.fixture(params=_backends())
def backend(request):
    if request.param == "gpu":
        info = wp.backend_info("gpu")  # raises RuntimeError when there is no adapter: a failure
        assert info["backend"] == "gpu"
    return request.param


def load_golden(path):
    case = json.loads(path.read_text())
    values = np.array([float(v) for v in case["data"]], dtype=np.float32).reshape(case["shape"])
    return case, values


def golden_multiset(diagram, dim):
    """(finite pairs sorted, essential births sorted) of one dimension of a golden diagram."""
    d = diagram.get(str(dim), {})
    finite = sorted((np.float32(float(b)), np.float32(float(e))) for b, e in d.get("finite", []))
    essential = sorted(np.float32(float(b)) for b in d.get("essential", []))
    return finite, essential


def table_multiset(table, dim):
    """The same of one dimension of our table."""
    rows = table[table[:, 0] == dim]
    finite = sorted(
        (np.float32(b), np.float32(e)) for _, b, e, _, di in rows if di >= 0
    )
    essential = sorted(np.float32(b) for _, b, _, _, di in rows if di < 0)
    return finite, essential


def check_indices(x, table, superlevel):
    """Every value is the input's value at its index; essential rows die at +-inf with index -1."""
    flat = np.asarray(x).reshape(-1)
    births = table[:, 3].astype(np.int64)
    assert np.array_equal(flat[births].astype(np.float64), table[:, 1])
    finite = table[:, 4] >= 0
    assert np.array_equal(
        flat[table[finite, 4].astype(np.int64)].astype(np.float64), table[finite, 2]
    )
    never = -np.inf if superlevel else np.inf
    assert np.all(table[~finite, 2] == never)
    assert np.all(table[~finite, 4] == -1)
    assert np.all(np.diff(table[:, 0]) >= 0), "dimensions in order"
