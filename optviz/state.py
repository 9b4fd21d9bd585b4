r"""The optimizer's state per step, by name: what :attr:`optviz.Trajectory.state` holds.

The kernel records its raw state slots (:data:`optviz._layout.N_STATE` numbers per row, see the
layout there) after every update when ``optviz.run(..., record_state=True)``; this module names
them and derives what the lectures write down: m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), the Hessian
approximation B = V⁻¹ of the quasi-Newton methods, …

Row convention (the same as ``xy``): row k holds the state *after* update k, and the values
update k used (its gradient ``g``, its η ``lr``, its per-coordinate step ``step_size``, the
matrix H it stepped with); row 0 is the state before the first update (its update values are
NaN). Rows after ``stopped_at`` are NaN. Vectors have shape (steps + 1, 2), matrices
(steps + 1, 2, 2).

Names (only those the optimizer has):

- ``g``: the gradient update k used (mini-batch, noise and L2 weight decay *not* added; the
  look-ahead gradient ∇f(θ − βv) for Nesterov's look-ahead form), ``lr``: its scheduled η,
  ``step_size``: its effective per-coordinate step (η/(√v̂ + ε)·… for adaptive methods, η for
  GD and momentum, the line-search α for line-search methods);
- ``m``: momentum buffer / velocity v of Momentum and Nesterov, Adam's first moment m;
  ``m_hat``: m/(1 − β₁ᵗ) where bias correction is on;
- ``v``: RMSProp's and Adam's second moment; ``G``: AdaGrad's sum of squared gradients;
  ``v_hat``: v/(1 − β₂ᵗ) (AMSGrad: v_max/(1 − β₂ᵗ), what its denominator uses);
  ``v_max``: AMSGrad's running max; ``g_avg``: centered RMSProp's running mean ḡ;
- QHM: ``m`` (its EMA buffer); QHAdam: ``m_hat``, ``v_hat`` (it keeps the bias-corrected averages
  themselves, as qhoptim does); Lion: ``m`` and ``c`` = β₁m_{t−1} + (1−β₁)g_t, whose sign is the
  step; Adamax: ``m``, ``u`` (the decaying max of |g| + ε) and ``beta1_t``;
- ``beta1_t``, ``beta2_t``: β₁ᵗ and β₂ᵗ as the kernel tracks them (by multiplication);
- ``beta1_t``, ``beta2_t``: β₁ᵗ and β₂ᵗ as the kernel tracks them (by multiplication; RAdam
  and AdaBelief: pow(β, t), as torch and optax compute them);
  RAdam's ``rho_inf``, ``rho`` (ρ∞, ρ_t: the step is rectified when ρ_t > 5) and ``rect`` (r_t,
  NaN on the un-adapted steps); AdaBelief's ``s``, ``s_hat`` (the belief s = EMA of (g − m)²,
  and s/(1 − β₂ᵗ)); Rprop's ``step_sizes`` (Δ per coordinate) and ``g_last`` (the gradient kept
  for the next sign test, 0 where the sign flipped); full-matrix AdaGrad's ``G`` = Σ g gᵀ (2×2)
  and ``preconditioner`` (εI + G)^{-1/2};
  ``mu``, ``mu_next``, ``mu_product``: NAdam's μₜ, μₜ₊₁ and ∏μᵢ;
- ``hessian``: the true Hessian ∇²f at θ_k (every optimizer);
- ``H``: the matrix update k stepped with: Newton's Hessian at θ_{k−1} (guarded: |H|_ε, the
  eigenvalues' absolute values floored at ε), BFGS/DFP/L-BFGS's approximation B = V⁻¹,
  Levenberg–Marquardt's JᵀJ + νI; ``V``: the quasi-Newton inverse-Hessian estimate;
  ``nu``: Levenberg–Marquardt's ν;
- ``slow``: Lookahead's slow weights φ (with ``lookahead_k`` > 0; the path is the fast weights).
"""

from __future__ import annotations

import math

import numpy as np

import surfaces
from optviz import _layout as L

