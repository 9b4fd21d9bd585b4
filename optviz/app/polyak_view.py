"""The Polyak-averaging view: each run's path with its uniform mean and CS231n's EMA over it."""

from __future__ import annotations

import math

import streamlit as st

from optviz import figures, polyak
from optviz.config import Comparison
from optviz.engine import Trajectory

# 002 (CS231n): "keep a moving average of the parameter vector and use that at test time
# (Polyak averaging)" … "x_test = 0.995*x_test + 0.005*x # use for test set".
CAPTION = (
    "Polyak averaging (CS231n deck): keep an average of the iterates and use it instead of the "
    "last point. Solid: the uniform mean θ̄ₖ = (θ₀ + … + θₖ)/(k + 1) (Polyak & Juditsky). "
    "Dashed: the deck's x_test ← 0.995·x_test + 0.005·x, an exponential average started at θ₀ "
    "(the deck does not say where it starts). Faded: the path itself. Near the minimum with a "
    "noisy gradient both averages sit nearer it than the jittering last point; from a far start "
    "they lag behind: the mean remembers every point since the start, and the EMA still gives "
    "the start the weight 0.995ᵏ (0.22 after 300 steps)."
)


def rows(comparison: Comparison, trajs: list[Trajectory], decay: float) -> list[dict]:
    """Per run: the loss at its last point, at the uniform mean and at the EMA there."""
    surf = comparison.surface_obj()
    out = []
    for run, traj in zip(comparison.runs, trajs, strict=True):
        last = traj.stopped_at
        mean = polyak.uniform(traj.xy, last)[last]
        avg = polyak.ema(traj.xy, last, decay)[last]

        def loss(p: object) -> float:
            v = float(surf.value(float(p[0]), float(p[1])))  # type: ignore[index]
            return v if math.isfinite(v) else math.nan

        out.append(
            {
                "run": run.label(),
                "status": traj.message,
                "loss at last point": loss(traj.xy[last]),
                "loss at uniform mean": loss(mean),
                "loss at EMA": loss(avg),
            }
        )
    return out


def render(comparison: Comparison, trajs: list[Trajectory], colors: list[str]) -> None:
    """Draw the view for ``comparison``'s runs ``trajs`` in their ``colors``."""
    st.caption(CAPTION)
    decay = st.columns([1, 3])[0].number_input(
        "EMA decay (the deck's 0.995)",
        min_value=0.0,
        max_value=1.0,
        value=polyak.CS231N_DECAY,
        step=0.001,
        format="%.4f",
        key="polyak.decay",
    )
    labels = [r.label() for r in comparison.runs]
    labels = [f"{lab} #{i + 1}" if labels.count(lab) > 1 else lab for i, lab in enumerate(labels)]
    fig = figures.polyak_figure(
        comparison.surface_obj(),
        trajs,
        labels,
        colors,
        decay=float(decay),
        projection=comparison.projection,
    )
    st.plotly_chart(fig, theme=None)
    st.dataframe(rows(comparison, trajs, float(decay)), hide_index=True)
