"""Plotly figures of a comparison: pure functions from surfaces and trajectories to figures.

Every builder takes the run colours from the caller (``style.run_colors``), so one run has one
colour in every chart, and a ``projection`` flag for large fonts, thick lines and big markers.
Nothing here imports Streamlit.

The race figure draws the surface as a layout image rather than a contour trace (a contour
trace disappears when a Plotly animation starts, plotly.js#4491; an image is also one cheap
element to redraw). It carries no animation frames: the race chart component plays it by
moving the traces the figure marks as moving (see :func:`race_figure`).
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

import surfaces
from optviz import curvature, labels, stepwise, style
from optviz.engine import Trajectory
from optviz.state import eig2 as state_eig2

LOSS_FLOOR = 1e-16  # f − f* below this (round-off) is drawn at the floor of the log axis
LOSS_CAP = 1e30  # larger losses only occur on the way to divergence; float32-safe
TEMPLATE = "plotly_white"


# ---- shared helpers --------------------------------------------------------------------------


def _sizes(projection: bool) -> tuple[int, float, int]:
    return style.FONT_SIZE[projection], style.LINE_WIDTH[projection], style.MARKER_SIZE[projection]


def axis_names(surface: surfaces.Surface) -> tuple[str, str]:
    """What the two coordinates mean: x, y for a function, w, b for a line fit, … (the
    catalog's ``Spec.axis_labels``)."""
    return surface.spec.axis_labels


def _f32(a: np.ndarray) -> np.ndarray:
    """float32 copy for the figure JSON (half the bytes of float64; ~7 digits shown anyway)."""
    return np.clip(np.asarray(a, np.float64), -LOSS_CAP, LOSS_CAP).astype(np.float32)


def _packed(a: np.ndarray, dtype: str = "f4") -> dict:
    """A plotly.js typed array ``{"dtype", "bdata"}`` (float32 unless said otherwise).

    Plotly converts every NumPy array to this form itself, but at ~0.1 ms per array through its
    generic converters; the race figure is rebuilt and sent on every slider move.
    """
    a = np.asarray(a)
    a = _f32(a) if dtype == "f4" else a.astype(np.dtype(dtype).newbyteorder("<"))
    spec = {"dtype": dtype, "bdata": base64.b64encode(np.ascontiguousarray(a).data).decode()}
    if a.ndim > 1:
        spec["shape"] = ", ".join(map(str, a.shape))
    return spec


def _check_runs(trajs: Sequence[Trajectory], labels: Sequence[str], colors: Sequence[str]) -> None:
    if not (len(trajs) == len(labels) == len(colors)):
        raise ValueError(
            f"trajs, labels and colors must have the same length, got "
            f"{len(trajs)}, {len(labels)}, {len(colors)}"
        )


def _inside(xy: np.ndarray, bounds: tuple) -> np.ndarray:
    (x0, x1), (y0, y1) = bounds
    return (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)


def exit_point(xy: np.ndarray, bounds: tuple) -> np.ndarray:
    """Where a path that ends outside the plot was last seen: its border crossing.

    The last valid point of a diverged run is often 10⁹ away; its "x" marker goes where the
    path leaves the plot instead (or on the final point when that is visible).
    """
    inside = _inside(xy, bounds)
    if inside[-1] or not inside.any():
        return xy[-1]
    i = int(np.flatnonzero(inside)[-1])
    p, q = xy[i], xy[i + 1]
    d = q - p
    t = 1.0
    for axis, (lo, hi) in enumerate(bounds):
        if d[axis] > 0:
            t = min(t, (hi - p[axis]) / d[axis])
        elif d[axis] < 0:
            t = min(t, (lo - p[axis]) / d[axis])
    return p + t * d


@lru_cache(maxsize=32)
def _image_uri(name: str, params: tuple, width: int, height: int) -> str:
    """The surface PNG as a data URI, reduced to a 64-colour palette (a third of the bytes)."""
    from PIL import Image

    png = style.surface_png(surfaces.get(name, **dict(params)), width, height)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    small = image.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    small.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _surface_image(surface: surfaces.Surface, projection: bool) -> dict:
    """The layout image of the surface, spanning exactly ``surface.bounds`` on axes x, y."""
    (x0, x1), (y0, y1) = surface.bounds
    longest = 1000 if projection else 800
    ratio = (x1 - x0) / (y1 - y0)
    width, height = (
        (longest, round(longest / ratio)) if ratio >= 1 else (round(longest * ratio), longest)
    )
    params = tuple(sorted(surface.params.items()))
    return {
        "source": _image_uri(surface.name, params, max(width, 2), max(height, 2)),
        "xref": "x",
        "yref": "y",
        "x": x0,
        "y": y1,
        "sizex": x1 - x0,
        "sizey": y1 - y0,
        "xanchor": "left",
        "yanchor": "top",
        "sizing": "stretch",
        "layer": "below",
    }


def _contour_axes(surface: surfaces.Surface) -> tuple[dict, dict]:
    """(x axis, y axis) of a contour panel: ranges exactly the bounds; equal scale unless the
    box is very elongated."""
    (x0, x1), (y0, y1) = surface.bounds
    xname, yname = axis_names(surface)
    common = {
        "constrain": "domain", "showgrid": False, "zeroline": False, "ticks": "outside",
        "mirror": True, "showline": True, "linecolor": "#444", "automargin": True,
    }  # fmt: skip
    ratio = (x1 - x0) / (y1 - y0)
    equal = {"scaleanchor": "x", "scaleratio": 1} if 0.5 <= ratio <= 2.0 else {}
    xaxis = {"range": [x0, x1], "title": {"text": xname}, **common}
    yaxis = {"range": [y0, y1], "title": {"text": yname}, **common, **equal}
    return xaxis, yaxis


def _marker(xs: Sequence[float], ys: Sequence[float], name: str, symbol: str, size: float,
            color: str, edge: float, **extra: object) -> dict:  # fmt: skip
    """A legend-less marker trace with a black edge that stays opaque during a selection."""
    trace = dict(
        type="scatter", x=xs, y=ys, mode="markers", name=name, showlegend=False,
        marker={"symbol": symbol, "size": size, "color": color,
                "line": {"color": "black", "width": edge}},
        unselected={"marker": {"opacity": 1}},
        hovertemplate=f"{name} (%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
    )  # fmt: skip
    return trace | extra


def _landmarks(surface: surfaces.Surface, starts: np.ndarray, projection: bool) -> list:
    """Start point(s), minima (stars) and saddle points (diamonds) as marker traces."""
    _, _, marker = _sizes(projection)
    out = []
    if surface.minima:
        out.append(
            _marker(
                [m.x for m in surface.minima], [m.y for m in surface.minima], "minimum",
                "star", marker * 1.5, "#FFD700", 1.5,
                customdata=[m.value for m in surface.minima],
                hovertemplate="minimum (%{x:.4g}, %{y:.4g})<br>f* = %{customdata:.6g}"
                "<extra></extra>",
            )
        )  # fmt: skip
    if surface.saddles:
        out.append(
            _marker(
                [p.x for p in surface.saddles], [p.y for p in surface.saddles], "saddle point",
                "diamond", marker * 1.2, "white", 2,
            )
        )  # fmt: skip
    out.append(
        _marker(
            starts[:, 0], starts[:, 1], "start", "circle", marker * 1.1, "white",
            2.5 if projection else 2,
        )
    )  # fmt: skip
    return out


def _starts(trajs: Sequence[Trajectory]) -> np.ndarray:
    if not trajs:
        return np.zeros((0, 2))
    return np.unique(np.array([t.xy[0] for t in trajs]), axis=0)


END_INSET = 0.02  # an end marker stays this fraction of the plot inside its border
END_NEAR = (0.15, 0.1)  # end markers closer than this (fraction of the plot) stack their texts


@dataclass(frozen=True)
class EndMarker:
    """Where a diverged or escaped run's "x" and its "diverged at step k" go (one rule for the
    app's figures and every export): ``(x, y)`` is where the path was last seen — its border
    crossing when it ends far away — kept :data:`END_INSET` inside the plot; its text points
    inwards (towards the centre from the ``right``/``top`` half it is in) and, when earlier
    markers stand near it, is pushed ``level`` lines further out so the texts do not overlap."""

    x: float
    y: float
    text: str
    step: int
    right: bool
    top: bool
    level: int


def end_markers(surface: surfaces.Surface, trajs: Sequence[Trajectory]) -> list[EndMarker | None]:
    """Each run's :class:`EndMarker`, None for a run that did not diverge or escape."""
    (x0, x1), (y0, y1) = surface.bounds
    placed: list[tuple[float, float]] = []
    out: list[EndMarker | None] = []
    for traj in trajs:
        if traj.status not in ("diverged", "escaped"):
            out.append(None)
            continue
        where = exit_point(traj.valid_xy, surface.bounds)
        dx, dy = END_INSET * (x1 - x0), END_INSET * (y1 - y0)
        x = float(np.clip(where[0], x0 + dx, x1 - dx))
        y = float(np.clip(where[1], y0 + dy, y1 - dy))
        fx, fy = (x - x0) / (x1 - x0), (y - y0) / (y1 - y0)
        near_x, near_y = END_NEAR
        level = sum(abs(fx - px) < near_x and abs(fy - py) < near_y for px, py in placed)
        placed.append((fx, fy))
        right, top = x > (x0 + x1) / 2, y > (y0 + y1) / 2
        out.append(EndMarker(x, y, traj.message, int(traj.stopped_at), right, top, level))
    return out


def _end_marker(
    end: EndMarker, label: str, color: str, projection: bool, xref: str = "x", yref: str = "y"
) -> tuple[dict, dict]:
    """The Plotly "x" trace of an :class:`EndMarker` and its annotation."""
    font, line, marker = _sizes(projection)
    trace = dict(
        type="scatter",
        x=[end.x],
        y=[end.y],
        mode="markers",
        legendgroup=label,
        showlegend=False,
        name=label,
        marker={
            "symbol": "x-thin",
            "size": marker * 1.4,
            "color": color,
            "line": {"color": color, "width": line * 1.2},
        },  # fmt: skip
        unselected={"marker": {"opacity": 1}},
        cliponaxis=False,
        hovertemplate=f"{label}<br>{end.text}<extra></extra>",
    )
    shift = 40 + 34 * end.level
    note = {
        "x": end.x,
        "y": end.y,
        "xref": xref,
        "yref": yref,
        "ax": -60 if end.right else 60,
        "ay": shift if end.top else -shift,
        "text": end.text,
        "showarrow": True,
        "arrowcolor": color,
        "arrowwidth": 1.5,
        "font": {"color": color, "size": font},
        "bgcolor": "rgba(255,255,255,0.85)",
        "bordercolor": color,
    }
    return trace, note


def loss_view(surface: surfaces.Surface, trajs: Sequence[Trajectory]) -> tuple:
    """What the loss panel plots: f − f* on a log axis when f* is known, else f linearly.

    Surfaces without a minimum (the saddles) are unbounded below, so neither log f nor
    log (f − f*) exists; a linear axis is the honest choice there.
    """
    f_star = surface.f_star  # for a typed formula: estimated, or None when not trusted
    if f_star is not None:
        curves = [np.maximum(t.valid_loss - f_star, LOSS_FLOOR) for t in trajs]
        title = "f(θ) − f*  (log scale)" if f_star != 0 else "f(θ)  (log scale)"
        if surface.f_star_estimated:
            title = "f(θ) − f*  (log; f* estimated)"  # short: it must fit the axis height
        return curves, True, title
    if surface.f_star_estimated:
        return [t.valid_loss.copy() for t in trajs], False, "f(θ)  (linear: f* unknown)"
    return [t.valid_loss.copy() for t in trajs], False, "f(θ)  (linear: unbounded below)"


def loss_range(curves: list[np.ndarray], log: bool) -> list:
    """y range of the loss panel (log10 units on a log axis)."""
    values = np.concatenate([c[np.isfinite(c)] for c in curves] or [np.ones(1)])
    starts = np.array([c[0] for c in curves if c.size] or [1.0])
    if log:
        values = np.maximum(values, LOSS_FLOOR)
        lo = math.log10(float(values.min()))
        # Diverging losses would squash every other curve: cap the view at 1000 × the start.
        hi = math.log10(min(float(values.max()), float(starts.max()) * 1e3))
        pad = max(0.05 * (hi - lo), 0.1)
        return [lo - pad, hi + pad]
    lo, hi = float(values.min()), float(values.max())
    pad = 0.05 * (hi - lo) or 1.0
    return [lo - pad, hi + pad]


def _base_layout(font: int, height: int, uirevision: str) -> dict:
    return {
        "template": TEMPLATE,
        "height": height,
        "font": {"size": font, "family": "Arial, Helvetica, sans-serif", "color": "#111"},
        "uirevision": uirevision,
        "hovermode": "closest",
        "hoverlabel": {"font": {"size": font}},
        "legend": {
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": 1.02,
            "yanchor": "bottom",
            "font": {"size": font},
            "itemsizing": "constant",
        },  # fmt: skip
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
    }


def _uirevision(surface: surfaces.Surface, kind: str) -> str:
    """Stable while the surface stays the same, so zoom survives reruns but resets on change."""
    return f"{kind}:{surface.name}:{sorted(surface.params.items())}"


def _path_trace(xy: np.ndarray, label: str, color: str, width: float) -> dict:
    """A run's whole path as a line, hover showing the step number."""
    return dict(
        type="scatter",
        x=_packed(xy[:, 0]),
        y=_packed(xy[:, 1]),
        mode="lines",
        name=label,
        legendgroup=label,
        line={"color": color, "width": width},
        customdata=_packed(np.arange(len(xy)), "i4"),
        hovertemplate=f"{label}<br>step %{{customdata}}<br>(%{{x:.5g}}, %{{y:.5g}})<extra></extra>",
    )


# ---- race figure -----------------------------------------------------------------------------


# The trace-role contract of the race figure, stated once: the race chart draws the traces with
# one of these roles on its canvas and plays them (every other trace goes to Plotly as is).
# Each race figure carries the table in ``layout.meta["run_roles"]``, and race.js reads it
# from there: "path" (a run's whole path, its status, ∇f and effective η per row), "grow" (the
# path drawn up to the step shown), "loss" (f − f_offset per step), "heads" (each run's
# current point), "loss_heads" (its current loss) and "cursor" (the step line of the loss panel).
RUN_ROLES = ("path", "grow", "loss", "heads", "loss_heads", "cursor")


def _role(role: str, run: int | None = None, **more: object) -> dict:
    """What a race trace is to the animation (:mod:`optviz.race_chart` finds traces by it)."""
    if role not in RUN_ROLES:
        raise ValueError(f"unknown race trace role {role!r}: one of {', '.join(RUN_ROLES)}")
    return {"meta": {"role": role} | ({} if run is None else {"run": run}) | more}


def run_status(traj: Trajectory) -> str:
    """One line on how a run ended: "final loss 0.0123", "final loss 1.553×10⁻⁵", "diverged at
    step 12", … (numbers as people read them, :func:`optviz.labels.number`)."""
    if traj.message == "ok":
        return f"final loss {labels.number(float(traj.loss[traj.stopped_at]))}"
    return traj.message


def race_figure(
    surface: surfaces.Surface,
    trajs: Sequence[Trajectory],
    labels: Sequence[str],
    colors: Sequence[str],
    *,
    projection: bool = False,
    height: int | None = None,
    pick: bool = False,
) -> dict:
    """The main view: paths racing on the surface (left) and their loss curves (right).

    Left, the surface (a layout image spanning ``surface.bounds``) with every run's full path
    (thin), its growing path and head, the common start (white circle), minima (stars) and
    saddle points (diamonds); a diverged or escaped run ends in an "x" with "diverged at step
    k". Right, the loss curves with a step cursor and the heads' current losses.

    The figure shows the last step. The race chart component (:mod:`optviz.race_chart`) plays
    it: at step k, run i's "grow" trace is its "path" trace up to row min(k, stopped_at), its
    head is that row, and the cursor and "loss heads" move along the "loss" traces. Traces say
    what they are in ``meta`` = {"role", "run"}; a "path" also says how its run ended
    ("status", "status_kind") and carries the gradient used at each row ("grad_x", "grad_y"),
    for the step arrows, and the effective learning rate per coordinate of each update ("lr_x",
    "lr_y"); ``layout.meta["f_offset"]`` is what the loss panel subtracted (f*, or 0), so a
    "loss" trace plus it is f. From those the race chart draws the views that follow the race
    on the static parts :func:`view_figure` gives. Arrays are float32 typed arrays.

    With ``pick``, dragging does not zoom, so that a click on the contour panel can set the
    start point.

    Returns the Plotly figure as a plain dict ``{"data", "layout"}`` (``go.Figure(spec)`` makes
    it an object): it is sent as JSON on every slider move, and a ``go.Figure`` would cost
    more to build and serialise than everything else on that move.
    """
    _check_runs(trajs, labels, colors)
    font, line, marker = _sizes(projection)
    height = height or (720 if projection else 560)
    left = {"xaxis": "x", "yaxis": "y"}  # the contour panel
    right = {"xaxis": "x2", "yaxis": "y2"}  # the loss panel
    data: list[dict] = []

    last = max((t.stopped_at for t in trajs), default=0)
    curves, log, loss_title = loss_view(surface, trajs)
    if projection:  # large type: the tick labels (10⁻³, …) say the scale
        loss_title = loss_title.split("  (")[0]
    y_range = loss_range(curves, log)
    cursor_y = [10 ** y_range[0], 10 ** y_range[1]] if log else y_range
    dots = last <= 150  # few steps: every iterate is visible as a dot

    notes = []
    ends = end_markers(surface, trajs)
    for i, (traj, label, color) in enumerate(zip(trajs, labels, colors, strict=True)):
        xy = traj.valid_xy
        # The full path stays faintly visible under the growing one while playing.
        data.append(
            _path_trace(xy, label, color, line * 0.45)
            | {"opacity": 0.55, "showlegend": False}
            | _role(
                "path",
                i,
                status=run_status(traj),
                status_kind=traj.status,
                grad_x=_packed(traj.grad[: len(xy), 0]),
                grad_y=_packed(traj.grad[: len(xy), 1]),
                lr_x=_packed(traj.lr_eff[: max(len(xy) - 1, 0), 0]),
                lr_y=_packed(traj.lr_eff[: max(len(xy) - 1, 0), 1]),
            )  # fmt: skip
            | left
        )
        data.append(
            dict(
                type="scatter", x=_packed(xy[:, 0]), y=_packed(xy[:, 1]),
                mode="lines+markers" if dots else "lines", name=label, legendgroup=label,
                hoverinfo="skip", line={"color": color, "width": line},
                marker={"color": color, "size": marker * 0.45}, **_role("grow", i), **left,
            )
        )  # fmt: skip
        if ends[i] is not None:
            end, note = _end_marker(ends[i], label, color, projection)
            data.append(end | left)
            notes.append(note)

    data.extend(lm | left for lm in _landmarks(surface, _starts(trajs), projection))

    for i, (traj, curve, label, color) in enumerate(
        zip(trajs, curves, labels, colors, strict=True)
    ):
        data.append(
            dict(
                type="scatter", x0=0, dx=1, y=_packed(curve), mode="lines", name=label,
                legendgroup=label, showlegend=False, line={"color": color, "width": line * 0.7},
                hovertemplate=f"{label}<br>step %{{x}}<br>%{{y:.4g}}<extra></extra>",
                **_role("loss", i), **right,
            )
        )  # fmt: skip
        if traj.status in ("diverged", "escaped"):
            data.append(
                dict(
                    type="scatter", x=[traj.stopped_at], y=_packed(curve[-1:]), mode="markers",
                    legendgroup=label, name=label, showlegend=False,
                    marker={
                        "symbol": "x-thin", "size": marker, "color": color,
                        "line": {"color": color, "width": line},
                    },
                    hovertemplate=f"{label}<br>{traj.message}<extra></extra>", **right,
                )
            )  # fmt: skip

    rows = np.array([t.stopped_at for t in trajs], dtype=np.int32)
    head_xy = np.array([t.final for t in trajs]).reshape(-1, 2)
    head_loss = np.array([c[-1] for c in curves])
    head_marker = {
        "color": list(colors), "size": marker, "line": {"color": "white", "width": 2},
    }  # fmt: skip
    data.append(
        dict(
            type="scatter", x=[last, last], y=cursor_y, mode="lines", name="step",
            showlegend=False, hoverinfo="skip",
            line={"color": "#333", "width": max(1.0, line * 0.5), "dash": "dot"},
            **_role("cursor"), **right,
        )
    )  # fmt: skip
    data.append(
        dict(
            type="scatter", x=_packed(rows, "i4"), y=_packed(head_loss), mode="markers",
            name="now", showlegend=False, marker=head_marker, hoverinfo="skip", cliponaxis=False,
            **_role("loss_heads"), **right,
        )
    )  # fmt: skip
    data.append(
        dict(
            type="scatter", x=_packed(head_xy[:, 0]), y=_packed(head_xy[:, 1]), mode="markers",
            name="heads", showlegend=False, marker=head_marker, hoverinfo="skip",
            **_role("heads"), **left,
        )
    )  # fmt: skip

    # The two panels side by side, as make_subplots(cols=2, column_widths=[0.45, 0.55]) would.
    spacing = 0.17 if projection else 0.12  # room for the loss axis ticks and title at 1280 px
    split = 0.45 * (1.0 - spacing)
    xaxis, yaxis = _contour_axes(surface)
    loss_axis_style = {
        "showline": True, "linecolor": "#444", "mirror": True, "ticks": "outside",
        "automargin": True,
    }  # fmt: skip
    yaxis2 = {
        "type": "log" if log else "linear", "range": y_range, "title": {"text": loss_title},
        "exponentformat": "power", "anchor": "x2", **loss_axis_style,
    }  # fmt: skip
    if log:  # one label per decade (or fewer), not the 2-5 minor labels of a short range
        yaxis2["dtick"] = max(1, math.ceil((y_range[1] - y_range[0]) / 7))
    layout = _base_layout(font, height, _uirevision(surface, "race"))
    layout.update(
        xaxis={**xaxis, "domain": [0.0, split], "anchor": "y"},
        yaxis={**yaxis, "domain": [0.0, 1.0], "anchor": "x"},
        xaxis2={
            "range": [0, max(last, 1)],
            "title": {"text": "step"},
            "domain": [split + spacing, 1.0],
            "anchor": "y2",
            **loss_axis_style,
        },  # fmt: skip
        yaxis2={**yaxis2, "domain": [0.0, 1.0]},
        images=[_surface_image(surface, projection)],
        margin={"l": 10, "r": 20, "t": 60, "b": 10},
        annotations=notes,
        meta={
            "f_offset": min((m.value for m in surface.minima), default=0.0) if log else 0.0,
            "run_roles": list(RUN_ROLES),
        },
    )
    if pick:
        layout["dragmode"] = False
    return {"data": data, "layout": layout}


# ---- 3-D surface -----------------------------------------------------------------------------


def surface3d_figure(
    surface: surfaces.Surface,
    trajs: Sequence[Trajectory],
    labels: Sequence[str],
    colors: Sequence[str],
    *,
    projection: bool = False,
) -> go.Figure:
    """The surface in 3-D with the paths lifted slightly above it.

    Heights are clipped to the 1st–97th percentile band (the minimum is kept when the surface
    has one) so a few steep corners do not flatten everything else; colours follow the same
    geometric contour levels as the 2-D view. Path points outside the plot box are dropped.
    """
    _check_runs(trajs, labels, colors)
    font, line, marker = _sizes(projection)
    xs, ys, z = surface.grid(90)
    finite = z[np.isfinite(z)]
    lo = float(finite.min()) if surface.minima else float(np.percentile(finite, 1))
    hi = float(np.percentile(finite, 97))
    if hi <= lo:
        hi = lo + 1.0
    zc = np.clip(z, lo, hi)
    levels = style.contour_levels(z)
    shade = np.searchsorted(levels, z).astype(np.float32)
    lift = 0.03 * (hi - lo)
    xname, yname = axis_names(surface)
    fig = go.Figure(
        go.Surface(
            x=_f32(xs), y=_f32(ys), z=_f32(zc), surfacecolor=shade, showscale=False,
            colorscale=[[0.0, "#f4f4f4"], [1.0, "#5a5a5a"]],
            lighting={"ambient": 0.75, "diffuse": 0.5, "specular": 0.05},
            hovertemplate=f"{xname}=%{{x:.3g}}<br>{yname}=%{{y:.3g}}<br>f=%{{z:.4g}}"
            "<extra></extra>", name="surface",
            contours={"z": {"show": False}},
        )
    )  # fmt: skip
    for traj, label, color in zip(trajs, labels, colors, strict=True):
        xy = traj.valid_xy.copy()
        xy[~_inside(xy, surface.bounds)] = np.nan
        zp = np.clip(surface.value(xy[:, 0], xy[:, 1]), lo, hi) + lift
        fig.add_trace(
            go.Scatter3d(
                x=_f32(xy[:, 0]), y=_f32(xy[:, 1]), z=_f32(zp), mode="lines", name=label,
                legendgroup=label, line={"color": color, "width": line * 2},
                customdata=np.arange(len(xy), dtype=np.int32),
                hovertemplate=f"{label}<br>step %{{customdata}}<br>f=%{{z:.4g}}<extra></extra>",
            )
        )  # fmt: skip
        ok = np.flatnonzero(np.isfinite(zp))
        if ok.size:
            end = ok[-1]
            fig.add_trace(
                go.Scatter3d(
                    x=[xy[end, 0]], y=[xy[end, 1]], z=[zp[end]], mode="markers", name=label,
                    legendgroup=label, showlegend=False,
                    marker={
                        "color": color, "size": marker * 0.5,
                        "symbol": "x" if traj.status in ("diverged", "escaped") else "circle",
                    },
                    hovertemplate=f"{label}<br>{traj.message}<extra></extra>",
                )
            )  # fmt: skip
    starts = _starts(trajs)
    if starts.size:
        fig.add_trace(
            go.Scatter3d(
                x=starts[:, 0], y=starts[:, 1],
                z=np.clip(surface.value(starts[:, 0], starts[:, 1]), lo, hi) + lift,
                mode="markers", name="start", showlegend=False,
                marker={"color": "white", "size": marker * 0.6, "line": {"color": "black",
                                                                          "width": 3}},
                hovertemplate="start<extra></extra>",
            )
        )  # fmt: skip
    for m in surface.minima:
        fig.add_trace(
            go.Scatter3d(
                x=[m.x], y=[m.y], z=[min(max(m.value, lo), hi) + lift], mode="markers",
                name="minimum", showlegend=False,
                marker={"color": "#FFD700", "size": marker * 0.6, "symbol": "diamond",
                        "line": {"color": "black", "width": 2}},
                hovertemplate=f"minimum f*={m.value:.4g}<extra></extra>",
            )
        )  # fmt: skip
    (x0, x1), (y0, y1) = surface.bounds
    ratio = (x1 - x0) / (y1 - y0)
    axis = {"tickfont": {"size": round(font * 0.6)}, "nticks": 6}
    layout = _base_layout(font, 800 if projection else 560, _uirevision(surface, "3d"))
    layout["scene"] = {
        "xaxis": {**axis, "title": {"text": xname, "font": {"size": font}}, "range": [x0, x1]},
        "yaxis": {**axis, "title": {"text": yname, "font": {"size": font}}, "range": [y0, y1]},
        "zaxis": {**axis, "title": {"text": "f", "font": {"size": font}}},
        "aspectmode": "manual",
        "aspectratio": {"x": min(ratio, 1.0) * 1.2, "y": min(1 / ratio, 1.0) * 1.2, "z": 0.7},
        "camera": {"eye": {"x": -1.1, "y": -1.3, "z": 1.7}},
    }
    layout["margin"] = {"l": 0, "r": 0, "t": 40, "b": 0}
    fig.update_layout(**layout)
    return fig


# ---- optimizer dynamics ----------------------------------------------------------------------


def _positive(a: np.ndarray) -> np.ndarray:
    """Non-positive and NaN values cannot sit on a log axis: leave gaps there."""
    out = np.asarray(a, np.float64).copy()
    out[~(out > 0)] = np.nan
    return _f32(out)


def _decades(series: list[np.ndarray]) -> tuple[list[float], int]:
    """Log-axis range in whole decades (at least one), capped at 1000 × the largest value of
    any run's first steps, so a diverging run does not squash the others; and a tick step
    (in decades) that keeps to about five labels."""
    values = np.concatenate([np.asarray(v, np.float64).ravel() for v in series] or [[1.0]])
    values = values[np.isfinite(values) & (values > 0)]
    if not values.size:
        return [-1.0, 1.0], 1
    early = [v[:3][np.isfinite(v[:3]) & (v[:3] > 0)] for v in series if np.size(v)]
    early_max = max((float(e.max()) for e in early if e.size), default=float(values.max()))
    lo = math.floor(math.log10(values.min()))
    hi = math.ceil(math.log10(min(float(values.max()), 1e3 * early_max)))
    hi = max(hi, lo + 1)
    return [lo - 0.05, hi + 0.05], max(1, math.ceil((hi - lo) / 5))


def dynamics_figure(
    trajs: Sequence[Trajectory],
    labels: Sequence[str],
    colors: Sequence[str],
    *,
    projection: bool = False,
) -> go.Figure:
    """What each optimizer did per step: step length ‖Δθ‖, gradient norm ‖g‖ and the effective
    learning rate per coordinate (solid: first coordinate, dotted: second), log y axes.

    ‖Δθₜ‖ and the effective rate are drawn at the update t that used them; ‖g‖ is the gradient
    the optimizer saw at iterate t (mini-batch and noise included).
    """
    _check_runs(trajs, labels, colors)
    font, line, _ = _sizes(projection)
    fig = make_subplots(
        rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.08,
        subplot_titles=(
            "step length ‖θₜ − θₜ₋₁‖",
            "gradient norm ‖gₜ‖ (as used: noise and mini-batch included)",
            "effective learning rate per coordinate (solid: 1st, dotted: 2nd)",
        ),
    )  # fmt: skip
    for note in fig.layout.annotations:
        note.font = {"size": font}
    width = line * 0.7
    panels: tuple[list, list, list] = ([], [], [])
    for traj, label, color in zip(trajs, labels, colors, strict=True):
        n = traj.stopped_at
        xy = traj.valid_xy
        step = np.linalg.norm(np.diff(xy, axis=0), axis=1)
        gnorm = np.linalg.norm(traj.grad[: n + 1], axis=1)
        eff = traj.lr_eff[:n]
        for series, values in zip(panels, (step, gnorm, eff.ravel()), strict=True):
            series.append(values)
        common = {"mode": "lines", "name": label, "legendgroup": label}
        hover = f"{label}<br>step %{{x}}<br>%{{y:.4g}}<extra></extra>"
        fig.add_trace(
            go.Scatter(x0=1, dx=1, y=_positive(step), line={"color": color, "width": width},
                       hovertemplate=hover, **common),
            row=1, col=1,
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(x0=0, dx=1, y=_positive(gnorm), line={"color": color, "width": width},
                       showlegend=False, hovertemplate=hover, **common),
            row=2, col=1,
        )  # fmt: skip
        for c, dash in ((0, "solid"), (1, "dot")):
            fig.add_trace(
                go.Scatter(
                    x0=1, dx=1, y=_positive(eff[:, c]),
                    line={"color": color, "width": width, "dash": dash}, showlegend=False,
                    hovertemplate=f"{label} (coordinate {c + 1})<br>step %{{x}}<br>%{{y:.4g}}"
                    "<extra></extra>",
                    **common,
                ),
                row=3, col=1,
            )  # fmt: skip
    for row, series in enumerate(panels, start=1):
        y_range, dtick = _decades(series)
        fig.update_yaxes(range=y_range, dtick=dtick, row=row, col=1)
    fig.update_yaxes(type="log", exponentformat="power", showline=True, linecolor="#444")
    fig.update_xaxes(showline=True, linecolor="#444")
    fig.update_xaxes(title_text="step", row=3, col=1)
    layout = _base_layout(font, 900 if projection else 640, "dynamics")
    layout["margin"] = {"l": 10, "r": 10, "t": 90, "b": 10}
    layout["legend"]["y"] = 1.05
    fig.update_layout(**layout)
    return fig


# ---- gradient field --------------------------------------------------------------------------


def _arrows(surface: surfaces.Surface, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Line segments of −∇f arrows on an n×n grid, NaN-separated, for one Scatter trace.

    Direction is exact; length grows with log‖∇f‖ (from 35 % to 90 % of the grid spacing) so
    steep and flat regions are told apart without the steep ones swamping the picture.
    """
    (x0, x1), (y0, y1) = surface.bounds
    hx, hy = (x1 - x0) / n, (y1 - y0) / n
    gx, gy = np.meshgrid(x0 + hx * (np.arange(n) + 0.5), y0 + hy * (np.arange(n) + 0.5))
    g = surface.gradient(gx, gy).reshape(-1, 2)
    px, py = gx.ravel(), gy.ravel()
    norm = np.hypot(g[:, 0], g[:, 1])
    ok = norm > 0
    logn = np.log10(np.where(ok, norm, 1.0))
    span = np.ptp(logn[ok]) if ok.any() else 0.0
    rank = (logn - logn[ok].min()) / span if span > 0 else np.ones_like(logn)
    length = (0.35 + 0.55 * rank) * min(hx, hy)
    # Unit direction of −∇f in screen units (x and y may be scaled differently).
    dx, dy = -g[:, 0] / hx, -g[:, 1] / hy
    d = np.hypot(dx, dy)
    d[d == 0] = 1.0
    ux, uy = dx / d * length / min(hx, hy) * hx, dy / d * length / min(hx, hy) * hy
    tail_x, tail_y = px - ux / 2, py - uy / 2
    tip_x, tip_y = px + ux / 2, py + uy / 2
    head = 0.35
    cos, sin = math.cos(math.radians(25)), math.sin(math.radians(25))
    bx1 = tip_x - head * (ux * cos - uy * sin * hx / hy)
    by1 = tip_y - head * (uy * cos + ux * sin * hy / hx)
    bx2 = tip_x - head * (ux * cos + uy * sin * hx / hy)
    by2 = tip_y - head * (uy * cos - ux * sin * hy / hx)
    nan = np.full_like(px, np.nan)
    xs = np.column_stack([tail_x, tip_x, bx1, nan, tip_x, bx2, nan])[ok].ravel()
    ys = np.column_stack([tail_y, tip_y, by1, nan, tip_y, by2, nan])[ok].ravel()
    return xs, ys


def gradient_field_figure(
    surface: surfaces.Surface,
    trajs: Sequence[Trajectory],
    labels: Sequence[str],
    colors: Sequence[str],
    *,
    projection: bool = False,
) -> go.Figure:
    """Arrows of −∇f (the direction plain gradient descent takes) on the contours, and the
    paths on top: where a path leaves the arrows, momentum or preconditioning is at work."""
    _check_runs(trajs, labels, colors)
    font, line, marker = _sizes(projection)
    fig = go.Figure()
    xs, ys = _arrows(surface, 15 if projection else 21)
    fig.add_trace(
        go.Scatter(
            x=_f32(xs), y=_f32(ys), mode="lines", name="−∇f (length ∝ log‖∇f‖)",
            line={"color": "#4a4a4a", "width": 1.6 if projection else 1.1}, hoverinfo="skip",
        )
    )  # fmt: skip
    notes = []
    ends = end_markers(surface, trajs)
    for traj, label, color, where in zip(trajs, labels, colors, ends, strict=True):
        fig.add_trace(_path_trace(traj.valid_xy, label, color, line))
        if where is not None:
            end, note = _end_marker(where, label, color, projection)
            fig.add_trace(end)
            notes.append(note)
    for lm in _landmarks(surface, _starts(trajs), projection):
        fig.add_trace(lm)
    xaxis, yaxis = _contour_axes(surface)
    layout = _base_layout(font, 800 if projection else 560, _uirevision(surface, "field"))
    layout.update(xaxis=xaxis, yaxis=yaxis, images=[_surface_image(surface, projection)])
    layout["margin"] = {"l": 10, "r": 10, "t": 60, "b": 10}
    layout["annotations"] = notes
    fig.update_layout(**layout)
    return fig


# ---- views that follow the race ----------------------------------------------------------------

FOLLOW_VIEWS = {
    "dynamics": "Dynamics", "field": "Gradient field", "3d": "3D", "curvature": "Curvature",
}  # fmt: skip


def view_figure(surface: surfaces.Surface, kind: str, *, projection: bool = False) -> dict:
    """The static part of a view the race chart keeps in step with its scrubber, as a plain dict.

    ``kind`` is one of :data:`FOLLOW_VIEWS`. The runs are not in it: the race chart draws them
    from the race figure's run traces (paths, f, ∇f, effective η per row) at the step it
    shows, so this part depends on the surface alone and travels once per surface.

    - ``"dynamics"``: three stacked panels sharing a step axis (log y): step length
      ‖θₜ − θₜ₋₁‖, gradient norm ‖gₜ‖ (as the optimizer saw it) and the effective learning
      rate per coordinate (solid: 1st, dotted: 2nd), as in :func:`dynamics_figure`.
    - ``"field"``: −∇f arrows on the contour image, minima and saddles, as in
      :func:`gradient_field_figure`.
    - ``"3d"``: the surface mesh clipped as in :func:`surface3d_figure`; ``layout.meta`` holds
      the clip band and lift ("z_lo", "z_hi", "lift") the runs' heights take.
    - ``"curvature"``: two panels sharing a step axis: the Hessian's eigenvalues λ₁ (solid),
      λ₂ (dotted) along each path with GD's stability edge 2/η (dashed), and the condition
      number |λ|max/|λ|min (log y), as in :func:`curvature_figure`. The race chart draws the
      runs from the series :func:`optviz.race_data.curvature_series` sends while this view is
      shown, and makes the eigenvalue axis logarithmic when every eigenvalue is positive.
    """
    if kind not in FOLLOW_VIEWS:
        raise ValueError(f"kind must be one of {sorted(FOLLOW_VIEWS)}, got {kind!r}")
    font, _, _ = _sizes(projection)
    small = round(font * 0.8)
    if kind == "curvature":
        return _curvature_view(small)
    if kind == "dynamics":
        layout = _base_layout(small, 400, "dynamics")
        titles = ("step length ‖θₜ − θₜ₋₁‖", "gradient norm ‖gₜ‖", "effective η (— 1st, ··· 2nd)")
        gap = 0.13
        height = (1.0 - 2 * gap) / 3
        notes = []
        for row, title in enumerate(titles):
            top = 1.0 - row * (height + gap)
            suffix = "" if row == 0 else str(row + 1)
            layout[f"xaxis{suffix}"] = {
                "domain": [0.0, 1.0], "anchor": f"y{suffix}", "showline": True,
                "linecolor": "#444", "mirror": True, "showticklabels": row == 2, "automargin": True,
                **({"matches": "x"} if row else {}),
                **({"title": {"text": "step"}} if row == 2 else {}),
            }  # fmt: skip
            layout[f"yaxis{suffix}"] = {
                "domain": [top - height, top], "anchor": f"x{suffix}", "type": "log",
                "exponentformat": "power", "showline": True, "linecolor": "#444",
                "mirror": True, "nticks": 4, "automargin": True,
            }  # fmt: skip
            notes.append(
                {
                    "text": title, "xref": "paper", "yref": "paper", "x": 0.0, "y": top,
                    "xanchor": "left", "yanchor": "bottom", "showarrow": False,
                    "font": {"size": small},
                }
            )  # fmt: skip
        layout["annotations"] = notes
        layout["margin"] = {"l": 10, "r": 10, "t": 28, "b": 10}
        layout["showlegend"] = False
        layout["meta"] = {"kind": kind}
        return {"data": [], "layout": layout}
    if kind == "field":
        xs, ys = _arrows(surface, 15 if projection else 21)
        data = [
            {
                "type": "scatter", "x": _packed(xs), "y": _packed(ys), "mode": "lines",
                "name": "−∇f", "line": {"color": "#4a4a4a", "width": 1.3}, "hoverinfo": "skip",
            }
        ]  # fmt: skip
        data.extend(_landmarks(surface, np.zeros((0, 2)), projection)[:-1])
        xaxis, yaxis = _contour_axes(surface)
        layout = _base_layout(small, 400, _uirevision(surface, "field"))
        layout.update(
            xaxis=xaxis, yaxis=yaxis, images=[_surface_image(surface, projection)],
            showlegend=False, margin={"l": 10, "r": 10, "t": 28, "b": 10},
            title={"text": "−∇f (length ∝ log‖∇f‖)", "font": {"size": small}, "x": 0.02,
                   "y": 0.99, "yanchor": "top"},
            meta={"kind": kind},
        )  # fmt: skip
        return {"data": data, "layout": layout}
    xs, ys, z = surface.grid(70)
    finite = z[np.isfinite(z)]
    lo = float(finite.min()) if surface.minima else float(np.percentile(finite, 1))
    hi = float(np.percentile(finite, 97))
    if hi <= lo:
        hi = lo + 1.0
    levels = style.contour_levels(z)
    xname, yname = axis_names(surface)
    data = [
        {
            "type": "surface", "x": _packed(xs), "y": _packed(ys),
            "z": _packed(np.clip(z, lo, hi)),
            "surfacecolor": _packed(np.searchsorted(levels, z).astype(np.float32)),
            "showscale": False, "colorscale": [[0.0, "#f4f4f4"], [1.0, "#5a5a5a"]],
            "lighting": {"ambient": 0.75, "diffuse": 0.5, "specular": 0.05},
            "hoverinfo": "skip", "contours": {"z": {"show": False}}, "name": "surface",
        }
    ]  # fmt: skip
    (x0, x1), (y0, y1) = surface.bounds
    ratio = (x1 - x0) / (y1 - y0)
    axis = {"tickfont": {"size": round(small * 0.8)}, "nticks": 5}
    layout = _base_layout(small, 400, _uirevision(surface, "3d"))
    layout.update(
        scene={
            "xaxis": {**axis, "title": {"text": xname}, "range": [x0, x1]},
            "yaxis": {**axis, "title": {"text": yname}, "range": [y0, y1]},
            "zaxis": {**axis, "title": {"text": "f"}, "range": [lo, hi + 0.06 * (hi - lo)]},
            "aspectmode": "manual",
            "aspectratio": {"x": min(ratio, 1.0), "y": min(1 / ratio, 1.0), "z": 0.6},
            "camera": {"eye": {"x": -1.1, "y": -1.3, "z": 1.5}},
        },
        showlegend=False, margin={"l": 0, "r": 0, "t": 0, "b": 0},
        meta={"kind": kind, "z_lo": lo, "z_hi": hi, "lift": 0.03 * (hi - lo)},
    )  # fmt: skip
    return {"data": data, "layout": layout}


def _curvature_view(small: int) -> dict:
    """The static part of the curvature view that follows the race (see :func:`view_figure`)."""
    layout = _base_layout(small, 400, "curvature-follow")
    titles = ("λ₁ — , λ₂ ··· of ∇²f;  2/η - - -", "condition number |λ|max / |λ|min")
    gap, top_share = 0.13, 0.55
    domains = [(1.0 - top_share, 1.0), (0.0, 1.0 - top_share - gap)]
    notes = []
    for row, (title, (lo, hi)) in enumerate(zip(titles, domains, strict=True)):
        suffix = "" if row == 0 else str(row + 1)
        layout[f"xaxis{suffix}"] = {
            "domain": [0.0, 1.0], "anchor": f"y{suffix}", "showline": True, "linecolor": "#444",
            "mirror": True, "showticklabels": row == 1, "automargin": True,
            **({"matches": "x"} if row else {}),
            **({"title": {"text": "step"}} if row == 1 else {}),
        }  # fmt: skip
        layout[f"yaxis{suffix}"] = {
            "domain": [lo, hi], "anchor": f"x{suffix}", "type": "log" if row else "linear",
            "exponentformat": "power", "showline": True, "linecolor": "#444", "mirror": True,
            "nticks": 5, "automargin": True, "zeroline": True, "zerolinecolor": "#999",
        }  # fmt: skip
        notes.append(
            {
                "text": title, "xref": "paper", "yref": "paper", "x": 0.0, "y": hi,
                "xanchor": "left", "yanchor": "bottom", "showarrow": False,
                "font": {"size": small},
            }
        )  # fmt: skip
    layout["annotations"] = notes
    layout["margin"] = {"l": 10, "r": 10, "t": 28, "b": 10}
    layout["showlegend"] = False
    layout["meta"] = {"kind": "curvature"}
    return {"data": [], "layout": layout}


# ---- data fit (noisy linear regression) ------------------------------------------------------


def data_fit_figure(
    surface: surfaces.Surface,
    trajs: Sequence[Trajectory],
    labels: Sequence[str],
    colors: Sequence[str],
    *,
    step: int | None = None,
    projection: bool = False,
) -> go.Figure:
    """The data (xᵢ, yᵢ) and each run's line w·x + b at ``step`` (default: its last valid step),
    with the least-squares line dashed. Only for surfaces whose points are lines through their
    data (``Spec.data_fit == "line"``, e.g. ``noisy_linreg``; ValueError otherwise)."""
    if surface.spec.data_fit != "line":
        valid = ", ".join(n for n in surfaces.NAMES if surfaces.spec(n).data_fit == "line")
        raise ValueError(
            f"data_fit_figure needs a line-fit surface ({valid}), not {surface.name!r}"
        )
    _check_runs(trajs, labels, colors)
    if step is not None and (isinstance(step, bool) or step < 0):
        raise ValueError(f"step must be a whole number ≥ 0, got {step!r}")
    font, line, marker = _sizes(projection)
    x, y = surface.data_x[:, 0], surface.data_y
    x_lo, x_hi = float(x.min()), float(x.max())
    pad = 0.05 * (x_hi - x_lo or 1.0)
    line_x = np.array([x_lo - pad, x_hi + pad])
    fig = go.Figure(
        go.Scatter(
            x=x, y=y, mode="markers", name=f"data (n = {len(y)})",
            marker={"color": "#777", "size": marker * 0.6, "opacity": 0.7},
            hovertemplate="x=%{x:.3g}<br>y=%{y:.3g}<extra></extra>",
        )
    )  # fmt: skip
    if surface.minima:
        w, b = surface.minima[0].x, surface.minima[0].y
        fig.add_trace(
            go.Scatter(
                x=line_x, y=w * line_x + b, mode="lines", name=f"least squares w={w:.3g} b={b:.3g}",
                line={"color": "black", "width": line * 0.6, "dash": "dash"}, hoverinfo="skip",
            )
        )  # fmt: skip
    for traj, label, color in zip(trajs, labels, colors, strict=True):
        row = traj.stopped_at if step is None else min(int(step), traj.stopped_at)
        w, b = traj.xy[row]
        fig.add_trace(
            go.Scatter(
                x=line_x, y=w * line_x + b, mode="lines", name=label, legendgroup=label,
                line={"color": color, "width": line},
                hovertemplate=f"{label}<br>step {row}: w={w:.4g}, b={b:.4g}<extra></extra>",
            )
        )  # fmt: skip
    title = "fitted lines at the last step" if step is None else f"fitted lines at step {step}"
    layout = _base_layout(font, 800 if projection else 480, "fit")
    layout["margin"] = {"l": 10, "r": 10, "t": 90, "b": 10}
    layout["title"] = {"text": title, "x": 0.5, "y": 0.99, "yanchor": "top"}
    layout["legend"]["y"] = 1.0
    fig.update_layout(**layout)
    fig.update_xaxes(title_text="x", showline=True, linecolor="#444")
    fig.update_yaxes(title_text="y", showline=True, linecolor="#444")
    return fig


# ---- results table ---------------------------------------------------------------------------


def results_rows(
    surface: surfaces.Surface,
    trajs: Sequence[Trajectory],
    labels: Sequence[str],
    *,
    tol: float = 1e-3,
) -> list[dict]:
    """One row per run: what happened, final loss, distance to the nearest known minimum
    (None when the surface has none) and the first step within tolerance (None if never):
    f ≤ f* + tol where the minimum f* is known, else ‖∇f‖ ≤ tol (a stationary point; the full,
    noise-free gradient). The loss gap, not ‖∇f‖, where it exists: on a plateau ‖∇f‖ is tiny
    far from the minimum."""
    if len(trajs) != len(labels):
        raise ValueError(f"got {len(trajs)} trajectories but {len(labels)} labels")
    f_star = min((m.value for m in surface.minima), default=None)
    rows = []
    for traj, label in zip(trajs, labels, strict=True):
        xy = traj.valid_xy
        x, y = traj.final
        nearest = surface.nearest_minimum(x, y)
        if f_star is not None:
            reached = traj.valid_loss <= f_star + tol
        else:
            reached = np.linalg.norm(surface.gradient(xy[:, 0], xy[:, 1]), axis=1) <= tol
        hit = np.flatnonzero(reached)
        rows.append(
            {
                "optimizer": label,
                "status": traj.message,
                "final loss": float(traj.valid_loss[-1]),
                "distance to minimum": (
                    None if nearest is None else math.hypot(x - nearest.x, y - nearest.y)
                ),
                "steps to tol": int(hit[0]) if hit.size else None,
            }
        )
    return rows


# ---- line search slice ---------------------------------------------------------------------


def line_search_figure(
    slc: object, color: str, *, projection: bool = False, log_alpha: bool = False,
    height: int = 420,
) -> go.Figure:  # fmt: skip
    """φ(α) = f(θₖ + α pₖ) along the search direction of one step (a
    :class:`optviz.linesearch.LineSearchSlice`), the α's the search tried (numbered in order)
    and the α it took; for backtracking and Wolfe, the sufficient-decrease line
    φ(0) + 10⁻⁴·α·φ′(0)."""
    font, width, marker = _sizes(projection)
    alphas = np.asarray(slc.alphas, float)
    phi = np.asarray(slc.phi, float)
    keep = alphas > 0 if log_alpha else np.ones(alphas.shape, bool)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=alphas[keep], y=_f32(phi[keep]), mode="lines", name="φ(α) = f(θₖ + α pₖ)",
            line={"color": color, "width": width},
            hovertemplate="α = %{x:.6g}<br>φ = %{y:.6g}<extra></extra>",
        )
    )  # fmt: skip
    if slc.mode in ("backtracking", "wolfe"):
        armijo = slc.f0 + 1e-4 * alphas[keep] * slc.slope0
        fig.add_trace(
            go.Scatter(
                x=alphas[keep], y=_f32(armijo), mode="lines", name="φ(0) + 10⁻⁴·α·φ′(0)",
                line={"color": "#777777", "width": max(width * 0.6, 1.0), "dash": "dash"},
                hoverinfo="skip",
            )
        )  # fmt: skip
    trials = np.asarray(slc.trials, float)
    tphi = np.asarray(slc.trial_phi, float)
    if trials.size:
        order = np.arange(1, trials.size + 1)
        show = trials > 0 if log_alpha else np.ones(trials.shape, bool)
        fig.add_trace(
            go.Scatter(
                x=trials[show], y=_f32(tphi[show]), mode="markers", name="trial steps",
                marker={
                    "size": marker * 0.8, "color": order[show], "colorscale": "Greys",
                    "cmin": 0, "cmax": trials.size, "line": {"color": "#333333", "width": 1},
                },
                customdata=order[show],
                hovertemplate="trial %{customdata}: α = %{x:.8g}<br>φ = %{y:.6g}<extra></extra>",
            )
        )  # fmt: skip
    if slc.alpha > 0 or not log_alpha:
        fig.add_trace(
            go.Scatter(
                x=[slc.alpha], y=[slc.taken_phi], mode="markers",
                name=f"α taken = {slc.alpha:.6g}",
                marker={"size": marker * 1.8, "color": color, "symbol": "star",
                        "line": {"color": "#000000", "width": 1}},
                hovertemplate="α taken = %{x:.10g}<br>φ = %{y:.6g}<extra></extra>",
            )
        )  # fmt: skip
    layout = _base_layout(font, height, f"line-search:{slc.mode}:{slc.step}")
    layout["xaxis"] = {"title": {"text": "step length α"}, "type": "log" if log_alpha else "linear"}
    layout["yaxis"] = {"title": {"text": "φ(α) = f(θₖ + α pₖ)"}}
    # y fits φ where the search looked, and any lower point further along the ray.
    near = phi[(alphas <= slc.focus) & np.isfinite(phi)]
    every = phi[np.isfinite(phi)]
    if near.size and every.size:
        lo, hi = float(every.min()), float(near.max())
        pad = 0.06 * (hi - lo) if hi > lo else 0.5 * abs(hi) + 1e-12
        layout["yaxis"]["range"] = [lo - pad, hi + pad]
    layout["margin"] = {"l": 10, "r": 10, "t": 50, "b": 10}
    fig.update_layout(**layout)
    return fig


# ---- lesson mode: the race before Reveal -----------------------------------------------------

LANDMARKS = ("minimum", "saddle point", "start")  # the race traces that say nothing of the runs


def race_start_only(figure: dict, steps: int) -> dict:
    """A :func:`race_figure` spec with every run left out: only the surface, its landmarks
    (minima, saddle points) and the start, for predicting before the runs are revealed.

    Nothing of the outcome stays: no path, head, loss curve, end marker or "diverged at step k"
    note; the loss panel spans the ``steps`` asked for (not the steps the runs took) and a decade
    either side of the start's loss, which it marks. ``figure`` is not modified (it may be a
    cached one: Reveal shows it unchanged).
    """
    data = [
        t for t in figure["data"] if "meta" not in t and t.get("name") in LANDMARKS
    ]  # fmt: skip
    losses = [t for t in figure["data"] if t.get("meta", {}).get("role") == "loss"]
    layout = {**figure["layout"], "annotations": []}
    layout["xaxis2"] = {**layout["xaxis2"], "range": [0, max(int(steps), 1)]}
    if losses:
        first = losses[0]["y"]
        y0 = float(_unpacked(first)[0])
        starts = [t for t in data if t.get("name") == "start"]
        marker = dict(starts[0]["marker"]) if starts else {"color": "white", "size": 12}
        data.append(
            dict(
                type="scatter", x=[0], y=[y0], mode="markers", name="start", showlegend=False,
                marker=marker, cliponaxis=False, xaxis="x2", yaxis="y2",
                hovertemplate="start<br>step 0<br>%{y:.4g}<extra></extra>",
            )
        )  # fmt: skip
        yaxis2 = dict(layout["yaxis2"])
        if yaxis2.get("type") == "log" and y0 > 0:
            centre = math.log10(y0)
            yaxis2["range"] = [centre - 1.0, centre + 1.0]
            yaxis2["dtick"] = 1
        else:
            pad = abs(y0) + 1.0
            yaxis2["range"] = [y0 - pad, y0 + pad]
        layout["yaxis2"] = yaxis2
    return {"data": data, "layout": layout}


def _unpacked(values: object) -> np.ndarray:
    """The inverse of :func:`_packed` (and plain lists as they are)."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values, dtype=float)


# ---- the EMA lesson --------------------------------------------------------------------------


def ema_figure(
    values: np.ndarray,
    curves: Sequence[tuple[str, np.ndarray, str, str, bool]],
    *,
    unit: str = "",
    projection: bool = False,
    height: int | None = None,
) -> go.Figure:
    """A series θ₁…θₙ as grey dots and its exponentially weighted averages as lines.

    ``curves`` are ``(label, V, colour, dash, in_legend)``: V₁…Vₙ aligned with ``values`` (see
    :func:`optviz.ema.ema`), drawn over t = 1…n in that colour and Plotly dash ("solid", "dot");
    a curve not in the legend still names itself on hover.
    """
    font, line, marker = _sizes(projection)
    theta = np.asarray(values, dtype=float)
    t = np.arange(1, theta.size + 1)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=t, y=theta, mode="markers", name="θ (data)",
            marker={"color": "#9a9a9a", "size": marker * 0.45},
            hovertemplate=f"t = %{{x}}<br>θ = %{{y:.4g}} {unit}<extra></extra>",
        )
    )  # fmt: skip
    for label, v, color, dash, in_legend in curves:
        fig.add_trace(
            go.Scatter(
                x=t, y=np.asarray(v, dtype=float), mode="lines", name=label,
                showlegend=bool(in_legend),
                line={"color": color, "width": line * (0.6 if dash != "solid" else 0.9),
                      "dash": dash},
                hovertemplate=f"{label}<br>t = %{{x}}<br>V = %{{y:.4g}} {unit}<extra></extra>",
            )
        )  # fmt: skip
    layout = _base_layout(font, height or (700 if projection else 480), "ema")
    layout["margin"] = {"l": 10, "r": 10, "t": 60, "b": 10}
    fig.update_layout(**layout)
    axis = {"showline": True, "linecolor": "#444", "ticks": "outside", "automargin": True}
    fig.update_xaxes(title_text="t (day)", **axis)
    fig.update_yaxes(title_text=f"θ and V  ({unit})" if unit else "θ and V", **axis)
    return fig


