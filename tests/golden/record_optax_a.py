"""Record golden Lion trajectories from ``optax.lion`` for ``tests/test_golden.py``.

Run from the repository root with the reference environment (jax and optax are not optviz
dependencies): ``/work/refvenv/bin/python tests/golden/record_optax_a.py [case ...]``. Float64
(``jax_enable_x64``); the transformation is applied op by op (not under ``jax.jit``), so XLA
cannot fuse its multiply-adds. The gradient is the closed form of :mod:`problems`. Same .npz
format as ``record_torch.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from problems import PROBLEMS, STEPS  # noqa: E402

HERE = Path(__file__).resolve().parent

# name -> (optax.lion kwargs, optviz.run kwargs, text)
CASES: dict[str, tuple[dict, dict, str]] = {
    "lion": (
        {"learning_rate": 1e-3, "b1": 0.9, "b2": 0.99, "weight_decay": 0.0},
        {"optimizer": "lion", "lr": 1e-3, "beta1": 0.9, "beta2": 0.99},
        "lion(learning_rate=1e-3, b1=0.9, b2=0.99, weight_decay=0.0)",
    ),
    "lion_beale": (
        {"learning_rate": 2e-3, "b1": 0.9, "b2": 0.99, "weight_decay": 0.0},
        {"optimizer": "lion", "surface": "beale", "lr": 2e-3, "beta1": 0.9, "beta2": 0.99},
        "lion(learning_rate=2e-3, b1=0.9, b2=0.99, weight_decay=0.0) on Beale",
    ),
    "lion_weight_decay": (
        {"learning_rate": 1e-3, "b1": 0.8, "b2": 0.95, "weight_decay": 0.5},
        {"optimizer": "lion", "lr": 1e-3, "beta1": 0.8, "beta2": 0.95, "weight_decay": 0.5},
        "lion(learning_rate=1e-3, b1=0.8, b2=0.95, weight_decay=0.5)",
    ),
}


def record(kwargs: dict, surface: str) -> np.ndarray:
    """Positions after 0…STEPS updates."""
    _, gradient, start = PROBLEMS[surface]
    opt = optax.lion(**kwargs)
    params = jnp.array(start, dtype=jnp.float64)
    state = opt.init(params)
    out = np.empty((STEPS + 1, 2))
    out[0] = start
    for k in range(STEPS):
        x, y = (float(v) for v in params)
        g = jnp.array(gradient(x, y), dtype=jnp.float64)
        updates, state = opt.update(g, state, params)
        params = optax.apply_updates(params, updates)
        out[k + 1] = np.asarray(params)
    return out


def main(names: list[str]) -> None:
    for name in names or list(CASES):
        kwargs, run_kwargs, text = CASES[name]
        surface = run_kwargs.get("surface", "rosenbrock")
        xy = record(kwargs, surface)
        if not np.all(np.isfinite(xy)):
            raise RuntimeError(f"{name}: optax run is not finite")
        np.savez_compressed(
            HERE / f"{name}.npz",
            xy=xy,
            start=np.array(PROBLEMS[surface][2]),
            torch_call=np.array(f"optax {optax.__version__} (jax {jax.__version__}): optax.{text}"),
            run_kwargs=np.array(json.dumps(run_kwargs)),
        )
        print(f"{name:28s} final ({xy[-1, 0]: .6f}, {xy[-1, 1]: .6f})")


if __name__ == "__main__":
    main(sys.argv[1:])
