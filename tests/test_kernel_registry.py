"""The optimizer registry of the kernels: one table of first-order rules
(``optviz._rules.FIRST_ORDER_RULES``), from which the batch kernel builds its vectorised loops,
and the two dispatches written by hand (``_kernel._update``, ``_batch._run_block``), which must
have one line per table entry. These tests fail when a line is missing or points at another
rule, when a helper is not rebound for the batch, and when an id without a rule runs anything.
"""

from __future__ import annotations

import dis
import types

import numpy as np
import pytest
from numba.core.registry import CPUDispatcher

import optviz
import surfaces
from optviz import _batch, _kernel, _layout, _rules, engine, optimizers
from surfaces import _kernels as surface_kernels

# Ids of the table that no catalog entry has: the catalog optimizer and options that select them.
INTERNAL = {_layout.ADAM_FIRST_GRAD: ("adam", {"accumulator_init": "first_grad"})}
STEPS = 25
START = (-1.2, 1.0)


def _catalog_case(oid: int) -> tuple[str, dict]:
    if oid in INTERNAL:
        return INTERNAL[oid]
    names = [n for n in optimizers.NAMES if optimizers.get(n).id == oid]
    assert names, f"id {oid} has a rule but no catalog entry (or add it to INTERNAL here)"
    return names[0], {}


def _kernel_inputs(oid: int, surf: surfaces.Surface) -> tuple[np.ndarray, np.ndarray]:
    name, options = _catalog_case(oid)
    _, hp, flags = engine.pack_options(name, surf, options)
    assert engine.kernel_id(name, flags) == oid
    return hp, flags


def _simulate(oid: int, surf: surfaces.Surface, hp: np.ndarray, flags: np.ndarray, steps: int):
    xy = np.empty((steps + 1, 2))
    loss = np.empty(steps + 1)
    grad = np.empty((steps + 1, 2))
    lr_out = np.empty(steps + 1)
    eff = np.empty((steps + 1, 2))
    code, last = _kernel.simulate(
        oid, surf.id, *START, steps, hp, flags, surf.kernel_params, surf.data_x, surf.data_y,
        np.zeros((0, 0), np.int64), np.zeros((0, 2)), _layout.S_CONSTANT,
        np.zeros(_layout.N_SCHED), 0.0, surf.escape_radius, xy, loss, grad, lr_out, eff,
        np.empty((0, _layout.N_STATE)),
    )  # fmt: skip
    return code, last, xy


def _blocked(oid: int, surf: surfaces.Surface, hp: np.ndarray, flags: np.ndarray, steps: int):
    starts = np.array([START, (0.5, -0.5), (1.5, 2.0)])
    n = starts.shape[0]
    final_xy = np.empty((n, 2))
    final_loss = np.empty(n)
    status = np.empty(n, np.int64)
    stopped = np.empty(n, np.int64)
    paths = np.full(1, -1, np.int64)
    _batch.simulate_blocked(
        oid, surf.id, starts, steps, np.repeat(hp[:, None], n, axis=1), flags, surf.kernel_params,
        surf.data_x, surf.data_y, np.zeros((0, 0), np.int64), np.zeros((0, 2)),
        _layout.S_CONSTANT, np.zeros(_layout.N_SCHED), 0.0, surf.escape_radius, final_xy,
        final_loss, status, stopped, paths,
    )  # fmt: skip
    return final_xy, status, stopped, int(paths[0])


def test_the_table_holds_first_order_rules_of_this_module_only():
    rules = list(_rules.FIRST_ORDER_RULES.values())
    assert len(set(rules)) == len(rules), "one rule registered under two ids"
    for oid, rule in _rules.FIRST_ORDER_RULES.items():
        assert oid in _layout.FIRST_ORDER_IDS, (oid, rule.__name__)
        assert isinstance(rule, CPUDispatcher) and rule.py_func.__module__ == _rules.__name__
        assert getattr(_rules, rule.__name__) is rule


def test_the_id_ranges_are_contiguous_and_the_catalog_uses_them():
    assert _layout.FIRST_ORDER_IDS == range(0, _layout.N_FIRST_ORDER)
    assert _layout.SECOND_ORDER_IDS == range(_layout.N_FIRST_ORDER, _layout.N_OPTIMIZERS)
    for name in optimizers.NAMES:
        opt = optimizers.get(name)
        if opt.second_order:
            assert opt.id in _layout.SECOND_ORDER_IDS, name
        else:
            assert opt.id in _rules.FIRST_ORDER_RULES, f"{name}: no rule in FIRST_ORDER_RULES"
            assert opt.update is _rules.FIRST_ORDER_RULES[opt.id], name


@pytest.mark.parametrize("oid", sorted(_rules.FIRST_ORDER_RULES))
def test_optviz_run_dispatches_each_id_to_its_own_rule(oid):
    # The single-run dispatch (_kernel._update) against the table's rule stepped by hand: a
    # missing line ends the run with ERROR, a line calling another rule takes other steps.
    surf = surfaces.get("rosenbrock")
    hp, flags = _kernel_inputs(oid, surf)
    code, last, xy = _simulate(oid, surf, hp, flags, STEPS)
    assert code == _layout.OK and last == STEPS, (code, last)
    rule = _rules.FIRST_ORDER_RULES[oid]
    hp2 = np.ascontiguousarray(hp.reshape(-1, 1))
    st = np.empty((_layout.N_STATE, 1))
    _kernel.init_state(st, hp2)
    idx = np.arange(surf.data_y.shape[0])
    x, y = START
    for t in range(1, STEPS + 1):
        gx, gy = surface_kernels.gradient(
            surf.id, x, y, surf.kernel_params, surf.data_x, surf.data_y, idx, idx.shape[0]
        )
        x, y, _, _ = rule(x, y, gx, gy, hp[_layout.LR], t, hp2, flags, st, 0)
        assert (x, y) == tuple(xy[t]), t


