"""optviz: the Streamlit app a lecturer projects in class.

Layout and widgets only. Widgets fill a plain :class:`optviz.config.Comparison`; the engine
(:func:`optviz.config.run_comparison`, cached), the figure builders (:mod:`optviz.figures`) and
the exporters (:mod:`optviz.export`) do the work. The comparison is mirrored to the URL query
string, so a copied link reopens exactly the same view.

Widget keys are the state: ``surface``, ``sp.<surface>.<param>``, ``start_x``/``start_y``,
``steps``, ``seed``, ``proj``, ``link`` and, for run slot i, ``o<i>.opt``, ``o<i>.<option>``,
``o<i>.sched`` and ``o<i>.sched.<schedule>.<param>``. :mod:`optviz.widget_state` (pure) is the
one codec between those keys and a Comparison: :func:`read_state` and :func:`write_state` (used
by presets and the permalink) wrap it, and the add/remove buttons edit its run slots. Every word
shown comes from :mod:`optviz.labels`.
"""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Callable
from dataclasses import replace

import streamlit as st

import optviz
import surfaces
from optviz import (
    config,
    export,
    export_queue,
    figures,
    labels,
    optimizers,
    presets,
    schedules,
    style,
    tuned,
)
from optviz import widget_state as ws
from optviz.app import (
    curvature_view,
    ema_page,
    formula_input,
    lesson,
    line_search_view,
    lr_notes,
    polyak_view,
    replica,
    stepwise_view,
)
from optviz.config import Comparison, RunSpec
from optviz.race_chart import race_chart

RACE_KEY = "race"
RUN_KEY = "run"  # which run slot the optimizers panel shows
MAX_UI_STEPS = config.MAX_STEPS

# Round log-spaced stops for η (1, 2, 5 × 10ᵏ) and ε (10ᵏ), each with a box that takes an
# exact value (kept exactly, added to the slider's stops); β sliders get the values people use.
LR_VALUES = tuned.STOPS
EPS_VALUES = (0.0,) + tuple(10.0**e for e in range(-12, 1))
BETA_VALUES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98)
BETA_VALUES += (0.99, 0.995, 0.999, 0.9995, 0.9999)
SLIDER_VALUES = {"lr": LR_VALUES, "beta1": BETA_VALUES, "beta2": BETA_VALUES, "eps": EPS_VALUES}
TYPED = {"lr", "eps"}  # hyperparameters with a box for an exact value beside their slider
EXPORT_TAILS = {"full": "whole path", "fade": "fading tail"}
EXPORT_SIZES = ("800×600", "1280×720", "1920×1080")
EXPORT_FORMATS = {
    "GIF": ("gif", "image/gif"),
    "MP4": ("mp4", "video/mp4"),
    "PNG": ("png", "image/png"),
    "CSV": ("csv", "text/csv"),
    "JSON": ("json", "application/json"),
}

