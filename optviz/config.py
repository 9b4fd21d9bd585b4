"""A comparison as plain data, its permalink (URL query string) codec, and how to run it.

The app, the presets and ``python -m optviz export`` all speak :class:`Comparison`; the query
string is its serialisation, so a copied link reopens exactly the same comparison.

Query string keys (all optional; anything missing takes its default)::

    surface=ravine          sp.kappa=50  sp.angle=30      (surface parameters)
    surface=formula  formula=x^2+10*sin(y)  sp.xmin=-3 sp.xmax=3 sp.ymin=-5 sp.ymax=5
                            (your own f(x, y): its text and plot bounds; URL-encode + as %2B)
    start=-2.5,1.0          steps=500    seed=0
    proj=1 (projection mode)    link=1 (one set of sliders for every run)
    lesson=1 (lesson mode: runs hidden until Reveal)    question=saddle_ridge (a preset's question)
    o0=adam  o0.lr=0.001  o0.beta1=0.9  o0.eps_placement=inside    (run 0 and its options)
    o0.sched=step  o0.sched.step_size=100  o0.sched.gamma=0.5      (run 0's LR schedule)
    o1=momentum ...                                                (runs 1, 2, …)

Malformed, out-of-range, unknown or repeated keys are ignored, each with a notice saying which
and why; nothing in the query string is ever evaluated as code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import surfaces
from optviz import engine, optimizers, schedules

MAX_RUNS = 8
MAX_STEPS = 5000
DEFAULT_STEPS = 150


@dataclass(frozen=True)
class RunSpec:
    """One optimizer of a comparison: its name, the options it overrides, its schedule."""

    optimizer: str
    options: dict = field(default_factory=dict)  # lr, beta1, … and convention options
    schedule: dict | None = None  # resolved schedule, None for constant η

    @property
    def resolved(self) -> dict:
        """Every option, defaults included."""
        return optimizers.resolve(self.optimizer, self.options)

    def label(self) -> str:
        """Short legend text with the settings that matter: "Adam η=0.001 β₁=0.9 β₂=0.999"
        (:func:`optviz.labels.run_label`, the words the app and every export use)."""
        from optviz import labels  # labels reads RunSpecs; imported here to avoid a cycle

        return labels.run_label(self)


@dataclass(frozen=True)
class Comparison:
    """Everything that decides what is drawn: surface, start, steps, seed and the runs."""

    # The default is the first lecture scenario: GD zig-zags across the rotated ravine (κ = 50,
    # η just below the stability limit 2/κ) while momentum glides along it.
    surface: str = "ravine"
    surface_params: dict = field(default_factory=dict)
    start: tuple[float, float] | None = None  # None: the surface's default start
    steps: int = DEFAULT_STEPS
    seed: int = 0
    runs: tuple[RunSpec, ...] = (
        RunSpec("gd", {"lr": 0.038}),
        RunSpec("momentum", {"lr": 0.004}),  # β₁ = 0.9, its default
    )
    projection: bool = False
    linked: bool = False  # the app shows one set of η, β₁, β₂, ε sliders for every run
    lesson: bool = False  # lesson mode: the runs stay hidden until the lecturer reveals them
    question: str | None = None  # the preset whose question is asked (optviz.presets)

    def surface_obj(self) -> surfaces.Surface:
        return surfaces.get(self.surface, **self.surface_params)

    def start_point(self) -> tuple[float, float]:
        return self.start if self.start is not None else self.surface_obj().start

    def with_run(self, i: int, run: RunSpec) -> Comparison:
        runs = list(self.runs)
        runs[i] = run
        return replace(self, runs=tuple(runs))


def run_comparison(c: Comparison) -> list[engine.Trajectory]:
    """Every run of ``c`` from the common start, with the same seed (same batches and noise)."""
    surf = c.surface_obj()
    return [
        engine.run(
            r.optimizer,
            surf,
            start=c.start_point(),
            steps=c.steps,
            schedule=r.schedule,
            seed=c.seed,
            **r.options,
        )
        for r in c.runs
    ]


# ---- query string ---------------------------------------------------------------------------


def _fmt(v: object) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return repr(v)  # shortest text that round-trips exactly
    if isinstance(v, tuple):
        return ",".join(_fmt(e) for e in v)
    return str(v)


def to_query(c: Comparison) -> dict[str, str]:
    """The query-string dict of ``c`` (only what differs from the defaults)."""
    q: dict[str, str] = {"surface": c.surface}
    for k, v in sorted(c.surface_params.items()):
        if k == "formula":  # the typed f(x, y): its own key, the text as typed
            q["formula"] = str(v)
            continue
        q[f"sp.{k}"] = _fmt(v)
    if c.start is not None:
        q["start"] = _fmt((float(c.start[0]), float(c.start[1])))
    if c.steps != DEFAULT_STEPS:
        q["steps"] = str(c.steps)
    if c.seed:
        q["seed"] = str(c.seed)
    if c.projection:
        q["proj"] = "1"
    if c.linked:
        q["link"] = "1"
    if c.lesson:
        q["lesson"] = "1"
    if c.question:
        q["question"] = c.question
    for i, r in enumerate(c.runs):
        q[f"o{i}"] = r.optimizer
        for k, v in sorted(r.options.items()):
            q[f"o{i}.{k}"] = _fmt(v)
        if r.schedule and r.schedule["name"] != "constant":
            q[f"o{i}.sched"] = r.schedule["name"]
            for k, v in r.schedule.items():
                if k != "name":
                    q[f"o{i}.sched.{k}"] = _fmt(v)
    return q


def _single(params: Mapping, notices: list[str]) -> dict[str, str]:
    """One string per key; repeated keys are dropped with a notice."""
    out: dict[str, str] = {}
    for key in params:
        value = params[key]
        if isinstance(value, list | tuple):
            if len(value) != 1:
                notices.append(f"ignored repeated parameter {key!r}")
                continue
            value = value[0]
        out[str(key)] = str(value)
    return out


def _parse_value(text: str, like: object) -> object:
    """Parse ``text`` as the type of the default ``like`` (bool, int, float, str, tuple)."""
    if isinstance(like, bool):
        if text in ("1", "true", "True", "on"):
            return True
        if text in ("0", "false", "False", "off"):
            return False
        raise ValueError(f"expected on/off, got {text!r}")
    if isinstance(like, int):
        return int(text)
    if isinstance(like, float):
        v = float(text)
        if not math.isfinite(v):
            raise ValueError(f"expected a finite number, got {text!r}")
        return v
    if isinstance(like, tuple):
        return tuple(float(e) for e in text.split(","))
    return text


def _list_params(sname: str) -> set[str]:
    """The parameters of schedule ``sname`` that take a list of numbers."""
    try:
        params = schedules.get(sname).params
    except ValueError:
        return set()
    return {p for p, (default, _, _) in params.items() if isinstance(default, tuple)}


def _start_problem(surf: surfaces.Surface) -> str | None:
    """Why a run from ``surf``'s default start cannot start (None when it can)."""
    try:
        engine.check_start(surf, tuple(surf.start))
    except ValueError as e:
        return str(e).replace("at start", "at the default start")
    return None


