"""Who may import what: only the app package (optviz.app) and the race-chart component import
Streamlit; figures, export and surfaces never do, and surfaces never imports optviz."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import optviz

ROOT = Path(__file__).resolve().parents[1]
STREAMLIT_ONLY = ("optviz.app", "optviz.race_chart")


def _modules() -> list[str]:
    names = ["optviz"]
    for info in pkgutil.walk_packages(optviz.__path__, "optviz."):
        names.append(info.name)
    return sorted(names)


PURE = [m for m in _modules() if not m.startswith(STREAMLIT_ONLY) and m != "optviz.__main__"]


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_the_list_of_pure_modules_is_the_package():
    assert {"optviz.figures", "optviz.export", "optviz.comparison", "optviz.widget_state"} <= set(
        PURE
    )
    assert not any(m.startswith("optviz.app") for m in PURE)


def test_no_module_outside_the_app_imports_streamlit():
    """With Streamlit blocked, every optviz module except optviz.app.* and the race chart
    imports, and none of them loaded Streamlit on the way."""
    code = (
        "import importlib, sys\n"
        "sys.modules['streamlit'] = None\n"
        f"for name in {PURE!r} + ['optviz.__main__']:\n"
        "    importlib.import_module(name)\n"
        "assert sys.modules['streamlit'] is None\n"
        "print('ok')\n"
    )
    done = _run(code)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("module", ["optviz.figures", "optviz.export", "surfaces"])
def test_figures_export_and_surfaces_never_import_streamlit(module):
    code = f"import sys, {module}\nassert 'streamlit' not in sys.modules, '{module}'\n"
    done = _run(code)
    assert done.returncode == 0, done.stderr[-2000:]


def test_surfaces_never_import_optviz():
    code = (
        "import pkgutil, importlib, sys, surfaces\n"
        "for info in pkgutil.walk_packages(surfaces.__path__, 'surfaces.'):\n"
        "    importlib.import_module(info.name)\n"
        "bad = sorted(m for m in sys.modules if m == 'optviz' or m.startswith('optviz.'))\n"
        "assert not bad, bad\n"
    )
    done = _run(code)
    assert done.returncode == 0, done.stderr[-2000:]