NAN2 = (math.nan, math.nan)


def _shift(a: np.ndarray) -> np.ndarray:
    """Per-update values (row k = update k+1) moved to the after-update rows (row 0 NaN)."""
    out = np.full_like(a, np.nan)
    out[1:] = a[:-1]
    return out


def _vec(rec: np.ndarray, a: int, b: int) -> np.ndarray:
    return np.ascontiguousarray(rec[:, [a, b]])


def eig2(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (λ₁ ≥ λ₂) and unit eigenvectors (columns) of symmetric 2×2 matrices, shape
    (..., 2, 2), in closed form as Newton's rule computes them (NaN in, NaN out)."""
    a, b, c = h[..., 0, 0], 0.5 * (h[..., 0, 1] + h[..., 1, 0]), h[..., 1, 1]
    mean = 0.5 * (a + c)
    rad = np.hypot(0.5 * (a - c), b)
    lam = np.stack([mean + rad, mean - rad], axis=-1)
    vx = np.where(b != 0.0, mean + rad - c, np.where(a >= c, 1.0, 0.0))
    vy = np.where(b != 0.0, b, np.where(a >= c, 0.0, 1.0))
    nrm = np.hypot(vx, vy)
    with np.errstate(invalid="ignore", divide="ignore"):
        vx, vy = vx / nrm, vy / nrm
    vecs = np.stack([np.stack([vx, -vy], -1), np.stack([vy, vx], -1)], axis=-2)
    return lam, vecs


def guarded(h: np.ndarray, eps: float) -> np.ndarray:
    """|H|_ε = Q max(|Λ|, ε) Qᵀ: the matrix guarded Newton steps with."""
    lam, q = eig2(h)
    m = np.maximum(np.abs(lam), eps)
    return np.einsum("...ik,...k,...jk->...ij", q, m, q)


def full_adagrad_parts(G: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """(εI + G)^{-1/2} of full-matrix AdaGrad's G (shape (..., 2, 2)) as the kernel computes it:
    (adj(εI + G) + sI)/(sτ), s = √det(εI + G), τ = √(tr(εI + G) + 2s). Returns the matrix
    adj(εI + G) + sI and sτ separately, so a step can be formed with the kernel's operations:
    η/(sτ) · ((adj + sI) g). With ε = 0 and G of rank one: G and (tr G)^{3/2} (pseudo-inverse)."""
    from optviz._rules import _RANK_ONE

    g00, b, g11 = G[..., 0, 0], G[..., 0, 1], G[..., 1, 1]
    a, c = g00 + eps, g11 + eps
    det_g = np.maximum(g00 * g11 - b * b, 0.0)
    s = np.sqrt(eps * (eps + g00 + g11) + det_g)
    tau = np.sqrt(a + c + 2.0 * s)
    adj = np.stack([np.stack([c + s, -b], -1), np.stack([-b, a + s], -1)], -2)
    den = s * tau
    if eps == 0.0:  # the kernel's pseudo-inverse G/(tr G)^{3/2} while G is rank one
        single = det_g <= _RANK_ONE * g00 * g11
        t = np.sqrt(a + c)
        adj = np.where(single[..., None, None], G, adj)
        den = np.where(single, t * t * t, den)
    return adj, den


def lbfgs_inverse(pairs: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """The inverse-Hessian estimate V that L-BFGS's two-loop recursion applies, from its stored
    pairs (s, r), oldest first: the recursion run on the unit vectors (it is linear in q)."""
    out = np.empty((2, 2))
    for col, q0 in enumerate(np.eye(2)):
        q = q0.copy()
        alphas = []
        for s, r in reversed(pairs):
            a = (s @ q) / (r @ s)
            alphas.append(a)
            q = q - a * r
        gamma = 1.0
        if pairs:
            s, r = pairs[-1]
            gamma = (s @ r) / (r @ r)
        z = gamma * q
        for (s, r), a in zip(pairs, reversed(alphas), strict=True):
            b = (r @ z) / (r @ s)
            z = z + s * (a - b)
        out[:, col] = z
    return out


def _lbfgs_V(rec: np.ndarray, grad: np.ndarray, last: int, m: int) -> np.ndarray:
    """V of every update, rebuilt from the recorded s, previous g and the gradients: the pair
    (s, r) joins the memory under the kernel's condition sᵀr > 10⁻¹² ‖s‖‖r‖."""
    V = np.full((rec.shape[0], 2, 2), np.nan)
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    for u in range(last):
        prev = rec[u]
        s = np.array([prev[L.SX], prev[L.SY]])
        if s[0] != 0.0 or s[1] != 0.0:
            r = grad[u] - np.array([prev[L.GX_PREV], prev[L.GY_PREV]])
            if s @ r > 1e-12 * math.hypot(*s) * math.hypot(*r):
                pairs = (pairs + [(s, r)])[-m:]
        V[u + 1] = lbfgs_inverse(pairs)
    return V


def named_state(
    optimizer: str,
    surf: surfaces.Surface,
    resolved: dict,
    hp: np.ndarray,
    flags: np.ndarray,
    rec: np.ndarray,
    xy: np.ndarray,
    grad: np.ndarray,
    lr: np.ndarray,
    eff: np.ndarray,
) -> dict[str, np.ndarray]:
    """The named state arrays of one recorded run (see the module docstring)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return _named(optimizer, surf, resolved, hp, flags, rec, xy, grad, lr, eff)


def _named(optimizer, surf, resolved, hp, flags, rec, xy, grad, lr, eff):  # noqa: ANN001, ANN202
    n = rec.shape[0]
    valid = np.isfinite(xy[:, 0])
    last = int(np.flatnonzero(valid)[-1]) if valid.any() else 0
    out: dict[str, np.ndarray] = {
        "g": _shift(grad),
        "lr": _shift(lr),
        "step_size": _shift(eff),
        "hessian": np.where(valid[:, None, None], surf.hessian(*np.nan_to_num(xy).T), np.nan),
    }
    out["g"][last + 1 :] = np.nan
    b1t, b2t = rec[:, L.BP1], rec[:, L.BP2]
    bias = bool(flags[L.BIAS_CORRECTION])
    m = _vec(rec, L.M0, L.M1)
    v = _vec(rec, L.V0, L.V1)
    if optimizer in ("momentum", "nesterov"):
        out["m"] = m
        if optimizer == "momentum" and resolved["momentum_form"] == "ema" and bias:
            out["beta1_t"] = b1t.copy()
            out["m_hat"] = m / (1.0 - b1t)[:, None]
    elif optimizer == "adagrad":
        out["G"] = v
    elif optimizer == "rmsprop":
        out["v"] = v
        if resolved["centered"]:
            out["g_avg"] = _vec(rec, L.GAVG0, L.GAVG1)
    elif optimizer in ("adam", "adamw", "amsgrad", "nadam"):
        out["m"], out["v"] = m, v
        out["beta2_t"] = b2t.copy()
        used = v
        if optimizer == "amsgrad":
            out["v_max"] = used = _vec(rec, L.VMAX0, L.VMAX1)
        if optimizer == "nadam":
            t = np.arange(n, dtype=np.float64)
            b1 = hp[L.BETA1]
            if resolved["nadam_schedule"] == "torch":
                psi = hp[L.MOMENTUM_DECAY]
                mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
                mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
            else:
                mu = np.full(n, b1)
                mu_next = np.full(n, b1)
            mu[0] = mu_next[0] = math.nan
            out["mu"], out["mu_next"] = mu, mu_next
            out["mu_product"] = rec[:, L.MU_PRODUCT].copy()
            out["v_hat"] = v / (1.0 - b2t)[:, None]
        else:
            out["beta1_t"] = b1t.copy()
            if bias:
                out["m_hat"] = m / (1.0 - b1t)[:, None]
                out["v_hat"] = used / (1.0 - b2t)[:, None]
    elif optimizer == "qhm":
        out["m"] = m
    elif optimizer == "qhadam":
        # qhoptim's order: the kernel keeps the bias-corrected averages themselves.
        out["m_hat"], out["v_hat"] = m, v
    elif optimizer == "lion":
        out["m"] = m
        c = np.full((n, 2), np.nan)
        b1 = hp[L.BETA1]
        c[1:] = (1.0 - b1) * out["g"][1:] + b1 * m[:-1]  # the kernel's operations
        out["c"] = c
    elif optimizer == "adamax":
        out["m"], out["u"] = m, v
        out["beta1_t"] = b1t.copy()
    # ---- opt-b: RAdam, Rprop, AdaBelief, full-matrix AdaGrad ----
    elif optimizer in ("radam", "adabelief"):
        out["m"] = m
        out["s" if optimizer == "adabelief" else "v"] = v
        out["beta1_t"], out["beta2_t"] = b1t.copy(), b2t.copy()
        out["m_hat"] = m / (1.0 - b1t)[:, None]
        out["s_hat" if optimizer == "adabelief" else "v_hat"] = v / (1.0 - b2t)[:, None]
        if optimizer == "radam":
            t = np.arange(n, dtype=np.float64)
            b2 = float(hp[L.BETA2])
            rho_inf = 2.0 / (1.0 - b2) - 1.0
            rho = rho_inf - 2.0 * t * b2t / (1.0 - b2t)
            rho[0] = math.nan
            out["rho_inf"] = np.full(n, rho_inf)
            out["rho"] = rho
            rect = np.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            out["rect"] = np.where(rho > 5.0, rect, np.nan)
    elif optimizer == "rprop":
        out["step_sizes"] = _vec(rec, L.RP_STEP0, L.RP_STEP1)
        out["g_last"] = _vec(rec, L.RP_GPREV0, L.RP_GPREV1)
    elif optimizer == "adagrad_full":
        out["G"] = rec[:, [L.G00, L.G01, L.G01, L.G11]].reshape(n, 2, 2).copy()
        adj, den = full_adagrad_parts(out["G"], float(hp[L.EPS]))
        out["preconditioner"] = adj / den[:, None, None]
    elif optimizer == "newton":
        h_prev = np.full((n, 2, 2), np.nan)
        h_prev[1 : last + 1] = out["hessian"][:last]
        if resolved["newton_form"] == "guarded":
            h_prev = guarded(h_prev, float(hp[L.EPS]))
        out["H"] = h_prev
    elif optimizer in ("bfgs", "dfp", "lbfgs"):
        if optimizer == "lbfgs":
            V = _lbfgs_V(rec, grad, last, int(flags[L.HISTORY_SIZE]))
        else:
            V = rec[:, [L.H00, L.H01, L.H10, L.H11]].reshape(n, 2, 2).copy()
        out["V"] = V
        ok = np.isfinite(V).all(axis=(1, 2)) & (np.abs(np.linalg.det(np.nan_to_num(V))) > 0)
        ok[0] = False  # row 0: no update yet
        B = np.full_like(V, np.nan)
        B[ok] = np.linalg.inv(V[ok])
        out["H"] = B
    elif optimizer == "levenberg_marquardt":
        from surfaces._kernels import gauss_newton

        nu = rec[:, L.NU].copy()
        out["nu"] = nu
        H = np.full((n, 2, 2), np.nan)
        for k in range(1, last + 1):
            x, y = xy[k - 1]
            a, b, c = gauss_newton(surf.id, x, y, surf.kernel_params, surf.data_x, surf.data_y)
            H[k] = [[a + nu[k - 1], b], [b, c + nu[k - 1]]]
        out["H"] = H
    if resolved.get("lookahead_k"):
        out["slow"] = _vec(rec, L.SLOW_X, L.SLOW_Y)
        out["slow"][0] = xy[0]  # φ₀ = θ₀ (the kernel stores it at the first update)
    for key, arr in out.items():
        if key not in ("hessian",):
            arr[last + 1 :] = np.nan
    return out
