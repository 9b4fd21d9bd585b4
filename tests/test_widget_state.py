"""The widget codec (optviz.widget_state): Comparison ⇄ widget values through the permalink's
own validation; any value a widget accepts gives a valid comparison or a message in words."""

from __future__ import annotations

import math
import re
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import surfaces
from optviz import config, optimizers, presets, schedules, style
from optviz import widget_state as ws
from optviz.config import Comparison, RunSpec

SNAKE = re.compile(r"\b[a-z][a-z0-9]+(?:_[a-z0-9]+)+\b")


@pytest.mark.parametrize("name", list(presets.PRESETS))
def test_every_preset_round_trips_through_the_widgets(name):
    c = presets.get(name).comparison
    read = ws.from_widgets(ws.to_widgets(c))
    assert read.messages == ()
    assert read.slots == tuple(range(len(c.runs)))
    assert same(read.comparison, c)


def same(a: Comparison, b: Comparison) -> bool:
    """The same comparison once defaults are filled in (presets spell some defaults out)."""

    def plain(c: Comparison) -> tuple:
        runs = tuple(
            (r.optimizer, tuple(sorted(r.resolved.items())), str(schedules.resolve(r.schedule)))
            for r in c.runs
        )
        surf = c.surface_obj()
        return (
            c.surface,
            tuple(sorted(surf.params.items())),
            c.start_point(),
            c.steps,
            c.seed,
            runs,
        )

    return plain(a) == plain(b)


def test_widgets_and_permalink_read_the_same_comparison():
    c = Comparison(
        surface="noisy_linreg",
        surface_params={"batch_size": 8, "noise": 0.5},
        start=(0.5, -1.25),
        steps=321,
        seed=7,
        runs=(
            RunSpec("adam", {"lr": 0.0123, "eps_placement": "inside"}, schedules.resolve("sgdr")),
            RunSpec("levenberg_marquardt"),
            RunSpec("lbfgs", {"history_size": 3}),
        ),
        linked=False,
    )
    values = ws.to_widgets(c)
    assert config.from_query(ws.to_query(values)) == (c, [])
    assert ws.from_widgets(values).comparison == c


def test_a_typed_start_out_of_range_gives_a_message_not_an_exception():
    values = ws.to_widgets(Comparison())
    values["start_x"] = 2e10  # finite loss there, but past the engine's |θ| ≤ 10¹⁰
    read = ws.from_widgets(values)
    assert read.comparison.start is None
    (message,) = read.messages
    assert message.startswith("Start point ignored") and "2×10¹⁰" in message


def test_a_run_that_cannot_run_stays_a_slot_and_is_named():
    values = ws.to_widgets(Comparison())
    values.update(ws.run_widgets(0, RunSpec("levenberg_marquardt")))
    read = ws.from_widgets(values)
    assert read.slots == (1,)
    assert [r.optimizer for r in read.comparison.runs] == ["momentum"]
    (message,) = read.messages
    assert message.startswith("run 1 (Levenberg–Marquardt) left out of the race")
    assert "sum-of-squares" in message and not SNAKE.search(message)


def _slots(values: dict) -> list[str]:
    return [values[f"o{i}.opt"] for i in range(values["n_runs"])]


def test_removing_a_slot_removes_that_slot_even_after_a_left_out_one():
    c = Comparison(runs=(RunSpec("gd"), RunSpec("levenberg_marquardt"), RunSpec("nesterov")))
    values = ws.to_widgets(c)
    values["o2.lr"] = 0.05
    updates, deleted = ws.remove_slot(values, 2)
    after = {k: v for k, v in values.items() if k not in deleted} | updates
    assert _slots(after) == ["gd", "levenberg_marquardt"]
    assert not any(k.startswith("o2.") for k in after)
    updates, deleted = ws.remove_slot(values, 0)
    after = {k: v for k, v in values.items() if k not in deleted} | updates
    assert _slots(after) == ["levenberg_marquardt", "nesterov"]
    assert after["o1.lr"] == 0.05, "the later slot moved down with its values"
    assert ws.remove_slot(ws.to_widgets(Comparison(runs=(RunSpec("gd"),))), 0) == ({}, [])


def test_adding_a_slot_takes_an_unused_first_order_optimizer():
    values = ws.to_widgets(Comparison())
    updates = ws.add_slot(values)
    assert updates["n_runs"] == 3 and updates["o2.opt"] == "nesterov"
    full = ws.to_widgets(Comparison(runs=(RunSpec("gd"),) * config.MAX_RUNS))
    assert ws.add_slot(full) == {}


