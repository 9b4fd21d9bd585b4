"""Words for people: every option, value, schedule parameter and surface parameter has a label;
numbers read as 3–4 significant digits with ×10ⁿ; the app and every export name runs alike."""

from __future__ import annotations

import csv
import io
import json
import math
import re

import pytest

import surfaces
from optviz import config, export, labels, optimizers, schedules, tuned
from optviz.config import Comparison, RunSpec

IDENTIFIER = re.compile(r"\b[a-z][a-z0-9]+(?:_[a-z0-9]+)+\b|\b(?:True|False|None)\b")


def identifiers(text: str) -> list[str]:
    """Python identifiers (snake_case names, raw reprs) a person should never read."""
    return IDENTIFIER.findall(text)


def test_every_name_the_app_can_show_has_a_label():
    assert labels.missing() == []


def test_a_missing_label_fails_in_tests_and_reads_as_words_at_run_time(monkeypatch):
    monkeypatch.setenv("OPTVIZ_STRICT_LABELS", "1")
    with pytest.raises(LookupError, match="no_such_option"):
        labels.option("no_such_option")
    with pytest.raises(LookupError):
        labels.schedule_param("sgdr", "T_new")
    monkeypatch.setenv("OPTVIZ_STRICT_LABELS", "0")
    assert labels.option("no_such_option") == "no such option"
    assert labels.value("accumulator_init", "last_grad") == "last grad"


def test_lecture_names_and_symbols():
    assert labels.option("bias_correction") == "bias correction"
    assert labels.value("bias_correction", False) == "off"
    assert labels.schedule("inverse_time") == "1/t decay"
    assert labels.schedule_param("sgdr", "T_mult") == "restart period multiplier T_mult"
    assert labels.schedule_param("sgdr", "eta_min") == "minimum rate η_min"
    assert labels.option("lr") == "learning rate η"


def test_no_label_is_an_identifier():
    texts = list(labels.OPTIONS.values())
    texts += [t for table in labels.VALUES.values() for t in table.values()]
    texts += [t for table in labels.SCHEDULE_PARAMS.values() for t in table.values()]
    texts += [labels.schedule(n) for n in schedules.NAMES]
    for name in surfaces.NAMES:
        texts += [labels.surface_param(name, p) for p in surfaces.all_params(surfaces.spec(name))]
    assert [t for t in texts if identifiers(t)] == []


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.385296986897661e21, "1.385×10²¹"),
        (3574000000000000, "3.574×10¹⁵"),
        (None, "—"),
        (math.nan, "—"),
        (math.inf, "∞"),
        (-math.inf, "−∞"),
        (0.0, "0"),
        (0.038, "0.038"),
        (0.0012, "0.0012"),
        (1e-3, "0.001"),
        (1e-5, "1×10⁻⁵"),
        (2.5e-7, "2.5×10⁻⁷"),
        (150, "150"),
        (9999.0, "9999"),
        (12345.0, "1.234×10⁴"),
        (9999.6, "1×10⁴"),
        (0.00099996, "0.001"),
        (-0.5, "−0.5"),
        (1 / 3, "0.3333"),
        (123.456, "123.5"),
    ],
)
def test_numbers_for_people(value, text):
    assert labels.number(value) == text


def test_format_rows_leaves_no_raw_number_or_none():
    rows = [{"optimizer": "GD", "final loss": 1.385296986897661e21, "steps to tol": None}]
    assert labels.format_rows(rows) == [
        {"optimizer": "GD", "final loss": "1.385×10²¹", "steps to tol": "—"}
    ]


def _every_run() -> list[RunSpec]:
    """Every optimizer with each of its convention values, and every schedule."""
    runs = []
    for name in optimizers.NAMES:
        opt = optimizers.get(name)
        for o in opt.options:
            if o in optimizers.CHOICE_OPTIONS:
                for v in optimizers.CHOICE_OPTIONS[o][1]:
                    try:
                        runs.append(RunSpec(name, {o: v}))
                        runs[-1].resolved  # noqa: B018 - combinations the optimizer refuses
                    except ValueError:
                        runs.pop()
        for sname in schedules.NAMES:
            runs.append(RunSpec(name, {"lr": 1e-5}, schedules.resolve(sname)))
    return runs