def _runnable_default_start(
    surface: str, surf: surfaces.Surface, sp: dict, notices: list[str]
) -> tuple[surfaces.Surface, dict]:
    """``surf`` if its default start is runnable; else the surface with default parameters, then
    (a typed formula not finite anywhere on its plot) the default formula, each with a notice."""
    problem = _start_problem(surf)
    if problem is not None and any(k != "formula" for k in sp):
        notices.append(f"ignored surface parameters: {problem}")
        sp = {k: v for k, v in sp.items() if k == "formula"}
        surf = surfaces.get(surface, **sp)
        problem = _start_problem(surf)
    if problem is not None and "formula" in sp:
        notices.append(
            f"ignored formula={str(sp['formula'])[:40]!r}: {problem}; using "
            f"{surfaces.FORMULA_DEFAULT}"
        )
        sp = {}
        surf = surfaces.get(surface)
    return surf, sp


def from_query(params: Mapping) -> tuple[Comparison, list[str]]:
    """Parse a query string (``st.query_params`` or ``urllib.parse.parse_qs`` output).

    Returns the comparison and a list of notices, one per ignored parameter. Never raises for
    bad input: every bad value falls back to its default.
    """
    notices: list[str] = []
    q = _single(params, notices)
    used: set[str] = set()
    base = Comparison()

    def take(key: str) -> str | None:
        used.add(key)
        return q.get(key)

    surface = take("surface") or base.surface
    if surface not in surfaces.NAMES:
        notices.append(f"ignored unknown surface {surface[:40]!r}; using {base.surface}")
        surface = base.surface
    accepted = surfaces.all_params(surfaces.spec(surface))
    sp: dict = {}
    text = take("formula")
    if surface == "formula" and text is not None:
        try:
            surfaces.formula.compile_formula(text)
            sp["formula"] = text
        except ValueError as e:
            notices.append(f"ignored formula={text[:40]!r}: {e}; using {surfaces.FORMULA_DEFAULT}")
    elif text is not None:
        notices.append("ignored formula: it needs surface=formula")
    for key in [k for k in q if k.startswith("sp.")]:
        used.add(key)
        name = key[3:]
        if name not in accepted:
            notices.append(f"ignored {key}: {surface} has no parameter {name!r}")
            continue
        prm = accepted[name]
        try:
            v = float(q[key])
            v = int(v) if prm.integer and v == int(v) else v
            if surface == "formula":  # bounds are checked together below (xmin < xmax)
                surfaces.catalog.check_param(surface, name, v)
            else:
                surfaces.get(surface, **{name: v})
        except (ValueError, OverflowError) as e:
            notices.append(f"ignored {key}: {e}")
            continue
        sp[name] = v
    try:
        surf = surfaces.get(surface, **sp)
    except ValueError as e:  # parameters valid alone but not together
        notices.append(f"ignored surface parameters: {e}")
        sp = {k: v for k, v in sp.items() if k == "formula"}
        surf = surfaces.get(surface, **sp)

    start = None
    text = take("start")
    if text is not None:
        try:
            x, y = (float(e) for e in text.split(","))
        except ValueError:
            notices.append(f"ignored start={text[:40]!r}: expected two finite numbers 'x,y'")
        else:
            try:
                start = engine.check_start(surf, (x, y))
            except ValueError as e:
                notices.append(f"ignored start={text[:40]!r}: {e}")

    if start is None:  # the surface's default start must run too (a typed f may be ∞ there)
        surf, sp = _runnable_default_start(surface, surf, sp, notices)

    def integer(key: str, default: int, low: int, high: int) -> int:
        text = take(key)
        if text is None:
            return default
        try:
            v = int(text)
            if low <= v <= high:
                return v
        except ValueError:
            pass
        notices.append(f"ignored {key}={text[:40]!r}: expected a whole number in [{low}, {high}]")
        return default

    steps = integer("steps", base.steps, 1, MAX_STEPS)
    seed = integer("seed", base.seed, 0, 2**31 - 1)

    def flag(key: str) -> bool:
        text = take(key)
        if text is not None:
            try:
                return bool(_parse_value(text, False))
            except ValueError:
                notices.append(f"ignored {key}={text[:40]!r}: expected 0 or 1")
        return False

    projection = flag("proj")
    linked = flag("link")
    lesson = flag("lesson")
    question = take("question")
    if question is not None:
        from optviz import presets  # presets imports this module

        if question not in presets.QUESTIONS:
            notices.append(f"ignored question={question[:40]!r}: no preset asks that")
            question = None

    runs: list[RunSpec] = []
    for i in range(MAX_RUNS):
        name = take(f"o{i}")
        if name is None:
            continue
        prefix = f"o{i}."
        keys = [k for k in q if k.startswith(prefix)]
        used.update(keys)
        if name not in optimizers.NAMES:
            notices.append(f"ignored o{i}: unknown optimizer {name[:40]!r}")
            continue
        opt = optimizers.get(name)
        options: dict = {}
        # Convention options first: what a value may be can depend on them (β₁ = 1 is valid
        # for momentum_form=sum only).
        for key in sorted(keys, key=lambda k: k[len(prefix) :] not in optimizers.CHOICE_OPTIONS):
            sub = key[len(prefix) :]
            if sub.startswith("sched"):
                continue
            if sub not in opt.defaults:
                notices.append(f"ignored {key}: {name} has no option {sub!r}")
                continue
            try:
                v = _parse_value(q[key], opt.defaults[sub])
                optimizers.resolve(name, {**options, sub: v})
            except ValueError as e:
                notices.append(f"ignored {key}: {e}")
                continue
            options[sub] = v
        schedule = None
        sname = q.get(prefix + "sched")
        if sname is not None:
            raw: dict = {"name": sname}
            lists = _list_params(sname)
            for key in keys:
                if key.startswith(prefix + "sched."):
                    pname = key[len(prefix + "sched.") :]
                    text = q[key]
                    # A list parameter of one entry ("boundaries=100") is still a list.
                    split = "," in text or pname in lists
                    raw[pname] = tuple(text.split(",")) if split else text
            try:
                schedule = schedules.resolve(raw)
            except ValueError as e:
                notices.append(f"ignored the schedule of o{i}: {e}")
        try:
            engine.pack_options(name, surf, options)
        except ValueError as e:
            notices.append(f"ignored o{i}: {e}")
            continue
        runs.append(RunSpec(name, options, schedule))
    for key in sorted(set(q) - used):
        notices.append(f"ignored unknown parameter {key[:40]!r}")
    return (
        Comparison(
            surface=surface,
            surface_params=sp,
            start=start,
            steps=steps,
            seed=seed,
            runs=tuple(runs) if runs else base.runs,
            projection=projection,
            linked=linked,
            lesson=lesson,
            question=question,
        ),
        notices,
    )
