"""RAdam, Rprop, AdaBelief and full-matrix AdaGrad: first steps by hand, from the papers' formulas.

The numbers in the ``*_by_hand`` tests were worked out on paper for the bowl f = ½(x² + 10y²)
(∇f = (x, 10y)) from θ₀ = (1.5, −0.8); the ``paper_*`` loops are the papers' (and the lecture's)
update rules written out in NumPy, never the engine's code, for the steps with less round
numbers. The engine must agree to 1e-12 relative. Their 1000-step goldens against torch.optim,
optax and the lecture's formula (numpy eigh) are in ``tests/golden``; the rotated-ravine test
at the end is the lesson full-matrix AdaGrad is in the app for.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import optviz
import surfaces
from optviz import optimizers

RTOL = 1e-12
BOWL = surfaces.get("ravine", kappa=10.0, angle=0.0)
START = np.array([1.5, -0.8])
NEW = ("radam", "rprop", "adabelief", "adagrad_full")


def grad(theta: np.ndarray) -> np.ndarray:
    return np.array([theta[0], 10.0 * theta[1]])


def engine(name: str, steps: int, start: np.ndarray = START, **kw) -> np.ndarray:
    traj = optviz.run(name, BOWL, start=tuple(start), steps=steps, **kw)
    assert traj.status == "ok"
    return traj.xy


def assert_path(actual: np.ndarray, expected: list | np.ndarray) -> None:
    np.testing.assert_allclose(actual, np.array(expected), rtol=RTOL, atol=1e-15)


# ---- the papers' rules, written out ---------------------------------------------------------


def paper_radam(lr, beta1, beta2, eps, steps, wd=0.0, threshold=5.0) -> list:  # noqa: ANN001
    """Liu et al. (2020), Algorithm 2: l_t = √((1 − β₂ᵗ)/v_t), θ ← θ − α r_t m̂_t l_t when ρ_t is
    above the threshold, else θ ← θ − α m̂_t; with the threshold 5 and ε as torch.optim.RAdam
    has them (the paper writes ρ_t > 4 and no ε; torch adds ε to √v_t)."""
    theta, m, v, path = START.copy(), np.zeros(2), np.zeros(2), [START.copy()]
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    for t in range(1, steps + 1):
        g = grad(theta) + wd * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        rho = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        if rho > threshold:
            l_t = math.sqrt(1 - beta2**t) / (np.sqrt(v) + eps)
            r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            theta = theta - lr * r * m_hat * l_t
        else:
            theta = theta - lr * m_hat
        path.append(theta)
    return path


def paper_adabelief(lr, beta1, beta2, eps, eps_root, steps) -> list:  # noqa: ANN001
    """Zhuang et al. (2020), Algorithm 2: m ← β₁m + (1−β₁)g; s ← β₂s + (1−β₂)(g − m)² + ε;
    θ ← θ − α m̂/(√ŝ + ε) (the ε inside s is optax's eps_root)."""
    theta, m, s, path = START.copy(), np.zeros(2), np.zeros(2), [START.copy()]
    for t in range(1, steps + 1):
        g = grad(theta)
        m = beta1 * m + (1 - beta1) * g
        s = beta2 * s + (1 - beta2) * (g - m) ** 2 + eps_root
        m_hat, s_hat = m / (1 - beta1**t), s / (1 - beta2**t)
        theta = theta - lr * m_hat / (np.sqrt(s_hat) + eps)
        path.append(theta)
    return path


def lecture_adagrad_full(lr: float, eps: float, steps: int, start: np.ndarray = START) -> list:
    """The Adam deck's (000) full-matrix AdaGrad: G_t = G_{t-1} + g gᵀ,
    θ ← θ − η (G_t + εI)^{-1/2} g, the inverse square root from numpy's eigh."""
    theta, G, path = start.copy(), np.zeros((2, 2)), [start.copy()]
    for _ in range(steps):
        g = grad(theta)
        G = G + np.outer(g, g)
        lam, q = np.linalg.eigh(G + eps * np.eye(2))
        theta = theta - lr * ((q / np.sqrt(lam)) @ q.T @ g)
        path.append(theta)
    return path


def lecture_adagrad_full_from(path: np.ndarray, lr: float, steps: int = 5) -> list:
    """The deck's rule with ε = 0 continued from ``path[1]`` (G holds the first gradient)."""
    theta = path[1].copy()
    G = np.outer(grad(path[0]), grad(path[0]))
    out = [theta.copy()]
    for _ in range(steps - 1):
        g = grad(theta)
        G = G + np.outer(g, g)
        lam, q = np.linalg.eigh(G)
        theta = theta - lr * ((q / np.sqrt(lam)) @ q.T @ g)
        out.append(theta)
    return out


# ---- RAdam ----------------------------------------------------------------------------------


def test_radam_first_two_steps_by_hand():
    # β₂ = 0.999: ρ∞ = 1999, ρ₁ = 1999 − 2·0.999/0.001 = 1, ρ₂ = 1999 − 4·0.998001/0.001999
    # ≈ 2.0: both ≤ 5, so both are un-adapted momentum steps θ ← θ − η m̂ (ε plays no part).
    # t = 1: m = 0.1·g₀, m̂ = g₀ = (1.5, −8): θ₁ = θ₀ − 0.1·g₀ = (1.35, 0).
    # t = 2: g₁ = (1.35, 0), m = 0.9·(0.15, −0.8) + 0.1·(1.35, 0) = (0.27, −0.72),
    #        m̂ = m/(1 − 0.81) = (0.27, −0.72)/0.19: θ₂ = (1.35 − 0.027/0.19, 0.072/0.19).
    expected = [START, (1.35, 0.0), (1.35 - 0.027 / 0.19, 0.072 / 0.19)]
    assert_path(engine("radam", 2, lr=0.1), expected)


def test_radam_first_five_steps_are_not_adapted_then_rectified():
    # With β₂ = 0.999, ρ₅ ≈ 4.99 and ρ₆ ≈ 5.99: the warm-up is five plain momentum steps.
    kw = {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    assert_path(engine("radam", 8, **kw), paper_radam(0.01, 0.9, 0.999, 1e-8, 8))
    # The same steps without rectification would be Adam's: the first step differs.
    adam = optviz.run("adam", BOWL, start=tuple(START), steps=1, **kw).xy[1]
    radam = engine("radam", 1, **kw)[1]
    np.testing.assert_allclose(radam, START - 0.01 * grad(START), rtol=RTOL)
    assert not np.allclose(adam, radam)


@pytest.mark.parametrize(
    ("kw", "paper"),
    [
        ({"lr": 0.05, "beta1": 0.8, "beta2": 0.9, "eps": 1e-3}, (0.05, 0.8, 0.9, 1e-3)),
        ({"lr": 0.05, "beta2": 0.99, "weight_decay": 0.3}, (0.05, 0.9, 0.99, 1e-8)),
    ],
)
def test_radam_rectified_steps_follow_the_paper(kw, paper):
    wd = kw.get("weight_decay", 0.0)
    assert_path(engine("radam", 12, **kw), paper_radam(*paper, 12, wd=wd))


def test_radam_is_never_rectified_when_rho_infinity_is_at_most_5():
    # β₂ = 0.6: ρ∞ = 2/0.4 − 1 = 4 ≤ 5, so every step is −η m̂ (bias-corrected momentum).
    kw = {"lr": 0.02, "beta1": 0.9, "beta2": 0.6}
    assert_path(engine("radam", 20, **kw), paper_radam(0.02, 0.9, 0.6, 1e-8, 20))


# ---- Rprop ----------------------------------------------------------------------------------


def test_rprop_first_steps_by_hand():
    # Δ₀ = η = 0.1 per coordinate; g₀ = (1.5, −8).
    # t = 1: no previous gradient (g·g_prev = 0): Δ stays 0.1, θ₁ = θ₀ − 0.1·sign(g₀) = (1.4, −0.7).
    # t = 2: g₁ = (1.4, −7), same signs: Δ = 1.2·0.1 = 0.12: θ₂ = (1.28, −0.58).
    # t = 3: g₂ = (1.28, −5.8), same signs: Δ = 0.144: θ₃ = (1.136, −0.436).
    expected = [START, (1.4, -0.7), (1.28, -0.58), (1.136, -0.436)]
    assert_path(engine("rprop", 3, lr=0.1), expected)


def test_rprop_sign_flip_by_hand():
    # From (1.5, −0.05), Δ₀ = 0.1. y: g = 10y.
    # t = 1: g_y = −0.5: y = −0.05 + 0.1 = 0.05.
    # t = 2: g_y = 0.5, g_y·g_prev < 0: Δ_y = 0.5·0.1 = 0.05 and g_y ← 0: y stays 0.05.
    # t = 3: g_prev = 0 (it was zeroed): factor 1, Δ_y = 0.05, g_y = 0.5: y = 0.05 − 0.05 = 0.
    # t = 4: g_y = 0: no move in y. x: Δ = 0.1, 0.12, 0.144, 0.1728 (sign never flips).
    start = np.array([1.5, -0.05])
    expected = [start, (1.4, 0.05), (1.28, 0.05), (1.136, 0.0), (1.136 - 0.1728, 0.0)]
    traj = optviz.run("rprop", BOWL, start=tuple(start), steps=4, lr=0.1, record_state=True)
    assert_path(traj.xy, expected)
    np.testing.assert_allclose(traj.state["step_sizes"][2], [0.12, 0.05], rtol=RTOL)
    assert traj.state["g_last"][2][1] == 0.0  # the flipped coordinate's gradient was dropped


def test_rprop_step_sizes_are_clamped():
    # η₊ = 2 from Δ₀ = 0.01 with Δ_max = 0.03: Δ = 0.01, 0.02, 0.03, 0.03, … in x while the sign
    # of x holds (x: 1.5 − 0.01 − 0.02 − 0.03 − 0.03).
    traj = optviz.run(
        "rprop", BOWL, start=(1.5, 0.0), steps=4, lr=0.01, eta_plus=2.0, step_max=0.03
    )
    np.testing.assert_allclose(traj.xy[:, 0], [1.5, 1.49, 1.47, 1.44, 1.41], rtol=RTOL)
    np.testing.assert_array_equal(traj.xy[:, 1], 0.0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"eta_minus": 1.0}, "eta_minus must be in"),
        ({"eta_minus": 0.0}, "eta_minus must be in"),
        ({"eta_plus": 1.0}, "eta_plus must be in"),
        ({"step_min": 0.5}, "step_min must be in"),
        ({"step_max": 1e-3}, "step_max must be in"),
    ],
)
def test_rprop_rejects_bad_options(options, message):
    # The ranges hold only what torch accepts (0 < η₋ < 1 < η₊, Δ_min ≤ Δ_max), so every value a
    # widget offers runs.
    with pytest.raises(ValueError, match=message):
        optimizers.resolve("rprop", options)
    with pytest.raises(ValueError, match=message):
        optviz.run("rprop", BOWL, steps=2, **options)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"eta_minus": 1.0}, "0 < eta_minus < 1"),
        ({"eta_plus": 1.0}, "eta_plus > 1"),
        ({"step_min": 1.0, "step_max": 0.5}, "step_min ≤ step_max"),
    ],
)
def test_rprop_checks_torchs_conditions_too(values, message):
    resolved = {"eta_minus": 0.5, "eta_plus": 1.2, "step_min": 1e-6, "step_max": 50.0, **values}
    with pytest.raises(ValueError, match=message):
        optimizers._check_rprop(resolved)


