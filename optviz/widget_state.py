"""The app's widget state as plain data: one codec between widget values and a Comparison.

No Streamlit here. The app keeps its state in widget keys (a flat dict); this module maps that
dict to a :class:`optviz.config.Comparison` and back, and edits the run slots (add, remove).

Widget keys::

    surface                          sp.<surface>.<param>      (each surface keeps its own)
    start_x  start_y  steps  seed    proj  link  n_runs
    o<i>.opt  o<i>.<option>          (run slot i: optimizer and every option it has)
    o<i>.sched  o<i>.sched.<schedule>.<param>    (lists as comma-separated text)
    link.<lr|beta1|beta2|eps>        (the linked sliders)

Reading goes through the permalink's own parser: the widget values are written as the query
string the permalink would hold and :func:`optviz.config.from_query` validates them, so a value
the widgets accept is judged exactly as the same value in a link (one validation). Every value
it ignores comes back as a message in words (:mod:`optviz.labels`), never as an exception.
A run slot that cannot run stays a slot (the panel keeps showing it, with its message); it is
only left out of the race.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import surfaces
from optviz import comparison, config, labels, optimizers, schedules, tuned
from optviz.config import Comparison, RunSpec

SLOT_KEY = re.compile(r"^o(\d+)\.(.+)$")


@dataclass(frozen=True)
class Read:
    """What the widgets describe: the comparison to run, the messages to show, and which run
    slot each of the comparison's runs came from (empty when no slot could run and the
    comparison fell back to the default runs)."""

    comparison: Comparison
    messages: tuple[str, ...]
    slots: tuple[int, ...]


# ---- which widget each option gets (from the catalog's data alone) ---------------------------

# Round log-spaced stops for η (1, 2, 5 × 10ᵏ) and ε (10ᵏ), each with a box that takes an exact
# value (kept exactly, added to the slider's stops); β sliders get the values people use.
LR_STOPS = tuned.STOPS
EPS_STOPS = (0.0,) + tuple(10.0**e for e in range(-12, 1))
BETA_STOPS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98)
BETA_STOPS += (0.99, 0.995, 0.999, 0.9995, 0.9999)
SLIDER_STOPS = {"lr": LR_STOPS, "beta1": BETA_STOPS, "beta2": BETA_STOPS, "eps": EPS_STOPS}
TYPED = frozenset({"lr", "eps"})  # hyperparameters with a box for an exact value
MAX_NUMBER = 1e6  # a number box never offers more than this (ranges up to 10¹² exist)


@dataclass(frozen=True)
class OptionWidget:
    """The widget an optimizer option gets, derived from the catalog (never per optimizer):

    - ``"stops"``: a select-slider over ``stops`` (the current value is always made a stop),
      with a box for an exact value in [low, high] when ``typed``;
    - ``"choice"``: a select box over ``choices`` (words from :mod:`optviz.labels`);
    - ``"int"`` / ``"float"``: a number box over [low, high] with ``step``.

    A new option in :data:`optviz.optimizers.FLOAT_OPTIONS` (with its ``Range``),
    ``INT_OPTIONS`` or ``CHOICE_OPTIONS`` and its words in :mod:`optviz.labels` gets its widget
    from here with no app code.
    """

    name: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    open_high: bool = False
    step: float = 1.0
    choices: tuple = ()
    stops: tuple = ()
    typed: bool = False


def number_step(low: float, high: float) -> float:
    """The +/- step of a number box over [low, high]: a hundredth of its decade."""
    return 10.0 ** math.floor(math.log10(max(high - low, 1e-9))) / 100.0


def option_widget(name: str) -> OptionWidget:
    """Which widget the option ``name`` gets (see :class:`OptionWidget`)."""
    if name in optimizers.CHOICE_OPTIONS:
        return OptionWidget(name, "choice", choices=tuple(optimizers.CHOICE_OPTIONS[name][1]))
    if name in optimizers.INT_OPTIONS:
        _, low, high = optimizers.INT_OPTIONS[name]
        return OptionWidget(name, "int", low, high, step=1)
    if name not in optimizers.FLOAT_OPTIONS:
        raise ValueError(f"no widget for option {name!r}: it is in none of the option tables")
    rng = optimizers.FLOAT_OPTIONS[name][1]
    low, high = float(rng.low), float(min(rng.high, MAX_NUMBER))
    if name in SLIDER_STOPS:
        return OptionWidget(
            name, "stops", low, high, rng.open_high, stops=SLIDER_STOPS[name], typed=name in TYPED
        )
    return OptionWidget(name, "float", low, high, rng.open_high, step=number_step(0.0, 1.0))


def stops_with(widget: OptionWidget, current: float) -> tuple:
    """The slider's stops with ``current`` among them (a typed value becomes a stop)."""
    if current in widget.stops:
        return widget.stops
    return tuple(sorted((*widget.stops, current)))


