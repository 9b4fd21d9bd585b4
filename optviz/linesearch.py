"""What a line search did at one step: the 1-D slice φ(α) = f(θₖ + α pₖ) and the α's it tried.

The trial steps are recomputed in Python by running the kernel's own
:func:`optviz._second_order.line_search` code (its ``py_func``, the same statements) with the
surface evaluations rebound to recording wrappers around the compiled surface functions: a faithful
mirror, not a second implementation, and it returns the α the run took (tests check it equals
the trajectory's α). Pure: no Streamlit, no plotting.

The direction pₖ: steepest descent's is −gₖ, exactly as the run saw it. The quasi-Newton
methods' −Vₖgₖ depends on their internal state, so it is recovered from the step the run took,
pₖ = (θₖ₊₁ − θₖ)/αₖ (to rounding; the recomputed α then agrees to ~1e-12, not bit for bit).
"""

from __future__ import annotations

import math
import types as pytypes
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

import surfaces
from optviz import _second_order, optimizers
from optviz.engine import Trajectory
from surfaces import _kernels as surface_kernels

LINE_SEARCH_METHODS = ("steepest_descent", "bfgs", "dfp", "lbfgs")
MODES = optimizers.CHOICE_OPTIONS["line_search"][1]  # ("none", "backtracking", "exact", "wolfe")


@njit(error_model="numpy")
def _hypot(a: float, b: float) -> float:
    return math.hypot(a, b)  # the kernel's hypot (libm's, not CPython's own)


class _Math:
    """``math`` for the mirrored search: the kernel's hypot, everything else CPython's."""

    hypot = staticmethod(_hypot)
    inf = math.inf
    isfinite = staticmethod(math.isfinite)


@dataclass(frozen=True)
class LineSearchSlice:
    """One step's line search: where it started, along what, what it tried and took."""

    step: int  # k: the update from row k to row k + 1
    mode: str  # "backtracking", "exact", "wolfe" (or "none")
    theta: tuple[float, float]
    direction: tuple[float, float]
    direction_recovered: bool  # p from the step taken (quasi-Newton), else −g
    f0: float
    slope0: float  # φ'(0) = gᵀp
    eta: float  # the scheduled η (the first trial of backtracking and Wolfe)
    alpha: float  # the step length the run took
    taken_phi: float  # φ(alpha)
    recomputed_alpha: float  # what the mirrored search returns
    trials: np.ndarray  # every α the search evaluated φ at, in order
    trial_phi: np.ndarray  # φ at those α
    alphas: np.ndarray  # a grid of α for the curve
    focus: float  # the α range the search explored (the figure's y range fits φ there)
    phi: np.ndarray  # φ on that grid

    @property
    def n_trials(self) -> int:
        return int(self.trials.shape[0])


def uses_line_search(traj: Trajectory) -> bool:
    """Whether ``traj``'s steps come from a line search (a method with one, not set to none)."""
    return traj.optimizer in LINE_SEARCH_METHODS and traj.config.get("line_search") != "none"


def searched_steps(traj: Trajectory) -> int:
    """How many updates of ``traj`` have a line search to show (0 if none)."""
    if not uses_line_search(traj):
        return 0
    return int(traj.stopped_at)


def _mirror(record: list) -> Callable:
    """The kernel's line_search (and its Wolfe part) as Python, φ evaluations recorded."""

    def recording_value(*args: object) -> float:  # (sid, x, y, p, dx, dy), as the kernel's
        v = float(surface_kernels.value(*args))
        record.append((float(args[1]), float(args[2]), v))
        return v

    def phi_slope(*args: object) -> float:
        return float(_second_order._phi_slope(*args))

    env: dict = {}

    def clone(fn: Callable) -> Callable:
        py = fn.py_func
        g = {**py.__globals__, **env, "math": _Math, "value": recording_value}
        g["_phi_slope"] = phi_slope
        return pytypes.FunctionType(py.__code__, g, py.__name__)

    env["_wolfe"] = clone(_second_order._wolfe)
    return clone(_second_order.line_search)


