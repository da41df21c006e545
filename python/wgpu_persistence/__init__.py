"""Exact persistent homology of images and volumes, on the GPU (wgpu: Vulkan, Metal, DX12) or on the
native CPU backend, and the topological loss of Clough et al. (IEEE TPAMI 2022).

Arrays in, NumPy arrays out; the PyTorch layer is :mod:`wgpu_persistence.torch`.

A diagram is a ``float64`` table of shape ``(n, 5)`` with columns ``dim, birth, death, birth_index,
death_index``: the indices are flat row-major offsets into the input, ``f.flat[birth_index] ==
birth``; an essential class dies at ``inf`` (superlevel: ``-inf``) and has death index ``-1``. Rows
come dimension by dimension, each in the crate's order (by the death pixel's place in the
filtration, then the birth pixel's; essential classes last).

``backend`` is ``"auto"`` (a hardware GPU if there is one, else the CPU backend: a software adapter
such as lavapipe is skipped, the CPU backend is faster than it), ``"gpu"`` (any adapter, a software
one too) or ``"cpu"``. :func:`backend_info` says which answers and why. The environment variable
``WGPU_PERSISTENCE_BACKEND`` sets what ``"auto"`` means.

The work runs with the GIL released, in a thread pool of this process; calls from several threads
are safe, and a child process made by ``fork`` (PyTorch's DataLoader workers) makes its own
context on its first call.
"""

from __future__ import annotations

import operator
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native

__version__: str = _native.__version__

__all__ = [
    "persistence",
    "persistence_batch",
    "topological_loss",
    "topological_loss_batch",
    "repair",
    "backend_info",
    "COLUMNS",
]

#: The columns of a diagram table.
COLUMNS = ("dim", "birth", "death", "birth_index", "death_index")

# The pixel types of the crate, as NumPy dtypes.
_NATIVE = tuple(np.dtype(t) for t in (np.float32, np.float64, np.uint8, np.uint16, np.int16, np.int32))
# Types that convert exactly to one of them.
_WIDEN = {np.dtype(np.bool_): np.uint8, np.dtype(np.int8): np.int16, np.dtype(np.float16): np.float32}
_I32 = np.iinfo(np.int32)


def _host_array(x: Any) -> np.ndarray:
    """``x`` as a NumPy array: torch tensors (any device, with or without grad) through the host."""
    if type(x).__module__.split(".")[0] == "torch" and hasattr(x, "detach"):
        x = x.detach()
        if x.device.type != "cpu":
            x = x.cpu()
        try:
            return x.numpy()
        except TypeError as e:  # bfloat16 and the like
            raise TypeError(f"unsupported pixel type {x.dtype}: {e}") from None
    return np.asarray(x)


def _pixels(x: Any) -> np.ndarray:
    """``x`` as a C-contiguous array of one of the crate's pixel types, converted only where exact."""
    a = _host_array(x)
    dtype = a.dtype
    if dtype.kind in "iuf" and not dtype.isnative:
        dtype = dtype.newbyteorder("=")
    if dtype in _NATIVE:
        return np.require(a, dtype=dtype, requirements="C")
    if dtype in _WIDEN:
        return np.require(a, dtype=_WIDEN[dtype], requirements="C")
    if dtype.kind in "iu":
        # wider integers (NumPy's default int64 among them): exact in int32 or refused
        if a.size and (a.min() < _I32.min or a.max() > _I32.max):
            raise TypeError(
                f"{dtype} values outside the int32 range [{_I32.min}, {_I32.max}] cannot be taken "
                "exactly: convert them to float64 yourself if rounding is acceptable"
            )
        return np.require(a, dtype=np.int32, requirements="C")
    raise TypeError(
        f"unsupported pixel type {a.dtype}: give float32, float64, uint8, uint16, int16 or int32 "
        "(bool, int8, float16 and integers within the int32 range are converted)"
    )


