"""The words people read: every option, option value, schedule, schedule parameter and surface
parameter by its lecture name and symbol, numbers with 3–4 significant digits, and run labels.

The app, its results table and every export format take their text from here, so a student
never reads a Python identifier ("bias_correction=False", "[inverse_time]", "T_mult") and two
identical runs are "#1"/"#2" everywhere.

A name with no entry here still reads as words at run time (:func:`readable`), but under
``OPTVIZ_STRICT_LABELS=1`` (set by the tests) a missing entry raises ``LookupError``, so an
option or schedule added without its label fails the tests instead of reaching the room.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from typing import Any

import surfaces
from optviz import optimizers, schedules

MISSING = "—"  # shown for a value that does not exist (no minimum known, never reached, …)

# ---- names ----------------------------------------------------------------------------------

# Every float/int option and hyperparameter: lecture name and symbol.
OPTIONS: dict[str, str] = {
    "lr": "learning rate η",
    "beta1": "momentum β₁",
    "beta2": "squared-gradient decay β₂",
    "eps": "small constant ε",
    "weight_decay": "weight decay λ",
    "momentum_decay": "momentum decay ψ",
    "dampening": "dampening τ",
    "lr_decay": "η decay (η / (1 + (t − 1)·decay))",
    "lm_lambda": "initial damping ν₀",
    "history_size": "history size m",
    "nu": "immediate discount ν (QHM)",
    "nu1": "immediate discount ν₁ (QHAdam, numerator)",
    "nu2": "immediate discount ν₂ (QHAdam, denominator)",
    "eta_minus": "step shrink factor η₋ (after a sign flip)",
    "eta_plus": "step growth factor η₊ (while the sign holds)",
    "step_min": "smallest step size Δ_min",
    "step_max": "largest step size Δ_max",
    "eps_root": "small constant inside √, ε_root",
    # convention options
    "momentum_form": "momentum form",
    "nesterov_form": "Nesterov form",
    "eps_placement": "where ε goes",
    "bias_correction": "bias correction",
    "nadam_schedule": "NAdam momentum schedule μₜ",
    "newton_form": "Newton step",
    "line_search": "line search",
    "centered": "centred (subtract the mean gradient)",
    "accumulator_init": "accumulator start",
    "stop_rule": "stop rule (Polish deck)",
    "step_tol": "step tolerance ‖θₖ − θₖ₋₁‖",
    "target_loss": "target loss f_target",
    "lookahead_k": "Lookahead: fast steps k per sync (0 = off)",
    "lookahead_alpha": "Lookahead: pull-back α",
}

# The short symbol of an option in a run label ("η=0.01"); options without one are spelled out.
SYMBOLS: dict[str, str] = {
    "lr": "η",
    "beta1": "β₁",
    "beta2": "β₂",
    "eps": "ε",
    "weight_decay": "λ",
    "momentum_decay": "ψ",
    "dampening": "τ",
    "lm_lambda": "ν₀",
    "history_size": "m",
    "nu": "ν",
    "nu1": "ν₁",
    "nu2": "ν₂",
    "eta_minus": "η₋",
    "eta_plus": "η₊",
    "step_min": "Δ_min",
    "step_max": "Δ_max",
    "eps_root": "ε_root",
}

# Every value of every convention option.
VALUES: dict[str, dict[Any, str]] = {
    "momentum_form": {
        "torch": "v ← βv + g (torch, CS231n)",
        "ema": "v ← βv + (1 − β)g, v₀ = 0 (mini-batch deck)",
        "lr_inside": "v ← βv + ηg (Sutskever)",
        "sum": "v ← v + g, sum of past gradients (Hung-yi Lee)",
    },
    "nesterov_form": {
        "torch": "reparameterised (torch, CS231n)",
        "lookahead": "gradient at θ − βv (look-ahead)",
    },
    "eps_placement": {"outside": "outside: √v + ε (torch)", "inside": "inside: √(v + ε)"},
    "bias_correction": {True: "on", False: "off"},
    "nadam_schedule": {
        "torch": "μₜ = β₁(1 − ½·0.96^(tψ)) (torch)",
        "constant": "constant μ = β₁ (Dozat)",
    },
    "newton_form": {
        "guarded": "guarded: |eigenvalues| of H, floor ε",
        "textbook": "textbook: θ − ηH⁻¹g",
    },
    "line_search": {
        "none": "none (fixed η)",
        "backtracking": "backtracking (Armijo)",
        "exact": "exact (first minimum along the direction)",
        "wolfe": "strong Wolfe (scipy)",
    },
    "centered": {True: "on", False: "off"},
    "accumulator_init": {
        "zero": "start at 0: m₀ = v₀ = 0 (torch)",
        "first_grad": "start at the first gradient: σ⁰ = |g⁰| (Hung-yi Lee)",
    },
    "stop_rule": {
        "none": "run every step",
        "step": "stop when the step is shorter than the tolerance",
        "loss": "stop when the loss reaches the target",
    },
}

# Schedule parameters, per schedule (the same name may mean different things in two schedules).
SCHEDULE_PARAMS: dict[str, dict[str, str]] = {
    "constant": {},
    "step": {"step_size": "steps between decays s", "gamma": "decay factor γ"},
    "exponential": {"k": "decay rate k"},
    "inverse_time": {"k": "decay rate k"},
    "power": {"c1": "time scale c₁ (steps)", "c2": "power c₂"},
    "piecewise": {
        "boundaries": "boundaries b_j (steps, comma-separated)",
        "factors": "factors f_j of η (comma-separated)",
    },
    "plateau": {
        "factor": "reduction factor",
        "patience": "patience (steps without improvement)",
        "threshold": "relative improvement threshold",
        "min_lr": "minimum rate η_min",
    },
    "sgdr": {
        "T_0": "first restart period T₀ (steps)",
        "T_mult": "restart period multiplier T_mult",
        "eta_min": "minimum rate η_min",
    },
    "epoch_inverse_time": {"decay_rate": "decay rate (per epoch)"},
    "epoch_exponential": {"base": "base (0.95 in the mini-batch deck)"},
    "epoch_inverse_sqrt": {"k": "constant k"},
    "epoch_piecewise": {
        "boundaries": "after epochs (comma-separated)",
        "factors": "factors of η (comma-separated)",
    },
    "performance": {
        "increase": "factor when the loss fell (1.05)",
        "decrease": "factor otherwise (0.7)",
    },
}

# Surface parameters whose catalog label is not how the app shows them.
SURFACE_PARAMS: dict[str, str] = {"batch_size": "batch size B"}


def _strict() -> bool:
    return os.environ.get("OPTVIZ_STRICT_LABELS", "") not in ("", "0")


def readable(name: object) -> str:
    """A name as words, for one that has no label yet: "first_grad" -> "first grad"."""
    if isinstance(name, bool):
        return "on" if name else "off"
    return str(name).replace("_", " ")


def _missing(what: str, name: object) -> str:
    if _strict():
        raise LookupError(f"no label for {what} {name!r}: add it to optviz/labels.py")
    return readable(name)


def option(name: str) -> str:
    """Option or hyperparameter ``name`` as the lectures say it: "lr" -> "learning rate η"."""
    return OPTIONS[name] if name in OPTIONS else _missing("option", name)


def symbol(name: str) -> str:
    """The short symbol for a run label ("η"), or the option's label when it has none."""
    return SYMBOLS.get(name) or option(name)


