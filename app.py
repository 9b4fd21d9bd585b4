"""optviz: the Streamlit app a lecturer projects in class.

Layout and widgets only. Widgets fill a plain :class:`optviz.config.Comparison`; the engine
(:func:`optviz.config.run_comparison`, cached), the figure builders (:mod:`optviz.figures`) and
the exporters (:mod:`optviz.export`) do the work. The comparison is mirrored to the URL query
string, so a copied link reopens exactly the same view.

Widget keys are the state: ``surface``, ``sp.<surface>.<param>``, ``start_x``/``start_y``,
``steps``, ``seed``, ``proj``, ``link`` and, for run slot i, ``o<i>.opt``, ``o<i>.<option>``,
``o<i>.sched`` and ``o<i>.sched.<param>``. Presets, the permalink and the add/remove buttons all
go through :func:`write_state`, which writes a comparison into those keys.
"""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import streamlit as st

import optviz
import surfaces
from optviz import config, export, figures, optimizers, presets, schedules, style
from optviz.app import curvature_view, stepwise_view
from optviz.config import Comparison, RunSpec
from optviz.race_chart import race_chart

RACE_KEY = "race"
RUN_KEY = "run"  # which run slot the optimizers panel shows
MAX_UI_STEPS = config.MAX_STEPS

# Log-spaced, round values for the η and ε sliders; β sliders get the values people use.
_MANTISSAS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0)
LR_VALUES = tuple(float(f"{m * 10.0**e:.3g}") for e in range(-5, 1) for m in _MANTISSAS) + (10.0,)
EPS_VALUES = (0.0,) + tuple(10.0**e for e in range(-12, 1))
BETA_VALUES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98)
BETA_VALUES += (0.99, 0.995, 0.999, 0.9995, 0.9999)
SLIDER_VALUES = {"lr": LR_VALUES, "beta1": BETA_VALUES, "beta2": BETA_VALUES, "eps": EPS_VALUES}
HYPER_LABELS = {
    "lr": "learning rate η",
    "beta1": "β₁ (momentum)",
    "beta2": "β₂ (squared-gradient decay)",
    "eps": "ε",
}
EXPORT_SIZES = ("800×600", "1280×720", "1920×1080")
EXPORT_FORMATS = {
    "GIF": ("gif", "image/gif"),
    "MP4": ("mp4", "video/mp4"),
    "PNG": ("png", "image/png"),
    "CSV": ("csv", "text/csv"),
    "JSON": ("json", "application/json"),
}

PROJECTION_CSS = """
<style>
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stSidebarCollapseButton"], [data-testid="stStatusWidget"], footer {
  display: none !important;
}
.block-container { padding: 0.5rem 1.5rem 0.5rem 1.5rem !important; max-width: none !important; }
section[data-testid="stSidebar"] { width: 400px !important; }
@media (max-width: 1500px) { section[data-testid="stSidebar"] { width: 300px !important; } }
.stApp, .stMarkdown p, .stMarkdown li, .stCaption, label {
  font-size: 1.45rem !important;
}
[data-testid="stSidebar"] label p, [data-testid="stSidebar"] .stMarkdown p,
[data-testid="stButtonGroup"] button p {
  font-size: 1.15rem !important;
}
</style>
"""
NORMAL_CSS = """
<style>
.block-container { padding: 1.5rem 2rem 1rem 2rem !important; max-width: none !important; }
section[data-testid="stSidebar"] { width: 360px !important; }
@media (max-width: 1500px) { section[data-testid="stSidebar"] { width: 290px !important; } }
</style>
"""


# ---- engine and figures, cached ---------------------------------------------------------------


@st.cache_resource(show_spinner="Loading the compiled optimizer kernels…")
def warm_up() -> bool:
    """Load (or compile) every kernel once per server, before the first interaction."""
    optviz.warm()
    return True


@st.cache_resource(show_spinner=False)
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
    sp = {k: v for k, v in c.surface_params.items() if v != accepted[k].default}
    return replace(
        c, surface_params=sp, start=start, runs=tuple(runs), projection=False, linked=False
    )


def query_key(c: Comparison) -> tuple[tuple[str, str], ...]:
    """A hashable plain form of a comparison (its normalized permalink, without projection)."""
    return tuple(sorted(config.to_query(normalized(c)).items()))


