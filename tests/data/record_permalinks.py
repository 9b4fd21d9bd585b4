"""Record every preset's permalink as a release wrote it: tests/data/permalinks_<commit>.json.

Run with the source tree of that release on the path (not this checkout's), e.g.::

    git -C /path/to/repo archive b2d6060 | tar -x -C /tmp/optviz-b2d6060
    cd /tmp/optviz-b2d6060 && python /path/to/tests/data/record_permalinks.py b2d6060 OUT.json

For each preset it stores the two query strings that release put in links: the preset's own
(``config.to_query``, what ``python -m optviz export --preset`` and the docs use) and the one the
app wrote into the URL after loading it (the widgets read back through the codec), plus the
comparison's identity then (its normalised query, as the app's ``query_key`` computed it), so a
later release can check each link still opens the same comparison.
"""

from __future__ import annotations

import json
import sys
import urllib.parse
from dataclasses import replace

import surfaces
from optviz import config, optimizers, presets
from optviz import widget_state as ws
from optviz.config import Comparison, RunSpec


def normalized(c: Comparison) -> Comparison:
    """As app.normalized of the release being recorded (defaults dropped, display flags off)."""
    runs = []
    for run in c.runs:
        defaults = optimizers.get(run.optimizer).defaults
        options = {k: v for k, v in run.resolved.items() if v != defaults[k]}
        schedule = run.schedule if run.schedule and run.schedule["name"] != "constant" else None
        runs.append(RunSpec(run.optimizer, options, schedule))
    surf = c.surface_obj()
    start = None if c.start is None or tuple(c.start) == surf.start else c.start
    accepted = surfaces.all_params(surf.spec)
    sp = {
        k: v for k, v in c.surface_params.items() if k not in accepted or v != accepted[k].default
    }
    return replace(
        c,
        surface_params=sp,
        start=start,
        runs=tuple(runs),
        projection=False,
        linked=False,
        lesson=False,
        question=None,
    )


def main(commit: str, out: str) -> None:
    doc = {"commit": commit, "presets": {}}
    for name, preset in presets.PRESETS.items():
        c = preset.comparison
        app = ws.from_widgets(ws.to_widgets(c)).comparison
        doc["presets"][name] = {
            "preset_query": urllib.parse.urlencode(config.to_query(c)),
            "app_query": urllib.parse.urlencode(config.to_query(app)),
            "identity": urllib.parse.urlencode(sorted(config.to_query(normalized(c)).items())),
        }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
