"""The Polyak-averaging view in the app (AppTest) and the option widgets that hide controls
which change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def fresh(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


@pytest.fixture(scope="module")
def polyak_app() -> AppTest:
    at = fresh({"surface": "booth", "sp.grad_noise": "5", "start": "1.5,2.5", "steps": "300",
                "o0": "gd", "o0.lr": "0.02"})  # fmt: skip
    at.segmented_control(key="view").set_value("Polyak averaging").run()
    return at


def _figure(at: AppTest) -> dict:
    (chart,) = at.get("plotly_chart")
    return json.loads(chart.proto.spec)


def test_the_view_draws_the_path_the_uniform_mean_and_the_cs231n_ema(polyak_app):
    at = polyak_app
    assert not at.exception
    names = [t.get("name", "") for t in _figure(at)["data"]]
    assert names[0].startswith("Gradient descent")  # the path, named as the run
    assert any("uniform mean" in n for n in names)
    assert any("EMA x_test ← 0.995·x_test + 0.005·x" in n for n in names)
    assert any("CS231n" in c.value for c in at.caption)
    (table,) = at.dataframe
    df = table.value
    # "Near the minimum with a noisy gradient both averages sit nearer it than the jittering
    # last point" (the minimum's loss is 0).
    assert df["loss at uniform mean"][0] < df["loss at last point"][0]
    assert df["loss at EMA"][0] < df["loss at last point"][0]


def test_from_a_far_start_the_averages_lag_behind():
    # "from a far start they lag behind", "the weight 0.995ᵏ (0.22 after 300 steps)".
    import optviz
    import surfaces
    from optviz import polyak

    surf = surfaces.get("booth", grad_noise=2.0)
    t = optviz.run("gd", surf, start=(-8.0, -6.0), steps=300, lr=0.02)
    last = float(surf.value(*t.xy[300]))
    assert float(surf.value(*polyak.uniform(t.xy, 300)[300])) > last
    assert float(surf.value(*polyak.ema(t.xy, 300)[300])) > last
    assert round(0.995**300, 2) == 0.22


def test_the_ema_decay_can_be_changed(polyak_app):
    at = polyak_app
    at.number_input(key="polyak.decay").set_value(0.9).run()
    assert not at.exception
    names = [t.get("name", "") for t in _figure(at)["data"]]
    assert any("EMA x_test ← 0.9·x_test + 0.1·x" in n for n in names)


def test_bias_correction_is_offered_only_for_the_ema_momentum():
    at = fresh({"o0": "momentum", "o0.momentum_form": "torch"})
    keys = {w.key for w in at.selectbox}
    assert "o0.bias_correction" not in keys and "o0.momentum_form" in keys
    at = fresh({"o0": "momentum", "o0.momentum_form": "ema"})
    assert "o0.bias_correction" in {w.key for w in at.selectbox}


def test_beta1_is_not_offered_for_the_sum_of_gradients():
    at = fresh({"o0": "momentum", "o0.momentum_form": "sum", "o0.beta1": "1"})
    assert not at.exception and not at.warning
    keys = {w.key for w in at.select_slider}
    assert "o0.beta1" not in keys and "o0.lr" in keys


def test_the_formula_view_shows_the_lecture_forms():
    at = fresh({"o0": "adam", "o0.accumulator_init": "first_grad", "o0.sched": "epoch_inverse_sqrt",
                "o0.stop_rule": "loss", "o0.target_loss": "0.01"})  # fmt: skip
    at.segmented_control(key="view").set_value("Formulas").run()
    assert not at.exception
    latex = " ".join(m.body for m in at.latex)
    assert r"\sigma_1 = |g_1|" in latex and r"\sqrt{\text{epoch}}" in latex
    assert r"f(\theta_k) \le 0.01" in latex
