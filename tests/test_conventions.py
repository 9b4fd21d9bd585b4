"""Each convention option against the lecture's own formula, written as a tiny loop here.

The lectures disagree (ε inside or outside √, EMA or torch momentum, η inside v, bias
correction on or off, …); each option must be exactly the formula it names, and the formula
card (:func:`optviz.formula`) must change with it.
"""

from __future__ import annotations

import numpy as np
import pytest

import optviz
import surfaces
from optviz import optimizers

STEPS = 6
# f = ½(x² + 10y²); ∇f = (x, 10y).
BOWL = surfaces.get("ravine", kappa=10.0, angle=0.0)
START = (1.5, -0.8)
HALVING = {"name": "step", "step_size": 1, "gamma": 0.5}  # η_t = η·2⁻ᵗ


def grad(theta: np.ndarray) -> np.ndarray:
    return np.array([theta[0], 10.0 * theta[1]])


def engine(name: str, steps: int = STEPS, **kw) -> np.ndarray:
    traj = optviz.run(name, BOWL, start=START, steps=steps, **kw)
    assert traj.status == "ok"
    return traj.xy


def loop(update, steps: int = STEPS, lrs: list[float] | None = None) -> np.ndarray:
    """Run ``update(theta, g, t, lr, state) -> theta`` from START; state is a dict."""
    theta, state, path = np.array(START), {}, [np.array(START)]
    for t in range(1, steps + 1):
        lr = lrs[t - 1] if lrs else None
        theta = update(theta, grad(theta), t, lr, state)
        path.append(theta)
    return np.array(path)


def close(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13 * np.max(np.abs(b)))


def differ(a: np.ndarray, b: np.ndarray) -> None:
    assert np.max(np.abs(a - b)) > 1e-6


# ---- momentum ----------------------------------------------------------------------------


def test_momentum_ema_form_is_ngs_average():
    lr, beta = 0.1, 0.9

    def ema(theta, g, t, _, s):
        s["v"] = beta * s.get("v", 0.0) + (1 - beta) * g  # v₀ = 0
        return theta - lr * s["v"]

    path = engine("momentum", lr=lr, beta1=beta, momentum_form="ema")
    close(path, loop(ema))
    differ(path, engine("momentum", lr=lr, beta1=beta))


def test_momentum_ema_form_with_bias_correction():
    lr, beta = 0.1, 0.9

    def ema_corrected(theta, g, t, _, s):
        s["v"] = beta * s.get("v", 0.0) + (1 - beta) * g
        return theta - lr * s["v"] / (1 - beta**t)

    path = engine("momentum", lr=lr, beta1=beta, momentum_form="ema", bias_correction=True)
    close(path, loop(ema_corrected))


def test_momentum_torch_form_with_dampening():
    lr, beta, tau = 0.05, 0.8, 0.3

    def damped(theta, g, t, _, s):
        s["v"] = g if t == 1 else beta * s["v"] + (1 - tau) * g
        return theta - lr * s["v"]

    close(engine("momentum", lr=lr, beta1=beta, dampening=tau), loop(damped))


def test_momentum_lr_inside_equals_torch_for_constant_lr():
    lr, beta = 0.05, 0.9

    def sutskever(theta, g, t, _, s):
        s["v"] = beta * s.get("v", 0.0) + lr * g  # m ← βm + η∇E
        return theta - s["v"]

    inside = engine("momentum", lr=lr, beta1=beta, momentum_form="lr_inside")
    close(inside, loop(sutskever))
    close(inside, engine("momentum", lr=lr, beta1=beta))


