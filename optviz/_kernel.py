r"""The Numba engine: the LR schedules, the trajectory loop and the optimizer dispatch.

Everything here is compiled once (``cache=True``) and dispatches on integer ids, so one
compiled kernel serves every optimizer × surface × schedule. No ``fastmath`` (it would let LLVM
assume away the NaN/inf checks that detect divergence); ``error_model="numpy"`` so that 0/0 gives
NaN (and a "diverged" status) instead of raising ZeroDivisionError like Python would.

The ids and slots are in :mod:`optviz._layout`, the first-order update rules in
:mod:`optviz._rules` (one signature, the state of run ``i`` in column ``i`` of ``st``), the
second-order and line-search methods in :mod:`optviz._second_order`.

Input contract of :func:`simulate` (the Python layer in :mod:`optviz.engine` guarantees it):
C-contiguous float64 arrays, ``hp`` of length ``N_HP`` and ``flags`` (int64) of length
``N_FLAGS``, ``batches`` of shape (steps, B) or (0, 0) for full-batch gradients, ``noise`` of
shape (steps, 2) or (0, 2) without gradient noise.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from optviz._layout import (
    ADABELIEF,
    ADAGRAD,
    ADAGRAD_FULL,
    ADAM,
    ADAM_FIRST_GRAD,
    ADAMAX,
    ADAMW,
    AMSGRAD,
    BETA1,
    BFGS,
    BIG,
    BP1,
    BP2,
    CONVERGED,
    DFP,
    DIVERGED,
    ERROR,
    ESCAPED,
    GD,
    H00,
    H11,
    HISTORY_SIZE,
    LBFGS,
    LEVENBERG_MARQUARDT,
    LION,
    LM_LAMBDA,
    LOOKAHEAD_K,
    LR,
    M0,
    M1,
    MOMENTUM,
    MU_PRODUCT,
    N_FIRST_ORDER,
    N_HP,
    N_STATE,
    NADAM,
    NESTEROV,
    NESTEROV_FORM,
    NEWTON,
    NU,
    OK,
    PL_BAD,
    PL_BEST,
    PL_FACTOR,
    PREV_X,
    PREV_Y,
    QHADAM,
    QHM,
    RADAM,
    RMSPROP,
    RPROP,
    S_CONSTANT,
    S_EPOCH_EXPONENTIAL,
    S_EPOCH_INVERSE_SQRT,
    S_EPOCH_INVERSE_TIME,
    S_EPOCH_PIECEWISE,
    S_EXPONENTIAL,
    S_INVERSE_TIME,
    S_PERFORMANCE,
    S_PIECEWISE,
    S_PLATEAU,
    S_POWER,
    S_SGDR,
    S_STEP,
    SP_EPOCH_LEN,
    STEEPEST_DESCENT,
    STEP_TOL,
    STOP_RULE,
    TARGET_LOSS,
)
from optviz._rules import (
    adabelief_update,
    adagrad_full_update,
    adagrad_update,
    adam_first_grad_update,
    adam_update,
    adamax_update,
    adamw_update,
    amsgrad_update,
    gd_update,
    lion_update,
    lookahead_sync,
    momentum_update,
    nadam_update,
    nesterov_update,
    qhadam_update,
    qhm_update,
    radam_update,
    rmsprop_update,
    rprop_update,
)
from optviz._second_order import (
    lbfgs_update,
    levenberg_marquardt_update,
    newton_update,
    quasi_newton_update,
    steepest_descent_update,
)
from surfaces._kernels import gradient, value

# ‖∇f‖² below the smallest normal float (‖∇f‖ < 1.5e-154): the gradient is zero to working
# precision, a stationary point reached exactly.
TINY_NORMAL = 2.2250738585072014e-308


# ======================================================================================
# Learning-rate schedules
# ======================================================================================


@njit(cache=True, error_model="numpy")
def scheduled_lr(sched_id, sp, k, lr0, f, st, i):
    """η for update k (k = 0 for the first update); ``f`` is the loss where the step starts.

    The formulas, with t = k: see :mod:`optviz.schedules`, which documents and validates
    the parameters ``sp``.
    """
    if sched_id == S_CONSTANT:
        return lr0
    if sched_id == S_STEP:
        return lr0 * sp[1] ** math.floor(k / sp[0])
    if sched_id == S_EXPONENTIAL:
        return lr0 * math.exp(-sp[0] * k)
    if sched_id == S_INVERSE_TIME:
        return lr0 / (1.0 + sp[0] * k)
    if sched_id == S_POWER:
        return lr0 / (1.0 + k / sp[0]) ** sp[1]
    if sched_id == S_PIECEWISE:
        nb = int(sp[0])
        piece = 0
        for j in range(nb):
            if k >= sp[1 + j]:
                piece = j + 1
        return lr0 * sp[9 + piece]
    if sched_id == S_PLATEAU:
        # torch.optim.lr_scheduler.ReduceLROnPlateau(mode="min", threshold_mode="rel").
        if f < st[PL_BEST, i] * (1.0 - sp[2]):
            st[PL_BEST, i] = f
            st[PL_BAD, i] = 0.0
        else:
            st[PL_BAD, i] += 1.0
        if st[PL_BAD, i] > sp[1]:
            # torch ignores a reduction smaller than its eps = 1e-8 (η stalls near 1e-8).
            old = max(lr0 * st[PL_FACTOR, i], sp[3])
            if old - max(lr0 * st[PL_FACTOR, i] * sp[0], sp[3]) > 1e-8:
                st[PL_FACTOR, i] *= sp[0]
            st[PL_BAD, i] = 0.0
        return max(lr0 * st[PL_FACTOR, i], sp[3])
    if sched_id == S_SGDR:
        t0 = sp[0]
        mult = sp[1]
        if mult == 1.0:
            t_i = t0
            t_cur = k % t0
        else:
            # Walk the cycles as torch does: floor(log(...)/log(T_mult)) rounds down at some
            # restarts (k = 121, T_0 = 1, T_mult = 3) and would miss them.
            t_i = t0
            t_cur = float(k)
            while t_cur >= t_i:
                t_cur -= t_i
                t_i *= mult
        return sp[2] + (lr0 - sp[2]) * (1.0 + math.cos(math.pi * t_cur / t_i)) / 2.0
    # Counted in epochs, numbered from 1 as the decks do (001: "Epoch 1: α = 0.2 / (1+1*1)").
    per_epoch = max(int(sp[SP_EPOCH_LEN]), 1)
    epoch = k // per_epoch + 1
    if sched_id == S_EPOCH_INVERSE_TIME:
        return lr0 / (1.0 + sp[0] * epoch)
    if sched_id == S_EPOCH_EXPONENTIAL:
        return sp[0] ** float(epoch) * lr0
    if sched_id == S_EPOCH_INVERSE_SQRT:
        return sp[0] / math.sqrt(float(epoch)) * lr0
    if sched_id == S_EPOCH_PIECEWISE:
        # 003: "przez pierwsze kilka epok może on wynosić 0,1, przez kolejne kilkanaście 0,01 a
        # następnie 0,001": factor j after b_j epochs (epochs 1…b₁ take f₀).
        nb = int(sp[0])
        piece = 0
        for j in range(nb):
            if epoch > sp[1 + j]:
                piece = j + 1
        return lr0 * sp[9 + piece]
    if sched_id == S_PERFORMANCE:
        # 003: "jeżeli w kolejnej epoce E maleje to współczynnik uczenia jest zwiększany o 5%, a
        # w przeciwnym razie jest zmniejszany o 30%": at each epoch's start, E (the loss there)
        # is compared with E at the previous epoch's start.
        if k == 0:
            st[PL_BEST, i] = f
        elif k % per_epoch == 0:
            if f < st[PL_BEST, i]:
                st[PL_FACTOR, i] *= sp[0]
            else:
                st[PL_FACTOR, i] *= sp[1]
            st[PL_BEST, i] = f
        return lr0 * st[PL_FACTOR, i]
    return math.nan


# ======================================================================================
# The trajectory loop
# ======================================================================================


# The surface formulas of surfaces._kernels, inlined at Numba-IR level into the first-order step
# loops: a regular call passes the four arrays p, data_x, data_y, idx as ~30 machine words and
# costs ~10 ns, more than the maths. Same Python functions, so the formulas still live once.
_gradient_inline = njit(inline="always", error_model="numpy")(gradient.py_func)
_value_inline = njit(inline="always", error_model="numpy")(value.py_func)


@njit(inline="always", error_model="numpy")
def _prepare(
    oid, sid, k, x, y, f, hp, flags, st, i, p, data_x, data_y, idx_full, batches, noise,
    sched_id, sp, tol,
):  # fmt: skip
    """First part of update k (0-based) of run i at (x, y) with loss f: the gradient the
    optimizer sees (mini-batch row k of ``batches`` or all data, plus noise row k), the stop
    checks before the update, and the scheduled η.

    Returns (status, gx, gy, lr): status OK, DIVERGED (non-finite gradient) or CONVERGED
    (full gradient ‖∇f(x, y)‖ ≤ tol, or the stop rule of flags[STOP_RULE]: update k − 1 moved
    less than hp[STEP_TOL], or f ≤ hp[TARGET_LOSS]); lr is NaN when the run stops.
    """
    qx = x
    qy = y
    if oid == NESTEROV and flags[NESTEROV_FORM] == 1:
        qx = x - hp[BETA1, i] * st[M0, i]
        qy = y - hp[BETA1, i] * st[M1, i]
    if batches.shape[0] > 0:
        idx = batches[k]
    else:
        idx = idx_full
    gx, gy = _gradient_inline(sid, qx, qy, p, data_x, data_y, idx, idx.shape[0])
    if noise.shape[0] > 0:
        gx += noise[k, 0]
        gy += noise[k, 1]
    if not (math.isfinite(gx) and math.isfinite(gy)):
        return DIVERGED, gx, gy, math.nan
    if tol > 0.0:
        fgx, fgy = gradient(sid, x, y, p, data_x, data_y, idx_full, idx_full.shape[0])
        if math.hypot(fgx, fgy) <= tol:
            return CONVERGED, gx, gy, math.nan
    # The Polish deck's stop rules (003: "norma z różnicy wektorów wag z kolejnych iteracji",
    # "zadana dokładność"): the last step was shorter than STEP_TOL, or the loss is at TARGET_LOSS.
    rule = flags[STOP_RULE]
    if rule == 1:
        if k > 0 and math.hypot(x - st[PREV_X, i], y - st[PREV_Y, i]) < hp[STEP_TOL, i]:
            return CONVERGED, gx, gy, math.nan
        st[PREV_X, i] = x
        st[PREV_Y, i] = y
    elif rule == 2 and f <= hp[TARGET_LOSS, i]:
        return CONVERGED, gx, gy, math.nan
    # scheduled_lr is not inlined (it takes two arrays); the constant η needs no call.
    lr0 = hp[LR, i]
    lr = lr0 if sched_id == S_CONSTANT else scheduled_lr(sched_id, sp, k, lr0, f, st, i)
    return OK, gx, gy, lr


@njit(inline="always", error_model="numpy")
def _update(oid, sid, t, x, y, f, gx, gy, lr, hp, flags, st, i, mem, p, data_x, data_y, idx_full):
    """The update rule of optimizer ``oid`` for run i: (code, nx, ny, ex, ey), code OK, or ERROR
    for an id that has no line here (the run stops at once; it never runs another method).

    One ``elif`` per id, written by hand: Numba inlines only calls it sees in the source. The
    first-order lines are the entries of :data:`optviz._rules.FIRST_ORDER_RULES`;
    tests/test_kernel_registry.py fails when one is missing here or in
    :func:`optviz._batch._run_block`.
    """
    if oid == GD:
        nx, ny, ex, ey = gd_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    elif oid == MOMENTUM:
        nx, ny, ex, ey = momentum_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    elif oid == NESTEROV:
        nx, ny, ex, ey = nesterov_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    elif oid == ADAGRAD:
        nx, ny, ex, ey = adagrad_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    elif oid == RMSPROP:
        nx, ny, ex, ey = rmsprop_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    elif oid == ADAM:
        nx, ny, ex, ey = adam_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    elif oid == NADAM:
        nx, ny, ex, ey = nadam_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    elif oid == ADAMW:
        nx, ny, ex, ey = adamw_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    elif oid == AMSGRAD:
        nx, ny, ex, ey = amsgrad_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    elif oid == ADAM_FIRST_GRAD:
        nx, ny, ex, ey = adam_first_grad_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    elif oid == QHM:
        nx, ny, ex, ey = qhm_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    elif oid == QHADAM:
        nx, ny, ex, ey = qhadam_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    elif oid == LION:
        nx, ny, ex, ey = lion_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    elif oid == ADAMAX:
        nx, ny, ex, ey = adamax_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    elif oid == RADAM:
        nx, ny, ex, ey = radam_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    elif oid == RPROP:
        nx, ny, ex, ey = rprop_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    elif oid == ADABELIEF:
        nx, ny, ex, ey = adabelief_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    elif oid == ADAGRAD_FULL:
        nx, ny, ex, ey = adagrad_full_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    # (new first-order rules: one line above this comment)
    elif oid == NEWTON:
        nx, ny, ex, ey = newton_update(sid, p, data_x, data_y, x, y, gx, gy, lr, hp, flags, i)
    elif oid == BFGS or oid == DFP:
        nx, ny, ex, ey = quasi_newton_update(
            oid, sid, p, data_x, data_y, idx_full, x, y, f, gx, gy, lr, flags, st, i
        )
    elif oid == LBFGS:
        nx, ny, ex, ey = lbfgs_update(
            sid, p, data_x, data_y, idx_full, x, y, f, gx, gy, lr, flags, st, i, mem[i]
        )
    elif oid == LEVENBERG_MARQUARDT:
        nx, ny, ex, ey = levenberg_marquardt_update(
            sid, p, data_x, data_y, x, y, f, gx, gy, lr, st, i
        )
    elif oid == STEEPEST_DESCENT:
        nx, ny, ex, ey = steepest_descent_update(
            sid, p, data_x, data_y, idx_full, x, y, f, gx, gy, lr, flags
        )
    else:
        return ERROR, x, y, math.nan, math.nan
    return OK, nx, ny, ex, ey


@njit(inline="always", error_model="numpy")
def _outcome(sid, nx, ny, p, data_x, data_y, escape_radius):
    """Last part of an update that produced (nx, ny): (status, loss there). DIVERGED: the run
    stops before this point; ESCAPED: the point is valid and the run stops after it."""
    fn = _value_inline(sid, nx, ny, p, data_x, data_y)
    if not (math.isfinite(fn) and abs(nx) <= BIG and abs(ny) <= BIG):
        return DIVERGED, fn
    # hypot is a libm call (~10 ns); most surfaces have no escape radius (inf).
    if escape_radius < math.inf and math.hypot(nx, ny) > escape_radius:
        return ESCAPED, fn
    return OK, fn


@njit(inline="always", error_model="numpy")
def _step(
    oid, sid, k, x, y, f, hp, flags, st, i, mem, p, data_x, data_y, idx_full, batches, noise,
    sched_id, sp, tol, escape_radius, lookahead,
):  # fmt: skip
    """Update k (0-based) of run i from (x, y) with loss f: :func:`_prepare`, :func:`_update`
    (then Lookahead's sync when ``lookahead``: a compile-time constant, see :func:`_steps`),
    :func:`_outcome` in turn. ``mem`` holds
    the L-BFGS memory of every run, ``mem[i]`` run i's.

    Returns (status, nx, ny, fn, gx, gy, lr, ex, ey): ``gx, gy`` the gradient the optimizer saw,
    ``lr`` the scheduled η, ``ex, ey`` the per-coordinate step it applied. Status OK: (nx, ny,
    fn) is the next valid point; ESCAPED: it is valid and the run stops after it; CONVERGED,
    DIVERGED or ERROR (no update rule for ``oid``): the run stops at (x, y); a second-order
    method whose full gradient is zero to working precision (‖∇f‖² underflows) stops CONVERGED
    whatever ``tol``. Inlined (at Numba-IR
    level) into the trajectory loop :func:`_steps`; its three parts are also the three passes of
    the batch kernel's vectorised loop, so every path runs the same statements.
    """
    nan = math.nan
    status, gx, gy, lr = _prepare(
        oid, sid, k, x, y, f, hp, flags, st, i, p, data_x, data_y, idx_full, batches, noise,
        sched_id, sp, tol,
    )  # fmt: skip
    if status != OK:
        return status, x, y, f, gx, gy, nan, nan, nan
    if (
        oid >= N_FIRST_ORDER
        and batches.shape[0] == 0
        and noise.shape[0] == 0
        and gx * gx + gy * gy < TINY_NORMAL
    ):
        # A stationary point reached exactly (∇f = 0 to working precision) is converged,
        # whatever tol: the methods that divide by curvature would otherwise take a 0/0 step
        # (sᵀr, rᵀr and gᵀVg all underflow) and report it as a divergence. First-order methods
        # may still move from ∇f = 0 (momentum), so they go on.
        return CONVERGED, x, y, f, gx, gy, nan, nan, nan
    code, nx, ny, ex, ey = _update(
        oid, sid, k + 1, x, y, f, gx, gy, lr, hp, flags, st, i, mem, p, data_x, data_y, idx_full
    )
    if code != OK:
        return code, x, y, f, gx, gy, nan, nan, nan
    if lookahead:  # a first-order option only; off for the others
        nx, ny = lookahead_sync(x, y, nx, ny, k + 1, hp, flags, st, i)
    status, fn = _outcome(sid, nx, ny, p, data_x, data_y, escape_radius)
    if status == DIVERGED:
        return _stopped_at_rest(gx, gy, batches, noise), x, y, f, gx, gy, lr, ex, ey
    return status, nx, ny, fn, gx, gy, lr, ex, ey


@njit(inline="always", error_model="numpy")
def _stopped_at_rest(gx, gy, batches, noise):
    """The status of a run whose update blew up: CONVERGED when the full gradient it stood on
    was exactly zero (a first-order 0/0 with ε = 0 and zero accumulators at a stationary point:
    the point is stationary, nothing diverged), else DIVERGED."""
    if gx == 0.0 and gy == 0.0 and batches.shape[0] == 0 and noise.shape[0] == 0:
        return CONVERGED
    return DIVERGED


@njit(inline="always", error_model="numpy")
def _record(rec, row, st):
    # The optimizer state after an update, for Trajectory.state (optviz.engine names the slots).
    for j in range(st.shape[0]):
        rec[row, j] = st[j, 0]


@njit(inline="always", error_model="numpy")
def _loop(
    oid, sid, steps, hp, flags, p, data_x, data_y, idx_full, batches, noise, sched_id, sp,
    tol, escape_radius, xy, loss, grad, lr_out, eff, st, mem, x, y, f, rec, lookahead,
):  # fmt: skip
    """simulate's step loop: starts from (x, y) with loss f and the initialised state ``st``
    (one column); returns (status, last, x, y, f) with the last valid point and its loss.
    ``rec`` (rows, N_STATE): when it has rows, row k+1 receives the state after update k.
    ``lookahead`` is a constant of each caller, :func:`_steps` and :func:`_steps_lookahead`."""
    for k in range(steps):
        status, nx, ny, fn, gx, gy, lr, ex, ey = _step(
            oid, sid, k, x, y, f, hp, flags, st, 0, mem, p, data_x, data_y, idx_full, batches,
            noise, sched_id, sp, tol, escape_radius, lookahead,
        )  # fmt: skip
        grad[k, 0] = gx
        grad[k, 1] = gy
        if status != OK and status != ESCAPED:
            return status, k, x, y, f
        lr_out[k] = lr
        eff[k, 0] = ex
        eff[k, 1] = ey
        x = nx
        y = ny
        f = fn
        xy[k + 1, 0] = x
        xy[k + 1, 1] = y
        loss[k + 1] = f
        if rec.shape[0] > 0:
            _record(rec, k + 1, st)
        if status == ESCAPED:
            return status, k + 1, x, y, f
    return OK, steps, x, y, f


# Two compiled copies of the loop: without Lookahead (the constant False removes its sync from
# the machine code: with the sync merely present, never taken, optviz.run lost ~3 % on Adam)
# and with it. _nrt=False: no reference counting here. With it, each inlined surface call
# increfs and decrefs its array arguments (8 atomic NRT calls per step). Nothing in the loop
# allocates (L-BFGS's memory comes in preallocated as ``mem``).
@njit(cache=True, error_model="numpy", _nrt=False)
def _steps(
    oid, sid, steps, hp, flags, p, data_x, data_y, idx_full, batches, noise, sched_id, sp,
    tol, escape_radius, xy, loss, grad, lr_out, eff, st, mem, x, y, f, rec,
):  # fmt: skip
    """:func:`_loop` without Lookahead."""
    return _loop(
        oid, sid, steps, hp, flags, p, data_x, data_y, idx_full, batches, noise, sched_id, sp,
        tol, escape_radius, xy, loss, grad, lr_out, eff, st, mem, x, y, f, rec, False,
    )  # fmt: skip


@njit(cache=True, error_model="numpy", _nrt=False)
def _steps_lookahead(
    oid, sid, steps, hp, flags, p, data_x, data_y, idx_full, batches, noise, sched_id, sp,
    tol, escape_radius, xy, loss, grad, lr_out, eff, st, mem, x, y, f, rec,
):  # fmt: skip
    """:func:`_loop` with Lookahead's sync after every update (flags[LOOKAHEAD_K] > 0)."""
    return _loop(
        oid, sid, steps, hp, flags, p, data_x, data_y, idx_full, batches, noise, sched_id, sp,
        tol, escape_radius, xy, loss, grad, lr_out, eff, st, mem, x, y, f, rec, True,
    )  # fmt: skip


@njit(cache=True, error_model="numpy")
def init_state(st, hp):
    """Optimizer state before the first update: column i of ``st`` (N_STATE, runs) from the
    hyperparameters in column i of ``hp``."""
    st[:] = 0.0
    for i in range(st.shape[1]):
        st[BP1, i] = 1.0
        st[BP2, i] = 1.0
        st[MU_PRODUCT, i] = 1.0
        st[NU, i] = hp[LM_LAMBDA, i]
        st[H00, i] = 1.0
        st[H11, i] = 1.0
        st[PL_BEST, i] = math.inf
        st[PL_FACTOR, i] = 1.0


@njit(cache=True, error_model="numpy", nogil=True)
def simulate(
    oid, sid, x0, y0, steps, hp, flags, p, data_x, data_y, batches, noise, sched_id, sp, tol,
    escape_radius, xy, loss, grad, lr_out, eff, rec,
):  # fmt: skip
    """Run one optimizer for ``steps`` updates from (x0, y0); return (status, stopped_at).

    The outputs have ``steps + 1`` rows: row 0 is the start, row k the point after k updates;
    rows after ``stopped_at`` are NaN. ``rec`` records the optimizer state (the N_STATE slots
    above) in the same rows when it has shape (steps + 1, N_STATE); with shape (0, N_STATE)
    nothing is recorded and the loop is the same.
    """
    n = data_y.shape[0]
    idx_full = np.arange(n)
    # One column, in Fortran order: st[j, 0] is then at a constant offset from the data, as in
    # a flat vector (a C-ordered column would need the row stride).
    st = np.empty((1, N_STATE)).T
    hp = hp.reshape((1, N_HP)).T
    init_state(st, hp)
    # L-BFGS pairs (s, r) and the two-loop coefficient of each pair.
    mem = np.zeros((1, max(flags[HISTORY_SIZE], 1), 5))
    f = value(sid, x0, y0, p, data_x, data_y)
    xy[0, 0] = x0
    xy[0, 1] = y0
    loss[0] = f
    if rec.shape[0] > 0:
        _record(rec, 0, st)
    if flags[LOOKAHEAD_K] > 0:
        status, last, x, y, f = _steps_lookahead(
            oid, sid, steps, hp, flags, p, data_x, data_y, idx_full, batches, noise, sched_id,
            sp, tol, escape_radius, xy, loss, grad, lr_out, eff, st, mem, x0, y0, f, rec,
        )  # fmt: skip
    else:
        status, last, x, y, f = _steps(
            oid, sid, steps, hp, flags, p, data_x, data_y, idx_full, batches, noise, sched_id,
            sp, tol, escape_radius, xy, loss, grad, lr_out, eff, st, mem, x0, y0, f, rec,
        )  # fmt: skip
    if status == OK or status == ESCAPED:
        # The last row's gradient: the full gradient where the run ended (no noise, no batch).
        gx, gy = gradient(sid, x, y, p, data_x, data_y, idx_full, n)
        grad[last, 0] = gx
        grad[last, 1] = gy
    for j in range(last + 1, steps + 1):
        xy[j, 0] = math.nan
        xy[j, 1] = math.nan
        loss[j] = math.nan
        grad[j, 0] = math.nan
        grad[j, 1] = math.nan
        if rec.shape[0] > 0:
            rec[j, :] = math.nan
    for j in range(last, steps + 1):
        lr_out[j] = math.nan
        eff[j, 0] = math.nan
        eff[j, 1] = math.nan
    return status, last
