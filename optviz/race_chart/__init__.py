"""The race chart: a Streamlit component that draws and plays :func:`optviz.figures.race_figure`.

``st.plotly_chart`` ships an animation as Plotly frames and redraws the whole animated figure on
every rerun: ~0.5 MB and ~0.3 s of browser work per slider move for 4 runs × 1000 steps. This
component receives the plain figure; its page (``frontend/race.js``) draws the runs on a canvas
under Plotly's axes and plays the race itself: play / pause, three speeds and a scrubber over
every step. While "pick" is on, a click on the contour panel returns that point.

The chart lays itself out from the browser window (explicit Plotly sizes, refitted when the
window or the page above it changes): a square trajectory panel at 1:1, the legend, loss
panel and a view that follows the race (dynamics, gradient field or 3-D) beside it. Keys
pressed anywhere on the page drive it (its page listens on the parent document, same origin):
space, ←/→, Home/End, a (arrows), s (state glyphs), p (projection mode), f (full screen),
? (help).

What the chart draws besides the paths travels only while it is shown
(:mod:`optviz.race_data`): the state glyphs (momentum arrow, per-coordinate step-size bars)
after the page asks for them (its "state" button sends ``{"glyphs": bool, "id"}``), the
eigenvalues along the paths while the "curvature" view follows the race.

The surface image (~150 kB) and the static part of the view travel once per session and
surface, not on every move: the figure refers to them by id, and a page that does not hold
one (a reloaded frame) asks for it.

The frontend is two hand-written files speaking Streamlit's component protocol, so there is no
build step; Plotly.js is the copy inside the installed plotly package, so the browser draws
with the plotly.js version the Python side writes for. Streamlit serves a component from one
folder: those files are assembled into a temporary folder named by their hash.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import plotly
import streamlit as st
import streamlit.components.v1 as components

import surfaces
from optviz import race_data
from optviz.engine import Trajectory

FRONTEND = Path(__file__).parent / "frontend"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
IMAGE_REF = "optviz-image:"  # an image source that names an image the page holds


def served_folder() -> Path:
    """The folder Streamlit serves the component from: ``frontend/`` plus plotly.min.js."""
    sources = sorted(FRONTEND.iterdir())
    digest = hashlib.sha256(plotly.__version__.encode())
    for path in sources:
        digest.update(path.name.encode() + path.read_bytes())
    target = Path(tempfile.gettempdir()) / f"optviz-race-{digest.hexdigest()[:16]}"
    if not (target / PLOTLY_JS.name).is_file():
        staging = Path(tempfile.mkdtemp(prefix="optviz-race-staging-"))
        for path in sources:
            shutil.copyfile(path, staging / path.name)
        shutil.copyfile(PLOTLY_JS, staging / PLOTLY_JS.name)  # last: it marks the folder whole
        try:
            staging.rename(target)
        except OSError:  # another server process assembled it first
            shutil.rmtree(staging, ignore_errors=True)
    return target


_component = components.declare_component("race_chart", path=str(served_folder()))


def _plain(value: object) -> object:
    """NumPy arrays and scalars in the figure, as JSON."""
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _ident(source: str) -> str:
    return hashlib.sha1(source.encode()).hexdigest()[:16]


_VIEW_JSON: dict[int, tuple[dict, str]] = {}


def _view_json(view: dict) -> str:
    """``view`` as JSON, remembered for the (cached, so long-lived) dict it was made from: the
    static view is the same object on every slider move, and ~200 kB to serialise."""
    known = _VIEW_JSON.get(id(view))
    if known is None or known[0] is not view:
        if len(_VIEW_JSON) > 32:
            _VIEW_JSON.clear()
        images = [
            {**image, "source": IMAGE_REF + _ident(image["source"])}
            for image in view["layout"].get("images", [])
        ]
        plain = {**view, "layout": {**view["layout"], "images": images}}
        text = json.dumps(plain, separators=(",", ":"), default=_plain)
        known = _VIEW_JSON[id(view)] = (view, text)
    return known[1]


def _by_reference(figure: dict, view: dict | None, key: str) -> tuple[dict, str | None, dict]:
    """``figure`` with its layout images as references, the view's reference, and the assets
    (images, view JSON) this session's page has not been sent yet (or asked for again), by id."""
    ss = st.session_state
    sent = ss.setdefault(f"{key}.images_sent", set())
    asked = ss.get(key)
    if (
        isinstance(asked, dict)
        and "need_image" in asked
        and asked.get("id") != ss.get(f"{key}.asked")
    ):
        ss[f"{key}.asked"] = asked.get("id")
        sent.discard(asked["need_image"])
    new = {}

    def ref(source: str) -> str:
        ident = _ident(source)
        if ident not in sent:
            new[ident] = source
            sent.add(ident)
        return ident

    refs = [
        {**image, "source": IMAGE_REF + ref(image["source"])}
        for image in figure["layout"].get("images", [])
    ]
    view_ref = None
    if view is not None:
        for image in view["layout"].get("images", []):
            ref(image["source"])  # the view names it by reference (see _view_json)
        view_ref = ref(_view_json(view))
    return {**figure, "layout": {**figure["layout"], "images": refs}}, view_ref, new


