"""Every preset's text is a set of claims; each claim is checked here by running the preset.

One check per preset (``CHECKS``), each quoting the words it checks. A new preset without a
check fails :func:`test_every_preset_has_a_check`; a changed number in a text must change here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

import optviz
from optviz import config, presets
from optviz.config import Comparison


def _run(name: str) -> tuple[Comparison, list]:
    c = presets.get(name).comparison
    return c, config.run_comparison(c)


def _dist(c: Comparison, xy: np.ndarray) -> np.ndarray:
    """Distance of each row of ``xy`` to the nearest marked minimum."""
    mins = np.array([(m.x, m.y) for m in c.surface_obj().minima])
    xy = np.atleast_2d(xy)
    return np.min(np.linalg.norm(xy[:, None, :] - mins[None], axis=2), axis=1)


def _final_dist(c: Comparison, traj) -> float:
    return float(_dist(c, traj.xy[traj.stopped_at])[0])


def _steps(traj) -> np.ndarray:
    return np.linalg.norm(np.diff(traj.valid_xy, axis=0), axis=1)


def _text(name: str) -> str:
    return presets.get(name).description


def check_ravine_zigzag() -> None:
    c, (gd, mom) = _run("ravine_zigzag")
    text = _text("ravine_zigzag")
    surf = c.surface_obj()
    # "condition number κ = 50", "η = 0.038 is just below the stability limit 2/κ = 0.04".
    lam, vec = np.linalg.eigh(np.asarray(surf.hessian(0.0, 0.0), float).reshape(2, 2))
    assert "κ = 50" in text and lam[1] / lam[0] == pytest.approx(50.0)
    assert 0.038 < 2.0 / lam[1] == pytest.approx(0.04)
    # "every step overshoots the valley floor and the path zig-zags": the across-valley
    # component of θ − θ* changes sign at every one of the first 50 steps.
    across = (gd.xy[:51] - _dist_min_point(c)) @ vec[:, 1]
    assert np.all(np.sign(across[1:]) == -np.sign(across[:-1]))
    # "it reaches the minimum first": momentum is within 0.01 of it before GD is.
    first = [int(np.argmax(_dist(c, t.xy[: t.stopped_at + 1]) < 0.01)) for t in (gd, mom)]
    assert _dist(c, mom.xy[first[1]])[0] < 0.01 and first[1] < first[0]
    # "GD's step length shrinks only by the factor |1 − κη| = 0.9 per step".
    ratio = _steps(gd)[1:20] / _steps(gd)[:19]
    assert np.allclose(ratio, abs(1 - lam[1] * 0.038), rtol=5e-3)
    assert abs(1 - lam[1] * 0.038) == pytest.approx(0.9)


def _dist_min_point(c: Comparison) -> np.ndarray:
    m = c.surface_obj().minima[0]
    return np.array([m.x, m.y])


def check_nesterov_overshoot() -> None:
    c, (mom, nag) = _run("nesterov_overshoot")
    d_mom = _dist(c, mom.valid_xy)
    d_nag = _dist(c, nag.valid_xy)
    # "Classical momentum ... overshoots the minimum and spirals around it for many steps":
    # after coming within 10⁻³ of it, it swings more than 1 away again, and has not settled
    # after all 100 steps.
    near = int(np.argmax(d_mom < 1e-3))
    assert d_mom[near] < 1e-3 and d_mom[near:].max() > 1.0 and d_mom[-1] > 1e-3
    # "Nesterov ... brakes, settling in a fraction of the steps": within 10⁻³ for good from
    # some step before 70 of the 100.
    settled = int(np.max(np.nonzero(d_nag > 1e-3))) + 1
    assert settled < 70
    # "Compare the loss curves": Nesterov ends far lower.
    assert nag.loss[-1] < 1e-3 * mom.loss[-1]


def check_saddle_ridge() -> None:
    c, (gd, mom, adam) = _run("saddle_ridge")
    assert c.start_point() == (-1.5, 1e-6)  # "Started a hair off the ridge, at y = 10⁻⁶"
    # "GD ... slides straight into the saddle point and sits there: its distance from the ridge
    # grows only by a factor 1.02 per step".
    assert np.allclose(gd.xy[1:, 1] / gd.xy[:-1, 1], 1.02, rtol=1e-12)
    assert gd.status == "ok" and math.hypot(*gd.final) < 0.1
    # "Momentum accumulates that tiny push and leaves after ~170 steps".
    assert mom.status == "escaped" and 150 <= mom.stopped_at <= 190
    # "Adam ... escapes". 'Runs that leave the plot say "escaped"'.
    assert adam.status == "escaped" and adam.message.startswith("escaped at step")


def check_saddle_noise() -> None:
    c, (gd, mom, adam) = _run("saddle_noise")
    assert c.start_point()[1] == 0.0 and c.surface_params["grad_noise"] == 0.1
    # "noisy GD escapes too, later than momentum and Adam".
    assert all(t.status == "escaped" for t in (gd, mom, adam))
    assert gd.stopped_at > max(mom.stopped_at, adam.stopped_at)
    # "without noise every first-order method would stop at the saddle".
    quiet = optviz.run("gd", "saddle", start=(-1.5, 0.0), steps=500, lr=0.01)
    assert quiet.status == "ok" and np.all(quiet.xy[:, 1] == 0.0)


def check_plateau() -> None:
    c, (gd, mom, rms, adam) = _run("plateau")
    surf = c.surface_obj()
    start = np.array(c.start_point())
    # "at the start ‖∇f‖ ≈ 2·10⁻⁴"; "with η = 0.1 it moves 2·10⁻⁵ per step".
    assert np.linalg.norm(surf.gradient(*start)) == pytest.approx(2e-4, rel=0.05)
    assert _steps(gd)[0] == pytest.approx(2e-5, rel=0.05)
    # "after 300 steps has barely left the start".
    assert np.linalg.norm(gd.valid_xy[-1] - start) < 0.01
    # "momentum only multiplies that by 1/(1−β₁) = 10": its last step is 10 times the plain
    # gradient step η‖∇f‖ where it stands.
    k = mom.stopped_at - 1
    g = np.linalg.norm(surf.gradient(*mom.xy[k]))
    assert _steps(mom)[k] / (0.1 * g) == pytest.approx(10.0, rel=0.05)
    # "their steps stay of the order of η (within a factor 15) however small the slope".
    for traj, lr in ((rms, 0.01), (adam, 0.05)):
        on_plateau = _steps(traj)[:50] / lr
        assert np.all((on_plateau > 1 / 15) & (on_plateau < 15))
    # "they cross the plateau and drop into the well".
    assert _final_dist(c, rms) < 1e-3 and _final_dist(c, adam) < 1e-3


def check_adagrad_vanishing() -> None:
    c, (ada, rms) = _run("adagrad_vanishing")
    # "its effective learning rate can only fall".
    eff = ada.lr_eff[: ada.stopped_at]
    assert np.all(np.diff(eff, axis=0) <= 0.0)
    # "after 2000 steps it is still 1.0 away from the minimum (1, 1), at loss 0.3".
    assert c.steps == 2000 and round(_final_dist(c, ada), 1) == 1.0
    assert round(float(ada.loss[-1]), 1) == 0.3
    # "it ends within 0.2 of (1, 1), at a loss below 0.01".
    assert _final_dist(c, rms) < 0.2 and rms.loss[-1] < 0.01
    # "RMSProp's [effective learning rate] rising again, ten-fold, along the valley".
    e = rms.lr_eff[: rms.stopped_at, 0]
    assert e[-1] > 10 * e.min()


def _roughness(traj) -> float:
    return float(np.mean(np.linalg.norm(np.diff(traj.valid_xy, 2, axis=0), axis=1)))


def check_batch_presets() -> None:
    runs = {name: _run(name) for name in ("batch_1", "batch_32", "batch_full")}
    # "the noise of the path grows as B shrinks": for each optimizer, the path's mean turn
    # ‖θₜ₊₁ − 2θₜ + θₜ₋₁‖ grows from B = n to B = 32 to B = 1.
    for i in range(3):
        rough = [_roughness(runs[name][1][i]) for name in ("batch_full", "batch_32", "batch_1")]
        assert rough[0] < rough[1] < rough[2], i
    # "with mini-batches (B < n) and a constant η the runs never settle exactly at the
    # least-squares fit": still moving at the end, and not at it.
    for name in ("batch_1", "batch_32"):
        c, trajs = runs[name]
        for t in trajs:
            assert _final_dist(c, t) > 1e-3 and _steps(t)[-1] > 1e-6
    # "With B = n ... the gradient is exact: this is plain gradient descent, the paths are
    # smooth and converge to the least-squares fit".
    c, trajs = runs["batch_full"]
    gd = trajs[0]
    assert c.surface_obj().batch_size == c.surface_obj().data_y.shape[0]
    assert np.all(np.diff(gd.valid_loss) <= 0.0)
    assert all(_final_dist(c, t) < 0.01 for t in trajs)
    # "B = 1 ... keeps jittering near the minimum": its last 100 steps travel far more than
    # they get anywhere.
    c, trajs = runs["batch_1"]
    last = trajs[0].valid_xy[-101:]
    travelled = np.sum(np.linalg.norm(np.diff(last, axis=0), axis=1))
    assert travelled > 20 * np.linalg.norm(last[-1] - last[0])


def check_adam_lecture_table() -> None:
    c, (mom, ada, rms, adam) = _run("adam_lecture_table")
    # "RMSProp and Adam move only ~0.2 in 2000 steps while momentum converges".
    for t in (rms, adam):
        moved = np.linalg.norm(t.xy[t.stopped_at] - t.xy[0])
        assert 0.15 < moved < 0.25
    assert _final_dist(c, mom) < 0.01 and c.steps == 2000


def check_newton_saddle() -> None:
    c, (newton, bfgs, guarded) = _run("newton_saddle")
    # "one step lands exactly on (0, 0) and stays".
    assert tuple(newton.xy[1]) == (0.0, 0.0) and newton.final == (0.0, 0.0)
    # "BFGS ... heads downhill and escapes. The guarded Newton (|eigenvalues|) escapes too".
    assert bfgs.status == "escaped" and guarded.status == "escaped"
    assert np.all(np.diff(bfgs.valid_loss) < 0.0)


def check_lr_schedules() -> None:
    c, (const, step, exp, inv) = _run("lr_schedules")

    # "With a constant η the mini-batch noise keeps the run bouncing around the minimum for
    # ever; [the decays] shrink the steps and let the run settle": the spread of the last 100
    # points is 10 times smaller with each decay than with a constant η.
    def spread(t) -> float:
        return float(np.linalg.norm(np.std(t.valid_xy[-100:], axis=0)))

    assert all(spread(t) < 0.1 * spread(const) for t in (step, exp, inv))
    # "1/t decays too fast at first here and arrives late": it ends farther than step and
    # exponential decay (but nearer than the constant η).
    d = {k: _final_dist(c, t) for k, t in zip("cseI", (const, step, exp, inv), strict=True)}
    assert d["I"] > max(d["s"], d["e"]) and d["I"] < d["c"]
    assert inv.lr[1] < exp.lr[1] < step.lr[1] == const.lr[1]  # faster at first


def check_rosenbrock_second_order() -> None:
    c, (gd, adam, newton, bfgs, lbfgs, lm) = _run("rosenbrock_second_order")
    # "from η = 2.5·10⁻³ it diverges on the steep walls".
    faster = optviz.run("gd", "rosenbrock", start=c.start_point(), steps=c.steps, lr=2.5e-3)
    assert faster.status == "diverged" and gd.status == "ok"
    # "GD ... and Adam follow the valley slowly": both still more than 1 away.
    assert _final_dist(c, gd) > 1.0 and _final_dist(c, adam) > 1.0

    def arrival(t) -> int:
        d = _dist(c, t.valid_xy)
        assert d[-1] < 1e-6
        return int(np.argmax(d < 1e-6))

    # "Newton ... arrives in a handful of steps", "BFGS and L-BFGS ... in a few dozen",
    # "Levenberg–Marquardt ... arrives too".
    assert arrival(newton) <= 10
    assert all(12 <= arrival(t) <= 60 for t in (bfgs, lbfgs))
    arrival(lm)


def check_own_double_well() -> None:
    c, (gd, momentum, newton) = _run("own_double_well")
    surf = c.surface_obj()
    # "a shallow minimum on the right (f ≈ −0.71), a deeper one on the left (f ≈ −1.31) and a
    # saddle between them, all found numerically".
    deep, shallow = sorted(surf.minima, key=lambda m: m.value)
    assert deep.x < 0 < shallow.x and len(surf.saddles) == 1
    assert round(shallow.value, 2) == -0.71 and round(deep.value, 2) == -1.31
    # "GD and Newton settle in the nearer, shallower well ... Momentum ... ends in the deeper".
    for traj, well in ((gd, shallow), (newton, shallow), (momentum, deep)):
        x, y = traj.final
        assert math.hypot(x - well.x, y - well.y) < 1e-3, traj.optimizer


def _first_within(traj, radius: float, point=(0.0, 0.0)) -> int | None:
    d = np.hypot(*(traj.valid_xy - np.asarray(point)).T)
    near = np.flatnonzero(d < radius)
    return int(near[0]) if near.size else None


def check_full_adagrad_rotated() -> None:
    c, (diag, full) = _run("full_adagrad_rotated")
    text = _text("full_adagrad_rotated")
    # "after 500 steps it is still 0.48 from the minimum"
    assert "0.48" in text and round(_final_dist(c, diag), 2) == 0.48
    # "it is within 10⁻³ of the minimum at step 168"
    assert "step 168" in text and _first_within(full, 1e-3) == 168
    assert _first_within(diag, 1e-3) is None
    # "Set the angle to 0°: … the diagonal one arrives too (step 167)"
    flat = replace(c, surface_params={"kappa": 50.0, "angle": 0.0})
    diag0, _ = config.run_comparison(flat)
    assert "step 167" in text and _first_within(diag0, 1e-3) == 167


def check_lion_sign() -> None:
    c, (lion, adam) = _run("lion_sign")
    text = _text("lion_sign")
    # "every coordinate moves by exactly η = 0.05 at every step"
    moves = np.abs(np.diff(lion.valid_xy, axis=0))
    assert "η = 0.05" in text and np.allclose(moves, 0.05, rtol=0, atol=1e-12)
    # "it runs through the minimum and swings back and forth along the valley (0.42 away after
    # 150 steps)": over the last 50 steps it passes the minimum and swings out again.
    assert "(0.42 away after 150 steps)" in text and round(_final_dist(c, lion), 2) == 0.42
    late = _dist(c, lion.valid_xy[100:])
    assert late.min() < 1e-9 and late.max() > 0.5
    # "Adam with the same η ends 0.67 away"
    assert "0.67 away" in text and round(_final_dist(c, adam), 2) == 0.67


def check_radam_warmup() -> None:
    _, (adam, radam) = _run("radam_warmup")
    text = _text("radam_warmup")
    sa, sr = _steps(adam), _steps(radam)
    # "Adam's first step … is η-sized (0.0014)"
    assert "(0.0014)" in text and round(sa[0], 4) == 0.0014
    # "its first step is 115 times Adam's"
    assert "115 times" in text and int(sr[0] / sa[0]) == 115
    # "RAdam's first five steps are plain momentum steps −η m̂ (ρ_t ≤ 5 …)"
    b2 = 0.999
    rho_inf = 2 / (1 - b2) - 1
    t = np.arange(1, 7)
    rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
    assert np.all(rho[:5] <= 5) and rho[5] > 5
    m = np.zeros(2)
    for k in range(5):
        m = 0.9 * m + 0.1 * radam.grad[k]
        expected = -1e-3 * m / (1 - 0.9 ** (k + 1))
        np.testing.assert_allclose(radam.xy[k + 1] - radam.xy[k], expected, rtol=1e-12)
    # "from step 6 … its steps drop below 10⁻⁵"
    assert "below 10⁻⁵" in text and sr[5] < 1e-5 < sr[4]


def check_sign_methods_plateau() -> None:
    c, (gd, adam, rprop, belief) = _run("sign_methods_plateau")
    text = _text("sign_methods_plateau")
    # "GD … has moved less than 0.01"
    assert "less than 0.01" in text
    assert np.hypot(*(gd.xy[gd.stopped_at] - gd.xy[0])) < 0.01
    # "Adam … 1.3 from the minimum at the end"
    assert "1.3 from" in text and round(_final_dist(c, adam), 1) == 1.3
    # "Rprop … ends within 10⁻⁶ of the minimum; AdaBelief … ends within 0.02"
    assert _final_dist(c, rprop) < 1e-6 and _final_dist(c, belief) < 0.02


CHECKS: dict[str, Callable[[], None]] = {
    "full_adagrad_rotated": check_full_adagrad_rotated,
    "lion_sign": check_lion_sign,
    "radam_warmup": check_radam_warmup,
    "sign_methods_plateau": check_sign_methods_plateau,
    "ravine_zigzag": check_ravine_zigzag,
    "nesterov_overshoot": check_nesterov_overshoot,
    "saddle_ridge": check_saddle_ridge,
    "saddle_noise": check_saddle_noise,
    "plateau": check_plateau,
    "adagrad_vanishing": check_adagrad_vanishing,
    "batch_1": check_batch_presets,
    "batch_32": check_batch_presets,
    "batch_full": check_batch_presets,
    "adam_lecture_table": check_adam_lecture_table,
    "newton_saddle": check_newton_saddle,
    "lr_schedules": check_lr_schedules,
    "rosenbrock_second_order": check_rosenbrock_second_order,
    "own_double_well": check_own_double_well,
}


def test_every_preset_has_a_check():
    assert set(presets.PRESETS) == set(CHECKS)


@pytest.mark.parametrize("check", sorted(set(CHECKS.values()), key=lambda f: f.__name__))
def test_preset_claims_hold(check):
    check()