# ---- AdaBelief ------------------------------------------------------------------------------


def test_adabelief_first_step_by_hand():
    # ε = ε_root = 0. t = 1: m = 0.1·g₀, g₀ − m = 0.9·g₀, s = 0.001·0.81·g₀², m̂ = g₀,
    # ŝ = 0.81·g₀², √ŝ = 0.9|g₀|: the step is η·sign(g₀)/0.9; with η = 0.09: θ₁ = θ₀ − 0.1·sign(g₀).
    traj = engine("adabelief", 1, lr=0.09, eps=0.0, eps_root=0.0)
    assert_path(traj, [START, (1.4, -0.7)])


def test_adabelief_second_step_by_hand():
    # t = 2 from θ₁ = (1.4, −0.7), g₁ = (1.4, −7), ε = ε_root = 0, β = (0.9, 0.999), η = 0.09:
    # m = 0.9·(0.15, −0.8) + 0.1·(1.4, −7) = (0.275, −1.42); g₁ − m = (1.125, −5.58);
    # s = 0.999·(0.0018225, 0.05184) + 0.001·(1.265625, 31.1364) = (0.0030863025, 0.08292456);
    # m̂ = m/0.19, ŝ = s/0.001999, θ₂ = θ₁ − 0.09·m̂/√ŝ.
    m = np.array([0.275, -1.42])
    s = np.array([0.0030863025, 0.08292456])
    theta2 = np.array([1.4, -0.7]) - 0.09 * (m / 0.19) / np.sqrt(s / 0.001999)
    traj = engine("adabelief", 2, lr=0.09, eps=0.0, eps_root=0.0)
    assert_path(traj[2], theta2)


