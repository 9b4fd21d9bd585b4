"""Where Numba keeps its on-disk cache: a directory keyed by the source of every kernel file.

Numba revalidates a cached function against its own file only, but the optimizer kernels inline
the surface formulas of another file: an edit to ``surfaces/_kernels.py`` alone would keep
serving stale machine code. Keying the cache directory by a hash of all kernel sources makes any
edit start a fresh cache. Must run before any ``@njit(cache=True)`` function is defined.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba

ROOT = Path(__file__).resolve().parent.parent
KERNEL_SOURCES = (
    "surfaces/_kernels.py",
    "optviz/_layout.py",
    "optviz/_rules.py",
    "optviz/_second_order.py",
    "optviz/_kernel.py",
    "optviz/_batch.py",
)


def configure() -> None:
    """Point Numba's cache at ``.numba_cache/<hash of the kernel sources>``."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return  # chosen by the caller (the cold-start benchmark uses an empty one)
    digest = hashlib.sha256()
    for rel in KERNEL_SOURCES:
        path = ROOT / rel
        if path.exists():
            digest.update(path.read_bytes())
    numba.config.CACHE_DIR = str(ROOT / ".numba_cache" / digest.hexdigest()[:16])
