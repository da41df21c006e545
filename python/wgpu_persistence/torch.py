"""The PyTorch layer: diagrams whose values carry gradients, and the topological loss as an
``nn.Module``.

The pairing (which pixel creates a feature and which kills it) is computed by the crate on a host
copy of the input; the values at those pixels are then gathered from the tensor itself, with
torch's own indexing, on the tensor's device. So autograd, CUDA tensors, float64 and double
backward work as they do for any gather, and the gradient of a loss reaches exactly the birth and
death pixels of each pair it uses.
"""

from __future__ import annotations

from typing import Any, List, NamedTuple, Optional, Sequence

import numpy as np
import torch
from torch import nn

from . import _native, _pixels, _prior_list, _spatial, _weights

__all__ = ["Persistence", "persistence", "persistence_batch", "TopologicalLoss"]


class Persistence(NamedTuple):
    """A diagram: ``table`` is the float64 ``(n, 5)`` table of :func:`wgpu_persistence.persistence`
    (on the CPU), ``values`` the ``(n, 2)`` births and deaths gathered from the input (its dtype, its
    device, differentiable; an essential class's death is ``inf``, superlevel ``-inf``)."""

    table: torch.Tensor
    values: torch.Tensor

    @property
    def dims(self) -> torch.Tensor:
        """The homology dimension of each row (int64)."""
        return self.table[:, 0].long()


def _gather(x: torch.Tensor, table: np.ndarray, superlevel: bool) -> Persistence:
    t = torch.from_numpy(table)
    if not torch.is_floating_point(x):
        # integer images carry no gradient: the values as the table gives them
        return Persistence(t, t[:, 1:3].to(x.device))
    flat = x.reshape(-1)
    birth_index = t[:, 3].long().to(x.device)
    death_index = t[:, 4].long().to(x.device)
    essential = death_index < 0
    birth = flat[birth_index]
    death = flat[death_index.clamp(min=0)]
    never = torch.full_like(death, -np.inf if superlevel else np.inf)
    return Persistence(t, torch.stack([birth, torch.where(essential, never, death)], 1))


def persistence(
    x: torch.Tensor,
    construction: str = "v",
    superlevel: bool = False,
    backend: str = "auto",
    keep_zero: bool = False,
) -> Persistence:
    """The diagram of one image (``H x W``) or volume (``D x H x W``) with values gathered from
    ``x``, so that any function of them backpropagates to ``x``."""
    table = _native.diagrams(
        _pixels(x), False, construction, bool(superlevel), backend, bool(keep_zero)
    )[0]
    return _gather(x, table, bool(superlevel))


def persistence_batch(
    x: torch.Tensor,
    spatial_dims: int = 2,
    construction: str = "v",
    superlevel: bool = False,
    backend: str = "auto",
    keep_zero: bool = False,
) -> List[Persistence]:
    """The diagrams of a batch (the leading axes of ``x``), one per item in C order, in one call."""
    sd = _spatial(spatial_dims)
    if x.dim() < sd + 1:
        raise ValueError(f"expected at least {sd + 1} axes, got {x.dim()} (shape {tuple(x.shape)})")
    if x.numel() == 0:
        raise ValueError(f"input is empty (shape {list(x.shape)})")
    items = x.reshape((-1,) + tuple(x.shape[x.dim() - sd :]))
    tables = _native.diagrams(
        _pixels(items), True, construction, bool(superlevel), backend, bool(keep_zero)
    )
    return [_gather(item, table, bool(superlevel)) for item, table in zip(items, tables)]


_REDUCTIONS = ("mean", "sum", "none")
_KINDS = ("squared", "l1")