@pytest.mark.parametrize(
    "kw",
    [
        {"lr": 0.01},
        {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "eps_root": 1e-4},
    ],
)
def test_adabelief_follows_the_paper(kw):
    full = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-16, "eps_root": 1e-16, **kw}
    expected = paper_adabelief(
        full["lr"], full["beta1"], full["beta2"], full["eps"], full["eps_root"], 10
    )
    assert_path(engine("adabelief", 10, **kw), expected)


# ---- full-matrix AdaGrad --------------------------------------------------------------------


def test_adagrad_full_first_step_by_hand():
    # G₁ = g₀g₀ᵀ has g₀ as an eigenvector with eigenvalue ‖g₀‖² = 1.5² + 8² = 66.25, so
    # (εI + G₁)^{-1/2} g₀ = g₀/√(ε + 66.25): with ε = 0.01 and η = 0.5, θ₁ = θ₀ − 0.5·g₀/√66.26.
    # (Diagonal AdaGrad would step η·sign(g₀) instead: (1.0, −0.3).)
    expected = [START, START - 0.5 * np.array([1.5, -8.0]) / math.sqrt(66.26)]
    assert_path(engine("adagrad_full", 1, lr=0.5, eps=0.01), expected)


def test_adagrad_full_second_step_by_hand_on_the_axes():
    # From (1.5, 0) the gradients stay on the x axis: G = diag(Σg_x², 0), and (εI + G)^{-1/2}
    # acts on g = (g_x, 0) as 1/√(ε + Σg_x²). ε = 0.0001, η = 0.5:
    # t = 1: g = 1.5, G = 2.25: x₁ = 1.5 − 0.5·1.5/√2.2501.
    # t = 2: g = x₁, G = 2.25 + x₁²: x₂ = x₁ − 0.5·x₁/√(0.0001 + 2.25 + x₁²).
    x1 = 1.5 - 0.5 * 1.5 / math.sqrt(2.2501)
    x2 = x1 - 0.5 * x1 / math.sqrt(0.0001 + 2.25 + x1 * x1)
    start = np.array([1.5, 0.0])
    assert_path(engine("adagrad_full", 2, start=start, lr=0.5, eps=1e-4), [start, (x1, 0), (x2, 0)])