# ---- Polyak averaging --------------------------------------------------------------------------


def polyak_figure(
    surface: surfaces.Surface,
    trajs: Sequence[Trajectory],
    labels: Sequence[str],
    colors: Sequence[str],
    *,
    decay: float = 0.995,
    projection: bool = False,
) -> go.Figure:
    """Each run's path (thin, faded) with its two Polyak averages drawn over the same steps: the
    uniform mean of the iterates (solid) and CS231n's x_test ← decay·x_test + (1 − decay)·x
    (dashed, ``decay`` = 0.995 in the deck), both started at the start point; a dot marks where
    each average ends."""
    from optviz import polyak

    _check_runs(trajs, labels, colors)
    font, line, marker = _sizes(projection)
    fig = go.Figure()
    keep = 1.0 - decay
    for traj, label, color in zip(trajs, labels, colors, strict=True):
        path = _path_trace(traj.valid_xy, label, color, line * 0.5)
        path["opacity"] = 0.45
        fig.add_trace(path)
        last = traj.stopped_at
        for name, avg, dash in (
            ("uniform mean θ̄", polyak.uniform(traj.xy, last)[: last + 1], "solid"),
            (
                f"EMA x_test ← {decay:g}·x_test + {keep:.3g}·x",
                polyak.ema(traj.xy, last, decay)[: last + 1],
                "dash",
            ),
        ):
            trace = _path_trace(avg, f"{label}: {name}", color, line)
            trace["line"]["dash"] = dash
            trace["legendgroup"] = label
            trace["showlegend"] = False  # one legend entry per run; the title says the styles
            fig.add_trace(trace)
            fig.add_trace(
                go.Scatter(
                    x=[avg[-1, 0]], y=[avg[-1, 1]], mode="markers", showlegend=False,
                    legendgroup=label, marker={"color": color, "size": marker, "symbol": (
                        "circle" if dash == "solid" else "diamond")},
                    hovertemplate=f"{label}<br>{name}<br>step {last}: (%{{x:.5g}}, %{{y:.5g}})"
                    "<extra></extra>",
                )
            )  # fmt: skip
    for lm in _landmarks(surface, _starts(trajs), projection):
        fig.add_trace(lm)
    xaxis, yaxis = _contour_axes(surface)
    # Zoomed to where the runs went (the averages are the point of this view), inside the bounds.
    pts = np.concatenate([t.valid_xy for t in trajs]) if trajs else np.zeros((0, 2))
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if len(pts):
        for axis, (lo_b, hi_b), col in (
            (xaxis, surface.bounds[0], 0),
            (yaxis, surface.bounds[1], 1),
        ):
            lo, hi = float(pts[:, col].min()), float(pts[:, col].max())
            pad = max(0.15 * (hi - lo), 0.03 * (hi_b - lo_b))
            axis["range"] = [max(lo - pad, lo_b), min(hi + pad, hi_b)]
    layout = _base_layout(font, 800 if projection else 560, _uirevision(surface, "polyak"))
    layout.update(xaxis=xaxis, yaxis=yaxis, images=[_surface_image(surface, projection)])
    layout["margin"] = {"l": 10, "r": 10, "t": 110, "b": 10}
    layout["title"] = {
        "text": f"faded: path · solid: uniform mean θ̄ · dashed: EMA x_test ← {decay:g}·x_test"
        f" + {keep:.3g}·x",
        "x": 0.0, "xanchor": "left", "y": 0.99, "yanchor": "top", "font": {"size": font},
    }  # fmt: skip
    layout["legend"]["y"] = 1.0
    fig.update_layout(**layout)
    return fig


