"""Record golden AdaBelief trajectories from ``optax.adabelief`` for ``tests/test_golden.py``.

Run from the repository root with the reference environment (jax and optax are not optviz
dependencies): ``/work/refvenv/bin/python tests/golden/record_optax_b.py [case ...]`` (no case
names: every case). Float64 (``jax_enable_x64``); the transformation is applied op by op (not
under ``jax.jit``), so XLA cannot fuse its multiply-adds. The gradient is the closed form of
:mod:`problems`. Same .npz format as ``record_torch.py``.
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

# name -> (optax.adabelief kwargs, optviz.run kwargs, text)
CASES: dict[str, tuple[dict, dict, str]] = {
    "adabelief": (
        {"learning_rate": 1e-3},
        {"optimizer": "adabelief", "lr": 1e-3},
        "adabelief(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-16, eps_root=1e-16)",
    ),
    "adabelief_options": (
        {"learning_rate": 5e-3, "b1": 0.8, "b2": 0.99, "eps": 1e-8, "eps_root": 1e-10},
        {
            "optimizer": "adabelief",
            "lr": 5e-3,
            "beta1": 0.8,
            "beta2": 0.99,
            "eps": 1e-8,
            "eps_root": 1e-10,
        },
        "adabelief(learning_rate=5e-3, b1=0.8, b2=0.99, eps=1e-8, eps_root=1e-10)",
    ),
    "adabelief_beale": (
        {"learning_rate": 1e-3},
        {"optimizer": "adabelief", "lr": 1e-3, "surface": "beale"},
        "adabelief(learning_rate=1e-3) on Beale",
    ),
}


def record(kwargs: dict, surface: str) -> np.ndarray:
    """Positions after 0…STEPS updates."""
    _, gradient, start = PROBLEMS[surface]
    opt = optax.adabelief(**kwargs)
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
