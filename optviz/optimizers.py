"""The optimizer catalog: names, ids, hyperparameters, convention options and formulas.

Hyperparameters map one-to-one to the lecture symbols and the sliders: ``lr`` = η, ``beta1`` =
β₁ (also the momentum coefficient of Momentum/Nesterov), ``beta2`` = β₂ (also RMSProp's decay),
``eps`` = ε. Extra options keep torch's names where torch has one.

The formula of each optimizer is written once, in the docstring of its update rule in
:mod:`optviz._rules` or :mod:`optviz._second_order`, as one ``Formula:`` block in the syntax of
:mod:`optviz.formulas`, which renders it for the app's formula card (:func:`formula`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from optviz import _layout as L
from optviz import _rules, _second_order, formulas

HYPERPARAMETERS = ("lr", "beta1", "beta2", "eps")
SYMBOLS = {"lr": "η", "beta1": "β₁", "beta2": "β₂", "eps": "ε"}


@dataclass(frozen=True)
class Range:
    """Valid closed range of a float option (``open_high`` excludes the upper end)."""

    low: float
    high: float
    open_high: bool = False

    def check(self, name: str, value: object) -> float:
        try:
            v = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, got {value!r}") from None
        hi_ok = v < self.high if self.open_high else v <= self.high
        if not (math.isfinite(v) and self.low <= v and hi_ok):
            bracket = ")" if self.open_high else "]"
            raise ValueError(f"{name} must be in [{self.low:g}, {self.high:g}{bracket}, got {v!r}")
        return v


# Float hyperparameters and options: index in the kernel's hp vector and valid range.
FLOAT_OPTIONS: dict[str, tuple[int, Range]] = {
    "lr": (L.LR, Range(0.0, 1e6)),
    "beta1": (L.BETA1, Range(0.0, 1.0, open_high=True)),
    "beta2": (L.BETA2, Range(0.0, 1.0, open_high=True)),
    "eps": (L.EPS, Range(0.0, 1.0)),
    "weight_decay": (L.WEIGHT_DECAY, Range(0.0, 1e3)),
    "momentum_decay": (L.MOMENTUM_DECAY, Range(0.0, 1.0)),
    "dampening": (L.DAMPENING, Range(0.0, 1.0)),
    "lr_decay": (L.LR_DECAY, Range(0.0, 1e6)),
    "lm_lambda": (L.LM_LAMBDA, Range(1e-12, 1e12)),
    "step_tol": (L.STEP_TOL, Range(0.0, 1e6)),
    "target_loss": (L.TARGET_LOSS, Range(-1e12, 1e12)),
    # QHM's ν and QHAdam's ν₁ share a slot (no optimizer has both), QHAdam's ν₂ the next one.
    "nu": (L.NU1, Range(0.0, 1.0)),
    "nu1": (L.NU1, Range(0.0, 1.0)),
    "nu2": (L.NU2, Range(0.0, 1.0)),
    "lookahead_alpha": (L.LOOKAHEAD_ALPHA, Range(0.0, 1.0)),
    # Rprop (torch's etas and step_sizes): every value in these ranges is valid for torch
    # (0 < η₋ < 1 < η₊; Δ_min ≤ 0.01 ≤ Δ_max, so Δ_min ≤ Δ_max); resolve checks it again.
    "eta_minus": (L.ETA_MINUS, Range(0.01, 0.99)),
    "eta_plus": (L.ETA_PLUS, Range(1.01, 10.0)),
    "step_min": (L.STEP_MIN, Range(0.0, 0.01)),
    "step_max": (L.STEP_MAX, Range(0.01, 1e6)),
    "eps_root": (L.EPS_ROOT, Range(0.0, 1.0)),  # AdaBelief's ε inside √ (optax)
}

# Convention options: index in the kernel's flags vector and the allowed values, in order
# (the position is the integer the kernel sees; the first is not necessarily the default).
CHOICE_OPTIONS: dict[str, tuple[int, tuple]] = {
    "momentum_form": (L.MOMENTUM_FORM, ("torch", "ema", "lr_inside", "sum")),
    "nesterov_form": (L.NESTEROV_FORM, ("torch", "lookahead")),
    "eps_placement": (L.EPS_INSIDE, ("outside", "inside")),
    "bias_correction": (L.BIAS_CORRECTION, (False, True)),
    "nadam_schedule": (L.NADAM_SCHEDULE, ("torch", "constant")),
    "newton_form": (L.NEWTON_FORM, ("guarded", "textbook")),
    "line_search": (L.LINE_SEARCH, ("none", "backtracking", "exact", "wolfe")),
    "centered": (L.CENTERED, (False, True)),
    "accumulator_init": (L.ACCUMULATOR_INIT, ("zero", "first_grad")),
    "stop_rule": (L.STOP_RULE, ("none", "step", "loss")),
}
INT_OPTIONS: dict[str, tuple[int, int, int]] = {
    "history_size": (L.HISTORY_SIZE, 1, 64),
    "lookahead_k": (L.LOOKAHEAD_K, 0, 1000),
}


@dataclass(frozen=True)
class Optimizer:
    """One optimizer: what it uses, its defaults, and where its formula lives."""

    name: str
    id: int
    title: str
    defaults: dict  # every option it accepts, with its default value
    update: object  # the kernel's update rule whose docstring holds the formula
    fixes: str  # one line: what it fixes compared with the previous method
    torch: str = ""  # the torch.optim call it reproduces with default options, if any
    needs_sum_of_squares: bool = False
    second_order: bool = False
    options_doc: dict = field(default_factory=dict)

    @property
    def hyperparameters(self) -> tuple[str, ...]:
        """Which of η, β₁, β₂, ε this optimizer uses (the sliders to show)."""
        return tuple(h for h in HYPERPARAMETERS if h in self.defaults)

    @property
    def options(self) -> tuple[str, ...]:
        """Its options beyond η, β₁, β₂, ε."""
        return tuple(o for o in self.defaults if o not in HYPERPARAMETERS)


_ADAPTIVE = {"eps_placement": "outside"}
# Every optimizer can stop on the Polish deck's rules (003: "Warunki zatrzymania procesu uczenia
# (np. mała wartość normy z gradientu, maksymalna liczba epok, zadana dokładność, norma z różnicy
# wektorów wag z kolejnych iteracji, itp.)"): a step shorter than step_tol, or f ≤ target_loss.
_STOP = {"stop_rule": "none", "step_tol": 1e-6, "target_loss": 0.0}
# Every first-order optimizer can be wrapped in Lookahead (Zhang et al., 2019): k fast steps,
# then the slow weights move α of the way to the fast ones and the fast ones restart there.
# lookahead_k = 0 is off; the paper's k = 5, α = 0.5.
_LOOKAHEAD = {"lookahead_k": 0, "lookahead_alpha": 0.5}
_CATALOG: dict[str, Optimizer] = {}


def _add(name: str, oid: int, title: str, defaults: dict, update: object, fixes: str, **kw) -> None:
    wrappers = {} if kw.get("second_order") else _LOOKAHEAD
    every = {**defaults, **wrappers, **_STOP}
    _CATALOG[name] = Optimizer(name, oid, title, every, update, fixes, **kw)


_add(
    "gd",
    L.GD,
    "Gradient descent / SGD",
    {"lr": 1e-3, "weight_decay": 0.0},
    _rules.gd_update,
    "The baseline: step against the (mini-batch) gradient, proportional to it.",
    torch="torch.optim.SGD(lr)",
)
_add(
    "momentum",
    L.MOMENTUM,
    "Momentum",
    {
        "lr": 1e-3,
        "beta1": 0.9,
        "momentum_form": "torch",
        "bias_correction": False,
        "dampening": 0.0,
        "weight_decay": 0.0,
    },
    _rules.momentum_update,
    "Averages successive gradients: the zig-zag across a ravine cancels, the steady "
    "component along it accumulates.",
    torch="torch.optim.SGD(lr, momentum=β₁)",
)
_add(
    "nesterov",
    L.NESTEROV,
    "Nesterov momentum (NAG)",
    {"lr": 1e-3, "beta1": 0.9, "nesterov_form": "torch", "weight_decay": 0.0},
    _rules.nesterov_update,
    "Looks ahead before correcting: the gradient is taken where momentum is about to carry "
    "the point, so it brakes before overshooting.",
    torch="torch.optim.SGD(lr, momentum=β₁, nesterov=True)",
)
_add(
    "adagrad",
    L.ADAGRAD,
    "AdaGrad",
    {"lr": 1e-2, "eps": 1e-10, **_ADAPTIVE, "lr_decay": 0.0, "weight_decay": 0.0},
    _rules.adagrad_update,
    "One learning rate per coordinate: steep directions get small steps, rare or flat ones "
    "large steps, so one η fits all directions.",
    torch="torch.optim.Adagrad(lr, eps=ε)",
)
_add(
    "rmsprop",
    L.RMSPROP,
    "RMSProp",
    {
        "lr": 1e-2,
        "beta2": 0.99,
        "eps": 1e-8,
        **_ADAPTIVE,
        "centered": False,
        "accumulator_init": "zero",
        "weight_decay": 0.0,
    },
    _rules.rmsprop_update,
    "AdaGrad's sum of squares never stops growing, so its steps vanish; RMSProp forgets old "
    "gradients (leaky average), keeping the step size alive.",
    torch="torch.optim.RMSprop(lr, alpha=β₂, eps=ε)",
)
_add(
    "adam",
    L.ADAM,
    "Adam",
    {
        "lr": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        **_ADAPTIVE,
        "bias_correction": True,
        "accumulator_init": "zero",
        "weight_decay": 0.0,
    },
    _rules.adam_update,
    "RMSProp + momentum, with bias correction so the zero-initialised averages do not make "
    "the first steps tiny.",
    torch="torch.optim.Adam(lr, betas=(β₁, β₂), eps=ε)",
)
_add(
    "nadam",
    L.NADAM,
    "NAdam",
    {
        "lr": 2e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        **_ADAPTIVE,
        "nadam_schedule": "torch",
        "momentum_decay": 4e-3,
        "weight_decay": 0.0,
    },
    _rules.nadam_update,
    "Adam with Nesterov's look-ahead applied to the first moment.",
    torch="torch.optim.NAdam(lr, betas=(β₁, β₂), eps=ε, momentum_decay=ψ)",
)
_add(
    "adamw",
    L.ADAMW,
    "AdamW",
    {
        "lr": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        **_ADAPTIVE,
        "bias_correction": True,
        "weight_decay": 1e-2,
    },
    _rules.adamw_update,
    "Adam's L2 penalty gets rescaled by the adaptive denominator; AdamW applies weight decay "
    "to θ directly, as intended.",
    torch="torch.optim.AdamW(lr, betas=(β₁, β₂), eps=ε, weight_decay=λ)",
)
_add(
    "amsgrad",
    L.AMSGRAD,
    "AMSGrad",
    {
        "lr": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        **_ADAPTIVE,
        "bias_correction": True,
        "weight_decay": 0.0,
    },
    _rules.amsgrad_update,
    "Adam's denominator can shrink and let the step blow up; AMSGrad keeps its running max.",
    torch="torch.optim.Adam(lr, betas=(β₁, β₂), eps=ε, amsgrad=True)",
)
# ---- opt-b: RAdam, Rprop, AdaBelief, full-matrix AdaGrad ----
_add(
    "radam",
    L.RADAM,
    "RAdam (rectified Adam)",
    {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
    _rules.radam_update,
    "Adam's first steps divide by a second moment estimated from a handful of gradients; RAdam "
    "takes plain momentum steps until that estimate is reliable (ρ_t > 5), then rectifies: a "
    "built-in warm-up.",
    torch="torch.optim.RAdam(lr, betas=(β₁, β₂), eps=ε)",
)
_add(
    "rprop",
    L.RPROP,
    "Rprop",
    {"lr": 1e-2, "eta_minus": 0.5, "eta_plus": 1.2, "step_min": 1e-6, "step_max": 50.0},
    _rules.rprop_update,
    "GD's step is proportional to |g|, so it crawls on plateaus and overshoots cliffs; Rprop "
    "uses only the sign of g, with a step size per coordinate that grows while the sign holds "
    "and shrinks when it flips.",
    torch="torch.optim.Rprop(lr, etas=(η₋, η₊), step_sizes=(Δ_min, Δ_max))",
)
_add(
    "adabelief",
    L.ADABELIEF,
    "AdaBelief",
    {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-16, "eps_root": 1e-16},
    _rules.adabelief_update,
    "Adam divides by the size of g; AdaBelief divides by how far g strays from its average m, "
    "so a steady slope gets large steps and a noisy or sharply curving one small steps.",
)
_add(
    "adagrad_full",
    L.ADAGRAD_FULL,
    "Full-matrix AdaGrad",
    {"lr": 1e-2, "eps": 1e-8},
    _rules.adagrad_full_update,
    "Diagonal AdaGrad scales each coordinate alone, which helps only along the axes; the full "
    "matrix G = Σ g gᵀ also learns how coordinates co-vary, so its preconditioner turns with a "
    "rotated valley.",
)
_add(
    "qhm",
    L.QHM,
    "QHM (quasi-hyperbolic momentum)",
    {"lr": 1e-3, "beta1": 0.999, "nu": 0.7, "weight_decay": 0.0},
    _rules.qhm_update,
    "Momentum reacts slowly to a new gradient; QHM always gives the current gradient its own "
    "weight 1 − ν beside the long-memory average (ν = 0: GD, ν = 1: EMA momentum).",
    torch="qhoptim.pyt.QHM(lr, momentum=β₁, nu=ν)",
)
_add(
    "qhadam",
    L.QHADAM,
    "QHAdam",
    {
        "lr": 1e-3,
        "beta1": 0.995,
        "beta2": 0.999,
        "nu1": 0.7,
        "nu2": 1.0,
        "eps": 1e-8,
        "weight_decay": 0.0,
    },
    _rules.qhadam_update,
    "Adam with QHM's mix in both moments: the current g (and g²) weigh 1 − ν₁ (1 − ν₂) beside "
    "the averages, which bounds the steps when v̂ is small (ν₁ = ν₂ = 1: Adam).",
    torch="qhoptim.pyt.QHAdam(lr, betas=(β₁, β₂), nus=(ν₁, ν₂), eps=ε)",
)
_add(
    "lion",
    L.LION,
    "Lion (sign momentum)",
    {"lr": 1e-4, "beta1": 0.9, "beta2": 0.99, "weight_decay": 0.0},
    _rules.lion_update,
    "Adam without the second moment: the sign of a momentum/gradient mix, so every coordinate "
    "steps exactly ±η (diagonal moves) and only one average is kept.",
    torch="optax.lion(learning_rate, b1=β₁, b2=β₂, weight_decay=λ)",
)
_add(
    "adamax",
    L.ADAMAX,
    "Adamax",
    {"lr": 2e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
    _rules.adamax_update,
    "Adam with the ∞-norm: the denominator is a decaying max of |g| instead of the root mean "
    "square, with no bias correction needed and steps bounded by η.",
    torch="torch.optim.Adamax(lr, betas=(β₁, β₂), eps=ε)",
)
_add(
    "newton",
    L.NEWTON,
    "Newton's method",
    {"lr": 1.0, "eps": 1e-6, "newton_form": "guarded"},
    _second_order.newton_update,
    "Uses curvature: rescales the gradient by the inverse Hessian, so an ill-conditioned "
    "quadratic is solved in one step.",
    second_order=True,
)
_add(
    "bfgs",
    L.BFGS,
    "BFGS",
    {"lr": 1.0, "line_search": "exact"},
    _second_order.quasi_newton_update,
    "Newton without the Hessian: builds an inverse-Hessian estimate from successive gradient "
    "differences.",
    second_order=True,
)
_add(
    "dfp",
    L.DFP,
    "DFP",
    {"lr": 1.0, "line_search": "exact"},
    _second_order.quasi_newton_update,
    "The older quasi-Newton update (Davidon–Fletcher–Powell); BFGS is its dual and more "
    "robust to inexact line searches.",
    second_order=True,
)
_add(
    "lbfgs",
    L.LBFGS,
    "L-BFGS",
    {"lr": 1.0, "line_search": "wolfe", "history_size": 10},
    _second_order.lbfgs_update,
    "BFGS in O(m·n) memory: keeps only the last m gradient differences instead of an n×n matrix.",
    second_order=True,
)
_add(
    "levenberg_marquardt",
    L.LEVENBERG_MARQUARDT,
    "Levenberg–Marquardt",
    {"lr": 1.0, "lm_lambda": 1e-3},
    _second_order.levenberg_marquardt_update,
    "For sums of squares: Gauss–Newton near the minimum, a short gradient step far from it, "
    "switched by ν.",
    needs_sum_of_squares=True,
    second_order=True,
)
_add(
    "steepest_descent",
    L.STEEPEST_DESCENT,
    "Steepest descent with line search",
    {"lr": 1.0, "line_search": "exact"},
    _second_order.steepest_descent_update,
    "GD with the step length chosen by minimising f along −g: no η to tune, but successive "
    "steps are orthogonal, so it zig-zags in a ravine.",
    second_order=True,
)

NAMES: tuple[str, ...] = tuple(_CATALOG)
FIRST_ORDER: tuple[str, ...] = tuple(n for n in NAMES if not _CATALOG[n].second_order)


def get(name: str) -> Optimizer:
    """The :class:`Optimizer` called ``name``; ``ValueError`` lists the valid names."""
    if not isinstance(name, str) or name not in _CATALOG:
        raise ValueError(f"unknown optimizer {name!r}; valid optimizers: {', '.join(NAMES)}")
    return _CATALOG[name]


def resolve(name: str, given: dict) -> dict:
    """Every option of ``name``: ``given`` validated over the defaults.

    Raises ``ValueError`` naming the option and its valid range or values.
    """
    opt = get(name)
    unknown = sorted(k for k in given if k not in opt.defaults)
    if unknown:
        what = "does not use" if unknown[0] in HYPERPARAMETERS else "has no option"
        raise ValueError(
            f"optimizer {name!r} {what} {unknown[0]!r}; valid: {', '.join(opt.defaults)}"
        )
    out = dict(opt.defaults)
    sum_form = name == "momentum" and given.get("momentum_form") == "sum"
    for key, value in given.items():
        if value is None:
            continue
        if key == "beta1" and sum_form and _is_one(value):
            # Hung-yi Lee's sum of gradients is the momentum with β = 1: allowed in that form only.
            out[key] = 1.0
        elif key in FLOAT_OPTIONS:
            out[key] = FLOAT_OPTIONS[key][1].check(key, value)
        elif key in CHOICE_OPTIONS:
            choices = CHOICE_OPTIONS[key][1]
            if value not in choices or isinstance(value, bool) != isinstance(choices[0], bool):
                raise ValueError(
                    f"{key} must be one of {', '.join(map(str, choices))}, got {value!r}"
                )
            out[key] = value
        else:
            _, low, high = INT_OPTIONS[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{key} must be a whole number in [{low}, {high}], got {value!r}")
            out[key] = value
    if name == "nesterov" and out["nesterov_form"] == "torch" and out.get("dampening", 0.0):
        raise ValueError("nesterov needs dampening = 0 (as torch requires)")
    if name == "levenberg_marquardt" and out["stop_rule"] == "step":
        raise ValueError(
            "levenberg_marquardt cannot stop on a short step: a rejected step does not move θ"
        )
    if name == "rprop":
        _check_rprop(out)
    return out


def _check_rprop(out: dict) -> None:
    """Rprop's options as torch checks them: 0 < η₋ < 1 < η₊, Δ_min ≤ Δ_max."""
    if not 0.0 < out["eta_minus"] < 1.0:
        raise ValueError(
            f"rprop needs 0 < eta_minus < 1 (the step size must shrink after a sign flip), "
            f"got eta_minus = {out['eta_minus']!r}"
        )
    if not out["eta_plus"] > 1.0:
        raise ValueError(
            f"rprop needs eta_plus > 1 (the step size must grow while the sign holds), "
            f"got eta_plus = {out['eta_plus']!r}"
        )
    if out["step_min"] > out["step_max"]:
        raise ValueError(
            f"rprop needs step_min ≤ step_max, got step_min = {out['step_min']!r} > "
            f"step_max = {out['step_max']!r}"
        )