FORMULA = "formula"  # the surface typed as f(x, y) (optviz.app.formula_input draws its box)
FORMULA_TEXT_KEY = "sp.formula.text"  # the text box
FORMULA_VALID_KEY = "formula.valid"  # the last text that compiled: what the comparison uses


# ---- Comparison -> widget values --------------------------------------------------------------


def _text(value: object) -> str:
    return ", ".join(f"{v:g}" for v in value) if isinstance(value, tuple) else str(value)


def surface_widgets(surface: str, params: Mapping) -> dict[str, object]:
    """The ``sp.<surface>.<param>`` keys of one surface (missing params at their defaults)."""
    out: dict[str, object] = {}
    for name, prm in surfaces.all_params(surfaces.spec(surface)).items():
        value = params.get(name, prm.default)
        out[f"sp.{surface}.{name}"] = int(value) if prm.integer else float(value)
    if surface == FORMULA:  # the typed f(x, y): its box and the last text that compiled
        text = str(params.get("formula", surfaces.FORMULA_DEFAULT))
        out[FORMULA_TEXT_KEY] = out[FORMULA_VALID_KEY] = text
    return out


def run_widgets(i: int, run: RunSpec) -> dict[str, object]:
    """Slot i's keys for ``run``: its optimizer, every option, and every schedule's parameters
    (the chosen schedule's values, the others at their defaults)."""
    out: dict[str, object] = {f"o{i}.opt": run.optimizer}
    for name, value in run.resolved.items():
        out[f"o{i}.{name}"] = value
    sched = schedules.resolve(run.schedule)
    out[f"o{i}.sched"] = sched["name"]
    for name in schedules.NAMES:
        for pname, (default, _, _) in schedules.get(name).params.items():
            value = sched.get(pname, default) if name == sched["name"] else default
            out[f"o{i}.sched.{name}.{pname}"] = (
                _text(value) if isinstance(default, tuple) else float(value)
            )
    return out


def to_widgets(c: Comparison) -> dict[str, object]:
    """Every widget value that shows ``c``."""
    out: dict[str, object] = {"surface": c.surface}
    out.update(surface_widgets(c.surface, c.surface_params))
    x, y = c.start_point()
    out["start_x"], out["start_y"] = float(x), float(y)
    out["steps"], out["seed"] = int(c.steps), int(c.seed)
    out["proj"], out["link"] = bool(c.projection), bool(c.linked)
    out["n_runs"] = len(c.runs)
    for i, run in enumerate(c.runs):
        out.update(run_widgets(i, run))
    return out


def linked_values(values: Mapping) -> dict[str, object]:
    """The ``link.<h>`` sliders' starting values: each hyperparameter from the first slot whose
    optimizer has it (Adam's default when none has)."""
    out: dict[str, object] = {}
    n = _n_runs(values)
    for h in optimizers.HYPERPARAMETERS:
        value = comparison.fallback_value(h)
        for i in range(n):
            name = values.get(f"o{i}.opt")
            if name in optimizers.NAMES and h in optimizers.get(name).defaults:
                value = values.get(f"o{i}.{h}", optimizers.get(name).defaults[h])
                break
        out[f"link.{h}"] = value
    return out


# ---- widget values -> Comparison --------------------------------------------------------------


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float
    if isinstance(value, tuple):
        return ",".join(_fmt(v) for v in value)
    return str(value)


def _n_runs(values: Mapping) -> int:
    n = values.get("n_runs", 0)
    if isinstance(n, bool) or not isinstance(n, int):
        return 0
    return max(0, min(n, config.MAX_RUNS))


def surface_params_of(values: Mapping) -> dict:
    """The current surface's parameters as the widgets hold them (those that differ from their
    defaults)."""
    surface = values.get("surface")
    if surface not in surfaces.NAMES:
        return {}
    sp = {}
    for name, prm in surfaces.all_params(surfaces.spec(surface)).items():
        value = values.get(f"sp.{surface}.{name}", prm.default)
        if value != prm.default:
            sp[name] = value
    if surface == FORMULA:
        sp["formula"] = str(values.get(FORMULA_VALID_KEY, surfaces.FORMULA_DEFAULT))
    return sp


