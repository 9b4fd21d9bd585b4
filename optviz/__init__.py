"""optviz: how gradient-based optimizers move on 2-D loss surfaces.

Public API (relied upon by the app, the export command and the tests)::

    traj = optviz.run("adam", "rosenbrock", start=(-1.5, 2.0), steps=1000, lr=1e-2)
    traj.xy, traj.loss, traj.grad, traj.status, traj.stopped_at
    res = optviz.run_batch("gd", "ravine", starts=starts, steps=500, lr=lrs)
"""

from optviz import optimizers, schedules
from optviz.engine import (
    STATUS_NAMES,
    BatchResult,
    Trajectory,
    batch_indices,
    gradient_noise,
    run,
    run_batch,
    warm,
)
from optviz.optimizers import formula

OPTIMIZERS = optimizers.NAMES
SCHEDULES = schedules.NAMES

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "STATUS_NAMES",
    "BatchResult",
    "Trajectory",
    "batch_indices",
    "formula",
    "gradient_noise",
    "optimizers",
    "run",
    "run_batch",
    "schedules",
    "warm",
]