def test_messages_are_words():
    values = ws.to_widgets(Comparison())
    values["o1.sched"] = "sgdr"
    values["o1.sched.sgdr.T_mult"] = 1.5
    values["o1.sched.sgdr.eta_min"] = 2e6
    values["o0.lr"] = -1.0
    values["sp.ravine.kappa"] = 5000.0
    read = ws.from_widgets(values)
    assert len(read.messages) == 3
    for message in read.messages:
        assert not SNAKE.search(message), message
        assert "o0" not in message and "o1" not in message
    assert any("learning rate η" in m and "−1" in m for m in read.messages)
    assert any("condition number κ" in m for m in read.messages)


# ---- property: every value a widget accepts -----------------------------------------------------

FINITE = st.floats(allow_nan=False, allow_infinity=False)


def _float_in(low: float, high: float) -> st.SearchStrategy:
    return st.one_of(st.sampled_from([low, high]), st.floats(low, high))


def _option_value(name: str) -> st.SearchStrategy:
    """Any value the option's widget accepts (the app's own rule: ws.option_widget)."""
    w = ws.option_widget(name)
    if w.kind == "choice":
        return st.sampled_from(w.choices)
    if w.kind == "int":
        return st.integers(int(w.low), int(w.high))
    values = _float_in(w.low, w.high)
    if w.kind == "stops":  # a stop, or (typed) any value of the box, which becomes a stop
        values = (
            st.one_of(st.sampled_from(w.stops), values) if w.typed else st.sampled_from(w.stops)
        )
    if w.open_high:  # β: [0, 1), its stops and the box alike
        values = values.filter(lambda v: v < w.high)
    return values


FORMULAS = st.one_of(
    st.sampled_from(
        [
            surfaces.FORMULA_DEFAULT,
            "x^2 + 10*sin(y)",
            "(1-x)^2 + 100*(y-x^2)^2",
            "x*y",
            "log(1 + x^2 + y^2)",
            "exp(x^2 + y^2)",
            "exp(exp(x^2 + y^2))",
            "log(-1 - x^2)",
            "1/x",
            "sqrt(x)",
            "x^",
            "",
            "import os",
            "x" * 301,
            "abs(x) + max(x, y)",
            "0",
            "y",
            "x^999",
        ]
    ),
    st.text(max_size=40),
)


LIST_TEXT = st.one_of(
    st.sampled_from(["100, 300", "100", "", "300, 100", "1, 2, 3, 4, 5, 6, 7, 8, 9", "x"]),
    st.text(max_size=12),
)


@st.composite
def widget_states(draw, surface_names: tuple[str, ...] = surfaces.NAMES) -> dict:
    values: dict = {}
    surface = draw(st.sampled_from(surface_names))
    values["surface"] = surface
    for name, prm in surfaces.all_params(surfaces.spec(surface)).items():
        if prm.integer:
            v = draw(st.integers(int(prm.low), int(min(prm.high, 10_000))))
        else:
            v = draw(_float_in(prm.low, prm.high))
        if draw(st.booleans()):
            values[f"sp.{surface}.{name}"] = v
    if surface == ws.FORMULA:  # the box takes any text; the last one that compiled is used
        text = draw(FORMULAS)[: surfaces.formula.MAX_LENGTH]
        values[ws.FORMULA_TEXT_KEY] = text
        ok = surfaces.formula.check(text) is None
        values[ws.FORMULA_VALID_KEY] = text if ok else surfaces.FORMULA_DEFAULT
    values["start_x"] = draw(st.one_of(FINITE, st.floats(-3, 3)))
    values["start_y"] = draw(st.one_of(FINITE, st.floats(-3, 3)))
    values["steps"] = draw(st.integers(1, config.MAX_STEPS))
    values["seed"] = draw(st.integers(0, 2**31 - 1))
    values["proj"] = draw(st.booleans())
    values["link"] = draw(st.booleans())
    n = draw(st.integers(1, config.MAX_RUNS))
    values["n_runs"] = n
    for i in range(n):
        name = draw(st.sampled_from(optimizers.NAMES))
        values[f"o{i}.opt"] = name
        for option in optimizers.get(name).defaults:
            if draw(st.booleans()):
                values[f"o{i}.{option}"] = draw(_option_value(option))
        sname = draw(st.sampled_from(schedules.NAMES))
        values[f"o{i}.sched"] = sname
        for pname, (default, low, high) in schedules.get(sname).params.items():
            key = f"o{i}.sched.{sname}.{pname}"
            if isinstance(default, tuple):
                values[key] = draw(LIST_TEXT)
            elif draw(st.booleans()):
                values[key] = draw(_float_in(low, min(high, 1e9)))
    for h in optimizers.HYPERPARAMETERS:
        if draw(st.booleans()):
            values[f"link.{h}"] = draw(_option_value(h))
    return values