# ---- step-by-step: one update taken apart (optviz.stepwise) ----------------------------------


def _stepwise_box(dec: stepwise.Decomposition) -> tuple[list[float], list[float]]:
    """A square box around θ_k, θ_{k+1}, the parts of the step and where guides start (so it
    stays put while the sub-steps are stepped through), widened to a second-order model's
    stationary point when that is near. Guides longer than the box are drawn shortened."""
    pts = [dec.theta, dec.theta_next]
    tip = dec.theta.copy()
    for s in dec.substeps:
        if s.kind == "move" and s.vector is not None:
            tip = tip + np.asarray(s.vector)
            pts.append(tip.copy())
        if s.origin is not None:
            pts.append(np.asarray(s.origin))
    p = np.array([q for q in pts if np.isfinite(q).all()])
    lo, hi = p.min(axis=0), p.max(axis=0)
    span = float(max(hi - lo))
    for model in dec.models[:1]:
        H, g = np.asarray(model.H), np.asarray(model.g)
        if np.isfinite(H).all() and np.isfinite(g).all() and np.linalg.det(H) != 0.0:
            centre = dec.theta - np.linalg.solve(H, g)
            if np.isfinite(centre).all() and np.abs(centre - dec.theta).max() < 3.0 * span:
                lo, hi = np.minimum(lo, centre), np.maximum(hi, centre)
    span = float(max(hi - lo)) * 1.5
    if not span > 0:
        span = 1e-3 * (1.0 + float(np.abs(dec.theta).max()))
    mid = (lo + hi) / 2.0
    return [mid[0] - span / 2, mid[0] + span / 2], [mid[1] - span / 2, mid[1] + span / 2]


