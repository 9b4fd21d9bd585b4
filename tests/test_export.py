"""Export: decode what was written and check it is what was asked for."""

import csv
import io
import json
import os

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from optviz import config, export, style

RUNS = (
    config.RunSpec("gd", {"lr": 0.001}),
    config.RunSpec("momentum", {"lr": 0.001, "beta1": 0.9}),
    config.RunSpec("adam", {"lr": 0.2}),
)
COMPARISON = config.Comparison(surface="rosenbrock", steps=60, runs=RUNS)
SADDLE = config.Comparison(
    surface="saddle",
    steps=80,
    runs=(config.RunSpec("gd", {"lr": 0.1}), config.RunSpec("adam", {"lr": 0.05})),
)
DIVERGING = config.Comparison(
    surface="ravine",
    steps=60,
    runs=(config.RunSpec("gd", {"lr": 0.01}), config.RunSpec("gd", {"lr": 5.0})),
)
SMALL = export.ExportOptions(width=240, height=180, fps=10, frames=8, hold_last=0.5)


@pytest.fixture(scope="module")
def trajs():
    return config.run_comparison(COMPARISON)


def gif_frames(data: bytes) -> tuple[Image.Image, list[int], list[np.ndarray]]:
    im = Image.open(io.BytesIO(data))
    durations, frames = [], []
    for i in range(im.n_frames):
        im.seek(i)
        durations.append(im.info["duration"])
        frames.append(np.asarray(im.convert("RGB")))
    return im, durations, frames


def rgb_of(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])


def count_near(frame: np.ndarray, pixel: tuple[int, int], color: str, radius: int = 8) -> int:
    col, row = pixel
    patch = frame[max(row - radius, 0) : row + radius + 1, max(col - radius, 0) : col + radius + 1]
    return int((np.abs(patch.astype(int) - rgb_of(color)).sum(axis=-1) <= 30).sum())


def color_near(frame: np.ndarray, pixel: tuple[int, int], color: str, radius: int = 6) -> bool:
    return count_near(frame, pixel, color, radius) > 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"width": 0}, "width"),
        ({"width": -800}, "width"),
        ({"height": 2161}, "height"),
        ({"width": 3841}, "width"),
        ({"width": 800.0}, "width"),
        ({"fps": 0}, "fps"),
        ({"fps": 61}, "fps"),
        ({"frames": 1}, "frames"),
        ({"frames": 1001}, "frames"),
        ({"loop": -1}, "loop"),
        ({"hold_last": -0.5}, "hold_last"),
        ({"tail": "short"}, "tail"),
        ({"projection": "yes"}, "projection"),
        ({"trajectory_only": 1}, "trajectory_only"),
    ],
)
def test_bad_options_raise_naming_the_option(changes, message):
    with pytest.raises(ValueError, match=message):
        export.ExportOptions(**changes)


@pytest.mark.parametrize(
    ("width", "height", "frames", "ok"),
    [
        (1280, 720, 1000, True),
        (1920, 1080, 482, True),
        (1920, 1080, 483, False),
        (3840, 2160, 200, False),
    ],
)
def test_gif_size_guard(width, height, frames, ok):
    opts = export.ExportOptions(width=width, height=height, frames=frames)
    if ok:
        export.check_gif_size(opts)
    else:
        with pytest.raises(ValueError, match="frames"):
            export.check_gif_size(opts)


@pytest.mark.parametrize(
    ("size", "expected"),
    [((800, 600), (800, 600)), ((1920, 1080), (1920, 1080)), ((3840, 2160), (3840, 2160))],
)
def test_good_sizes_are_accepted(size, expected):
    opts = export.ExportOptions(width=size[0], height=size[1])
    assert (opts.width, opts.height) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("800x600", (800, 600)), ("1920×1080", (1920, 1080)), ("1280X720", (1280, 720))],
)
def test_parse_size(text, expected):
    assert export.parse_size(text) == expected


@pytest.mark.parametrize("text", ["800", "axb", "800x600x2", ""])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError, match="800x600"):
        export.parse_size(text)