@st.cache_data(max_entries=64, show_spinner=False)
def cached_runs(key: tuple[tuple[str, str], ...], _c: Comparison) -> list[optviz.Trajectory]:
    """``run_comparison(_c)``, cached on ``key`` (the comparison's query string)."""
    return config.run_comparison(_c)


@st.cache_resource(max_entries=32, show_spinner=False)
def cached_race_figure(
    key: tuple, _c: Comparison, _trajs: list, projection: bool, height: int, pick: bool
) -> dict:
    """The race figure, built once per comparison, styling and click mode."""
    surf = _c.surface_obj()
    colors = style.run_colors(len(_c.runs), projection)
    return figures.race_figure(
        surf, _trajs, run_labels(_c), colors, projection=projection, height=height, pick=pick
    )


def run_labels(c: Comparison) -> list[str]:
    """Legend text per run; duplicates get a "#k" so every run stays distinguishable."""
    labels = [r.label() for r in c.runs]
    return [f"{lab} #{i + 1}" if labels.count(lab) > 1 else lab for i, lab in enumerate(labels)]


# ---- state: comparison <-> widget keys --------------------------------------------------------


def _sp_key(surface: str, name: str) -> str:
    return f"sp.{surface}.{name}"


def write_state(c: Comparison) -> None:
    """Write ``c`` into the widget keys (before the widgets are drawn)."""
    ss = st.session_state
    ss["surface"] = c.surface
    for name, prm in surfaces.all_params(surfaces.spec(c.surface)).items():
        value = c.surface_params.get(name, prm.default)
        ss[_sp_key(c.surface, name)] = int(value) if prm.integer else float(value)
    x, y = c.start_point()
    ss["start_x"], ss["start_y"] = float(x), float(y)
    ss["steps"] = int(c.steps)
    ss["seed"] = int(c.seed)
    ss["proj"] = bool(c.projection)
    ss["n_runs"] = len(c.runs)
    for i, run in enumerate(c.runs):
        ss[f"o{i}.opt"] = run.optimizer
        _write_run_options(i, run)
    ss[RUN_KEY] = 0
    ss["link"] = bool(c.linked)
    if c.linked:
        on_link()


def _write_run_options(i: int, run: RunSpec) -> None:
    ss = st.session_state
    for name, value in run.resolved.items():
        ss[f"o{i}.{name}"] = value
    sched = schedules.resolve(run.schedule)
    ss[f"o{i}.sched"] = sched["name"]
    for name in schedules.NAMES:
        for pname, (default, _, _) in schedules.get(name).params.items():
            value = sched.get(pname, default) if name == sched["name"] else default
            ss[f"o{i}.sched.{name}.{pname}"] = (
                ", ".join(f"{v:g}" for v in value) if isinstance(value, tuple) else float(value)
            )


def read_run(i: int, link: bool) -> tuple[RunSpec, str | None]:
    """Run slot i as a RunSpec (options that differ from the defaults), or an error text."""
    ss = st.session_state
    name = ss[f"o{i}.opt"]
    opt = optimizers.get(name)
    options: dict = {}
    for key, default in opt.defaults.items():
        source = f"link.{key}" if link and key in optimizers.HYPERPARAMETERS else f"o{i}.{key}"
        value = ss.get(source, default)
        if value != default or type(value) is not type(default):
            options[key] = value
    schedule = None
    sname = ss.get(f"o{i}.sched", "constant")
    if sname != "constant":
        raw: dict = {"name": sname}
        for pname, (default, _, _) in schedules.get(sname).params.items():
            value = ss.get(f"o{i}.sched.{sname}.{pname}", default)
            raw[pname] = tuple(str(value).split(",")) if isinstance(default, tuple) else value
        try:
            schedule = schedules.resolve(raw)
        except ValueError as e:
            return RunSpec(name, options), f"schedule ignored: {e}"
    try:
        optimizers.resolve(name, options)
    except ValueError as e:
        return RunSpec(name), f"options ignored: {e}"
    return RunSpec(name, options, schedule), None


