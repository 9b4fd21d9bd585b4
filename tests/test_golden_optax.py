"""optviz reproduces optax: golden trajectories recorded in float64 on Rosenbrock and Beale.

The files come from ``tests/golden/record_optax.py`` (run with a Python that has optax and jax;
they are not needed to run this test). Every ``tests/golden/optax/*.npz`` is checked, so a case
added to the recorder is covered here without editing this file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import optviz

GOLDEN = sorted((Path(__file__).parent / "golden" / "optax").glob("*.npz"))
TOLERANCE = 1e-9  # max abs deviation over the whole 1000-step path


def test_golden_files_cover_lookahead_around_sgd_and_adam_on_both_surfaces():
    names = {path.stem for path in GOLDEN}
    expected = {f"lookahead_{o}_{s}" for o in ("sgd", "adam") for s in ("rosenbrock", "beale")}
    assert expected <= names


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_matches_optax(path: Path):
    golden = np.load(path)
    kwargs = json.loads(str(golden["run_kwargs"]))
    expected = golden["xy"]
    traj = optviz.run(
        kwargs.pop("optimizer"),
        kwargs.pop("surface"),
        start=tuple(golden["start"]),
        steps=expected.shape[0] - 1,
        **kwargs,
    )
    assert traj.status == "ok"
    deviation = np.max(np.abs(traj.xy - expected))
    assert deviation <= TOLERANCE, f"{golden['reference_call']}: max |Δθ| = {deviation:.3g}"