@pytest.mark.parametrize(
    ("opts", "frame_ms", "last_ms"),
    [
        (SMALL, 100, 600),
        (
            export.ExportOptions(width=320, height=200, fps=25, frames=5, loop=3, hold_last=0),
            40,
            40,
        ),
        (
            export.ExportOptions(
                width=200, height=160, fps=4, frames=6, tail="fade", projection=True
            ),
            250,
            1250,
        ),
        (
            export.ExportOptions(width=200, height=200, frames=3, trajectory_only=True, loop=1),
            50,
            1050,
        ),
        # GIF delays are hundredths of a second: 33.3 ms becomes 30 ms.
        (export.ExportOptions(width=160, height=120, fps=30, frames=4, hold_last=0.25), 30, 280),
    ],
)
def test_gif_plays_as_requested(trajs, opts, frame_ms, last_ms):
    im, durations, frames = gif_frames(export.render_gif(COMPARISON, trajs, opts))
    assert im.n_frames == opts.frames
    assert im.size == (opts.width, opts.height)
    assert durations == [frame_ms] * (opts.frames - 1) + [last_ms]
    assert im.info.get("loop") == opts.loop
    assert not np.array_equal(frames[0], frames[-1])


def test_gif_has_at_most_one_frame_per_step(trajs):
    short = config.Comparison(surface="ravine", steps=4, runs=RUNS)
    opts = export.ExportOptions(width=160, height=120, frames=50)
    im, _, _ = gif_frames(export.render_gif(short, config.run_comparison(short), opts))
    assert im.n_frames == 5


@pytest.mark.parametrize("projection", [False, True])
def test_each_run_colour_is_at_its_final_point(trajs, projection):
    # The realistic case: full size, default frame count.
    opts = export.ExportOptions(projection=projection, frames=30)
    finals = [t.final for t in trajs]
    pixels = [export.contour_pixel(COMPARISON, trajs, opts, *p) for p in finals]
    # Precondition: the final points are apart, so no head hides another.
    for i, a in enumerate(pixels):
        for b in pixels[i + 1 :]:
            assert np.hypot(a[0] - b[0], a[1] - b[1]) > 20
    _, _, frames = gif_frames(export.render_gif(COMPARISON, trajs, opts))
    for pixel, color in zip(pixels, style.run_colors(len(trajs), projection), strict=True):
        assert color_near(frames[-1], pixel, color)


def test_png_is_the_final_frame_at_the_requested_size(trajs):
    opts = export.ExportOptions(width=640, height=360)
    png = Image.open(io.BytesIO(export.render_png(COMPARISON, trajs, opts)))
    assert png.format == "PNG"
    assert png.size == (640, 360)
    frame = np.asarray(png.convert("RGB"))
    for traj, color in zip(trajs, style.run_colors(len(trajs)), strict=True):
        assert color_near(frame, export.contour_pixel(COMPARISON, trajs, opts, *traj.final), color)


@pytest.mark.parametrize(
    ("opts", "size", "count"),
    [
        (SMALL, (240, 180), SMALL.frames + 5),  # 0.5 s hold at 10 fps = 5 repeated frames
        (export.ExportOptions(width=241, height=181, fps=30, frames=6, hold_last=0), (242, 182), 6),
    ],
)
def test_mp4_plays_as_requested(trajs, tmp_path, opts, size, count):
    path = tmp_path / "out.mp4"
    path.write_bytes(export.render_mp4(COMPARISON, trajs, opts))
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    frames = [np.frombuffer(f, np.uint8).reshape(size[1], size[0], 3) for f in reader]
    assert meta["codec"] == "h264"
    assert meta["pix_fmt"].startswith("yuv420p")
    assert meta["size"] == size
    assert meta["fps"] == opts.fps
    assert len(frames) == count
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).max() > 100


def test_progress_rises_to_one(trajs):
    seen = []
    export.render_gif(COMPARISON, trajs, SMALL, progress=seen.append)
    assert seen == sorted(seen)
    assert 0 < seen[0] and seen[-1] == 1.0
    assert len(seen) > SMALL.frames