def test_momentum_lr_inside_differs_from_torch_under_a_schedule():
    lr, beta = 0.05, 0.9
    lrs = [lr * 0.5**k for k in range(STEPS)]

    def sutskever(theta, g, t, lr_t, s):
        s["v"] = beta * s.get("v", 0.0) + lr_t * g  # past η stay inside v
        return theta - s["v"]

    def torch_form(theta, g, t, lr_t, s):
        s["v"] = g if t == 1 else beta * s["v"] + g  # η multiplies the whole v
        return theta - lr_t * s["v"]

    inside = engine("momentum", lr=lr, beta1=beta, momentum_form="lr_inside", schedule=HALVING)
    torch = engine("momentum", lr=lr, beta1=beta, schedule=HALVING)
    close(inside, loop(sutskever, lrs=lrs))
    close(torch, loop(torch_form, lrs=lrs))
    differ(inside, torch)


def test_nesterov_lookahead_form():
    lr, beta = 0.05, 0.9

    def lookahead(theta, _, t, __, s):
        v = s.get("v", np.zeros(2))
        s["v"] = beta * v + lr * grad(theta - beta * v)  # gradient at the look-ahead point
        return theta - s["v"]

    path = engine("nesterov", lr=lr, beta1=beta, nesterov_form="lookahead")
    close(path, loop(lookahead))
    differ(path, engine("nesterov", lr=lr, beta1=beta))


# ---- ε placement, bias correction --------------------------------------------------------

EPS = 0.3  # large, so inside and outside √ differ visibly


def test_adagrad_eps_inside():
    lr = 0.5

    def inside(theta, g, t, _, s):
        s["G"] = s.get("G", 0.0) + g * g
        return theta - lr / np.sqrt(s["G"] + EPS) * g

    path = engine("adagrad", lr=lr, eps=EPS, eps_placement="inside")
    close(path, loop(inside))
    differ(path, engine("adagrad", lr=lr, eps=EPS))


def test_adagrad_lr_decay():
    lr, decay = 0.5, 0.2

    def decayed(theta, g, t, _, s):
        s["G"] = s.get("G", 0.0) + g * g
        return theta - lr / (1 + (t - 1) * decay) / (np.sqrt(s["G"]) + 1e-10) * g

    close(engine("adagrad", lr=lr, lr_decay=decay), loop(decayed))


def test_rmsprop_eps_inside():
    lr, rho = 0.05, 0.9

    def inside(theta, g, t, _, s):
        s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g * g
        return theta - lr / np.sqrt(s["v"] + EPS) * g

    path = engine("rmsprop", lr=lr, beta2=rho, eps=EPS, eps_placement="inside")
    close(path, loop(inside))
    differ(path, engine("rmsprop", lr=lr, beta2=rho, eps=EPS))


def test_rmsprop_centered():
    lr, rho, eps = 0.01, 0.9, 1e-8

    def centered(theta, g, t, _, s):
        s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g * g
        s["mean"] = rho * s.get("mean", 0.0) + (1 - rho) * g
        return theta - lr / (np.sqrt(s["v"] - s["mean"] ** 2) + eps) * g

    path = engine("rmsprop", lr=lr, beta2=rho, eps=eps, centered=True)
    close(path, loop(centered))
    differ(path, engine("rmsprop", lr=lr, beta2=rho, eps=eps))


def test_rmsprop_accumulator_from_first_gradient():
    lr, rho = 0.1, 0.9

    def hung_yi_lee(theta, g, t, _, s):
        # σ⁰ = |g⁰|, then σᵗ = √(α(σᵗ⁻¹)² + (1−α)(gᵗ)²).
        s["v"] = g * g if t == 1 else rho * s["v"] + (1 - rho) * g * g
        return theta - lr / np.sqrt(s["v"]) * g

    path = engine("rmsprop", lr=lr, beta2=rho, eps=0.0, accumulator_init="first_grad")
    close(path, loop(hung_yi_lee))
    # The first step is exactly η·sign(g).
    assert path[1].tolist() == (path[0] - lr * np.sign(grad(path[0]))).tolist()
    differ(path, engine("rmsprop", lr=lr, beta2=rho, eps=0.0))