def value(name: str, v: object) -> str:
    """A value of option ``name`` in words: ("bias_correction", False) -> "off"."""
    if name in VALUES:
        table = VALUES[name]
        for key, text in table.items():
            if key == v and isinstance(key, bool) == isinstance(v, bool):
                return text
        return _missing(f"value of {name}", v)
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, int | float):
        return number(v)
    return _missing(f"value of {name}", v)


def schedule(name: str) -> str:
    """A schedule's title: "inverse_time" -> "1/t decay"."""
    try:
        return schedules.get(name).title
    except ValueError:
        return _missing("schedule", name)


def schedule_param(sched: str, name: str) -> str:
    """A schedule parameter: ("sgdr", "T_mult") -> "restart period multiplier T_mult"."""
    table = SCHEDULE_PARAMS.get(sched, {})
    return table[name] if name in table else _missing(f"parameter of schedule {sched}", name)


def optimizer(name: str) -> str:
    """An optimizer's title: "nesterov" -> "Nesterov momentum (NAG)"."""
    try:
        return optimizers.get(name).title
    except ValueError:
        return _missing("optimizer", name)


def surface(name: str) -> str:
    try:
        return surfaces.spec(name).title
    except ValueError:
        return _missing("surface", name)


def surface_param(surface_name: str, name: str) -> str:
    """A surface parameter's label (the catalog's, e.g. "condition number κ")."""
    if name in SURFACE_PARAMS:
        return SURFACE_PARAMS[name]
    try:
        params = surfaces.all_params(surfaces.spec(surface_name))
    except ValueError:
        params = {}
    if name in params:
        return params[name].label
    return _missing(f"parameter of surface {surface_name}", name)


def missing() -> list[str]:
    """Every option, value, schedule parameter and surface parameter the app can show that has
    no label here (a test keeps this empty)."""
    out = []
    known = {**optimizers.FLOAT_OPTIONS, **optimizers.CHOICE_OPTIONS, **optimizers.INT_OPTIONS}
    for name in optimizers.NAMES:
        known.update(dict.fromkeys(optimizers.get(name).defaults))
    for name in known:
        if name not in OPTIONS:
            out.append(f"option {name}")
    for name, (_, choices) in optimizers.CHOICE_OPTIONS.items():
        for v in choices:
            table = VALUES.get(name, {})
            if not any(k == v and isinstance(k, bool) == isinstance(v, bool) for k in table):
                out.append(f"value {name}={v!r}")
    for sname in schedules.NAMES:
        for pname in schedules.get(sname).params:
            if pname not in SCHEDULE_PARAMS.get(sname, {}):
                out.append(f"schedule parameter {sname}.{pname}")
    for surf in surfaces.NAMES:
        for pname, prm in surfaces.all_params(surfaces.spec(surf)).items():
            if not (SURFACE_PARAMS.get(pname) or prm.label):
                out.append(f"surface parameter {surf}.{pname}")
    return out