# Projection mode: the race fills the window; the sidebar and the optimizers panel become
# drawers over the page (a slim labelled strip at each edge that opens on hover or keyboard
# focus), so opening one never resizes the race.
PROJECTION_CSS = """
<style>
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stSidebarCollapseButton"], [data-testid="stExpandSidebarButton"],
[data-testid="stSidebarCollapsedControl"], [data-testid="stStatusWidget"], footer {
  display: none !important;
}
.block-container { padding: 0.3rem 34px 0.5rem 34px !important; max-width: none !important; }
section[data-testid="stSidebar"] {
  position: fixed !important; left: 0; top: 0; bottom: 0; height: 100vh !important;
  z-index: 999990; width: 420px !important; min-width: 420px !important;
  max-width: 90vw !important; transform: translateX(calc(-100% + 26px)) !important;
  transition: transform 0.15s; box-shadow: 2px 0 14px rgba(0, 0, 0, 0.3);
}
section[data-testid="stSidebar"]:hover, section[data-testid="stSidebar"]:focus-within {
  transform: none !important;
}
section[data-testid="stSidebar"]::after {
  content: "settings ⚙"; position: absolute; right: 0; top: 0; bottom: 0; width: 26px;
  writing-mode: vertical-rl; text-align: center; font: 600 15px Arial, sans-serif;
  color: #333; background: #e8e8e8; padding-top: 40vh; pointer-events: none;
}
section[data-testid="stSidebar"]:hover::after,
section[data-testid="stSidebar"]:focus-within::after { display: none; }
[data-testid="stColumn"]:has(.st-key-runs_panel) {
  flex: 0 0 0px !important; width: 0 !important; min-width: 0 !important;
}
.st-key-runs_panel {
  position: fixed !important; right: 0; top: 0; bottom: 0; width: 420px !important;
  max-width: 90vw; z-index: 999989; background: white; overflow-y: auto;
  padding: 1rem 1rem 1rem 40px; transform: translateX(calc(100% - 26px));
  transition: transform 0.15s; box-shadow: -2px 0 14px rgba(0, 0, 0, 0.3);
}
.st-key-runs_panel:hover, .st-key-runs_panel:focus-within { transform: none; }
.st-key-runs_panel::before {
  content: "optimizers ⚙"; position: absolute; left: 0; top: 0; bottom: 0; width: 26px;
  writing-mode: vertical-rl; text-align: center; font: 600 15px Arial, sans-serif;
  color: #333; background: #e8e8e8; padding-top: 40vh; z-index: 1;
}
.stApp, .stMarkdown p, .stMarkdown li, .stCaption, label { font-size: 1.3rem !important; }
[data-testid="stSidebar"] label p, [data-testid="stSidebar"] .stMarkdown p,
.st-key-runs_panel label p, .st-key-runs_panel .stMarkdown p,
[data-testid="stButtonGroup"] button p { font-size: 1.15rem !important; }
</style>
"""
NORMAL_CSS = """
<style>
.block-container { padding: 1.2rem 1.5rem 1rem 1.5rem !important; max-width: none !important; }
section[data-testid="stSidebar"] { width: 340px !important; }
@media (max-width: 1500px) { section[data-testid="stSidebar"] { width: 270px !important; } }
.st-key-app_header p { margin: 0 0 0.1rem 0; line-height: 1.3; }
.st-key-app_header h1 { font-size: 1.5rem !important; padding: 0 !important; margin: 0; }
</style>
"""


# ---- engine and figures, cached ---------------------------------------------------------------


@st.cache_resource(max_entries=1, show_spinner="Loading the compiled optimizer kernels…")
def warm_up() -> bool:
    """Load (or compile) every kernel once per server, before the first interaction."""
    optviz.warm()
    return True


@st.cache_resource(max_entries=1, show_spinner=False)
def freeze_start_up_heap() -> bool:
    """Take what starting up allocated out of the garbage collector's sight, once per server.

    The modules, compiled kernels and the first page make a large heap; a full collection of
    it took 150–200 ms and came about once per slider move, stalling the reply by as much.
    Frozen, those objects are never scanned again; newer ones are collected as usual.
    """
    gc.freeze()
    return True


def normalized(c: Comparison) -> Comparison:
    """``c`` with options equal to their defaults dropped, so equal setups compare equal."""
    runs = []
    for run in c.runs:
        defaults = optimizers.get(run.optimizer).defaults
        options = {k: v for k, v in run.resolved.items() if v != defaults[k]}
        schedule = run.schedule if run.schedule and run.schedule["name"] != "constant" else None
        runs.append(RunSpec(run.optimizer, options, schedule))
    surf = c.surface_obj()
    start = None if c.start is None or tuple(c.start) == surf.start else c.start
    accepted = surfaces.all_params(surf.spec)
    sp = {
        k: v for k, v in c.surface_params.items() if k not in accepted or v != accepted[k].default
    }
    return replace(
        c, surface_params=sp, start=start, runs=tuple(runs), projection=False, linked=False,
        lesson=False, question=None,
    )  # fmt: skip


def query_key(c: Comparison) -> tuple[tuple[str, str], ...]:
    """A hashable plain form of a comparison (its normalized permalink, without projection)."""
    return tuple(sorted(config.to_query(normalized(c)).items()))


# The caches' keys are query_key tuples of string pairs: hashed as their repr, one string
# (0.02 ms), instead of Streamlit walking every pair (0.2-0.4 ms), twice per slider move.
KEY_HASH = {tuple: repr}


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False, hash_funcs=KEY_HASH)
def cached_runs(key: tuple[tuple[str, str], ...], _c: Comparison) -> list[optviz.Trajectory]:
    """``run_comparison(_c)``, cached on ``key`` (the comparison's query string)."""
    return config.run_comparison(_c)


