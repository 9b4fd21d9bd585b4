"""The "Curvature" view: the Hessian's eigenvalues along each path, the condition number and
GD's stability edge 2/η (also drawn by the race chart as a view that follows its step,
:func:`optviz.figures.view_figure` "curvature"); on the quadratic ravine, GD's factor
|1 − ηλᵢ| per eigendirection and the momentum stability region with the chosen run's (η, β) on
it.

The pure parts are :mod:`optviz.curvature` and the figure builders in :mod:`optviz.figures`.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from optviz import comparison as comparison_rules
from optviz import curvature, figures, stepwise
from optviz.config import Comparison


def _summary(surface: object, traj: object, label: str) -> str:
    cv = curvature.path_curvature(surface, traj)  # type: ignore[arg-type]
    crossed = curvature.edge_crossings(cv["lam_max"][:-1], cv["edge"][:-1])
    lam0 = cv["lam"][0]
    text = (
        f"**{label}**: at the start λ = {stepwise.fmt(lam0)}, condition number "
        f"{stepwise.fmt(cv['cond'][0])}"
    )
    if traj.optimizer == "gd":  # type: ignore[attr-defined]
        if crossed.size:
            text += f"; λ_max rises above 2/η at step {int(crossed[0])}: GD oscillates and grows"
        else:
            text += "; λ_max stays below 2/η: GD is stable along this path"
    return text


def render(comparison: Comparison, trajs: list, colors: list[str]) -> None:
    """Draw the view for the comparison on screen (``trajs`` its runs, ``colors`` theirs)."""
    surf = comparison.surface_obj()
    labels = comparison_rules.run_labels(comparison)
    proj = comparison.projection
    fig = figures.curvature_figure(surf, trajs, labels, colors, projection=proj)
    st.plotly_chart(fig, theme=None, key="cv.figure")
    st.markdown("\n\n".join(_summary(surf, t, lab) for t, lab in zip(trajs, labels, strict=True)))
    st.caption(
        "Gradient descent on a quadratic multiplies the distance along eigenvector i by "
        "1 − ηλᵢ each step: it zig-zags once ηλ > 1 and the zig-zag grows once λ_max > 2/η "
        "(the dashed line), where GD starts to oscillate and diverge. The same eigenvalues "
        "follow the race's scrubber in the chart's \"Curvature\" tab (beside the loss curves)."
    )
    if surf.name != "ravine":
        return
    lam = np.sort(curvature.eigenvalues(surf, np.zeros((1, 2)))[0])[::-1]
    st.markdown(f"**The quadratic ravine**: λ = {stepwise.fmt(lam)} everywhere.")
    runs = list(range(len(trajs)))
    if st.session_state.get("cv.run") not in runs:
        st.session_state["cv.run"] = 0
    i = st.segmented_control(
        "Run on the stability charts", runs, key="cv.run", required=True,
        format_func=lambda j: f"{j + 1} · {labels[j]}",
    )  # fmt: skip
    fig = figures.quadratic_stability_figure(lam, trajs[i], labels[i], colors[i], projection=proj)
    st.plotly_chart(fig, theme=None, key="cv.stability")
    run = curvature.run_momentum(trajs[i])
    if run is None:
        st.caption(
            f"{labels[i]} is not plain heavy-ball or Nesterov momentum with a constant η (adaptive"
            " or second-order steps, a schedule, weight decay or EMA bias correction), so it has "
            "no point on the (η, β) chart."
        )
    else:
        lr, beta, form = run
        rho = curvature.stability_region(lam, np.array([lr]), np.array([beta]), form)[0, 0]
        verdict = "converges" if rho < 1 else "diverges"
        st.caption(
            f"{labels[i]}: η = {stepwise.fmt(lr)}, β = {stepwise.fmt(beta)} "
            f"({form.replace('_', ' ')}): spectral radius {stepwise.fmt(rho)}, so it {verdict}"
            f" (GD with β = 0 needs η < 2/λ_max = {stepwise.fmt(2 / lam[0])})."
        )
