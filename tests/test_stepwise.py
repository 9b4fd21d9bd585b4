"""Step by step: the sub-steps of one update add up to the step and say the recorded numbers."""

from __future__ import annotations

import numpy as np
import pytest

import optviz
import surfaces
from optviz import figures, linesearch, stepwise

SURF = surfaces.get("ravine", kappa=10.0, angle=30.0)
START = (1.5, -0.8)
SECOND = {"newton", "bfgs", "dfp", "lbfgs", "steepest_descent", "levenberg_marquardt"}

# Every optimizer with every convention option it has (one option changed at a time).
CASES = [
    ("gd", {}),
    ("gd", {"weight_decay": 0.1}),
    ("momentum", {}),
    ("momentum", {"dampening": 0.3}),
    ("momentum", {"momentum_form": "ema"}),
    ("momentum", {"momentum_form": "ema", "bias_correction": True}),
    ("momentum", {"momentum_form": "lr_inside"}),
    ("nesterov", {}),
    ("nesterov", {"nesterov_form": "lookahead"}),
    ("adagrad", {}),
    ("adagrad", {"eps_placement": "inside", "eps": 1e-3}),
    ("adagrad", {"lr_decay": 0.2}),
    ("rmsprop", {}),
    ("rmsprop", {"eps_placement": "inside"}),
    ("rmsprop", {"centered": True}),
    ("rmsprop", {"accumulator_init": "first_grad"}),
    ("adam", {}),
    ("adam", {"eps_placement": "inside"}),
    ("adam", {"bias_correction": False}),
    ("adam", {"weight_decay": 0.1}),
    ("amsgrad", {}),
    ("adamw", {}),
    ("nadam", {}),
    ("nadam", {"nadam_schedule": "constant", "eps_placement": "inside"}),
    ("qhm", {}),
    ("qhm", {"nu": 0.3, "weight_decay": 0.1}),
    ("qhadam", {}),
    ("qhadam", {"nu2": 0.5, "weight_decay": 0.1}),
    ("lion", {}),
    ("lion", {"weight_decay": 0.5}),
    ("adamax", {}),
    ("adamax", {"weight_decay": 0.1}),
    ("newton", {}),
    ("newton", {"newton_form": "textbook", "lr": 0.5}),
    ("bfgs", {}),
    ("bfgs", {"line_search": "exact"}),
    ("dfp", {}),
    ("lbfgs", {"history_size": 2}),
    ("steepest_descent", {}),
    ("steepest_descent", {"line_search": "backtracking"}),
    # ---- opt-b (RAdam: 6 updates = 5 warm-up steps and the first rectified one) ----
    ("radam", {}),
    ("radam", {"weight_decay": 0.1, "beta2": 0.9}),
    ("rprop", {}),
    ("rprop", {"eta_minus": 0.3, "eta_plus": 1.5}),
    ("adabelief", {}),
    ("adabelief", {"eps": 1e-8, "eps_root": 1e-6}),
    ("adagrad_full", {}),
    ("adagrad_full", {"eps": 0.1}),
    ("adagrad_full", {"eps": 0.0}),
]
# Caption values named like a state array, and the state array they must equal (momentum's
# velocity is v in the lectures, m in the state).
ALIASES = {"v_prev": "m", "v_hat": "m_hat"}


def _run(name: str, options: dict, steps: int = 6, surface: object = SURF, start=START):
    kw = dict(options)
    if name not in SECOND:
        kw.setdefault("lr", 0.05)
    return optviz.run(name, surface, start=start, steps=steps, record_state=True, **kw)


def _id(case: tuple) -> str:
    return "-".join([case[0], *(f"{k}={v}" for k, v in case[1].items())])


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_the_parts_add_up_to_the_step_and_the_captions_show_the_state(case):
    name, options = case
    traj = _run(name, options)
    assert stepwise.updates(traj) >= 2
    for k in range(stepwise.updates(traj)):
        dec = stepwise.decompose(traj, k, SURF)
        step = traj.xy[k + 1] - traj.xy[k]
        np.testing.assert_array_equal(dec.step, step)
        moves = dec.moves
        assert moves, "every update has at least one part"
        total = np.sum([m.vector for m in moves], axis=0)
        assert np.abs(total - step).max() <= 1e-12 * max(1.0, np.abs(step).max()), (k, total, step)
        assert dec.substeps[-1].kind == "step"
        assert stepwise.fmt(step) in dec.substeps[-1].caption
        gradient = next(s for s in dec.substeps if s.title == "gradient")
        np.testing.assert_array_equal(gradient.values["g"], traj.state["g"][k + 1])
        for s in dec.substeps:
            assert s.caption and s.title
            for key, value in s.values.items():
                state_key = key
                if name in ("momentum", "nesterov") and key in ("v", "v_prev", "v_hat"):
                    state_key = ALIASES.get(key, "m")
                    row = k if key == "v_prev" else k + 1
                elif key.endswith("_prev"):
                    state_key, row = key[: -len("_prev")], k
                else:
                    row = k + 1
                if state_key in traj.state and key not in ("g", "H") or key == "V":
                    # The caption's number is the recorded state, shown with fmt.
                    np.testing.assert_array_equal(value, traj.state[state_key][row], err_msg=key)
                if key in ("g", "m", "v", "G", "m_hat", "v_hat", "step_size", "V", "mu"):
                    assert stepwise.fmt(value) in s.caption, (key, s.caption)


