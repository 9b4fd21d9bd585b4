"""Record golden trajectories from optax for ``tests/test_golden_optax.py``.

Run from the repository root with the reference environment (optax and jax are not
dependencies of optviz): ``/work/refvenv/bin/python tests/golden/record_optax.py [name ...]``
(no names: every case). Everything is float64 (``jax_enable_x64``), op by op (no ``jax.jit``,
so XLA fuses nothing); the gradient is the closed form, as in ``record_torch.py``.

Each case writes ``optax/<name>.npz`` with the positions (steps + 1, 2), the start, the optax
call that produced them, the optax version and ``run_kwargs``: the JSON of the ``optviz.run``
arguments (``optimizer``, ``surface`` and the options) that must reproduce them.

Lookahead (``optax.lookahead``): the recorded path is the fast weights, where the gradient is
taken and which jump back to the slow weights at every sync, as optviz draws it.

To add a case, add one entry to ``CASES`` (a separate entry per optimizer and surface).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

OUT = Path(__file__).resolve().parent / "optax"
STEPS = 1000
STARTS = {"rosenbrock": (-1.2, 1.0), "beale": (1.0, 1.4)}


def rosenbrock_gradient(x: float, y: float) -> tuple[float, float]:
    b = y - x * x
    return -2.0 * (1.0 - x) - 400.0 * x * b, 200.0 * b


def beale_gradient(x: float, y: float) -> tuple[float, float]:
    gx = 0.0
    gy = 0.0
    for k, c in enumerate((1.5, 2.25, 2.625)):
        yk = y ** (k + 1)
        r = c - x + x * yk
        gx += 2.0 * r * (yk - 1.0)
        gy += 2.0 * r * x * (k + 1) * y**k
    return gx, gy


GRADIENTS = {"rosenbrock": rosenbrock_gradient, "beale": beale_gradient}

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


def trajectory(
    make: Callable[[], optax.GradientTransformation], surface: str, wrapped: bool
) -> np.ndarray:
    """The path of ``make()`` from the surface's start; ``wrapped``: ``make()`` is a
    ``optax.lookahead``, whose path is the fast weights."""
    grad = GRADIENTS[surface]
    tx = make()
    theta = jnp.asarray(STARTS[surface], dtype=jnp.float64)
    params = optax.LookaheadParams.init_synced(theta) if wrapped else theta
    state = tx.init(params)
    xy = np.empty((STEPS + 1, 2))
    xy[0] = STARTS[surface]
    for t in range(1, STEPS + 1):
        fast = params.fast if wrapped else params
        x, y = (float(v) for v in fast)
        g = jnp.asarray(grad(x, y), dtype=jnp.float64)
        updates, state = tx.update(g, state, params)
        params = optax.apply_updates(params, updates)
        xy[t] = np.asarray(params.fast if wrapped else params)
    return xy


def main(names: list[str]) -> None:
    OUT.mkdir(exist_ok=True)
    for name in names or list(CASES):
        make, kwargs, text = CASES[name]
        xy = trajectory(make, kwargs["surface"], "lookahead_k" in kwargs)
        assert np.isfinite(xy).all(), f"{name} diverged"
        np.savez(
            OUT / f"{name}.npz",
            xy=xy,
            start=np.asarray(STARTS[kwargs["surface"]]),
            reference_call=text,
            reference_version=f"optax {optax.__version__}, jax {jax.__version__}",
            run_kwargs=json.dumps(kwargs),
        )
        print(f"{name}: {text} -> {xy[-1]}")


if __name__ == "__main__":
    main(sys.argv[1:])