# ---- numbers --------------------------------------------------------------------------------

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
MINUS = "−"  # U+2212, the typographic minus


def number(v: object, digits: int = 4) -> str:
    """A number for people: ``digits`` significant digits (trailing zeros dropped), ×10ⁿ
    notation outside [10⁻³, 10⁴), "—" for a missing value (None or NaN), ∞ for infinities.

    1.385296986897661e+21 -> "1.385×10²¹", 3574000000000000 -> "3.574×10¹⁵", 0.038 -> "0.038",
    1e-05 -> "1×10⁻⁵", None -> "—". Whole numbers below 10⁴ stay whole ("150").
    """
    if v is None or isinstance(v, bool):
        return MISSING if v is None else ("on" if v else "off")
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return MISSING
    if math.isnan(x):
        return MISSING
    sign = MINUS if x < 0 else ""
    x = abs(x)
    if math.isinf(x):
        return sign + "∞"
    if x == 0:
        return "0"
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    e = int(exponent)
    if -3 <= e < 4:
        text = f"{x:.{max(digits - 1 - e, 0)}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return sign + text
    mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
    return f"{sign}{mantissa}×10{str(e).translate(_SUPERSCRIPT)}"


def format_rows(rows: Sequence[dict]) -> list[dict]:
    """Table rows with every number as :func:`number` text and "—" for missing values."""
    out = []
    for row in rows:
        out.append(
            {
                k: (number(v) if v is None or isinstance(v, int | float) else str(v))
                for k, v in row.items()
            }
        )
    return out


# ---- run labels -----------------------------------------------------------------------------


def run_label(run: Any) -> str:
    """Legend text of one run (a :class:`optviz.config.RunSpec`), with the settings that
    matter: "Adam η=0.001 β₁=0.9 β₂=0.999", then the convention options that differ from their
    defaults and the schedule: "Momentum η=0.01 β₁=0.9 · bias correction: on · 1/t decay"."""
    opt = optimizers.get(run.optimizer)
    r = run.resolved
    parts = [opt.title + "".join(f" {symbol(h)}={number(r[h])}" for h in opt.hyperparameters)]
    for o in opt.options:
        if o in optimizers.CHOICE_OPTIONS and r[o] != opt.defaults[o]:
            parts.append(f"{option(o)}: {value(o, r[o])}")
    sched = run.schedule
    if sched and sched.get("name", "constant") != "constant":
        parts.append(schedule(sched["name"]))
    return " · ".join(parts)


def run_labels(runs: Sequence[Any]) -> list[str]:
    """Every run's label; identical labels get "#k" (k = the run's number) so each run stays
    distinguishable. The app's legend, its table and every export format use this."""
    labels = [run_label(r) for r in runs]
    return [f"{lab} #{i + 1}" if labels.count(lab) > 1 else lab for i, lab in enumerate(labels)]


# ---- notes --------------------------------------------------------------------------------------

_CODE = re.compile(r"``([^`]+)``")


def note_in_words(optimizer_name: str, text: str) -> str:
    """A formula card's note with its option names and values in words: ````bias_correction````
    -> "*bias correction*", ````accumulator_init=first_grad```` -> "*accumulator start: v₁ = g₁²
    (Hung-yi Lee)*", ````lookahead```` -> "*gradient at θ − βv (look-ahead)*" (a value of one of
    this optimizer's options). Other code (``torch.optim.SGD(...)``) stays code."""
    try:
        opt = optimizers.get(optimizer_name)
    except ValueError:
        return text
    choices = [o for o in opt.options if o in optimizers.CHOICE_OPTIONS]

    def sub(m: re.Match) -> str:
        code = m.group(1)
        name, _, raw = code.partition("=")
        if name in opt.defaults and name in OPTIONS:
            if not raw:
                return f"*{OPTIONS[name]}*"
            for v in optimizers.CHOICE_OPTIONS.get(name, (0, ()))[1]:
                if str(v) == raw or (isinstance(v, bool) and raw in ("True", "False")):
                    if isinstance(v, bool) and str(v) != raw:
                        continue
                    return f"*{OPTIONS[name]}: {value(name, v)}*"
            return f"*{OPTIONS[name]} = {raw}*"
        owners = [o for o in choices if code in optimizers.CHOICE_OPTIONS[o][1]]
        if len(owners) == 1 and not isinstance(code, bool):
            return f"*{value(owners[0], code)}*"
        return m.group(0)

    return _CODE.sub(sub, text)
