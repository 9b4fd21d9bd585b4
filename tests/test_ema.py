"""The EMA lesson's core (optviz/ema.py), checked against the mini-batch deck's own arithmetic.

The loop below is written from the deck (/work/shared/lectures/001_*.txt), not from the code:

    V_t = β V_{t−1} + (1 − β) θ_t,  V_0 = 0;   V′_t = V_t / (1 − β^t)
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

from optviz import ema, figures

ROOT = Path(__file__).resolve().parents[1]
DECK_THETA = (40.0, 49.0, 45.0)  # "θ₁ = 40°F, θ₂ = 49°F, θ₃ = 45°F"


def deck_loop(theta, beta):
    """The deck's recursion, by hand: V_t and V′_t for t = 1, 2, …"""
    v, plain, corrected = 0.0, [], []
    for t, x in enumerate(theta, start=1):
        v = beta * v + (1 - beta) * x
        plain.append(v)
        corrected.append(v / (1 - beta**t))
    return plain, corrected


def test_the_decks_worked_example_beta_098():
    # Deck: "V_1 = 40 * 0.02 = 8" — an arithmetic slip: 40 · 0.02 = 0.8.
    # Deck: "V_2 = 0.0196 * 40 + 0.02 * 49 = 1.764"
    # Deck: "V_1' = 0.02 * 40 / 0.02 = 40", "V_2' = (0.0196 * 40 + 0.02 * 49) / 0.0396 = 44.5"
    v = ema.ema(DECK_THETA[:2], 0.98)
    vc = ema.ema(DECK_THETA[:2], 0.98, bias_correction=True)
    assert v[0] == pytest.approx(0.8, abs=1e-15)
    assert v[0] != pytest.approx(8.0)
    assert v[1] == pytest.approx(0.0196 * 40 + 0.02 * 49, abs=1e-14)
    assert v[1] == pytest.approx(1.764, abs=1e-12)
    assert vc[0] == pytest.approx(40.0, abs=1e-12)
    assert vc[1] == pytest.approx((0.0196 * 40 + 0.02 * 49) / 0.0396, abs=1e-12)
    assert math.floor(vc[1] * 10) / 10 == 44.5  # the deck writes 44.545… as 44.5
    plain, corrected = deck_loop(DECK_THETA[:2], 0.98)
    np.testing.assert_allclose(v, plain, rtol=0, atol=1e-14)
    np.testing.assert_allclose(vc, corrected, rtol=0, atol=1e-12)


def test_first_values_print_the_decks_arithmetic_right():
    first = ema.first_values(DECK_THETA, 0.98)
    assert [f.t for f in first] == [1, 2]
    assert first[0].v_text == "0.98 · 0 + 0.02 · 40 = 0.8"
    assert first[0].corrected_text == "0.8 / (1 − 0.98¹) = 40"
    assert first[1].v_text == "0.98 · 0.8 + 0.02 · 49 = 1.764"
    assert first[1].corrected_text == "1.764 / (1 − 0.98²) = 44.5455"


@pytest.mark.parametrize("beta", [0.5, 0.9, 0.98, 0.0, 0.999])
def test_ema_matches_the_decks_loop_on_the_shipped_year(beta):
    year = ema.load_temperatures()
    plain, corrected = deck_loop(year, beta)
    np.testing.assert_allclose(ema.ema(year, beta), plain, rtol=1e-13, atol=0)
    np.testing.assert_allclose(ema.ema(year, beta, True), corrected, rtol=1e-13, atol=0)


def test_window_reading_of_the_deck():
    # Deck: "β = 0.9: … 10 ngày", "β = 0.98: … 50 ngày", "β = 0.5: … 2 ngày"
    assert ema.window_days(0.9) == pytest.approx(10)
    assert ema.window_days(0.98) == pytest.approx(50)
    assert ema.window_days(0.5) == pytest.approx(2)
    # the weight the last 1/(1−β) values carry, summed from the deck's weights (1−β)β^k
    for beta in (0.5, 0.9, 0.98):
        n = round(1 / (1 - beta))
        assert ema.window_weight(beta) == pytest.approx(sum((1 - beta) * beta**k for k in range(n)))
    assert ema.window_weight(0.999) == pytest.approx(1 - 1 / math.e, abs=1e-3)
    with pytest.raises(ValueError, match="β"):
        ema.window_days(1.0)


def test_bias_corrected_average_of_a_constant_is_that_constant():
    v = ema.ema(np.full(30, 7.0), 0.9, bias_correction=True)
    np.testing.assert_allclose(v, 7.0, rtol=1e-14)
    assert ema.ema(np.full(3, 7.0), 0.9)[0] == pytest.approx(0.7)  # uncorrected starts low


