"""The app's state: widget keys in ``st.session_state``, read and written through the one codec
(:mod:`optviz.widget_state`), the widget callbacks, the permalink in the URL and clicks on the
race chart.

Widget keys are the state: ``surface``, ``sp.<surface>.<param>``, ``start_x``/``start_y``,
``steps``, ``seed``, ``proj``, ``link`` and, for run slot i, ``o<i>.opt``, ``o<i>.<option>``,
``o<i>.sched`` and ``o<i>.sched.<schedule>.<param>``. :func:`read_state` and
:func:`write_state` (used by presets and the permalink) wrap the codec, and the add/remove
buttons edit its run slots.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

import streamlit as st

import surfaces
from optviz import config, presets
from optviz import widget_state as ws
from optviz.app import lesson, lr_notes
from optviz.config import Comparison, RunSpec

RACE_KEY = "race"  # the race chart's value: the last click or follow-view choice
RUN_KEY = "run"  # which run slot the optimizers panel shows

SIDEBAR_KEPT = re.compile(r"^sp\.")  # other surfaces' parameters
PANEL_KEPT = re.compile(r"^(link\.|o\d+\.(?!remove$))")  # linked sliders, runs in closed tabs


def values() -> dict:
    """The widget state as a plain dict (what :mod:`optviz.widget_state` reads)."""
    ss = st.session_state
    return {key: ss[key] for key in ss.keys() if isinstance(key, str)}


def apply(updates: dict, deleted: tuple | list = ()) -> None:
    """Set the widget keys ``updates`` and delete those in ``deleted``."""
    ss = st.session_state
    for key in deleted:
        ss.pop(key, None)
    for key, value in updates.items():
        ss[key] = value


def write_state(c: Comparison) -> None:
    """Write ``c`` into the widget keys (before the widgets are drawn)."""
    apply(ws.to_widgets(c))
    st.session_state[RUN_KEY] = 0
    st.session_state.pop("lr_note", None)
    lesson.write(c)
    if c.linked:
        on_link()


def read_state() -> tuple[Comparison, list[str]]:
    """The comparison the widgets describe, and a message for every value that was ignored."""
    read = ws.from_widgets(values())
    return lesson.read(read.comparison), list(read.messages)


def keep_widget_state(kept: re.Pattern) -> None:
    """Keep the values of the widgets matching ``kept`` that are not drawn in this run.

    Called before those widgets are drawn: the sidebar's at the top of the script, the race
    panel's at the top of the panel (which may rerun alone).
    """
    ss = st.session_state
    for key in list(ss.keys()):
        if isinstance(key, str) and kept.match(key):
            ss[key] = ss[key]


def default_start() -> tuple[float, float]:
    """The default start of the surface the widgets describe (its defaults if they are bad)."""
    return ws.default_start(values()) or surfaces.get(st.session_state["surface"]).start


# ---- callbacks (run before the script, so they may write widget keys) -------------------------


def on_preset() -> None:
    name = st.session_state.get("preset")
    if not name:
        return
    # A preset's runs have their own hyperparameters: linked sliders would replace them.
    comparison = replace(
        presets.get(name).comparison, projection=st.session_state["proj"],
        lesson=bool(st.session_state.get(lesson.LESSON_KEY)), question=lesson.question_for(name),
    )  # fmt: skip
    write_state(comparison)
    st.session_state["loaded_preset"] = name
    st.session_state["notices"] = []


def on_surface() -> None:
    """A new surface: the start moves to its default; the runs keep their η, which may not suit
    it (GD's 0.038 from the ravine diverges on Rosenbrock), so a note offers tuned values."""
    ss = st.session_state
    ss["start_x"], ss["start_y"] = default_start()
    ss["lr_note"] = {"kind": "surface", "surface": ss["surface"], "runs": lr_notes.slot_lrs()}


def on_surface_param() -> None:
    """A start left at its default follows the default (e.g. when the true w of the regression
    moves the plot); a start the user chose stays."""
    ss = st.session_state
    if (ss["start_x"], ss["start_y"]) == ss.get("drawn_default_start"):
        ss["start_x"], ss["start_y"] = default_start()


def on_optimizer(i: int) -> None:
    """A slot switched optimizer: its sliders take that optimizer's defaults, and a note says
    so (with the η it had, and a tuned one for this surface)."""
    ss = st.session_state
    name = ss[f"o{i}.opt"]
    old_lr = ss.get(f"o{i}.lr")
    apply(ws.run_widgets(i, RunSpec(name)))
    ss["lr_note"] = {
        "kind": "optimizer",
        "slot": i,
        "optimizer": name,
        "old_lr": old_lr,
        "lr": ss.get(f"o{i}.lr"),
    }


def on_add() -> None:
    updates = ws.add_slot(values())
    if updates:
        apply(updates)
        st.session_state[RUN_KEY] = updates["n_runs"] - 1


def on_remove(i: int) -> None:
    """Remove run slot i (whether or not it can run): the later slots move down one place."""
    updates, deleted = ws.remove_slot(values(), i)
    apply(updates, deleted)
    st.session_state[RUN_KEY] = max(i - 1, 0)
    st.session_state.pop("lr_note", None)


def on_link() -> None:
    """Linking starts from the values of the first run that has each hyperparameter."""
    apply(ws.linked_values(values()))


def from_box(key: str, box: str) -> None:
    """A value typed in a hyperparameter's box becomes the slider's value, exactly."""
    st.session_state[key] = float(st.session_state[box])


def apply_click() -> bool:
    """A click on the contour while picking sets the start point (once per click).

    The race chart's value is the last click, ``{"x", "y", "id"}``; returns whether the start
    moved.
    """
    ss = st.session_state
    click = ss.get(RACE_KEY)
    if not (ss.get("pick") and isinstance(click, dict) and "x" in click):
        return False
    if click.get("id") == ss.get("click_seen"):
        return False
    ss["click_seen"] = click.get("id")
    try:
        x, y = float(click["x"]), float(click["y"])
    except (KeyError, TypeError, ValueError):
        return False
    if not (math.isfinite(x) and math.isfinite(y)):
        return False
    ss["start_x"], ss["start_y"] = x, y
    return True


# ---- URL -------------------------------------------------------------------------------------


def load_url_once() -> None:
    """On a session's first run, the query string decides the comparison (or the defaults)."""
    ss = st.session_state
    if ss.get("url_loaded"):
        return
    raw = {key: st.query_params.get_all(key) for key in st.query_params}
    comparison, notices = config.from_query(raw) if raw else (Comparison(), [])
    write_state(comparison)
    ss["notices"] = notices
    ss["url_loaded"] = True


def sync_url(c: Comparison) -> None:
    """The comparison's permalink into the URL (only when it changed)."""
    query = config.to_query(c)
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