def test_adam_captions_follow_the_lecture_formulas():
    # m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², m̂ = m/(1−β₁ᵗ), step = −η m̂/(√v̂ + ε) (CS231n, the
    # Vietnamese deck): the numbers the captions show satisfy them.
    b1, b2, lr, eps = 0.9, 0.999, 0.05, 1e-8
    traj = _run("adam", {"beta1": b1, "beta2": b2, "eps": eps})
    k = 2
    t = k + 1
    dec = stepwise.decompose(traj, k, SURF)
    by = {s.title: s for s in dec.substeps}
    g = by["gradient"].values["g"]
    m_prev, m = by["first moment"].values["m_prev"], by["first moment"].values["m"]
    v_prev, v = by["second moment"].values["v_prev"], by["second moment"].values["v"]
    np.testing.assert_allclose(m, b1 * m_prev + (1 - b1) * g, rtol=1e-12)
    np.testing.assert_allclose(v, b2 * v_prev + (1 - b2) * g * g, rtol=1e-12)
    mh = by["bias correction (m)"].values["m_hat"]
    vh = by["bias correction (v)"].values["v_hat"]
    np.testing.assert_allclose(mh, m / (1 - b1**t), rtol=1e-12)
    np.testing.assert_allclose(vh, v / (1 - b2**t), rtol=1e-12)
    np.testing.assert_allclose(dec.step, -lr * mh / (np.sqrt(vh) + eps), rtol=1e-12)
    assert "m ← β₁ m + (1−β₁) g = 0.9·" in by["first moment"].caption
    assert "(t = 3)" in by["bias correction (m)"].caption


def test_captions_follow_the_options():
    def captions(name: str, **o: object) -> str:
        dec = stepwise.decompose(_run(name, o), 1, SURF)
        return " ".join(s.caption for s in dec.substeps)

    assert "√v̂ + ε" in captions("adam") and "√(v̂ + ε)" in captions("adam", eps_placement="inside")
    assert "m̂" not in captions("adam", bias_correction=False)
    assert "(1−β) g" in captions("momentum", momentum_form="ema")
    assert "v ← β v + η g" in captions("momentum", momentum_form="lr_inside")
    assert "look ahead" in captions("nesterov", nesterov_form="lookahead")
    assert "look ahead" not in captions("nesterov")
    assert "v − ḡ²" in captions("rmsprop", centered=True)
    assert "μ = β₁" in captions("nadam", nadam_schedule="constant")


def test_lookahead_gradient_is_drawn_from_the_lookahead_point():
    traj = _run("nesterov", {"nesterov_form": "lookahead", "beta1": 0.9})
    dec = stepwise.decompose(traj, 2, SURF)
    ahead = next(s for s in dec.substeps if s.title == "look-ahead")
    grad = next(s for s in dec.substeps if s.title == "gradient")
    v_prev = traj.state["m"][2]
    np.testing.assert_allclose(ahead.values["ahead"], traj.xy[2] - 0.9 * v_prev, rtol=1e-14)
    assert grad.origin == tuple(ahead.values["ahead"])
    np.testing.assert_array_equal(grad.values["g"], traj.grad[2])


def test_textbook_newton_on_the_saddle_walks_to_the_saddle_and_says_why():
    saddle = surfaces.get("saddle")
    traj = optviz.run("newton", saddle, start=(-1.5, 0.3), steps=1, record_state=True,
                      newton_form="textbook")  # fmt: skip
    dec = stepwise.decompose(traj, 0, saddle)
    np.testing.assert_allclose(dec.theta_next, (0.0, 0.0), atol=1e-15)
    uphill = [m for m in dec.moves if m.values["lambda"] < 0]
    assert len(uphill) == 1 and "climbs" in uphill[0].caption
    assert any("saddle" in n for n in dec.notes)
    assert dec.models and np.array_equal(dec.models[0].H, np.diag([2.0, -2.0]))
    guarded = optviz.run("newton", saddle, start=(-1.5, 0.3), steps=1, record_state=True)
    gdec = stepwise.decompose(guarded, 0, saddle)
    assert gdec.theta_next[1] > 0.3  # the guarded step moves away from the saddle along y
    assert not gdec.notes


def test_quasi_newton_draws_the_approximate_and_the_true_model():
    traj = _run("bfgs", {}, surface="rosenbrock", start=(-1.2, 1.0), steps=8)
    dec = stepwise.decompose(traj, 5, surfaces.get("rosenbrock"))
    labels = [m.label for m in dec.models]
    assert any("approximation" in lab for lab in labels) and any("true" in lab for lab in labels)
    np.testing.assert_array_equal(dec.models[0].H, traj.state["H"][6])


