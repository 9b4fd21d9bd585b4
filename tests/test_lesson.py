"""Predict, then reveal: every preset question's answer, found by running the preset; lesson
mode in the app (runs hidden until Reveal, then the same runs as without lesson mode); the
permalink keeps lesson mode and the question; the race figure before Reveal."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import surfaces
from optviz import config, figures, presets, style
from optviz.config import Comparison

APP = str(Path(__file__).resolve().parents[1] / "app.py")
RUN_ROLES = {"path", "grow", "loss", "heads", "loss_heads", "cursor"}


# ---- the answers, from the runs -----------------------------------------------------------


def runs(name):
    c = presets.get(name).comparison
    return c, config.run_comparison(c)


def dist(traj, point):
    return float(np.hypot(*(np.asarray(traj.final) - point)))


def settled_at(traj, tol):
    """The first step after which the loss stays ≤ tol (None if it never does)."""
    loss = traj.valid_loss
    above = np.flatnonzero(loss > tol)
    if above.size == 0:
        return 0
    return None if above[-1] == loss.size - 1 else int(above[-1] + 1)


def answer_ravine_zigzag():
    c, (gd, _) = runs("ravine_zigzag")
    surf = c.surface_obj()
    # the steep direction: the Hessian's eigenvector of the largest eigenvalue (a quadratic)
    _, vecs = np.linalg.eigh(np.asarray(surf.hessian(*gd.xy[0])).reshape(2, 2))
    across = np.diff(gd.valid_xy, axis=0) @ vecs[:, -1]
    flips = np.mean(np.sign(across[1:]) != np.sign(across[:-1]))
    if gd.status == "diverged":
        return 0
    assert gd.valid_loss[-1] < 1e-3 * gd.valid_loss[0]  # it converges
    return 2 if flips > 0.9 else 1


def answer_nesterov_overshoot():
    _, (mom, nag) = runs("nesterov_overshoot")
    circling = [settled_at(t, 1e-6) is None for t in (mom, nag)]
    return {(True, False): 0, (False, True): 1, (True, True): 2, (False, False): 3}[tuple(circling)]


def answer_saddle_ridge():
    _, trajs = runs("saddle_ridge")
    left = [t.stopped_at if t.status == "escaped" else np.inf for t in trajs]
    if np.isinf(min(left)):
        return 3
    assert sorted(left)[0] < sorted(left)[1], "no tie"
    return int(np.argmin(left))


def answer_plateau():
    _, trajs = runs("plateau")
    in_well = [dist(t, (0.0, 0.0)) < 0.05 for t in trajs]  # GD, momentum, RMSProp, Adam
    table = {
        (True, True, False, False): 0,
        (False, False, True, True): 1,
        (True, True, True, True): 2,
        (False, False, False, False): 3,
    }
    return table[tuple(in_well)]


def answer_adagrad_vanishing():
    _, (adagrad, rmsprop) = runs("adagrad_vanishing")
    lr = presets.get("adagrad_vanishing").comparison.runs[0].resolved["lr"]
    step = np.linalg.norm(np.diff(adagrad.valid_xy, axis=0), axis=1)
    early, late = step[:10].mean(), step[-100:].mean()
    if adagrad.status == "diverged" or late > 2 * early:
        return 2
    eff = adagrad.lr_eff[: adagrad.stopped_at]
    assert np.all(np.diff(eff, axis=0) <= 0), "η/√G only shrinks"
    assert dist(adagrad, (1, 1)) > 2 * dist(rmsprop, (1, 1))  # AdaGrad stalls, RMSProp walks on
    return 1 if late < 0.1 * early and late < 0.01 * lr else 0


def least_squares_fit(c):
    (fit,) = c.surface_obj().minima  # the star: the exact least-squares line
    return fit.x, fit.y


def answer_batch_1():
    c, (gd, _, _) = runs("batch_1")
    _, (gd_full, _, _) = runs("batch_full")  # the same data, B = n
    fit = least_squares_fit(c)
    last = gd.valid_xy[-100:]
    still_moving = np.linalg.norm(np.diff(last, axis=0), axis=1).mean() > 1e-3
    return 1 if still_moving and dist(gd, fit) > 10 * dist(gd_full, fit) else 0


def answer_newton_saddle():
    _, (newton, _, _) = runs("newton_saddle")
    if newton.status == "diverged":
        return 2
    on_saddle = np.allclose(newton.xy[1], 0.0, atol=1e-12) and np.allclose(newton.final, 0.0)
    return 1 if on_saddle else 0


def answer_lr_schedules():
    c, trajs = runs("lr_schedules")
    d = [dist(t, least_squares_fit(c)) for t in trajs]
    assert sorted(d)[-1] > 2 * sorted(d)[-2], "a clear answer"
    return int(np.argmax(d))


def answer_rosenbrock_second_order():
    c, trajs = runs("rosenbrock_second_order")
    rows = figures.results_rows(c.surface_obj(), trajs, [r.label() for r in c.runs], tol=1e-8)
    steps = [r["steps to tol"] if r["steps to tol"] is not None else np.inf for r in rows]
    assert sorted(steps)[0] < sorted(steps)[1], "no tie"
    return int(np.argmin(steps))


def answer_full_adagrad_rotated():
    c, trajs = runs("full_adagrad_rotated")
    # Steps until within 1e-3 of the minimum (0, 0); a run that never gets there is "neither".
    first = []
    for t in trajs:
        near = np.flatnonzero(np.hypot(*t.valid_xy.T) < 1e-3)
        first.append(int(near[0]) if near.size else np.inf)
    if not np.isfinite(min(first)):
        return 2
    assert first[0] != first[1], "no tie"
    return int(np.argmin(first))


ANSWERS = {
    "full_adagrad_rotated": answer_full_adagrad_rotated,
    "ravine_zigzag": answer_ravine_zigzag,
    "nesterov_overshoot": answer_nesterov_overshoot,
    "saddle_ridge": answer_saddle_ridge,
    "plateau": answer_plateau,
    "adagrad_vanishing": answer_adagrad_vanishing,
    "batch_1": answer_batch_1,
    "newton_saddle": answer_newton_saddle,
    "lr_schedules": answer_lr_schedules,
    "rosenbrock_second_order": answer_rosenbrock_second_order,
}


def test_at_least_six_presets_ask_and_every_question_is_checked_here():
    asked = {name for name, p in presets.PRESETS.items() if p.question is not None}
    assert len(asked) >= 6
    assert asked == set(presets.QUESTIONS) == set(ANSWERS)


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_the_questions_answer_is_what_the_preset_does(name):
    q = presets.get(name).question
    assert 0 <= q.answer < len(q.choices)
    assert len(set(q.choices)) == len(q.choices)
    assert q.title and q.text and q.explanation and q.source[:3].isdigit()
    assert q.choices[ANSWERS[name]()] == q.choices[q.answer]


# ---- the permalink and the figure before Reveal -------------------------------------------


def test_permalink_round_trips_lesson_mode_and_the_question():
    c = Comparison(lesson=True, question="saddle_ridge")
    q = config.to_query(c)
    assert q["lesson"] == "1" and q["question"] == "saddle_ridge"
    again, notices = config.from_query(q)
    assert notices == []
    assert again.lesson and again.question == "saddle_ridge"
    assert "lesson" not in config.to_query(Comparison())


@pytest.mark.parametrize(
    ("query", "bad"),
    [
        ({"lesson": "maybe"}, "lesson"),
        ({"question": "../../etc/passwd"}, "question"),
        ({"question": "batch_32"}, "question"),  # a preset, but it asks nothing
        ({"question": "__import__('os')"}, "question"),
    ],
)
def test_bad_lesson_keys_are_ignored_with_a_notice(query, bad):
    c, notices = config.from_query(query)
    assert not c.lesson and c.question is None
    assert len(notices) == 1 and bad in notices[0]


def dumps(spec: dict) -> str:
    return json.dumps(spec, default=lambda o: o.tolist())  # NumPy arrays, as the component does


def test_start_only_figure_keeps_the_start_and_nothing_of_the_runs():
    c = presets.get("saddle_ridge").comparison
    trajs = config.run_comparison(c)
    colors = style.run_colors(len(trajs))
    full = figures.race_figure(c.surface_obj(), trajs, ["a", "b", "c"], colors)
    before = dumps(full)
    hidden = figures.race_start_only(full, c.steps)
    assert dumps(full) == before, "the cached full figure is not modified"
    assert not [t for t in hidden["data"] if t.get("meta", {}).get("role") in RUN_ROLES]
    assert {t["name"] for t in hidden["data"]} <= {"start", "saddle point", "minimum"}
    text = dumps(hidden)
    assert "escaped" not in text and "diverged" not in text
    assert not any(color in text for color in colors)
    starts = [t for t in hidden["data"] if t["name"] == "start"]
    points = [(float(t["x"][0]), float(t["y"][0])) for t in starts]
    f0 = float(surfaces.get("saddle").value(-1.5, 1e-6))
    assert points == [(-1.5, 1e-6), (0.0, pytest.approx(f0, rel=1e-7))]  # the loss is float32
    assert hidden["layout"]["xaxis2"]["range"] == [0, c.steps]
    assert hidden["layout"]["annotations"] == []


# ---- the app --------------------------------------------------------------------------------


def fresh(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def race_spec(at: AppTest) -> dict:
    (chart,) = at.get("component_instance")
    return json.loads(json.loads(chart.proto.json_args)["figure"])


def run_traces(spec: dict) -> list[dict]:
    return [t for t in spec["data"] if t.get("meta", {}).get("role") in RUN_ROLES]


def button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def test_lesson_mode_hides_the_runs_until_reveal_then_shows_the_same_runs():
    plain = fresh()
    plain.selectbox(key="preset").set_value("saddle_ridge").run()
    expected = race_spec(plain)
    assert run_traces(expected)

    at = fresh()
    at.toggle(key="lesson").set_value(True).run()
    assert run_traces(race_spec(at)) == []  # no preset, no question: hidden all the same
    assert "Predict:" in " ".join(m.value for m in at.markdown)
    titles = at.selectbox(key="preset").options
    assert presets.get("saddle_ridge").question.title in titles
    assert presets.get("saddle_ridge").title not in titles  # it would give the answer away
    at.selectbox(key="preset").set_value("saddle_ridge").run()
    assert not at.exception
    hidden = race_spec(at)
    assert run_traces(hidden) == []
    assert {t["name"] for t in hidden["data"]} <= {"start", "saddle point", "minimum"}
    question = presets.get("saddle_ridge").question
    page = " ".join(m.value for m in at.markdown)
    assert question.text in page
    assert presets.get("saddle_ridge").title not in page + " ".join(i.value for i in at.info)
    assert at.query_params["lesson"] == "1"
    assert at.query_params["question"] == "saddle_ridge"

    button(at, "lesson_reveal").click().run()
    assert not at.exception
    assert race_spec(at) == expected
    page = " ".join(m.value for m in at.markdown)
    assert question.explanation in page
    button(at, "lesson_hide").click().run()
    assert run_traces(race_spec(at)) == []


def test_permalink_opens_in_lesson_mode_with_the_question_hidden():
    query = config.to_query(presets.get("newton_saddle").comparison)
    query |= {"lesson": "1", "question": "newton_saddle"}
    at = fresh(query)
    assert not at.exception and not at.warning
    assert at.session_state["lesson"] is True
    assert run_traces(race_spec(at)) == []
    assert presets.get("newton_saddle").question.text in " ".join(m.value for m in at.markdown)
    assert at.query_params["lesson"] == "1" and at.query_params["question"] == "newton_saddle"
    again, notices = config.from_query(dict(at.query_params))
    assert notices == [] and again.lesson and again.question == "newton_saddle"
    button(at, "lesson_reveal").click().run()
    assert len({t["meta"].get("run") for t in run_traces(race_spec(at))} - {None}) == 3


# ---- in a real browser ----------------------------------------------------------------------


@pytest.mark.browser
def test_browser_race_chart_draws_no_run_until_reveal(tmp_path):
    """The chart component gets a figure without runs (it must still draw the surface and the
    start), then after Reveal the three runs; screenshots of both go to ``tmp_path``."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists() and os.environ.get("CI") != "true":
        pytest.skip("no /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(APP).parent
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("streamlit")), "run", APP, "--server.headless=true",
         "--server.address=127.0.0.1", f"--server.port={port}", "--server.fileWatcherType=none",
         "--browser.gatherUsageStats=false"],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    chart = """() => { const f = document.querySelector('iframe[title$="race_chart"]');
        const r = f && f.contentWindow && f.contentWindow.race;
        return r && r.renders > 0 && f.offsetHeight > 100 ? r.runs.length : -1; }"""
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "streamlit did not start"
                time.sleep(0.3)
        query = config.to_query(presets.get("saddle_ridge").comparison)
        query |= {"lesson": "1", "question": "saddle_ridge"}
        url = f"http://127.0.0.1:{port}/?" + "&".join(f"{k}={v}" for k, v in query.items())
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=args)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            page.get_by_role("button", name="Reveal").wait_for(timeout=120_000)
            page.wait_for_function(f"({chart})() >= 0", timeout=120_000)
            assert page.evaluate(chart) == 0
            page.screenshot(path=str(tmp_path / "hidden.png"))
            page.get_by_role("button", name="Reveal").click()
            page.get_by_role("button", name="Hide").wait_for(timeout=60_000)
            page.wait_for_function(f"({chart})() === 3", timeout=60_000)
            page.screenshot(path=str(tmp_path / "revealed.png"))
            browser.close()
        assert errors == []
    finally:
        server.kill()
        server.wait(timeout=10)