@st.cache_resource(max_entries=32, ttl=3600, show_spinner=False, hash_funcs=KEY_HASH)
def cached_race_figure(
    key: tuple, _c: Comparison, _trajs: list, projection: bool, height: int, pick: bool
) -> dict:
    """The race figure, built once per comparison, styling and click mode."""
    surf = _c.surface_obj()
    colors = style.run_colors(len(_c.runs), projection)
    return figures.race_figure(
        surf,
        _trajs,
        run_labels(_c),
        colors,
        projection=projection,
        height=height or None,
        pick=pick,
    )


def run_labels(c: Comparison) -> list[str]:
    """Legend text per run, as every export writes it (:func:`optviz.labels.run_labels`)."""
    return labels.run_labels(c.runs)


# ---- state: comparison <-> widget keys (the codec is optviz.widget_state) ----------------------


def _sp_key(surface: str, name: str) -> str:
    return f"sp.{surface}.{name}"


def _values() -> dict:
    """The widget state as a plain dict (what :mod:`optviz.widget_state` reads)."""
    ss = st.session_state
    return {key: ss[key] for key in ss.keys() if isinstance(key, str)}


def _apply(updates: dict, deleted: tuple | list = ()) -> None:
    ss = st.session_state
    for key in deleted:
        ss.pop(key, None)
    for key, value in updates.items():
        ss[key] = value


def write_state(c: Comparison) -> None:
    """Write ``c`` into the widget keys (before the widgets are drawn)."""
    _apply(ws.to_widgets(c))
    st.session_state[RUN_KEY] = 0
    st.session_state.pop("lr_note", None)
    lesson.write(c)
    if c.linked:
        on_link()


def read_state() -> tuple[Comparison, list[str]]:
    """The comparison the widgets describe, and a message for every value that was ignored."""
    read = ws.from_widgets(_values())
    return lesson.read(read.comparison), list(read.messages)


# ---- callbacks (run before the script, so they may write widget keys) -------------------------


def on_preset() -> None:
    name = st.session_state.get("preset")
    if not name:
        return
    # A preset's runs have their own hyperparameters: linked sliders would replace them.
    comparison = replace(
        presets.get(name).comparison, projection=st.session_state["proj"],
        lesson=bool(st.session_state.get(lesson.LESSON_KEY)), question=lesson.question_for(name),
    )  # fmt: skip
    write_state(comparison)
    st.session_state["loaded_preset"] = name
    st.session_state["notices"] = []


def _default_start() -> tuple[float, float]:
    """The default start of the surface the widgets describe (its defaults if they are bad)."""
    return ws.default_start(_values()) or surfaces.get(st.session_state["surface"]).start


def on_surface() -> None:
    """A new surface: the start moves to its default; the runs keep their η, which may not suit
    it (GD's 0.038 from the ravine diverges on Rosenbrock), so a note offers tuned values."""
    ss = st.session_state
    ss["start_x"], ss["start_y"] = _default_start()
    ss["lr_note"] = {"kind": "surface", "surface": ss["surface"], "runs": lr_notes.slot_lrs()}


def on_surface_param() -> None:
    """A start left at its default follows the default (e.g. when the true w of the regression
    moves the plot); a start the user chose stays."""
    ss = st.session_state
    if (ss["start_x"], ss["start_y"]) == ss.get("drawn_default_start"):
        ss["start_x"], ss["start_y"] = _default_start()


def on_optimizer(i: int) -> None:
    """A slot switched optimizer: its sliders take that optimizer's defaults, and a note says
    so (with the η it had, and a tuned one for this surface)."""
    ss = st.session_state
    name = ss[f"o{i}.opt"]
    old_lr = ss.get(f"o{i}.lr")
    _apply(ws.run_widgets(i, RunSpec(name)))
    ss["lr_note"] = {
        "kind": "optimizer",
        "slot": i,
        "optimizer": name,
        "old_lr": old_lr,
        "lr": ss.get(f"o{i}.lr"),
    }


def on_add() -> None:
    updates = ws.add_slot(_values())
    if updates:
        _apply(updates)
        st.session_state[RUN_KEY] = updates["n_runs"] - 1


def on_remove(i: int) -> None:
    """Remove run slot i (whether or not it can run): the later slots move down one place."""
    updates, deleted = ws.remove_slot(_values(), i)
    _apply(updates, deleted)
    st.session_state[RUN_KEY] = max(i - 1, 0)
    st.session_state.pop("lr_note", None)


def on_link() -> None:
    """Linking starts from the values of the first run that has each hyperparameter."""
    _apply(ws.linked_values(_values()))


