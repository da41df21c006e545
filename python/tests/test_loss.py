"""The topological loss and repair from NumPy: the paper's formula recomputed here from the
diagram, batches equal to single maps, both backends equal, and bad inputs."""

import numpy as np
import pytest

import wgpu_persistence as wp


def reference_loss(p, betti, construction="v", kind="squared", weights=None):
    """The loss and its gradient from the superlevel diagram, in float64, written from the paper."""
    table = wp.persistence(p, construction=construction, superlevel=True, backend="cpu")
    flat = p.reshape(-1).astype(np.float64)
    last = flat.size - 1 - int(np.argmin(flat[::-1]))  # the minimum, largest index among ties
    loss, grad = 0.0, np.zeros_like(flat)
    for k in range(int(table[:, 0].max()) + 1 if len(table) else 0):
        w = 1.0 if weights is None else weights[k]
        beta = betti[k] if k < len(betti) else 0
        feats = []
        for _, b, d, bi, di in table[table[:, 0] == k]:
            di = last if di < 0 else int(di)
            b, d = flat[int(bi)], flat[di]
            if b != d:
                feats.append((abs(b - d), int(bi), di, 1.0 if b >= d else -1.0))
        feats.sort(key=lambda f: -f[0])  # stable: ties keep the diagram's order
        loss += w * max(0, beta - len(feats))
        for l, (pers, bi, di, sign) in enumerate(feats):
            kept = l < beta
            if kind == "squared":
                value, slope = (1 - pers**2, -2 * pers) if kept else (pers**2, 2 * pers)
            else:
                value, slope = (1 - pers, -1.0) if kept else (pers, 1.0)
            loss += w * value
            grad[bi] += w * slope * sign
            grad[di] -= w * slope * sign
    return loss, grad.reshape(p.shape)


def tie_free(shape, seed):
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n).astype(np.float32) / n).reshape(shape)


def ring(size=32, gap=0.1):
    """A ring of 0.9 on 0.1, broken by a gap of value ``gap`` (none when ``gap`` is None)."""
    y, x = np.mgrid[:size, :size] - size / 2
    on = np.abs(np.hypot(y, x) - size / 4) < 2.5
    p = np.where(on, 0.9, 0.1).astype(np.float32)
    if gap is not None:
        p[on & (x > 0) & (np.abs(y) < 2)] = gap
    return p


@pytest.mark.parametrize("kind", ["squared", "l1"])
@pytest.mark.parametrize("construction", ["v", "t", "freudenthal"])
def test_loss_is_the_papers(kind, construction, backend):
    for seed, betti in enumerate([(1, 0), (1, 1), (2, 3), (0, 0)]):
        p = tie_free((13, 17), seed)
        weights = [0.5, 2.0]
        loss, grad = wp.topological_loss(p, betti, construction, kind, weights, backend=backend)
        want_loss, want_grad = reference_loss(p, betti, construction, kind, weights)
        assert loss == pytest.approx(want_loss, rel=1e-5, abs=1e-5)
        assert grad.dtype == np.float32 and grad.shape == p.shape
        np.testing.assert_allclose(grad, want_grad, rtol=1e-5, atol=1e-6)


def test_missing_features_cost_one():
    flat = np.full((8, 8), 0.5, np.float32)  # no feature of any persistence
    assert wp.topological_loss(flat, [1, 1])[0] == 2.0
    assert wp.topological_loss(ring(gap=None), [1, 1])[0] < wp.topological_loss(ring(), [1, 1])[0]


def test_volume_loss():
    p = tie_free((5, 6, 7), 3)
    loss, grad = wp.topological_loss(p, [1, 0, 1])
    want_loss, want_grad = reference_loss(p, [1, 0, 1])
    assert loss == pytest.approx(want_loss, rel=1e-5)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-5, atol=1e-6)


def test_batch_equals_single_maps(backend):
    maps = np.stack([tie_free((2, 9, 10), s) for s in range(3)])  # B x C x H x W
    losses, grad = wp.topological_loss_batch(maps, [1, 1], backend=backend)
    assert losses.shape == (3, 2) and grad.shape == maps.shape
    for b in range(3):
        for c in range(2):
            loss, g = wp.topological_loss(maps[b, c], [1, 1], backend=backend)
            assert losses[b, c] == loss
            assert np.array_equal(grad[b, c], g)
    # one prior per map
    priors = [[1, 0], [1, 1], [2, 0], [0, 1], [1, 2], [3, 3]]
    losses, grad = wp.topological_loss_batch(maps, priors, backend=backend)
    for m, prior in enumerate(priors):
        loss, g = wp.topological_loss(maps.reshape(6, 9, 10)[m], prior, backend=backend)
        assert losses.reshape(6)[m] == loss and np.array_equal(grad.reshape(6, 9, 10)[m], g)


