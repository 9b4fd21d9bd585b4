"""The race, the optimizers panel and the views below: everything a run's slider changes, in
one fragment. The engine and the race figure are cached on the comparison's identity
(:func:`optviz.comparison.query_key`); the figure is a plain dict and the surface image travels
once (see :mod:`optviz.race_chart`)."""

from __future__ import annotations

import streamlit as st

import optviz
import surfaces
from optviz import comparison, config, figures, presets, style
from optviz.app import lesson, runs_panel, session, views
from optviz.config import Comparison
from optviz.race_chart import race_chart

# The caches' keys are query_key tuples of string pairs: hashed as their repr, one string
# (0.02 ms), instead of Streamlit walking every pair (0.2-0.4 ms), twice per slider move.
KEY_HASH = {tuple: repr}


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False, hash_funcs=KEY_HASH)
def cached_runs(key: tuple[tuple[str, str], ...], _c: Comparison) -> list[optviz.Trajectory]:
    """``run_comparison(_c)``, cached on ``key`` (the comparison's query string)."""
    return config.run_comparison(_c)


@st.cache_resource(max_entries=32, ttl=3600, show_spinner=False, hash_funcs=KEY_HASH)
def cached_race_figure(
    key: tuple, _c: Comparison, _trajs: list, projection: bool, height: int, pick: bool
) -> dict:
    """The race figure, built once per comparison, styling and click mode."""
    return figures.race_figure(
        _c.surface_obj(),
        _trajs,
        comparison.run_labels(_c),
        style.run_colors(len(_c.runs), projection),
        projection=projection,
        height=height or None,
        pick=pick,
    )


@st.cache_resource(max_entries=32, show_spinner=False)
def cached_view(name: str, params: tuple, kind: str, projection: bool) -> dict:
    """The static part of a view that follows the race, once per surface and styling."""
    return figures.view_figure(surfaces.get(name, **dict(params)), kind, projection=projection)


def follow_view(projection: bool) -> str | None:
    """The view the race chart shows beside the race: the last one its tabs chose in this mode
    (dynamics in normal mode, none in projection mode until one is chosen)."""
    ss = st.session_state
    key = "follow_view.proj" if projection else "follow_view"
    value = ss.get(session.RACE_KEY)
    if isinstance(value, dict) and "view" in value and value.get("id") != ss.get("follow_seen"):
        ss["follow_seen"] = value.get("id")
        ss[key] = value["view"] if value["view"] in figures.FOLLOW_VIEWS else "none"
    name = ss.get(key, "none" if projection else "dynamics")
    return name if name in figures.FOLLOW_VIEWS else None


def race_ui(c: Comparison, trajs: list) -> None:
    pick = bool(st.session_state.get("pick"))
    fig = cached_race_figure(comparison.query_key(c), c, trajs, c.projection, 0, pick)
    fig = lesson.shown_figure(fig, c)  # lesson mode: only the start until Reveal
    name = follow_view(c.projection)
    surf = c.surface_obj()
    params = tuple(sorted(surf.params.items()))
    view = cached_view(surf.name, params, name, c.projection) if name else None
    race_chart(
        fig, key=session.RACE_KEY, pick=pick, font_size=style.FONT_SIZE[c.projection],
        projection=c.projection, view=view, view_name=name, views=figures.FOLLOW_VIEWS,
        runs=None if lesson.hidden() else trajs, surface=surf,
    )  # fmt: skip


def messages(c: Comparison, problems: list[str]) -> None:
    """What was ignored (link parameters, widget values) and the loaded preset's lesson."""
    ss = st.session_state
    if ss.get("notices"):
        st.warning(
            "Some link parameters were ignored (defaults used):\n\n"
            + "\n".join(f"- {n}" for n in ss["notices"])
        )
    for problem in problems:
        st.warning(problem)
    preset = ss.get("loaded_preset")
    if preset and not c.projection and not lesson.hidden():
        p = presets.get(preset)
        same = comparison.query_key(p.comparison) == comparison.query_key(c)
        st.info(f"**{p.title}**{'' if same else ' (modified)'}. {p.description}")


@st.fragment
def render() -> None:
    """The race, the optimizers panel and the views: everything a run's slider changes.

    A fragment, so moving one optimizer's slider reruns and redraws only this, not the sidebar.
    """
    ss = st.session_state
    session.keep_widget_state(session.PANEL_KEPT)
    if session.apply_click() or ss.get("drawn_start") != (ss["start_x"], ss["start_y"]):
        st.rerun()  # the start point lives in the sidebar: redraw everything
    c, problems = session.read_state()
    session.sync_url(c)
    colors = style.run_colors(len(c.runs), c.projection)
    trajs = cached_runs(comparison.query_key(c), c)
    # The chart is sent first: it is what a slider move is watched on.
    chart_col, runs_col = st.columns([3, 1], gap="medium")
    with chart_col:
        lesson.render(c, comparison.run_labels(c), colors, c.projection)
        race_ui(c, trajs)
        messages(c, problems)
    with runs_col, st.container(key="runs_panel"):
        runs_panel.render()
    if lesson.hidden():
        st.caption("The results and the other views open after Reveal.")
    else:
        views.render(c, trajs, colors)