class TopologicalLoss(nn.Module):
    """The topological loss of Clough et al. (IEEE TPAMI 2022) on probability maps.

    Superlevel filtration of each map; per dimension ``k``, the ``betti[k]`` most persistent
    features are pushed to full persistence (``1 - pers^2``), all others to zero (``pers^2``), a
    feature the map lacks costs 1; ``kind="l1"`` uses ``pers`` for ``pers^2``; ``weights[k]``
    scales dimension ``k``. An essential class dies at the map's minimum.

    ``betti``: one prior for every map (``[beta_0, beta_1]``; volumes ``[beta_0, beta_1,
    beta_2]``), or one per channel (a sequence of ``C`` priors for inputs ``B x C x ...``).
    Inputs: ``(B, H, W)``, ``(B, C, H, W)`` (any leading axes), or with ``spatial_dims=3``
    volumes ``(B, D, H, W)``, ``(B, C, D, H, W)``; a single map ``(H, W)`` is a batch of one.
    Values must lie in ``[0, 1]`` (a sigmoid or softmax of logits). ``reduction``: ``"mean"``
    over maps (default), ``"sum"``, or ``"none"`` (one loss per map, shaped like the leading axes).
    The gradient equals the Rust API's ``topological_loss_batch``.
    """

    def __init__(
        self,
        betti: Sequence[Any],
        construction: str = "v",
        kind: str = "squared",
        weights: Optional[Sequence[float]] = None,
        spatial_dims: int = 2,
        reduction: str = "mean",
        backend: str = "auto",
    ) -> None:
        super().__init__()
        self.priors, self.per_channel = _prior_list(betti)
        if kind not in _KINDS:
            raise ValueError(f"unknown loss kind {kind!r} (expected one of {_KINDS})")
        if reduction not in _REDUCTIONS:
            raise ValueError(f"unknown reduction {reduction!r} (expected one of {_REDUCTIONS})")
        self.construction = construction
        self.kind = kind
        self.weights = _weights(weights)
        self.spatial_dims = _spatial(spatial_dims)
        self.reduction = reduction
        self.backend = backend

    def extra_repr(self) -> str:
        return (
            f"betti={self.priors if self.per_channel else self.priors[0]}, "
            f"construction={self.construction!r}, kind={self.kind!r}, weights={self.weights}, "
            f"spatial_dims={self.spatial_dims}, reduction={self.reduction!r}"
        )

    def forward(self, p: torch.Tensor) -> torch.Tensor:
        sd = self.spatial_dims
        if not torch.is_floating_point(p):
            raise TypeError(f"probability maps are floating point tensors, got {p.dtype}")
        if p.dim() < sd:
            raise ValueError(
                f"expected {sd} spatial axes after any batch axes, got shape {tuple(p.shape)}"
            )
        if p.numel() == 0:
            # torch cannot reshape an empty tensor to (-1, ...): say what is wrong instead
            raise ValueError(f"input is empty (shape {list(p.shape)})")
        lead = tuple(p.shape[: p.dim() - sd])
        maps = p.reshape((-1,) + tuple(p.shape[p.dim() - sd :]))
        count = maps.shape[0]
        priors = self.priors
        if self.per_channel:
            channels = lead[-1] if lead else 0
            if channels != len(self.priors):
                raise ValueError(
                    f"{len(self.priors)} priors, one per channel, for an input with "
                    f"{channels} channels (shape {tuple(p.shape)})"
                )
            priors = [self.priors[m % channels] for m in range(count)]
        host = maps.detach().to("cpu", torch.float32).contiguous().numpy()
        per_map = _native.loss_terms(host, priors, self.construction, self.weights, self.backend)

        device = p.device
        flat = maps.reshape(count, -1)
        sizes = [len(weights) for _, weights, _ in per_map]
        table = torch.from_numpy(np.concatenate([t for t, _, _ in per_map])).to(device)
        weight = torch.from_numpy(np.concatenate([w for _, w, _ in per_map])).to(device, p.dtype)
        missing = torch.tensor([m for _, _, m in per_map], dtype=p.dtype, device=device)
        owner = torch.repeat_interleave(
            torch.arange(count, device=device), torch.tensor(sizes, device=device)
        )
        birth = flat[owner, table[:, 1]]
        death = flat[owner, table[:, 2]]
        kept = table[:, 3].bool()
        pers = (birth - death).abs()
        if self.kind == "squared":
            term = torch.where(kept, 1 - pers * pers, pers * pers)
        else:
            term = torch.where(kept, 1 - pers, pers)
        losses = missing.index_add(0, owner, weight * term).reshape(lead)
        if self.reduction == "mean":
            return losses.mean()
        if self.reduction == "sum":
            return losses.sum()
        return losses