def read_state() -> tuple[Comparison, list[str]]:
    """The comparison the widgets describe, and problems that made a run or value be skipped."""
    ss = st.session_state
    problems: list[str] = []
    surface = ss["surface"]
    spec = surfaces.spec(surface)
    sp = {}
    for name, prm in surfaces.all_params(spec).items():
        value = ss.get(_sp_key(surface, name), prm.default)
        if value != prm.default:
            sp[name] = value
    try:
        surf = surfaces.get(surface, **sp)
    except ValueError as e:
        problems.append(f"surface parameters ignored: {e}")
        sp, surf = {}, surfaces.get(surface)
    start: tuple[float, float] | None = (float(ss["start_x"]), float(ss["start_y"]))
    if not np.isfinite(surf.value(*start)):
        problems.append(f"start {start} ignored: the loss is not finite there")
        start = None
    if start == surf.start:
        start = None
    runs = []
    link = bool(ss.get("link", False))
    for i in range(ss["n_runs"]):
        run, problem = read_run(i, link)
        if optimizers.get(run.optimizer).needs_sum_of_squares and not spec.sum_of_squares:
            problems.append(f"{run.optimizer} left out: it needs a sum-of-squares surface")
            continue
        if problem:
            problems.append(f"{run.optimizer}: {problem}")
        runs.append(run)
    comparison = Comparison(
        surface=surface,
        surface_params=sp,
        start=start,
        steps=int(ss["steps"]),
        seed=int(ss["seed"]),
        runs=tuple(runs) or Comparison().runs,
        projection=bool(ss.get("proj", False)),
        linked=link,
    )
    return comparison, problems


def _current() -> Comparison:
    return read_state()[0]


def _with_runs(c: Comparison, runs: list[RunSpec]) -> Comparison:
    return replace(c, runs=tuple(runs))


# ---- callbacks (run before the script, so they may write widget keys) -------------------------


def on_preset() -> None:
    name = st.session_state.get("preset")
    if not name:
        return
    # A preset's runs have their own hyperparameters: linked sliders would replace them.
    comparison = replace(presets.get(name).comparison, projection=st.session_state["proj"])
    write_state(comparison)
    st.session_state["loaded_preset"] = name
    st.session_state["notices"] = []


def _default_start() -> tuple[float, float]:
    """The default start of the surface the widgets describe (its defaults if they are bad)."""
    surface = st.session_state["surface"]
    params = {
        name: st.session_state.get(_sp_key(surface, name), prm.default)
        for name, prm in surfaces.all_params(surfaces.spec(surface)).items()
    }
    try:
        return surfaces.get(surface, **params).start
    except ValueError:
        return surfaces.get(surface).start


def on_surface() -> None:
    st.session_state["start_x"], st.session_state["start_y"] = _default_start()


def on_surface_param() -> None:
    """A start left at its default follows the default (e.g. when the true w of the regression
    moves the plot); a start the user chose stays."""
    ss = st.session_state
    if (ss["start_x"], ss["start_y"]) == ss.get("drawn_default_start"):
        ss["start_x"], ss["start_y"] = _default_start()


def on_optimizer(i: int) -> None:
    """A slot switched optimizer: its sliders take that optimizer's defaults."""
    name = st.session_state[f"o{i}.opt"]
    _write_run_options(i, RunSpec(name))


def on_add() -> None:
    c = _current()
    used = {r.optimizer for r in c.runs}
    name = next((n for n in optimizers.FIRST_ORDER if n not in used), "adam")
    write_state(_with_runs(c, [*c.runs, RunSpec(name)]))
    st.session_state[RUN_KEY] = len(c.runs)


def on_remove(i: int) -> None:
    c = _current()
    runs = [r for k, r in enumerate(c.runs) if k != i]
    write_state(_with_runs(c, runs))
    st.session_state[RUN_KEY] = max(i - 1, 0)


def on_link() -> None:
    """Linking starts from the values of the first run that has each hyperparameter."""
    ss = st.session_state
    for h in optimizers.HYPERPARAMETERS:
        holders = [i for i in range(ss["n_runs"]) if h in optimizers.get(ss[f"o{i}.opt"]).defaults]
        key = f"o{holders[0]}.{h}" if holders else None
        ss[f"link.{h}"] = ss[key] if key in ss else optimizers.get("adam").defaults[h]


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


def _fmt_value(v: float) -> str:
    return "0" if v == 0 else f"{v:.6g}"