@pytest.mark.parametrize("oid", sorted(_rules.FIRST_ORDER_RULES))
def test_every_first_order_id_takes_the_vectorised_batch_path(oid):
    # The batch dispatch (_batch._run_block): each id runs its vectorised sweep (a missing line
    # reports PATH_NONE with ERROR) and ends bit for bit where optviz.run's kernel ends.
    surf = surfaces.get("rosenbrock")
    hp, flags = _kernel_inputs(oid, surf)
    final_xy, status, stopped, path = _blocked(oid, surf, hp, flags, STEPS)
    assert _batch.PATH_NAMES[path] == "vectorised"
    assert status[0] == _layout.OK and stopped[0] == STEPS
    _, _, xy = _simulate(oid, surf, hp, flags, STEPS)
    assert tuple(final_xy[0]) == tuple(xy[STEPS])


def test_run_batch_reports_its_path():
    starts = np.zeros((3, 2))
    for name in optimizers.NAMES:
        surface = "noisy_linreg" if optimizers.get(name).needs_sum_of_squares else "booth"
        res = optviz.run_batch(name, surface, starts=starts, steps=3)
        expected = "run by run" if optimizers.get(name).second_order else "vectorised"
        assert res.kernel_path == expected, name
    res = optviz.run_batch("adam", "booth", starts=starts, steps=3, accumulator_init="first_grad")
    assert res.kernel_path == "vectorised"


@pytest.mark.parametrize("oid", [-1, len(_rules.FIRST_ORDER_RULES) + 100, _layout.N_OPTIMIZERS])
def test_an_id_without_a_rule_ends_with_error_and_runs_nothing(oid):
    surf = surfaces.get("booth")
    _, hp, flags = engine.pack_options("gd", surf, {})
    code, last, xy = _simulate(oid, surf, hp, flags, 10)
    assert (code, last) == (_layout.ERROR, 0)
    assert tuple(xy[0]) == START and np.isnan(xy[1:]).all()
    final_xy, status, stopped, path = _blocked(oid, surf, hp, flags, 10)
    assert (status == _layout.ERROR).all() and (stopped == 0).all()
    assert tuple(final_xy[0]) == START
    assert _batch.PATH_NAMES[path] in ("none", "run by run")


def test_an_id_without_a_rule_says_so_through_the_api(monkeypatch):
    monkeypatch.setattr(engine, "kernel_id", lambda name, flags: _layout.N_OPTIMIZERS + 1)
    traj = optviz.run("gd", "booth", steps=5)
    assert traj.status == "error" and traj.stopped_at == 0
    assert traj.message.startswith("error: the kernel has no update rule for 'gd'")
    res = optviz.run_batch("gd", "booth", starts=np.zeros((2, 2)), steps=5)
    assert res.status.tolist() == ["error", "error"]


def _called_globals(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _called_globals(const)
    return names


def test_every_helper_of_a_vectorised_rule_is_rebound():
    # A helper left as the scalar njit function would be a call in the loop, which stops LLVM
    # from vectorising it (results stay equal, so only this test notices).
    namespace = _batch._NAMESPACE
    seen: set[str] = set()
    todo = [rule.__name__ for rule in _rules.FIRST_ORDER_RULES.values()]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        clone = namespace[name]
        if name == "_sqrt":
            assert clone is _batch._vector_sqrt
            continue
        assert clone.targetoptions.get("inline") == "always", name
        assert clone.py_func.__globals__ is namespace, name
        for used in _called_globals(clone.py_func.__code__):
            if isinstance(namespace.get(used), CPUDispatcher) or used == "_sqrt":
                todo.append(used)
    assert {"_lerp", "_denominator", "_adam_step", "_sqrt"} <= seen


def test_no_rule_calls_libm_sqrt_directly():
    # math.sqrt may set errno, so a loop with it stays scalar: the rules use _sqrt, which the
    # batch rebinds to the LLVM intrinsic.
    for name, obj in vars(_rules).items():
        if not isinstance(obj, CPUDispatcher) or name == "_sqrt":
            continue
        ops = [(i.opname, i.argval) for i in dis.get_instructions(obj.py_func)]
        for (_, a1), (op2, a2) in zip(ops, ops[1:], strict=False):
            assert not (a1 == "math" and op2 in ("LOAD_ATTR", "LOAD_METHOD") and a2 == "sqrt"), (
                f"{name} calls math.sqrt: use _sqrt"
            )


def test_one_compiled_signature_after_every_optimizer():
    starts = np.array([[0.5, 0.5], [1.0, -1.0]])
    for name in optimizers.NAMES:
        surface = "noisy_linreg" if optimizers.get(name).needs_sum_of_squares else "beale"
        optviz.run(name, surface, steps=5)
        optviz.run_batch(name, surface, starts=starts, steps=5)
    optviz.run("adam", "beale", steps=5, accumulator_init="first_grad")
    optviz.run_batch("adam", "beale", starts=starts, steps=5, accumulator_init="first_grad")
    optviz.run("rmsprop", "beale", steps=5, lookahead_k=2, record_state=True)
    optviz.run_batch("nadam", "beale", starts=starts, steps=5, lookahead_k=2)
    assert len(_kernel.simulate.signatures) == 1, _kernel.simulate.signatures
    assert len(_batch.simulate_blocked.signatures) == 1, _batch.simulate_blocked.signatures
