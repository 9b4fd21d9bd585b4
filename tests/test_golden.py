"""optviz reproduces its references: golden trajectories recorded in float64.

The files come from ``tests/golden/record_torch.py`` (torch.optim), ``record_optax.py`` (optax),
``record_qhoptim.py`` (qhoptim) and ``record_lecture.py`` (a loop written from a lecture's
formula), all in one format (``problems.save``); none of those libraries is needed to run this
test. Every ``tests/golden/*.npz`` is checked, so a recorded case is covered without editing it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import optviz

GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.npz"))
TOLERANCE = 1e-9  # max abs deviation over the whole 1000-step path


def test_golden_files_cover_every_torch_optimizer_and_schedule():
    names = {path.stem for path in GOLDEN}
    expected = {"sgd", "sgd_momentum", "sgd_nesterov", "adagrad", "rmsprop", "adam", "adamw"}
    expected |= {"nadam", "amsgrad", "rmsprop_centered", "adagrad_lr_decay"}
    expected |= {"sgd_momentum_steplr", "adam_exponentiallr", "adam_cosine_warm_restarts"}
    expected |= {"adam_reduce_on_plateau", "sgd_weight_decay", "adam_weight_decay"}
    assert expected <= names


def test_golden_files_cover_lookahead_around_sgd_and_adam_on_both_surfaces():
    names = {path.stem for path in GOLDEN}
    expected = {f"lookahead_{o}_{s}" for o in ("sgd", "adam") for s in ("rosenbrock", "beale")}
    assert expected <= names


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_matches_the_reference(path: Path):
    golden = np.load(path)
    kwargs = json.loads(str(golden["run_kwargs"]))
    surface = kwargs.pop("surface", "rosenbrock")
    expected = golden["xy"]
    traj = optviz.run(
        kwargs.pop("optimizer"),
        surface,
        start=tuple(golden["start"]),
        steps=expected.shape[0] - 1,
        **kwargs,
    )
    assert traj.status == "ok"
    deviation = np.max(np.abs(traj.xy - expected))
    assert deviation <= TOLERANCE, f"{golden['torch_call']}: max |Δθ| = {deviation:.3g}"