def default_start(values: Mapping) -> tuple[float, float] | None:
    """The default start of the surface the widgets describe (its defaults' if they are bad)."""
    surface = values.get("surface")
    if surface not in surfaces.NAMES:
        return None
    return comparison.default_start(surface, surface_params_of(values))


def to_query(values: Mapping) -> dict[str, str]:
    """The permalink query string the widget values stand for (not validated yet)."""
    q: dict[str, str] = {}
    surface = values.get("surface")
    q["surface"] = str(surface)
    sp = surface_params_of(values)
    for name, value in sp.items():
        q["formula" if name == "formula" else f"sp.{name}"] = _fmt(value)
    start = (values.get("start_x"), values.get("start_y"))
    if start != default_start(values):
        q["start"] = f"{_fmt(start[0])},{_fmt(start[1])}"
    for key in ("steps", "seed"):
        if key in values:
            q[key] = _fmt(values[key])
    for key in ("proj", "link"):
        if values.get(key):
            q[key] = "1"
    link = bool(values.get("link"))
    for i in range(_n_runs(values)):
        name = values.get(f"o{i}.opt")
        q[f"o{i}"] = str(name)
        if name not in optimizers.NAMES:
            continue
        for key, default in optimizers.get(name).defaults.items():
            linked = link and key in optimizers.HYPERPARAMETERS
            value = values.get(f"link.{key}" if linked else f"o{i}.{key}", default)
            if value != default or type(value) is not type(default):
                q[f"o{i}.{key}"] = _fmt(value)
        sname = values.get(f"o{i}.sched", "constant")
        if sname == "constant":
            continue
        q[f"o{i}.sched"] = str(sname)
        if sname in schedules.NAMES:
            for pname, (default, _, _) in schedules.get(sname).params.items():
                value = values.get(f"o{i}.sched.{sname}.{pname}", default)
                q[f"o{i}.sched.{pname}"] = _text(value) if isinstance(value, tuple) else _fmt(value)
    return q


_DROPPED = re.compile(r"^ignored o(\d+): ")


def from_widgets(values: Mapping) -> Read:
    """The comparison the widget values describe, with a message in words for every value that
    was ignored (never raises for any value a widget can hold)."""
    n = _n_runs(values)
    comparison, notices = config.from_query(to_query(values))
    dropped = set()
    for notice in notices:
        m = _DROPPED.match(notice)
        if m:
            dropped.add(int(m.group(1)))
    slots = tuple(i for i in range(n) if i not in dropped)
    messages = [humanise(notice, values) for notice in notices]
    if not slots:
        messages.append(
            "No run can be drawn with these settings: the race shows the default comparison's "
            "runs until one of yours can run."
        )
    return Read(comparison, tuple(messages), slots)


# ---- messages in words ------------------------------------------------------------------------


_TOKEN = re.compile(r"'(\w+)'|\b([A-Za-z]\w*)\.(\w+)\b|\b([A-Za-z]\w*)\b")
_NUMBER = re.compile(r"(?<![\w.])(-?\d+\.?\d*(?:e[+-]?\d+)?)(?![\w.])")
_BARE = {"lr", "eps", "beta1", "beta2", "True", "False", "None"}


def _lookup(name: str) -> str | None:
    """The words for an identifier of any kind, or None if it is not one of ours."""
    if name in labels.OPTIONS:
        return labels.OPTIONS[name]
    if name in optimizers.NAMES:
        return labels.optimizer(name)
    if name in surfaces.NAMES:
        return labels.surface(name)
    if name in schedules.NAMES:
        return labels.schedule(name)
    for table in labels.SCHEDULE_PARAMS.values():
        if name in table:
            return table[name]
    return {"True": "on", "False": "off", "None": labels.MISSING}.get(name)


def _words(text: str) -> str:
    """Identifiers and numbers inside a validator's message as people read them, in one pass
    each (so a label is never itself rewritten)."""

    def sub(m: re.Match) -> str:
        if m.group(1):
            return _lookup(m.group(1)) or m.group(0)
        if m.group(2):
            owner, name = m.group(2), m.group(3)
            if owner in surfaces.NAMES:
                return labels.surface_param(owner, name)
            if owner == "schedule":
                return _lookup(name) or labels.readable(name)
            return m.group(0)
        token = m.group(4)
        if "_" in token or token in _BARE:
            return _lookup(token) or labels.readable(token)
        return token

    text = _NUMBER.sub(_number_sub, text)
    return _TOKEN.sub(sub, text)