@pytest.mark.parametrize(("lr", "eps"), [(0.5, 1e-2), (0.1, 1e-8), (1.0, 1.0)])
def test_adagrad_full_follows_the_lecture(lr, eps):
    # 1e-8 loses ~10 digits at the first step on both sides (εI + g gᵀ has condition ‖g‖²/ε).
    rtol = 1e-12 if eps >= 1e-2 else 1e-9
    np.testing.assert_allclose(
        engine("adagrad_full", 10, lr=lr, eps=eps), lecture_adagrad_full(lr, eps, 10), rtol=rtol
    )


def test_adagrad_full_without_eps_takes_the_pseudo_inverse():
    # ε = 0: G₁ = g₀g₀ᵀ is singular; its pseudo-inverse square root maps g₀ to g₀/‖g₀‖, so the
    # first step is η·g₀/‖g₀‖ = 0.5·(1.5, −8)/√66.25. From (1.5, 0) every gradient lies on the x
    # axis and G = diag(Σg², 0) stays rank one: x₁ = 1.5 − 0.5·1.5/√2.25 = 1,
    # x₂ = 1 − 0.5·1/√(2.25 + 1).
    expected = [START, START - 0.5 * np.array([1.5, -8.0]) / math.sqrt(66.25)]
    assert_path(engine("adagrad_full", 1, lr=0.5, eps=0.0), expected)
    start = np.array([1.5, 0.0])
    assert_path(
        engine("adagrad_full", 2, start=start, lr=0.5, eps=0.0),
        [start, (1, 0), (1 - 0.5 / math.sqrt(3.25), 0)],
    )
    # Once two gradients are independent, G is invertible and the rule is the lecture's.
    np.testing.assert_allclose(
        engine("adagrad_full", 6, lr=0.5, eps=0.0)[2:],
        np.array(lecture_adagrad_full_from(engine("adagrad_full", 1, lr=0.5, eps=0.0), 0.5, 6))[1:],
        rtol=1e-9,
    )