def _arrow(tail: np.ndarray, tip: np.ndarray, color: str, width: float, text: str = "") -> dict:
    return {
        "x": float(tip[0]), "y": float(tip[1]), "ax": float(tail[0]), "ay": float(tail[1]),
        "xref": "x", "yref": "y", "axref": "x", "ayref": "y", "showarrow": True,
        "arrowhead": 2, "arrowsize": 1.0, "arrowwidth": width, "arrowcolor": color,
        "text": "", "hovertext": text,
    }  # fmt: skip


def _number_note(at: np.ndarray, text: str, color: str, font: int) -> dict:
    return {
        "x": float(at[0]), "y": float(at[1]), "xref": "x", "yref": "y", "text": f"<b>{text}</b>",
        "showarrow": False, "font": {"size": font, "color": color},
        "bgcolor": "rgba(255,255,255,0.9)", "bordercolor": color, "borderwidth": 1,
        "borderpad": 2,
    }  # fmt: skip


def stepwise_figure(
    surface: surfaces.Surface,
    traj: Trajectory,
    dec: stepwise.Decomposition,
    upto: int,
    label: str,
    color: str,
    *,
    projection: bool = False,
) -> go.Figure:
    """Update t = k + 1 of one run, zoomed on θ_k: the sub-steps 0 … ``upto`` of ``dec`` as
    arrows in the run's colour (the parts of the step tip to tail, numbered as the captions;
    guides such as −ηg in grey from θ_k), the path so far, the local contours of f and, for
    second-order methods, the local quadratic model's contour through θ_k (its ellipse when H
    is positive definite), its centre and the Hessian's eigen-directions; quasi-Newton
    methods draw the model of their approximation B and of the true Hessian side by side."""
    font, line, marker = _sizes(projection)
    xr, yr = _stepwise_box(dec)
    n = 80
    gx, gy = np.linspace(*xr, n), np.linspace(*yr, n)
    X, Y = np.meshgrid(gx, gy)
    fig = go.Figure()
    with np.errstate(all="ignore"):
        z = surface.value(X, Y)
    fig.add_trace(
        go.Contour(
            x=gx, y=gy, z=z, ncontours=22, showscale=False, name="f",
            contours={"coloring": "lines"}, colorscale=[[0, "#9a9a9a"], [1, "#9a9a9a"]],
            line={"width": 1}, hoverinfo="skip",
        )
    )  # fmt: skip
    xy = traj.valid_xy
    fig.add_trace(
        go.Scatter(
            x=xy[:, 0], y=xy[:, 1], mode="lines+markers", name="path so far",
            line={"color": color, "width": line * 0.6}, opacity=0.45,
            marker={"size": marker * 0.45, "color": color},
            customdata=np.arange(len(xy)),
            hovertemplate="θ_%{customdata} = (%{x:.5g}, %{y:.5g})<extra></extra>",
        )
    )  # fmt: skip
    notes: list[dict] = []
    for mi, model in enumerate(dec.models):
        H, g = np.asarray(model.H), np.asarray(model.g)
        if not (np.isfinite(H).all() and np.isfinite(g).all()):
            continue
        dX, dY = X - dec.theta[0], Y - dec.theta[1]
        q = (
            g[0] * dX
            + g[1] * dY
            + 0.5 * (H[0, 0] * dX**2 + 2 * H[0, 1] * dX * dY + H[1, 1] * dY**2)
        )
        fig.add_trace(
            go.Contour(
                x=gx, y=gy, z=q, showscale=False, name=model.label, showlegend=True,
                contours={"coloring": "lines", "start": 0.0, "end": 0.0, "size": 1.0},
                colorscale=[[0, color], [1, color]] if mi == 0 else [[0, "#222"], [1, "#222"]],
                line={"width": line * 0.8, "dash": model.dash}, hoverinfo="skip",
            )
        )  # fmt: skip
        det = float(np.linalg.det(H))
        if det != 0.0:
            centre = dec.theta - np.linalg.solve(H, g)
            lam, vecs = state_eig2(H)
            fig.add_trace(
                go.Scatter(
                    x=[centre[0]], y=[centre[1]], mode="markers", showlegend=False,
                    name=f"{model.label}: stationary point",
                    marker={"symbol": "x", "size": marker, "color": color if mi == 0 else "#222"},
                    hovertemplate=f"{model.label}: stationary point θ − H⁻¹g<br>"
                    "(%{x:.5g}, %{y:.5g})<extra></extra>",
                )
            )  # fmt: skip
            if mi == 0:
                half = 0.45 * (xr[1] - xr[0])
                for i in range(2):
                    v = vecs[:, i] * half
                    ends = np.array([centre - v, centre + v])
                    fig.add_trace(
                        go.Scatter(
                            x=ends[:, 0], y=ends[:, 1], mode="lines", showlegend=False,
                            line={"color": "#444", "width": 1.5, "dash": "dashdot"},
                            name=f"q{i + 1}", hoverinfo="skip",
                        )
                    )  # fmt: skip
                    # Inside the box and as far as possible from the step (whose numbered
                    # parts sit on it): labels on the step covered each other (Newton, saddle).
                    path = dec.theta + np.linspace(0.0, 1.0, 9)[:, None] * dec.step
                    inside = [
                        e for f in (0.8, -0.8, 0.55, -0.55, 0.3, -0.3) for e in [centre + f * v]
                        if xr[0] < e[0] < xr[1] and yr[0] < e[1] < yr[1]
                    ] or [centre + 0.8 * v]  # fmt: skip
                    at = max(inside, key=lambda e: np.hypot(*(path - e).T).min())
                    notes.append(_number_note(at, f"q{i + 1}: λ={stepwise.fmt(lam[i])}",
                                              "#333", round(font * 0.75)))  # fmt: skip
    tip = dec.theta.copy()
    for i, s in enumerate(dec.substeps[: upto + 1]):
        current = i == upto
        width = line * (1.0 if current else 0.6)
        if s.guide is not None:
            origin = np.asarray(s.origin if s.origin is not None else dec.theta)
            guide = np.asarray(s.guide)
            longest = 0.45 * (xr[1] - xr[0])
            size = float(np.hypot(*guide))
            short = size > longest
            if short:  # direction kept, length cut to the box; the caption has the numbers
                guide = guide * (longest / size)
            end = origin + guide
            notes.append(_arrow(origin, end, "#555", max(width * 0.7, 1.5), s.caption))
            text = f"{i + 1} (shortened ×{stepwise.fmt(longest / size)})" if short else str(i + 1)
            # Its number short of the tip: a tip at the box's edge would hide it.
            notes.append(_number_note(origin + 0.8 * guide, text, "#555", round(font * 0.85)))
        if "trial_points" in s.values:  # a line search: where it evaluated f along the ray
            pts = np.asarray(s.values["trial_points"], np.float64)
            fig.add_trace(
                go.Scatter(
                    x=pts[:, 0], y=pts[:, 1], mode="markers", name="line-search trials",
                    marker={"size": marker * 0.75, "color": "white", "symbol": "circle",
                            "line": {"color": "#222", "width": 2}},
                    customdata=np.stack([np.arange(1, len(pts) + 1),
                                         np.asarray(s.values["trials"])], axis=1),
                    hovertemplate="trial %{customdata[0]}: α = %{customdata[1]:.6g}"
                    "<extra></extra>",
                )
            )  # fmt: skip
        if s.kind == "move" and s.vector is not None:
            end = tip + np.asarray(s.vector)
            notes.append(_arrow(tip, end, color, width, s.caption))
            notes.append(_number_note((tip + end) / 2, str(i + 1), color, font))
            tip = end
        if s.kind == "step":
            # Under the parts, wider: a dark band the coloured parts lie on (parts collinear
            # with the step would vanish under a line drawn over them).
            band = _arrow(dec.theta, dec.theta_next, "rgba(0,0,0,0.4)", line * 1.9, s.caption)
            notes.insert(0, band | {"arrowhead": 0})  # the parts' heads show the direction
            fig.add_trace(
                go.Scatter(
                    x=[dec.theta_next[0]], y=[dec.theta_next[1]], mode="markers",
                    showlegend=False, name=f"θ_{dec.k + 1}",
                    marker={"size": marker, "color": "white",
                            "line": {"color": color, "width": 3}},
                    hovertemplate=f"θ_{dec.k + 1} = (%{{x:.5g}}, %{{y:.5g}})<extra></extra>",
                )
            )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=[dec.theta[0]], y=[dec.theta[1]], mode="markers", showlegend=False,
            name=f"θ_{dec.k}",
            marker={"size": marker * 1.1, "color": color, "line": {"color": "black", "width": 1.5}},
            hovertemplate=f"θ_{dec.k} = (%{{x:.5g}}, %{{y:.5g}})<extra></extra>",
        )
    )  # fmt: skip
    xname, yname = axis_names(surface)
    layout = _base_layout(font, 860 if projection else 560, f"stepwise:{label}:{dec.k}")
    common = {"showgrid": False, "zeroline": False, "mirror": True, "showline": True,
              "linecolor": "#444", "ticks": "outside", "exponentformat": "power"}  # fmt: skip
    layout.update(
        xaxis={"range": xr, "title": {"text": xname}, "constrain": "domain", **common},
        yaxis={"range": yr, "title": {"text": yname}, "scaleanchor": "x", "scaleratio": 1,
               **common},
        annotations=notes,
        # Two lines: a long run label beside the update cut the title off in a narrow column.
        title={"text": f"update t = {dec.k + 1}, θ_{dec.k} → θ_{dec.k + 1}<br>"
                       f"<span style='font-size:{max(13, round(font * 0.85))}px'>{label}</span>",
               "font": {"size": font}, "x": 0.01},
        margin={"l": 10, "r": 10, "t": 80 if projection else 70, "b": 10},
    )  # fmt: skip
    # Below the plot: a long run label beside the title would overlap it in a narrow column.
    layout["legend"].update(y=-0.12, yanchor="top")
    layout["margin"]["b"] = 60
    fig.update_layout(**layout)
    return fig


