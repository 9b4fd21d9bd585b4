"""Batched kernel: many independent runs of one optimizer, a block of runs at a time.

Each thread takes a block of ``BLOCK`` runs and advances all of them one step before the next
step. For the first-order methods a step is three passes over the block: :func:`_prepare_pass`
(gradients, stop checks, scheduled η; scalar, it dispatches on the surface), the update rule
over all runs, in a loop with the optimizer dispatch hoisted out of it, which LLVM vectorises
(AVX-512: 8 runs per instruction), and :func:`_outcome_pass` (loss, divergence, escape). The
passes are :func:`optviz._kernel._step`'s three parts, with the same rule functions, so every
run ends exactly where :func:`optviz.run` ends (bit for bit: vector sqrt, div, mul and add
round like the scalar ones; no libm call is vectorised, as Numba uses no SVML here), with the
same status and ``stopped_at``. The second-order and line-search methods evaluate the surface
inside their rules: each of their runs is :func:`optviz._kernel.simulate` (:func:`_run_each`).

What makes the update loop vectorise: the rules are inlined at Numba-IR level (no calls left
in the loop), sqrt is the LLVM intrinsic, and every array the loop reads or writes is allocated
in :func:`_run_block` itself with the constant width ``BLOCK``, so LLVM knows the arrays are
distinct and the rows of the state a constant distance apart (arrays passed in as arguments
would need more runtime alias checks than it emits).
"""

from __future__ import annotations

import types as pytypes

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

from optviz import _layout as L
from optviz import _rules
from optviz._kernel import _outcome, _prepare, _stopped_at_rest, init_state, simulate
from optviz._layout import DIVERGED, ESCAPED, N_FIRST_ORDER, N_HP, N_STATE, OK
from surfaces import _kernels as surface_kernels

BLOCK = 512  # runs advanced together by one thread (their state stays in L2)


@intrinsic
def _vector_sqrt(typingctx, v):
    """IEEE √v as the LLVM intrinsic, which LLVM can vectorise. ``math.sqrt`` calls libm, which
    may set errno, so a loop containing it stays scalar. Same correctly rounded result."""

    def codegen(context, builder, signature, args):
        return builder.call(builder.module.declare_intrinsic("llvm.sqrt", [ir.DoubleType()]), args)

    return types.float64(types.float64), codegen


_BINDINGS = {"_sqrt": _vector_sqrt}


def _vectorisable(fn):
    """``fn``'s own code (the formula stays in one place) compiled to be inlined at Numba-IR
    level, so the loop has no calls left, with its sqrt and helpers rebound to the vectorisable
    ones above."""
    py = fn.py_func
    clone = pytypes.FunctionType(py.__code__, {**py.__globals__, **_BINDINGS}, py.__name__)
    return njit(inline="always", error_model="numpy")(clone)


for _helper in (_rules._lerp, _rules._denominator, _rules._adam_step, _rules._rprop_coordinate,
                _rules._sign):  # fmt: skip
    _BINDINGS[_helper.__name__] = _vectorisable(_helper)
_gd = _vectorisable(_rules.gd_update)
_momentum = _vectorisable(_rules.momentum_update)
_nesterov = _vectorisable(_rules.nesterov_update)
_adagrad = _vectorisable(_rules.adagrad_update)
_rmsprop = _vectorisable(_rules.rmsprop_update)
_adam = _vectorisable(_rules.adam_update)
_adam_first_grad = _vectorisable(_rules.adam_first_grad_update)
_nadam = _vectorisable(_rules.nadam_update)
_adamw = _vectorisable(_rules.adamw_update)
_amsgrad = _vectorisable(_rules.amsgrad_update)
_radam = _vectorisable(_rules.radam_update)
_rprop = _vectorisable(_rules.rprop_update)
_adabelief = _vectorisable(_rules.adabelief_update)
_adagrad_full = _vectorisable(_rules.adagrad_full_update)


# _nrt=False, as for _kernel._steps: the inlined surface calls would otherwise incref/decref
# their array arguments for every run and step. Nothing is allocated here.
@njit(cache=True, error_model="numpy", _nrt=False)
def _prepare_pass(
    oid, sid, k, nb, hp, flags, st, p, dx, dy, idx_full, batches, noise, sched_id, sp, tol,
    xs, ys, fs, gxs, gys, lrs, code, last,
):  # fmt: skip
    """``_kernel._prepare`` for the live runs of a block: their gradient and η of update k go
    to ``gxs, gys, lrs``; a run that stops here gets its status and stopped_at = k. Returns
    how many runs are still live."""
    live = 0
    for i in range(nb):
        if code[i] != OK:
            continue
        status, gx, gy, lr = _prepare(
            oid, sid, k, xs[i], ys[i], fs[i], hp, flags, st, i, p, dx, dy, idx_full, batches,
            noise, sched_id, sp, tol,
        )  # fmt: skip
        if status != OK:
            code[i] = status
            last[i] = k
            continue
        gxs[i] = gx
        gys[i] = gy
        lrs[i] = lr
        live += 1
    return live


