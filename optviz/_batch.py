"""Blocked batch kernel: many independent first-order runs, a block of runs at a time.

:func:`optviz._kernel.simulate_many` gives each ``prange`` iteration one whole trajectory; that
runs at the single-trajectory speed, which is bound by the latency of one step's sqrt → div →
update chain plus two out-of-line surface calls per step. Here each thread takes a block of runs
and advances all of them one step before the next step, so the steps of different runs are
independent work the CPU overlaps, and the surface formulas are inlined into that loop (as in
``_kernel._steps``, the single-trajectory version of this loop). Same
update rules, same order of operations, so every run ends exactly where
:func:`optviz.run` ends (bit for bit), with the same status and ``stopped_at``.

Only the first-order optimizers (GD … AMSGrad) run here; the second-order and line-search
ones evaluate the surface many times per step and stay on ``simulate_many``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from optviz._kernel import (
    ADAGRAD,
    ADAM,
    ADAMW,
    BETA1,
    BIG,
    BP1,
    BP2,
    CONVERGED,
    DIVERGED,
    ESCAPED,
    GD,
    H00,
    H11,
    LM_LAMBDA,
    LR,
    M0,
    M1,
    MOMENTUM,
    MU_PRODUCT,
    N_STATE,
    NADAM,
    NESTEROV,
    NESTEROV_FORM,
    NEWTON,
    NU,
    OK,
    PL_BEST,
    PL_FACTOR,
    RMSPROP,
    S_CONSTANT,
    _gradient_inline,
    _value_inline,
    adagrad_update,
    adam_update,
    adamw_update,
    amsgrad_update,
    gd_update,
    momentum_update,
    nadam_update,
    nesterov_update,
    rmsprop_update,
    scheduled_lr,
)
from surfaces import _kernels as surface_kernels

FIRST_ORDER = range(NEWTON)  # optimizer ids GD … AMSGrad
BLOCK = 512  # runs advanced together by one thread (their state stays in L2)


# _nrt=False, as for _kernel._steps: the inlined surface calls would otherwise
# incref/decref their four array arguments for every run and step. Nothing is allocated here;
# the caller owns every array.
@njit(cache=True, error_model="numpy", _nrt=False)
def _advance_block(
    oid,
    sid,
    steps,
    hps,
    flags,
    p,
    dx,
    dy,
    idx_full,
    batches,
    noise,
    sched_id,
    sp,
    tol,
    escape_radius,
    xs,
    ys,
    fs,
    st,
    code,
    last,
):
    """Advance the runs of one block by ``steps`` updates; the step body is ``simulate``'s.

    Row i of ``hps`` / ``st`` and entry i of ``xs, ys, fs`` (point and loss) belong to run i;
    ``code`` and ``last`` receive its status and stopped_at. A stopped run keeps its last
    valid point and is skipped from then on.
    """
    n = dy.shape[0]
    n_batch = batches.shape[1] if batches.shape[0] > 0 else 0
    n_noise = noise.shape[0]
    for k in range(steps):
        t = k + 1
        if n_batch > 0:
            idx = batches[k]
            nidx = n_batch
        else:
            idx = idx_full
            nidx = n
        for i in range(xs.shape[0]):
            if code[i] != OK:
                continue
            hp = hps[i]
            s = st[i]
            x = xs[i]
            y = ys[i]
            qx = x
            qy = y
            if oid == NESTEROV and flags[NESTEROV_FORM] == 1:
                qx = x - hp[BETA1] * s[M0]
                qy = y - hp[BETA1] * s[M1]
            gx, gy = _gradient_inline(sid, qx, qy, p, dx, dy, idx, nidx)
            if n_noise > 0:
                gx += noise[k, 0]
                gy += noise[k, 1]
            if not (math.isfinite(gx) and math.isfinite(gy)):
                code[i] = DIVERGED
                last[i] = k
                continue
            if tol > 0.0:
                fgx, fgy = surface_kernels.gradient(sid, x, y, p, dx, dy, idx_full, n)
                if math.hypot(fgx, fgy) <= tol:
                    code[i] = CONVERGED
                    last[i] = k
                    continue
            lr0 = hp[LR]
            lr = lr0 if sched_id == S_CONSTANT else scheduled_lr(sched_id, sp, k, lr0, fs[i], s)
            # The if-chain is written out here: behind a helper function it is not inlined.
            if oid == GD:
                nx, ny, _, _ = gd_update(x, y, gx, gy, lr, t, hp, flags, s)
            elif oid == MOMENTUM:
                nx, ny, _, _ = momentum_update(x, y, gx, gy, lr, t, hp, flags, s)
            elif oid == NESTEROV:
                nx, ny, _, _ = nesterov_update(x, y, gx, gy, lr, t, hp, flags, s)
            elif oid == ADAGRAD:
                nx, ny, _, _ = adagrad_update(x, y, gx, gy, lr, t, hp, flags, s)
            elif oid == RMSPROP:
                nx, ny, _, _ = rmsprop_update(x, y, gx, gy, lr, t, hp, flags, s)
            elif oid == ADAM:
                nx, ny, _, _ = adam_update(x, y, gx, gy, lr, t, hp, flags, s)
            elif oid == NADAM:
                nx, ny, _, _ = nadam_update(x, y, gx, gy, lr, t, hp, flags, s)
            elif oid == ADAMW:
                nx, ny, _, _ = adamw_update(x, y, gx, gy, lr, t, hp, flags, s)
            else:
                nx, ny, _, _ = amsgrad_update(x, y, gx, gy, lr, t, hp, flags, s)
            fn = _value_inline(sid, nx, ny, p, dx, dy)
            if not (math.isfinite(fn) and abs(nx) <= BIG and abs(ny) <= BIG):
                code[i] = DIVERGED
                last[i] = k
                continue
            xs[i] = nx
            ys[i] = ny
            fs[i] = fn
            if escape_radius < math.inf and math.hypot(nx, ny) > escape_radius:
                code[i] = ESCAPED
                last[i] = k + 1


@njit(cache=True, error_model="numpy", parallel=True)
def simulate_blocked(
    oid,
    sid,
    starts,
    steps,
    hps,
    flags,
    p,
    dx,
    dy,
    batches,
    noise,
    sched_id,
    sp,
    tol,
    escape_radius,
    final_xy,
    final_loss,
    status,
    stopped_at,
):
    """``simulate_many``'s contract for first-order optimizers (``oid`` < NEWTON), by blocks of
    ``BLOCK`` runs (``prange`` over blocks, i.e. over independent runs only)."""
    n_runs = starts.shape[0]
    for block in prange((n_runs + BLOCK - 1) // BLOCK):
        lo = block * BLOCK
        hi = min(lo + BLOCK, n_runs)
        nb = hi - lo
        # Initial optimizer state, as in simulate.
        st = np.zeros((nb, N_STATE))
        st[:, BP1] = 1.0
        st[:, BP2] = 1.0
        st[:, MU_PRODUCT] = 1.0
        st[:, NU] = hps[lo:hi, LM_LAMBDA]
        st[:, H00] = 1.0
        st[:, H11] = 1.0
        st[:, PL_BEST] = math.inf
        st[:, PL_FACTOR] = 1.0
        xs = starts[lo:hi, 0].copy()
        ys = starts[lo:hi, 1].copy()
        fs = np.empty(nb)
        for i in range(nb):
            fs[i] = surface_kernels.value(sid, xs[i], ys[i], p, dx, dy)
        code = np.zeros(nb, np.int64)
        last = np.full(nb, steps, np.int64)
        _advance_block(
            oid, sid, steps, hps[lo:hi], flags, p, dx, dy, np.arange(dy.shape[0]), batches,
            noise, sched_id, sp, tol, escape_radius, xs, ys, fs, st, code, last,
        )  # fmt: skip
        final_xy[lo:hi, 0] = xs
        final_xy[lo:hi, 1] = ys
        final_loss[lo:hi] = fs
        status[lo:hi] = code
        stopped_at[lo:hi] = last