def _maps(p: Any) -> np.ndarray:
    """Probability maps as C-contiguous float32 (the loss computes on float32)."""
    a = _host_array(p)
    if a.dtype.kind not in "iuf" and a.dtype != np.bool_:
        raise TypeError(f"unsupported map type {a.dtype}: probability maps are real numbers in [0, 1]")
    if a.dtype.kind == "f" and a.dtype.itemsize > 4:
        # checked before rounding: 1 + 1e-12 rounds to 1.0 as a float32 and is still no probability
        # (the library checks the float32 values it is given, with the same message)
        outside = np.flatnonzero((a < 0) | (a > 1))
        if outside.size:
            index = int(outside[0])
            raise ValueError(
                f"a probability map holds values in [0, 1]; the value at linear index {index} is "
                f"{float(a.reshape(-1)[index])!r} (map scores to [0, 1] first: a sigmoid or softmax "
                "of logits, or 8-bit values divided by 255)"
            )
    return np.require(a, dtype=np.float32, requirements="C")


def _spatial(spatial_dims: int) -> int:
    try:
        sd = operator.index(spatial_dims)
    except TypeError:
        raise TypeError(f"spatial_dims must be 2 or 3, got {spatial_dims!r}") from None
    if sd not in (2, 3):
        raise ValueError(f"spatial_dims must be 2 (images) or 3 (volumes), got {sd}")
    return sd


def _stack(a: np.ndarray, spatial_dims: int) -> Tuple[np.ndarray, Tuple[int, ...]]:
    """``a`` with its leading (batch) axes flattened into one; and those axes."""
    sd = _spatial(spatial_dims)
    if a.ndim < sd + 1:
        raise ValueError(
            f"expected at least {sd + 1} axes (batch axes, then {sd} spatial ones), got {a.ndim} "
            f"(shape {a.shape})"
        )
    lead = a.shape[: a.ndim - sd]
    return a.reshape((-1,) + a.shape[a.ndim - sd :]), lead


def _betti(betti: Any, what: str = "betti") -> List[int]:
    try:
        values = [operator.index(b) for b in betti]
    except TypeError:
        raise TypeError(f"{what} must be a sequence of integers, got {betti!r}") from None
    if any(b < 0 for b in values):
        raise ValueError(f"{what} holds counts (0 or more), got {values}")
    if any(b >= 2**63 for b in values):
        raise ValueError(f"{what} holds counts below 2**63, got {values}")
    return values


def _weights(weights: Optional[Sequence[float]]) -> Optional[List[float]]:
    return None if weights is None else [float(w) for w in weights]


def persistence(
    x: Any,
    construction: str = "v",
    superlevel: bool = False,
    backend: str = "auto",
    keep_zero: bool = False,
) -> np.ndarray:
    """The persistence diagram of one 2D image (H0, H1) or 3D volume (H0, H1, H2).

    ``x``: anything ``numpy.asarray`` takes (a NumPy array, nested lists, a torch tensor), of type
    float32, float64, uint8, uint16, int16 or int32 (bool, int8, float16 and integers within the
    int32 range are converted exactly). ``construction``: ``"v"`` (pixels are vertices, as
    CubicalRipser and GUDHI's ``vertices=``), ``"t"`` (pixels are top cells, as GUDHI's
    ``top_dimensional_cells=``) or ``"freudenthal"`` (2D). ``keep_zero`` keeps pairs whose birth
    equals their death. Returns the ``(n, 5)`` float64 table described in the module's docs.
    """
    a = _pixels(x)
    return _native.diagrams(a, False, construction, bool(superlevel), backend, bool(keep_zero))[0]


def persistence_batch(
    x: Any,
    spatial_dims: int = 2,
    construction: str = "v",
    superlevel: bool = False,
    backend: str = "auto",
    keep_zero: bool = False,
) -> List[np.ndarray]:
    """The diagrams of a batch: the last ``spatial_dims`` axes of ``x`` are an image (2) or a
    volume (3), the leading ones are batch axes (``B x C x H x W``, say). One table per item, in C
    order; the batch runs in one GPU submission, or on all cores."""
    a, _ = _stack(_pixels(x), spatial_dims)
    return _native.diagrams(a, True, construction, bool(superlevel), backend, bool(keep_zero))