def apply_click() -> bool:
    """A click on the contour while picking sets the start point (once per click).

    The race chart's value is the last click, ``{"x", "y", "id"}``; returns whether the start
    moved.
    """
    ss = st.session_state
    click = ss.get(RACE_KEY)
    if not (ss.get("pick") and isinstance(click, dict) and "x" in click):
        return False
    if click.get("id") == ss.get("click_seen"):
        return False
    ss["click_seen"] = click.get("id")
    try:
        x, y = float(click["x"]), float(click["y"])
    except (KeyError, TypeError, ValueError):
        return False
    if not (math.isfinite(x) and math.isfinite(y)):
        return False
    ss["start_x"], ss["start_y"] = x, y
    return True


# ---- URL -------------------------------------------------------------------------------------


def load_url_once() -> None:
    """On a session's first run, the query string decides the comparison (or the defaults)."""
    ss = st.session_state
    if ss.get("url_loaded"):
        return
    raw = {key: st.query_params.get_all(key) for key in st.query_params}
    comparison, notices = config.from_query(raw) if raw else (Comparison(), [])
    write_state(comparison)
    ss["notices"] = notices
    ss["url_loaded"] = True


def sync_url(c: Comparison) -> None:
    query = config.to_query(c)
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


# ---- sidebar ---------------------------------------------------------------------------------


SIDEBAR_KEPT = re.compile(r"^sp\.")  # other surfaces' parameters
PANEL_KEPT = re.compile(r"^(link\.|o\d+\.(?!remove$))")  # linked sliders, runs in closed tabs


def _keep_widget_state(kept: re.Pattern) -> None:
    """Keep the values of the widgets matching ``kept`` that are not drawn in this run.

    Called before those widgets are drawn: the sidebar's at the top of the script, the race
    panel's at the top of the panel (which may rerun alone).
    """
    ss = st.session_state
    for key in list(ss.keys()):
        if isinstance(key, str) and kept.match(key):
            ss[key] = ss[key]


def _from_box(key: str, box: str) -> None:
    """A value typed in a hyperparameter's box becomes the slider's value, exactly."""
    st.session_state[key] = float(st.session_state[box])


def hyper_slider(key: str, name: str) -> None:
    """A select-slider over round log-spaced stops; the current value is always a stop. η and
    ε also get a box that takes an exact value (the two stay in sync)."""
    ss = st.session_state
    current = float(ss[key])
    values = SLIDER_VALUES[name]
    if current not in values:
        values = tuple(sorted((*values, current)))
    label = labels.option(name)
    if name not in TYPED:
        st.select_slider(label, options=values, key=key, format_func=labels.number)
        return
    box = f"{key}.typed"
    ss[box] = current  # the slider's value is the state; the box shows it
    rng = optimizers.FLOAT_OPTIONS[name][1]
    slider_col, box_col = st.columns([3, 2], vertical_alignment="bottom")
    with slider_col:
        st.select_slider(label, options=values, key=key, format_func=labels.number)
    with box_col:
        st.number_input(
            f"exact {labels.symbol(name)}", min_value=float(rng.low), max_value=float(rng.high),
            step=None, format="%g", key=box, on_change=_from_box, args=(key, box),
            help=f"Type an exact {labels.symbol(name)}; the slider takes it as a stop.",
        )  # fmt: skip


def _number(
    key: str,
    label: str,
    low: float,
    high: float,
    integer: bool,
    step: float,
    on_change: Callable[[], None] | None = None,
) -> None:
    if integer:
        st.number_input(
            label, min_value=int(low), max_value=int(high), step=1, key=key, on_change=on_change
        )
    else:
        st.number_input(
            label, min_value=float(low), max_value=float(high), step=step, format="%g", key=key,
            on_change=on_change,
        )  # fmt: skip


def _step_for(low: float, high: float) -> float:
    return 10.0 ** math.floor(math.log10(max(high - low, 1e-9))) / 100.0