def _expected_runs(values: dict) -> list[tuple[str, dict]]:
    """(optimizer, options as the widgets hold them) per slot, link applied."""
    out = []
    for i in range(values["n_runs"]):
        name = values[f"o{i}.opt"]
        options = {}
        for key, default in optimizers.get(name).defaults.items():
            linked = values["link"] and key in optimizers.HYPERPARAMETERS
            options[key] = values.get(f"link.{key}" if linked else f"o{i}.{key}", default)
        out.append((name, options))
    return out


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(widget_states())
def test_any_widget_values_give_a_runnable_comparison_or_a_message(values):
    check_read(values)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(widget_states((ws.FORMULA,)))
def test_any_formula_text_and_widget_values_give_a_runnable_comparison_or_a_message(values):
    check_read(values)


def check_read(values: dict) -> None:
    """The property: a runnable comparison, messages in words, and when there is no message
    exactly what the widgets show."""
    read = ws.from_widgets(values)  # never raises
    c = read.comparison
    trajs = config.run_comparison(replace(c, steps=min(c.steps, 50)))  # it runs
    assert style.surface_png(c.surface_obj(), 48, 48)  # and its surface can be drawn
    assert len(trajs) == len(c.runs) >= 1
    for message in read.messages:
        assert message and not SNAKE.search(message), message
    if read.messages:
        return
    # No message: nothing was ignored, so the comparison is exactly what the widgets show.
    assert read.slots == tuple(range(values["n_runs"]))
    for run, (name, options) in zip(c.runs, _expected_runs(values), strict=True):
        assert run.optimizer == name
        assert run.resolved == options
    surf = c.surface_obj()
    for name, prm in surfaces.all_params(surf.spec).items():
        want = values.get(f"sp.{c.surface}.{name}", prm.default)
        assert surf.params[name] == want
    assert c.start_point() == (values["start_x"], values["start_y"])
    if c.surface == ws.FORMULA:
        assert surf.params["formula"] == values.get(ws.FORMULA_VALID_KEY, surfaces.FORMULA_DEFAULT)
    assert (c.steps, c.seed) == (values["steps"], values["seed"])


def test_the_property_sees_both_outcomes():
    """The strategy reaches clean states and states with messages (the test is not vacuous)."""
    seen = set()

    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(widget_states())
    def probe(values):
        seen.add(bool(ws.from_widgets(values).messages))

    probe()
    assert seen == {True, False}


def test_every_float_is_kept_exactly():
    for lr in (0.0123456789, 1e-7, 3.3333333333333335e-05, math.nextafter(0.1, 1)):
        values = ws.to_widgets(Comparison(runs=(RunSpec("gd", {"lr": lr}),)))
        assert ws.from_widgets(values).comparison.runs[0].options["lr"] == lr


def test_a_one_entry_list_in_a_link_is_a_list_not_its_digits():
    q = {"o0": "adam", "o0.sched": "piecewise", "o0.sched.boundaries": "12"}
    c, notices = config.from_query({**q, "o0.sched.factors": "1,0.1"})
    assert notices == [] and c.runs[0].schedule["boundaries"] == (12.0,)
    values = ws.to_widgets(c)
    assert values["o0.sched.piecewise.boundaries"] == "12"
    assert ws.from_widgets(values).comparison == c
    empty = dict(values, **{"o0.sched.piecewise.boundaries": ""})
    (message,) = ws.from_widgets(empty).messages
    assert "schedule ignored" in message


# ---- widgets come from the catalog's data ------------------------------------------------------


def test_every_option_of_every_optimizer_has_a_widget():
    for name in optimizers.NAMES:
        opt = optimizers.get(name)
        for option, default in opt.defaults.items():
            w = ws.option_widget(option)
            if w.kind == "choice":
                assert default in w.choices, (name, option)
            elif w.kind == "stops":
                assert default in ws.stops_with(w, default) and w.low <= default <= w.high
            else:
                assert w.low <= default <= w.high, (name, option)
        assert set(opt.hyperparameters) <= set(ws.SLIDER_STOPS), name


def test_a_new_option_gets_its_widget_from_its_range(monkeypatch):
    """What an optimizer added later needs: its options in the tables, no app code."""
    monkeypatch.setitem(optimizers.FLOAT_OPTIONS, "nu_test", (11, optimizers.Range(0.0, 1.0)))
    monkeypatch.setitem(optimizers.INT_OPTIONS, "k_test", (11, 0, 1000))
    monkeypatch.setitem(optimizers.CHOICE_OPTIONS, "form_test", (11, ("a", "b")))
    assert ws.option_widget("nu_test") == ws.OptionWidget(
        "nu_test", "float", 0.0, 1.0, step=ws.number_step(0.0, 1.0)
    )
    assert ws.option_widget("k_test").kind == "int" and ws.option_widget("k_test").high == 1000
    assert ws.option_widget("form_test").choices == ("a", "b")
    with pytest.raises(ValueError, match="none of the option tables"):
        ws.option_widget("unknown_test")
