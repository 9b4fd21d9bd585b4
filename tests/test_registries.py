"""One entry per view and per export format; one rule for labels, end markers and trace roles.

- Views (optviz.app.views.VIEWS): each offered view renders; a new entry is offered and drawn.
- Export formats (optviz.export.FORMATS): the app's picker and the CLI's --format are the table;
  a new entry is written by both.
- Labels: every export format names the runs exactly as the app does ("#1"/"#2" included).
- End markers: the app's figure and the exported frames put them at the same points.
- Trace roles: Python states them (figures.RUN_ROLES, sent in the figure); race.js's role
  comparisons only use those.
"""

from __future__ import annotations

import csv
import inspect
import io
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from optviz import __main__ as cli
from optviz import comparison, config, export, figures, labels, presets, style
from optviz.config import Comparison, RunSpec

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")

# Two identical runs and a third: the app numbers the identical ones "#1"/"#2".
TWINS = Comparison(
    surface="booth",
    steps=30,
    runs=(RunSpec("gd", {"lr": 0.05}), RunSpec("gd", {"lr": 0.05}), RunSpec("adam")),
)
# Runs that leave the saddle: end markers, two of them near each other.
ESCAPES = Comparison(
    surface="saddle",
    steps=200,
    start=(-1.5, 1e-3),
    runs=(
        RunSpec("gd", {"lr": 0.1}),
        RunSpec("gd", {"lr": 0.11}),
        RunSpec("momentum", {"lr": 0.05}),
    ),
)


def fresh(c: Comparison) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in config.to_query(c).items():
        at.query_params[key] = value
    return at.run()


def app_labels(at: AppTest) -> tuple[list[str], list[str]]:
    """The runs' names in the app: the race's paths and the results table."""
    (chart,) = at.get("component_instance")
    figure = json.loads(json.loads(chart.proto.json_args)["figure"])
    paths = [t["name"] for t in figure["data"] if t.get("meta", {}).get("role") == "path"]
    at.segmented_control(key="view").set_value("Results").run()
    table = list(at.dataframe[0].value["optimizer"])
    return paths, table


# ---- labels -------------------------------------------------------------------------------------


def exported_labels(fmt: str, c: Comparison, trajs: list) -> list[str]:
    """The run names a file of format ``fmt`` holds."""
    f = export.FORMATS[fmt]
    if f.name == "csv":
        rows = csv.DictReader(io.StringIO(export.export(c, trajs, fmt, export.ExportOptions())))
        names: list[str] = []
        for row in rows:
            if int(row["run"]) == len(names):
                names.append(row["label"])
        return names
    if f.name == "json":
        doc = json.loads(export.export(c, trajs, fmt, export.ExportOptions()))
        return [r["label"] for r in doc["comparison"]["runs"]]
    if f.name in ("gif", "mp4", "png"):  # frames drawn by the one scene: its legend
        with export._scene(c, trajs, export.ExportOptions(frames=2)) as scene:
            (legend,) = scene.fig.legends
            return [t.get_text() for t in legend.get_texts()]
    raise AssertionError(f"format {fmt!r}: say here where its files name the runs")


def test_every_export_format_names_the_runs_as_the_app_does():
    at = fresh(TWINS)
    assert not at.exception
    paths, table = app_labels(at)
    assert paths == table == comparison.run_labels(TWINS)
    assert paths[0].endswith("#1") and paths[1].endswith("#2") and "#" not in paths[2]
    trajs = config.run_comparison(TWINS)
    for fmt in export.FORMATS:
        assert exported_labels(fmt, TWINS, trajs) == paths, fmt


def test_the_views_name_the_runs_as_the_race_does():
    """The step-by-step and curvature views label the runs by the one rule, with no helper of
    their own (they had one each)."""
    from optviz.app import curvature_view, stepwise_view

    for module in (stepwise_view, curvature_view):
        assert not hasattr(module, "_labels"), module.__name__
        assert "comparison_rules.run_labels(comparison)" in inspect.getsource(module)


def test_the_figures_take_the_labels_they_are_given():
    trajs = config.run_comparison(TWINS)
    names = comparison.run_labels(TWINS)
    spec = figures.race_figure(TWINS.surface_obj(), trajs, names, style.run_colors(3, False))
    assert [t["name"] for t in spec["data"] if t.get("meta", {}).get("role") == "path"] == names
    assert labels.run_labels(TWINS.runs) == names


# ---- export formats -----------------------------------------------------------------------------


def test_the_cli_offers_exactly_the_format_table():
    parser = cli._parser()
    (export_cmd,) = [a for a in parser._subparsers._group_actions if a.dest == "command"]
    sub = export_cmd.choices["export"]
    (fmt_action,) = [a for a in sub._actions if a.dest == "format"]
    assert list(fmt_action.choices) == list(export.FORMATS)
    for f in export.FORMATS.values():
        assert export.format_of(f"x.{f.extension}") == f.name


