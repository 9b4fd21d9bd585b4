"""``run_batch`` ends every run bit for bit where ``optviz.run`` ends it, with the same status and
stopped_at, whichever path of the batch kernel ran: the vectorised passes of the first-order
methods or ``simulate`` run by run for the others."""

from __future__ import annotations

import numpy as np
import pytest

import optviz
import surfaces
from optviz import optimizers

STEPS = 120
SEED = 5
# Starts and per-run learning-rate factors: the last run's η is 10⁴ times the default, so
# most methods diverge there, some at once (stopped_at 0) and some later.
STARTS = np.array([[-1.2, 1.0], [0.5, -0.5], [1.5, 2.0], [-0.3, 0.8], [0.9, 0.1]])
LR_FACTORS = np.array([1.0, 3.0, 0.3, 10.0, 1e4])

# (label, surface, extra keyword arguments): noise, mini-batches, a schedule that reads the
# loss (plateau) and one that does not (step), an unbounded surface where runs escape, tol.
SETTINGS = [
    ("rosenbrock", lambda: surfaces.get("rosenbrock"), {}),
    ("booth+noise", lambda: surfaces.get("booth", grad_noise=0.5), {}),
    ("linreg-minibatch", lambda: surfaces.get("noisy_linreg", batch_size=8), {}),
    ("saddle-escape", lambda: surfaces.get("saddle"), {}),
    ("himmelblau+plateau", lambda: surfaces.get("himmelblau"), {"schedule": "plateau"}),
    ("ravine+step+tol", lambda: surfaces.get("ravine", kappa=50, angle=30),
     {"schedule": {"name": "step", "step_size": 30, "gamma": 0.5}, "tol": 1e-3}),
    # Schedules counted in epochs (4 updates per epoch with B = 25 of n = 100), the performance
    # rule (reads the loss once per epoch) and the two stop rules.
    ("linreg-minibatch+performance+stop-loss", lambda: surfaces.get("noisy_linreg", batch_size=25),
     {"schedule": "performance", "stop_rule": "loss", "target_loss": 1.0}),
    ("booth+epoch-sqrt+stop-step", lambda: surfaces.get("booth"),
     {"schedule": {"name": "epoch_inverse_sqrt", "k": 2.0}, "stop_rule": "step", "step_tol": 1e-4}),
    ("linreg-minibatch+epoch-time", lambda: surfaces.get("noisy_linreg", batch_size=8),
     {"schedule": {"name": "epoch_inverse_time", "decay_rate": 0.3}}),
    ("beale+epoch-piecewise", lambda: surfaces.get("beale"),
     {"schedule": {"name": "epoch_piecewise", "boundaries": (20, 60), "factors": (1, 0.3, 0.1)}}),
]  # fmt: skip

# Convention options that take other branches of the update rules.
OPTIONS = {
    "momentum": [
        {"momentum_form": "ema", "bias_correction": True},
        {"momentum_form": "lr_inside"},
        {"momentum_form": "sum", "beta1": 1.0},
    ],
    "nesterov": [{"nesterov_form": "lookahead"}],
    "adagrad": [{"eps_placement": "inside", "lr_decay": 0.01}],
    "rmsprop": [{"centered": True}, {"accumulator_init": "first_grad", "eps_placement": "inside"}],
    "adam": [
        {"eps_placement": "inside", "bias_correction": False, "weight_decay": 0.1},
        {"accumulator_init": "first_grad"},
    ],
    "nadam": [{"nadam_schedule": "constant", "eps_placement": "inside"}],
    "amsgrad": [{"bias_correction": False}],
    "lbfgs": [{"history_size": 3, "line_search": "exact"}],
}
# Lookahead around every first-order optimizer (its sync runs after the rule in both kernels).
LOOKAHEAD = {"lookahead_k": 3, "lookahead_alpha": 0.7}
CASES = [
    (name, options, label)
    for name in optviz.OPTIMIZERS
    for options in [{}, *OPTIONS.get(name, []), *([LOOKAHEAD] * (name in optimizers.FIRST_ORDER))]
    for label, _, _ in SETTINGS
]


@pytest.mark.parametrize(("name", "options", "label"), CASES)
def test_every_batch_run_ends_where_run_ends(name, options, label):
    _, make, extra = next(s for s in SETTINGS if s[0] == label)
    if name == "levenberg_marquardt" and extra.get("stop_rule") == "step":
        extra = {k: v for k, v in extra.items() if k not in ("stop_rule", "step_tol")}
    surf = make()
    if optimizers.get(name).needs_sum_of_squares and not surf.spec.sum_of_squares:
        surf = surfaces.get("noisy_linreg", batch_size=surf.batch_size or 0)
    lrs = optimizers.get(name).defaults["lr"] * LR_FACTORS
    res = optviz.run_batch(
        name, surf, starts=STARTS, steps=STEPS, seed=SEED, lr=lrs, **options, **extra
    )
    statuses = set()
    for i, start in enumerate(STARTS):
        traj = optviz.run(
            name, surf, start=tuple(start), steps=STEPS, seed=SEED, lr=lrs[i], **options, **extra
        )
        assert res.status[i] == traj.status, i
        assert res.stopped_at[i] == traj.stopped_at, i
        assert tuple(res.final_xy[i]) == traj.final, i
        assert res.final_loss[i] == traj.loss[traj.stopped_at], i
        statuses.add(traj.status)
    if surf.name == "saddle":  # the setting stops runs: escaped (or diverged with η × 10⁴)
        assert statuses - {"ok"}
    if "stop_rule" in extra and name in ("momentum", "bfgs") and not options:  # they stop runs
        assert "converged" in statuses


def test_a_block_boundary_and_a_partial_block():
    # More runs than one block (the kernel's unit of work), the last block partial.
    from optviz import _batch

    n = _batch.BLOCK + 37
    rng = np.random.default_rng(0)
    starts = np.column_stack([rng.uniform(-2, 2, n), rng.uniform(-1, 3, n)])
    lrs = rng.uniform(1e-4, 5e-2, n)
    res = optviz.run_batch("adam", "rosenbrock", starts=starts, steps=60, lr=lrs)
    for i in (0, _batch.BLOCK - 1, _batch.BLOCK, n - 1):
        traj = optviz.run("adam", "rosenbrock", start=tuple(starts[i]), steps=60, lr=lrs[i])
        assert tuple(res.final_xy[i]) == traj.final
        assert res.stopped_at[i] == traj.stopped_at
        assert res.status[i] == traj.status


@pytest.mark.parametrize("name", ["adam", "bfgs"])
def test_zero_steps_and_one_run(name):
    res = optviz.run_batch(name, "booth", starts=[[1.0, 2.0]], steps=0)
    assert res.final_xy.tolist() == [[1.0, 2.0]]
    assert res.status.tolist() == ["ok"]
    assert res.stopped_at.tolist() == [0]
    assert res.final_loss[0] == surfaces.get("booth").value(1.0, 2.0)
