"""The views below the race, as one registry: adding a view is one :class:`View` entry in
:data:`VIEWS` (its label, when it applies, how it renders). Only the chosen view is built.

The views that follow the race's step (dynamics, gradient field, 3-D) are drawn by the race
chart itself, from :data:`optviz.figures.FOLLOW_VIEWS`; they are not here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import streamlit as st

from optviz import comparison, figures, labels, optimizers
from optviz.app import (
    curvature_view,
    ema_page,
    export_panel,
    line_search_view,
    polyak_view,
    session,
    stepwise_view,
)
from optviz.config import Comparison
from optviz.engine import Trajectory

VIEW_KEY = "view"  # the chosen view's label


@dataclass(frozen=True)
class Context:
    """What every view is drawn from: the comparison, its runs and their colours and labels."""

    comparison: Comparison
    trajs: list[Trajectory]
    colors: list[str]

    @property
    def labels(self) -> list[str]:
        return comparison.run_labels(self.comparison)


def always(c: Comparison, trajs: Sequence[Trajectory]) -> bool:
    return True


@dataclass(frozen=True)
class View:
    """One view below the race: its name, the label on its button, whether it applies to a
    comparison and its runs (it is offered only then), and how it draws itself."""

    name: str
    label: str
    render: Callable[[Context], None]
    applies: Callable[[Comparison, Sequence[Trajectory]], bool] = always


def results(ctx: Context) -> None:
    rows = figures.results_rows(ctx.comparison.surface_obj(), ctx.trajs, ctx.labels)
    st.dataframe(labels.format_rows(rows), hide_index=True)


def data_fit(ctx: Context) -> None:
    surf = ctx.comparison.surface_obj()
    proj = ctx.comparison.projection
    fig = figures.data_fit_figure(surf, ctx.trajs, ctx.labels, ctx.colors, projection=proj)
    st.plotly_chart(fig, theme=None)


def has_data(c: Comparison) -> bool:
    """Whether the surface fits a model to data (the data-fit view applies)."""
    return c.surface_obj().spec.data_fit is not None


def formula_cards(ctx: Context) -> None:
    """One card per distinct run setup: title, what it fixes, the formula and its note."""
    for run in comparison.distinct_runs(ctx.comparison.runs):
        opt = optimizers.get(run.optimizer)
        st.markdown(f"**{opt.title}** — {opt.fixes}")
        st.latex(optimizers.formula(run.optimizer, schedule=run.schedule, **run.resolved))
        note = labels.note_in_words(run.optimizer, optimizers.notes(run.optimizer))
        if note:
            st.caption(note)


def _plain(render: Callable[[Comparison, list, list[str]], None]) -> Callable[[Context], None]:
    """A view module's ``render(comparison, trajs, colors)`` as a registry entry."""
    return lambda ctx: render(ctx.comparison, ctx.trajs, ctx.colors)


def _ema(ctx: Context) -> None:
    labels_now = tuple(v.label for v in VIEWS)
    ema_page.render(
        projection=ctx.comparison.projection, write_state=session.write_state, views=labels_now
    )


# The views, in the order of their buttons. Adding a view is one entry here.
VIEWS: tuple[View, ...] = (
    View("results", "Results", results),
    View("data_fit", "Data fit", data_fit, lambda c, t: has_data(c)),
    View("polyak", "Polyak averaging", _plain(polyak_view.render)),
    View(
        "line_search",
        "Line search",
        _plain(line_search_view.render),
        lambda c, t: line_search_view.applies(list(t)),
    ),  # fmt: skip
    View("formulas", "Formulas", formula_cards),
    View("export", "Export", lambda ctx: export_panel.render(ctx.comparison, ctx.trajs)),
    View("stepwise", "Step by step", _plain(stepwise_view.render)),
    View("curvature", "Curvature", _plain(curvature_view.render)),
    View("ema", "EMA lesson", _ema),
)


def offered(c: Comparison, trajs: Sequence[Trajectory]) -> list[View]:
    """The views that apply to ``c`` and its runs, in order."""
    return [v for v in VIEWS if v.applies(c, trajs)]


def render(c: Comparison, trajs: list, colors: list[str]) -> None:
    """The view buttons and the chosen view (only that one is built)."""
    shown = {v.label: v for v in offered(c, trajs)}
    if st.session_state.get(VIEW_KEY) not in shown:
        st.session_state[VIEW_KEY] = next(iter(shown))
    label = st.segmented_control(
        "View", list(shown), key=VIEW_KEY, required=True, label_visibility="collapsed"
    )
    shown[label].render(Context(c, trajs, colors))
