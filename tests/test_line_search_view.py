"""The line-search slice (optviz.linesearch), its figure, and the app's "Line search" view."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import optviz
import surfaces
from optviz import config, figures, linesearch
from optviz.config import Comparison, RunSpec

ROSEN = surfaces.get("rosenbrock")
APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.mark.parametrize("mode", ["exact", "backtracking", "wolfe"])
def test_the_mirrored_search_returns_the_alpha_the_run_took(mode):
    # Steepest descent: p = −g exactly as the run saw it, so the α's must agree bit for bit.
    traj = optviz.run("steepest_descent", ROSEN, start=(-1.2, 1.0), steps=12, line_search=mode)
    for k in range(traj.stopped_at):
        slc = linesearch.line_search_slice(traj, ROSEN, k)
        assert slc.recomputed_alpha == slc.alpha
        assert not slc.direction_recovered
        assert slc.n_trials >= 1
        # Every trial point's φ is the surface's value there (the trials are real evaluations).
        th, d = np.array(slc.theta), np.array(slc.direction)
        np.testing.assert_allclose(
            [ROSEN.value(*(th + a * d)) for a in slc.trials[:5]], slc.trial_phi[:5], rtol=1e-12
        )


def test_quasi_newton_slices_recover_the_direction_from_the_step():
    traj = optviz.run("bfgs", ROSEN, start=(-1.2, 1.0), steps=15)
    slc = linesearch.line_search_slice(traj, ROSEN, 10)  # step 11: the first dip at α ≈ 1.67
    assert slc.direction_recovered
    assert slc.recomputed_alpha == pytest.approx(slc.alpha, rel=1e-9)
    assert slc.alpha == pytest.approx(1.6709, rel=1e-3)
    # The deeper dip further along (α ≈ 6.22) is not inside the search's bracket, but the slice
    # reaches it (to 4α), lower than the point taken: the first minimum, not the lowest.
    assert slc.trials.max() < 3.0
    assert slc.alphas.max() > 6.3
    assert slc.phi.min() < slc.taken_phi - 0.2
    assert slc.alphas[np.argmin(slc.phi)] == pytest.approx(6.22, abs=0.05)


def test_backtracking_trials_halve_from_eta():
    traj = optviz.run("bfgs", ROSEN, start=(-1.2, 1.0), steps=3, line_search="backtracking")
    slc = linesearch.line_search_slice(traj, ROSEN, 0)
    expected = 1.0 / 2.0 ** np.arange(slc.n_trials)
    np.testing.assert_allclose(slc.trials, expected, rtol=1e-12)
    assert slc.alpha == expected[-1]


def test_no_line_search_and_bad_steps_are_refused():
    gd = optviz.run("gd", ROSEN, steps=3)
    assert not linesearch.uses_line_search(gd) and linesearch.searched_steps(gd) == 0
    with pytest.raises(ValueError, match="no line search"):
        linesearch.line_search_slice(gd, ROSEN, 0)
    sd = optviz.run("steepest_descent", ROSEN, steps=3)
    for bad in (-1, 3, 1.5, True):
        with pytest.raises(ValueError, match="step"):
            linesearch.line_search_slice(sd, ROSEN, bad)


@pytest.mark.parametrize("log_alpha", [False, True])
def test_figure_shows_the_curve_the_trials_and_the_step(log_alpha):
    traj = optviz.run("steepest_descent", ROSEN, start=(-1.5, 2.0), steps=2)
    slc = linesearch.line_search_slice(traj, ROSEN, 0)
    fig = figures.line_search_figure(slc, "#1f77b4", log_alpha=log_alpha)
    names = [t.name for t in fig.data]
    assert names[0].startswith("φ(α)") and "trial steps" in names
    star = fig.data[-1]
    assert star.x[0] == slc.alpha and star.marker.symbol == "star"
    assert fig.layout.xaxis.type == ("log" if log_alpha else "linear")
    json.dumps(fig.to_plotly_json(), default=str)  # serialisable


def _app(c: Comparison) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in config.to_query(c).items():
        at.query_params[key] = value
    return at.run()


def test_app_offers_the_view_only_when_a_run_has_a_line_search():
    at = _app(Comparison())  # GD vs momentum
    assert "Line search" not in at.segmented_control(key="view").options
    c = Comparison(
        surface="rosenbrock",
        start=(-1.2, 1.0),
        steps=40,
        runs=(RunSpec("gd", {"lr": 1e-3}), RunSpec("bfgs", {})),
    )
    at = _app(c)
    assert not at.exception
    at.segmented_control(key="view").set_value("Line search").run()
    assert not at.exception
    assert at.selectbox(key="ls.run").value == 1  # the BFGS run, the only one with a search
    at.slider(key="ls.step").set_value(11).run()
    assert not at.exception
    (caption,) = [c.value for c in at.caption if "Step 11" in c.value]
    assert "FIRST local minimum" in caption and "α = 1.67" in caption
    (chart,) = at.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    assert any(t.get("name") == "trial steps" for t in spec["data"])
