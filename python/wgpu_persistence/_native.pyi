"""Type stubs of the compiled module (python/src/lib.rs). Use the wrappers in ``wgpu_persistence``:
they convert inputs and name the arguments; these take C-contiguous arrays as they are."""

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

__version__: str

def diagrams(
    x: npt.NDArray[Any],
    batch: bool,
    construction: str,
    superlevel: bool,
    backend: str,
    keep_zero: bool,
) -> List[npt.NDArray[np.float64]]: ...
def topological_loss_batch(
    maps: npt.NDArray[np.float32],
    betti: Sequence[Sequence[int]],
    construction: str,
    kind: str,
    weights: Optional[Sequence[float]],
    backend: str,
) -> Tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]: ...
def loss_terms(
    maps: npt.NDArray[np.float32],
    betti: Sequence[Sequence[int]],
    construction: str,
    weights: Optional[Sequence[float]],
    backend: str,
) -> List[Tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], float]]: ...
def repair(
    map: npt.NDArray[np.float32],
    betti: Sequence[int],
    construction: str,
    kind: str,
    weights: Optional[Sequence[float]],
    steps: int,
    lr: float,
    fidelity: float,
    margin: float,
    backend: str,
) -> Tuple[npt.NDArray[np.float32], Dict[str, Any]]: ...
def backend_info(backend: str) -> Dict[str, Any]: ...