def line_search_slice(
    traj: Trajectory, surface: surfaces.Surface, k: int, points: int = 400
) -> LineSearchSlice:
    """The slice and the trial α's of update ``k`` (0 ≤ k < stopped_at) of ``traj`` on
    ``surface`` (the surface it ran on). ValueError if the run has no line search there."""
    if not uses_line_search(traj):
        raise ValueError(f"{traj.optimizer} with these options uses no line search")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 <= k < traj.stopped_at:
        raise ValueError(f"step must be a whole number in [0, {traj.stopped_at - 1}], got {k!r}")
    k = int(k)
    mode = str(traj.config.get("line_search"))
    x, y = (float(v) for v in traj.xy[k])
    gx, gy = (float(v) for v in traj.grad[k])
    alpha = float(traj.lr_eff[k, 0])
    eta = float(traj.lr[k])
    f0 = float(traj.loss[k])
    recovered = traj.optimizer != "steepest_descent"
    px, py = -gx, -gy
    if recovered:
        sx = float(traj.xy[k + 1, 0]) - x
        sy = float(traj.xy[k + 1, 1]) - y
        if alpha != 0.0 and (sx != 0.0 or sy != 0.0):
            px, py = sx / alpha, sy / alpha
        else:  # no move to recover p from (a step below rounding): show the slice along −g
            recovered = False
    record: list = []
    n = surface.data_y.shape[0]
    search = _mirror(record)
    recomputed = float(
        search(
            MODES.index(mode),
            surface.id,
            surface.kernel_params,
            surface.data_x,
            surface.data_y,
            np.arange(n),
            x,
            y,
            f0,
            gx,
            gy,
            px,
            py,
            eta,
        )  # fmt: skip
    )
    norm2 = px * px + py * py
    trials, trial_phi = [], []
    for tx, ty, v in record:
        # α of a trial point θ + αp (the projection of its offset on p).
        trials.append(((tx - x) * px + (ty - y) * py) / norm2 if norm2 > 0 else 0.0)
        trial_phi.append(v)
    trials_a = np.asarray(trials, float)
    span = max([alpha, *trials]) if trials else alpha
    span = span if span > 0 else 1.0
    focus = 1.15 * span
    if mode == "exact" and alpha > 0:
        # Beyond the bracket too (to 4α), so a deeper dip further along the ray shows: the
        # search takes the first minimum, not the lowest point of φ.
        span = max(span, 4.0 * alpha / 1.15)
    grid = np.linspace(0.0, 1.15 * span, points)
    positive = trials_a[trials_a > 0]
    if positive.size:  # geometric points too, so a log α axis shows the small trials
        low = min(float(positive.min()), span) * 0.5
        grid = np.union1d(grid, np.geomspace(low, 1.15 * span, points // 2))
    values = surface.value(x + grid * px, y + grid * py)
    return LineSearchSlice(
        step=k, mode=mode, theta=(x, y), direction=(px, py), direction_recovered=recovered,
        f0=f0, slope0=gx * px + gy * py, eta=eta, alpha=alpha,
        taken_phi=float(surface.value(x + alpha * px, y + alpha * py)), recomputed_alpha=recomputed,
        trials=trials_a, trial_phi=np.asarray(trial_phi, float), alphas=grid, focus=focus,
        phi=np.asarray(values, float),
    )  # fmt: skip


def describe(slc: LineSearchSlice) -> str:
    """One paragraph: what the search computed at this step, in words."""
    base = f"Step {slc.step + 1}: {slc.n_trials} trial steps, α = {slc.alpha:.6g}. "
    if slc.mode == "exact":
        return base + (
            "Exact line search (lecture 003's directional minimisation: follow the direction "
            "until the loss starts to rise): trial steps α₀·2ʲ while φ falls and its slope stays "
            "negative, then the bracket is halved until α is known to 1 ulp. α is the FIRST "
            "local minimum of φ along the ray, not necessarily the lowest point of φ."
        )
    if slc.mode == "wolfe":
        return base + (
            "Strong Wolfe search (as scipy.optimize): trials from α = η doubling, then halving "
            "the bracket, until φ(α) ≤ φ(0) + 10⁻⁴·α·φ′(0) (the dashed line) and "
            "|φ′(α)| ≤ 0.9·|φ′(0)|."
        )
    if slc.mode == "backtracking":
        return base + (
            "Backtracking (Armijo): α = η, η/2, η/4, … until φ(α) ≤ φ(0) + 10⁻⁴·α·φ′(0) "
            "(the dashed line): the first trial below it is taken."
        )
    return base + "No line search: α = η."
