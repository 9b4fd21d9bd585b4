"""The Plotly figures: traces and their roles, colours, divergence notes, image placement, sizes."""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import pytest

import optviz
import surfaces
from optviz import figures, style
from optviz.labels import number

# (surface, runs (optimizer, options), steps, start): small, fast cases with every status.
CASES = {
    "rosenbrock": ("rosenbrock", [("gd", {"lr": 1e-3}), ("adam", {"lr": 0.05})], 300, None),
    "diverged": (
        "rosenbrock",
        [("gd", {"lr": 0.01}), ("momentum", {"lr": 1e-3, "beta1": 0.9})],
        200,
        None,
    ),
    "saddle": ("saddle", [("gd", {"lr": 0.1}), ("adam", {"lr": 0.05})], 300, (-1.5, 0.5)),
    "noisy_linreg": ("noisy_linreg", [("gd", {"lr": 0.1}), ("rmsprop", {"lr": 0.01})], 80, None),
}


def make(case: str) -> tuple:
    name, specs, steps, start = CASES[case]
    surf = surfaces.get(name)
    trajs = [optviz.run(o, surf, steps=steps, start=start, **kw) for o, kw in specs]
    labels = [f"{o} {i}" for i, (o, _) in enumerate(specs)]
    colors = style.run_colors(len(specs))
    return surf, trajs, labels, colors