def hyper_slider(key: str, name: str, label: str) -> None:
    """A select-slider over round log-spaced values; the current value is always an option."""
    current = float(st.session_state[key])
    values = SLIDER_VALUES[name]
    if current not in values:
        values = tuple(sorted((*values, current)))
    st.select_slider(label, options=values, key=key, format_func=_fmt_value)


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
    with st.expander("Surface parameters", expanded=False):
        for name, prm in surfaces.all_params(surfaces.spec(surface)).items():
            key = _sp_key(surface, name)
            if key not in st.session_state:
                st.session_state[key] = int(prm.default) if prm.integer else float(prm.default)
            step = 0.05 if name == "grad_noise" else _step_for(prm.low, prm.high)
            _number(key, prm.label, prm.low, prm.high, prm.integer, step, on_surface_param)
    c1, c2 = st.columns(2)
    with c1:
        st.number_input("start x", step=0.1, format="%g", key="start_x")
    with c2:
        st.number_input("start y", step=0.1, format="%g", key="start_y")
    st.toggle("Pick the start by clicking on the plot", key="pick")
    c1, c2 = st.columns(2)
    with c1:
        st.number_input("steps", min_value=1, max_value=MAX_UI_STEPS, step=50, key="steps")
    with c2:
        st.number_input("seed", min_value=0, max_value=2**31 - 1, step=1, key="seed")


def _option_ui(i: int, opt: optimizers.Optimizer) -> None:
    ss = st.session_state
    for name in opt.options:
        key = f"o{i}.{name}"
        if key not in ss:
            ss[key] = opt.defaults[name]
        if name in optimizers.CHOICE_OPTIONS:
            choices = optimizers.CHOICE_OPTIONS[name][1]
            st.selectbox(
                name.replace("_", " "),
                choices,
                key=key,
                format_func=lambda v: ("on" if v else "off") if isinstance(v, bool) else str(v),
            )
        elif name in optimizers.FLOAT_OPTIONS:
            rng = optimizers.FLOAT_OPTIONS[name][1]
            high = min(rng.high, 1e6)
            _number(key, name.replace("_", " "), rng.low, high, False, _step_for(0.0, 1.0))
        else:
            _, low, high = optimizers.INT_OPTIONS[name]
            _number(key, name.replace("_", " "), low, high, True, 1)