def topological_loss_batch(
    p: Any,
    betti: Sequence[int],
    spatial_dims: int = 2,
    construction: str = "v",
    kind: str = "squared",
    weights: Optional[Sequence[float]] = None,
    backend: str = "auto",
) -> Tuple[np.ndarray, np.ndarray]:
    """The topological loss of each map of a batch (leading axes) and its gradient ``dL_b/dp``.

    ``betti``: one prior for every map (``[beta_0, beta_1]``, volumes ``[beta_0, beta_1, beta_2]``),
    or one prior per map (a sequence of such sequences, as many as maps). Returns ``(losses,
    gradient)``: float32 arrays of the batch axes' shape and of ``p``'s shape.
    """
    a, lead = _stack(_maps(p), spatial_dims)
    priors = _priors(betti, a.shape[0])
    losses, gradient = _native.topological_loss_batch(
        a, priors, construction, kind, _weights(weights), backend
    )
    return losses.reshape(lead), gradient.reshape(lead + a.shape[1:])


def _prior_list(betti: Any) -> Tuple[List[List[int]], bool]:
    """``betti`` as a list of priors, and whether it held several (a sequence of sequences) rather
    than one."""
    if len(betti) and all(np.ndim(b) == 1 for b in betti):
        return [_betti(b) for b in betti], True
    return [_betti(betti)], False


def _priors(betti: Any, maps: int) -> List[List[int]]:
    """One prior for all maps, or one per map."""
    priors, several = _prior_list(betti)
    if several and len(priors) != maps:
        raise ValueError(f"{len(priors)} priors for {maps} maps (give one, or one per map)")
    return priors


def topological_loss(
    p: Any,
    betti: Sequence[int],
    construction: str = "v",
    kind: str = "squared",
    weights: Optional[Sequence[float]] = None,
    backend: str = "auto",
) -> Tuple[float, np.ndarray]:
    """The topological loss of one probability map (``H x W``, or a ``D x H x W`` volume) and its
    gradient: ``(loss, dL/dp)``, the same numbers as the Rust API's ``topological_loss``.

    Superlevel filtration; per dimension ``k`` the ``betti[k]`` most persistent features cost
    ``1 - pers^2`` (``kind="l1"``: ``1 - pers``), the others ``pers^2`` (``pers``), a missing one 1;
    each times ``weights[k]`` (1 by default). Values of ``p`` must lie in ``[0, 1]``.
    """
    a = _maps(p)
    if a.ndim not in (2, 3):
        raise ValueError(f"expected a 2D map or a 3D volume, got {a.ndim} axes (shape {a.shape})")
    losses, gradient = _native.topological_loss_batch(
        a[np.newaxis], [_betti(betti)], construction, kind, _weights(weights), backend
    )
    return float(losses[0]), gradient.reshape(a.shape)


def repair(
    p: Any,
    betti: Sequence[int],
    construction: str = "v",
    kind: str = "squared",
    weights: Optional[Sequence[float]] = None,
    steps: int = 2000,
    lr: float = 0.1,
    fidelity: float = 1.0,
    margin: float = 0.05,
    backend: str = "auto",
) -> Tuple[np.ndarray, dict]:
    """Moves a probability map (``H x W`` or ``D x H x W``) towards the topology ``betti`` by
    gradient steps on the topological loss plus ``fidelity * mean((q - p)^2)``, as the CLI's
    ``repair``: returns the repaired map (float32, values in ``[0, 1]``) and a dict with
    ``loss_before``, ``loss_after``, ``betti_before``, ``betti_after`` (at 0.5) and
    ``steps_taken``."""
    a = _maps(p)
    steps = operator.index(steps)
    if not 0 <= steps < 2**63:
        raise ValueError(f"steps is a count of gradient steps (0 or more), got {steps}")
    return _native.repair(
        a,
        _betti(betti),
        construction,
        kind,
        _weights(weights),
        steps,
        float(lr),
        float(fidelity),
        float(margin),
        backend,
    )


def backend_info(backend: str = "auto") -> dict:
    """Which backend and adapter answer for ``backend``, and why: keys ``requested``, ``backend``
    (``"gpu"`` or ``"cpu"``), ``adapter``, ``device_type``, ``api``, ``driver`` (``None`` on the
    CPU), ``fallback_reason`` (why ``"auto"`` answers on the CPU, for instance that a software
    adapter was skipped) and ``threads`` (of the CPU work's pool)."""
    return _native.backend_info(backend)