def test_run_labels_are_words():
    for run in _every_run():
        label = labels.run_label(run)
        assert not identifiers(label), label
        assert "[" not in label and "=False" not in label and "=True" not in label


def test_identical_runs_are_numbered_in_the_app_and_every_export():
    c = Comparison(surface="booth", steps=5, runs=(RunSpec("gd"), RunSpec("gd"), RunSpec("adam")))
    trajs = config.run_comparison(c)
    names = labels.run_labels(c.runs)
    assert names[0].endswith("#1") and names[1].endswith("#2") and "#" not in names[2]
    rows = list(csv.DictReader(io.StringIO(export.trajectories_csv(c, trajs))))
    assert [r["label"] for r in rows if r["step"] == "0"] == names
    doc = json.loads(export.comparison_json(c, trajs))
    assert [r["label"] for r in doc["comparison"]["runs"]] == names
    opts = export.ExportOptions(width=320, height=240, frames=2)
    with export._scene(c, trajs, opts) as scene:
        legend = scene.fig.legends[0]
        assert [t.get_text() for t in legend.get_texts()] == names


@pytest.mark.parametrize("surface", ["ravine", "noisy_linreg"])
def test_exported_contour_has_the_apps_aspect(surface):
    """1:1 data units: a unit step in x and in y cover the same number of pixels (the surface
    image was stretched to fill a wide axes before)."""
    c = Comparison(surface=surface, steps=3, runs=(RunSpec("gd"),))
    trajs = config.run_comparison(c)
    (x0, x1), (y0, y1) = c.surface_obj().bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    d = min(x1 - x0, y1 - y0) / 4
    opts = export.ExportOptions(width=640, height=360, frames=2)
    with export._scene(c, trajs, opts) as scene:
        o, px, py = (scene.to_pixel(*p) for p in ((cx, cy), (cx + d, cy), (cx, cy + d)))
    assert abs(px[0] - o[0]) > 20
    assert abs(abs(px[0] - o[0]) - abs(py[1] - o[1])) <= 1


def test_the_tuned_learning_rates_are_what_running_finds():
    assert tuned.build() == tuned.TABLE


@pytest.mark.parametrize(
    ("surface", "name"),
    [(s, o) for s, row in tuned.TABLE.items() for o in row],
)
def test_a_tuned_learning_rate_runs_and_keeps_a_margin(surface, name):
    """It neither diverges nor escapes, lowers the loss, and so does the next stop up."""
    lr = tuned.lr_for(surface, name)
    up = tuned.STOPS[tuned.STOPS.index(lr) + 1] if lr != tuned.STOPS[-1] else None
    for value in (lr, up) if up is not None else (lr,):
        c = Comparison(surface=surface, runs=(RunSpec(name, {"lr": value}),))
        (traj,) = config.run_comparison(c)
        assert traj.status == "ok", value
        assert traj.loss[-1] < traj.loss[0], value


def test_gd_diverges_on_rosenbrock_with_the_ravines_lr_and_not_with_the_tuned_one():
    ravine_lr = Comparison().runs[0].options["lr"]
    c = Comparison(surface="rosenbrock", runs=(RunSpec("gd", {"lr": ravine_lr}),))
    assert config.run_comparison(c)[0].status == "diverged"
    tuned_gd = RunSpec("gd", {"lr": tuned.lr_for("rosenbrock", "gd")})
    c = Comparison(surface="rosenbrock", runs=(tuned_gd,))
    assert config.run_comparison(c)[0].status == "ok"


def test_formula_notes_name_options_in_words():
    note = labels.note_in_words(
        "rmsprop", "``accumulator_init=first_grad`` starts; ``centered`` and ``torch.optim.X``"
    )
    assert note == (
        "*accumulator start: start at the first gradient: σ⁰ = |g⁰| (Hung-yi Lee)* starts; "
        "*centred (subtract the mean gradient)* and ``torch.optim.X``"
    )
    for name in optimizers.NAMES:
        prose = re.sub(r"``[^`]*``", "", labels.note_in_words(name, optimizers.notes(name)))
        code = re.findall(r"``([^`]*)``", labels.note_in_words(name, optimizers.notes(name)))
        assert not [c for c in code if c in optimizers.get(name).defaults], name
        assert prose  # every optimizer has a note
