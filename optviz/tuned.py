"""A sensible learning rate η per surface and first-order optimizer, found by running them.

When a run switches optimizer, its η becomes the new optimizer's default (Adam's 0.001 barely
moves on the ravine); when the surface changes, η stays (GD's 0.038 from the ravine diverges
at step 3 on Rosenbrock). The app says so and offers the value from :data:`TABLE` in one click.

How the table was made (:func:`search`, re-run by a test that compares it with :data:`TABLE`):
on each surface at its default parameters, from its default start, for the app's default 150
steps and seed 0, every η on the round stops 1, 2, 5 × 10ᵏ (10⁻⁵ … 10) was run. Each η scores
the worse final loss of itself and the next stop up (a run that diverged or escaped scores ∞),
and the lowest score wins, the smaller η on a tie: the pick converges well and keeps a margin
from the edge of stability.
Surfaces without a minimum to reach (the saddles) have no entry: leaving is the lesson there.
Second-order methods have none either: their η is a step fraction, 1 by design.
"""

from __future__ import annotations

import numpy as np

import surfaces
from optviz import config, engine, optimizers

STOPS: tuple[float, ...] = tuple(float(f"{m}e{k}") for k in range(-5, 1) for m in (1, 2, 5)) + (
    10.0,
)

# {surface: {optimizer: η}}, printed by ``python -m optviz.tuned``.
TABLE: dict[str, dict[str, float]] = {
    "ravine": {
        "gd": 0.01,
        "momentum": 0.01,
        "nesterov": 0.01,
        "adagrad": 2.0,
        "rmsprop": 0.2,
        "adam": 0.5,
        "nadam": 0.5,
        "adamw": 5.0,
        "amsgrad": 0.5,
        "radam": 0.02,
        "rprop": 0.1,
        "adabelief": 0.5,
        "adagrad_full": 1.0,
        "qhm": 0.05,
        "qhadam": 2.0,
        "lion": 0.05,
        "adamax": 2.0,
    },
    "plateau": {
        "gd": 5.0,
        "momentum": 1.0,
        "nesterov": 0.5,
        "adagrad": 0.5,
        "rmsprop": 0.02,
        "adam": 1.0,
        "nadam": 0.05,
        "adamw": 1.0,
        "amsgrad": 1.0,
        "radam": 1.0,
        "rprop": 0.01,
        "adabelief": 0.5,
        "adagrad_full": 0.5,
        "qhm": 5.0,
        "qhadam": 0.1,
        "lion": 0.05,
        "adamax": 0.5,
    },
    "noisy_linreg": {
        "gd": 0.1,
        "momentum": 0.02,
        "nesterov": 0.1,
        "adagrad": 2.0,
        "rmsprop": 0.2,
        "adam": 0.2,
        "nadam": 0.2,
        "adamw": 0.2,
        "amsgrad": 0.2,
        "radam": 0.5,
        "rprop": 0.0005,
        "adabelief": 0.2,
        "adagrad_full": 2.0,
        "qhm": 0.2,
        "qhadam": 1.0,
        "lion": 0.2,
        "adamax": 0.5,
    },
    "rosenbrock": {
        "gd": 0.001,
        "momentum": 0.001,
        "nesterov": 0.0005,
        "adagrad": 2.0,
        "rmsprop": 0.2,
        "adam": 0.5,
        "nadam": 2.0,
        "adamw": 1.0,
        "amsgrad": 0.5,
        "radam": 0.0001,
        "rprop": 0.1,
        "adabelief": 1.0,
        "adagrad_full": 2.0,
        "qhm": 0.002,
        "qhadam": 0.2,
        "lion": 0.01,
        "adamax": 2.0,
    },
    "beale": {
        "gd": 0.01,
        "momentum": 0.005,
        "nesterov": 0.002,
        "adagrad": 1.0,
        "rmsprop": 0.1,
        "adam": 0.2,
        "nadam": 0.2,
        "adamw": 0.2,
        "amsgrad": 0.2,
        "radam": 0.005,
        "rprop": 0.2,
        "adabelief": 0.2,
        "adagrad_full": 1.0,
        "qhm": 0.05,
        "qhadam": 0.1,
        "lion": 0.05,
        "adamax": 1.0,
    },
    "himmelblau": {
        "gd": 0.01,
        "momentum": 0.01,
        "nesterov": 0.005,
        "adagrad": 1.0,
        "rmsprop": 0.1,
        "adam": 0.5,
        "nadam": 0.1,
        "adamw": 0.5,
        "amsgrad": 0.5,
        "radam": 0.02,
        "rprop": 1.0,
        "adabelief": 1.0,
        "adagrad_full": 0.5,
        "qhm": 0.02,
        "qhadam": 0.2,
        "lion": 0.05,
        "adamax": 0.1,
    },
    "rastrigin": {
        "gd": 0.0005,
        "momentum": 0.0002,
        "nesterov": 0.0005,
        "adagrad": 1.0,
        "rmsprop": 0.1,
        "adam": 0.1,
        "nadam": 0.02,
        "adamw": 0.1,
        "amsgrad": 0.1,
        "radam": 0.005,
        "rprop": 1e-05,
        "adabelief": 0.1,
        "adagrad_full": 1.0,
        "qhm": 0.005,
        "qhadam": 0.05,
        "lion": 0.005,
        "adamax": 0.2,
    },
    "booth": {
        "gd": 0.02,
        "momentum": 0.05,
        "nesterov": 0.02,
        "adagrad": 5.0,
        "rmsprop": 5.0,
        "adam": 2.0,
        "nadam": 1.0,
        "adamw": 5.0,
        "amsgrad": 2.0,
        "radam": 0.01,
        "rprop": 0.1,
        "adabelief": 2.0,
        "adagrad_full": 5.0,
        "qhm": 0.1,
        "qhadam": 2.0,
        "lion": 0.2,
        "adamax": 2.0,
    },
    "sparse_logreg": {
        "gd": 5.0,
        "momentum": 5.0,
        "nesterov": 2.0,
        "adagrad": 2.0,
        "rmsprop": 0.2,
        "adam": 0.5,
        "nadam": 0.5,
        "adamw": 5.0,
        "amsgrad": 2.0,
        "radam": 2.0,
        "rprop": 1e-05,
        "adabelief": 1.0,
        "adagrad_full": 2.0,
        "qhm": 5.0,
        "qhadam": 1.0,
        "lion": 0.5,
        "adamax": 2.0,
    },
    "formula": {
        "gd": 0.05,
        "momentum": 0.002,
        "nesterov": 0.05,
        "adagrad": 0.5,
        "rmsprop": 0.05,
        "adam": 0.5,
        "nadam": 0.2,
        "adamw": 1.0,
        "amsgrad": 0.5,
        "radam": 0.1,
        "rprop": 2e-05,
        "adabelief": 0.5,
        "adagrad_full": 0.5,
        "qhm": 0.2,
        "qhadam": 0.5,
        "lion": 0.05,
        "adamax": 0.5,
    },
}


