r"""Curvature along the paths: the Hessian's eigenvalues, the condition number, GD's stability edge
2/η, and on a quadratic the per-eigendirection factors and the momentum stability region.

On a quadratic f = ½ θᵀHθ, gradient descent acts on each eigen-coordinate cᵢ of θ separately:
cᵢ ← (1 − ηλᵢ) cᵢ. So |1 − ηλᵢ| < 1 (0 < ηλᵢ < 2) is convergence along qᵢ; 1 < ηλᵢ < 2 flips the
sign every step (a zig-zag that still shrinks); ηλ_max > 2, i.e. λ_max > 2/η, makes the steep
coordinate flip sign *and grow*: GD oscillates and diverges (CS231n: "jitter along the steep
direction"; the condition number is λ_max/λ_min, "ratio of largest to smallest singular value of
the Hessian").

Heavy-ball momentum (CS231n v ← ρv + ∇f, θ ← θ − ηv) on one eigen-coordinate with h = ηλ is the
linear recurrence (c, v) ↦ ((1 − h)c − ηβv, …) whose characteristic polynomial is
z² − (1 + β − h) z + β; it converges iff both roots have |z| < 1, i.e. 0 < h < 2(1 + β) for
0 ≤ β < 1. Nesterov's form gives z² − (1 + β)(1 − h) z + β(1 − h), stable for
0 < h < 2(1 + β)/(1 + 2β). The EMA form v ← βv + (1 − β)g is heavy ball with h = (1 − β)ηλ.
Pure NumPy: no Streamlit, no Plotly.
"""

from __future__ import annotations

import numpy as np

import surfaces
from optviz.engine import Trajectory
from optviz.state import eig2


def eigenvalues(surface: surfaces.Surface, xy: np.ndarray) -> np.ndarray:
    """λ₁ ≥ λ₂ of the analytic Hessian at each point of ``xy`` (n, 2): shape (n, 2), NaN rows
    where xy is NaN."""
    xy = np.asarray(xy, np.float64)
    ok = np.isfinite(xy).all(axis=1)
    out = np.full((xy.shape[0], 2), np.nan)
    if ok.any():
        lam, _ = eig2(surface.hessian(xy[ok, 0], xy[ok, 1]))
        out[ok] = lam
    return out


def condition_number(lam: np.ndarray) -> np.ndarray:
    """|λ|_max / |λ|_min per row (∞ where an eigenvalue is 0; for an indefinite Hessian it is
    the ratio of the curvatures' magnitudes)."""
    a = np.abs(np.asarray(lam, np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.max(a, axis=-1) / np.min(a, axis=-1)


def path_curvature(surface: surfaces.Surface, traj: Trajectory) -> dict[str, np.ndarray]:
    """Along one run, per iterate k: ``lam`` (λ₁ ≥ λ₂ of ∇²f(θ_k)), ``lam_max`` (the larger
    eigenvalue), ``cond`` (condition number), ``edge`` (2/η of the update leaving θ_k, NaN for
    the last iterate) and ``ratio`` = η·λ_max/2 (> 1: beyond GD's stability edge)."""
    lam = eigenvalues(surface, traj.xy)
    lam[traj.stopped_at + 1 :] = np.nan
    lr = np.asarray(traj.lr, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        edge = 2.0 / lr
    return {
        "lam": lam,
        "lam_max": lam[:, 0],
        "cond": condition_number(lam),
        "edge": edge,
        "ratio": lr * lam[:, 0] / 2.0,
    }


def edge_crossings(lam_max: np.ndarray, edge: np.ndarray) -> np.ndarray:
    """The iterates k where λ_max(θ_k) rises above 2/η_k (it was at or below at k − 1, or k is
    the first iterate): where GD's steepest direction starts to grow while flipping sign."""
    above = np.asarray(lam_max) > np.asarray(edge)
    prev = np.concatenate([[False], above[:-1]])
    return np.flatnonzero(above & ~prev)


def gd_factors(lam: np.ndarray, lr: float | np.ndarray) -> np.ndarray:
    """|1 − ηλᵢ|: how much gradient descent multiplies the distance along eigenvector i per
    step on a quadratic (< 1 converges, > 1 diverges)."""
    return np.abs(1.0 - np.asarray(lr, np.float64)[..., None] * np.asarray(lam, np.float64))


MOMENTUM_FORMS = ("heavy_ball", "nesterov")


def spectral_radius(h: np.ndarray, beta: np.ndarray, form: str = "heavy_ball") -> np.ndarray:
    """Largest |z| of the roots of the momentum recurrence's characteristic polynomial on one
    eigen-coordinate with h = ηλ (see the module docstring): < 1 converges, > 1 diverges."""
    h, beta = np.broadcast_arrays(np.asarray(h, np.float64), np.asarray(beta, np.float64))
    if form == "heavy_ball":
        b, c = -(1.0 + beta - h), beta
    elif form == "nesterov":
        b, c = -(1.0 + beta) * (1.0 - h), beta * (1.0 - h)
    else:
        raise ValueError(f"form must be one of {MOMENTUM_FORMS}, got {form!r}")
    disc = (b * b - 4.0 * c).astype(np.complex128)
    root = np.sqrt(disc)
    return np.maximum(np.abs((-b + root) / 2.0), np.abs((-b - root) / 2.0))


def run_momentum(traj: Trajectory) -> tuple[float, float, str] | None:
    """(η, β, form) of a run whose dynamics on a quadratic is the heavy-ball or Nesterov
    recurrence: GD (β = 0), Momentum (torch and lr_inside forms; the EMA form without bias
    correction as η(1 − β)), Nesterov. None for the others (adaptive steps, second order)."""
    c = traj.config
    if c.get("schedule", {}).get("name", "constant") != "constant" or c.get("weight_decay"):
        return None
    name = traj.optimizer
    lr = float(c["lr"])
    if name == "gd":
        return lr, 0.0, "heavy_ball"
    if name == "momentum" and float(c.get("dampening", 0.0)) == 0.0:
        b = float(c["beta1"])
        if c["momentum_form"] in ("torch", "lr_inside"):
            return lr, b, "heavy_ball"
        if c["momentum_form"] == "ema" and not c["bias_correction"]:
            return lr * (1.0 - b), b, "heavy_ball"
        return None
    if name == "nesterov":
        return lr, float(c["beta1"]), "nesterov"
    return None


def stability_region(
    lam: np.ndarray, lrs: np.ndarray, betas: np.ndarray, form: str = "heavy_ball"
) -> np.ndarray:
    """Max over the eigenvalues ``lam`` of the spectral radius on a grid: shape
    (len(betas), len(lrs)); the region where it is < 1 is where the method converges."""
    h = np.asarray(lrs, np.float64)[None, :, None] * np.asarray(lam, np.float64)[None, None, :]
    b = np.asarray(betas, np.float64)[:, None, None]
    return spectral_radius(h, b, form).max(axis=-1)