def test_bad_requests_raise_value_errors():
    plain = optviz.run("adam", SURF, start=START, steps=3)
    with pytest.raises(ValueError, match="record_state"):
        stepwise.decompose(plain, 0)
    traj = _run("adam", {}, steps=3)
    for k in (-1, 3, 1.5):
        with pytest.raises(ValueError, match="k must be"):
            stepwise.decompose(traj, k)  # type: ignore[arg-type]


def test_figure_chains_the_arrows_tip_to_tail_to_the_next_point():
    traj = _run("adam", {})
    dec = stepwise.decompose(traj, 3, SURF)
    last = len(dec.substeps) - 1
    fig = figures.stepwise_figure(SURF, traj, dec, last, "Adam", "#D55E00")
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    coloured = [a for a in arrows if a.arrowcolor == "#D55E00"]
    assert len(coloured) == len(dec.moves)
    np.testing.assert_allclose((coloured[0].ax, coloured[0].ay), dec.theta)
    for a, b in zip(coloured, coloured[1:], strict=False):
        assert (a.x, a.y) == (b.ax, b.ay)
    np.testing.assert_allclose((coloured[-1].x, coloured[-1].y), dec.theta_next, atol=1e-12)
    # Before the parts, no coloured arrow yet.
    first = figures.stepwise_figure(SURF, traj, dec, 0, "Adam", "#D55E00")
    assert not [a for a in first.layout.annotations if a.showarrow and a.arrowcolor == "#D55E00"]


def test_the_views_in_the_app():
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)
    query = {"surface": "ravine", "o0": "adam", "o0.lr": "0.1", "o1": "nesterov"}
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.session_state["view"] = "Step by step"
    at.run()
    assert not at.exception
    assert "1. gradient" in " ".join(m.value for m in at.markdown)
    for _ in range(3):
        at.button(key="sw.next_sub").click().run()
    assert at.session_state["sw.sub"] == 3 and at.session_state["sw.k"] == 0
    at.button(key="sw.next_k").click().run()
    assert at.session_state["sw.k"] == 1 and at.session_state["sw.sub"] == 0
    at.button(key="sw.prev_sub").click().run()  # wraps to the last sub-step of update 0
    assert at.session_state["sw.k"] == 0 and at.session_state["sw.sub"] > 3
    at.session_state["sw.run"] = 1
    at.run()
    assert not at.exception
    assert "the path drawn is the look-ahead point" in " ".join(m.value for m in at.markdown)
    at.session_state["view"] = "Curvature"
    at.run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "The quadratic ravine" in text


@pytest.mark.parametrize(
    ("name", "search"),
    [("steepest_descent", "exact"), ("bfgs", "exact"), ("dfp", "backtracking"),
     ("lbfgs", "wolfe"), ("steepest_descent", "backtracking")],
)  # fmt: skip
def test_a_line_search_update_shows_the_trials_of_that_update(name, search):
    rosen = surfaces.get("rosenbrock")
    traj = _run(name, {"line_search": search}, surface=rosen, start=(-1.2, 1.0), steps=8)
    for k in (0, 4):
        dec = stepwise.decompose(traj, k, rosen)
        slc = linesearch.line_search_slice(traj, rosen, k)
        np.testing.assert_array_equal(dec.line_search.trials, slc.trials)
        by = {s.title: s for s in dec.substeps}
        trials = by["line search"]
        np.testing.assert_array_equal(trials.values["trials"], slc.trials)
        assert trials.values["alpha"] == traj.lr_eff[k, 0]
        assert stepwise.fmt(traj.lr_eff[k, 0]) in trials.caption
        assert f"tried {slc.n_trials} α's" in trials.caption
        if name == "steepest_descent":  # the mirrored search returns the run's α bit for bit
            assert slc.recomputed_alpha == traj.lr_eff[k, 0]
        else:
            assert slc.recomputed_alpha == pytest.approx(traj.lr_eff[k, 0], rel=1e-9)
        # The trial points lie on the ray θ_k + α d the step took.
        pts = trials.values["trial_points"]
        d = dec.step / traj.lr_eff[k, 0]
        np.testing.assert_allclose(pts, dec.theta + np.outer(slc.trials, d), rtol=1e-9, atol=1e-12)
        # The parts still add up to the step; the figure marks the trials from that sub-step on.
        total = np.sum([m.vector for m in dec.moves], axis=0)
        np.testing.assert_allclose(total, dec.step, rtol=0, atol=1e-12)
        at = [s.title for s in dec.substeps].index("line search")
        for upto, marked in ((at, True), (at - 1, False)):
            fig = figures.stepwise_figure(rosen, traj, dec, upto, name, "#D55E00")
            assert ("line-search trials" in [t.name for t in fig.data]) == marked
    # Without the surface (or without a line search) there is no such sub-step.
    assert stepwise.decompose(traj, 0).line_search is None
    none = _run(name, {"line_search": "none", "lr": 1e-3}, surface=rosen, start=(-1.2, 1.0))
    assert "line search" not in [s.title for s in stepwise.decompose(none, 0, rosen).substeps]
