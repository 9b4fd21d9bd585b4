"""Record golden trajectories from ``qhoptim.pyt`` (QHM, QHAdam) for ``tests/test_golden.py``.

Run from the repository root with the reference environment (qhoptim and torch are not optviz
dependencies): ``/work/refvenv/bin/python tests/golden/record_qhoptim.py [case ...]``. Float64
throughout; the gradient is the closed form of :mod:`problems` (the kernel's floating-point
operations), written to ``p.grad`` before each ``step()``. The .npz format is
``record_torch.py``'s: positions (steps + 1, 2), start, the call text, and ``run_kwargs`` (the
``optviz.run`` arguments that must reproduce them, ``surface`` included).
"""

from __future__ import annotations

import sys
import warnings

import qhoptim
import qhoptim.pyt
import torch
from problems import save
from record_torch import Factory, record  # the torch loop: p.grad = ∇f, step()

# name -> (optimizer factory, optviz.run kwargs, text)
CASES: dict[str, tuple[Factory, dict, str]] = {
    "qhm": (
        lambda p: qhoptim.pyt.QHM(p, lr=1e-3, momentum=0.9, nu=0.7),
        {"optimizer": "qhm", "lr": 1e-3, "beta1": 0.9, "nu": 0.7},
        "QHM(lr=1e-3, momentum=0.9, nu=0.7)",
    ),
    "qhm_beale": (
        lambda p: qhoptim.pyt.QHM(p, lr=1e-2, momentum=0.999, nu=0.7),
        {"optimizer": "qhm", "surface": "beale", "lr": 1e-2, "beta1": 0.999, "nu": 0.7},
        "QHM(lr=1e-2, momentum=0.999, nu=0.7) on Beale",
    ),
    "qhm_weight_decay": (
        lambda p: qhoptim.pyt.QHM(p, lr=2e-3, momentum=0.8, nu=0.5, weight_decay=0.1),
        {"optimizer": "qhm", "lr": 2e-3, "beta1": 0.8, "nu": 0.5, "weight_decay": 0.1},
        "QHM(lr=2e-3, momentum=0.8, nu=0.5, weight_decay=0.1)",
    ),
    "qhadam": (
        lambda p: qhoptim.pyt.QHAdam(p, lr=1e-2, betas=(0.9, 0.999), nus=(0.7, 1.0)),
        {"optimizer": "qhadam", "lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "nu1": 0.7, "nu2": 1.0},
        "QHAdam(lr=1e-2, betas=(0.9, 0.999), nus=(0.7, 1.0))",
    ),
    "qhadam_beale": (
        lambda p: qhoptim.pyt.QHAdam(p, lr=1e-2, betas=(0.995, 0.999), nus=(0.7, 1.0)),
        {
            "optimizer": "qhadam",
            "surface": "beale",
            "lr": 1e-2,
            "beta1": 0.995,
            "beta2": 0.999,
            "nu1": 0.7,
            "nu2": 1.0,
        },
        "QHAdam(lr=1e-2, betas=(0.995, 0.999), nus=(0.7, 1.0)) on Beale",
    ),
    "qhadam_nu2_weight_decay": (
        lambda p: qhoptim.pyt.QHAdam(
            p, lr=5e-3, betas=(0.8, 0.99), nus=(0.8, 0.9), eps=1e-6, weight_decay=0.05
        ),
        {
            "optimizer": "qhadam",
            "lr": 5e-3,
            "beta1": 0.8,
            "beta2": 0.99,
            "nu1": 0.8,
            "nu2": 0.9,
            "eps": 1e-6,
            "weight_decay": 0.05,
        },
        "QHAdam(lr=5e-3, betas=(0.8, 0.99), nus=(0.8, 0.9), eps=1e-6, weight_decay=0.05)",
    ),
}


def main(names: list[str]) -> None:
    torch.set_default_dtype(torch.float64)
    # qhoptim 1.1.0 calls the deprecated Tensor.add_(Number, Tensor): same arithmetic.
    warnings.filterwarnings("ignore", category=UserWarning)
    for name in names or list(CASES):
        make_opt, run_kwargs, text = CASES[name]
        xy = record(make_opt, None, run_kwargs.get("surface", "rosenbrock"))
        call = f"qhoptim {qhoptim.__version__} (torch {torch.__version__}): qhoptim.pyt.{text}"
        save(name, xy, run_kwargs, call)


if __name__ == "__main__":
    main(sys.argv[1:])
