"""Record golden trajectories from optax for ``tests/test_golden.py``.

Run from the repository root with the reference environment (optax and jax are not
dependencies of optviz): ``/work/refvenv/bin/python tests/golden/record_optax.py [name ...]``
(no names: every case). Everything is float64 (``jax_enable_x64``), op by op (no ``jax.jit``,
so XLA fuses nothing); the gradient is the closed form, as in ``record_torch.py``.

Each case writes ``<name>.npz`` in the format of every golden (:func:`problems.save`): the
positions (steps + 1, 2), the start, the optax call that produced them and ``run_kwargs``, the
JSON of the ``optviz.run`` arguments (``optimizer``, ``surface`` and the options) that must
reproduce them.

Lookahead (``optax.lookahead``): the recorded path is the fast weights, where the gradient is
taken and which jump back to the slow weights at every sync, as optviz draws it.

To add a case, add one entry to ``CASES`` (a separate entry per optimizer and surface).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from problems import PROBLEMS, STEPS, save  # noqa: E402

# The gradients are the kernel's closed forms, bit for bit (problems.py: numba's y**k is repeated
# squaring; Python's C pow differs by 1 ulp on ~20 % of Beale points, which can flip a sign for
# Lion).

# name -> (optax transformation factory, optviz.run kwargs incl. optimizer and surface, text)
Case = tuple[Callable[[], optax.GradientTransformation], dict, str]
CASES: dict[str, Case] = {}


def _lookahead_cases() -> None:
    k, alpha = 5, 0.5
    inner = {
        "sgd": (lambda lr: optax.sgd(lr), "gd", {"rosenbrock": 5e-4, "beale": 1e-2}),
        "adam": (lambda lr: optax.adam(lr), "adam", {"rosenbrock": 1e-2, "beale": 1e-2}),
    }
    for label, (make, optimizer, lrs) in inner.items():
        for surface, lr in lrs.items():
            CASES[f"lookahead_{label}_{surface}"] = (
                lambda make=make, lr=lr: optax.lookahead(make(lr), sync_period=k,
                                                         slow_step_size=alpha),
                {"optimizer": optimizer, "surface": surface, "lr": lr, "lookahead_k": k,
                 "lookahead_alpha": alpha},
                f"optax.lookahead(optax.{label}({lr}), sync_period={k}, slow_step_size={alpha})",
            )  # fmt: skip


_lookahead_cases()


def _lion_cases() -> None:
    # optax.lion (H2): sign steps of exactly ±η; its weight decay is decoupled (optax default 1e-3,
    # optviz default 0).
    cases = {
        "lion_rosenbrock": ("rosenbrock", 1e-3, 0.9, 0.99, 0.0),
        "lion_beale": ("beale", 2e-3, 0.9, 0.99, 0.0),
        "lion_weight_decay_rosenbrock": ("rosenbrock", 1e-3, 0.8, 0.95, 0.5),
    }
    for name, (surface, lr, b1, b2, wd) in cases.items():
        CASES[name] = (
            lambda lr=lr, b1=b1, b2=b2, wd=wd: optax.lion(lr, b1=b1, b2=b2, weight_decay=wd),
            {"optimizer": "lion", "surface": surface, "lr": lr, "beta1": b1, "beta2": b2,
             "weight_decay": wd},
            f"optax.lion({lr}, b1={b1}, b2={b2}, weight_decay={wd})",
        )  # fmt: skip


_lion_cases()


def _adabelief_cases() -> None:
    # optax.adabelief (H3): its defaults eps = eps_root = 1e-16 are optviz's defaults too.
    cases = {
        "adabelief": ("rosenbrock", {"learning_rate": 1e-3}),
        "adabelief_options": (
            "rosenbrock",
            {"learning_rate": 5e-3, "b1": 0.8, "b2": 0.99, "eps": 1e-8, "eps_root": 1e-10},
        ),
        "adabelief_beale": ("beale", {"learning_rate": 1e-3}),
    }
    names = {"learning_rate": "lr", "b1": "beta1", "b2": "beta2"}  # optax's -> optviz's
    for name, (surface, kw) in cases.items():
        CASES[name] = (
            lambda kw=kw: optax.adabelief(**kw),
            {
                "optimizer": "adabelief",
                "surface": surface,
                **{names.get(k, k): v for k, v in kw.items()},
            },
            "optax.adabelief(" + ", ".join(f"{k}={v}" for k, v in kw.items()) + ")",
        )


_adabelief_cases()


def trajectory(
    make: Callable[[], optax.GradientTransformation], surface: str, wrapped: bool
) -> np.ndarray:
    """The path of ``make()`` from the surface's start; ``wrapped``: ``make()`` is a
    ``optax.lookahead``, whose path is the fast weights."""
    _, grad, start = PROBLEMS[surface]
    tx = make()
    theta = jnp.asarray(start, dtype=jnp.float64)
    params = optax.LookaheadParams.init_synced(theta) if wrapped else theta
    state = tx.init(params)
    xy = np.empty((STEPS + 1, 2))
    xy[0] = start
    for t in range(1, STEPS + 1):
        fast = params.fast if wrapped else params
        x, y = (float(v) for v in fast)
        g = jnp.asarray(grad(x, y), dtype=jnp.float64)
        updates, state = tx.update(g, state, params)
        params = optax.apply_updates(params, updates)
        xy[t] = np.asarray(params.fast if wrapped else params)
    return xy


def main(names: list[str]) -> None:
    for name in names or list(CASES):
        make, kwargs, text = CASES[name]
        xy = trajectory(make, kwargs["surface"], "lookahead_k" in kwargs)
        save(name, xy, kwargs, f"optax {optax.__version__} (jax {jax.__version__}): {text}")


if __name__ == "__main__":
    main(sys.argv[1:])