def steps_to_minimum(name: str, surface: surfaces.Surface, lr: float) -> int:
    traj = optviz.run(name, surface, lr=lr, steps=20_000, tol=1e-6)
    assert traj.status == "converged", (name, lr, traj.status)
    return traj.stopped_at


@pytest.mark.parametrize("lr", [0.3, 1.0])
def test_full_matrix_adagrad_wins_on_the_rotated_ravine(lr):
    # The lesson (issue 9): on the ravine turned by 45° the valley is not along an axis, so one
    # step size per coordinate cannot fit it; G = Σ g gᵀ learns the valley's direction.
    # Measured (κ = 50, start (−2.5, 1), ‖∇f‖ ≤ 1e-6): η = 0.3: full 405 steps, diagonal 8591;
    # η = 1: full 49, diagonal 1348. Unrotated, the two are alike (η = 1: 42 vs 39).
    rotated = surfaces.get("ravine", angle=45)
    full = steps_to_minimum("adagrad_full", rotated, lr)
    diagonal = steps_to_minimum("adagrad", rotated, lr)
    assert full < diagonal / 10
    aligned = surfaces.get("ravine", angle=0)
    assert steps_to_minimum("adagrad", aligned, lr) < 2 * steps_to_minimum(
        "adagrad_full", aligned, lr
    )


# ---- every new optimizer --------------------------------------------------------------------

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("name", NEW)
def test_goldens_on_rosenbrock_and_beale(name):
    # tests/test_golden.py runs every .npz; these must exist, on both surfaces.
    assert (GOLDEN / f"{name}.npz").exists()
    assert (GOLDEN / f"{name}_beale.npz").exists()


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("radam", {"weight_decay": 0.1, "beta2": 0.9}),
        ("rprop", {"eta_minus": 0.3, "eta_plus": 1.5, "step_min": 1e-4, "step_max": 0.05}),
        ("adabelief", {"eps": 1e-8, "eps_root": 1e-6}),
        ("adagrad_full", {"eps": 1e-3}),
    ],
)
def test_batch_ends_where_run_ends_with_options(name, options):
    starts = np.array([[-1.2, 1.0], [0.5, 2.0], [2.0, -1.0], [-0.3, -0.4], [1.1, 1.3]])
    lrs = np.array([1e-3, 3e-3, 1e-2, 3e-2, 1e-1])
    res = optviz.run_batch(name, "rosenbrock", starts=starts, steps=300, lr=lrs, **options)
    for i, start in enumerate(starts):
        traj = optviz.run(name, "rosenbrock", start=tuple(start), steps=300, lr=lrs[i], **options)
        assert res.status[i] == traj.status
        assert res.stopped_at[i] == traj.stopped_at
        assert tuple(res.final_xy[i]) == traj.final
