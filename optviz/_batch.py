"""Batched kernel: many independent runs of one optimizer, a block of runs at a time.

Each thread takes a block of ``BLOCK`` runs and advances all of them one step before the next
step. For the first-order methods a step is three passes over the block: :func:`_prepare_pass`
(gradients, stop checks, scheduled η; scalar, it dispatches on the surface), the update rule
over all runs, in a loop with the optimizer dispatch hoisted out of it, which LLVM vectorises
(AVX-512: 8 runs per instruction; these loops, ``V.<rule>``, are built from the table
``optviz._rules.FIRST_ORDER_RULES``), Lookahead's sync when it is on (vectorised too), and
:func:`_outcome_pass` (loss, divergence, escape). The
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
from numba.core.registry import CPUDispatcher as Dispatcher
from numba.extending import intrinsic

from optviz import _layout as L
from optviz import _rules
from optviz._kernel import _outcome, _prepare, _stopped_at_rest, init_state, simulate
from optviz._layout import DIVERGED, ERROR, ESCAPED, N_FIRST_ORDER, N_HP, N_STATE, OK
from surfaces import _kernels as surface_kernels

BLOCK = 512  # runs advanced together by one thread (their state stays in L2)


@intrinsic
def _vector_sqrt(typingctx, v):
    """IEEE √v as the LLVM intrinsic, which LLVM can vectorise. ``math.sqrt`` calls libm, which
    may set errno, so a loop containing it stays scalar. Same correctly rounded result."""

    def codegen(context, builder, signature, args):
        return builder.call(builder.module.declare_intrinsic("llvm.sqrt", [ir.DoubleType()]), args)

    return types.float64(types.float64), codegen


def _vectorised_namespace(rules_module: pytypes.ModuleType) -> dict:
    """The globals the vectorised clones run with: ``rules_module``'s, with every njit function
    in them (the rules and the helpers they call, ``_lerp``, ``_denominator``, ``_adam_step``, …,
    whichever module they come from) replaced by its clone compiled to be inlined at Numba-IR
    level, so the loop has no calls left, and ``_sqrt`` by the vectorisable intrinsic. One dict
    shared by every clone, so a helper that calls another helper gets its clone too."""
    namespace = dict(vars(rules_module))
    for name, obj in vars(rules_module).items():
        if isinstance(obj, Dispatcher):
            py = obj.py_func
            namespace[name] = njit(inline="always", error_model="numpy")(
                pytypes.FunctionType(py.__code__, namespace, py.__name__, py.__defaults__)
            )
    namespace["_sqrt"] = _vector_sqrt
    return namespace


def _sweep_over(rule: Dispatcher) -> Dispatcher:
    """The update loop over the runs of a block for one rule, to be inlined at Numba-IR level into
    :func:`_run_block`: every run of the block, stopped or not, so the loop has no branches (a
    stopped run's state is never read again and :func:`_outcome_pass` leaves its point alone)."""

    def sweep(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys):
        for i in range(nb):
            nxs[i], nys[i], _, _ = rule(xs[i], ys[i], gxs[i], gys[i], lrs[i], t, hp, flags, st, i)

    return njit(inline="always", error_model="numpy")(sweep)


def _lookahead_sweep(sync: Dispatcher) -> Dispatcher:
    """Lookahead's sync (:func:`optviz._rules.lookahead_sync`) over the runs of a block after
    their update, inlined into :func:`_run_block` like the rules' sweeps."""

    def sweep(nb, t, hp, flags, st, xs, ys, nxs, nys):
        for i in range(nb):
            nxs[i], nys[i] = sync(xs[i], ys[i], nxs[i], nys[i], t, hp, flags, st, i)

    return njit(inline="always", error_model="numpy")(sweep)


_NAMESPACE = _vectorised_namespace(_rules)
# V.<rule name>: the vectorised sweep of every rule of optviz._rules.FIRST_ORDER_RULES, built
# from the table; _run_block calls them as module attributes, which Numba inlines like globals.
V = pytypes.ModuleType("optviz._batch.V")
for _rule in _rules.FIRST_ORDER_RULES.values():
    setattr(V, _rule.__name__, _sweep_over(_NAMESPACE[_rule.__name__]))
V.lookahead_sync = _lookahead_sweep(_NAMESPACE["lookahead_sync"])

# What _run_block reports it ran: the vectorised sweep of a first-order rule, simulate run by
# run (second-order methods), or nothing (an id without a rule: every run ends with ERROR).
PATH_NONE, PATH_VECTORISED, PATH_EACH = range(3)
PATH_NAMES = ("none", "vectorised", "run by run")


# _nrt=False, as for _kernel._steps: the inlined surface calls would otherwise incref/decref
# their array arguments for every run and step. Nothing is allocated here.
@njit(cache=True, error_model="numpy", _nrt=False)
def _prepare_pass(
    oid, sid, k, nb, hp, flags, st, p, data_x, data_y, idx_full, batches, noise, sched_id, sp, tol,
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
            oid, sid, k, xs[i], ys[i], fs[i], hp, flags, st, i, p, data_x, data_y, idx_full,
            batches, noise, sched_id, sp, tol,
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
    sid, k, nb, p, data_x, data_y, escape_radius, xs, ys, fs, nxs, nys, code, last, gxs, gys,
    batches, noise,
):  # fmt: skip
    """``_kernel._outcome`` for the runs still live after update k: each one moves to its new
    point, or stops before it (diverged, or converged when it blew up standing on ∇f = 0, as in
    ``_kernel._step``) or after it (escaped)."""
    for i in range(nb):
        if code[i] != OK:
            continue
        status, fn = _outcome(sid, nxs[i], nys[i], p, data_x, data_y, escape_radius)
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
    oid, sid, steps, hps, flags, p, data_x, data_y, batches, noise, sched_id, sp, tol,
    escape_radius, starts, final_xy, final_loss, status, stopped_at,
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
            oid, sid, starts[i, 0], starts[i, 1], steps, hp, flags, p, data_x, data_y, batches,
            noise, sched_id, sp, tol, escape_radius, xy, loss, grad, lr_out, eff, rec,
        )  # fmt: skip
        final_xy[i, 0] = xy[last, 0]
        final_xy[i, 1] = xy[last, 1]
        final_loss[i] = loss[last]
        status[i] = code
        stopped_at[i] = last


