"""Polyak averaging of a run's iterates, in the two forms the app shows.

CS231n (deck 002) keeps "a moving average of the parameter vector and use[s] that at test time
(Polyak averaging)", in the code

    x_test = 0.995*x_test + 0.005*x # use for test set

i.e. an exponential moving average with decay 0.995; Polyak and Juditsky's average is the
uniform mean of all iterates. Both are computed here from the path a run drew, so they need
no kernel. The deck does not say how x_test starts; here it starts at the start point θ₀, as
the uniform mean does.
"""

from __future__ import annotations

import numpy as np

CS231N_DECAY = 0.995  # 002: "x_test = 0.995*x_test + 0.005*x"


def uniform(xy: np.ndarray, last: int) -> np.ndarray:
    """θ̄_k = (θ₀ + … + θ_k)/(k + 1) for k ≤ ``last``; rows after ``last`` are NaN."""
    xy = np.asarray(xy, dtype=np.float64)
    out = np.full_like(xy, np.nan)
    valid = xy[: last + 1]
    out[: last + 1] = np.cumsum(valid, axis=0) / np.arange(1, last + 2)[:, None]
    return out


def ema(xy: np.ndarray, last: int, decay: float = CS231N_DECAY) -> np.ndarray:
    """x_test,k = decay·x_test,k−1 + (1 − decay)·θ_k from x_test,0 = θ₀, for k ≤ ``last``;
    rows after ``last`` are NaN. ``decay`` must be in [0, 1]."""
    decay = float(decay)
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"decay must be in [0, 1], got {decay!r}")
    xy = np.asarray(xy, dtype=np.float64)
    out = np.full_like(xy, np.nan)
    if last < 0 or xy.shape[0] == 0:
        return out
    acc = xy[0].copy()
    out[0] = acc
    for k in range(1, last + 1):
        acc = decay * acc + (1.0 - decay) * xy[k]
        out[k] = acc
    return out
