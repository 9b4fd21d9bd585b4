"""Record every surface formula at fixed points for ``tests/test_surfaces.py``.

Run from the repository root: ``.venv/bin/python tests/golden/record_surfaces.py``. Writes
``surface_values/values.npz`` (a folder of its own: the ``*.npz`` files directly in this folder
are optimizer goldens): for each case (a surface with bound parameters) the points and, at each,
f, the full-data gradient, the gradient over a mini-batch of rows (data surfaces), the Hessian
and the Gauss–Newton matrix, straight from ``surfaces._kernels``. The test recomputes them and
checks they are unchanged bit for bit, so a refactoring of the formulas that changes a result in
the last bit is caught. The values were recorded before the formulas were regrouped into one
block per surface (session 4) and the regrouped code reproduces them exactly.
Re-record only when a formula is changed on purpose (and say why in the commit).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # this checkout, not another one on the path

import surfaces  # noqa: E402
from surfaces import _kernels as K  # noqa: E402

FORMULAS = ["x^2 + 10*sin(y)", "exp(-x*y)/(1 + x^2) - sqrt(abs(y) + 1)*log(2 + cos(x))"]
# (surface name, parameters): every surface with its defaults, and some with other parameters.
CASES = (
    [(name, {}) for name in surfaces.NAMES if name != "formula"]
    + [
        ("ravine", {"kappa": 4.0, "angle": -60.0}),
        ("plateau", {"width": 0.5}),
        ("noisy_linreg", {"n": 50, "w_true": -3.0, "b_true": 2.0, "noise": 0.5, "seed": 3}),
        ("sparse_logreg", {"n": 200, "density": 0.2, "l2": 0.01, "seed": 5}),
    ]
    + [("formula", {"formula": text}) for text in FORMULAS]
)


def points(surf: surfaces.Surface) -> np.ndarray:
    """A 6 × 6 grid over the plot bounds plus 12 random points inside them."""
    (x0, x1), (y0, y1) = surf.bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, 6), np.linspace(y0, y1, 6))
    rng = np.random.default_rng(7)
    extra = np.column_stack([rng.uniform(x0, x1, 12), rng.uniform(y0, y1, 12)])
    return np.vstack([np.column_stack([gx.ravel(), gy.ravel()]), extra])


def evaluate(surf: surfaces.Surface) -> dict[str, np.ndarray]:
    """Every formula of ``surf`` at :func:`points`: columns f | gx gy | bgx bgy | hxx hxy hyy |
    gnxx gnxy gnyy (the mini-batch is every third row, last first)."""
    pts = points(surf)
    p, dx, dy = surf.kernel_params, surf.data_x, surf.data_y
    n = dy.shape[0]
    full = np.arange(n)
    batch = np.arange(n)[::3][::-1].copy()
    out = np.empty((len(pts), 11))
    for i, (x, y) in enumerate(pts):
        out[i, 0] = K.value(surf.id, x, y, p, dx, dy)
        out[i, 1:3] = K.gradient(surf.id, x, y, p, dx, dy, full, n)
        out[i, 3:5] = K.gradient(surf.id, x, y, p, dx, dy, batch, batch.shape[0])
        out[i, 5:8] = K.hessian(surf.id, x, y, p, dx, dy)
        out[i, 8:11] = K.gauss_newton(surf.id, x, y, p, dx, dy)
    return {"points": pts, "values": out}


def case_key(name: str, params: dict) -> str:
    return name + json.dumps(params, sort_keys=True)


def main() -> None:
    arrays: dict[str, np.ndarray] = {}
    for i, (name, params) in enumerate(CASES):
        got = evaluate(surfaces.get(name, **params))
        arrays[f"case{i}_points"] = got["points"]
        arrays[f"case{i}_values"] = got["values"]
    arrays["cases"] = np.array(json.dumps(CASES))
    np.savez(HERE / "surface_values" / "values.npz", **arrays)
    print(f"recorded {len(CASES)} cases")


if __name__ == "__main__":
    main()