def test_backends_agree_bit_for_bit():
    maps = np.random.default_rng(2).integers(0, 5, (4, 20, 21)).astype(np.float32) / 4
    a = wp.topological_loss_batch(maps, [1, 1], backend="cpu")
    b = wp.topological_loss_batch(maps, [1, 1], backend="gpu")
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_repair_mends_a_broken_ring():
    p = ring(gap=0.3)
    repaired, info = wp.repair(p, [1, 1])
    assert info["betti_before"] == [1, 0] and info["betti_after"] == [1, 1]
    assert info["loss_after"] < info["loss_before"] and info["steps_taken"] > 0
    assert repaired.shape == p.shape and repaired.min() >= 0 and repaired.max() <= 1
    volume = np.zeros((5, 7, 7), np.float32)
    volume[1:4, 1:6, 1:6] = 0.9
    volume[2, 2:5, 2:5] = 0.1  # a hollow box ...
    volume[2, 3, 1] = 0.3  # ... with a dim voxel in its wall: no void at 0.5
    repaired, info = wp.repair(volume, [1, 0, 1], steps=500)
    assert info["betti_before"] == [1, 0, 0] and info["betti_after"] == [1, 0, 1]
    assert repaired[2, 3, 1] > 0.5


@pytest.mark.parametrize(
    "p, betti, kwargs, error, message",
    [
        (np.full((4, 4), 2.0, np.float32), [1, 1], {}, ValueError, "values in \\[0, 1\\]"),
        (np.array([[0.5, np.inf]], np.float32), [1, 1], {}, ValueError, "values in \\[0, 1\\]"),
        (np.array([[0.5, np.nan]], np.float32), [1, 1], {}, ValueError, "NaN"),
        (np.full((4, 4), 0.5, np.float32), [1, -1], {}, ValueError, "counts"),
        (np.full((4, 4), 0.5, np.float32), [1, 1], {"weights": [1, float("nan")]}, ValueError, "weight"),
        (np.full((4, 4), 0.5, np.float32), [1, 1], {"weights": [-1, 1]}, ValueError, "weight"),
        (np.full((4, 4), 0.5, np.float32), [1, 1], {"kind": "cubic"}, ValueError, "kind"),
        (np.full(4, 0.5, np.float32), [1, 1], {}, ValueError, "axes"),
        (np.full((4, 4), 0.5, np.complex64), [1, 1], {}, TypeError, "map type"),
        (np.full((4, 4), 0.5, np.float32), "11", {}, TypeError, "integers"),
        # float64 values that round into [0, 1] as float32 values are still refused
        (np.where(np.eye(4) > 0, 1 + 1e-12, 0.5), [1, 1], {}, ValueError, "linear index 0 is 1.000000000001"),
        (np.where(np.eye(4) > 0, -1e-300, 0.5), [1, 1], {}, ValueError, "linear index 0 is -1e-300"),
        (np.full((4, 4), 0.5, np.float32), [], {}, ValueError, "Betti numbers"),
        (np.full((4, 4), 0.5, np.float32), [1, 1, 1, 1], {}, ValueError, "Betti numbers"),
        (np.full((4, 4), 0.5, np.float32), [1, 1], {"weights": [1, 1, 1, 1]}, ValueError, "three weights"),
    ],
)
def test_bad_loss_inputs(p, betti, kwargs, error, message):
    with pytest.raises(error, match=message):
        wp.topological_loss(p, betti, **kwargs)


def test_bad_batch_and_repair_inputs():
    maps = np.full((3, 4, 4), 0.5, np.float32)
    with pytest.raises(ValueError, match="2 priors for 3 maps"):
        wp.topological_loss_batch(maps, [[1, 0], [1, 1]])
    with pytest.raises(ValueError, match="values in \\[0, 1\\]"):
        wp.repair(np.full((4, 4), 255.0, np.float32), [1, 0])
    with pytest.raises(ValueError):
        wp.repair(np.full((4, 4), 0.5, np.float32), [1, 0], lr=float("nan"))
    # counts past what the native side takes are ValueErrors too, not OverflowErrors
    with pytest.raises(ValueError, match="steps"):
        wp.repair(np.full((4, 4), 0.5, np.float32), [1, 0], steps=-1)
    with pytest.raises(ValueError, match="counts below"):
        wp.topological_loss(np.full((4, 4), 0.5, np.float32), [2**64, 1])
