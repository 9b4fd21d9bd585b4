r"""What the race chart draws besides the paths, sent only while it is shown.

- **State glyphs** (the chart's "state" button, key ``s``): at each head the momentum arrow
  −η·m̂ (−η·m where there is no bias correction; −m for the ``lr_inside`` form, whose buffer
  already holds η) of the update leaving that iterate, and, for the optimizers with a
  per-coordinate accumulator (AdaGrad's G, RMSProp's and Adam's v / v̂, …), two small bars:
  the effective step size of that update along x and along y. The bars come from the
  trajectory's ``lr_eff``, which the race figure already carries; the momentum arrow needs the
  optimizer's state, so the run is recomputed once with ``record_state=True`` (the same path
  bit for bit, checked here; the race itself never records).
- **Curvature along the paths** (the "Curvature" view that follows the race): λ₁ ≥ λ₂ of the
  analytic Hessian at every iterate and GD's stability edge 2/η of each update.

Arrays are float32 typed-array specs (:func:`optviz.figures._packed`), row i for iterate i, as
the race figure's. Pure: no Streamlit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import surfaces
from optviz import curvature, engine
from optviz.engine import Trajectory
from optviz.figures import _packed

# State names of a per-coordinate accumulator (see optviz.state); an optimizer with one of
# them, or whose effective step differs between the coordinates, gets the bars.
ACCUMULATORS = ("G", "v", "v_hat", "v_max", "u", "s", "step_sizes")


def recorded(traj: Trajectory, surface: surfaces.Surface) -> Trajectory | None:
    """``traj`` run again with its state recorded (from its own config), or None when that is
    not possible or the path would differ (it never should: recording is bit-identical)."""
    c = dict(traj.config)
    base = ("optimizer", "surface", "surface_params", "start", "steps", "seed", "tol", "schedule")
    options = {k: v for k, v in c.items() if k not in base}
    try:
        rec = engine.run(
            traj.optimizer, surface, start=c["start"], steps=c["steps"], seed=c["seed"],
            tol=c["tol"], schedule=c["schedule"], record_state=True, **options,
        )  # fmt: skip
    except (KeyError, ValueError, TypeError):
        return None
    if rec.stopped_at != traj.stopped_at or not np.array_equal(rec.xy, traj.xy, equal_nan=True):
        return None
    return rec


def momentum_arrows(rec: Trajectory) -> np.ndarray | None:
    """Per iterate i, the momentum part −η·m̂ (or −η·m; −m for the ``lr_inside`` form) of the
    update leaving θ_i, i.e. the first moment that update stepped with, shape (steps + 1, 2)
    (NaN from the last valid row on); None for an optimizer without a first moment."""
    st = rec.state or {}
    m = st.get("m_hat", st.get("m"))
    if m is None:
        return None
    out = np.full_like(rec.xy, np.nan)
    last = rec.stopped_at
    if rec.config.get("momentum_form") == "lr_inside":
        out[:last] = -m[1 : last + 1]
    else:
        out[:last] = -st["lr"][1 : last + 1, None] * m[1 : last + 1]
    return out


def has_accumulator(rec: Trajectory) -> bool:
    """Whether the optimizer scales each coordinate by its own accumulated statistics (the bars
    are drawn for it): a named accumulator, or an effective step that differs between x and y."""
    st = rec.state or {}
    if any(name in st for name in ACCUMULATORS):
        return True
    eff = rec.lr_eff[: rec.stopped_at]
    ok = np.isfinite(eff).all(axis=1)
    return bool(np.any(np.abs(eff[ok, 0] - eff[ok, 1]) > 1e-12 * np.abs(eff[ok]).max(axis=1)))


def state_glyphs(surface: surfaces.Surface, traj: Trajectory) -> dict:
    """One run's glyph data: ``m_x``, ``m_y`` (the momentum arrow per row, when it has one) and
    ``bars`` (whether to draw the per-coordinate step-size bars)."""
    rec = recorded(traj, surface)
    if rec is None:
        return {"bars": False}
    out: dict[str, object] = {"bars": has_accumulator(rec)}
    m = momentum_arrows(rec)
    if m is not None:
        n = traj.stopped_at + 1
        out["m_x"] = _packed(m[:n, 0])
        out["m_y"] = _packed(m[:n, 1])
    return out


def curvature_series(surface: surfaces.Surface, traj: Trajectory) -> dict:
    """One run's curvature data: ``lam1``, ``lam2`` (λ₁ ≥ λ₂ of ∇²f at each iterate) and
    ``edge`` (2/η of the update leaving each iterate; one row fewer)."""
    cv = curvature.path_curvature(surface, traj)
    n = traj.stopped_at + 1
    return {
        "lam1": _packed(cv["lam"][:n, 0]),
        "lam2": _packed(cv["lam"][:n, 1]),
        "edge": _packed(cv["edge"][: max(n - 1, 0)]),
    }


def race_extras(
    surface: surfaces.Surface,
    trajs: Sequence[Trajectory],
    *,
    state: bool = False,
    curvature_view: bool = False,
) -> list[dict]:
    """Per run (in the race figure's order), the data of what is shown besides the paths:
    the state glyphs when ``state``, the curvature series when ``curvature_view``."""
    out = []
    for traj in trajs:
        run: dict[str, object] = {}
        if state:
            run.update(state_glyphs(surface, traj))
        if curvature_view:
            run.update(curvature_series(surface, traj))
        out.append(run)
    return out
