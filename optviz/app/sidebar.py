"""The sidebar: lecture presets, projection and lesson mode, the surface and its parameters,
the start point, steps and seed."""

from __future__ import annotations

import streamlit as st

import surfaces
from optviz import config, figures, labels, presets
from optviz import widget_state as ws
from optviz.app import formula_input, lesson, lr_notes, session, widgets

GRAD_NOISE_STEP = 0.05


def surface_ui() -> None:
    """The surface picker, its parameters, the start point, steps and seed."""
    ss = st.session_state
    st.selectbox(
        "Surface",
        surfaces.NAMES,
        key="surface",
        format_func=lambda n: surfaces.spec(n).title,
        on_change=session.on_surface,
    )
    surface = ss["surface"]
    lr_notes.surface_note(surface)
    if surface == formula_input.NAME:
        formula_input.render(session.on_surface_param)
    with st.expander("Surface parameters", expanded=False):
        for name, prm in surfaces.all_params(surfaces.spec(surface)).items():
            if surface == formula_input.NAME and name in formula_input.BOUNDS:
                continue
            key = f"sp.{surface}.{name}"
            if key not in ss:
                ss[key] = int(prm.default) if prm.integer else float(prm.default)
            if name == "batch_size":
                lr_notes.batch_slider(surface, key, session.on_surface_param)
                continue
            step = GRAD_NOISE_STEP if name == "grad_noise" else ws.number_step(prm.low, prm.high)
            label = labels.surface_param(surface, name)
            widgets.number(
                key, label, prm.low, prm.high, prm.integer, step, session.on_surface_param
            )
    xname, yname = figures.axis_names(surfaces.get(surface))
    c1, c2 = st.columns(2)
    with c1:
        st.number_input(f"start {xname}", step=0.1, format="%g", key="start_x")
    with c2:
        st.number_input(f"start {yname}", step=0.1, format="%g", key="start_y")
    st.toggle("Pick the start by clicking on the plot", key="pick")
    c1, c2 = st.columns(2)
    with c1:
        st.number_input("steps", min_value=1, max_value=config.MAX_STEPS, step=50, key="steps")
    with c2:
        st.number_input("seed", min_value=0, max_value=2**31 - 1, step=1, key="seed")


def render() -> None:
    """The sidebar, and what it shows (so a run of the race panel alone can tell it is stale)."""
    ss = st.session_state
    titles = lesson.preset_titles()  # in lesson mode, titles that do not give answers away
    with st.sidebar:
        st.selectbox(
            "Lecture scenario (preset)",
            list(presets.PRESETS),
            index=None,
            placeholder="Choose a preset…",
            key="preset",
            format_func=titles.__getitem__,
            on_change=session.on_preset,
        )
        st.toggle("Projection mode", key="proj")
        lesson.toggle()
        surface_ui()
    ss["drawn_start"] = (ss["start_x"], ss["start_y"])
    ss["drawn_default_start"] = session.default_start()