@njit(cache=True, error_model="numpy")
def _run_block(
    oid, sid, steps, hps, flags, p, data_x, data_y, batches, noise, sched_id, sp, tol,
    escape_radius, starts, final_xy, final_loss, status, stopped_at,
):  # fmt: skip
    """Run the ``nb ≤ BLOCK`` runs whose starts and hyperparameters (columns of ``hps``) are
    given; write where each ended, its loss, status and stopped_at. Returns the path it took:
    PATH_VECTORISED, PATH_EACH, or PATH_NONE (no steps, or an id without a rule: every run
    then ends at its start with status ERROR)."""
    nb = starts.shape[0]
    if oid >= N_FIRST_ORDER:
        _run_each(
            oid, sid, steps, hps, flags, p, data_x, data_y, batches, noise, sched_id, sp, tol,
            escape_radius, starts, final_xy, final_loss, status, stopped_at,
        )  # fmt: skip
        return PATH_EACH
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
        fs[i] = surface_kernels.value(sid, xs[i], ys[i], p, data_x, data_y)
    gxs = np.zeros(BLOCK)
    gys = np.zeros(BLOCK)
    lrs = np.zeros(BLOCK)
    nxs = np.zeros(BLOCK)
    nys = np.zeros(BLOCK)
    status[:] = OK
    stopped_at[:] = steps
    idx_full = np.arange(data_y.shape[0])
    path = PATH_NONE
    for k in range(steps):
        t = k + 1
        live = _prepare_pass(
            oid, sid, k, nb, hp, flags, st, p, data_x, data_y, idx_full, batches, noise,
            sched_id, sp, tol, xs, ys, fs, gxs, gys, lrs, status, stopped_at,
        )  # fmt: skip
        if live == 0:
            break
        # The update of every run of the block: one line per entry of
        # optviz._rules.FIRST_ORDER_RULES (tests/test_kernel_registry.py checks them all).
        if oid == L.GD:
            V.gd_update(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys)
        elif oid == L.MOMENTUM:
            V.momentum_update(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys)
        elif oid == L.NESTEROV:
            V.nesterov_update(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys)
        elif oid == L.ADAGRAD:
            V.adagrad_update(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys)
        elif oid == L.RMSPROP:
            V.rmsprop_update(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys)
        elif oid == L.ADAM:
            V.adam_update(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys)
        elif oid == L.NADAM:
            V.nadam_update(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys)
        elif oid == L.ADAMW:
            V.adamw_update(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys)
        elif oid == L.AMSGRAD:
            V.amsgrad_update(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys)
        elif oid == L.ADAM_FIRST_GRAD:
            V.adam_first_grad_update(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys)
        elif oid == L.QHM:
            V.qhm_update(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys)
        elif oid == L.QHADAM:
            V.qhadam_update(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys)
        elif oid == L.LION:
            V.lion_update(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys)
        elif oid == L.ADAMAX:
            V.adamax_update(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys)
        elif oid == L.RADAM:
            V.radam_update(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys)
        elif oid == L.RPROP:
            V.rprop_update(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys)
        elif oid == L.ADABELIEF:
            V.adabelief_update(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys)
        elif oid == L.ADAGRAD_FULL:
            V.adagrad_full_update(nb, t, hp, flags, st, xs, ys, gxs, gys, lrs, nxs, nys)
        # (new first-order rules: one line above this comment)
        else:
            # No rule for this id: end every run at its start, never run another method.
            for i in range(nb):
                status[i] = ERROR
                stopped_at[i] = 0
            break
        if flags[L.LOOKAHEAD_K] > 0:
            V.lookahead_sync(nb, t, hp, flags, st, xs, ys, nxs, nys)
        path = PATH_VECTORISED
        _outcome_pass(
            sid, k, nb, p, data_x, data_y, escape_radius, xs, ys, fs, nxs, nys, status,
            stopped_at, gxs, gys, batches, noise,
        )  # fmt: skip
    for i in range(nb):
        final_xy[i, 0] = xs[i]
        final_xy[i, 1] = ys[i]
        final_loss[i] = fs[i]
    return path


@njit(cache=True, error_model="numpy", parallel=True, nogil=True)
def simulate_blocked(
    oid,
    sid,
    starts,
    steps,
    hps,
    flags,
    p,
    data_x,
    data_y,
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
    paths,
):
    """Independent runs: run i uses ``starts[i]`` and column i of ``hps`` (N_HP, N); its final
    point, loss, status and stopped_at are written to row i of the outputs, the path each block
    took (PATH_*) to ``paths`` (one per block). ``prange`` over blocks of ``BLOCK`` runs, i.e.
    over independent runs only."""
    n_runs = starts.shape[0]
    for block in prange((n_runs + BLOCK - 1) // BLOCK):
        lo = block * BLOCK
        hi = min(lo + BLOCK, n_runs)
        paths[block] = _run_block(
            oid, sid, steps, hps[:, lo:hi], flags, p, data_x, data_y, batches, noise, sched_id,
            sp, tol, escape_radius, starts[lo:hi], final_xy[lo:hi], final_loss[lo:hi],
            status[lo:hi], stopped_at[lo:hi],
        )  # fmt: skip
