"""The PyTorch layer: gathered values, gradcheck of TopologicalLoss, equality with the Rust
gradient, reductions, per-channel priors, volumes, DataLoader workers, bad inputs."""

import numpy as np
import pytest
import torch

import wgpu_persistence as wp
from wgpu_persistence.torch import TopologicalLoss, persistence, persistence_batch


def tie_free(shape, seed, dtype=torch.float64):
    n = int(np.prod(shape))
    g = torch.Generator().manual_seed(seed)
    return ((torch.randperm(n, generator=g).to(dtype) + 1) / (n + 2)).reshape(shape)


def test_values_are_gathered_from_the_tensor(backend):
    x = tie_free((12, 15), 1, torch.float32).requires_grad_()
    d = persistence(x, superlevel=True, backend=backend)
    assert torch.equal(d.table, torch.from_numpy(wp.persistence(x.detach().numpy(), superlevel=True)))
    assert d.values.dtype == x.dtype and d.values.requires_grad
    assert torch.equal(d.values[:, 0].double(), d.table[:, 1])
    finite = d.table[:, 4] >= 0
    assert torch.equal(d.values[finite, 1].double(), d.table[finite, 2])
    assert torch.all(d.values[~finite, 1] == -np.inf)
    # the gradient of the total persistence reaches the birth and death pixels only
    (d.values[finite, 0] - d.values[finite, 1]).sum().backward()
    touched = set(d.table[:, 3].long().tolist()) | set(d.table[finite, 4].long().tolist())
    assert set(torch.nonzero(x.grad.reshape(-1)).reshape(-1).tolist()) <= touched
    assert x.grad.abs().sum() > 0


def test_diagram_values_pass_gradcheck():
    x = tie_free((7, 9), 2).requires_grad_()

    def births_and_deaths(x):
        d = persistence(x)
        finite = d.table[:, 4] >= 0
        return d.values[finite, 0], d.values[finite, 1], d.values[~finite, 0]

    assert torch.autograd.gradcheck(births_and_deaths, (x,))
    batch = tie_free((3, 6, 7), 3).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda b: torch.cat([d.values[:, 0] for d in persistence_batch(b)]), (batch,)
    )


@pytest.mark.parametrize("kind", ["squared", "l1"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_passes_gradcheck(kind, reduction):
    loss = TopologicalLoss([1, 1], kind=kind, reduction=reduction, weights=[1.0, 0.5])
    p = tie_free((2, 3, 8, 9), 4).requires_grad_()
    assert torch.autograd.gradcheck(loss, (p,))
    per_channel = TopologicalLoss([[1, 0], [1, 1], [2, 2]], kind=kind, reduction=reduction)
    assert torch.autograd.gradcheck(per_channel, (p,))


def test_volume_loss_passes_gradcheck():
    loss = TopologicalLoss([1, 0, 1], spatial_dims=3, construction="t")
    p = tie_free((2, 4, 5, 6), 5).requires_grad_()
    assert torch.autograd.gradcheck(loss, (p,))


@pytest.mark.parametrize("construction", ["v", "t", "freudenthal"])
def test_loss_equals_the_rust_api(construction, backend):
    # float32 maps with ties: the values, the selection and the gradient are the crate's
    g = torch.Generator().manual_seed(6)
    p = (torch.randint(0, 9, (3, 2, 17, 19), generator=g).float() / 8).requires_grad_()
    module = TopologicalLoss([1, 1], construction=construction, reduction="none", backend=backend)
    losses = module(p)
    upstream = torch.rand(3, 2, generator=g)
    (losses * upstream).sum().backward()
    want_losses, want_grad = wp.topological_loss_batch(
        p.detach().numpy(), [1, 1], construction=construction, backend=backend
    )
    np.testing.assert_allclose(losses.detach().numpy(), want_losses, rtol=1e-6)
    want = want_grad * upstream.numpy()[:, :, None, None]
    np.testing.assert_allclose(p.grad.numpy(), want, rtol=1e-6, atol=1e-7)
    assert np.array_equal(p.grad.numpy() != 0, want != 0)


def test_mean_and_sum_and_single_maps():
    p = tie_free((4, 10, 10), 7, torch.float32)
    per_map = TopologicalLoss([1, 1], reduction="none")(p)
    assert per_map.shape == (4,)
    assert torch.allclose(TopologicalLoss([1, 1])(p), per_map.mean())
    assert torch.allclose(TopologicalLoss([1, 1], reduction="sum")(p), per_map.sum())
    single = TopologicalLoss([1, 1], reduction="none")(p[0])
    assert single.shape == () and single == per_map[0]
    # 3 * loss gives 3 * the gradient
    q = p.clone().requires_grad_()
    TopologicalLoss([1, 1])(q).backward()
    r = p.clone().requires_grad_()
    (3 * TopologicalLoss([1, 1])(r)).backward()
    assert torch.allclose(r.grad, 3 * q.grad)


def test_float64_and_missing_features():
    flat = torch.full((2, 6, 6), 0.5, dtype=torch.float64, requires_grad=True)
    loss = TopologicalLoss([1, 1], reduction="none")(flat)
    assert loss.dtype == torch.float64 and torch.equal(loss, torch.tensor([2.0, 2.0], dtype=torch.float64))
    loss.sum().backward()
    assert torch.count_nonzero(flat.grad) == 0


class Maps(torch.utils.data.Dataset):
    def __init__(self, backend):
        self.backend = backend

    def __len__(self):
        return 8

    def __getitem__(self, i):
        x = tie_free((16, 16), i, torch.float32)
        return x, torch.from_numpy(wp.persistence(x, backend=self.backend))


@pytest.mark.parametrize("worker_backend", ["auto", "gpu"])
def test_dataloader_workers(worker_backend, backend):
    wp.persistence(np.zeros((4, 4), np.float32), backend=backend)  # a context before the fork
    loader = torch.utils.data.DataLoader(
        Maps(worker_backend), batch_size=None, num_workers=2, multiprocessing_context="fork", timeout=120
    )
    seen = 0
    for x, table in loader:
        assert torch.equal(table, torch.from_numpy(wp.persistence(x)))
        seen += 1
    assert seen == 8


def test_bad_torch_inputs():
    with pytest.raises(TypeError, match="floating point"):
        TopologicalLoss([1, 1])(torch.zeros(2, 4, 4, dtype=torch.int32))
    with pytest.raises(ValueError, match="one per channel"):
        TopologicalLoss([[1, 0], [1, 1]])(torch.rand(2, 3, 4, 4))
    with pytest.raises(ValueError, match="values in \\[0, 1\\]"):
        TopologicalLoss([1, 1])(torch.full((2, 4, 4), 3.0))
    with pytest.raises(ValueError, match="NaN"):
        TopologicalLoss([1, 1])(torch.full((2, 4, 4), float("nan")))
    with pytest.raises(ValueError, match="reduction"):
        TopologicalLoss([1, 1], reduction="max")
    with pytest.raises(ValueError, match="counts"):
        TopologicalLoss([1, -1])
    with pytest.raises(ValueError, match="spatial"):
        TopologicalLoss([1, 1])(torch.rand(4))
    # empty along an axis torch cannot infer when it reshapes (it raised its own RuntimeError)
    for empty in [torch.rand(2, 0, 4), torch.rand(0, 4, 4)]:
        with pytest.raises(ValueError, match="empty"):
            TopologicalLoss([1, 1])(empty)
        with pytest.raises(ValueError, match="empty"):
            persistence_batch(empty)
    with pytest.raises(TypeError, match="unsupported pixel type"):
        persistence(torch.zeros(3, 3, dtype=torch.bfloat16))
