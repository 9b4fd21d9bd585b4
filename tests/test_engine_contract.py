"""The engine's contract: shapes, statuses, validation, seeded sampling, robustness."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optviz
import surfaces
from optviz import _batch, _kernel, optimizers

STEPS = 50


def assert_rows_valid_until_stop(traj: optviz.Trajectory) -> None:
    last = traj.stopped_at
    assert 0 <= last <= traj.steps
    assert np.all(np.isfinite(traj.xy[: last + 1]))
    assert np.all(np.isfinite(traj.loss[: last + 1]))
    assert np.all(np.isnan(traj.xy[last + 1 :]))
    assert np.all(np.isnan(traj.loss[last + 1 :]))
    assert np.all(np.isnan(traj.grad[last + 1 :]))


# ---- shapes and rows ---------------------------------------------------------------------


@pytest.mark.parametrize("name", optviz.OPTIMIZERS)
def test_trajectory_fields(name):
    surface = "rosenbrock" if optimizers.get(name).needs_sum_of_squares else "booth"
    start = (-1.2, 1.0)
    traj = optviz.run(name, surface, start=start, steps=STEPS)
    for field, shape in [
        ("xy", (STEPS + 1, 2)),
        ("loss", (STEPS + 1,)),
        ("grad", (STEPS + 1, 2)),
        ("lr", (STEPS + 1,)),
        ("lr_eff", (STEPS + 1, 2)),
    ]:
        array = getattr(traj, field)
        assert array.shape == shape, field
        assert array.dtype == np.float64, field
    assert traj.xy[0].tolist() == list(start)
    assert traj.loss[0] == surfaces.get(surface).value(*start)
    assert traj.status in optviz.STATUS_NAMES
    assert isinstance(traj.stopped_at, int)
    assert traj.xy_avg is None
    assert traj.optimizer == name and traj.surface == surface
    assert traj.config["optimizer"] == name and traj.config["steps"] == STEPS
    assert traj.config["start"] == start
    assert traj.steps == STEPS
    assert_rows_valid_until_stop(traj)
    if traj.status == "ok":
        assert traj.stopped_at == STEPS
        np.testing.assert_array_equal(traj.loss, surfaces.get(surface).value(*traj.xy.T))
        assert traj.final == tuple(traj.xy[-1])


def test_default_start_and_hyperparameters():
    traj = optviz.run("adam", "rosenbrock", steps=3)
    assert tuple(traj.xy[0]) == surfaces.get("rosenbrock").start
    assert traj.config["lr"] == 1e-3 and traj.config["beta2"] == 0.999
    assert traj.lr[:3].tolist() == [1e-3] * 3
    assert math.isnan(traj.lr[3])


def test_zero_steps():
    traj = optviz.run("gd", "booth", steps=0)
    assert traj.xy.shape == (1, 2) and traj.status == "ok" and traj.stopped_at == 0


def test_schedule_is_reported_per_step():
    traj = optviz.run("gd", "booth", steps=5, lr=0.01, schedule=dict(name="step", step_size=2))
    np.testing.assert_array_equal(traj.lr[:5], [0.01, 0.01, 0.005, 0.005, 0.0025])
    np.testing.assert_array_equal(traj.lr_eff[:5, 0], traj.lr[:5])


SCHEDULE_FORMULAS = [
    ({"name": "constant"}, lambda t: 0.1),
    ({"name": "step", "step_size": 7, "gamma": 0.3}, lambda t: 0.1 * 0.3 ** (t // 7)),
    ({"name": "exponential", "k": 0.05}, lambda t: 0.1 * math.exp(-0.05 * t)),
    ({"name": "inverse_time", "k": 0.2}, lambda t: 0.1 / (1 + 0.2 * t)),
    ({"name": "power", "c1": 4.0, "c2": 1.5}, lambda t: 0.1 / (1 + t / 4.0) ** 1.5),
    (
        {"name": "piecewise", "boundaries": (5, 12), "factors": (1.0, 0.2, 0.05)},
        lambda t: 0.1 * (1.0 if t < 5 else 0.2 if t < 12 else 0.05),
    ),
    (
        {"name": "sgdr", "T_0": 6, "T_mult": 1, "eta_min": 0.01},
        lambda t: 0.01 + 0.09 * (1 + math.cos(math.pi * (t % 6) / 6)) / 2,
    ),
]


@pytest.mark.parametrize(
    ("schedule", "formula"), SCHEDULE_FORMULAS, ids=[s["name"] for s, _ in SCHEDULE_FORMULAS]
)
def test_schedules_follow_their_formulas(schedule, formula):
    steps = 30
    traj = optviz.run("gd", "booth", steps=steps, lr=0.1, schedule=schedule)
    np.testing.assert_allclose(traj.lr[:steps], [formula(t) for t in range(steps)], rtol=1e-13)


def test_plateau_schedule_cuts_lr_after_patience_bad_steps():
    # On a stationary start the loss never improves after the first step: η is cut by
    # `factor` after every patience + 1 non-improving steps, as torch's ReduceLROnPlateau.
    schedule = {"name": "plateau", "factor": 0.5, "patience": 2, "threshold": 1e-4}
    traj = optviz.run("gd", "booth", start=(1.0, 3.0), steps=10, lr=0.1, schedule=schedule)
    expected = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125]
    np.testing.assert_allclose(traj.lr[:10], expected, rtol=1e-15)


@pytest.mark.parametrize(("t_0", "t_mult"), [(1, 3), (2, 3), (5, 2), (7, 1)])
def test_sgdr_restarts_where_torch_does(t_0, t_mult):
    # torch's CosineAnnealingWarmRestarts.step(): T_cur += 1, restart when T_cur reaches T_i.
    # (floor(log(...)/log(T_mult)) misses the restart at t = 121 for T_0 = 1, T_mult = 3.)
    lr, eta_min, steps = 0.1, 0.01, 400
    expected, t_cur, t_i = [], 0, t_0
    for _ in range(steps):
        expected.append(eta_min + (lr - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2)
        t_cur += 1
        if t_cur >= t_i:
            t_cur -= t_i
            t_i *= t_mult
    schedule = {"name": "sgdr", "T_0": t_0, "T_mult": t_mult, "eta_min": eta_min}
    traj = optviz.run("gd", "booth", steps=steps, lr=lr, schedule=schedule)
    np.testing.assert_allclose(traj.lr[:steps], expected, rtol=1e-13)


# ---- statuses ------------------------------------------------------------------------------


def test_divergence_stops_quietly_with_a_message():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = optviz.run("gd", "rosenbrock", lr=10.0, steps=STEPS)
    assert traj.status == "diverged"
    assert traj.stopped_at < STEPS
    assert traj.message == f"diverged at step {traj.stopped_at + 1}"
    assert_rows_valid_until_stop(traj)


@pytest.mark.parametrize("name", ["adagrad", "rmsprop", "adam"])
def test_zero_eps_at_a_stationary_point_does_not_raise(name):
    # 0/0 must never raise ZeroDivisionError or warn; standing exactly on ∇f = 0 (Booth's
    # minimum) the run has reached a stationary point: "converged", never "diverged" (issue 10).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = optviz.run(name, "booth", start=(1.0, 3.0), eps=0.0, steps=5)
        batch = optviz.run_batch(name, "booth", starts=np.array([[1.0, 3.0]]), steps=5, eps=0.0)
    assert traj.status == "converged" and traj.stopped_at == 0
    assert traj.message == "converged at step 0 (∇f = 0)"
    assert batch.status[0] == "converged" and batch.stopped_at[0] == 0


def test_zero_eps_off_a_stationary_point_still_diverges_on_0_over_0():
    # A 0/0 where the gradient is not zero is a real blow-up: AdaGrad with ε = 0 on the saddle
    # x² − y² from (1, 0): g = (2, 0), G_y = 0, so the y step is 0/0.
    traj = optviz.run("adagrad", "saddle", start=(1.0, 0.0), eps=0.0, steps=5)
    assert traj.status == "diverged" and traj.message == "diverged at step 1"


def test_escape_from_the_saddle():
    surf = surfaces.get("saddle")
    traj = optviz.run("gd", surf, start=(-1.5, 0.5), lr=0.1, steps=200)
    assert traj.status == "escaped"
    assert traj.message == f"escaped at step {traj.stopped_at}"
    assert math.hypot(*traj.xy[traj.stopped_at]) > surf.escape_radius
    assert math.hypot(*traj.xy[traj.stopped_at - 1]) <= surf.escape_radius
    assert_rows_valid_until_stop(traj)


def test_run_on_the_ridge_slides_into_the_saddle():
    traj = optviz.run("gd", "saddle", start=(-1.5, 0.0), lr=0.1, steps=200)
    assert traj.status == "ok"
    assert np.hypot(*traj.xy[-1]) < 1e-10


def test_tolerance_converges():
    surf = surfaces.get("booth")
    tol = 1e-6
    traj = optviz.run("gd", surf, lr=0.05, steps=5000, tol=tol)
    assert traj.status == "converged"
    assert traj.message == f"converged at step {traj.stopped_at}"
    assert np.linalg.norm(surf.gradient(*traj.xy[traj.stopped_at])) <= tol
    assert np.linalg.norm(surf.gradient(*traj.xy[traj.stopped_at - 1])) > tol
    assert_rows_valid_until_stop(traj)


# ---- validation ----------------------------------------------------------------------------

BAD_INPUTS = [
    ({"optimizer": "gd", "lr": -0.1}, "lr"),
    ({"optimizer": "adam", "beta1": 1.0}, "beta1"),
    ({"optimizer": "adam", "beta2": -0.1}, "beta2"),
    ({"optimizer": "adam", "eps": math.nan}, "eps"),
    ({"optimizer": "adam", "lr": "fast"}, "lr"),
    ({"optimizer": "sgd"}, "unknown optimizer"),
    ({"optimizer": "gd", "surface": "nope"}, "unknown surface"),
    ({"optimizer": "momentum", "momentum_form": "sideways"}, "momentum_form"),
    ({"optimizer": "adam", "bias_correction": "yes"}, "bias_correction"),
    ({"optimizer": "lbfgs", "history_size": 0}, "history_size"),
    ({"optimizer": "gd", "beta1": 0.9}, "beta1"),
    ({"optimizer": "gd", "momentum_form": "ema"}, "momentum_form"),
    ({"optimizer": "levenberg_marquardt", "surface": "himmelblau"}, "sum-of-squares"),
    ({"optimizer": "gd", "steps": -1}, "steps"),
    ({"optimizer": "gd", "steps": 2.5}, "steps"),
    ({"optimizer": "gd", "seed": -1}, "seed"),
    ({"optimizer": "gd", "tol": -1.0}, "tol"),
    ({"optimizer": "gd", "start": (math.nan, 0.0)}, "start"),
    ({"optimizer": "gd", "start": (1.0,)}, "start"),
    ({"optimizer": "gd", "schedule": "sometimes"}, "schedule"),
    ({"optimizer": "gd", "schedule": {"name": "step", "gamma": 2.0}}, "gamma"),
    ({"optimizer": "nesterov", "dampening": 0.5}, "dampening"),
]


@pytest.mark.parametrize(("kwargs", "named"), BAD_INPUTS, ids=[f"{k}-{n}" for k, n in BAD_INPUTS])
def test_invalid_input_raises_naming_the_parameter(kwargs, named):
    kwargs = dict(kwargs)
    name = kwargs.pop("optimizer")
    surface = kwargs.pop("surface", "rosenbrock")
    with pytest.raises(ValueError, match=named):
        optviz.run(name, surface, steps=kwargs.pop("steps", 5), **kwargs)


def test_run_batch_validates_per_run_hyperparameters():
    starts = np.zeros((3, 2))
    with pytest.raises(ValueError, match="lr"):
        optviz.run_batch("gd", "booth", starts=starts, lr=np.array([0.1, -1.0, 0.1]))
    with pytest.raises(ValueError, match="lr"):
        optviz.run_batch("gd", "booth", starts=starts, lr=np.array([0.1, 0.1]))
    with pytest.raises(ValueError, match="starts"):
        optviz.run_batch("gd", "booth", starts=np.zeros((3, 3)))


# ---- mini-batches and noise ----------------------------------------------------------------

SGD = surfaces.get("noisy_linreg", batch_size=8)


def test_same_seed_same_path_other_seed_other_path():
    a = optviz.run("gd", SGD, lr=0.05, steps=STEPS, seed=1)
    b = optviz.run("gd", SGD, lr=0.05, steps=STEPS, seed=1)
    c = optviz.run("gd", SGD, lr=0.05, steps=STEPS, seed=2)
    np.testing.assert_array_equal(a.xy, b.xy)
    assert not np.array_equal(a.xy, c.xy)


def test_batch_of_all_rows_is_full_batch_gd():
    n = surfaces.get("noisy_linreg").data_y.shape[0]
    full = optviz.run("gd", "noisy_linreg", lr=0.05, steps=STEPS)
    for batch_size in (n, 0):
        same = optviz.run("gd", surfaces.get("noisy_linreg", batch_size=batch_size), lr=0.05,
                          steps=STEPS, seed=7)  # fmt: skip
        np.testing.assert_array_equal(same.xy, full.xy)
    sampled = optviz.run("gd", surfaces.get("noisy_linreg", batch_size=n - 1), lr=0.05, steps=5)
    assert not np.array_equal(sampled.xy, full.xy[:6])


def test_optimizers_of_one_comparison_see_the_same_batches():
    np.testing.assert_array_equal(
        optviz.batch_indices(100, 8, 30, seed=3), optviz.batch_indices(100, 8, 30, seed=3)
    )
    # With η = 0 nothing moves, so each step's gradient reveals the batch it was taken on.
    grads = [optviz.run(name, SGD, lr=0.0, steps=30, seed=3).grad[:30] for name in ("gd", "adam")]
    np.testing.assert_array_equal(grads[0], grads[1])
    surf = surfaces.get("noisy_linreg")
    x, y = SGD.start
    rows = optviz.batch_indices(surf.data_y.shape[0], 8, 30, seed=3)
    for k in (0, 17, 29):
        residual = x * surf.data_x[rows[k], 0] + y - surf.data_y[rows[k]]
        expected = [2 * np.mean(residual * surf.data_x[rows[k], 0]), 2 * np.mean(residual)]
        np.testing.assert_allclose(grads[0][k], expected, rtol=1e-12)


def test_gradient_noise_is_seeded():
    sigma = 0.5
    noisy = surfaces.get("booth", grad_noise=sigma)
    a = optviz.run("gd", noisy, lr=0.01, steps=STEPS, seed=4)
    b = optviz.run("gd", noisy, lr=0.01, steps=STEPS, seed=4)
    c = optviz.run("gd", noisy, lr=0.01, steps=STEPS, seed=5)
    np.testing.assert_array_equal(a.xy, b.xy)
    assert not np.array_equal(a.xy, c.xy)
    true_grad = surfaces.get("booth").gradient(*a.xy[:STEPS].T)
    np.testing.assert_allclose(
        a.grad[:STEPS] - true_grad, optviz.gradient_noise(sigma, STEPS, 4), atol=1e-12
    )


# ---- batches, averaging ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "surface", "hyper"),
    [
        ("adam", "rosenbrock", {"lr": np.array([0.01, 0.02, 0.05])}),
        ("momentum", "himmelblau", {"lr": 0.01, "beta1": np.array([0.5, 0.9, 0.0])}),
        ("gd", "rosenbrock", {"lr": np.array([1e-3, 10.0, 2e-3])}),  # one run diverges
        ("bfgs", "beale", {}),
        ("gd", SGD, {"lr": 0.05}),
    ],
)
def test_run_batch_agrees_with_run(name, surface, hyper):
    starts = np.array([[-1.2, 1.0], [0.5, -0.5], [1.5, 2.0]])
    res = optviz.run_batch(name, surface, starts=starts, steps=200, seed=3, **hyper)
    for i, start in enumerate(starts):
        one = {k: (v[i] if np.ndim(v) else v) for k, v in hyper.items()}
        traj = optviz.run(name, surface, start=tuple(start), steps=200, seed=3, **one)
        assert res.status[i] == traj.status
        assert res.stopped_at[i] == traj.stopped_at
        assert tuple(res.final_xy[i]) == traj.final
        assert res.final_loss[i] == traj.loss[traj.stopped_at]


def test_polyak_average_is_the_cumulative_mean():
    traj = optviz.run("gd", SGD, lr=0.1, steps=STEPS, polyak=True)
    expected = np.cumsum(traj.xy, axis=0) / np.arange(1, STEPS + 2)[:, None]
    np.testing.assert_allclose(traj.xy_avg, expected, rtol=1e-14)
    diverged = optviz.run("gd", "rosenbrock", lr=10.0, steps=STEPS, polyak=True)
    last = diverged.stopped_at
    assert np.all(np.isfinite(diverged.xy_avg[: last + 1]))
    assert np.all(np.isnan(diverged.xy_avg[last + 1 :]))


# ---- robustness: random hyperparameters never break the engine ----------------------------

PAIRS = [
    (o, s)
    for o in optviz.OPTIMIZERS
    for s in surfaces.NAMES
    if not (optimizers.get(o).needs_sum_of_squares and not surfaces.spec(s).sum_of_squares)
]
LOG_FLOATS = st.one_of(
    st.just(0.0), st.floats(-12.0, 6.0).map(lambda e: 10.0**e), st.floats(0.0, 1e6)
)


@st.composite
def random_runs(draw):
    name, surface = draw(st.sampled_from(PAIRS))
    opt = optimizers.get(name)
    kwargs = {}
    for key in opt.defaults:
        if key == "lr":
            kwargs[key] = min(draw(LOG_FLOATS), 1e6)
        elif key in ("beta1", "beta2"):
            kwargs[key] = draw(st.one_of(st.floats(0.0, 0.999999), st.just(0.999999)))
        elif key == "eps":
            kwargs[key] = draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0)))
        elif key in optimizers.CHOICE_OPTIONS:
            choices = optimizers.CHOICE_OPTIONS[key][1]
            if name == "levenberg_marquardt" and key == "stop_rule":
                choices = tuple(c for c in choices if c != "step")  # resolve() refuses it
            kwargs[key] = draw(st.sampled_from(choices))
        elif key in optimizers.INT_OPTIONS:
            _, low, high = optimizers.INT_OPTIONS[key]
            kwargs[key] = draw(st.integers(low, high))
        else:  # weight decay, dampening, lr_decay, momentum_decay, lm_lambda: whole range
            bounds = optimizers.FLOAT_OPTIONS[key][1]
            kwargs[key] = draw(st.floats(bounds.low, bounds.high))
    params = {}
    if surfaces.spec(surface).data_surface:
        params["batch_size"] = draw(st.sampled_from([0, 1, 7]))
    params["grad_noise"] = draw(st.sampled_from([0.0, 0.0, 1.0]))
    surf = surfaces.get(surface, **params)
    (x0, x1), (y0, y1) = surf.bounds
    start = (draw(st.floats(x0, x1)), draw(st.floats(y0, y1)))
    schedule = draw(st.sampled_from(optviz.SCHEDULES))
    steps = draw(st.integers(0, 150))
    seed = draw(st.integers(0, 2**31 - 1))
    return name, surf, start, steps, schedule, seed, kwargs


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_runs())
def test_random_runs_never_break(run):
    name, surf, start, steps, schedule, seed, kwargs = run
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = optviz.run(
            name, surf, start=start, steps=steps, schedule=schedule, seed=seed, **kwargs
        )
    assert traj.status in optviz.STATUS_NAMES
    assert_rows_valid_until_stop(traj)
    if traj.status == "ok":
        assert traj.stopped_at == steps


# ---- compilation ---------------------------------------------------------------------------


def test_one_compiled_signature_for_everything():
    # A variety of optimizers, surfaces, schedules, options, batches and noise in one process.
    for name in optviz.OPTIMIZERS:
        surface = "rosenbrock" if optimizers.get(name).needs_sum_of_squares else "himmelblau"
        optviz.run(name, surface, steps=20)
    for schedule in optviz.SCHEDULES:
        optviz.run("adam", "beale", steps=20, schedule=schedule, eps_placement="inside")
    optviz.run("momentum", SGD, steps=20, momentum_form="ema", bias_correction=True)
    optviz.run("nesterov", surfaces.get("ravine", grad_noise=1.0), nesterov_form="lookahead")
    optviz.run("rmsprop", "sparse_logreg", steps=np.int64(20), centered=True, tol=1e-3)
    optviz.run("lbfgs", "rastrigin", steps=20, history_size=3, line_search="exact")
    optviz.run_batch("adam", SGD, starts=np.zeros((4, 2)), steps=20, lr=np.full(4, 0.1))
    optviz.run_batch("newton", "saddle", starts=[[1, 2], [3, 4]], steps=20)
    assert len(_kernel.simulate.signatures) == 1, _kernel.simulate.signatures
    assert len(_batch.simulate_blocked.signatures) == 1, _batch.simulate_blocked.signatures
