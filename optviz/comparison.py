"""What a comparison *is*, as the app, the exports and the command line need it (no Streamlit).

- :func:`normalized` / :func:`query_key`: a comparison's identity. Options equal to their
  defaults, a constant schedule, the surface's own default start and the display-only flags
  (projection, link, lesson) are dropped, so two setups that draw the same race compare equal
  (the app's caches, "(modified)" next to a preset, and the export panel's "still matches the
  screen" all key on it).
- :func:`run_labels`: the runs' names, "#1"/"#2" for identical ones — the one function the
  app's legend and table, the figures and every export format use.
- :func:`run_identity` / :func:`distinct_runs`: runs that differ in something the formula card
  shows (the formula cards list each once).
- :func:`default_start`: a surface's default start point for given parameters (the surface's
  defaults' when the parameters are bad), and :data:`FALLBACK_OPTIMIZER` /
  :func:`fallback_value`: the hyperparameter a linked slider starts from when no run has it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

import surfaces
from optviz import config, labels, optimizers, schedules
from optviz.config import Comparison, RunSpec

FALLBACK_OPTIMIZER = "adam"  # a hyperparameter no run has starts from this optimizer's default


def fallback_value(name: str) -> object:
    """The value a linked hyperparameter slider starts from when no run uses ``name``."""
    return optimizers.get(FALLBACK_OPTIMIZER).defaults[name]


def default_start(surface: str, params: Mapping) -> tuple[float, float] | None:
    """The default start of ``surface`` with ``params`` (its defaults' if the parameters are bad;
    None for an unknown surface)."""
    try:
        return surfaces.get(surface, **params).start
    except (ValueError, TypeError):
        try:
            return surfaces.get(surface).start
        except ValueError:
            return None


def normalized_run(run: RunSpec) -> RunSpec:
    """``run`` with options equal to their defaults dropped and a constant schedule as None."""
    defaults = optimizers.get(run.optimizer).defaults
    options = {k: v for k, v in run.resolved.items() if v != defaults[k]}
    schedule = run.schedule if run.schedule and run.schedule["name"] != "constant" else None
    return RunSpec(run.optimizer, options, schedule)


def normalized(c: Comparison) -> Comparison:
    """``c`` with options equal to their defaults dropped, so equal setups compare equal."""
    surf = c.surface_obj()
    start = None if c.start is None or tuple(c.start) == surf.start else c.start
    accepted = surfaces.all_params(surf.spec)
    sp = {
        k: v for k, v in c.surface_params.items() if k not in accepted or v != accepted[k].default
    }
    return replace(
        c, surface_params=sp, start=start, runs=tuple(normalized_run(r) for r in c.runs),
        projection=False, linked=False, lesson=False, question=None,
    )  # fmt: skip


def query_key(c: Comparison) -> tuple[tuple[str, str], ...]:
    """A hashable plain form of a comparison (its normalized permalink, without projection)."""
    return tuple(sorted(config.to_query(normalized(c)).items()))


def run_labels(c: Comparison | Sequence[RunSpec]) -> list[str]:
    """Every run's legend text, identical runs numbered "#k" (:func:`optviz.labels.run_labels`)."""
    runs = c.runs if isinstance(c, Comparison) else c
    return labels.run_labels(runs)


def run_identity(run: RunSpec) -> tuple:
    """What a run's formula card depends on: its optimizer, every option, its schedule."""
    sched = tuple(sorted(schedules.resolve(run.schedule).items()))
    return (run.optimizer, tuple(sorted(run.resolved.items())), sched)


def distinct_runs(runs: Iterable[RunSpec]) -> list[RunSpec]:
    """The runs with a formula card of their own: the first of each :func:`run_identity`."""
    seen: set[tuple] = set()
    out = []
    for run in runs:
        ident = run_identity(run)
        if ident not in seen:
            seen.add(ident)
            out.append(run)
    return out
