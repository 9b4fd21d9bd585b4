"""The lecture forms, each against a loop written from the lecture's own formula (quoted), not
from optviz's code: Hung-yi Lee's momentum and Adam (deck 004), the schedules counted in epochs
(decks 001 and 003), the Polish deck's stop rules (003), Polyak averaging (CS231n, 002); and
the formula cards and notes that describe them.

The surface is Booth, f = (x + 2y − 7)² + (2x + y − 5)², whose gradient is written out here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import optviz
import surfaces
from optviz import config, optimizers, polyak, schedules
from optviz.config import Comparison, RunSpec

START = (-8.0, -6.0)
TIGHT = {"rtol": 1e-12, "atol": 1e-12}


def f(t: np.ndarray) -> float:
    x, y = t
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


def grad(t: np.ndarray) -> np.ndarray:
    x, y = t
    a, b = x + 2 * y - 7, 2 * x + y - 5
    return np.array([2 * a + 4 * b, 4 * a + 2 * b])


def test_the_hand_written_gradient_is_booths():
    assert np.allclose(grad(np.array([0.3, -1.2])), surfaces.get("booth").gradient(0.3, -1.2))


# ---- Hung-yi Lee (deck 004) ------------------------------------------------------------------


def test_hung_yi_lee_momentum_is_the_sum_of_past_gradients():
    # 004: "m_i^0 = g_i^0", "\theta_i^1 \leftarrow \theta_i^0 - \eta m_i^0", …,
    # "m_i^t = g_i^0 + g_i^1 + g_i^2 + \dots + g_i^t", "\theta_i^{t+1} \leftarrow \theta_i^t -
    # \eta m_i^t".
    eta, steps = 0.002, 60
    theta = np.array(START)
    path = [theta]
    gradients = []
    for _ in range(steps):
        gradients.append(grad(theta))
        m = np.sum(gradients, axis=0)
        theta = theta - eta * m
        path.append(theta)
    traj = optviz.run(
        "momentum", "booth", start=START, steps=steps, lr=eta, momentum_form="sum", beta1=1.0
    )
    assert np.allclose(traj.xy, path, **TIGHT)


def test_beta_one_is_allowed_for_the_sum_form_only():
    assert optimizers.resolve("momentum", {"momentum_form": "sum", "beta1": 1.0})["beta1"] == 1.0
    for form in ("torch", "ema", "lr_inside"):
        with pytest.raises(ValueError, match="beta1"):
            optimizers.resolve("momentum", {"momentum_form": form, "beta1": 1.0})
    with pytest.raises(ValueError, match="beta1"):
        optimizers.resolve("adam", {"beta1": 1.0})


def test_hung_yi_lee_ema_momentum_is_torch_with_dampening_beta():
    # 004, "Momentum (這不是經典的 Momentum)": "m_i^0 = g_i^0", "m_i^t = \beta m_i^{t-1} + (1 -
    # \beta) g_i^t", "\theta_i^{t+1} \leftarrow \theta_i^t - \eta m_i^t". The card says it is
    # torch's form with dampening = β.
    eta, beta, steps = 0.01, 0.9, 80
    theta = np.array(START)
    path = [theta]
    m = None
    for _ in range(steps):
        g = grad(theta)
        m = g if m is None else beta * m + (1 - beta) * g
        theta = theta - eta * m
        path.append(theta)
    traj = optviz.run("momentum", "booth", start=START, steps=steps, lr=eta, beta1=beta,
                      momentum_form="torch", dampening=beta)  # fmt: skip
    assert np.allclose(traj.xy, path, **TIGHT)
    assert "dampening τ = β₁" in optimizers.notes("momentum")


def test_hung_yi_lee_adam_starts_from_the_first_gradient():
    # 004: Adam = RMSProp + Momentum; Momentum "m_i^0 = g_i^0", "\mathbf{m}_i^t = \beta
    # \mathbf{m}_i^{t-1} + (1 - \beta) \mathbf{g}_i^t"; RMSProp "\sigma_i^0 = \sqrt{(g_i^0)^2}",
    # "\sigma_i^t = \sqrt{\alpha (\sigma_i^{t-1})^2 + (1 - \alpha) (\mathbf{g}_i^t)^2}"; Adam
    # "\theta_i^{t+1} \leftarrow \theta_i^t - \frac{\eta}{\sigma_i^t} \mathbf{m}_i^t"; "Adam has
    # bias-corrected terms, which are omitted here for simplicity". No ε in the deck: ε = 0.
    eta, beta, alpha, steps = 0.05, 0.9, 0.99, 150
    theta = np.array(START)
    path = [theta]
    for t in range(steps):
        g = grad(theta)
        if t == 0:
            m, sigma = g, np.abs(g)
        else:
            m = beta * m + (1 - beta) * g
            sigma = np.sqrt(alpha * sigma**2 + (1 - alpha) * g**2)
        theta = theta - eta / sigma * m
        path.append(theta)
    traj = optviz.run("adam", "booth", start=START, steps=steps, lr=eta, beta1=beta,
                      beta2=alpha, eps=0.0, accumulator_init="first_grad")  # fmt: skip
    assert np.allclose(traj.xy, path, **TIGHT)
    # Bias correction changes nothing in this form, so it is not offered there.
    with_bc = optviz.run("adam", "booth", start=START, steps=steps, lr=eta, beta1=beta,
                         beta2=alpha, eps=0.0, accumulator_init="first_grad",
                         bias_correction=False)  # fmt: skip
    assert np.array_equal(with_bc.xy, traj.xy)
    resolved = optimizers.resolve("adam", {"accumulator_init": "first_grad"})
    assert "bias_correction" in optimizers.inactive("adam", resolved)


def test_bias_correction_is_offered_only_where_it_acts():
    for form in ("torch", "lr_inside", "sum"):
        r = optimizers.resolve("momentum", {"momentum_form": form})
        assert "bias_correction" in optimizers.inactive("momentum", r)
        on = optviz.run("momentum", "booth", start=START, steps=30, lr=0.002,
                        momentum_form=form, bias_correction=True)  # fmt: skip
        off = optviz.run("momentum", "booth", start=START, steps=30, lr=0.002,
                         momentum_form=form, bias_correction=False)  # fmt: skip
        assert np.array_equal(on.xy, off.xy), form
    r = optimizers.resolve("momentum", {"momentum_form": "ema"})
    assert "bias_correction" not in optimizers.inactive("momentum", r)
    assert "bias_correction" not in optimizers.inactive("adam", optimizers.resolve("adam", {}))


# ---- schedules counted in epochs (decks 001 and 003) -------------------------------------------


def _updates_per_epoch(surf: surfaces.Surface) -> int:
    # 003: "jedna epoka = 20000/100=200 iteracji" (one epoch = n/B updates); full batch: "jedna
    # epoka = jedna iteracja". With n not a multiple of B the last batch of an epoch is short.
    n, b = surf.data_y.shape[0], surf.batch_size
    return 1 if b >= n else math.ceil(n / b)


def test_the_worked_example_of_the_mini_batch_deck():
    # 001: "\alpha = \frac{\alpha_0}{1 + decay_{rate} * epoch_{num}}", "Ví dụ: \alpha_0=0.2, decay
    # rate = 1", "Epoch 1: \alpha = 0.2 / (1+1*1) = 0.1", "Epoch 2: … = 0.067", "Epoch 3: … =
    # 0.05", "Epoch 4: … = 0.04".
    sched = {"name": "epoch_inverse_time", "decay_rate": 1.0}
    traj = optviz.run("gd", "booth", start=START, steps=4, lr=0.2, schedule=sched)
    assert np.allclose(traj.lr[:4], [0.1, 0.2 / 3, 0.05, 0.04], rtol=1e-15)
    assert round(traj.lr[1], 3) == 0.067


@pytest.mark.parametrize("batch_size", [32, 25, 7, 0])
def test_an_epoch_is_n_over_b_updates_on_the_data_surface(batch_size):
    surf = surfaces.get("noisy_linreg", batch_size=batch_size)
    per_epoch = _updates_per_epoch(surf)
    assert schedules.updates_per_epoch(surf) == per_epoch
    steps = 3 * per_epoch + 2
    cases = {
        # 001: "\alpha = \frac{\alpha_0}{1 + decay_{rate} * epoch_{num}}"
        "epoch_inverse_time": ({"decay_rate": 0.5}, lambda e: 0.1 / (1 + 0.5 * e)),
        # 001: "\alpha = 0.95^{epoch_num} * \alpha_0"
        "epoch_exponential": ({"base": 0.95}, lambda e: 0.95**e * 0.1),
        # 001: "\alpha = \frac{k}{\sqrt{epoch_num}} * \alpha_0"
        "epoch_inverse_sqrt": ({"k": 0.8}, lambda e: 0.8 / math.sqrt(e) * 0.1),
    }
    for name, (params, alpha) in cases.items():
        traj = optviz.run("gd", surf, steps=steps, lr=0.1, schedule={"name": name, **params})
        epochs = [k // per_epoch + 1 for k in range(steps)]  # numbered from 1, as the decks do
        assert np.allclose(traj.lr[:steps], [alpha(e) for e in epochs], rtol=1e-14), name


@pytest.mark.parametrize(("surface", "per_epoch"), [("booth", 1), ("noisy_linreg", 4)])
def test_the_piecewise_constant_schedule_of_the_polish_deck(surface, per_epoch):
    # 003: "przez pierwsze kilka epok może on wynosić 0,1, przez kolejne kilkanaście 0,01 a
    # następnie 0,001"; Keras: "if epoch < 5: return 0.1", "elif epoch < 20: return 0.01",
    # "else: return 0.001" (Keras' epochs count from 0: the first 5, the next 15, the rest).
    surf = surfaces.get(surface, batch_size=25) if surface == "noisy_linreg" else surface
    steps = 25 * per_epoch
    traj = optviz.run("gd", surf, steps=steps, lr=0.1, schedule="epoch_piecewise")
    keras = [0.1 if e < 5 else 0.01 if e < 20 else 0.001 for e in range(25)]  # 0-based epochs
    expected = np.repeat(keras, per_epoch)
    assert np.allclose(traj.lr[:steps], expected, rtol=1e-15)


def test_gd_under_an_epoch_schedule_follows_the_lecture_loop():
    # 001's α = k/√epoch · α₀ with θ ← θ − α∇f; on Booth (full batch) an epoch is one update.
    alpha0, k, steps = 0.04, 1.5, 50
    theta = np.array(START)
    path = [theta]
    for epoch in range(1, steps + 1):
        theta = theta - k / math.sqrt(epoch) * alpha0 * grad(theta)
        path.append(theta)
    traj = optviz.run("gd", "booth", start=START, steps=steps, lr=alpha0,
                      schedule={"name": "epoch_inverse_sqrt", "k": k})  # fmt: skip
    assert np.allclose(traj.xy, path, **TIGHT)


def test_the_performance_rule_of_the_polish_deck():
    # 003: "W matlabie jeżeli w kolejnej epoce E maleje to współczynnik uczenia jest zwiększany o
    # 5%, a w przeciwnym razie jest zmniejszany o 30%." On Booth one epoch is one update.
    eta, steps = 0.09, 80
    theta = np.array(START)
    path = [theta]
    e_prev = f(theta)
    ups = downs = 0
    for k in range(steps):
        if k > 0:
            e = f(theta)
            if e < e_prev:
                eta, ups = eta * 1.05, ups + 1
            else:
                eta, downs = eta * 0.7, downs + 1
            e_prev = e
        theta = theta - eta * grad(theta)
        path.append(theta)
    assert ups > 5 and downs > 5, "both branches of the rule are exercised"
    traj = optviz.run("gd", "booth", start=START, steps=steps, lr=0.09, schedule="performance")
    assert np.allclose(traj.xy, path, rtol=1e-10, atol=1e-12)


def test_the_performance_rule_acts_once_per_epoch_on_mini_batches():
    surf = surfaces.get("noisy_linreg", batch_size=25)
    per_epoch = _updates_per_epoch(surf)
    assert per_epoch == 4
    traj = optviz.run("gd", surf, steps=40, lr=0.3, schedule="performance")
    lr = traj.lr[:40]
    for e in range(10):
        block = lr[e * per_epoch : (e + 1) * per_epoch]
        assert np.all(block == block[0]), "η is constant within an epoch"
        if e:
            start, prev = e * per_epoch, (e - 1) * per_epoch
            fell = traj.loss[start] < traj.loss[prev]  # E at the end of the epoch vs before
            assert block[0] / lr[prev] == pytest.approx(1.05 if fell else 0.7, rel=1e-12)


# ---- stop rules (deck 003) -------------------------------------------------------------------


def test_stop_on_a_short_step():
    # 003: "Warunki zatrzymania procesu uczenia (np. … norma z różnicy wektorów wag z kolejnych
    # iteracji …)": stop at the first k with ‖θₖ − θₖ₋₁‖ < tol.
    eta, tol = 0.02, 1e-3
    theta = np.array(START)
    k = 0
    while True:
        new = theta - eta * grad(theta)
        k += 1
        if np.linalg.norm(new - theta) < tol:
            break
        theta = new
    traj = optviz.run("gd", "booth", start=START, steps=1000, lr=eta, stop_rule="step",
                      step_tol=tol)  # fmt: skip
    assert traj.status == "converged" and traj.stopped_at == k
    assert traj.message == f"converged at step {k}"
    assert np.allclose(traj.xy[k], new, **TIGHT)


def test_stop_on_a_target_loss():
    # 003: "zadana dokładność" (a set accuracy): stop at the first k with f(θₖ) ≤ target.
    eta, target = 0.02, 1e-4
    theta = np.array(START)
    k = 0
    while f(theta) > target:
        theta = theta - eta * grad(theta)
        k += 1
    traj = optviz.run("gd", "booth", start=START, steps=1000, lr=eta, stop_rule="loss",
                      target_loss=target)  # fmt: skip
    assert traj.status == "converged" and traj.stopped_at == k
    assert traj.message == f"converged at step {k}"
    assert traj.loss[k] <= target < traj.loss[k - 1]


def test_levenberg_marquardt_refuses_the_step_rule():
    with pytest.raises(ValueError, match="rejected step"):
        optimizers.resolve("levenberg_marquardt", {"stop_rule": "step"})


# ---- Polyak averaging (CS231n, deck 002) --------------------------------------------------------


def test_polyak_averages_follow_the_cs231n_loop():
    traj = optviz.run("gd", surfaces.get("booth", grad_noise=2.0), start=START, steps=300,
                      lr=0.02)  # fmt: skip
    xs = traj.valid_xy
    # 002: "x_test = 0.995*x_test + 0.005*x # use for test set" (x_test starts at θ₀ here).
    x_test = xs[0].copy()
    ema = [x_test]
    for x in xs[1:]:
        x_test = 0.995 * x_test + 0.005 * x
        ema.append(x_test)
    assert np.allclose(polyak.ema(traj.xy, traj.stopped_at), ema, **TIGHT)
    mean = [xs[: k + 1].mean(axis=0) for k in range(len(xs))]
    assert np.allclose(polyak.uniform(traj.xy, traj.stopped_at), mean, **TIGHT)
    # The engine's API average is the same uniform mean.
    api = optviz.run("gd", surfaces.get("booth", grad_noise=2.0), start=START, steps=300,
                     lr=0.02, polyak=True)  # fmt: skip
    assert np.allclose(api.xy_avg, polyak.uniform(traj.xy, traj.stopped_at), **TIGHT)


def test_polyak_figure_draws_both_averages_per_run():
    from optviz import figures

    c = Comparison(surface="booth", steps=60, runs=(RunSpec("gd", {"lr": 0.02}),))
    trajs = config.run_comparison(c)
    fig = figures.polyak_figure(c.surface_obj(), trajs, ["GD"], ["#1f77b4"])
    names = [t.name for t in fig.data if t.name]
    assert any("uniform mean" in n for n in names) and any("0.995" in n for n in names)


# ---- cards and permalink -----------------------------------------------------------------------


def test_cards_show_the_scheduled_eta_weight_decay_lr_decay_and_stop_rule():
    plain = optimizers.formula("adagrad")
    assert r"\eta_t" not in plain and r"\lambda" not in plain
    card = optimizers.formula(
        "adagrad", schedule={"name": "epoch_inverse_sqrt", "k": 2.0}, lr_decay=0.01,
        weight_decay=1e-3, stop_rule="step", step_tol=1e-5,
    )  # fmt: skip
    assert r"\frac{\eta_t}" in card and r"\frac{k}{\sqrt{\text{epoch}}}" in card
    assert r"\text{k} = 2" in card and "epochs from 1" in card
    assert "lr decay" in card and r"\lambda = 0.001" in card and "10^{-5}" in card
    assert r"f(\theta_k) \le 0.5" in optimizers.formula("bfgs", stop_rule="loss", target_loss=0.5)
    assert r"\text{decrease}" not in optimizers.formula("gd", schedule="performance")
    assert "1.05" in optimizers.formula("gd", schedule="performance")
    assert "g_1 + g_2" in optimizers.formula("momentum", momentum_form="sum")
    assert r"\sigma_1 = |g_1|" in optimizers.formula("adam", accumulator_init="first_grad")
    # AdamW's decoupled decay is its rule; no L2 line is added.
    assert r"\nabla f(\theta_{t-1}) + \lambda" not in optimizers.formula("adamw")


def test_notes_say_only_what_the_decks_say():
    lm = optimizers.notes("levenberg_marquardt")
    assert "gives no rule for changing ν" in lm and "not the lecture's" in lm
    adam = optimizers.notes("adam")
    assert "ε inside √ is the mini-batch deck's and the Polish deck's" in adam
    assert "Adam deck's and CS231n's" in adam
    assert "Hung-yi Lee" in optimizers.notes("momentum")


def test_new_options_round_trip_through_the_permalink():
    c = Comparison(
        surface="noisy_linreg",
        surface_params={"batch_size": 25},
        runs=(
            RunSpec("momentum", {"momentum_form": "sum", "beta1": 1.0, "lr": 0.001}),
            RunSpec("adam", {"accumulator_init": "first_grad", "stop_rule": "loss",
                             "target_loss": 0.95}),  # fmt: skip
            RunSpec("gd", {"stop_rule": "step", "step_tol": 1e-5},
                    schedules.resolve({"name": "epoch_inverse_time", "decay_rate": 0.5})),
            RunSpec("gd", {}, schedules.resolve({"name": "epoch_exponential", "base": 0.9})),
            RunSpec("gd", {}, schedules.resolve({"name": "epoch_inverse_sqrt", "k": 2.0})),
            RunSpec("gd", {}, schedules.resolve({"name": "performance", "decrease": 0.5})),
            RunSpec("gd", {}, schedules.resolve({"name": "epoch_piecewise",
                                                 "boundaries": (3.0,), "factors": (1.0, 0.5)})),
        ),
    )  # fmt: skip
    back, notices = config.from_query(config.to_query(c))
    assert notices == []
    assert back == c