def surface_ui() -> None:
    names = surfaces.NAMES
    st.selectbox(
        "Surface",
        names,
        key="surface",
        format_func=lambda n: surfaces.spec(n).title,
        on_change=on_surface,
    )
    surface = st.session_state["surface"]
    lr_notes.surface_note(surface)
    if surface == formula_input.NAME:
        formula_input.render(on_surface_param)
    with st.expander("Surface parameters", expanded=False):
        for name, prm in surfaces.all_params(surfaces.spec(surface)).items():
            if surface == formula_input.NAME and name in formula_input.BOUNDS:
                continue
            key = _sp_key(surface, name)
            if key not in st.session_state:
                st.session_state[key] = int(prm.default) if prm.integer else float(prm.default)
            if name == "batch_size":
                lr_notes.batch_slider(surface, key, on_surface_param)
                continue
            step = 0.05 if name == "grad_noise" else _step_for(prm.low, prm.high)
            label = labels.surface_param(surface, name)
            _number(key, label, prm.low, prm.high, prm.integer, step, on_surface_param)
    xname, yname = figures.axis_names(surfaces.get(surface))
    c1, c2 = st.columns(2)
    with c1:
        st.number_input(f"start {xname}", step=0.1, format="%g", key="start_x")
    with c2:
        st.number_input(f"start {yname}", step=0.1, format="%g", key="start_y")
    st.toggle("Pick the start by clicking on the plot", key="pick")
    c1, c2 = st.columns(2)
    with c1:
        st.number_input("steps", min_value=1, max_value=MAX_UI_STEPS, step=50, key="steps")
    with c2:
        st.number_input("seed", min_value=0, max_value=2**31 - 1, step=1, key="seed")


def _idle_options(i: int, opt: optimizers.Optimizer) -> frozenset[str]:
    """The options of run slot i that change nothing with its other options (not drawn)."""
    ss = st.session_state
    current = {n: ss.get(f"o{i}.{n}", d) for n, d in opt.defaults.items()}
    try:
        return optimizers.inactive(opt.name, optimizers.resolve(opt.name, current))
    except ValueError:
        return frozenset()


def _option_ui(i: int, opt: optimizers.Optimizer) -> None:
    ss = st.session_state
    idle = _idle_options(i, opt)
    for name in (o for o in opt.options if o not in idle):
        key = f"o{i}.{name}"
        if key not in ss:
            ss[key] = opt.defaults[name]
        if name in optimizers.CHOICE_OPTIONS:
            choices = optimizers.CHOICE_OPTIONS[name][1]
            st.selectbox(
                labels.option(name),
                choices,
                key=key,
                format_func=lambda v, name=name: labels.value(name, v),
            )
        elif name in optimizers.FLOAT_OPTIONS:
            rng = optimizers.FLOAT_OPTIONS[name][1]
            high = min(rng.high, 1e6)
            _number(key, labels.option(name), rng.low, high, False, _step_for(0.0, 1.0))
        else:
            _, low, high = optimizers.INT_OPTIONS[name]
            _number(key, labels.option(name), low, high, True, 1)


def _schedule_ui(i: int) -> None:
    ss = st.session_state
    key = f"o{i}.sched"
    if key not in ss:
        ss[key] = "constant"
    st.selectbox(
        "learning-rate schedule η_t", schedules.NAMES, key=key, format_func=labels.schedule
    )
    sched = schedules.get(ss[key])
    if sched.name == "constant":
        return
    st.latex(sched.latex)
    for pname, (default, low, high) in sched.params.items():
        pkey = f"o{i}.sched.{sched.name}.{pname}"
        if isinstance(default, tuple):
            if pkey not in ss:
                ss[pkey] = ", ".join(f"{v:g}" for v in default)
            st.text_input(labels.schedule_param(sched.name, pname), key=pkey)
        else:
            if pkey not in ss:
                ss[pkey] = float(default)
            label = labels.schedule_param(sched.name, pname)
            _number(pkey, label, low, min(high, 1e9), False, _step_for(0.0, max(default, 1.0)))


SHORT_NAMES = {"gd": "GD", "nesterov": "Nesterov", "newton": "Newton", "levenberg_marquardt": "LM"}
SHORT_NAMES |= {"steepest_descent": "Line search"}


def run_name(i: int) -> str:
    """Run slot i on its button: its number and a short optimizer name."""
    name = st.session_state[f"o{i}.opt"]
    return f"{i + 1} · {SHORT_NAMES.get(name, optimizers.get(name).title)}"