def adam_loop(lr: float, b1: float, b2: float, eps: float, *, inside: bool, corrected: bool):
    def update(theta, g, t, _, s):
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        m, v = s["m"], s["v"]
        if corrected:
            m, v = m / (1 - b1**t), v / (1 - b2**t)
        denominator = np.sqrt(v + eps) if inside else np.sqrt(v) + eps
        return theta - lr * m / denominator

    return loop(update)


@pytest.mark.parametrize("placement", ["outside", "inside"])
@pytest.mark.parametrize("corrected", [True, False])
def test_adam_eps_placement_and_bias_correction(placement, corrected):
    lr, b1, b2 = 0.1, 0.9, 0.999
    path = engine("adam", lr=lr, eps=EPS, eps_placement=placement, bias_correction=corrected)
    close(path, adam_loop(lr, b1, b2, EPS, inside=placement == "inside", corrected=corrected))


@pytest.mark.parametrize("placement", ["outside", "inside"])
@pytest.mark.parametrize("corrected", [True, False])
@pytest.mark.parametrize("name", ["amsgrad", "adamw"])
def test_adam_variants_follow_the_same_conventions(name, placement, corrected):
    lr, b1, b2, decay = 0.3, 0.5, 0.5, 0.2  # β₂ small so v shrinks and the max matters
    inside = placement == "inside"

    def update(theta, g, t, _, s):
        if name == "adamw":
            theta = (1 - lr * decay) * theta
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        s["v_max"] = np.maximum(s.get("v_max", 0.0), s["v"])
        m, v = s["m"], s["v_max"] if name == "amsgrad" else s["v"]
        if corrected:
            m, v = m / (1 - b1**t), v / (1 - b2**t)
        denominator = np.sqrt(v + EPS) if inside else np.sqrt(v) + EPS
        return theta - lr * m / denominator

    extra = {"weight_decay": decay} if name == "adamw" else {}
    path = engine(
        name, lr=lr, beta1=b1, beta2=b2, eps=EPS, eps_placement=placement,
        bias_correction=corrected, **extra,
    )  # fmt: skip
    close(path, loop(update))


def test_nadam_eps_inside():
    lr, b1, b2, psi = 0.1, 0.9, 0.999, 0.004

    def mu(t):
        return b1 * (1 - 0.5 * 0.96 ** (t * psi))

    def update(theta, g, t, _, s):
        s["prod"] = s.get("prod", 1.0) * mu(t)
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        m_bar = (1 - mu(t)) * g / (1 - s["prod"]) + mu(t + 1) * s["m"] / (1 - s["prod"] * mu(t + 1))
        return theta - lr * m_bar / np.sqrt(s["v"] / (1 - b2**t) + EPS)

    close(engine("nadam", lr=lr, eps=EPS, eps_placement="inside"), loop(update))


def test_adam_without_bias_correction_takes_tiny_first_steps():
    lr = 0.1
    plain = engine("adam", lr=lr, bias_correction=False, steps=1)
    corrected = engine("adam", lr=lr, steps=1)
    first_plain = np.abs(plain[1] - plain[0])
    first_corrected = np.abs(corrected[1] - corrected[0])
    # m₁ = 0.1 g, √v₁ ≈ 0.0316 |g|: the step is ≈ 3.16 η instead of η·sign(g).
    np.testing.assert_allclose(first_corrected, lr, rtol=1e-6)
    np.testing.assert_allclose(first_plain, lr * 0.1 / np.sqrt(0.001), rtol=1e-6)


def test_nadam_constant_schedule():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8

    def dozat(theta, g, t, _, s):
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        m_bar = (1 - b1) * g / (1 - b1**t) + b1 * s["m"] / (1 - b1 ** (t + 1))
        return theta - lr * m_bar / (np.sqrt(s["v"] / (1 - b2**t)) + eps)

    path = engine("nadam", lr=lr, nadam_schedule="constant")
    close(path, loop(dozat))
    differ(path, engine("nadam", lr=lr))


# ---- Newton --------------------------------------------------------------------------------


