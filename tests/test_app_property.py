"""Random widget actions through AppTest: runs added and removed in any order, surface and
optimizer switches, any accepted value typed. No exception, no st.error, the right run removed.

Bounded: 15 derandomized examples of up to eight actions each (about 30–60 s on 2 busy
cores). ``OPTVIZ_PROPERTY_EXAMPLES`` raises the count for a longer hunt.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

import surfaces
from optviz import config, optimizers, schedules

APP = str(Path(__file__).resolve().parents[1] / "app.py")
EXAMPLES = int(os.environ.get("OPTVIZ_PROPERTY_EXAMPLES", "15"))

SLOT = st.integers(0, config.MAX_RUNS - 1)
REMOVE = st.tuples(st.just("remove"), SLOT)
ACTIONS = st.one_of(
    st.tuples(st.just("add")),
    REMOVE,
    REMOVE,  # twice as likely: removal is where the slots went wrong
    st.tuples(st.just("opt"), SLOT, st.sampled_from(optimizers.NAMES)),
    st.tuples(st.just("surface"), st.sampled_from(surfaces.NAMES)),
    st.tuples(
        st.just("lr"),
        SLOT,
        st.one_of(st.floats(0.0, 1e6), st.sampled_from([0.0, 1e-12, 0.038, 3.0, 1e6])),
    ),
    st.tuples(
        st.just("start"),
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.sampled_from([2e10, -1e300, 0.5]),
        ),
    ),
    st.tuples(st.just("sched"), SLOT, st.sampled_from(schedules.NAMES)),
    st.tuples(st.just("link"), st.booleans()),
    st.tuples(st.just("note")),
    # f(x, y) texts that compile, finite or not at the default start (∞ or NaN everywhere)
    st.tuples(
        st.just("formula"),
        st.sampled_from(["log(-1-x^2)", "x^2 + y^2", "exp(x^2 + y^2)", "exp(exp(x^2 + y^2))"]),
    ),
)


def slots(at: AppTest) -> list[str]:
    ss = at.session_state
    return [ss[f"o{i}.opt"] for i in range(ss["n_runs"])]


def show(at: AppTest, k: int) -> None:
    """Open run slot k in the optimizers panel."""
    if at.segmented_control(key="run").value != k:
        at.segmented_control(key="run").set_value(k).run()


def step(at: AppTest, action: tuple, model: list[str]) -> None:
    """Do ``action`` on the app and on the model of its run slots."""
    kind, *args = action
    n = len(model)
    if kind == "add":
        if n < config.MAX_RUNS:
            at.button(key="add_run").click().run()
            model.append(next((o for o in optimizers.FIRST_ORDER if o not in model), "adam"))
    elif kind == "remove":
        k = args[0] % n
        if n > 1:
            show(at, k)
            at.button(key=f"o{k}.remove").click().run()
            model.pop(k)
    elif kind == "opt":
        k = args[0] % n
        show(at, k)
        at.selectbox(key=f"o{k}.opt").set_value(args[1]).run()
        model[k] = args[1]
    elif kind == "surface":
        at.selectbox(key="surface").set_value(args[0]).run()
    elif kind == "lr":
        k = args[0] % n
        if at.session_state["link"]:
            at.number_input(key="link.lr.typed").set_value(args[1]).run()
        else:
            show(at, k)
            at.number_input(key=f"o{k}.lr.typed").set_value(args[1]).run()
    elif kind == "start":
        at.number_input(key="start_x").set_value(args[0]).run()
    elif kind == "sched":
        k = args[0] % n
        show(at, k)
        at.selectbox(key=f"o{k}.sched").set_value(args[1]).run()
    elif kind == "link":
        at.toggle(key="link").set_value(args[0]).run()
    elif kind == "formula":
        if at.session_state["surface"] != "formula":
            at.selectbox(key="surface").set_value("formula").run()
        at.text_input(key="sp.formula.text").set_value(args[0]).run()
    elif kind == "note":
        offers = [b for b in at.button if str(b.key or "").startswith("lr_note.")]
        if offers:
            offers[0].click().run()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(st.lists(ACTIONS, min_size=1, max_size=6), st.integers(0, 2))
def test_random_widget_actions_never_break_the_app(actions, added):
    at = AppTest.from_file(APP, default_timeout=60).run()
    model = slots(at)
    for action in [("add",)] * added + actions:  # start from 2 to 4 runs
        step(at, action, model)
        assert not at.exception, (action, [e.value for e in at.exception])
        assert not at.error, (action, [e.value for e in at.error])
        assert slots(at) == model, action  # the right run was removed, switched, added
        assert at.get("component_instance"), "the race is drawn"