def _schedule_ui(i: int) -> None:
    ss = st.session_state
    key = f"o{i}.sched"
    if key not in ss:
        ss[key] = "constant"
    st.selectbox(
        "LR schedule", schedules.NAMES, key=key, format_func=lambda n: schedules.get(n).title
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
            st.text_input(f"{pname} (comma-separated)", key=pkey)
        else:
            if pkey not in ss:
                ss[pkey] = float(default)
            _number(pkey, pname, low, min(high, 1e9), False, _step_for(0.0, max(default, 1.0)))


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
        for h in opt.hyperparameters:
            key = f"o{i}.{h}"
            if key not in ss:
                ss[key] = opt.defaults[h]
            hyper_slider(key, h, HYPER_LABELS[h])
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
            hyper_slider(key, h, HYPER_LABELS[h])


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
    with st.sidebar:
        st.selectbox(
            "Lecture scenario (preset)",
            list(presets.PRESETS),
            index=None,
            placeholder="Choose a preset…",
            key="preset",
            format_func=lambda n: presets.PRESETS[n].title,
            on_change=on_preset,
        )
        st.toggle("Projection mode", key="proj")
        surface_ui()
    # What the sidebar shows, so a run of the race panel alone can tell when it is stale.
    ss["drawn_start"] = (ss["start_x"], ss["start_y"])
    ss["drawn_default_start"] = _default_start()


# ---- main area -------------------------------------------------------------------------------


def formula_cards(c: Comparison) -> None:
    seen: set[tuple] = set()
    for run in c.runs:
        opt = optimizers.get(run.optimizer)
        choices = {k: v for k, v in run.resolved.items() if k in optimizers.CHOICE_OPTIONS}
        ident = (run.optimizer, tuple(sorted(choices.items())))
        if ident in seen:
            continue
        seen.add(ident)
        st.markdown(f"**{opt.title}** — {opt.fixes}")
        st.latex(optimizers.formula(run.optimizer, **choices))
        note = optimizers.notes(run.optimizer)
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
    tail = cols[2].selectbox("Tails", ("full", "fade"), key="ex.tail")
    only = cols[3].toggle("Trajectory only", key="ex.only")
    proj = cols[4].toggle("Projection styling", value=c.projection, key="ex.proj")
    ext, mime = EXPORT_FORMATS[fmt]
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
            data = export.export(c, trajs, ext, opts, lambda f: bar.progress(min(max(f, 0.0), 1.0)))
            data = data.encode() if isinstance(data, str) else data
        except ValueError as e:
            bar.empty()
            st.error(f"Export failed: {e}")
            return
        bar.progress(1.0, text=f"{fmt} ready: {len(data) / 1e6:.2f} MB")
        st.session_state["ex.data"] = (data, f"optviz-{c.surface}.{ext}", mime)
    if "ex.data" in st.session_state:
        data, file_name, mime = st.session_state["ex.data"]
        st.download_button(f"Download {file_name}", data, file_name, mime, key="ex.download")


VIEWS = ("Results", "Dynamics", "3D", "Gradient field", "Data fit", "Formulas", "Export")
VIEWS += ("Step by step", "Curvature")


def views_ui(c: Comparison, trajs: list, colors: list[str]) -> None:
    """More views of the same runs; only the chosen one is built."""
    surf = c.surface_obj()
    labels = run_labels(c)
    proj = c.projection
    names = [v for v in VIEWS if v != "Data fit" or surf.name == "noisy_linreg"]
    if st.session_state.get("view") not in names:
        st.session_state["view"] = names[0]
    view = st.segmented_control(
        "View", names, key="view", required=True, label_visibility="collapsed"
    )
    if view == "Results":
        st.dataframe(
            figures.results_rows(surf, trajs, labels),
            hide_index=True,
            column_config={
                "final loss": st.column_config.NumberColumn(format="%.4g"),
                "distance to minimum": st.column_config.NumberColumn(format="%.3g"),
            },
        )
    elif view == "Dynamics":
        st.plotly_chart(figures.dynamics_figure(trajs, labels, colors, projection=proj), theme=None)
    elif view == "3D":
        fig = figures.surface3d_figure(surf, trajs, labels, colors, projection=proj)
        st.plotly_chart(fig, theme=None)
    elif view == "Gradient field":
        fig = figures.gradient_field_figure(surf, trajs, labels, colors, projection=proj)
        st.plotly_chart(fig, theme=None)
    elif view == "Data fit":
        fig = figures.data_fit_figure(surf, trajs, labels, colors, projection=proj)
        st.plotly_chart(fig, theme=None)
    elif view == "Formulas":
        formula_cards(c)
    elif view == "Export":
        export_panel(c, trajs)
    elif view == "Step by step":
        stepwise_view.render(c, trajs, colors)
    elif view == "Curvature":
        curvature_view.render(c, trajs, colors)


PROJECTION_MAX_HEIGHT = 1000  # projection mode fits the figure to the screen, up to this


def race_ui(c: Comparison, trajs: list) -> None:
    height = PROJECTION_MAX_HEIGHT if c.projection else 560
    pick = bool(st.session_state.get("pick"))
    fig = cached_race_figure(query_key(c), c, trajs, c.projection, height, pick)
    race_chart(
        fig, key=RACE_KEY, pick=pick, font_size=style.FONT_SIZE[c.projection],
        fit_screen=c.projection,
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
        race_ui(comparison, trajs)
        if ss.get("notices"):
            st.warning(
                "Some link parameters were ignored (defaults used):\n\n"
                + "\n".join(f"- {n}" for n in ss["notices"])
            )
        for problem in problems:
            st.warning(problem)
        preset = ss.get("loaded_preset")
        if preset and not comparison.projection:
            p = presets.get(preset)
            same = query_key(p.comparison) == query_key(comparison)
            st.info(f"**{p.title}**{'' if same else ' (modified)'}. {p.description}")
    with runs_col:
        runs_ui()
    views_ui(comparison, trajs, colors)


def main() -> None:
    """The app: sidebar widgets → Comparison → cached engine → figures."""
    st.set_page_config(page_title="optviz", page_icon="📉", layout="wide")
    warm_up()
    ss = st.session_state
    load_url_once()
    _keep_widget_state(SIDEBAR_KEPT)
    apply_click()
    sidebar_ui()
    projection = bool(ss.get("proj"))
    css = (PROJECTION_CSS if projection else NORMAL_CSS) + run_colour_css(projection)
    st.markdown(css, unsafe_allow_html=True)
    surf = surfaces.get(ss["surface"])
    # Always one element here, so the race panel keeps its place in the page and its chart
    # is not rebuilt when projection mode hides the title.
    title = st.empty()
    if not projection:
        title.markdown(f"**{surf.title}** — {surf.teaches}")
    race_panel()
    freeze_start_up_heap()


main()
