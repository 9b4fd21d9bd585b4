"""What the race chart draws besides the paths (optviz.race_data): the state glyphs' momentum
arrow and bars, the curvature series, and how the race chart sends them (only while shown)."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

import optviz
import surfaces
from optviz import curvature, race_data

RAVINE = surfaces.get("ravine")
ROSEN = surfaces.get("rosenbrock")


def decoded(spec: dict) -> np.ndarray:
    assert spec["dtype"] == "f4"
    return np.frombuffer(base64.b64decode(spec["bdata"]), np.float32)


def step(traj: optviz.Trajectory) -> np.ndarray:
    return np.diff(traj.xy[: traj.stopped_at + 1], axis=0)


CASES = [
    ("gd", {}),
    ("momentum", {}),
    ("momentum", {"momentum_form": "ema", "bias_correction": True}),
    ("momentum", {"momentum_form": "lr_inside"}),
    ("momentum", {"momentum_form": "sum", "beta1": 1.0}),
    ("nesterov", {"nesterov_form": "lookahead"}),
    ("adagrad", {}),
    ("rmsprop", {"centered": True}),
    ("adam", {}),
    ("adam", {"bias_correction": False}),
    ("adamw", {}),
    ("amsgrad", {}),
    ("nadam", {}),
    ("newton", {}),
    ("bfgs", {}),
    ("lbfgs", {}),
]


@pytest.mark.parametrize(("name", "options"), CASES)
def test_recorded_rerun_is_the_same_path(name, options):
    lr = 1e-3 if name in ("gd", "momentum") else None
    schedule = {"name": "step", "step_size": 20, "gamma": 0.5}
    traj = optviz.run(name, ROSEN, steps=60, lr=lr, schedule=schedule, **options)
    rec = race_data.recorded(traj, ROSEN)
    assert rec is not None and rec.state is not None
    np.testing.assert_array_equal(rec.xy, traj.xy)
    assert rec.stopped_at == traj.stopped_at


def test_momentum_arrow_is_the_step_of_heavy_ball():
    """torch's form steps −η·v and lr_inside's −v: the arrow is the step itself."""
    for form in ("torch", "lr_inside"):
        traj = optviz.run("momentum", RAVINE, steps=40, lr=0.01, momentum_form=form)
        m = race_data.momentum_arrows(race_data.recorded(traj, RAVINE))
        np.testing.assert_allclose(m[:-1], step(traj), rtol=1e-12, atol=1e-15)
        assert np.isnan(m[-1]).all()


def test_momentum_arrow_of_adam_is_eta_m_hat_and_the_bars_its_scaling():
    traj = optviz.run("adam", RAVINE, steps=40, lr=0.05)
    rec = race_data.recorded(traj, RAVINE)
    m = race_data.momentum_arrows(rec)
    st = rec.state
    np.testing.assert_allclose(m[:-1], -0.05 * st["m_hat"][1:], rtol=1e-12)
    # The step is the arrow scaled per coordinate by 1/(√v̂ + ε) = the bars' η_eff / η.
    np.testing.assert_allclose(step(traj), m[:-1] / (np.sqrt(st["v_hat"][1:]) + 1e-8), rtol=1e-9)
    # (lr_eff, the bars, is the factor on the raw m: η/((1 − β₁ᵗ)(√v̂ + ε)).)
    np.testing.assert_allclose(step(traj), -traj.lr_eff[:-1] * st["m"][1:], rtol=1e-9)
    no_bias = optviz.run("adam", RAVINE, steps=5, lr=0.05, bias_correction=False)
    rec = race_data.recorded(no_bias, RAVINE)
    np.testing.assert_allclose(race_data.momentum_arrows(rec)[:-1], -0.05 * rec.state["m"][1:])


@pytest.mark.parametrize(
    ("name", "arrow", "bars"),
    [("gd", False, False), ("momentum", True, False), ("nesterov", True, False),
     ("adagrad", False, True), ("rmsprop", False, True), ("adam", True, True),
     ("amsgrad", True, True), ("newton", False, False), ("bfgs", False, False)],
)  # fmt: skip
def test_which_optimizers_get_which_glyph(name, arrow, bars):
    traj = optviz.run(name, RAVINE, steps=30)
    g = race_data.state_glyphs(RAVINE, traj)
    assert ("m_x" in g) == arrow and g["bars"] == bars
    if arrow:
        assert decoded(g["m_x"]).shape == (traj.stopped_at + 1,)


def test_curvature_series_are_the_eigenvalues_along_the_path():
    traj = optviz.run("gd", ROSEN, steps=50, lr=1e-3)
    c = race_data.curvature_series(ROSEN, traj)
    lam = np.linalg.eigvalsh(ROSEN.hessian(*traj.valid_xy.T))[:, ::-1]
    np.testing.assert_allclose(decoded(c["lam1"]), lam[:, 0], rtol=1e-5)
    np.testing.assert_allclose(decoded(c["lam2"]), lam[:, 1], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(decoded(c["edge"]), 2 / 1e-3, rtol=1e-6)
    assert decoded(c["edge"]).shape == (traj.stopped_at,)
    cv = curvature.path_curvature(ROSEN, traj)
    np.testing.assert_allclose(decoded(c["lam1"]), cv["lam_max"][:51], rtol=1e-6)


def test_extras_only_what_is_shown():
    trajs = [optviz.run("adam", RAVINE, steps=20), optviz.run("gd", RAVINE, steps=20)]
    assert race_data.race_extras(RAVINE, trajs) == [{}, {}]
    both = race_data.race_extras(RAVINE, trajs, state=True, curvature_view=True)
    assert set(both[0]) == {"bars", "m_x", "m_y", "lam1", "lam2", "edge"}
    assert set(both[1]) == {"bars", "lam1", "lam2", "edge"}


def test_race_chart_sends_extras_only_for_a_figure_with_runs():
    from optviz import figures, race_chart

    trajs = [optviz.run("adam", RAVINE, steps=20)]
    fig = figures.race_figure(RAVINE, trajs, ["Adam"], ["#000000"])
    text = race_chart._extras(fig, trajs, RAVINE, True, False)
    data = json.loads(text)
    assert data["state"] and not data["curvature"] and "m_x" in data["runs"][0]
    assert race_chart._extras(fig, trajs, RAVINE, True, False) is text  # remembered
    assert race_chart._extras(fig, trajs, RAVINE, False, False) is None
    hidden = figures.race_start_only(fig, 20)  # lesson mode before Reveal
    assert race_chart._extras(hidden, trajs, RAVINE, True, True) is None