def _is_one(value: object) -> bool:
    try:
        return not isinstance(value, bool) and float(value) == 1.0  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def inactive(name: str, resolved: dict) -> frozenset[str]:
    """The options of ``name`` that change nothing with the other options ``resolved`` has (a
    widget for them would be a control that does nothing)."""
    out: set[str] = set()
    if name == "momentum":
        form = resolved["momentum_form"]
        if form != "ema":
            out.add("bias_correction")  # only the zero-started EMA is biased towards 0
        if form != "torch":
            out.add("dampening")
        if form == "sum":
            out.add("beta1")
    if name == "adam" and resolved["accumulator_init"] == "first_grad":
        out.add("bias_correction")  # Hung-yi Lee's averages start at g₁: nothing to correct
    if resolved.get("nu", resolved.get("nu1")) == 0.0:
        out.add("beta1")  # QHM / QHAdam with ν (ν₁) = 0: the average is computed, never used
    if resolved.get("nu2") == 0.0:
        out.add("beta2")
    if not resolved.get("lookahead_k"):
        out.add("lookahead_alpha")
    if resolved.get("stop_rule") != "step":
        out.add("step_tol")
    if resolved.get("stop_rule") != "loss":
        out.add("target_loss")
    return frozenset(o for o in out if o in resolved)


# ---- formulas: rendered by optviz.formulas from the update rules' docstrings ---------------------


def formula(name: str, schedule: object = None, **options: object) -> str:
    """The LaTeX update rule of ``name`` for the options given, as the run applies it: the
    ``Formula:`` block of its update rule rendered for the options, then the schedule, weight
    decay and stop-rule lines (:func:`optviz.formulas.formula`)."""
    return formulas.formula(name, get(name).update.__doc__ or "", resolve(name, options), schedule)


def notes(name: str) -> str:
    """The ``Notes`` section of the update rule's docstring (conventions, torch equivalence)."""
    return formulas.notes(get(name).update.__doc__ or "")