def _number_sub(m: re.Match) -> str:
    try:
        v = float(m.group(1))
    except ValueError:
        return m.group(1)
    return labels.number(v) if math.isfinite(v) else m.group(1)


def _run_name(values: Mapping, i: int) -> str:
    name = values.get(f"o{i}.opt")
    title = labels.optimizer(name) if name in optimizers.NAMES else "unknown optimizer"
    return f"run {i + 1} ({title})"


def humanise(notice: str, values: Mapping) -> str:
    """One of :func:`optviz.config.from_query`'s notices about widget values, in words."""
    m = re.match(r"^ignored o(\d+)\.sched\.?\w*: (.*)$", notice) or re.match(
        r"^ignored the schedule of o(\d+): (.*)$", notice
    )
    if m:
        i = int(m.group(1))
        return f"{_run_name(values, i)}: schedule ignored (constant η used): {_words(m.group(2))}"
    m = re.match(r"^ignored o(\d+)\.(\w+): (.*)$", notice)
    if m:
        i, option = int(m.group(1)), m.group(2)
        default = ""
        name = values.get(f"o{i}.opt")
        if name in optimizers.NAMES and option in optimizers.get(name).defaults:
            shown = labels.value(option, optimizers.get(name).defaults[option])
            default = f" (default {shown} used)"
        what = labels.option(option) if option in labels.OPTIONS else labels.readable(option)
        return f"{_run_name(values, i)}: {what} ignored{default}: {_words(m.group(3))}"
    m = _DROPPED.match(notice)
    if m:
        i = int(m.group(1))
        return f"{_run_name(values, i)} left out of the race: {_words(notice[m.end() :])}"
    m = re.match(r"^ignored start=.*?: (.*)$", notice)
    if m:
        return f"Start point ignored (the surface's default start used): {_words(m.group(1))}"
    m = re.match(r"^ignored formula=.*?: (.*); using (.*)$", notice)
    if m:
        return f"Your f(x, y) is not drawn (the default {m.group(2)} is): {_words(m.group(1))}"
    m = re.match(r"^ignored surface parameters: (.*)$", notice)
    if m:
        return f"Surface parameters ignored (defaults used): {_words(m.group(1))}"
    m = re.match(r"^ignored sp\.(\w+): (.*)$", notice)
    if m:
        what = labels.surface_param(str(values.get("surface")), m.group(1))
        return f"{what} ignored (default used): {_words(m.group(2))}"
    m = re.match(r"^ignored (steps|seed)=.*?: (.*)$", notice)
    if m:
        return f"{m.group(1)} ignored (default used): {_words(m.group(2))}"
    return _words(notice[0].upper() + notice[1:]) if notice else notice


# ---- run slots ----------------------------------------------------------------------------------


def slot_keys(values: Mapping, i: int) -> list[str]:
    """The keys of run slot i that hold its state (not its buttons or helper boxes)."""
    option_names = set(labels.OPTIONS) | {
        k for n in optimizers.NAMES for k in optimizers.get(n).defaults
    }
    out = []
    for key in values:
        m = SLOT_KEY.match(key) if isinstance(key, str) else None
        if not m or int(m.group(1)) != i:
            continue
        rest = m.group(2)
        if rest in ("opt", "sched") or rest.startswith("sched.") or rest in option_names:
            out.append(key)
    return out


def remove_slot(values: Mapping, i: int) -> tuple[dict[str, object], list[str]]:
    """Remove run slot i: (the keys to set, the keys to delete). The slots after it move down
    one place with all their values; the slot's comparison run need not be valid."""
    n = _n_runs(values)
    if not 0 <= i < n or n <= 1:
        return {}, []
    updates: dict[str, object] = {"n_runs": n - 1}
    for k in range(i, n):
        for key in slot_keys(values, k):
            if k > i:
                updates[f"o{k - 1}." + key.split(".", 1)[1]] = values[key]
    stale = [
        key
        for key in slot_keys(values, n - 1) + slot_keys(values, i)
        if key not in updates and key in values
    ]
    return updates, sorted(set(stale))


def add_slot(values: Mapping) -> dict[str, object]:
    """A new run slot at the end: the first first-order optimizer not in use (Adam when all
    are), at its defaults. Empty when the comparison already has the most runs."""
    n = _n_runs(values)
    if n >= config.MAX_RUNS:
        return {}
    used = {values.get(f"o{k}.opt") for k in range(n)}
    name = next((o for o in optimizers.FIRST_ORDER if o not in used), comparison.FALLBACK_OPTIMIZER)
    return {"n_runs": n + 1, **run_widgets(n, RunSpec(name))}