def run_ui(i: int, link: bool) -> None:
    """Run slot i's controls: optimizer, its hyperparameters, options and schedule."""
    ss = st.session_state
    opt = optimizers.get(ss[f"o{i}.opt"])
    st.selectbox(
        "optimizer",
        optimizers.NAMES,
        key=f"o{i}.opt",
        format_func=lambda n: optimizers.get(n).title,
        on_change=on_optimizer,
        args=(i,),
    )
    if not link:
        lr_notes.optimizer_note(i)
        idle = _idle_options(i, opt)
        for h in (h for h in opt.hyperparameters if h not in idle):
            key = f"o{i}.{h}"
            if key not in ss:
                ss[key] = opt.defaults[h]
            hyper_slider(key, h)
    _option_ui(i, opt)
    _schedule_ui(i)
    if ss["n_runs"] > 1:
        st.button("Remove this run", key=f"o{i}.remove", on_click=on_remove, args=(i,))


def linked_ui() -> None:
    ss = st.session_state
    used = {h for i in range(ss["n_runs"]) for h in optimizers.get(ss[f"o{i}.opt"]).hyperparameters}
    st.caption("One set of sliders for every run (each uses those it has).")
    for h in optimizers.HYPERPARAMETERS:
        if h in used:
            key = f"link.{h}"
            if key not in ss:
                ss[key] = optimizers.get("adam").defaults[h]
            hyper_slider(key, h)


def run_colour_css(projection: bool) -> str:
    """Each run slot's button in the optimizers panel in that run's colour."""
    selector = f".st-key-{RUN_KEY} button"
    rules = [
        f"{selector}:nth-of-type({i + 1}) p {{ color: {color} !important; font-weight: 700; }}\n"
        f"{selector}:nth-of-type({i + 1}) {{ border-bottom: 4px solid {color} !important; }}"
        for i, color in enumerate(style.run_colors(config.MAX_RUNS, projection))
    ]
    return "<style>\n" + "\n".join(rules) + "\n</style>"


def runs_ui() -> None:
    """The optimizers panel beside the race: one button per run, the chosen run's controls."""
    ss = st.session_state
    st.markdown("**Optimizers**")
    st.toggle("Link hyperparameters", key="link", on_change=on_link)
    link = bool(ss.get("link"))
    if link:
        linked_ui()
    slots = list(range(ss["n_runs"]))
    if ss.get(RUN_KEY) not in slots:
        ss[RUN_KEY] = 0
    names = {i: run_name(i) for i in slots}  # format_func must not read the session state
    shown = st.segmented_control(
        "Run", slots, key=RUN_KEY, format_func=names.__getitem__, required=True,
        label_visibility="collapsed", wrap=True,
    )  # fmt: skip
    run_ui(shown, link)
    st.button(
        "+ Add optimizer",
        on_click=on_add,
        disabled=ss["n_runs"] >= config.MAX_RUNS,
        key="add_run",
    )


def sidebar_ui() -> None:
    ss = st.session_state
    titles = lesson.preset_titles()  # in lesson mode, titles that do not give answers away
    with st.sidebar:
        st.selectbox(
            "Lecture scenario (preset)",
            list(presets.PRESETS),
            index=None,
            placeholder="Choose a preset…",
            key="preset",
            format_func=titles.__getitem__,
            on_change=on_preset,
        )
        st.toggle("Projection mode", key="proj")
        lesson.toggle()
        surface_ui()
    # What the sidebar shows, so a run of the race panel alone can tell when it is stale.
    ss["drawn_start"] = (ss["start_x"], ss["start_y"])
    ss["drawn_default_start"] = _default_start()


# ---- main area -------------------------------------------------------------------------------


def formula_cards(c: Comparison) -> None:
    seen: set[tuple] = set()
    for run in c.runs:
        opt = optimizers.get(run.optimizer)
        sched = tuple(sorted((run.schedule or {"name": "constant"}).items()))
        ident = (run.optimizer, tuple(sorted(run.resolved.items())), sched)
        if ident in seen:
            continue
        seen.add(ident)
        st.markdown(f"**{opt.title}** — {opt.fixes}")
        st.latex(optimizers.formula(run.optimizer, schedule=run.schedule, **run.resolved))
        note = labels.note_in_words(run.optimizer, optimizers.notes(run.optimizer))
        if note:
            st.caption(note)


