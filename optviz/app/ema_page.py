"""The EMA lesson: exponentially weighted averages and bias correction, the mini-batch deck's
temperature example, and how Adam's m and v are the same average of g and g².

The numbers come from :mod:`optviz.ema` and the chart from :func:`optviz.figures.ema_figure`;
this module only draws. Its widgets' keys start with ``ema.``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import streamlit as st

from optviz import ema, figures, style
from optviz.config import Comparison, RunSpec

STEP_VIEW = "Step by step"  # the step-by-step view of a run, when the app has one
SOURCES = ("A year of temperatures (°F)", "My own numbers")
MODES = ("without bias correction", "with bias correction", "both")
BETAS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)
RERUN = "ema.rerun"  # set by the Adam button's callback: the whole page must redraw
EXAMPLE = "40, 49, 45, 44, 50, 52, 47, 53"  # starts with the deck's θ₁, θ₂, θ₃
# Projection mode: the lesson's own widgets as large as the rest of the projected page.
PROJECTION_CSS = """
<style>
.st-key-ema-source p, .st-key-ema-mode p, .st-key-ema-beta p, .st-key-ema-text p,
.st-key-ema-beta [data-testid="stSliderThumbValue"], .st-key-ema-adam p,
.st-key-ema-first td, .st-key-ema-first th {
  font-size: 1.3rem !important;
}
</style>
"""


def adam_comparison(beta1: float) -> Comparison:
    """Adam with and without bias correction on the default ravine, β₁ from the lesson.

    Without the correction m and v start at 0 like the deck's V: the first steps are not η
    long (m₁/√v₁ = 0.1 g / (√0.001 |g|) ≈ 3.2 · sign g for the default β's).
    """
    b1 = beta1 if 0.0 < beta1 < 1.0 else 0.9
    options = {"lr": 0.05, "beta1": b1}
    return Comparison(
        steps=150,
        runs=(
            RunSpec("adam", options),
            RunSpec("adam", {**options, "bias_correction": False}),
        ),
    )


def _open_adam(write_state: Callable[[Comparison], None], views: Sequence[str]) -> None:
    """The button's callback: load the Adam comparison and show it step by step (or the race)."""
    ss = st.session_state
    write_state(adam_comparison(float(ss.get("ema.beta", 0.9))))
    ss["view"] = STEP_VIEW if STEP_VIEW in views else views[0]
    if STEP_VIEW in views:  # the step-by-step view's run, update and sub-step (its own keys):
        ss.update({"sw.run": 0, "sw.k": 0, "sw.sub": 0})  # Adam's first update, from m = v = 0
    ss["loaded_preset"] = None
    ss[RERUN] = True


def _series() -> tuple[np.ndarray | None, str]:
    """The series the lesson averages, and its unit; None (with a warning shown) for junk."""
    ss = st.session_state
    if ss.get("ema.source", SOURCES[0]) == SOURCES[0]:
        return ema.load_temperatures(), "°F"
    if "ema.text" not in ss:
        ss["ema.text"] = EXAMPLE
    st.text_area(
        "Your numbers (separated by spaces, commas or new lines; with semicolons, a comma is a "
        "decimal comma)",
        key="ema.text",
        height=90,
    )
    parsed = ema.parse_series(ss["ema.text"])
    if not parsed.ok:
        st.warning(
            "These numbers cannot be averaged, so nothing is drawn:\n\n"
            + "\n".join(f"- {p}" for p in parsed.problems)
        )
        return None, ""
    return parsed.values, ""


def _curves(values: np.ndarray, beta: float, mode: str, projection: bool) -> list[tuple]:
    betas = sorted({*ema.DECK_BETAS, beta})
    colors = style.run_colors(len(betas) + 1, projection)
    out = []
    for i, b in enumerate(betas):
        name = f"β = {b:g} (≈ {ema.window_days(b):.3g} days)" + (", slider" if b == beta else "")
        if mode in (MODES[1], MODES[2]):
            out.append((name + (": V′" if mode == MODES[2] else ""), ema.ema(values, b, True),
                        colors[i], "solid", True))  # fmt: skip
        if mode in (MODES[0], MODES[2]):  # in "both", V is dotted and named by the caption
            dash = "dot" if mode == MODES[2] else "solid"
            label = name + (": V, no bias correction" if mode == MODES[2] else "")
            out.append((label, ema.ema(values, b), colors[i], dash, mode != MODES[2]))
    return out


def _first_values_table(values: np.ndarray, beta: float) -> str:
    rows = ["| t | θₜ | Vₜ = β Vₜ₋₁ + (1 − β) θₜ | V′ₜ = Vₜ / (1 − βᵗ) |", "|---|---|---|---|"]
    for f in ema.first_values(values, beta):
        rows.append(f"| {f.t} | {f.theta:g} | {f.v_text} | {f.corrected_text} |")
    return "\n".join(rows)


def _deck_example() -> str:
    # The deck (001, "Bias correction"), β = 0.98, θ₁ = 40°F, θ₂ = 49°F, prints
    #   "$$V_1 = 40 * 0.02 = 8$$"   — an arithmetic slip: 40 · 0.02 = 0.8;
    #   "$$V_2 = 0.0196 * 40 + 0.02 * 49 = 1.764$$"
    #   "... = \frac{0.0196 * 40 + 0.02 * 49}{0.0396} = 44.5$$"  (44.545…, cut to one decimal).
    v1, v2 = ema.first_values((40.0, 49.0), 0.98)
    return (
        "**The deck's worked example** (β = 0.98, θ₁ = 40 °F, θ₂ = 49 °F):\n\n"
        f"- V₁ = {v1.v_text} (the deck prints 8: 40 · 0.02 is 0.8)\n"
        f"- V₂ = {v2.v_text} = 0.0196 · 40 + 0.02 · 49\n"
        f"- V′₁ = {v1.corrected_text}\n"
        f"- V′₂ = {v2.corrected_text} (the deck: 44.5)\n\n"
        "Without the correction V starts near 0, far below θ₁ and θ₂; with it, V′ starts at θ₁. "
        "As t grows βᵗ → 0 and V′ₜ ≈ Vₜ."
    )


ADAM_LATEX = (
    r"m_t = \beta_1 m_{t-1} + (1-\beta_1)\,g_t \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2)\,g_t^2",
    r"\hat m_t = \frac{m_t}{1-\beta_1^t} \qquad \hat v_t = \frac{v_t}{1-\beta_2^t} \qquad "
    r"\theta_t = \theta_{t-1} - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t}+\epsilon}",
)
ADAM_TEXT = (
    "m is V with θₜ = gₜ (β₁ = 0.9: about the last 10 gradients); v is V of gₜ² (β₂ = 0.999: "
    "about the last 1000); m̂ and v̂ are V′. Without the correction both start at 0, as V does."
)


def render(
    *,
    projection: bool,
    write_state: Callable[[Comparison], None],
    views: Sequence[str],
) -> None:
    """The lesson. ``write_state`` loads a comparison into the app's widgets (the Adam button
    uses it); ``views`` are the app's view names (the button opens "Step by step" if there)."""
    ss = st.session_state
    if ss.pop(RERUN, False):
        st.rerun()  # the Adam comparison went into the sidebar's widgets too
    if projection:
        st.markdown(PROJECTION_CSS, unsafe_allow_html=True)
    st.markdown(
        "#### Exponentially weighted averages\n"
        "The mini-batch deck's example: Vₜ = β Vₜ₋₁ + (1 − β) θₜ with V₀ = 0, over a year of "
        "daily temperatures (synthetic, seeded; days 1–3, 180 and 181 are the deck's 40, 49, 45, "
        "60 and 56 °F)."
    )
    cols = st.columns([2, 3, 3])
    if ss.get("ema.beta") not in BETAS:
        ss["ema.beta"] = 0.9
    cols[0].radio("Data", SOURCES, key="ema.source")
    cols[1].select_slider("β", options=BETAS, key="ema.beta")
    if ss.get("ema.mode") not in MODES:
        ss["ema.mode"] = MODES[2]
    cols[2].radio("Curves", MODES, key="ema.mode", horizontal=True)
    beta = float(ss["ema.beta"])
    days = ema.window_days(beta)
    cols[1].markdown(
        f"β = {beta:g}: Vₜ ≈ the average of the last 1/(1 − β) = **{days:.4g}** values "
        f"(they carry {ema.window_weight(beta):.0%} of the weight; older values the rest)."
    )
    values, unit = _series()
    if values is None:
        return
    fig = figures.ema_figure(
        values, _curves(values, beta, ss["ema.mode"], projection), unit=unit, projection=projection
    )
    st.plotly_chart(fig, theme=None, key="ema.chart")
    if ss["ema.mode"] == MODES[2]:
        st.caption("Solid: V′, bias-corrected. Dotted, same colour: V, without the correction.")
    left, right = st.columns(2, gap="large")
    with left.container(key="ema-first"):
        st.markdown(f"**The first values**, β = {beta:g}:\n\n" + _first_values_table(values, beta))
    with right:
        st.markdown(_deck_example())
    st.markdown(
        "**Adam's m and v are exactly this average**, of the gradients g and of their squares g²:"
    )
    for formula in ADAM_LATEX:
        st.latex(formula)
    st.markdown(ADAM_TEXT)
    target = STEP_VIEW if STEP_VIEW in views else "race"
    st.button(
        f"Open Adam with β₁ = {beta if 0 < beta < 1 else 0.9:g}, with and without bias correction "
        f"({'step by step' if target == STEP_VIEW else 'in the race'})",
        key="ema.adam",
        on_click=_open_adam,
        args=(write_state, tuple(views)),
        type="primary",
    )