def test_a_new_format_is_one_entry(monkeypatch, tmp_path):
    def write(c, trajs, opts, progress):
        return "\n".join(comparison.run_labels(c)) + "\n"

    extra = export.Format("txt", "txt", "text/plain", "Text", "a list of the runs", write)
    monkeypatch.setattr(export, "FORMATS", {**export.FORMATS, "txt": extra})
    out = tmp_path / "runs.txt"
    assert cli.main(["export", "--preset", "ravine_zigzag", "-o", str(out), "-q"]) == 0
    assert out.read_text().splitlines() == comparison.run_labels(
        presets.get("ravine_zigzag").comparison
    )
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.segmented_control(key="view").set_value("Export").run()
    assert "Text" in at.selectbox(key="ex.format").options
    at.selectbox(key="ex.format").set_value("txt").run()
    at.button(key="ex.render").click().run()
    assert not at.exception and not at.error
    data, file_name, mime, _ = at.session_state["ex.data"]
    assert file_name.endswith(".txt") and mime == "text/plain"
    assert data.decode().splitlines() == comparison.run_labels(Comparison())


def test_the_app_picker_is_the_format_table():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.segmented_control(key="view").set_value("Export").run()
    shown = at.selectbox(key="ex.format").options
    assert shown == [f.label for f in export.FORMATS.values()]


# ---- views ---------------------------------------------------------------------------------------


def test_every_view_renders():
    from optviz.app import views

    c = Comparison(
        surface="noisy_linreg",
        steps=40,
        runs=(RunSpec("adam", {"lr": 0.05}), RunSpec("bfgs")),
    )
    at = fresh(c)
    offered = at.segmented_control(key="view").options
    assert offered == [v.label for v in views.VIEWS], "every view applies to this comparison"
    for label in offered:
        at.segmented_control(key="view").set_value(label).run()
        assert not at.exception, label
        assert not at.error, label


def test_a_new_view_is_one_entry(monkeypatch):
    import streamlit as st

    from optviz.app import views

    extra = views.View(
        "run_count",
        "Run count",
        lambda ctx: st.markdown(f"{len(ctx.trajs)} runs: {', '.join(ctx.labels)}"),
        lambda c, trajs: len(c.runs) > 1,
    )
    monkeypatch.setattr(views, "VIEWS", (*views.VIEWS, extra))
    at = fresh(TWINS)
    assert "Run count" in at.segmented_control(key="view").options
    at.segmented_control(key="view").set_value("Run count").run()
    assert any(m.value.startswith("3 runs: ") for m in at.markdown)
    at = fresh(replace(TWINS, runs=TWINS.runs[:1]))
    assert "Run count" not in at.segmented_control(key="view").options


# ---- end markers ---------------------------------------------------------------------------------


def test_end_markers_sit_where_the_app_puts_them_in_every_picture():
    c = ESCAPES
    trajs = config.run_comparison(c)
    surf = c.surface_obj()
    ends = figures.end_markers(surf, trajs)
    assert all(e is not None for e in ends), [t.status for t in trajs]
    assert max(e.level for e in ends) >= 1, "two of them stand near each other"
    names = comparison.run_labels(c)
    spec = figures.race_figure(surf, trajs, names, style.run_colors(3, False))
    crosses = [
        (t["x"][0], t["y"][0])
        for t in spec["data"]
        if t.get("marker", {}).get("symbol") == "x-thin" and t.get("xaxis") == "x"
    ]
    assert crosses == [(e.x, e.y) for e in ends]
    notes = [(a["x"], a["y"], a["text"]) for a in spec["layout"]["annotations"]]
    assert notes == [(e.x, e.y, e.text) for e in ends]
    with export._scene(c, trajs, export.ExportOptions(frames=2)) as scene:
        drawn = [(float(m.get_xdata()[0]), float(m.get_ydata()[0])) for _, m, _ in scene.ends]
        texts = [t.get_text() for _, _, t in scene.ends]
    assert np.allclose(drawn, crosses) and texts == [e.text for e in ends]
    (x0, x1), (y0, y1) = surf.bounds
    for e in ends:
        assert x0 < e.x < x1 and y0 < e.y < y1


# ---- trace roles ---------------------------------------------------------------------------------

JS = ROOT / "optviz" / "race_chart" / "frontend" / "race.js"
JS_ONLY_ROLES = {"heads3d"}  # traces race.js makes itself (the 3-D view's heads)


def test_race_js_reads_the_roles_python_states():
    source = JS.read_text(encoding="utf-8")
    used = set(re.findall(r'role === "(\w+)"', source))
    assert used - JS_ONLY_ROLES <= set(figures.RUN_ROLES)
    assert "run_roles" in source
    assert not re.search(r"new Set\(\[\"path\"", source), "no second copy of the role table"


def test_every_race_trace_role_is_in_the_table():
    trajs = config.run_comparison(ESCAPES)
    spec = figures.race_figure(
        ESCAPES.surface_obj(), trajs, comparison.run_labels(ESCAPES), style.run_colors(3, False)
    )
    roles = {t["meta"]["role"] for t in spec["data"] if "meta" in t}
    assert roles == set(figures.RUN_ROLES)
    assert spec["layout"]["meta"]["run_roles"] == list(figures.RUN_ROLES)
    with pytest.raises(ValueError, match="unknown race trace role"):
        figures._role("pathh")