@st.fragment
def export_panel(c: Comparison, trajs: list) -> None:
    """Render the current comparison to a file; a fragment, so rendering reruns only this."""
    cols = st.columns(4)
    fmt = cols[0].selectbox("Format", list(EXPORT_FORMATS), key="ex.format")
    size = cols[1].selectbox("Size", EXPORT_SIZES, key="ex.size")
    fps = cols[2].number_input("Frames per second", 1, 60, 20, key="ex.fps")
    frames = cols[3].number_input("Frames", 2, 1000, 150, key="ex.frames")
    cols = st.columns(5)
    loop = cols[0].number_input("Loop (0 = forever)", 0, 1000, 0, key="ex.loop")
    hold = cols[1].number_input("Hold last frame (s)", 0.0, 60.0, 1.0, 0.5, key="ex.hold")
    tail = cols[2].selectbox(
        "Paths", tuple(EXPORT_TAILS), key="ex.tail", format_func=EXPORT_TAILS.__getitem__
    )
    only = cols[3].toggle("Trajectory only", key="ex.only")
    proj = cols[4].toggle("Projection styling", value=c.projection, key="ex.proj")
    ext, mime = EXPORT_FORMATS[fmt]
    # A rendered file is offered only while it shows what the screen shows with these options.
    what = (query_key(c), fmt, size, int(fps), int(frames), int(loop), float(hold), tail)
    what += (bool(only), bool(proj))
    stored = st.session_state.get("ex.data")
    if stored is not None and stored[3] != what:
        del st.session_state["ex.data"]
        st.caption("The comparison or the export options changed since the last render.")
    if st.button("Render", type="primary", key="ex.render"):
        width, height = (int(v) for v in size.split("×"))
        bar = st.progress(0.0, text=f"Rendering {fmt}…")
        try:
            opts = export.ExportOptions(
                width=width,
                height=height,
                fps=int(fps),
                frames=int(frames),
                loop=int(loop),
                hold_last=float(hold),
                projection=bool(proj),
                trajectory_only=bool(only),
                tail=tail,
            )
            data = export_queue.run(  # a few renders at a time per server; others wait in line
                export_queue.shared(),
                lambda report: export.export(c, trajs, ext, opts, report),
                lambda text, f: bar.progress(min(max(f, 0.0), 1.0), text=f"{fmt}: {text}"),
            )
            data = data.encode() if isinstance(data, str) else data
        except (ValueError, export_queue.QueueFull) as e:
            bar.empty()
            st.error(f"Export failed: {e}")
            return
        bar.progress(1.0, text=f"{fmt} ready: {len(data) / 1e6:.2f} MB")
        st.session_state["ex.data"] = (data, f"optviz-{c.surface}.{ext}", mime, what)
    if "ex.data" in st.session_state:
        data, file_name, mime, _ = st.session_state["ex.data"]
        st.download_button(f"Download {file_name}", data, file_name, mime, key="ex.download")


VIEWS = ("Results", "Data fit", "Polyak averaging", "Line search", "Formulas", "Export")
VIEWS += ("Step by step", "Curvature", "EMA lesson")
# Dynamics, 3D and the gradient field are drawn by the race chart itself (they follow its step).


def views_ui(c: Comparison, trajs: list, colors: list[str]) -> None:
    """More views of the same runs; only the chosen one is built. (The views that follow the
    race's step, dynamics, gradient field and 3-D, are drawn by the race chart itself.)"""
    surf = c.surface_obj()
    labels = run_labels(c)
    proj = c.projection
    names = [v for v in VIEWS if v != "Data fit" or surf.name == "noisy_linreg"]
    names = [v for v in names if v != "Line search" or line_search_view.applies(trajs)]
    if st.session_state.get("view") not in names:
        st.session_state["view"] = names[0]
    view = st.segmented_control(
        "View", names, key="view", required=True, label_visibility="collapsed"
    )
    if view == "Results":
        rows = figures.results_rows(surf, trajs, labels)
        st.dataframe(optviz.labels.format_rows(rows), hide_index=True)
    elif view == "Data fit":
        fig = figures.data_fit_figure(surf, trajs, labels, colors, projection=proj)
        st.plotly_chart(fig, theme=None)
    elif view == "Line search":
        line_search_view.render(c, trajs, colors)
    elif view == "Polyak averaging":
        polyak_view.render(c, trajs, colors)
    elif view == "Formulas":
        formula_cards(c)
    elif view == "Export":
        export_panel(c, trajs)
    elif view == "EMA lesson":
        ema_page.render(projection=proj, write_state=write_state, views=VIEWS)
    elif view == "Step by step":
        stepwise_view.render(c, trajs, colors)
    elif view == "Curvature":
        curvature_view.render(c, trajs, colors)


@st.cache_resource(max_entries=32, show_spinner=False)
def cached_view(name: str, params: tuple, kind: str, projection: bool) -> dict:
    """The static part of a view that follows the race, once per surface and styling."""
    return figures.view_figure(surfaces.get(name, **dict(params)), kind, projection=projection)


