"""One look for every view: run colours, contour levels and the rendered surface background.

The app's Plotly figures and the GIF/MP4 export both take their colours, contour levels and the
filled-contour background image from here, so a slide looks like the screen.
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np

import surfaces

# Okabe & Ito (2008), colour-blind safe; yellow last, since it is faint on a light background.
OKABE_ITO = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)
# Screen palette: Okabe–Ito too (one colour per run everywhere), darker black replaced by grey.
SCREEN = OKABE_ITO[:6] + ("#555555", "#B8A200")

BACKGROUND_CMAP = "Greys"  # light surface so coloured paths stand out, also on a projector
LINE_WIDTH = {False: 2.5, True: 5.0}  # normal, projection
MARKER_SIZE = {False: 10, True: 18}
FONT_SIZE = {False: 14, True: 24}


def run_colors(n: int, projection: bool = False) -> list[str]:
    """Colour of run i (i < n): the same in every chart and in the export."""
    pal = OKABE_ITO if projection else SCREEN
    return [pal[i % len(pal)] for i in range(n)]


def contour_levels(z: np.ndarray, n: int = 24) -> np.ndarray:
    """Increasing contour levels that resolve both the valley floor and the walls.

    Levels are spaced geometrically above the minimum of ``z`` (up to its 98th percentile), so
    a ravine or a plateau still shows structure where a linear spacing would show one colour.
    """
    finite = z[np.isfinite(z)]
    lo = float(finite.min())
    hi = float(np.percentile(finite, 98))
    span = max(hi - lo, 1e-12)
    return lo + span * np.geomspace(1e-4, 1.0, n)


@lru_cache(maxsize=64)
def _surface_png(name: str, params: tuple, width: int, height: int, resolution: int) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    surf = surfaces.get(name, **dict(params))
    xs, ys, z = surf.grid(resolution)
    levels = contour_levels(z)
    fig = Figure(figsize=(width / 100, height / 100), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    # Drawn in units of the levels' span: matplotlib pads an extended range by ±1e250, which
    # vanishes beside values above ~1e266 (a typed exp(exp(x² + y²))) and then refuses the levels.
    lo, span = levels[0], levels[-1] - levels[0]
    zc = (np.clip(z, levels[0], levels[-1]) - lo) / span
    levels = (levels - lo) / span
    ax.contourf(xs, ys, zc, levels=levels, cmap=BACKGROUND_CMAP, alpha=0.55, extend="both")
    ax.contour(xs, ys, zc, levels=levels, colors="#444444", linewidths=0.6, alpha=0.6)
    (x0, x1), (y0, y1) = surf.bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def surface_png(surf: surfaces.Surface, width: int = 800, height: int = 800) -> bytes:
    """PNG of the filled contours exactly covering ``surf.bounds`` (no axes, no margins).

    Cached per surface and size: the static background is drawn once, only paths move.
    """
    resolution = int(min(max(width, height), 400))
    if surf.spec.data_surface:
        # Each value sums over every data point: 120² points keep the first draw under ~1 s.
        resolution = min(resolution, 120)
    return _surface_png(surf.name, tuple(sorted(surf.params.items())), width, height, resolution)