def test_csv_rows_match_the_trajectories():
    trajs = config.run_comparison(DIVERGING)
    rows = list(csv.DictReader(io.StringIO(export.trajectories_csv(DIVERGING, trajs))))
    assert tuple(rows[0]) == export.CSV_COLUMNS
    assert len(rows) == sum(t.stopped_at + 1 for t in trajs)
    for i, (run, traj) in enumerate(zip(DIVERGING.runs, trajs, strict=True)):
        mine = [r for r in rows if r["run"] == str(i)]
        assert [int(r["step"]) for r in mine] == list(range(traj.stopped_at + 1))
        assert {r["optimizer"] for r in mine} == {run.optimizer}
        assert {r["label"] for r in mine} == {run.label()}
        got = np.array([[float(r[k]) for k in ("x", "y", "loss", "grad_norm")] for r in mine])
        np.testing.assert_array_equal(got[:, :2], traj.valid_xy)  # exact: floats round-trip
        np.testing.assert_array_equal(got[:, 2], traj.valid_loss)
        grad = traj.grad[: traj.stopped_at + 1]
        np.testing.assert_allclose(got[:, 3], np.linalg.norm(grad, axis=1), rtol=1e-14)
    assert trajs[1].status == "diverged"  # the rows stop where the run stopped


@pytest.mark.parametrize("comparison", [COMPARISON, SADDLE, DIVERGING])
def test_json_round_trips_the_comparison(comparison):
    trajs = config.run_comparison(comparison)
    doc = json.loads(export.comparison_json(comparison, trajs))
    again, notices = config.from_query(doc["query"])
    assert notices == []
    assert again == comparison
    assert doc["comparison"]["surface"] == comparison.surface
    assert [r["label"] for r in doc["comparison"]["runs"]] == [r.label() for r in comparison.runs]
    for got, traj in zip(doc["trajectories"], trajs, strict=True):
        assert got["status"] == traj.status
        np.testing.assert_array_equal(got["x"], traj.valid_xy[:, 0])
        np.testing.assert_array_equal(got["loss"], traj.valid_loss)


@pytest.mark.parametrize(
    ("comparison", "scale"), [(COMPARISON, "log"), (SADDLE, "linear"), (DIVERGING, "log")]
)
def test_loss_scale_is_honest_about_negative_losses(comparison, scale):
    trajs = config.run_comparison(comparison)
    with export._scene(comparison, trajs, SMALL) as scene:
        assert scene.loss_ax.get_yscale() == scale


def test_stopped_runs_get_an_end_marker_only_from_their_last_step():
    trajs = config.run_comparison(DIVERGING)
    assert [t.status for t in trajs] == ["ok", "diverged"]
    opts = export.ExportOptions(width=400, height=300)
    with export._scene(DIVERGING, trajs, opts) as scene:
        assert scene.ends[0] is None
        stop, mark, text = scene.ends[1]
        assert text.get_text() == trajs[1].message == f"diverged at step {stop + 1}"
        x, y = mark.get_xydata()[0]
        before = np.asarray(scene.render(stop - 1))
        after = np.asarray(scene.render(stop))
        pixel = scene.to_pixel(x, y)
    # The path already runs through the marker's place; the "x" adds many pixels there.
    color = style.run_colors(2)[1]
    assert count_near(after, pixel, color) > count_near(before, pixel, color) + 8


@pytest.mark.parametrize(
    ("name", "fmt", "expected"),
    [
        ("a.gif", None, "gif"),
        ("a.MP4", None, "mp4"),
        ("a.txt", "png", "png"),
        ("a.json", None, "json"),
    ],
)
def test_format_of(name, fmt, expected):
    assert export.format_of(name, fmt) == expected


@pytest.mark.parametrize(("name", "fmt"), [("a.txt", None), ("a", None), ("a.gif", "tiff")])
def test_format_of_rejects(name, fmt):
    with pytest.raises(ValueError, match="format"):
        export.format_of(name, fmt)


def test_write_atomic_replaces_the_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    export.write_atomic(target, "new")
    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(export.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        export.write_atomic(tmp_path / "out.gif", b"GIF89a")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("path", ["/proc/nope/x.gif", "/nonexistent-dir/x.gif"])
def test_unwritable_path_is_reported_before_any_work(path):
    with pytest.raises(OSError, match="cannot write"):
        export.check_writable(path)


def test_directory_as_target_is_reported(tmp_path):
    with pytest.raises(OSError, match="directory"):
        export.check_writable(tmp_path)