@njit(cache=True, error_model="numpy", _nrt=False)
def _outcome_pass(
    sid, k, nb, p, dx, dy, escape_radius, xs, ys, fs, nxs, nys, code, last, gxs, gys, batches,
    noise,
):  # fmt: skip
    """``_kernel._outcome`` for the runs still live after update k: each one moves to its new
    point, or stops before it (diverged, or converged when it blew up standing on ∇f = 0, as in
    ``_kernel._step``) or after it (escaped)."""
    for i in range(nb):
        if code[i] != OK:
            continue
        status, fn = _outcome(sid, nxs[i], nys[i], p, dx, dy, escape_radius)
        if status == DIVERGED:
            code[i] = _stopped_at_rest(gxs[i], gys[i], batches, noise)
            last[i] = k
            continue
        xs[i] = nxs[i]
        ys[i] = nys[i]
        fs[i] = fn
        if status == ESCAPED:
            code[i] = ESCAPED
            last[i] = k + 1


@njit(cache=True, error_model="numpy")
def _run_each(
    oid, sid, steps, hps, flags, p, dx, dy, batches, noise, sched_id, sp, tol, escape_radius,
    starts, final_xy, final_loss, status, stopped_at,
):  # fmt: skip
    """The methods that evaluate the surface inside their rule (Newton, quasi-Newton, L-BFGS,
    Levenberg–Marquardt, steepest descent) gain nothing from vectorising: each run is
    ``_kernel.simulate``, exactly as in :func:`optviz.run`, its path going to scratch arrays."""
    hp = np.empty(N_HP)
    xy = np.empty((steps + 1, 2))
    loss = np.empty(steps + 1)
    grad = np.empty((steps + 1, 2))
    lr_out = np.empty(steps + 1)
    eff = np.empty((steps + 1, 2))
    rec = np.empty((0, N_STATE))  # no state recording
    for i in range(starts.shape[0]):
        for j in range(N_HP):
            hp[j] = hps[j, i]
        code, last = simulate(
            oid, sid, starts[i, 0], starts[i, 1], steps, hp, flags, p, dx, dy, batches, noise,
            sched_id, sp, tol, escape_radius, xy, loss, grad, lr_out, eff, rec,
        )  # fmt: skip
        final_xy[i, 0] = xy[last, 0]
        final_xy[i, 1] = xy[last, 1]
        final_loss[i] = loss[last]
        status[i] = code
        stopped_at[i] = last


