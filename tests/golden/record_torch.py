"""Record golden Rosenbrock/Beale paths from ``torch.optim`` for ``tests/test_golden.py``.

Run from the repository root: ``.venv/bin/python tests/golden/record_torch.py [case ...]`` (no
case names: every case; torch is in /work/refvenv). torch is needed only here (it is not a
dependency of optviz). Everything is float64 (torch's NAdam keeps its μ product in the default
dtype, so the default dtype must be float64 too). The gradient is the closed form of
:mod:`problems`, fed to ``p.grad`` with the same floating-point operations as the kernel's.

Each case writes ``<name>.npz`` with the positions (steps + 1, 2), the start, the torch call
that produced them, and ``run_kwargs``: the JSON of the ``optviz.run`` arguments that must
reproduce them (``surface``: Rosenbrock unless given).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

import numpy as np
import torch
from problems import PROBLEMS, STEPS, save

# name -> (torch optimizer factory, torch scheduler factory or None, optviz.run kwargs, text)
Factory = Callable[[list[torch.Tensor]], torch.optim.Optimizer]
CASES: dict[str, tuple[Factory, Callable | None, dict, str]] = {
    "sgd": (
        lambda p: torch.optim.SGD(p, lr=5e-4, foreach=False),
        None,
        {"optimizer": "gd", "lr": 5e-4},
        "SGD(lr=5e-4)",
    ),
    "sgd_weight_decay": (
        lambda p: torch.optim.SGD(p, lr=5e-4, weight_decay=0.1, foreach=False),
        None,
        {"optimizer": "gd", "lr": 5e-4, "weight_decay": 0.1},
        "SGD(lr=5e-4, weight_decay=0.1)",
    ),
    "sgd_momentum": (
        lambda p: torch.optim.SGD(p, lr=1e-4, momentum=0.9, foreach=False),
        None,
        {"optimizer": "momentum", "lr": 1e-4, "beta1": 0.9},
        "SGD(lr=1e-4, momentum=0.9)",
    ),
    "sgd_momentum_dampening": (
        lambda p: torch.optim.SGD(p, lr=2e-4, momentum=0.8, dampening=0.5, foreach=False),
        None,
        {"optimizer": "momentum", "lr": 2e-4, "beta1": 0.8, "dampening": 0.5},
        "SGD(lr=2e-4, momentum=0.8, dampening=0.5)",
    ),
    "sgd_nesterov": (
        lambda p: torch.optim.SGD(p, lr=1e-4, momentum=0.9, nesterov=True, foreach=False),
        None,
        {"optimizer": "nesterov", "lr": 1e-4, "beta1": 0.9},
        "SGD(lr=1e-4, momentum=0.9, nesterov=True)",
    ),
    "adagrad": (
        lambda p: torch.optim.Adagrad(p, lr=0.1, foreach=False),
        None,
        {"optimizer": "adagrad", "lr": 0.1},
        "Adagrad(lr=0.1)",
    ),
    "adagrad_lr_decay": (
        lambda p: torch.optim.Adagrad(p, lr=0.2, lr_decay=0.01, foreach=False),
        None,
        {"optimizer": "adagrad", "lr": 0.2, "lr_decay": 0.01},
        "Adagrad(lr=0.2, lr_decay=0.01)",
    ),
    "rmsprop": (
        lambda p: torch.optim.RMSprop(p, lr=1e-3, alpha=0.99, foreach=False),
        None,
        {"optimizer": "rmsprop", "lr": 1e-3, "beta2": 0.99},
        "RMSprop(lr=1e-3, alpha=0.99)",
    ),
    "rmsprop_centered": (
        lambda p: torch.optim.RMSprop(p, lr=1e-4, alpha=0.99, centered=True, foreach=False),
        None,
        {"optimizer": "rmsprop", "lr": 1e-4, "beta2": 0.99, "centered": True},
        "RMSprop(lr=1e-4, alpha=0.99, centered=True)",
    ),
    "adam": (
        lambda p: torch.optim.Adam(p, lr=1e-2, foreach=False),
        None,
        {"optimizer": "adam", "lr": 1e-2},
        "Adam(lr=1e-2)",
    ),
    "adam_weight_decay": (
        lambda p: torch.optim.Adam(p, lr=3e-3, betas=(0.8, 0.99), weight_decay=0.05, foreach=False),
        None,
        {"optimizer": "adam", "lr": 3e-3, "beta1": 0.8, "beta2": 0.99, "weight_decay": 0.05},
        "Adam(lr=3e-3, betas=(0.8, 0.99), weight_decay=0.05)",
    ),
    "amsgrad": (
        lambda p: torch.optim.Adam(p, lr=1e-2, amsgrad=True, foreach=False),
        None,
        {"optimizer": "amsgrad", "lr": 1e-2},
        "Adam(lr=1e-2, amsgrad=True)",
    ),
    "adamw": (
        lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=0.1, foreach=False),
        None,
        {"optimizer": "adamw", "lr": 1e-2, "weight_decay": 0.1},
        "AdamW(lr=1e-2, weight_decay=0.1)",
    ),
    "nadam": (
        lambda p: torch.optim.NAdam(p, lr=1e-2, foreach=False),
        None,
        {"optimizer": "nadam", "lr": 1e-2},
        "NAdam(lr=1e-2)",
    ),
    "sgd_momentum_steplr": (
        lambda p: torch.optim.SGD(p, lr=2e-4, momentum=0.9, foreach=False),
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=150, gamma=0.5),
        {
            "optimizer": "momentum",
            "lr": 2e-4,
            "beta1": 0.9,
            "schedule": {"name": "step", "step_size": 150, "gamma": 0.5},
        },
        "SGD(lr=2e-4, momentum=0.9) + StepLR(step_size=150, gamma=0.5)",
    ),
    "adam_exponentiallr": (
        lambda p: torch.optim.Adam(p, lr=2e-2, foreach=False),
        lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=math.exp(-0.003)),
        {"optimizer": "adam", "lr": 2e-2, "schedule": {"name": "exponential", "k": 0.003}},
        "Adam(lr=2e-2) + ExponentialLR(gamma=exp(-0.003))",
    ),
    "adam_cosine_warm_restarts": (
        lambda p: torch.optim.Adam(p, lr=2e-2, foreach=False),
        lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            o, T_0=50, T_mult=3, eta_min=1e-3
        ),
        {
            "optimizer": "adam",
            "lr": 2e-2,
            "schedule": {"name": "sgdr", "T_0": 50, "T_mult": 3, "eta_min": 1e-3},
        },
        "Adam(lr=2e-2) + CosineAnnealingWarmRestarts(T_0=50, T_mult=3, eta_min=1e-3)",
    ),
    "adam_reduce_on_plateau": (
        lambda p: torch.optim.Adam(p, lr=5e-2, foreach=False),
        lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(
            o, factor=0.5, patience=5, threshold=1e-3
        ),
        {
            "optimizer": "adam",
            "lr": 5e-2,
            "schedule": {"name": "plateau", "factor": 0.5, "patience": 5, "threshold": 1e-3},
        },
        "Adam(lr=5e-2) + ReduceLROnPlateau(factor=0.5, patience=5, threshold=1e-3), "
        "stepped on the loss before each update",
    ),
    "adamax": (
        lambda p: torch.optim.Adamax(p, lr=1e-2, foreach=False),
        None,
        {"optimizer": "adamax", "lr": 1e-2},
        "Adamax(lr=1e-2)",
    ),
    "adamax_beale": (
        lambda p: torch.optim.Adamax(p, lr=5e-3, betas=(0.9, 0.999), foreach=False),
        None,
        {"optimizer": "adamax", "surface": "beale", "lr": 5e-3, "beta1": 0.9, "beta2": 0.999},
        "Adamax(lr=5e-3, betas=(0.9, 0.999)) on Beale",
    ),
    "adamax_weight_decay": (
        lambda p: torch.optim.Adamax(
            p, lr=3e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05, foreach=False
        ),
        None,
        {
            "optimizer": "adamax",
            "lr": 3e-3,
            "beta1": 0.8,
            "beta2": 0.99,
            "eps": 1e-6,
            "weight_decay": 0.05,
        },
        "Adamax(lr=3e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)",
    ),
    # ---- RAdam and Rprop (opt-b), on Rosenbrock and Beale ----
    "radam": (
        lambda p: torch.optim.RAdam(p, lr=5e-3, foreach=False),
        None,
        {"optimizer": "radam", "lr": 5e-3},
        "RAdam(lr=5e-3)",
    ),
    "radam_weight_decay": (
        lambda p: torch.optim.RAdam(
            p, lr=2e-3, betas=(0.8, 0.99), weight_decay=0.05, foreach=False
        ),
        None,
        {"optimizer": "radam", "lr": 2e-3, "beta1": 0.8, "beta2": 0.99, "weight_decay": 0.05},
        "RAdam(lr=2e-3, betas=(0.8, 0.99), weight_decay=0.05)",
    ),
    "radam_beale": (
        lambda p: torch.optim.RAdam(p, lr=1e-2, foreach=False),
        None,
        {"optimizer": "radam", "lr": 1e-2, "surface": "beale"},
        "RAdam(lr=1e-2) on Beale",
    ),
    "rprop": (
        lambda p: torch.optim.Rprop(p, foreach=False),
        None,
        {"optimizer": "rprop", "lr": 1e-2},
        "Rprop(lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50))",
    ),
    "rprop_options": (
        lambda p: torch.optim.Rprop(
            p, lr=1e-3, etas=(0.3, 1.5), step_sizes=(1e-4, 0.05), foreach=False
        ),
        None,
        {
            "optimizer": "rprop",
            "lr": 1e-3,
            "eta_minus": 0.3,
            "eta_plus": 1.5,
            "step_min": 1e-4,
            "step_max": 0.05,
        },
        "Rprop(lr=1e-3, etas=(0.3, 1.5), step_sizes=(1e-4, 0.05))",
    ),
    "rprop_beale": (
        lambda p: torch.optim.Rprop(p, foreach=False),
        None,
        {"optimizer": "rprop", "lr": 1e-2, "surface": "beale"},
        "Rprop(lr=1e-2) on Beale",
    ),
}


def record(
    make_opt: Factory, make_sched: Callable | None, surface: str = "rosenbrock"
) -> np.ndarray:
    """Positions after 0…STEPS updates."""
    loss, gradient, start = PROBLEMS[surface]
    p = torch.tensor(start, dtype=torch.float64)
    opt = make_opt([p])
    sched = make_sched(opt) if make_sched else None
    plateau = isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau)
    out = np.empty((STEPS + 1, 2))
    out[0] = start
    for k in range(STEPS):
        x, y = p.tolist()
        if plateau:
            # optviz's plateau schedule sees the loss where the step starts.
            sched.step(loss(x, y))
        p.grad = torch.tensor(gradient(x, y), dtype=torch.float64)
        opt.step()
        if sched is not None and not plateau:
            sched.step()
        out[k + 1] = p.tolist()
    return out


def main(names: list[str]) -> None:
    torch.set_default_dtype(torch.float64)
    for name in names or list(CASES):
        make_opt, make_sched, run_kwargs, text = CASES[name]
        xy = record(make_opt, make_sched, run_kwargs.get("surface", "rosenbrock"))
        save(name, xy, run_kwargs, f"torch {torch.__version__}: torch.optim.{text}")


if __name__ == "__main__":
    main(sys.argv[1:])
