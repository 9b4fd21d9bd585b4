"""The "Step by step" view: one update of one run taken apart into its sub-steps.

The run is recomputed with ``record_state=True`` (the same path bit for bit; the race itself
never records). Buttons, with keyboard shortcuts h / l (update) and j / k (sub-step), move through
the update's sub-steps and the updates. The pure parts are :mod:`optviz.stepwise` and
:func:`optviz.figures.stepwise_figure`. A run with a line search also shows that update's slice
φ(α) with the α's its search tried (:func:`optviz.figures.line_search_figure`), under the step.
"""

from __future__ import annotations

import streamlit as st

from optviz import comparison as comparison_rules
from optviz import engine, figures, race_data, stepwise
from optviz.config import Comparison

RUN, K, SUB = "sw.run", "sw.k", "sw.sub"


@st.cache_resource(max_entries=16, show_spinner=False)
def recorded(key: tuple, i: int, _traj: engine.Trajectory, _surface: object) -> engine.Trajectory:
    """The race's run i again with its state recorded (:func:`optviz.race_data.recorded`, as
    the state glyphs get it), cached on the comparison's identity."""
    rec = race_data.recorded(_traj, _surface)  # type: ignore[arg-type]
    if rec is None:  # recording changes no path: this would be a kernel bug, never a user's
        raise RuntimeError(f"run {i + 1} did not replay with its state recorded")
    return rec


def _move(dk: int, dsub: int, n_updates: int, n_subs: int) -> None:
    """Step the sub-step (wrapping into the next or previous update) or the update."""
    ss = st.session_state
    k, sub = int(ss.get(K, 0)), int(ss.get(SUB, 0))
    if dk:
        k, sub = min(max(k + dk, 0), n_updates - 1), 0
    else:
        sub += dsub
        if sub >= n_subs and k < n_updates - 1:
            k, sub = k + 1, 0
        elif sub < 0 and k > 0:
            k, sub = k - 1, 10_000  # clamped to the last sub-step of update k − 1 below
        sub = max(sub, 0)
    ss[K], ss[SUB] = k, sub


def render(comparison: Comparison, trajs: list, colors: list[str]) -> None:
    """Draw the view for the comparison on screen (``trajs`` its runs, ``colors`` theirs)."""
    ss = st.session_state
    labels = comparison_rules.run_labels(comparison)
    runs = list(range(len(comparison.runs)))
    if ss.get(RUN) not in runs:
        ss[RUN] = 0
    i = st.segmented_control(
        "Run", runs, key=RUN, format_func=lambda j: f"{j + 1} · {labels[j]}", required=True,
    )  # fmt: skip
    surf = comparison.surface_obj()
    traj = recorded(comparison_rules.query_key(comparison), i, trajs[i], surf)
    n = stepwise.updates(traj)
    if n == 0:
        st.info(f"{labels[i]} made no update ({traj.message}): nothing to take apart.")
        return
    k = min(max(int(ss.get(K, 0)), 0), n - 1)
    dec = stepwise.decompose(traj, k, surf)
    n_subs = len(dec.substeps)
    sub = min(max(int(ss.get(SUB, 0)), 0), n_subs - 1)
    ss[K], ss[SUB] = k, sub
    cols = st.columns([1, 1, 1, 1, 2])
    cols[0].button("◀ update", on_click=_move, args=(-1, 0, n, n_subs), disabled=k == 0,
                   key="sw.prev_k", shortcut="h")  # fmt: skip
    cols[1].button("update ▶", on_click=_move, args=(1, 0, n, n_subs), disabled=k >= n - 1,
                   key="sw.next_k", shortcut="l")  # fmt: skip
    cols[2].button("◀ sub-step", on_click=_move, args=(0, -1, n, n_subs),
                   disabled=k == 0 and sub == 0, key="sw.prev_sub", shortcut="j")  # fmt: skip
    cols[3].button("sub-step ▶", on_click=_move, args=(0, 1, n, n_subs),
                   disabled=k >= n - 1 and sub >= n_subs - 1, key="sw.next_sub",
                   shortcut="k", type="primary")  # fmt: skip
    cols[4].number_input(f"update from θ_k, k = 0 … {n - 1}", 0, n - 1, key=K)
    fig_col, text_col = st.columns([3, 2], gap="medium")
    with fig_col:
        fig = figures.stepwise_figure(
            surf, traj, dec, sub, labels[i], colors[i], projection=comparison.projection
        )
        # No mode bar: on a projector it covered the title (drag zooms, double-click resets).
        st.plotly_chart(fig, theme=None, key="sw.figure", config={"displayModeBar": False})
        if dec.line_search is not None:
            slc = dec.line_search
            fig = figures.line_search_figure(
                slc, colors[i], projection=comparison.projection,
                log_alpha=bool(ss.get("sw.log_alpha")),
                height=420 if comparison.projection else 320,
            )  # fmt: skip
            fig.update_layout(
                title={"text": f"line search of update t = {k + 1}: φ(α) = f(θ_{k} + α d), "
                       f"{slc.n_trials} trials", "x": 0.01},
                legend={"orientation": "h", "y": -0.25, "yanchor": "top"},
            )  # fmt: skip
            st.plotly_chart(fig, theme=None, key="sw.line_search", config={"displayModeBar": False})
            st.toggle("log α", key="sw.log_alpha", help="A logarithmic α axis for the slice")
    with text_col:
        st.latex(stepwise.formula(traj))
        lines = []
        for j, s in enumerate(dec.substeps[: sub + 1]):
            text = f"**{j + 1}. {s.title}** — {s.caption}"
            lines.append(text if j == sub else f"<span style='opacity:0.7'>{text}</span>")
        st.markdown("\n\n".join(lines), unsafe_allow_html=True)
        if sub == n_subs - 1:
            for note in dec.notes:
                st.info(note)
        st.caption(
            f"Sub-step {sub + 1} of {n_subs}. Coloured arrows, tip to tail from θ_{k}: the "
            "parts the step is made of (they add up to the step, drawn black); grey: guides "
            "such as −ηg, the plain gradient step."
        )
