"""Learning-rate schedules η_t (t = 0 for the first update), as the lectures write them.

The ``epoch_*`` schedules and ``performance`` count in epochs, numbered from 1 as the mini-batch
deck (001) and the Polish deck (003) do: an epoch is one pass over the data, ⌈n/B⌉ updates on
the data surface (noisy_linreg) with batch size B, one update elsewhere (full-batch gradient:
003, "jedna epoka = jedna iteracja"). So epoch = ⌊t / L⌋ + 1 with L updates per epoch.

A schedule is given to :func:`optviz.run` as ``None`` (constant), a name, or a mapping
``{"name": ..., **params}``. The kernel evaluates it (:func:`optviz._kernel.scheduled_lr`);
this module documents, validates and packs the parameters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from optviz import _layout as L


@dataclass(frozen=True)
class Schedule:
    name: str
    id: int
    title: str
    latex: str
    source: str  # which lecture shows it
    params: dict  # name -> (default, low, high)
    epochs: bool = False  # counted in (1-based) epochs instead of updates


_SCHEDULES = {
    s.name: s
    for s in (
        Schedule("constant", L.S_CONSTANT, "Constant", r"\eta_t = \eta", "all", {}),
        Schedule(
            "step",
            L.S_STEP,
            "Step decay",
            r"\eta_t = \eta\,\gamma^{\lfloor t / s \rfloor}",
            # 002: "Step decay: e.g. decay learning rate by half every few epochs."
            "CS231n (halve every few epochs; here every s updates)",
            {"step_size": (100.0, 1.0, 1e6), "gamma": (0.5, 0.0, 1.0)},
        ),
        Schedule(
            "exponential",
            L.S_EXPONENTIAL,
            "Exponential decay",
            r"\eta_t = \eta\, e^{-k t}",
            # 002: "Exponential decay: \alpha = \alpha_0 e^{-kt}"
            "CS231n α = α₀e^(−kt), t in updates; the mini-batch deck's 0.95^epoch is "
            "epoch_exponential",
            {"k": (0.005, 0.0, 10.0)},
        ),
        Schedule(
            "inverse_time",
            L.S_INVERSE_TIME,
            "1/t decay",
            r"\eta_t = \frac{\eta}{1 + k t}",
            # 002: "decay: \alpha = \frac{\alpha_0}{1+kt}"
            "CS231n α₀/(1+kt), t in updates; the mini-batch deck's α₀/(1 + decay_rate·epoch) is "
            "epoch_inverse_time",
            {"k": (0.01, 0.0, 1e3)},
        ),
        Schedule(
            "power",
            L.S_POWER,
            "Power scheduling",
            r"\eta_t = \frac{\eta}{(1 + t / c_1)^{c_2}}",
            # 003: "\eta_i = \frac{\eta_0}{(1 + i / c_1)^{c_2}}", "i oznacza nr iteracji", "W
            # Kerasie c_2=1 i \text{decay}=1/c_1".
            "Polish lecture (Keras decay = 1/c₁, c₂ = 1)",
            {"c1": (100.0, 1e-6, 1e9), "c2": (1.0, 0.0, 10.0)},
        ),
        Schedule(
            "piecewise",
            L.S_PIECEWISE,
            "Piecewise constant",
            r"\eta_t = \eta \cdot f_j \ \text{ for } b_j \le t < b_{j+1}",
            # 003: "przez pierwsze kilka epok może on wynosić 0,1, przez kolejne kilkanaście 0,01 a
            # następnie 0,001" (counted in epochs there; boundaries b_j here are in updates).
            "Polish lecture (0.1, then 0.01, then 0.001; boundaries here in updates)",
            {"boundaries": ((100.0, 300.0), 0.0, 1e9), "factors": ((1.0, 0.1, 0.01), 0.0, 1e6)},
        ),
        Schedule(
            "plateau",
            L.S_PLATEAU,
            "Reduce on plateau",
            r"\eta_t = \eta\cdot \text{factor}^{\#\text{plateaus}}",
            # 003: "Jeżeli wartość funkcji celu na zbiorze walidacyjnym przestaje maleć w kolejnych
            # epokach, to zmniejszam współczynnik uczenia." (its MATLAB rule is `performance`)
            "Polish lecture (performance scheduling); torch ReduceLROnPlateau on the loss",
            {
                "factor": (0.1, 0.0, 1.0),
                "patience": (10.0, 0.0, 1e9),
                "threshold": (1e-4, 0.0, 1.0),
                "min_lr": (0.0, 0.0, 1e6),
            },
        ),
        Schedule(
            "sgdr",
            L.S_SGDR,
            "Cosine with warm restarts (SGDR)",
            r"\eta_t = \eta_{\min} + \tfrac12(\eta-\eta_{\min})"
            r"\left(1+\cos\frac{\pi\, t_{\mathrm{cur}}}{T_i}\right)",
            # 002: "Loshchilov and Hutter, "SGDR: Stochastic gradient descent with restarts""
            "CS231n (SGDR / snapshot ensembles); torch CosineAnnealingWarmRestarts",
            {"T_0": (100.0, 1.0, 1e9), "T_mult": (1.0, 1.0, 100.0), "eta_min": (0.0, 0.0, 1e6)},
        ),
        # 001: "\alpha = \frac{\alpha_0}{1 + decay_{rate} * epoch_{num}}", "Epoch 1: \alpha = 0.2 /
        # (1+1*1) = 0.1" (decay rate = 1 in its worked example).
        Schedule(
            "epoch_inverse_time",
            L.S_EPOCH_INVERSE_TIME,
            "1/(1 + decay·epoch)",
            r"\eta_t = \frac{\eta}{1 + \text{decay}\cdot \text{epoch}}",
            "mini-batch deck (Ng): α = α₀/(1 + decay_rate·epoch_num), epochs from 1",
            {"decay_rate": (1.0, 0.0, 1e3)},
            epochs=True,
        ),
        # 001: "\alpha = 0.95^{epoch_num} * \alpha_0 — *exponentially_decay*".
        Schedule(
            "epoch_exponential",
            L.S_EPOCH_EXPONENTIAL,
            "base^epoch decay",
            r"\eta_t = \text{base}^{\,\text{epoch}}\, \eta",
            "mini-batch deck (Ng): α = 0.95^epoch_num · α₀",
            {"base": (0.95, 0.0, 1.0)},
            epochs=True,
        ),
        # 001: "\alpha = \frac{k}{\sqrt{epoch_num}} * \alpha_0".
        Schedule(
            "epoch_inverse_sqrt",
            L.S_EPOCH_INVERSE_SQRT,
            "k/√epoch decay",
            r"\eta_t = \frac{k}{\sqrt{\text{epoch}}}\, \eta",
            "mini-batch deck (Ng): α = k/√epoch_num · α₀",
            {"k": (1.0, 0.0, 1e6)},
            epochs=True,
        ),
        # 003: "przez pierwsze kilka epok może on wynosić 0,1, przez kolejne kilkanaście 0,01 a
        # następnie 0,001"; its Keras code: "if epoch < 5: return 0.1 / elif epoch < 20: return
        # 0.01 / else: return 0.001" (Keras counts from 0: the first 5 epochs, the next 15).
        Schedule(
            "epoch_piecewise",
            L.S_EPOCH_PIECEWISE,
            "Piecewise constant in epochs",
            r"\eta_t = \eta \cdot f_j \ \text{ for } b_j < \text{epoch} \le b_{j+1}",
            "Polish deck: 0.1 for the first 5 epochs, 0.01 for the next 15, then 0.001",
            {"boundaries": ((5.0, 20.0), 0.0, 1e9), "factors": ((1.0, 0.1, 0.01), 0.0, 1e6)},
            epochs=True,
        ),
        # 003: "W matlabie jeżeli w kolejnej epoce E maleje to współczynnik uczenia jest
        # zwiększany o 5%, a w przeciwnym razie jest zmniejszany o 30%."
        Schedule(
            "performance",
            L.S_PERFORMANCE,
            "Performance rule (+5 % / −30 %)",
            r"\eta_{e} = \begin{cases} 1.05\,\eta_{e-1} & E_{e} < E_{e-1} \\"
            r" 0.7\,\eta_{e-1} & \text{otherwise} \end{cases}",
            "Polish deck (MATLAB's rule): +5 % if the loss E fell over the last epoch, else −30 %",
            {"increase": (1.05, 1.0, 10.0), "decrease": (0.7, 0.0, 1.0)},
            epochs=True,
        ),
    )
}

NAMES: tuple[str, ...] = tuple(_SCHEDULES)
MAX_PIECES = 8


def get(name: str) -> Schedule:
    if not isinstance(name, str) or name not in _SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; valid schedules: {', '.join(NAMES)}")
    return _SCHEDULES[name]


def resolve(schedule: None | str | Mapping) -> dict:
    """A complete, validated ``{"name": ..., **params}`` for a schedule argument."""
    if schedule is None:
        return {"name": "constant"}
    if isinstance(schedule, str):
        schedule = {"name": schedule}
    if not isinstance(schedule, Mapping) or "name" not in schedule:
        raise ValueError(f"schedule must be a name or a mapping with 'name', got {schedule!r}")
    s = get(schedule["name"])
    unknown = sorted(set(schedule) - {"name"} - set(s.params))
    if unknown:
        raise ValueError(
            f"schedule {s.name!r} has no parameter {unknown[0]!r}; "
            f"valid: {', '.join(s.params) or 'none'}"
        )
    out: dict = {"name": s.name}
    for key, (default, low, high) in s.params.items():
        v = schedule.get(key, default)
        if isinstance(default, tuple):
            if isinstance(v, str):  # "100,300", or one boundary "100" (a permalink's text)
                v = v.split(",")
            elif isinstance(v, int | float):
                v = (v,)
            try:
                v = tuple(float(e) for e in v)
            except (TypeError, ValueError):
                raise ValueError(f"schedule.{key} must be a list of numbers, got {v!r}") from None
            if any(not (math.isfinite(e) and low <= e <= high) for e in v):
                raise ValueError(f"schedule.{key} entries must be in [{low:g}, {high:g}]")
        else:
            try:
                v = float(v)
            except (TypeError, ValueError):
                raise ValueError(f"schedule.{key} must be a number, got {v!r}") from None
            if not (math.isfinite(v) and low <= v <= high):
                raise ValueError(f"schedule.{key} must be in [{low:g}, {high:g}], got {v!r}")
        out[key] = v
    if s.name in ("piecewise", "epoch_piecewise"):
        b, f = out["boundaries"], out["factors"]
        if len(b) > MAX_PIECES or len(f) != len(b) + 1 or list(b) != sorted(b):
            raise ValueError(
                f"piecewise schedule needs ≤ {MAX_PIECES} increasing boundaries and one more "
                f"factor than boundaries, got {len(b)} boundaries and {len(f)} factors"
            )
    if s.name == "sgdr" and out["T_mult"] != int(out["T_mult"]):
        raise ValueError("schedule.T_mult must be a whole number (as in torch)")
    return out


def updates_per_epoch(surface: object) -> int:
    """Updates in one epoch on ``surface`` (a :class:`surfaces.Surface`): ⌈n/B⌉ on a data
    surface with mini-batches of B of its n points, else 1 (full-batch: one update per epoch)."""
    n = int(surface.data_y.shape[0])  # type: ignore[attr-defined]
    b = int(surface.batch_size)  # type: ignore[attr-defined]
    if n == 0 or b <= 0 or b >= n:
        return 1
    return -(-n // b)


def pack(resolved: dict, per_epoch: int = 1) -> tuple[int, np.ndarray]:
    """(kernel id, parameter vector) of a resolved schedule; ``per_epoch`` is the number of
    updates in an epoch (:func:`updates_per_epoch`), used by the schedules counted in epochs."""
    s = get(resolved["name"])
    sp = np.zeros(L.N_SCHED)
    sp[L.SP_EPOCH_LEN] = max(int(per_epoch), 1)
    if s.name in ("piecewise", "epoch_piecewise"):
        b, f = resolved["boundaries"], resolved["factors"]
        sp[0] = len(b)
        sp[1 : 1 + len(b)] = b
        sp[9 : 9 + len(f)] = f
    else:
        for i, key in enumerate(s.params):
            sp[i] = resolved[key]
    return s.id, sp