_EXTRAS: dict[tuple, tuple[list, str]] = {}


def glyphs_on(key: str) -> bool:
    """Whether the page asked for the state glyphs (its last word on them, kept per session)."""
    ss = st.session_state
    asked = ss.get(key)
    if isinstance(asked, dict) and "glyphs" in asked and asked.get("id") != ss.get(f"{key}.gid"):
        ss[f"{key}.gid"] = asked.get("id")
        ss[f"{key}.glyphs"] = bool(asked["glyphs"])
    return bool(ss.get(f"{key}.glyphs", False))


def _has_runs(figure: dict) -> bool:
    return any(t.get("meta", {}).get("role") == "path" for t in figure["data"])


def _extras(
    figure: dict,
    runs: Sequence[Trajectory] | None,
    surface: surfaces.Surface | None,
    state: bool,
    curvature: bool,
) -> str | None:
    """The JSON of :func:`optviz.race_data.race_extras` for these runs, remembered for the
    (cached, so long-lived) trajectory objects; None when nothing extra is shown or the figure
    hides its runs (lesson mode before Reveal)."""
    if not runs or surface is None or not (state or curvature) or not _has_runs(figure):
        return None
    key = (tuple(id(t) for t in runs), surface.name, tuple(sorted(surface.params.items())),
           state, curvature)  # fmt: skip
    known = _EXTRAS.get(key)
    if known is None or any(a is not b for a, b in zip(known[0], runs, strict=True)):
        if len(_EXTRAS) > 32:
            _EXTRAS.clear()
        data = race_data.race_extras(surface, runs, state=state, curvature_view=curvature)
        text = json.dumps({"state": state, "curvature": curvature, "runs": data},
                          separators=(",", ":"), default=_plain)  # fmt: skip
        known = _EXTRAS[key] = (list(runs), text)
    return known[1]


def race_chart(
    figure: dict,
    *,
    key: str,
    pick: bool = False,
    font_size: int = 16,
    projection: bool = False,
    view: dict | None = None,
    view_name: str | None = None,
    views: dict[str, str] | None = None,
    runs: Sequence[Trajectory] | None = None,
    surface: surfaces.Surface | None = None,
) -> dict | None:
    """Draw ``figure`` (a :func:`optviz.figures.race_figure` spec) with its play controls.

    The chart sizes itself from the browser window (the page can measure the screen, the
    server cannot): the trajectory panel is the largest square that fits below the legend and
    the play bar, with the loss panel and the view beside it (or under it on a narrow page).
    ``view`` is the static part of the view that follows the race
    (:func:`optviz.figures.view_figure`) named ``view_name``; ``views`` names the views its tabs
    offer ({name: title}). ``projection`` gives the page's keyboard shortcut ``p`` its meaning.

    Returns the component's value: after a click on the contour panel while ``pick`` was on,
    ``{"x", "y", "id"}`` (``id`` differs per click); after a click on a view tab,
    ``{"view": name, "id"}``; after the state button, ``{"glyphs": bool, "id"}``; None before
    any. ``font_size`` sizes the controls.

    ``runs`` (the figure's trajectories, in its order) and their ``surface`` let the chart show
    the state glyphs and the curvature view (:mod:`optviz.race_data`); without them it shows
    neither.
    """
    glyphs = glyphs_on(key)
    extras = _extras(figure, runs, surface, glyphs, view_name == "curvature")
    figure, view_ref, assets = _by_reference(figure, view, key)
    return _component(
        figure=json.dumps(figure, separators=(",", ":"), default=_plain),
        images=assets,
        view_ref=view_ref,
        view_name=view_name,
        views=views or {},
        pick=pick,
        font_size=font_size,
        projection=projection,
        glyphs=glyphs,
        extras=extras,
        key=key,
        default=None,
    )