@njit(cache=True, error_model="numpy")
def _run_block(
    oid, sid, steps, hps, flags, p, dx, dy, batches, noise, sched_id, sp, tol, escape_radius,
    starts, final_xy, final_loss, status, stopped_at,
):  # fmt: skip
    """Run the ``nb ≤ BLOCK`` runs whose starts and hyperparameters (columns of ``hps``) are
    given; write where each ended, its loss, status and stopped_at."""
    nb = starts.shape[0]
    if oid >= N_FIRST_ORDER:
        _run_each(oid, sid, steps, hps, flags, p, dx, dy, batches, noise, sched_id, sp, tol,
                  escape_radius, starts, final_xy, final_loss, status, stopped_at)  # fmt: skip
        return
    hp = np.zeros((N_HP, BLOCK))
    for j in range(N_HP):
        for i in range(nb):
            hp[j, i] = hps[j, i]
    st = np.empty((N_STATE, BLOCK))
    init_state(st, hp)
    xs = np.zeros(BLOCK)
    ys = np.zeros(BLOCK)
    fs = np.zeros(BLOCK)
    for i in range(nb):
        xs[i] = starts[i, 0]
        ys[i] = starts[i, 1]
        fs[i] = surface_kernels.value(sid, xs[i], ys[i], p, dx, dy)
    gxs = np.zeros(BLOCK)
    gys = np.zeros(BLOCK)
    lrs = np.zeros(BLOCK)
    nxs = np.zeros(BLOCK)
    nys = np.zeros(BLOCK)
    status[:] = OK
    stopped_at[:] = steps
    idx_full = np.arange(dy.shape[0])
    for k in range(steps):
        t = k + 1
        live = _prepare_pass(
            oid, sid, k, nb, hp, flags, st, p, dx, dy, idx_full, batches, noise, sched_id, sp,
            tol, xs, ys, fs, gxs, gys, lrs, status, stopped_at,
        )  # fmt: skip
        if live == 0:
            break
        # Every run of the block, stopped or not, so the loop has no branches: a stopped
        # run's state is never read again and _outcome_pass leaves its point alone.
        if oid == L.GD:
            for i in range(nb):
                nxs[i], nys[i], _, _ = _gd(xs[i], ys[i], gxs[i], gys[i], lrs[i], t, hp,
                                           flags, st, i)  # fmt: skip
        elif oid == L.MOMENTUM:
            for i in range(nb):
                nxs[i], nys[i], _, _ = _momentum(xs[i], ys[i], gxs[i], gys[i], lrs[i], t,
                                                 hp, flags, st, i)  # fmt: skip
        elif oid == L.NESTEROV:
            for i in range(nb):
                nxs[i], nys[i], _, _ = _nesterov(xs[i], ys[i], gxs[i], gys[i], lrs[i], t,
                                                 hp, flags, st, i)  # fmt: skip
        elif oid == L.ADAGRAD:
            for i in range(nb):
                nxs[i], nys[i], _, _ = _adagrad(xs[i], ys[i], gxs[i], gys[i], lrs[i], t,
                                                hp, flags, st, i)  # fmt: skip
        elif oid == L.RMSPROP:
            for i in range(nb):
                nxs[i], nys[i], _, _ = _rmsprop(xs[i], ys[i], gxs[i], gys[i], lrs[i], t,
                                                hp, flags, st, i)  # fmt: skip
        elif oid == L.ADAM and flags[L.ACCUMULATOR_INIT] == 1:
            for i in range(nb):
                nxs[i], nys[i], _, _ = _adam_first_grad(xs[i], ys[i], gxs[i], gys[i], lrs[i],
                                                        t, hp, flags, st, i)  # fmt: skip
        elif oid == L.ADAM:
            for i in range(nb):
                nxs[i], nys[i], _, _ = _adam(xs[i], ys[i], gxs[i], gys[i], lrs[i], t, hp,
                                             flags, st, i)  # fmt: skip
        elif oid == L.NADAM:
            for i in range(nb):
                nxs[i], nys[i], _, _ = _nadam(xs[i], ys[i], gxs[i], gys[i], lrs[i], t, hp,
                                              flags, st, i)  # fmt: skip
        elif oid == L.ADAMW:
            for i in range(nb):
                nxs[i], nys[i], _, _ = _adamw(xs[i], ys[i], gxs[i], gys[i], lrs[i], t, hp,
                                              flags, st, i)  # fmt: skip
        elif oid == L.RADAM:
            for i in range(nb):
                nxs[i], nys[i], _, _ = _radam(xs[i], ys[i], gxs[i], gys[i], lrs[i], t, hp,
                                              flags, st, i)  # fmt: skip
        elif oid == L.RPROP:
            for i in range(nb):
                nxs[i], nys[i], _, _ = _rprop(xs[i], ys[i], gxs[i], gys[i], lrs[i], t, hp,
                                              flags, st, i)  # fmt: skip
        elif oid == L.ADABELIEF:
            for i in range(nb):
                nxs[i], nys[i], _, _ = _adabelief(xs[i], ys[i], gxs[i], gys[i], lrs[i], t, hp,
                                                  flags, st, i)  # fmt: skip
        elif oid == L.ADAGRAD_FULL:
            for i in range(nb):
                nxs[i], nys[i], _, _ = _adagrad_full(xs[i], ys[i], gxs[i], gys[i], lrs[i], t,
                                                     hp, flags, st, i)  # fmt: skip
        else:
            for i in range(nb):
                nxs[i], nys[i], _, _ = _amsgrad(xs[i], ys[i], gxs[i], gys[i], lrs[i], t,
                                                hp, flags, st, i)  # fmt: skip
        _outcome_pass(
            sid, k, nb, p, dx, dy, escape_radius, xs, ys, fs, nxs, nys, status, stopped_at, gxs,
            gys, batches, noise,
        )  # fmt: skip
    for i in range(nb):
        final_xy[i, 0] = xs[i]
        final_xy[i, 1] = ys[i]
        final_loss[i] = fs[i]


@njit(cache=True, error_model="numpy", parallel=True, nogil=True)
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
    """Independent runs: run i uses ``starts[i]`` and column i of ``hps`` (N_HP, N); its final
    point, loss, status and stopped_at are written to row i of the outputs. ``prange`` over
    blocks of ``BLOCK`` runs, i.e. over independent runs only."""
    n_runs = starts.shape[0]
    for block in prange((n_runs + BLOCK - 1) // BLOCK):
        lo = block * BLOCK
        hi = min(lo + BLOCK, n_runs)
        _run_block(
            oid, sid, steps, hps[:, lo:hi], flags, p, dx, dy, batches, noise, sched_id, sp, tol,
            escape_radius, starts[lo:hi], final_xy[lo:hi], final_loss[lo:hi], status[lo:hi],
            stopped_at[lo:hi],
        )  # fmt: skip