def follow_view(projection: bool) -> str | None:
    """The view the race chart shows beside the race: the last one its tabs chose in this mode
    (dynamics in normal mode, none in projection mode until one is chosen)."""
    ss = st.session_state
    key = "follow_view.proj" if projection else "follow_view"
    value = ss.get(RACE_KEY)
    if isinstance(value, dict) and "view" in value and value.get("id") != ss.get("follow_seen"):
        ss["follow_seen"] = value.get("id")
        ss[key] = value["view"] if value["view"] in figures.FOLLOW_VIEWS else "none"
    name = ss.get(key, "none" if projection else "dynamics")
    return name if name in figures.FOLLOW_VIEWS else None


def race_ui(c: Comparison, trajs: list) -> None:
    pick = bool(st.session_state.get("pick"))
    fig = cached_race_figure(query_key(c), c, trajs, c.projection, 0, pick)
    fig = lesson.shown_figure(fig, c)  # lesson mode: only the start until Reveal
    name = follow_view(c.projection)
    surf = c.surface_obj()
    params = tuple(sorted(surf.params.items()))
    view = cached_view(surf.name, params, name, c.projection) if name else None
    race_chart(
        fig, key=RACE_KEY, pick=pick, font_size=style.FONT_SIZE[c.projection],
        projection=c.projection, view=view, view_name=name, views=figures.FOLLOW_VIEWS,
        runs=trajs, surface=surf,
    )  # fmt: skip


@st.fragment
def race_panel() -> None:
    """The race, the optimizers panel and the views: everything a run's slider changes.

    A fragment, so moving one optimizer's slider reruns and redraws only this, not the sidebar.
    """
    ss = st.session_state
    _keep_widget_state(PANEL_KEPT)
    if apply_click() or ss.get("drawn_start") != (ss["start_x"], ss["start_y"]):
        st.rerun()  # the start point lives in the sidebar: redraw everything
    comparison, problems = read_state()
    sync_url(comparison)
    colors = style.run_colors(len(comparison.runs), comparison.projection)
    trajs = cached_runs(query_key(comparison), comparison)
    # The chart is sent first: it is what a slider move is watched on.
    chart_col, runs_col = st.columns([3, 1], gap="medium")
    with chart_col:
        lesson.render(comparison, run_labels(comparison), colors, comparison.projection)
        race_ui(comparison, trajs)
        if ss.get("notices"):
            st.warning(
                "Some link parameters were ignored (defaults used):\n\n"
                + "\n".join(f"- {n}" for n in ss["notices"])
            )
        for problem in problems:
            st.warning(problem)
        preset = ss.get("loaded_preset")
        if preset and not comparison.projection and not lesson.hidden():
            p = presets.get(preset)
            same = query_key(p.comparison) == query_key(comparison)
            st.info(f"**{p.title}**{'' if same else ' (modified)'}. {p.description}")
    with runs_col, st.container(key="runs_panel"):
        runs_ui()
    if lesson.hidden():
        st.caption("The results and the other views open after Reveal.")
    else:
        views_ui(comparison, trajs, colors)


def main() -> None:
    """The app: sidebar widgets → Comparison → cached engine → figures."""
    st.set_page_config(
        page_title="optviz · gradient-based optimizers race", page_icon="📉", layout="wide"
    )
    warm_up()
    ss = st.session_state
    load_url_once()
    _keep_widget_state(SIDEBAR_KEPT)
    apply_click()
    sidebar_ui()
    replica.render()
    projection = bool(ss.get("proj"))
    css = (PROJECTION_CSS if projection else NORMAL_CSS) + run_colour_css(projection)
    st.markdown(css, unsafe_allow_html=True)
    surf = surfaces.get(ss["surface"])
    surf = formula_input.described_surface() if surf.name == formula_input.NAME else surf
    # Always one element here, so the race panel keeps its place in the page and its chart
    # is not rebuilt when projection mode hides the header.
    header = st.container(key="app_header")
    if not projection:
        teaches = "" if lesson.hidden() else f" — {surf.teaches}"
        with header:
            st.markdown(
                f"# optviz · watch gradient-based optimizers race\n\n**{surf.title}**{teaches}"
                " <span style='color:#666'>· press ? on the chart for the keys</span>",
                unsafe_allow_html=True,
            )
    race_panel()
    freeze_start_up_heap()


main()