def search(surface: str, optimizer: str, steps: int = config.DEFAULT_STEPS) -> float | None:
    """The η of :data:`STOPS` with the lowest final loss on ``surface`` (None if every one
    diverged or escaped)."""
    surf = surfaces.get(surface)
    lrs = np.array(STOPS)
    starts = np.repeat(np.array([surf.start], float), lrs.size, axis=0)
    res = engine.run_batch(optimizer, surf, starts=starts, steps=steps, lr=lrs, seed=0)
    ok = (res.status == "ok") & np.isfinite(res.final_loss)
    loss = np.where(ok, res.final_loss, np.inf)
    # An η whose next stop does much worse sits on the edge of stability: score each η by the
    # worse of itself and its next stop, so the pick keeps a margin (GD on the ravine: 0.01,
    # not 0.02, whose next stop 0.05 diverges).
    score = np.maximum(loss, np.append(loss[1:], np.inf))
    if not np.isfinite(score).any():
        return None
    return float(lrs[int(np.argmin(score))])  # argmin takes the first (smallest η) on a tie


def build() -> dict[str, dict[str, float]]:
    """The whole table, by :func:`search`."""
    table: dict[str, dict[str, float]] = {}
    for name in surfaces.NAMES:
        if not surfaces.get(name).minima:
            continue
        row = {}
        for opt in optimizers.FIRST_ORDER:
            lr = search(name, opt)
            if lr is not None:
                row[opt] = lr
        table[name] = row
    return table


def lr_for(surface: str, optimizer: str) -> float | None:
    """The tuned η of ``optimizer`` on ``surface``, or None when there is none."""
    return TABLE.get(surface, {}).get(optimizer)


if __name__ == "__main__":
    print("TABLE: dict[str, dict[str, float]] = {")
    for name, row in build().items():
        print(f"    {name!r}: {{")
        for opt, lr in row.items():
            print(f"        {opt!r}: {lr!r},")
        print("    },")
    print("}")
