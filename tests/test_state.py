"""``optviz.run(..., record_state=True)``: the optimizer state per step, against the lectures.

Each ``hand`` branch below is the lecture / torch formula written out in plain Python for two
steps (the lectures' m, v, G, m̂, v̂ and the per-coordinate step); the recorded state must agree to
1e-12 relative. Recording must not change the path, and the batch does not see it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import optviz
import surfaces
from optviz import _batch, _kernel

RTOL = 1e-12
# f = ½(x² + 10y²) rotated by 30°: both coordinates feel both curvatures.
SURF = surfaces.get("ravine", kappa=10.0, angle=30.0)
START = (1.5, -0.8)


def grad(theta):
    return SURF.gradient(*theta)


def hand(name: str, o: dict, steps: int = 2) -> list[dict]:
    """The state after updates 1..steps, from the formulas (β₁ = b1, β₂ = b2, η = lr)."""
    th = np.array(START)
    lr, b1, b2, eps = o.get("lr"), o.get("beta1"), o.get("beta2"), o.get("eps")
    m = np.zeros(2)
    v = np.zeros(2)
    vmax = np.zeros(2)
    gbar = np.zeros(2)
    mu_prod = 1.0
    G, delta, g_prev = np.zeros((2, 2)), np.full(2, lr), np.zeros(2)  # opt-b
    out = []
    for t in range(1, steps + 1):
        rec: dict = {}
        if name == "gd":
            g = grad(th)
            th = th - lr * g
            rec["step_size"] = np.array([lr, lr])
        elif name == "momentum":
            g = grad(th)
            form = o.get("momentum_form", "torch")
            if form == "torch":  # CS231n v = ρv + ∇f (torch: v₁ = g₁, dampening τ)
                m = g.copy() if t == 1 else b1 * m + (1 - o.get("dampening", 0.0)) * g
                th = th - lr * m
            elif form == "ema":  # Ng / Hung-yi Lee: v = βv + (1−β)g
                m = b1 * m + (1 - b1) * g
                if o.get("bias_correction"):
                    rec["m_hat"] = m / (1 - b1**t)
                    th = th - lr * rec["m_hat"]
                else:
                    th = th - lr * m
            else:  # Sutskever / Polish deck: m ← βm + η∇E, θ ← θ − m
                m = b1 * m + lr * g
                th = th - m
            rec["m"] = m
        elif name == "nesterov":
            if o.get("nesterov_form", "torch") == "torch":
                g = grad(th)
                m = g.copy() if t == 1 else b1 * m + g
                th = th - lr * (g + b1 * m)
            else:  # v ← βv + η∇f(θ − βv), θ ← θ − v
                g = grad(th - b1 * m)
                m = b1 * m + lr * g
                th = th - m
            rec["m"] = m
        elif name == "adagrad":
            g = grad(th)
            v = v + g * g
            clr = lr / (1 + (t - 1) * o.get("lr_decay", 0.0))
            inside = o.get("eps_placement") == "inside"
            rec["step_size"] = clr / (np.sqrt(v + eps) if inside else np.sqrt(v) + eps)
            th = th - rec["step_size"] * g
            rec["G"] = v
        elif name == "rmsprop":
            g = grad(th)
            if t == 1 and o.get("accumulator_init") == "first_grad":
                v = g * g  # Hung-yi Lee: σ⁰ = |g⁰|
            else:
                v = b2 * v + (1 - b2) * g * g
            rec["v"] = v
            denom_v = v
            if o.get("centered"):
                gbar = b2 * gbar + (1 - b2) * g
                rec["g_avg"] = gbar
                denom_v = v - gbar * gbar
            inside = o.get("eps_placement") == "inside"
            rec["step_size"] = lr / (np.sqrt(denom_v + eps) if inside else np.sqrt(denom_v) + eps)
            th = th - rec["step_size"] * g
        elif name in ("adam", "amsgrad", "adamw"):
            g = grad(th)
            if name == "adamw":  # θ ← (1 − ηλ)θ before the Adam step
                th = th * (1 - lr * o["weight_decay"])
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            rec["m"], rec["v"] = m, v
            used = v
            if name == "amsgrad":
                vmax = np.maximum(vmax, v)
                rec["v_max"] = used = vmax
            bias = o.get("bias_correction", True)
            mh = m / (1 - b1**t) if bias else m
            vh = used / (1 - b2**t) if bias else used
            if bias:
                rec["m_hat"], rec["v_hat"] = mh, vh
            inside = o.get("eps_placement") == "inside"
            d = np.sqrt(vh + eps) if inside else np.sqrt(vh) + eps
            th = th - lr * mh / d
            rec["step_size"] = (lr / (1 - b1**t) if bias else lr) / d
        elif name == "nadam":
            g = grad(th)
            if o.get("nadam_schedule", "torch") == "torch":
                psi = 4e-3
                mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
                mu_n = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
            else:
                mu = mu_n = b1
            mu_prod *= mu
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            vh = v / (1 - b2**t)
            d = np.sqrt(vh) + eps
            th = th - lr * ((1 - mu) * g / (1 - mu_prod) + mu_n * m / (1 - mu_prod * mu_n)) / d
            rec.update(m=m, v=v, v_hat=vh, mu=mu, mu_next=mu_n, mu_product=mu_prod)
            rec["step_size"] = lr / d
        elif name == "qhm":  # Ma & Yarats: m ← βm + (1−β)g, θ ← θ − η[(1−ν)g + νm]
            g = grad(th)
            m = b1 * m + (1 - b1) * g
            th = th - lr * ((1 - o["nu"]) * g + o["nu"] * m)
            rec["m"], rec["step_size"] = m, np.array([lr, lr])
        elif name == "qhadam":  # Adam's m̂, v̂, each mixed with the current g, g²
            g = grad(th)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            mh, vh = m / (1 - b1**t), v / (1 - b2**t)
            nu1, nu2 = o["nu1"], o["nu2"]
            d = np.sqrt((1 - nu2) * g * g + nu2 * vh) + eps
            th = th - lr * ((1 - nu1) * g + nu1 * mh) / d
            rec["m_hat"], rec["v_hat"], rec["step_size"] = mh, vh, lr / d
        elif name == "lion":  # Chen et al.: c = β₁m + (1−β₁)g, θ ← θ − η(sign c + λθ)
            g = grad(th)
            c = b1 * m + (1 - b1) * g
            th = th - lr * (np.sign(c) + o.get("weight_decay", 0.0) * th)
            m = b2 * m + (1 - b2) * g
            rec["c"], rec["m"], rec["step_size"] = c, m, np.array([lr, lr])
        elif name == "adamax":  # Kingma & Ba, Algorithm 2 (torch: ε inside the max)
            g = grad(th)
            m = b1 * m + (1 - b1) * g
            v = np.maximum(b2 * v, np.abs(g) + eps)
            th = th - lr / (1 - b1**t) * m / v
            rec["m"], rec["u"], rec["beta1_t"] = m, v, b1**t
            rec["step_size"] = lr / (1 - b1**t) / v
        # ---- opt-b: RAdam, Rprop, AdaBelief, full-matrix AdaGrad ----
        elif name == "radam":  # Liu et al. (2020): ρ_t ≤ 5 for t ≤ 2, so −η m̂ (torch's RAdam)
            g = grad(th)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            rho_inf = 2 / (1 - b2) - 1
            rec.update(m=m, v=v, m_hat=m / (1 - b1**t), v_hat=v / (1 - b2**t))
            rec["rho"] = rho_inf - 2 * t * b2**t / (1 - b2**t)
            th = th - lr * rec["m_hat"]
            rec["step_size"] = np.full(2, lr / (1 - b1**t))
        elif name == "rprop":  # Riedmiller & Braun (1993), torch's Rprop: Δ₀ = η, η± = 1.2, 0.5
            g = grad(th)
            flip = g * g_prev < 0
            delta = np.clip(
                np.where(g * g_prev > 0, 1.2, np.where(flip, 0.5, 1.0)) * delta, 1e-6, 50
            )
            g_prev = np.where(flip, 0.0, g)
            th = th - np.sign(g_prev) * delta
            rec.update(step_sizes=delta, g_last=g_prev, step_size=delta)
        elif name == "adabelief":  # Zhuang et al. (2020), optax's eps_root inside s
            g = grad(th)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * (g - m) ** 2 + o["eps_root"]
            mh, sh = m / (1 - b1**t), v / (1 - b2**t)
            rec.update(m=m, s=v, m_hat=mh, s_hat=sh)
            th = th - lr * mh / (np.sqrt(sh) + eps)
            rec["step_size"] = lr / (1 - b1**t) / (np.sqrt(sh) + eps)
        elif name == "adagrad_full":  # the Adam deck (000): G += g gᵀ, θ −= η (εI + G)^{-1/2} g
            g = grad(th)
            G = G + np.outer(g, g)
            lam, q = np.linalg.eigh(G + eps * np.eye(2))
            P = (q / np.sqrt(lam)) @ q.T
            th = th - lr * P @ g
            rec.update(G=G, preconditioner=P, step_size=lr * np.diag(P))
        rec["g"] = g
        rec["xy"] = th
        out.append(rec)
    return out


CASES = [
    ("gd", {"lr": 0.05}),
    ("momentum", {"lr": 0.05, "beta1": 0.9}),
    ("momentum", {"lr": 0.05, "beta1": 0.9, "dampening": 0.3}),
    ("momentum", {"lr": 0.05, "beta1": 0.9, "momentum_form": "ema"}),
    ("momentum", {"lr": 0.05, "beta1": 0.9, "momentum_form": "ema", "bias_correction": True}),
    ("momentum", {"lr": 0.05, "beta1": 0.9, "momentum_form": "lr_inside"}),
    ("nesterov", {"lr": 0.05, "beta1": 0.9}),
    ("nesterov", {"lr": 0.05, "beta1": 0.9, "nesterov_form": "lookahead"}),
    ("adagrad", {"lr": 0.3, "eps": 1e-10}),
    ("adagrad", {"lr": 0.3, "eps": 1e-3, "eps_placement": "inside"}),
    ("adagrad", {"lr": 0.3, "eps": 1e-10, "lr_decay": 0.5}),
    ("rmsprop", {"lr": 0.05, "beta2": 0.9, "eps": 1e-8}),
    ("rmsprop", {"lr": 0.05, "beta2": 0.9, "eps": 1e-3, "eps_placement": "inside"}),
    ("rmsprop", {"lr": 0.05, "beta2": 0.9, "eps": 1e-8, "centered": True}),
    ("rmsprop", {"lr": 0.05, "beta2": 0.9, "eps": 1e-8, "accumulator_init": "first_grad"}),
    ("adam", {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
    ("adam", {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-3, "eps_placement": "inside"}),
    ("adam", {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "bias_correction": False}),
    ("amsgrad", {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
    ("adamw", {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1}),
    ("nadam", {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
    ("nadam", {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "nadam_schedule": "constant"}),
    ("qhm", {"lr": 0.05, "beta1": 0.9, "nu": 0.7}),
    ("qhadam", {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "nu1": 0.7, "nu2": 0.8}),
    ("lion", {"lr": 0.05, "beta1": 0.9, "beta2": 0.99}),
    ("lion", {"lr": 0.05, "beta1": 0.9, "beta2": 0.99, "weight_decay": 0.1}),
    ("adamax", {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
    # ---- opt-b ----
    ("radam", {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
    ("rprop", {"lr": 0.1}),
    ("adabelief", {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "eps_root": 1e-6}),
    ("adagrad_full", {"lr": 0.3, "eps": 0.1}),
]


def _id(case: tuple) -> str:
    name, o = case
    extra = [f"{k}={v}" for k, v in o.items() if k not in ("lr", "beta1", "beta2", "eps")]
    return "-".join([name, *extra])


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_state_equals_the_lecture_formulas_for_two_steps(case):
    name, o = case
    traj = optviz.run(name, SURF, start=START, steps=2, record_state=True, **o)
    expected = hand(name, o)
    for t, rec in enumerate(expected, start=1):
        np.testing.assert_allclose(traj.xy[t], rec.pop("xy"), rtol=RTOL, atol=1e-15)
        for key, value in rec.items():
            assert key in traj.state, f"{key} missing from {sorted(traj.state)}"
            np.testing.assert_allclose(
                traj.state[key][t], value, rtol=RTOL, atol=1e-300, err_msg=f"{key} at step {t}"
            )
    # Row 0 is the state before any update: nothing used yet.
    assert np.isnan(traj.state["g"][0]).all() and np.isnan(traj.state["step_size"][0]).all()


def test_second_order_state_holds_the_matrix_each_update_used():
    # Textbook Newton steps with the true Hessian; BFGS's H is the inverse of its V.
    newton = optviz.run("newton", "rosenbrock", start=(-1.2, 1.0), steps=3, record_state=True,
                        newton_form="textbook")  # fmt: skip
    h = surfaces.get("rosenbrock").hessian(*newton.xy[:3].T)
    np.testing.assert_array_equal(newton.state["H"][1:4], h)
    np.testing.assert_array_equal(newton.state["hessian"][:4], surfaces.get("rosenbrock").hessian(
        *newton.xy[:4].T))  # fmt: skip
    for name in ("bfgs", "dfp", "lbfgs"):
        tr = optviz.run(name, "rosenbrock", start=(-1.2, 1.0), steps=12, record_state=True)
        n = tr.stopped_at
        for k in range(1, n + 1):
            V, B = tr.state["V"][k], tr.state["H"][k]
            np.testing.assert_allclose(V @ B, np.eye(2), atol=1e-9)
            # The step is α·(−V g) with α the recorded step size (unless −Vg went uphill).
            step = tr.xy[k] - tr.xy[k - 1]
            d = -V @ tr.state["g"][k]
            if d @ tr.state["g"][k] < 0:
                np.testing.assert_allclose(step, tr.state["step_size"][k, 0] * d, rtol=1e-9,
                                           atol=1e-12 * np.abs(step).max())  # fmt: skip


def test_bfgs_approximation_approaches_the_true_hessian_on_a_quadratic():
    # On a 2-D quadratic with exact line searches, the BFGS estimate V equals H⁻¹ once it holds
    # two pairs (the quasi-Newton condition V r = s for both): at the third update.
    tr = optviz.run("bfgs", SURF, start=START, steps=3, record_state=True, line_search="exact")
    h = SURF.hessian(0.0, 0.0)
    assert not np.allclose(tr.state["V"][2] @ h, np.eye(2), atol=1e-3)
    np.testing.assert_allclose(tr.state["V"][3] @ h, np.eye(2), atol=1e-6)
    np.testing.assert_allclose(tr.state["H"][3], h, rtol=1e-6)


@pytest.mark.parametrize("name", optviz.OPTIMIZERS)
def test_recording_leaves_the_path_bit_identical(name):
    surf = "noisy_linreg" if name == "levenberg_marquardt" else "rosenbrock"
    kw = {"steps": 60, "seed": 3, "schedule": {"name": "step", "step_size": 20, "gamma": 0.5}}
    a = optviz.run(name, surf, **kw)
    b = optviz.run(name, surf, record_state=True, **kw)
    assert a.state is None and b.state is not None
    for field in ("xy", "loss", "grad", "lr", "lr_eff"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert (a.status, a.stopped_at) == (b.status, b.stopped_at)
    for key, arr in b.state.items():
        assert arr.shape[0] == b.xy.shape[0], key
        if key != "hessian":
            assert np.isnan(arr[b.stopped_at + 1 :]).all(), key


def test_a_diverged_run_records_nan_after_it_stopped():
    tr = optviz.run("gd", SURF, start=START, steps=400, lr=0.5, record_state=True)
    assert tr.status == "diverged"
    assert np.isnan(tr.state["g"][tr.stopped_at + 1 :]).all()
    assert np.isfinite(tr.state["g"][1 : tr.stopped_at + 1]).all()


def test_one_signature_per_kernel_with_and_without_recording():
    optviz.run("adam", "ravine", steps=3, record_state=True)
    optviz.run("adam", "ravine", steps=3)
    optviz.run_batch("adam", "ravine", starts=np.zeros((3, 2)), steps=3)
    assert len(_kernel.simulate.signatures) == 1, _kernel.simulate.signatures
    assert len(_batch.simulate_blocked.signatures) == 1


def test_batch_ends_where_a_recorded_run_ends():
    starts = np.array([[1.5, -0.8], [-2.0, 1.0]])
    res = optviz.run_batch("adam", SURF, starts=starts, steps=50, lr=0.1)
    for i, s in enumerate(starts):
        tr = optviz.run("adam", SURF, start=tuple(s), steps=50, lr=0.1, record_state=True)
        np.testing.assert_array_equal(res.final_xy[i], tr.xy[tr.stopped_at])
        assert math.isfinite(tr.state["v_hat"][tr.stopped_at, 0])