# ---- curvature along the paths (optviz.curvature) --------------------------------------------


def curvature_figure(
    surface: surfaces.Surface,
    trajs: Sequence[Trajectory],
    labels: Sequence[str],
    colors: Sequence[str],
    *,
    projection: bool = False,
) -> go.Figure:
    """Top: the Hessian's eigenvalues λ₁ (solid), λ₂ (dotted) at each iterate of each path and
    2/η (dashed, GD's stability edge: λ_max above it makes GD's steepest direction flip sign
    and grow). Bottom: the condition number |λ|max/|λ|min. Log y unless an eigenvalue is ≤ 0."""
    _check_runs(trajs, labels, colors)
    font, line, _ = _sizes(projection)
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
        subplot_titles=("eigenvalues of ∇²f along the path: λ₁ solid, λ₂ dotted; 2/η dashed",
                        "condition number |λ|max / |λ|min"),
    )  # fmt: skip
    for note in fig.layout.annotations:
        note.font = {"size": font}
    width = line * 0.7
    positive = True
    for traj, label, color in zip(trajs, labels, colors, strict=True):
        cv = curvature.path_curvature(surface, traj)
        lam = cv["lam"][: traj.stopped_at + 1]
        positive &= bool(np.nanmin(lam, initial=np.inf) > 0)
        steps = np.arange(len(lam))
        for i, dash in ((0, "solid"), (1, "dot")):
            fig.add_trace(
                go.Scatter(
                    x=steps, y=lam[:, i], mode="lines", name=label, legendgroup=label,
                    showlegend=i == 0, line={"color": color, "width": width, "dash": dash},
                    hovertemplate=f"{label}<br>step %{{x}}<br>λ{i + 1} = %{{y:.4g}}<extra></extra>",
                ),
                row=1, col=1,
            )  # fmt: skip
        edge = cv["edge"][: traj.stopped_at]
        if np.isfinite(edge).any():
            fig.add_trace(
                go.Scatter(
                    x=steps[: len(edge)], y=edge, mode="lines", name=f"{label}: 2/η",
                    legendgroup=label, showlegend=False,
                    line={"color": color, "width": width * 0.8, "dash": "dash"},
                    hovertemplate=f"{label}<br>step %{{x}}<br>2/η = %{{y:.4g}}<extra></extra>",
                ),
                row=1, col=1,
            )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=steps, y=_positive(cv["cond"][: traj.stopped_at + 1]), mode="lines",
                name=label, legendgroup=label, showlegend=False,
                line={"color": color, "width": width},
                hovertemplate=f"{label}<br>step %{{x}}<br>κ = %{{y:.4g}}<extra></extra>",
            ),
            row=2, col=1,
        )  # fmt: skip
    if positive:
        fig.update_yaxes(type="log", exponentformat="power", row=1, col=1)
    fig.update_yaxes(type="log", exponentformat="power", row=2, col=1)
    fig.update_yaxes(showline=True, linecolor="#444")
    fig.update_xaxes(showline=True, linecolor="#444")
    fig.update_xaxes(title_text="step", row=2, col=1)
    layout = _base_layout(font, 800 if projection else 560, "curvature")
    layout["margin"] = {"l": 10, "r": 10, "t": 90, "b": 10}
    layout["legend"]["y"] = 1.06
    fig.update_layout(**layout)
    return fig


