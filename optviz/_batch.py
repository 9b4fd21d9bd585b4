"""Batched kernel: many independent runs of one optimizer, a block of runs at a time.

Giving each ``prange`` iteration one whole trajectory runs at the single-trajectory speed, which
is bound by the latency of one step's sqrt → div → update chain. Here each thread takes a block
of runs and advances all of them one step before the next step, so the steps of different runs
are independent work the CPU overlaps. Each update is :func:`optviz._kernel._step`, the same
inlined statements as :func:`optviz._kernel.simulate`, so every run ends exactly where
:func:`optviz.run` ends (bit for bit), with the same status and ``stopped_at``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from optviz._kernel import (
    CONVERGED,
    DIVERGED,
    ESCAPED,
    HISTORY_SIZE,
    N_STATE,
    OK,
    _step,
    init_state,
)
from surfaces import _kernels as surface_kernels

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
                oid, sid, k, xs[i], ys[i], fs[i], hps[i], flags, st[i], mem[i], p, dx, dy,
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
    """Independent runs: row i uses ``starts[i]`` and ``hps[i]``; its final point, loss, status
    and stopped_at are written to row i of the outputs. ``prange`` over blocks of ``BLOCK``
    runs, i.e. over independent runs only."""
    n_runs = starts.shape[0]
    for block in prange((n_runs + BLOCK - 1) // BLOCK):
        lo = block * BLOCK
        hi = min(lo + BLOCK, n_runs)
        nb = hi - lo
        st = np.empty((nb, N_STATE))
        for i in range(nb):
            init_state(st[i], hps[lo + i])
        # Per-run L-BFGS pairs (s, r) and two-loop coefficients, as in simulate.
        mem = np.zeros((nb, max(flags[HISTORY_SIZE], 1), 5))
        xs = starts[lo:hi, 0].copy()
        ys = starts[lo:hi, 1].copy()
        fs = np.empty(nb)
        for i in range(nb):
            fs[i] = surface_kernels.value(sid, xs[i], ys[i], p, dx, dy)
        code = np.zeros(nb, np.int64)
        last = np.full(nb, steps, np.int64)
        _advance_block(
            oid, sid, steps, hps[lo:hi], flags, p, dx, dy, np.arange(dy.shape[0]), batches,
            noise, sched_id, sp, tol, escape_radius, xs, ys, fs, st, mem, code, last,
        )  # fmt: skip
        final_xy[lo:hi, 0] = xs
        final_xy[lo:hi, 1] = ys
        final_loss[lo:hi] = fs
        status[lo:hi] = code
        stopped_at[lo:hi] = last