def test_newton_forms_differ_where_the_hessian_is_indefinite():
    # Rosenbrock at (0, 1): H = [[−398, 0], [0, 200]] is indefinite.
    start = (0.0, 1.0)
    g = np.array([-2.0, 200.0])
    h = np.array([[-398.0, 0.0], [0.0, 200.0]])
    textbook = optviz.run("newton", "rosenbrock", start=start, steps=1, newton_form="textbook")
    guarded = optviz.run("newton", "rosenbrock", start=start, steps=1)
    close(textbook.xy[1], np.array(start) - np.linalg.solve(h, g))
    close(guarded.xy[1], np.array(start) - np.linalg.solve(np.abs(h), g))
    # Along x (negative curvature) the guarded step follows −g, the textbook one climbs.
    assert guarded.xy[1, 0] > 0.0 > textbook.xy[1, 0]
    assert guarded.loss[1] < textbook.loss[1]


@pytest.mark.parametrize("method", ["bfgs", "dfp"])
def test_quasi_newton_with_exact_search_solves_a_2d_quadratic_in_two_steps(method):
    ravine = surfaces.get("ravine", kappa=100.0, angle=30.0)
    traj = optviz.run(method, ravine, steps=2, line_search="exact")
    assert np.hypot(*traj.xy[2]) < 1e-8 * np.hypot(*traj.xy[0])
    assert np.hypot(*traj.xy[1]) > 1e-2  # not already there after one step


# ---- formula cards -------------------------------------------------------------------------

CONVENTIONS = [
    ("momentum", "momentum_form", {}),
    ("momentum", "bias_correction", {"momentum_form": "ema"}),
    ("nesterov", "nesterov_form", {}),
    ("adagrad", "eps_placement", {}),
    ("rmsprop", "eps_placement", {}),
    ("rmsprop", "centered", {}),
    ("rmsprop", "accumulator_init", {}),
    ("adam", "eps_placement", {}),
    ("adam", "bias_correction", {}),
    ("nadam", "nadam_schedule", {}),
    ("nadam", "eps_placement", {}),
    ("adamw", "eps_placement", {}),
    ("adamw", "bias_correction", {}),
    ("amsgrad", "eps_placement", {}),
    ("amsgrad", "bias_correction", {}),
    ("newton", "newton_form", {}),
    ("steepest_descent", "line_search", {}),
]


@pytest.mark.parametrize(("name", "option", "base"), CONVENTIONS)
def test_formula_changes_with_each_convention(name, option, base):
    choices = optimizers.CHOICE_OPTIONS[option][1]
    latex = {optviz.formula(name, **base, **{option: c}) for c in choices}
    assert len(latex) == len(choices)
    assert all(s.strip() for s in latex)


@pytest.mark.parametrize("name", ["adam", "adamw", "amsgrad", "nadam", "rmsprop", "adagrad"])
def test_eps_inside_formulas_put_eps_under_the_root(name):
    inside = optviz.formula(name, eps_placement="inside")
    outside = optviz.formula(name)
    # Outside: \sqrt{…} + \epsilon; inside: \sqrt{… + \epsilon}.
    assert r"} + \epsilon" in outside and r"} + \epsilon" not in inside
    assert r"+ \epsilon}" in inside


def test_formula_of_two_options_at_once():
    inside_off = optviz.formula("adam", eps_placement="inside", bias_correction=False)
    assert r"\sqrt{v_t + \epsilon}" in inside_off and r"\hat m" not in inside_off


def test_formula_for_bfgs_and_dfp_differ():
    assert optviz.formula("bfgs") != optviz.formula("dfp")


@pytest.mark.parametrize("name", optviz.OPTIMIZERS)
def test_every_optimizer_has_a_formula_and_notes_for_its_defaults(name):
    latex = optviz.formula(name)
    assert r"\theta" in latex
    assert optimizers.notes(name)


def test_formula_rejects_bad_options():
    with pytest.raises(ValueError, match="momentum_form"):
        optviz.formula("momentum", momentum_form="sideways")
