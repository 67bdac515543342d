"""Counter-based sampling noise.

Each sampled token uses one uniform u = U(seed, row, t), a pure function of the request seed, the row's
index in the request (prompts in order, their samples in order) and the token index t. Sampling is then
inverse-CDF: the token is the first whose cumulative probability exceeds u. Unlike drawing from one
torch.Generator, the tokens of a row do not depend on how rows are batched or padded, on how many other
rows are in the request, or on when other rows finished; the same seed and the same logits give the
same tokens on any device.
"""
from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on uint64 arrays (numpy array arithmetic wraps modulo 2**64)."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        return z ^ (z >> _S31)


def uniforms(seed: int, rows: np.ndarray, t: int) -> np.ndarray:
    """Float64 uniforms in the open interval (0, 1), one per row, for token index t.

    seed: the request seed (uint, taken modulo 2**64); rows: uint64 row indices; t: token index (0 = the
    first generated token).
    """
    rows = np.asarray(rows, dtype=np.uint64)
    s = _splitmix64(np.full(rows.shape, np.uint64(seed % (1 << 64)), dtype=np.uint64))
    h = _splitmix64(s ^ rows)
    h = _splitmix64(h ^ np.uint64(t))
    # 53 random bits, centred in their cell: never 0, never 1.
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / (1 << 53))
