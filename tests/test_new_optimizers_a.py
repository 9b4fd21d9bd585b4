"""QHM, QHAdam, Lion and Adamax: first steps by hand, from the papers' formulas.

The numbers in ``*_BY_HAND`` were worked out on paper for the bowl f = ½(x² + 10y²) (∇f = (x, 10y))
from θ₀ = (1.5, −0.8); the ``paper_*`` loops are the papers' update rules written out in NumPy
(never the engine's code) for the cases with less round numbers. The engine must agree to 1e-12
relative. Their 1000-step goldens against qhoptim, optax and torch are in ``tests/golden``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import optviz
import surfaces
from optviz import optimizers

RTOL = 1e-12
BOWL = surfaces.get("ravine", kappa=10.0, angle=0.0)
START = np.array([1.5, -0.8])
NEW = ("qhm", "qhadam", "lion", "adamax")


def grad(theta: np.ndarray) -> np.ndarray:
    return np.array([theta[0], 10.0 * theta[1]])


def engine(name: str, steps: int, **kw) -> optviz.Trajectory:
    traj = optviz.run(name, BOWL, start=tuple(START), steps=steps, **kw)
    assert traj.status == "ok"
    return traj


# ---- the papers' rules, written out ---------------------------------------------------------


def paper_qhm(lr: float, beta: float, nu: float, steps: int, wd: float = 0.0) -> list:
    """Ma & Yarats (2019), eq. (QHM): g ← βg + (1−β)∇L(θ); θ ← θ − α[(1−ν)∇L(θ) + νg]."""
    theta, buf, path = START.copy(), np.zeros(2), [START.copy()]
    for _ in range(steps):
        d = grad(theta) + wd * theta
        buf = beta * buf + (1 - beta) * d
        theta = theta - lr * ((1 - nu) * d + nu * buf)
        path.append(theta)
    return path


def paper_qhadam(lr, beta1, beta2, nu1, nu2, eps, steps, wd=0.0) -> list:  # noqa: ANN001
    """Ma & Yarats (2019), eq. (QHAdam): Adam's bias-corrected ĝ and ŝ, each mixed with the
    plain gradient: θ ← θ − α[(1−ν₁)∇ + ν₁ĝ] / (√((1−ν₂)∇² + ν₂ŝ) + ε)."""
    theta, m, s, path = START.copy(), np.zeros(2), np.zeros(2), [START.copy()]
    for t in range(1, steps + 1):
        d = grad(theta) + wd * theta
        m = beta1 * m + (1 - beta1) * d
        s = beta2 * s + (1 - beta2) * d * d
        m_hat, s_hat = m / (1 - beta1**t), s / (1 - beta2**t)
        num = (1 - nu1) * d + nu1 * m_hat
        den = np.sqrt((1 - nu2) * d * d + nu2 * s_hat) + eps
        theta = theta - lr * num / den
        path.append(theta)
    return path


def paper_lion(lr: float, beta1: float, beta2: float, steps: int, wd: float = 0.0) -> list:
    """Chen et al. (2023), Program 1: c = β₁m + (1−β₁)g; θ ← θ − η(sign(c) + λθ);
    m ← β₂m + (1−β₂)g."""
    theta, m, path = START.copy(), np.zeros(2), [START.copy()]
    for _ in range(steps):
        g = grad(theta)
        c = beta1 * m + (1 - beta1) * g
        theta = theta - lr * (np.sign(c) + wd * theta)
        m = beta2 * m + (1 - beta2) * g
        path.append(theta)
    return path


def paper_adamax(lr, beta1, beta2, eps, steps, wd=0.0) -> list:  # noqa: ANN001
    """Kingma & Ba (2015), Algorithm 2: m ← β₁m + (1−β₁)g; u ← max(β₂u, |g|);
    θ ← θ − (α/(1−β₁ᵗ)) m/u. torch.optim.Adamax puts its ε inside the max: max(β₂u, |g| + ε)."""
    theta, m, u, path = START.copy(), np.zeros(2), np.zeros(2), [START.copy()]
    for t in range(1, steps + 1):
        g = grad(theta) + wd * theta
        m = beta1 * m + (1 - beta1) * g
        u = np.maximum(beta2 * u, np.abs(g) + eps)
        theta = theta - lr / (1 - beta1**t) * m / u
        path.append(theta)
    return path


# ---- two steps worked out on paper ------------------------------------------------------------

# QHM, α = 0.1, β = 0.9, ν = 0.7:
#   ∇₀ = (1.5, −8); g₁ = 0.1·∇₀ = (0.15, −0.8);
#   θ₁ = θ₀ − 0.1·(0.3·(1.5, −8) + 0.7·(0.15, −0.8)) = θ₀ − (0.0555, −0.296) = (1.4445, −0.504);
#   ∇₁ = (1.4445, −5.04); g₂ = 0.9·g₁ + 0.1·∇₁ = (0.27945, −1.224);
#   θ₂ = θ₁ − 0.1·(0.3·∇₁ + 0.7·g₂) = θ₁ − (0.0628965, −0.23688) = (1.3816035, −0.26712).
QHM_BY_HAND = [(1.5, -0.8), (1.4445, -0.504), (1.3816035, -0.26712)]

# QHAdam, α = 0.1, ε = 0 (any β, ν): ĝ₁ = ∇₀ and ŝ₁ = ∇₀², so step 1 is α∇₀/|∇₀| = (0.1, −0.1):
#   θ₁ = (1.4, −0.7). With β₁ = β₂ = 0.5, ν₁ = 0.5, ν₂ = 1: ∇₁ = (1.4, −7);
#   m₂ = 0.25∇₀ + 0.5∇₁, 1 − β₁² = 0.75: ĝ₂ = (∇₀ + 2∇₁)/3 = (4.3/3, −22/3);
#   ŝ₂ = (∇₀² + 2∇₁²)/3 = (6.17/3, 162/3) = (2.05666…, 54) (the same weights);
#   numerator 0.5·∇₁ + 0.5·ĝ₂ = (0.7 + 4.3/6, −3.5 − 22/6); θ₂ = θ₁ − 0.1·numerator/√ŝ₂.
_S2 = np.array([6.17 / 3, 54.0])
_N2 = np.array([0.7 + 4.3 / 6, -3.5 - 22.0 / 6])
QHADAM_BY_HAND = [(1.5, -0.8), (1.4, -0.7), tuple(np.array([1.4, -0.7]) - 0.1 * _N2 / np.sqrt(_S2))]

# Lion, η = 0.5, β₁ = β₂ = 0.99 (β₁ = β₂ makes c and the new m equal):
#   step 1: m₀ = 0, c = 0.01·∇₀ → sign (+, −): θ₁ = (1.0, −0.3); m₁ = 0.01·∇₀ = (0.015, −0.08);
#   step 2: ∇₁ = (1, −3), c = 0.99·m₁ + 0.01·∇₁ = (0.02485, −0.1092) → θ₂ = (0.5, 0.2);
#   m₂ = 0.99·m₁ + 0.01·∇₁ = (0.02485, −0.1092);
#   step 3: ∇₂ = (0.5, 2): the gradient says "down" in y, but
#   c_y = 0.99·(−0.1092) + 0.01·2 = −0.088108 < 0: momentum wins, θ₃ = (0.0, 0.7).
LION_BY_HAND = [(1.5, -0.8), (1.0, -0.3), (0.5, 0.2), (0.0, 0.7)]

# Adamax, α = 0.1, β₁ = 0.9, β₂ = 0.999, ε = 0: step 1 is α·sign(∇₀): θ₁ = (1.4, −0.7);
#   ∇₁ = (1.4, −7); m₂ = 0.9·(0.15, −0.8) + 0.1·(1.4, −7) = (0.275, −1.42);
#   u₂ = max(0.999·(1.5, 8), (1.4, 7)) = (1.4985, 7.992); 1 − β₁² = 0.19;
#   θ₂ = θ₁ − (0.1/0.19)·(0.275/1.4985, −1.42/7.992).
ADAMAX_BY_HAND = [
    (1.5, -0.8),
    (1.4, -0.7),
    (1.4 - 0.1 / 0.19 * 0.275 / 1.4985, -0.7 + 0.1 / 0.19 * 1.42 / 7.992),
]

BY_HAND = [
    ("qhm", {"lr": 0.1, "beta1": 0.9, "nu": 0.7}, QHM_BY_HAND),
    (
        "qhadam",
        {"lr": 0.1, "beta1": 0.5, "beta2": 0.5, "nu1": 0.5, "nu2": 1.0, "eps": 0.0},
        QHADAM_BY_HAND,
    ),
    ("lion", {"lr": 0.5, "beta1": 0.99, "beta2": 0.99}, LION_BY_HAND),
    ("adamax", {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 0.0}, ADAMAX_BY_HAND),
]


@pytest.mark.parametrize(("name", "hyper", "expected"), BY_HAND, ids=[c[0] for c in BY_HAND])
def test_first_steps_worked_out_on_paper(name, hyper, expected):
    traj = engine(name, len(expected) - 1, **hyper)
    np.testing.assert_allclose(traj.xy, np.array(expected), rtol=RTOL, atol=1e-15)


PAPER = [
    ("qhm", {"lr": 0.1, "beta1": 0.9, "nu": 0.7}, paper_qhm(0.1, 0.9, 0.7, 3)),
    ("qhm", {"lr": 0.05, "beta1": 0.999, "nu": 0.3}, paper_qhm(0.05, 0.999, 0.3, 3)),
    ("qhm", {"lr": 0.05, "weight_decay": 0.2}, paper_qhm(0.05, 0.999, 0.7, 3, wd=0.2)),
    ("qhm", {"lr": 0.05, "nu": 1.0}, paper_qhm(0.05, 0.999, 1.0, 3)),
    ("qhadam", {"lr": 0.1}, paper_qhadam(0.1, 0.995, 0.999, 0.7, 1.0, 1e-8, 3)),
    (
        "qhadam",
        {"lr": 0.1, "beta1": 0.8, "beta2": 0.9, "nu1": 0.6, "nu2": 0.5, "eps": 0.01},
        paper_qhadam(0.1, 0.8, 0.9, 0.6, 0.5, 0.01, 3),
    ),
    (
        "qhadam",
        {"lr": 0.1, "weight_decay": 0.3},
        paper_qhadam(0.1, 0.995, 0.999, 0.7, 1.0, 1e-8, 3, wd=0.3),
    ),  # fmt: skip
    ("lion", {"lr": 0.1}, paper_lion(0.1, 0.9, 0.99, 3)),
    ("lion", {"lr": 0.5, "beta1": 0.99, "beta2": 0.99}, paper_lion(0.5, 0.99, 0.99, 4)),
    ("lion", {"lr": 0.1, "weight_decay": 0.5}, paper_lion(0.1, 0.9, 0.99, 3, wd=0.5)),
    ("adamax", {"lr": 0.1}, paper_adamax(0.1, 0.9, 0.999, 1e-8, 3)),
    (
        "adamax",
        {"lr": 0.3, "beta1": 0.5, "beta2": 0.5, "eps": 0.01},
        paper_adamax(0.3, 0.5, 0.5, 0.01, 3),
    ),
    ("adamax", {"lr": 0.1, "weight_decay": 0.3}, paper_adamax(0.1, 0.9, 0.999, 1e-8, 3, wd=0.3)),
]


@pytest.mark.parametrize(
    ("name", "hyper", "expected"),
    PAPER,
    ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in h.items())}" for n, h, _ in PAPER],
)
def test_first_steps_follow_the_papers(name, hyper, expected):
    traj = engine(name, len(expected) - 1, **hyper)
    np.testing.assert_allclose(traj.xy, np.array(expected), rtol=RTOL, atol=1e-15)


def test_the_paper_loops_agree_with_the_hand_numbers():
    # The loops above are checked against the paper-and-pencil numbers too.
    np.testing.assert_allclose(paper_qhm(0.1, 0.9, 0.7, 2), QHM_BY_HAND, rtol=1e-14)
    np.testing.assert_allclose(paper_qhadam(0.1, 0.5, 0.5, 0.5, 1.0, 0.0, 2), QHADAM_BY_HAND,
                               rtol=1e-14)  # fmt: skip
    np.testing.assert_allclose(paper_lion(0.5, 0.99, 0.99, 3), LION_BY_HAND, rtol=1e-14)
    np.testing.assert_allclose(paper_adamax(0.1, 0.9, 0.999, 0.0, 2), ADAMAX_BY_HAND, rtol=1e-14)


# ---- what each one teaches -------------------------------------------------------------------


def test_lion_steps_are_exactly_plus_or_minus_eta_per_coordinate():
    lr = 0.01
    traj = optviz.run("lion", "rosenbrock", start=(-1.2, 1.0), steps=300, lr=lr)
    steps = np.diff(traj.xy, axis=0)
    # Every coordinate moves by η (to the rounding of θ ± η), in one of eight directions.
    np.testing.assert_allclose(np.abs(steps), lr, rtol=1e-12)
    np.testing.assert_array_equal(traj.lr_eff[:-1], lr)  # row k: update k + 1


def test_lion_momentum_overrides_the_gradient_sign():
    # Step 3 of LION_BY_HAND: ∇f says "down" in y, the interpolated momentum says "up".
    traj = engine("lion", 3, lr=0.5, beta1=0.99, beta2=0.99)
    assert traj.grad[2, 1] > 0 and traj.xy[3, 1] > traj.xy[2, 1]


def test_qhm_interpolates_between_gd_and_momentum():
    # ν = 0 is plain GD; ν = 1 is the EMA momentum v ← βv + (1−β)g, θ ← θ − ηv.
    kw = {"lr": 0.05, "beta1": 0.9}
    gd = engine("gd", 5, lr=0.05)
    np.testing.assert_allclose(engine("qhm", 5, nu=0.0, **kw).xy, gd.xy, rtol=1e-14)
    ema = engine("momentum", 5, momentum_form="ema", **kw)
    np.testing.assert_allclose(engine("qhm", 5, nu=1.0, **kw).xy, ema.xy, rtol=1e-14)


def test_qhadam_with_nu_one_is_adam():
    # ν₁ = ν₂ = 1 recovers Adam (QHAdam's bias correction is Adam's).
    kw = {"lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    adam = engine("adam", 20, **kw)
    qh = engine("qhadam", 20, nu1=1.0, nu2=1.0, **kw)
    np.testing.assert_allclose(qh.xy, adam.xy, rtol=1e-12)


def test_adamax_first_step_is_eta_times_the_gradient_sign():
    traj = engine("adamax", 1, lr=0.2, eps=0.0)
    np.testing.assert_allclose(traj.xy[1], START - 0.2 * np.sign(grad(START)), rtol=1e-15)


# ---- catalog, options, goldens ------------------------------------------------------------------


def test_catalog_entries():
    expected = {
        "qhm": {"lr": 1e-3, "beta1": 0.999, "nu": 0.7, "weight_decay": 0.0},
        "qhadam": {
            "lr": 1e-3,
            "beta1": 0.995,
            "beta2": 0.999,
            "nu1": 0.7,
            "nu2": 1.0,
            "eps": 1e-8,
            "weight_decay": 0.0,
        },
        "lion": {"lr": 1e-4, "beta1": 0.9, "beta2": 0.99, "weight_decay": 0.0},
        "adamax": {"lr": 2e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
    }
    for name, defaults in expected.items():
        opt = optimizers.get(name)
        assert name in optimizers.FIRST_ORDER
        assert {k: opt.defaults[k] for k in defaults} == defaults
        assert opt.fixes and opt.torch


@pytest.mark.parametrize("option", ["nu", "nu1", "nu2"])
def test_nu_options_are_checked(option):
    name = "qhm" if option == "nu" else "qhadam"
    assert optimizers.resolve(name, {option: 1.0})[option] == 1.0
    assert optimizers.resolve(name, {option: 0.0})[option] == 0.0
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=option):
            optimizers.resolve(name, {option: bad})


def test_every_new_optimizer_has_goldens_on_rosenbrock_and_beale():
    # tests/test_golden.py checks every golden/*.npz.
    golden = Path(__file__).parent / "golden"
    covered = set()
    for path in golden.glob("*.npz"):
        kwargs = json.loads(str(np.load(path)["run_kwargs"]))
        covered.add((kwargs["optimizer"], kwargs.get("surface", "rosenbrock")))
    for name in NEW:
        assert {(name, "rosenbrock"), (name, "beale")} <= covered, name


@pytest.mark.parametrize("name", NEW)
def test_batch_ends_bit_for_bit_where_run_ends(name):
    starts = np.array([[1.5, -0.8], [-1.0, 2.0], [0.3, 0.1]])
    kw = {"lr": 0.05}
    res = optviz.run_batch(name, BOWL, starts=starts, steps=40, **kw)
    for i, s in enumerate(starts):
        traj = optviz.run(name, BOWL, start=tuple(s), steps=40, **kw)
        np.testing.assert_array_equal(res.final_xy[i], traj.xy[traj.stopped_at])


@pytest.mark.parametrize(
    ("name", "nu", "beta"),
    [("qhm", "nu", "beta1"), ("qhadam", "nu1", "beta1"), ("qhadam", "nu2", "beta2")],
)
def test_beta_is_inactive_when_its_nu_is_zero(name, nu, beta):
    assert beta not in optimizers.inactive(name, optimizers.resolve(name, {}))
    assert beta in optimizers.inactive(name, optimizers.resolve(name, {nu: 0.0}))
    # …and indeed changes nothing then.
    a = engine(name, 10, lr=0.05, **{nu: 0.0, beta: 0.5})
    b = engine(name, 10, lr=0.05, **{nu: 0.0, beta: 0.9})
    np.testing.assert_array_equal(a.xy, b.xy)


def test_lion_card_shows_its_decoupled_decay_and_no_l2_line():
    # Lion's λ shrinks θ directly (θ ← θ − η(sign c + λθ)); it is never added to g. Its card uses
    # the @if macro of optviz.formulas (H4), which the parser before it does not know.
    pytest.importorskip("optviz.formulas")
    card = optimizers.formula("lion", weight_decay=0.5)
    assert r"\lambda\, \theta_{t-1}" in card and "operatorname{sign}" in card
    assert r"\nabla f(\theta_{t-1}) + \lambda" not in card
    assert r"\lambda" not in optimizers.formula("lion")
