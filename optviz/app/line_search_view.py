"""The "Line search" view: what a line search computed at one step of a run.

For a run of steepest descent, BFGS, DFP or L-BFGS with a line search, a step k and the 1-D
slice φ(α) = f(θₖ + α pₖ) with every α the search tried and the one it took, so a student sees
what "exact" (the first local minimum along the ray), "wolfe" and "backtracking" mean.
"""

from __future__ import annotations

import streamlit as st

from optviz import figures, linesearch
from optviz.config import Comparison


def applies(trajs: list) -> bool:
    """Whether any run has a line-search step to show (the view is offered only then)."""
    return any(linesearch.searched_steps(t) > 0 for t in trajs)


def render(comparison: Comparison, trajs: list, colors: list[str]) -> None:
    """Pick a run and a step; draw the slice and say what the search did."""
    runs = [i for i, t in enumerate(trajs) if linesearch.searched_steps(t) > 0]
    if not runs:
        st.info("No run here uses a line search (steepest descent, BFGS, DFP or L-BFGS).")
        return
    ss = st.session_state
    if ss.get("ls.run") not in runs:
        ss["ls.run"] = runs[0]
    labels = [r.label() for r in comparison.runs]
    cols = st.columns([2, 3, 1], vertical_alignment="bottom")
    i = cols[0].selectbox("Run", runs, format_func=lambda j: f"{j + 1}. {labels[j]}", key="ls.run")
    traj = trajs[i]
    n = linesearch.searched_steps(traj)
    step = int(min(max(int(ss.get("ls.step", 1)), 1), n))
    ss["ls.step"] = step
    if n > 1:
        step = cols[1].slider("Step k", 1, n, key="ls.step")
    else:
        cols[1].markdown("Step k = 1 (the run's only step)")
    log_alpha = cols[2].toggle("log α", key="ls.log", help="A logarithmic α axis")
    slc = linesearch.line_search_slice(traj, comparison.surface_obj(), step - 1)
    fig = figures.line_search_figure(
        slc, colors[i], projection=comparison.projection, log_alpha=bool(log_alpha)
    )
    st.plotly_chart(fig, theme=None, key="ls.chart")
    note = linesearch.describe(slc)
    if slc.direction_recovered:
        note += " The direction pₖ = −Vₖgₖ is recovered from the step taken, (θₖ₊₁ − θₖ)/αₖ."
    st.caption(note)
