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
    BP1,
    BP2,
    CONVERGED,
    DIVERGED,
    ESCAPED,
    H00,
    H11,
    LM_LAMBDA,
    MU_PRODUCT,
    N_STATE,
    NEWTON,
    NU,
    OK,
    PL_BEST,
    PL_FACTOR,
    _step,
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
    mem,
    code,
    last,
):
    """Advance the runs of one block by ``steps`` updates, each one ``_kernel._step`` as in
    ``simulate``.

    Row i of ``hps`` / ``st`` and entry i of ``xs, ys, fs`` (point and loss) belong to run i;
    ``code`` and ``last`` receive its status and stopped_at. A stopped run keeps its last
    valid point and is skipped from then on.
    """
    for k in range(steps):
        for i in range(xs.shape[0]):
            if code[i] != OK:
                continue
            status, nx, ny, fn, _, _, _, _, _ = _step(
                oid, sid, k, xs[i], ys[i], fs[i], hps[i], flags, st[i], mem, p, dx, dy,
                idx_full, batches, noise, sched_id, sp, tol, escape_radius,
            )  # fmt: skip
            if status == DIVERGED or status == CONVERGED:
                code[i] = status
                last[i] = k
                continue
            xs[i] = nx
            ys[i] = ny
            fs[i] = fn
            if status == ESCAPED:
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
        no_memory = np.zeros((1, 5))  # L-BFGS memory: unused by the first-order optimizers
        _advance_block(
            oid, sid, steps, hps[lo:hi], flags, p, dx, dy, np.arange(dy.shape[0]), batches,
            noise, sched_id, sp, tol, escape_radius, xs, ys, fs, st, no_memory, code, last,
        )  # fmt: skip
        final_xy[lo:hi, 0] = xs
        final_xy[lo:hi, 1] = ys
        final_loss[lo:hi] = fs
        status[lo:hi] = code
        stopped_at[lo:hi] = last
