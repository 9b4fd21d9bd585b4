"""Record golden full-matrix AdaGrad trajectories, written from the lecture's formula.

No library implements full-matrix AdaGrad, so its reference is this loop, written from the
Vietnamese Adam deck (/work/shared/lectures/000_*.txt, "Kiến thức nền tảng AdaGrad"):

    g_t = ∇_θ L(θ_t),   G_t = G_{t-1} + g_t g_tᵀ,   θ_{t+1} = θ_t − η/√(G_t + ε) · g_t

with √(G_t + ε) read as the matrix square root of εI + G_t, inverted: (εI + G)^{-1/2} comes from
``numpy.linalg.eigh`` (Q diag(λ^{-1/2}) Qᵀ), not from optviz's closed form, so the test compares
two independent computations. Run from the repository root:
``/work/refvenv/bin/python tests/golden/record_lecture.py [case ...]`` (no case names: every
case). Float64; the gradient is the closed form of :mod:`problems`. Same .npz format as
``record_torch.py`` (the ``torch_call`` field says what produced the path).

Both computations lose digits at the first step: G = g gᵀ is singular there, so εI + G has
condition number ‖g‖²/ε (5·10¹² on Rosenbrock with ε = 10⁻⁸) and each side is off the exact
θ − η g/√(ε + ‖g‖²) by ~10⁻¹². The cases avoid η where Rosenbrock's path is chaotic (η = 0.1
there amplifies those 10⁻¹² to 10⁻² within 400 steps; η = 0.05 and 0.2 keep them below 10⁻¹¹).
"""

from __future__ import annotations

import sys

import numpy as np
from problems import PROBLEMS, STEPS, save

# name -> (lr η, ε, optviz.run kwargs)
CASES: dict[str, tuple[float, float, dict]] = {
    "adagrad_full": (0.05, 1e-8, {"optimizer": "adagrad_full", "lr": 0.05, "eps": 1e-8}),
    "adagrad_full_eps": (0.2, 1e-2, {"optimizer": "adagrad_full", "lr": 0.2, "eps": 1e-2}),
    "adagrad_full_beale": (
        0.2,
        1e-8,
        {"optimizer": "adagrad_full", "lr": 0.2, "eps": 1e-8, "surface": "beale"},
    ),
}


def inverse_sqrt(a: np.ndarray) -> np.ndarray:
    """A^{-1/2} of a symmetric positive definite matrix, from its eigendecomposition."""
    lam, q = np.linalg.eigh(a)
    return (q / np.sqrt(lam)) @ q.T


def record(lr: float, eps: float, surface: str) -> np.ndarray:
    """Positions after 0…STEPS updates."""
    _, gradient, start = PROBLEMS[surface]
    theta = np.array(start, dtype=np.float64)
    G = np.zeros((2, 2))
    out = np.empty((STEPS + 1, 2))
    out[0] = theta
    for k in range(STEPS):
        g = np.array(gradient(float(theta[0]), float(theta[1])))
        G = G + np.outer(g, g)
        theta = theta - lr * (inverse_sqrt(eps * np.eye(2) + G) @ g)
        out[k + 1] = theta
    return out


def main(names: list[str]) -> None:
    for name in names or list(CASES):
        lr, eps, run_kwargs = CASES[name]
        surface = run_kwargs.get("surface", "rosenbrock")
        text = (
            f"lecture 000 full-matrix AdaGrad, numpy {np.__version__} eigh: "
            f"G += g gᵀ, θ −= η (εI + G)^(-1/2) g with η = {lr:g}, ε = {eps:g} on {surface}"
        )
        save(name, record(lr, eps, surface), run_kwargs, text)


if __name__ == "__main__":
    main(sys.argv[1:])
