"""The app's input widgets, built from data: which widget an option gets comes from
:func:`optviz.widget_state.option_widget` (the catalog's tables and ranges), its words from
:mod:`optviz.labels`. Nothing here names an optimizer or an option."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from optviz import labels
from optviz import widget_state as ws
from optviz.app import session


def number(
    key: str,
    label: str,
    low: float,
    high: float,
    integer: bool,
    step: float,
    on_change: Callable[[], None] | None = None,
) -> None:
    """A number box over [low, high] (whole numbers when ``integer``)."""
    if integer:
        st.number_input(
            label, min_value=int(low), max_value=int(high), step=1, key=key, on_change=on_change
        )
    else:
        st.number_input(
            label, min_value=float(low), max_value=float(high), step=step, format="%g", key=key,
            on_change=on_change,
        )  # fmt: skip


def stops_slider(key: str, w: ws.OptionWidget) -> None:
    """A select-slider over round stops; the current value is always a stop. A ``typed``
    option also gets a box that takes an exact value (the two stay in sync)."""
    ss = st.session_state
    current = float(ss[key])
    stops = ws.stops_with(w, current)
    label = labels.option(w.name)
    if not w.typed:
        st.select_slider(label, options=stops, key=key, format_func=labels.number)
        return
    box = f"{key}.typed"
    ss[box] = current  # the slider's value is the state; the box shows it
    slider_col, box_col = st.columns([3, 2], vertical_alignment="bottom")
    with slider_col:
        st.select_slider(label, options=stops, key=key, format_func=labels.number)
    with box_col:
        symbol = labels.symbol(w.name)
        st.number_input(
            f"exact {symbol}", min_value=w.low, max_value=w.high, step=None, format="%g",
            key=box, on_change=session.from_box, args=(key, box),
            help=f"Type an exact {symbol}; the slider takes it as a stop.",
        )  # fmt: skip


def option(key: str, name: str) -> None:
    """The widget of option ``name`` (a hyperparameter slider, a choice, a number box) at
    ``key``, whose value must already be in the session state."""
    w = ws.option_widget(name)
    if w.kind == "stops":
        stops_slider(key, w)
    elif w.kind == "choice":
        st.selectbox(
            labels.option(name), w.choices, key=key,
            format_func=lambda v, name=name: labels.value(name, v),
        )  # fmt: skip
    else:
        number(key, labels.option(name), w.low, w.high, w.kind == "int", w.step)
