"""The golden test problems in plain Python, for the ``record_*.py`` scripts (no optviz import).

Values and closed-form gradients use the same floating-point operations as
``surfaces/_kernels.py``, so a reference library is fed bit for bit the gradient the kernel sees.
Numba computes ``y ** k`` for an integer k by repeated squaring, Python by C ``pow`` (1 ulp apart
on about a fifth of the points): :func:`ipow` is numba's order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
STEPS = 1000
_BEALE_C = (1.5, 2.25, 2.625)


def ipow(y: float, n: int) -> float:
    """y**n for an integer n ≥ 0 by repeated squaring, as numba compiles it."""
    r = 1.0
    b = y
    while n:
        if n & 1:
            r *= b
        b *= b
        n >>= 1
    return r


def rosenbrock(x: float, y: float) -> float:
    a = 1.0 - x
    b = y - x * x
    return a * a + 100.0 * b * b


def rosenbrock_gradient(x: float, y: float) -> tuple[float, float]:
    b = y - x * x
    return -2.0 * (1.0 - x) - 400.0 * x * b, 200.0 * b


def beale(x: float, y: float) -> float:
    r1 = 1.5 - x + x * y
    r2 = 2.25 - x + x * y * y
    r3 = 2.625 - x + x * y * y * y
    return r1 * r1 + r2 * r2 + r3 * r3


def beale_gradient(x: float, y: float) -> tuple[float, float]:
    gx = 0.0
    gy = 0.0
    for k in range(3):
        yk = ipow(y, k + 1)
        r = _BEALE_C[k] - x + x * yk
        gx += 2.0 * r * (yk - 1.0)
        gy += 2.0 * r * x * (k + 1) * ipow(y, k)
    return gx, gy


# surface name -> (f, ∇f, start)
Problem = tuple[Callable[[float, float], float], Callable[[float, float], tuple], tuple]
PROBLEMS: dict[str, Problem] = {
    "rosenbrock": (rosenbrock, rosenbrock_gradient, (-1.2, 1.0)),
    "beale": (beale, beale_gradient, (1.0, 1.4)),
}


def save(name: str, xy: np.ndarray, run_kwargs: dict, call: str) -> None:
    """Write ``tests/golden/<name>.npz`` for ``tests/test_golden.py``: the positions (steps + 1,
    2), the start of the run's surface, what produced them (field ``torch_call``, its first
    recorder's name: the reference call, whichever library made it) and ``run_kwargs``, the JSON
    of the ``optviz.run`` arguments that must reproduce them (``surface`` defaults to
    Rosenbrock)."""
    if not np.all(np.isfinite(xy)):
        raise RuntimeError(f"{name}: the reference run is not finite")
    surface = run_kwargs.get("surface", "rosenbrock")
    np.savez_compressed(
        HERE / f"{name}.npz",
        xy=xy,
        start=np.array(PROBLEMS[surface][2]),
        torch_call=np.array(call),
        run_kwargs=np.array(json.dumps(run_kwargs)),
    )
    print(f"{name:28s} final ({xy[-1, 0]: .6f}, {xy[-1, 1]: .6f})")