def test_shipped_year_is_what_the_seeded_script_writes():
    path = ROOT / "optviz" / "data" / "make_temperatures.py"
    spec = importlib.util.spec_from_file_location("make_temperatures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = (ROOT / "optviz" / "data" / "temperatures.csv").read_text()
    assert module.csv_text(module.temperatures()) == shipped
    year = ema.load_temperatures()
    assert year.size == 365
    assert tuple(year[[0, 1, 2, 179, 180]]) == (40.0, 49.0, 45.0, 60.0, 56.0)  # the deck's days


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("40, 49, 45", [40, 49, 45]),
        ("40\n49\n45\n", [40, 49, 45]),
        ("  1e2 -3.5\t.5 ", [100, -3.5, 0.5]),
        ("12,5; 13,1; 7", [12.5, 13.1, 7]),
    ],
)
def test_parse_series_accepts_plain_numbers(text, expected):
    parsed = ema.parse_series(text)
    assert parsed.ok and parsed.problems == []
    np.testing.assert_array_equal(parsed.values, expected)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "40, abc, 45", "nan 1", "inf", "1e999", "__import__('os')", "1" * 30, "0x10",
     "40°F 41°F", "1, 2, 3e13", None],
)  # fmt: skip
def test_parse_series_names_junk_and_keeps_nothing(text):
    parsed = ema.parse_series(text)
    assert not parsed.ok
    assert parsed.problems and all(isinstance(p, str) and p for p in parsed.problems)
    assert parsed.values.size == 0


def test_parse_series_refuses_too_many_values():
    parsed = ema.parse_series(" ".join(["1"] * (ema.MAX_VALUES + 1)))
    assert not parsed.ok and "too many" in parsed.problems[0]


def test_ema_figure_draws_the_data_and_each_curve():
    year = ema.load_temperatures()
    curves = [
        ("β = 0.9", ema.ema(year, 0.9), "#0072B2", "solid", True),
        ("β = 0.9, no bias correction", ema.ema(year, 0.9), "#0072B2", "dot", False),
    ]
    fig = figures.ema_figure(year, curves, unit="°F", projection=True)
    assert [t.name for t in fig.data] == ["θ (data)", "β = 0.9", "β = 0.9, no bias correction"]
    np.testing.assert_array_equal(np.asarray(fig.data[0].y), year)
    np.testing.assert_array_equal(np.asarray(fig.data[0].x), np.arange(1, 366))
    assert fig.data[2].line.dash == "dot"
    assert [t.showlegend for t in fig.data[1:]] == [True, False]
    assert fig.layout.font.size > figures.ema_figure(year, curves).layout.font.size


# ---- the page in the app --------------------------------------------------------------------


def test_ema_page_shows_the_first_values_takes_pasted_numbers_and_opens_adam():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.segmented_control(key="view").set_value("EMA lesson").run()
    assert not at.exception
    page = " ".join(m.value for m in at.markdown)
    assert "V₁ = 0.98 · 0 + 0.02 · 40 = 0.8" in page  # the deck's example, computed right
    assert "(1 − 0.98²) = 44.5455" in page
    assert "0.9 · 0 + 0.1 · 40 = 4" in page  # the first values of the year, β = 0.9
    assert "**10**" in page  # ≈ the average of the last 10 days
    (chart,) = [c for c in at.get("plotly_chart")]
    spec = json.loads(chart.proto.spec)
    assert [t["name"] for t in spec["data"]][0] == "θ (data)"
    assert len(spec["data"]) == 1 + 2 * 3  # three β, V′ and V each
    at.select_slider(key="ema.beta").set_value(0.5).run()
    assert "0.5 · 0 + 0.5 · 40 = 20" in " ".join(m.value for m in at.markdown)

    at.radio(key="ema.source").set_value("My own numbers").run()
    at.text_area(key="ema.text").input("40, 49, oops").run()
    assert not at.exception
    assert at.warning and "'oops'" in at.warning[0].value
    assert not at.get("plotly_chart")
    at.text_area(key="ema.text").input("10; 20,5").run()
    assert not at.warning
    assert "0.5 · 5 + 0.5 · 20.5 = 12.75" in " ".join(m.value for m in at.markdown)

    next(b for b in at.button if b.key == "ema.adam").click().run()
    assert not at.exception
    assert [at.session_state[f"o{i}.opt"] for i in range(at.session_state["n_runs"])] == [
        "adam",
        "adam",
    ]
    assert at.session_state["o1.bias_correction"] is False
    assert at.session_state["o0.beta1"] == 0.5
    assert at.session_state["view"] in ("Step by step", "Results")
