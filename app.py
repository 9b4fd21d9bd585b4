"""optviz: the Streamlit app a lecturer projects in class — the entry point (layout only).

Widgets fill a plain :class:`optviz.config.Comparison` through the one widget codec
(:mod:`optviz.widget_state`, via :mod:`optviz.app.session`); the engine, the figure builders and
the exporters do the work. The parts of the page live in :mod:`optviz.app`: the sidebar
(:mod:`~optviz.app.sidebar`), the race with the optimizers panel and the views below it
(:mod:`~optviz.app.race_panel`, :mod:`~optviz.app.runs_panel`, the view registry
:mod:`~optviz.app.views`). The comparison is mirrored to the URL query string, so a copied link
reopens exactly the same view.
"""

from __future__ import annotations

import streamlit as st

import surfaces
from optviz.app import (
    formula_input,
    lesson,
    page,
    race_panel,
    replica,
    runs_panel,
    session,
    sidebar,
)


def header(projection: bool) -> None:
    """The title and what the surface teaches (hidden in projection mode). Always one element,
    so the race panel keeps its place in the page and its chart is not rebuilt when projection
    mode hides the header."""
    surf = surfaces.get(st.session_state["surface"])
    surf = formula_input.described_surface() if surf.name == formula_input.NAME else surf
    box = st.container(key="app_header")
    if projection:
        return
    teaches = "" if lesson.hidden() else f" — {surf.teaches}"
    with box:
        st.markdown(
            f"# optviz · watch gradient-based optimizers race\n\n**{surf.title}**{teaches}"
            " <span style='color:#666'>· press ? on the chart for the keys</span>",
            unsafe_allow_html=True,
        )


def main() -> None:
    """The app: sidebar widgets → Comparison → cached engine → figures."""
    st.set_page_config(
        page_title="optviz · gradient-based optimizers race", page_icon="📉", layout="wide"
    )
    page.warm_up()
    session.load_url_once()
    session.keep_widget_state(session.SIDEBAR_KEPT)
    session.apply_click()
    sidebar.render()
    replica.render()
    projection = bool(st.session_state.get("proj"))
    css = (page.PROJECTION_CSS if projection else page.NORMAL_CSS) + runs_panel.colour_css(
        projection
    )
    st.markdown(css, unsafe_allow_html=True)
    header(projection)
    race_panel.render()
    page.freeze_start_up_heap()


main()