def decoded(value) -> np.ndarray:
    """A trace array as plotly serialises it (list or base64 typed array) → NumPy."""
    if isinstance(value, dict) and "bdata" in value:
        raw = base64.b64decode(value["bdata"])
        out = np.frombuffer(raw, dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        return out.reshape([int(n) for n in str(shape).split(",")]) if shape else out
    return np.asarray(value, dtype=float)


def trace_named(spec: dict, name: str) -> list[dict]:
    return [t for t in spec["data"] if t.get("name") == name]


@pytest.fixture(scope="module", params=sorted(CASES))
def race(request) -> tuple:
    surf, trajs, labels, colors = make(request.param)
    spec = figures.race_figure(surf, trajs, labels, colors)
    return request.param, surf, trajs, labels, colors, json.loads(json.dumps(spec, default=plain))


def plain(value):
    return value.tolist()


def by_role(spec: dict, role: str) -> list[dict]:
    return [t for t in spec["data"] if t.get("meta", {}).get("role") == role]


def test_every_run_has_its_moving_traces_and_they_hold_its_valid_rows(race):
    """The component animates by role: path, grow and loss per run; heads, cursor once."""
    _, _, trajs, labels, _, spec = race
    for role in ("path", "grow", "loss"):
        traces = by_role(spec, role)
        assert [t["meta"]["run"] for t in traces] == list(range(len(trajs)))
        for t, traj, label in zip(traces, trajs, labels, strict=True):
            assert t["name"] == label
            if role == "loss":
                assert decoded(t["y"]).size == traj.stopped_at + 1
            else:
                xy = np.column_stack([decoded(t["x"]), decoded(t["y"])])
                np.testing.assert_allclose(xy, traj.valid_xy, rtol=1e-6)
            if role == "path":  # the gradients the optimizer used, for the step arrows
                grad = np.column_stack([decoded(t["meta"]["grad_x"]), decoded(t["meta"]["grad_y"])])
                used = np.clip(
                    traj.grad[: traj.stopped_at + 1], -figures.LOSS_CAP, figures.LOSS_CAP
                )
                np.testing.assert_allclose(grad, used, rtol=1e-6)  # float32, capped at 1e30
    for role in ("heads", "loss_heads", "cursor"):
        assert len(by_role(spec, role)) == 1


def test_heads_and_cursor_show_the_last_step(race):
    _, _, trajs, _, _, spec = race
    (heads,) = by_role(spec, "heads")
    xy = np.column_stack([decoded(heads["x"]), decoded(heads["y"])])
    np.testing.assert_allclose(xy, np.array([t.final for t in trajs]), rtol=1e-6)
    (cursor,) = by_role(spec, "cursor")
    assert cursor["x"] == [max(t.stopped_at for t in trajs)] * 2
    (loss_heads,) = by_role(spec, "loss_heads")
    assert list(decoded(loss_heads["x"])) == [t.stopped_at for t in trajs]


def test_each_path_says_how_its_run_ended(race):
    _, _, trajs, _, _, spec = race
    for t, traj in zip(by_role(spec, "path"), trajs, strict=True):
        assert t["meta"]["status_kind"] == traj.status
        if traj.status == "ok":
            assert t["meta"]["status"] == f"final loss {number(traj.loss[traj.stopped_at])}"
        else:
            assert t["meta"]["status"] == traj.message


def test_every_trace_of_a_run_has_its_colour(race):
    _, _, _, labels, colors, spec = race
    for label, color in zip(labels, colors, strict=True):
        traces = [t for t in spec["data"] if t.get("legendgroup") == label]
        assert len(traces) >= 3  # full path, growing path, loss curve
        for t in traces:
            used = t.get("line", {}).get("color") or t.get("marker", {}).get("color")
            assert used == color, (label, t.get("name"))
        assert sum(t.get("showlegend", True) for t in traces) == 1
        assert any(t["name"] == label and t.get("showlegend", True) for t in traces)
    heads = by_role(spec, "heads")[0]
    assert heads["marker"]["color"] == list(colors)


def test_divergence_and_escape_are_annotated(race):
    case, _, trajs, _, _, spec = race
    texts = [a["text"] for a in spec["layout"].get("annotations", [])]
    expected = {"diverged": "diverged", "saddle": "escaped"}.get(case)
    assert [t.status == expected for t in trajs].count(True) >= (1 if expected else 0)
    for t in trajs:
        if t.status in ("diverged", "escaped"):
            assert t.message in texts
            assert t.message.startswith(t.status + " at step ")
        else:
            assert not any(t.message == x for x in texts)


def test_layout_image_spans_exactly_the_bounds(race):
    _, surf, _, _, _, spec = race
    (x0, x1), (y0, y1) = surf.bounds
    (image,) = spec["layout"]["images"]
    assert image["source"].startswith("data:image/png;base64,")
    assert (image["xref"], image["yref"], image["layer"]) == ("x", "y", "below")
    assert (image["x"], image["y"], image["xanchor"], image["yanchor"]) == (x0, y1, "left", "top")
    assert image["sizex"] == pytest.approx(x1 - x0)
    assert image["sizey"] == pytest.approx(y1 - y0)
    assert image["sizing"] == "stretch"
    assert spec["layout"]["xaxis"]["range"] == [x0, x1]
    assert spec["layout"]["yaxis"]["range"] == [y0, y1]


def test_picking_turns_drag_zoom_off():
    surf, trajs, labels, colors = make("rosenbrock")
    assert "dragmode" not in figures.race_figure(surf, trajs, labels, colors)["layout"]
    picking = figures.race_figure(surf, trajs, labels, colors, pick=True)
    assert picking["layout"]["dragmode"] is False


def test_loss_axis_is_log_only_where_the_loss_is_bounded_below(race):
    case, surf, _, _, _, spec = race
    axis = spec["layout"]["xaxis2"], spec["layout"]["yaxis2"]
    assert axis[1]["type"] == ("linear" if case == "saddle" else "log")
    assert ("linear" in axis[1]["title"]["text"]) == (case == "saddle")


def test_projection_mode_is_bigger():
    surf, trajs, labels, colors = make("rosenbrock")
    normal = figures.race_figure(surf, trajs, labels, colors)
    big = figures.race_figure(surf, trajs, labels, colors, projection=True)
    assert big["layout"]["font"]["size"] > normal["layout"]["font"]["size"]
    assert big["layout"]["height"] > normal["layout"]["height"]
    width = [by_role(f, "grow")[0]["line"]["width"] for f in (normal, big)]
    assert width[1] > width[0]


def test_many_steps_stay_small():
    """4 runs × 1000 steps: the figure is sent to the browser on every slider move.

    Float32 typed arrays, no animation frames, the surface as one 64-colour PNG: ~0.3 MB.
    """
    surf = surfaces.get("rosenbrock")
    specs = [
        ("gd", {"lr": 1e-3}),
        ("momentum", {"lr": 1e-3, "beta1": 0.9}),
        ("adam", {"lr": 0.05}),
        ("rmsprop", {"lr": 0.01}),
    ]
    trajs = [optviz.run(o, surf, steps=1000, **kw) for o, kw in specs]
    spec = figures.race_figure(surf, trajs, [o for o, _ in specs], style.run_colors(4))
    assert "frames" not in spec
    assert len(json.dumps(spec, default=plain)) < 400_000


def test_few_steps_show_every_iterate_as_a_dot():
    surf, trajs, labels, colors = make("noisy_linreg")  # 80 steps
    assert all(
        "markers" in t["mode"]
        for t in by_role(figures.race_figure(surf, trajs, labels, colors), "grow")
    )
    surf, trajs, labels, colors = make("rosenbrock")  # 300 steps
    assert all(
        t["mode"] == "lines"
        for t in by_role(figures.race_figure(surf, trajs, labels, colors), "grow")
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_other_figures_keep_run_colours(case):
    surf, trajs, labels, colors = make(case)
    built = [
        figures.surface3d_figure(surf, trajs, labels, colors),
        figures.dynamics_figure(trajs, labels, colors),
        figures.gradient_field_figure(surf, trajs, labels, colors),
    ]
    if case == "noisy_linreg":
        built.append(figures.data_fit_figure(surf, trajs, labels, colors))
    for fig in built:
        for label, color in zip(labels, colors, strict=True):
            traces = [t for t in fig.data if t.legendgroup == label]
            assert traces, label
            for t in traces:
                used = t.line.color if t.mode and "lines" in t.mode else t.marker.color
                assert used == color


def test_dynamics_has_three_log_panels_and_two_dashes():
    surf, trajs, labels, colors = make("rosenbrock")
    fig = figures.dynamics_figure(trajs, labels, colors)
    assert [fig.layout[f"yaxis{s}"].type for s in ("", "2", "3")] == ["log"] * 3
    dashes = {t.line.dash for t in fig.data if t.yaxis == "y3"}
    assert dashes == {"solid", "dot"}
    assert len(fig.data) == 4 * len(trajs)


def test_3d_paths_lie_above_the_clipped_surface():
    surf, trajs, labels, colors = make("rosenbrock")
    fig = figures.surface3d_figure(surf, trajs, labels, colors)
    mesh = fig.data[0]
    z_top = float(np.nanmax(mesh.z))
    for t in fig.data[1:]:
        if t.legendgroup in labels and t.mode == "lines":
            x, y, z = (np.asarray(v, float) for v in (t.x, t.y, t.z))
            ok = np.isfinite(z)
            under = np.clip(surf.value(x[ok], y[ok]), None, z_top)
            assert np.all(z[ok] > under)


def test_data_fit_lines_use_the_run_parameters():
    surf, trajs, labels, colors = make("noisy_linreg")
    fig = figures.data_fit_figure(surf, trajs, labels, colors, step=5)
    for traj, label in zip(trajs, labels, strict=True):
        (line,) = [t for t in fig.data if t.name == label]
        w, b = traj.xy[5]
        np.testing.assert_allclose(np.asarray(line.y), w * np.asarray(line.x) + b, rtol=1e-6)
    with pytest.raises(ValueError, match="noisy_linreg"):
        figures.data_fit_figure(surfaces.get("saddle"), [], [], [])


def test_results_rows_match_hand_computed_values():
    surf, trajs, labels, _ = make("diverged")
    rows = figures.results_rows(surf, trajs, labels, tol=1e-2)
    assert [r["optimizer"] for r in rows] == labels
    for row, traj in zip(rows, trajs, strict=True):
        x, y = traj.final
        assert row["status"] == traj.message
        assert row["final loss"] == pytest.approx(traj.loss[traj.stopped_at])
        assert row["distance to minimum"] == pytest.approx(math.hypot(x - 1.0, y - 1.0))
        grad = surf.gradient(traj.valid_xy[:, 0], traj.valid_xy[:, 1])
        hits = [
            k
            for k in range(traj.stopped_at + 1)
            if np.linalg.norm(grad[k]) <= 1e-2 or traj.loss[k] <= 1e-2
        ]
        assert row["steps to tol"] == (hits[0] if hits else None)
    saddle_rows = figures.results_rows(*make("saddle")[:2], ["a", "b"])
    assert all(r["distance to minimum"] is None for r in saddle_rows)


def test_mismatched_inputs_are_rejected():
    surf, trajs, labels, colors = make("rosenbrock")
    with pytest.raises(ValueError, match="same length"):
        figures.race_figure(surf, trajs, labels, colors[:1])


def test_steps_to_tol_uses_the_loss_gap_not_a_tiny_plateau_gradient():
    surf = surfaces.get("plateau")
    trajs = [optviz.run("gd", surf, steps=50, lr=0.1), optviz.run("adam", surf, steps=300, lr=0.05)]
    rows = figures.results_rows(surf, trajs, ["gd", "adam"], tol=1e-3)
    assert rows[0]["steps to tol"] is None  # ‖∇f‖ ≈ 2e-4 < tol at the start, but f ≈ 1
    k = rows[1]["steps to tol"]
    assert k is not None and trajs[1].loss[k] <= 1e-3 < trajs[1].loss[k - 1]


@pytest.mark.parametrize("case", ["rosenbrock", "saddle"])
def test_the_race_carries_what_the_following_views_draw(case):
    """Each run's path says f, ∇f and the effective η per row: the race chart draws the
    dynamics, field and 3-D runs from them, so they must be the trajectory's own numbers."""
    surf, trajs, labels, colors = make(case)
    spec = figures.race_figure(surf, trajs, labels, colors)
    paths = [t for t in spec["data"] if t.get("meta", {}).get("role") == "path"]
    for traj, path in zip(trajs, paths, strict=True):
        meta, n = path["meta"], traj.stopped_at
        (loss,) = [
            t for t in spec["data"]
            if t.get("meta", {}).get("role") == "loss" and t["meta"]["run"] == path["meta"]["run"]
        ]  # fmt: skip
        f = decoded(loss["y"]).astype(float) + spec["layout"]["meta"]["f_offset"]
        np.testing.assert_allclose(f, traj.valid_loss, rtol=1e-5, atol=1e-12)
        np.testing.assert_allclose(decoded(meta["lr_x"]), traj.lr_eff[:n, 0], rtol=1e-6)
        np.testing.assert_allclose(decoded(meta["lr_y"]), traj.lr_eff[:n, 1], rtol=1e-6)


@pytest.mark.parametrize("kind", sorted(figures.FOLLOW_VIEWS))
def test_view_figures_depend_on_the_surface_only(kind):
    surf = surfaces.get("rosenbrock")
    spec = figures.view_figure(surf, kind)
    assert spec["layout"]["meta"]["kind"] == kind
    json.dumps(spec, default=lambda a: a.tolist())  # plain JSON for the component
    if kind == "dynamics":
        assert spec["data"] == []
        assert [spec["layout"][f"yaxis{s}"]["type"] for s in ("", "2", "3")] == ["log"] * 3
    elif kind == "field":
        (image,) = spec["layout"]["images"]
        (x0, x1), (y0, y1) = surf.bounds
        assert (image["x"], image["sizex"], image["y"], image["sizey"]) == (
            x0,
            x1 - x0,
            y1,
            y1 - y0,
        )
    elif kind == "curvature":  # the runs' eigenvalues come with race_data, while it is shown
        assert spec["data"] == []
        assert [spec["layout"][f"yaxis{s}"]["type"] for s in ("", "2")] == ["linear", "log"]
    else:
        meta = spec["layout"]["meta"]
        z = decoded(spec["data"][0]["z"])
        assert meta["z_lo"] <= z.min() <= z.max() <= meta["z_hi"] and meta["lift"] > 0
    with pytest.raises(ValueError, match="kind"):
        figures.view_figure(surf, "4d")