def quadratic_stability_figure(
    lam: Sequence[float],
    traj: Trajectory,
    label: str,
    color: str,
    *,
    projection: bool = False,
) -> go.Figure:
    """On a quadratic with Hessian eigenvalues ``lam``: left, GD's factor |1 − ηλᵢ| per
    eigendirection against η (the run's η marked; above 1 diverges); right, the momentum
    stability region in (η, β) (spectral radius of the recurrence < 1, for the run's form) with
    the run's (η, β) on it, when its dynamics is heavy ball or Nesterov."""
    font, line, marker = _sizes(projection)
    lam = np.sort(np.asarray(lam, np.float64))[::-1]
    run = curvature.run_momentum(traj)
    lr_run = float(traj.config.get("lr", np.nan))
    fig = make_subplots(
        rows=1, cols=2, horizontal_spacing=0.12,
        subplot_titles=("GD per eigendirection: |1 − ηλᵢ|",
                        "momentum: converges where spectral radius < 1"),
    )  # fmt: skip
    for note in fig.layout.annotations:
        note.font = {"size": font}
    lo = 1e-2 / lam[0]
    hi = 10.0 / lam[-1] if lam[-1] > 0 else 100.0 / lam[0]
    etas = np.geomspace(lo, hi, 400)
    factors = curvature.gd_factors(lam, etas)
    for i in range(len(lam)):
        fig.add_trace(
            go.Scatter(
                x=etas, y=factors[:, i], mode="lines", name=f"λ{i + 1} = {stepwise.fmt(lam[i])}",
                line={"color": ("#333", "#888")[min(i, 1)], "width": line * 0.7,
                      "dash": ("solid", "dot")[min(i, 1)]},
                hovertemplate=f"η = %{{x:.4g}}<br>|1 − ηλ{i + 1}| = %{{y:.4g}}<extra></extra>",
            ),
            row=1, col=1,
        )  # fmt: skip
    fig.add_hline(y=1.0, line={"color": "#b00", "width": 1.5, "dash": "dash"}, row=1, col=1)
    fig.add_vline(
        x=2.0 / lam[0], line={"color": "#b00", "width": 1, "dash": "dot"}, row=1, col=1,
        annotation_text="η = 2/λ_max", annotation_font_size=round(font * 0.75),
    )  # fmt: skip
    if np.isfinite(lr_run) and lr_run > 0:
        f_run = curvature.gd_factors(lam, lr_run)
        fig.add_trace(
            go.Scatter(
                x=[lr_run] * len(lam), y=f_run, mode="markers", name=f"{label}: η",
                marker={"color": color, "size": marker, "line": {"color": "black", "width": 1}},
                hovertemplate="η = %{x:.4g}<br>factor %{y:.4g}<extra></extra>",
            ),
            row=1, col=1,
        )  # fmt: skip
    fig.update_xaxes(type="log", exponentformat="power", title_text="η", row=1, col=1)
    fig.update_yaxes(range=[0, 2.5], title_text="factor per step", row=1, col=1)
    form = run[2] if run else ("nesterov" if traj.optimizer == "nesterov" else "heavy_ball")
    betas = np.linspace(0.0, 0.99, 120)
    etas2 = np.geomspace(lo, 40.0 / lam[0], 160)
    rho = curvature.stability_region(lam, etas2, betas, form)
    fig.add_trace(
        go.Heatmap(
            x=etas2, y=betas, z=np.clip(rho, 0.0, 2.0), zmin=0.0, zmax=2.0,
            colorscale=[[0, "#2166ac"], [0.5, "#f7f7f7"], [1, "#b2182b"]],
            colorbar={"title": {"text": "ρ"}, "len": 0.8, "x": 1.02},
            hovertemplate="η = %{x:.4g}<br>β = %{y:.3f}<br>ρ = %{z:.3f}<extra></extra>",
            name="spectral radius",
        ),
        row=1, col=2,
    )  # fmt: skip
    fig.add_trace(
        go.Contour(
            x=etas2, y=betas, z=rho, showscale=False, hoverinfo="skip", name="ρ = 1",
            contours={"coloring": "lines", "start": 1.0, "end": 1.0, "size": 1.0},
            colorscale=[[0, "#111"], [1, "#111"]], line={"width": 2},
        ),
        row=1, col=2,
    )  # fmt: skip
    if run is not None:
        fig.add_trace(
            go.Scatter(
                x=[run[0]], y=[run[1]], mode="markers", name=f"{label}: (η, β)",
                marker={"symbol": "star", "size": marker * 1.6, "color": color,
                        "line": {"color": "black", "width": 1.5}},
                hovertemplate="η = %{x:.4g}, β = %{y:.3f}<extra></extra>",
            ),
            row=1, col=2,
        )  # fmt: skip
    fig.update_xaxes(type="log", exponentformat="power", title_text="η", row=1, col=2)
    fig.update_yaxes(title_text="β (momentum)", range=[0, 0.99], row=1, col=2)
    layout = _base_layout(font, 620 if projection else 440, "quadratic-stability")
    layout["margin"] = {"l": 10, "r": 10, "t": 80, "b": 10}
    layout["legend"]["y"] = 1.12
    fig.update_layout(**layout)
    return fig
