"""The public engine: :func:`run` one optimizer on one surface, :func:`run_batch` many runs.

These thin functions validate and coerce their inputs (contiguous float64, hyperparameters in
range), draw the seeded mini-batches and gradient noise, and call the compiled kernel in
:mod:`optviz._kernel`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

import surfaces
from optviz import _batch, _kernel, optimizers, schedules
from optviz import _layout as L

# Indexed by the kernel's status codes (optviz._layout: OK, CONVERGED, DIVERGED, ESCAPED, ERROR).
STATUS_NAMES = ("ok", "converged", "diverged", "escaped", "error")
MAX_STEPS = 1_000_000


@dataclass(frozen=True)
class Trajectory:
    """One run. Row 0 is the start, row k the point after k updates.

    Rows after ``stopped_at`` (the last valid row) are NaN. ``grad[k]`` is the gradient the
    optimizer used to leave row k (mini-batch and noise included; for the last row of a run
    that did not stop early, the full gradient there). ``lr[k]`` is the scheduled η of that
    update and ``lr_eff[k]`` the per-coordinate step size it applied (η/(√v̂+ε)·… for the
    adaptive methods, η for GD/momentum, the line-search step α for line-search methods).
    """

    optimizer: str
    surface: str
    xy: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    lr: np.ndarray
    lr_eff: np.ndarray
    status: str
    stopped_at: int
    config: dict = field(default_factory=dict)
    xy_avg: np.ndarray | None = None  # Polyak-averaged path, when asked for
    # The optimizer's state per row, when asked for (``run(..., record_state=True)``): named
    # arrays, see :func:`optviz.state.named_state`.
    state: dict[str, np.ndarray] | None = None

    @property
    def steps(self) -> int:
        return self.xy.shape[0] - 1

    @property
    def valid_xy(self) -> np.ndarray:
        return self.xy[: self.stopped_at + 1]

    @property
    def valid_loss(self) -> np.ndarray:
        return self.loss[: self.stopped_at + 1]

    @property
    def final(self) -> tuple[float, float]:
        return float(self.xy[self.stopped_at, 0]), float(self.xy[self.stopped_at, 1])

    @property
    def message(self) -> str:
        """What happened, in words: "ok", "converged at step k", "converged at step k (∇f = 0)"
        (a second-order run that reached a stationary point exactly, whatever ``tol``),
        "diverged at step k", …"""
        if self.status == "ok":
            return "ok"
        if self.status == "error":
            return f"error: the kernel has no update rule for {self.optimizer!r}; nothing was run"
        if self.status == "diverged":
            return f"diverged at step {self.stopped_at + 1}"
        no_rule = self.config.get("stop_rule", "none") == "none"
        if self.status == "converged" and not self.config.get("tol") and no_rule:
            # Only a stationary point reached exactly stops a run with tol = 0 and no stop rule
            # (a second-order method where ‖∇f‖² underflows): say so, a saddle is "converged" too.
            return f"converged at step {self.stopped_at} (∇f = 0)"
        return f"{self.status} at step {self.stopped_at}"


@dataclass(frozen=True)
class BatchResult:
    """Many independent runs: where each ended, its loss there, status and last valid step."""

    final_xy: np.ndarray  # (N, 2)
    final_loss: np.ndarray  # (N,)
    status_code: np.ndarray  # (N,) int: index into STATUS_NAMES
    stopped_at: np.ndarray  # (N,)
    # How the batch kernel ran them: "vectorised" (first-order rules), "run by run" (second-order
    # methods, each one optviz.run's kernel), "none" (no steps, or no rule for the optimizer).
    kernel_path: str = ""

    @property
    def status(self) -> np.ndarray:
        return np.asarray(STATUS_NAMES, dtype=object)[self.status_code]


def batch_indices(n: int, batch_size: int, steps: int, seed: int) -> np.ndarray:
    """Mini-batch rows for each step, shape (steps, B): consecutive slices of a stream of
    seeded random permutations of 0…n−1 (sampling without replacement within each epoch).

    Only ``seed`` decides the batches, so every optimizer of a comparison sees the same ones.
    B = n means the full batch and is never sampled (returns an empty (0, 0) array), so that it
    equals full-batch GD exactly.
    """
    if batch_size >= n or steps == 0:
        return np.zeros((0, 0), np.int64)
    rng = np.random.default_rng([seed, 1])
    need = steps * batch_size
    perms = [rng.permutation(n) for _ in range(-(-need // n))]
    return np.ascontiguousarray(np.concatenate(perms)[:need].reshape(steps, batch_size))


def gradient_noise(sigma: float, steps: int, seed: int) -> np.ndarray:
    """Seeded Gaussian noise σ·ξ added to the gradient at each step, shape (steps, 2)."""
    if sigma == 0.0:
        return np.zeros((0, 2))
    return sigma * np.random.default_rng([seed, 2]).standard_normal((steps, 2))


def _surface(surface: str | surfaces.Surface) -> surfaces.Surface:
    if isinstance(surface, surfaces.Surface):
        return surface
    return surfaces.get(surface)


def _check_steps(steps: object) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer):
        raise ValueError(f"steps must be a whole number, got {steps!r}")
    if not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be in [0, {MAX_STEPS}], got {steps}")
    return int(steps)


def check_start(surf: surfaces.Surface, start: Sequence[float] | None) -> tuple[float, float]:
    """The start point a run on ``surf`` uses (its default for None); ValueError names what is
    wrong with a bad one."""
    if start is None:
        return surf.start
    try:
        x, y = (float(v) for v in start)
    except (TypeError, ValueError):
        raise ValueError(f"start must be two numbers (x, y), got {start!r}") from None
    if not (math.isfinite(x) and math.isfinite(y) and abs(x) <= L.BIG and abs(y) <= L.BIG):
        raise ValueError(f"start must be finite with |x|, |y| ≤ {L.BIG:g}, got {start!r}")
    if not math.isfinite(float(surf.value(x, y))):
        raise ValueError(f"the loss is not finite at start {start!r}")
    return x, y


def pack_options(
    name: str, surf: surfaces.Surface, options: dict
) -> tuple[dict, np.ndarray, np.ndarray]:
    """Optimizer ``name``'s options, validated for ``surf``: (all options resolved, the kernel's
    hyperparameter and flag arrays). ValueError names a bad option or a surface it cannot use."""
    opt = optimizers.get(name)
    if opt.needs_sum_of_squares and surf.name == "formula":
        raise ValueError(
            f"{name} needs f written as a sum of squared residuals, with their Jacobian; a typed "
            "formula is a single expression, so use Newton, BFGS or L-BFGS on it instead"
        )
    if opt.needs_sum_of_squares and not surf.spec.sum_of_squares:
        valid = [n for n in surfaces.NAMES if surfaces.spec(n).sum_of_squares]
        raise ValueError(
            f"{name} needs a sum-of-squares surface ({', '.join(valid)}), not {surf.name!r}"
        )
    resolved = optimizers.resolve(name, options)
    hp = np.zeros(L.N_HP)
    flags = np.zeros(L.N_FLAGS, np.int64)
    flags[L.BIAS_CORRECTION] = 1
    flags[L.HISTORY_SIZE] = 1
    for key, value in resolved.items():
        if key in optimizers.FLOAT_OPTIONS:
            hp[optimizers.FLOAT_OPTIONS[key][0]] = value
        elif key in optimizers.CHOICE_OPTIONS:
            slot, choices = optimizers.CHOICE_OPTIONS[key]
            flags[slot] = choices.index(value)
        else:
            flags[optimizers.INT_OPTIONS[key][0]] = value
    return resolved, hp, flags


def kernel_id(name: str, flags: np.ndarray) -> int:
    """The kernel's optimizer id for catalog optimizer ``name`` with option flags ``flags``: its
    catalog id, or the id of the variant rule a convention option selects (Adam with
    ``accumulator_init=first_grad`` is its own rule, so the kernels' dispatch has no option
    branch: with it inside Adam's rule optviz.run lost ~30 % and run_batch two thirds)."""
    oid = optimizers.get(name).id
    if oid == L.ADAM and flags[L.ACCUMULATOR_INIT] == 1:
        return L.ADAM_FIRST_GRAD
    return oid


def _stochastic_inputs(surf: surfaces.Surface, steps: int, seed: int) -> tuple:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative whole number, got {seed!r}")
    batches = batch_indices(surf.data_y.shape[0], surf.batch_size, steps, int(seed))
    return batches, gradient_noise(surf.grad_noise, steps, int(seed))


def _check_tol(tol: float) -> float:
    tol = float(tol)
    if not (math.isfinite(tol) and tol >= 0.0):
        raise ValueError(f"tol must be a finite number ≥ 0, got {tol!r}")
    return tol


def run(
    optimizer: str,
    surface: str | surfaces.Surface,
    *,
    start: Sequence[float] | None = None,
    steps: int = 500,
    lr: float | None = None,
    beta1: float | None = None,
    beta2: float | None = None,
    eps: float | None = None,
    schedule: None | str | Mapping = None,
    seed: int = 0,
    tol: float = 0.0,
    polyak: bool = False,
    record_state: bool = False,
    **options: object,
) -> Trajectory:
    """Run ``optimizer`` on ``surface`` for ``steps`` updates from ``start``.

    ``surface`` is a name (default parameters) or a :class:`surfaces.Surface` from
    :func:`surfaces.get`. Hyperparameters left as ``None`` take the optimizer's defaults
    (``torch.optim``'s where torch has the optimizer); ``options`` are the optimizer's
    convention options (see :mod:`optviz.optimizers`). ``seed`` decides the mini-batches and
    gradient noise, identically for every optimizer. ``tol`` > 0 stops with status
    "converged" once ‖∇f‖ ≤ tol; the options ``stop_rule="step"`` (with ``step_tol``) and
    ``stop_rule="loss"`` (with ``target_loss``) stop on the Polish deck's rules ‖θₖ − θₖ₋₁‖ <
    step_tol or f(θₖ) ≤ target_loss, also as "converged at step k". ``polyak`` adds the running
    average of the iterates (:mod:`optviz.polyak` has it and CS231n's EMA form).
    ``record_state`` fills :attr:`Trajectory.state` with the optimizer's state after every
    update (the path is the same bit for bit; off by default, it costs nothing then).

    Raises ``ValueError`` naming the parameter and its valid range on bad input; a run that
    blows up does not raise: it stops with status "diverged" (see :attr:`Trajectory.message`).
    """
    surf = _surface(surface)
    steps = _check_steps(steps)
    x0, y0 = check_start(surf, start)
    given = {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, **options}
    given = {k: v for k, v in given.items() if v is not None}
    resolved, hp, flags = pack_options(optimizer, surf, given)
    sched = schedules.resolve(schedule)
    sched_id, sp = schedules.pack(sched, schedules.updates_per_epoch(surf))
    batches, noise = _stochastic_inputs(surf, steps, seed)
    tol = _check_tol(tol)

    xy = np.empty((steps + 1, 2))
    loss = np.empty(steps + 1)
    grad = np.empty((steps + 1, 2))
    lr_out = np.empty(steps + 1)
    eff = np.empty((steps + 1, 2))
    rec = np.empty((steps + 1 if record_state else 0, L.N_STATE))
    code, last = _kernel.simulate(
        kernel_id(optimizer, flags), surf.id, x0, y0, steps, hp, flags, surf.kernel_params,
        surf.data_x, surf.data_y, batches, noise, sched_id, sp, tol, surf.escape_radius,
        xy, loss, grad, lr_out, eff, rec,
    )  # fmt: skip
    xy_avg = None
    if polyak:
        xy_avg = np.full_like(xy, np.nan)
        valid = xy[: last + 1]
        xy_avg[: last + 1] = np.cumsum(valid, axis=0) / np.arange(1, last + 2)[:, None]
    config = {
        "optimizer": optimizer,
        "surface": surf.name,
        "surface_params": dict(surf.params),
        "start": (x0, y0),
        "steps": steps,
        "seed": int(seed),
        "tol": tol,
        "schedule": sched,
        **resolved,
    }
    state = None
    if record_state:
        from optviz.state import named_state

        state = named_state(optimizer, surf, resolved, hp, flags, rec, xy, grad, lr_out, eff)
    return Trajectory(
        optimizer, surf.name, xy, loss, grad, lr_out, eff, STATUS_NAMES[code], int(last),
        config, xy_avg, state,
    )  # fmt: skip


def run_batch(
    optimizer: str,
    surface: str | surfaces.Surface,
    *,
    starts: np.ndarray,
    steps: int = 500,
    schedule: None | str | Mapping = None,
    seed: int = 0,
    tol: float = 0.0,
    **hyper: object,
) -> BatchResult:
    """Many independent runs of one optimizer in one parallel kernel call.

    ``starts`` has shape (N, 2). Any float hyperparameter (``lr``, ``beta1``, ``beta2``,
    ``eps``, ``weight_decay``, …) may be a scalar or an array of N values, one per run, for
    sweeps and basin maps; convention options are shared by all runs. Only the endpoints are
    returned (a full 10⁵ × 500 path would not fit in memory).
    """
    surf = _surface(surface)
    steps = _check_steps(steps)
    starts = np.ascontiguousarray(np.atleast_2d(np.asarray(starts, np.float64)))
    if starts.ndim != 2 or starts.shape[1] != 2:
        raise ValueError(f"starts must have shape (N, 2), got {starts.shape}")
    if not np.all(np.isfinite(starts)):
        raise ValueError("starts must be finite")
    n_runs = starts.shape[0]
    arrays = {k: np.asarray(v, np.float64) for k, v in hyper.items() if np.ndim(v) > 0}
    for key, arr in arrays.items():
        if arr.shape != (n_runs,):
            raise ValueError(f"{key} must be a scalar or have shape ({n_runs},), got {arr.shape}")
    scalars = {k: v for k, v in hyper.items() if k not in arrays and v is not None}
    probe = {**scalars, **{k: float(a[0]) for k, a in arrays.items() if n_runs}}
    _, hp, flags = pack_options(optimizer, surf, probe)
    hps = np.repeat(hp[:, None], n_runs, axis=1)  # column i: run i (the kernel's layout)
    for key, arr in arrays.items():
        if key not in optimizers.FLOAT_OPTIONS:
            raise ValueError(f"only float hyperparameters can vary per run, not {key!r}")
        slot, rng = optimizers.FLOAT_OPTIONS[key]
        bad = ~((arr >= rng.low) & ((arr < rng.high) if rng.open_high else (arr <= rng.high)))
        if np.any(bad | ~np.isfinite(arr)):
            raise ValueError(f"{key} must be in [{rng.low:g}, {rng.high:g}] for every run")
        hps[slot] = arr
    sched_id, sp = schedules.pack(schedules.resolve(schedule), schedules.updates_per_epoch(surf))
    batches, noise = _stochastic_inputs(surf, steps, seed)
    final_xy = np.empty((n_runs, 2))
    final_loss = np.empty(n_runs)
    status = np.empty(n_runs, np.int64)
    stopped = np.empty(n_runs, np.int64)
    paths = np.zeros(-(-n_runs // _batch.BLOCK), np.int64)
    _batch.simulate_blocked(
        kernel_id(optimizer, flags), surf.id, starts, steps, hps, flags, surf.kernel_params,
        surf.data_x, surf.data_y, batches, noise, sched_id, sp, _check_tol(tol),
        surf.escape_radius, final_xy, final_loss, status, stopped, paths,
    )  # fmt: skip
    path = ", ".join(sorted({_batch.PATH_NAMES[c] for c in paths.tolist()}))
    return BatchResult(final_xy, final_loss, status, stopped, path)


def warm() -> None:
    """Load (or compile, the first time) every kernel the app uses, so no click waits on JIT."""
    run("gd", "ravine", steps=2)
    run_batch("gd", "ravine", starts=np.zeros((2, 2)), steps=2)
    s = surfaces.get("ravine")
    s.value(np.zeros(2), np.zeros(2))
    s.hessian(0.0, 0.0)
    surfaces.get("formula")  # the formula interpreter and its minimum search
