"""Export a comparison as an animated GIF, an MP4, a PNG of the final frame, CSV or JSON.

Frames are drawn with matplotlib (Agg) by a hand-written blit loop: the static part (surface
background, axes, faint full loss curves, legend) is rendered once, and each frame only
restores that background and draws what moves (paths, heads, loss curves, cursor, end
markers). ``FuncAnimation.save`` redraws everything per frame and is ~20x slower here. A
worker thread turns each frame into a palette image (GIF) or feeds ffmpeg (MP4) while the
next one is drawn; it also stamps the step counter with Pillow (matplotlib needs ~3 ms to lay
out each new string).

Colours, contour background, axis names, loss view and the "x" of a diverged run come from
:mod:`optviz.style` and :mod:`optviz.figures`, and the run labels from :mod:`optviz.labels`, so
an exported frame looks like the app and names the runs as it does (1:1 contour axes included).

The GIF uses ONE palette for all frames (the colours of the last and first frames plus the run
colours), which keeps a 150-frame 800x600 GIF well under a few MB; the MP4 is H.264/yuv420p
through the ffmpeg binary that ``imageio-ffmpeg`` ships.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from optviz import config, figures, labels, style
from optviz.engine import Trajectory

MAX_WIDTH, MAX_HEIGHT = 3840, 2160
SIZE_PRESETS = {"800x600": (800, 600), "1280x720": (1280, 720), "1920x1080": (1920, 1080)}
TAILS = ("full", "fade")
MAX_GIF_PIXELS = 1_000_000_000  # frames x width x height: ~1 GB of palette images in memory
# FORMATS (name -> Format: extension, mime type, writer, label), the one table of export
# formats the app's Export panel and ``python -m optviz export`` both read, is at the end.

Progress = Callable[[float], None] | None


@dataclass(frozen=True)
class ExportOptions:
    """How an animation looks and plays.

    ``frames`` is an upper bound: frames sample the steps evenly, so a run of fewer steps gets
    ``steps + 1`` frames. ``loop`` is how often a GIF repeats (0 = forever); ``hold_last`` is
    how many seconds the last frame stays before the loop restarts (the GIF's last frame lasts
    longer; the MP4 repeats it).
    """

    width: int = 800
    height: int = 600
    fps: int = 20
    frames: int = 150
    loop: int = 0
    hold_last: float = 1.0
    projection: bool = False
    trajectory_only: bool = False
    tail: str = "full"

    def __post_init__(self) -> None:
        for name, high in (("width", MAX_WIDTH), ("height", MAX_HEIGHT)):
            value = getattr(self, name)
            if not _is_int(value) or not 16 <= value <= high:
                raise ValueError(
                    f"{name} must be a whole number of pixels in [16, {high}], got {value!r}"
                )
        if not _is_int(self.fps) or not 1 <= self.fps <= 60:
            raise ValueError(f"fps must be a whole number in [1, 60], got {self.fps!r}")
        if not _is_int(self.frames) or not 2 <= self.frames <= 1000:
            raise ValueError(f"frames must be a whole number in [2, 1000], got {self.frames!r}")
        if not _is_int(self.loop) or self.loop < 0:
            raise ValueError(f"loop must be a whole number >= 0 (0 = forever), got {self.loop!r}")
        hold = self.hold_last
        if isinstance(hold, bool) or not isinstance(hold, int | float) or not 0 <= hold <= 60:
            raise ValueError(f"hold_last must be a number of seconds in [0, 60], got {hold!r}")
        if self.tail not in TAILS:
            raise ValueError(f"tail must be one of {', '.join(TAILS)}, got {self.tail!r}")
        for name in ("projection", "trajectory_only"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_size(text: str) -> tuple[int, int]:
    """``"800x600"`` -> (800, 600); raises ValueError with the expected form."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"size must look like 800x600, got {text!r}") from None
    return width, height


# ---- the scene: static background once, moving artists per frame ----------------------------


def _rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def _frame_steps(steps: int, frames: int) -> np.ndarray:
    """The step shown by each frame: evenly spaced from 0 to ``steps``, no repeats."""
    n = min(frames, steps + 1)
    return np.unique(np.round(np.linspace(0, steps, n)).astype(np.int64))


class _Scene:
    """One matplotlib figure of the comparison and its moving artists."""

    def __init__(
        self, comparison: config.Comparison, trajs: Sequence[Trajectory], opts: ExportOptions
    ) -> None:
        # A Figure on an Agg canvas, no pyplot: no global backend switch, safe in app threads.
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        if len(trajs) != len(comparison.runs):
            raise ValueError(f"{len(trajs)} trajectories for {len(comparison.runs)} runs")
        self.trajs = list(trajs)
        self.opts = opts
        self.surface = comparison.surface_obj()
        self.labels = labels.run_labels(comparison.runs)
        self.colors = style.run_colors(len(trajs), opts.projection)
        self.steps = max(t.steps for t in trajs)
        proj = opts.projection
        # Text and lines scale with the image, so 1920x1080 looks like 800x600, only sharper.
        dpi = 100 * min(opts.width / 800, opts.height / 600)
        self.font = 15.0 if proj else 10.0
        self.line = style.LINE_WIDTH[proj] * 0.72
        self.marker = style.MARKER_SIZE[proj] * 0.8
        self.fig = Figure(figsize=(opts.width / dpi, opts.height / dpi), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self.fig.set_layout_engine("constrained", h_pad=0.04, w_pad=0.06)
        self.moving: list = []
        if opts.trajectory_only:
            self.ax = self.fig.add_subplot(1, 1, 1)
            self.loss_ax = None
        else:
            self.ax, self.loss_ax = self.fig.subplots(1, 2, width_ratios=(1.25, 1))
        self._draw_contour()
        if self.loss_ax is not None:
            self._draw_loss()
        self._draw_titles_and_legend()
        # Animated artists are left out of canvas.draw(): the background holds the rest.
        for artist in self.moving + [a for end in self.ends if end for a in end[1:]]:
            artist.set_animated(True)
        self.canvas.draw()  # static part, laid out once
        self.fig.set_layout_engine("none")
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)

    # -- static parts --

    def _text_style(self) -> dict:
        from matplotlib import patheffects

        return {"path_effects": [patheffects.withStroke(linewidth=3, foreground="white")]}

    def _draw_contour(self) -> None:
        ax, surf = self.ax, self.surface
        (x0, x1), (y0, y1) = surf.bounds
        # About the axes' pixel size (rounded, so sizes share the cached image).
        w = 100 * math.ceil(self.opts.width * (0.55 if self.loss_ax is not None else 0.9) / 100)
        h = 100 * math.ceil(self.opts.height * 0.85 / 100)
        image = Image.open(io.BytesIO(style.surface_png(surf, w, h))).convert("RGB")
        ax.imshow(np.asarray(image), extent=(x0, x1, y0, y1), origin="upper", aspect="auto")
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        # 1:1 data units, as the app draws it: a 30° ravine keeps its 30°.
        ax.set_aspect("equal", adjustable="box")
        xname, yname = figures.axis_names(surf)  # the app's names: x, y or w, b, …
        ax.set_xlabel(xname, fontsize=self.font)
        ax.set_ylabel(yname, fontsize=self.font)
        ax.tick_params(labelsize=self.font * 0.85)
        ms = self.marker
        for p in surf.minima:
            ax.plot(p.x, p.y, "*", ms=ms * 1.3, color="white", mec="black", mew=1, zorder=3)
        for p in surf.saddles:
            ax.plot(p.x, p.y, "D", ms=ms * 0.8, color="white", mec="black", mew=1, zorder=3)
        sx, sy = self.trajs[0].xy[0]
        ax.plot(sx, sy, "o", ms=ms, color="white", mec="black", mew=1.5, zorder=3)

        span = max(x1 - x0, y1 - y0)
        self.limits = (x0, x1, y0, y1)
        self.paths, self.heads, self.ends = [], [], []
        ends = figures.end_markers(self.surface, self.trajs)  # placed as the app places them
        for traj, color, end in zip(self.trajs, self.colors, ends, strict=True):
            # Keep far-off diverging points finite and bounded for Agg; the view clips them.
            xy = np.clip(traj.valid_xy, -1e4 * span, 1e4 * span)
            if self.opts.tail == "fade":
                from matplotlib.collections import LineCollection

                path = LineCollection([], linewidths=self.line, capstyle="round", zorder=4)
                ax.add_collection(path, autolim=False)
            else:
                (path,) = ax.plot([], [], "-", lw=self.line, color=color, zorder=4)
            path.set_clip_on(True)
            (head,) = ax.plot(
                [], [], "o", ms=self.marker, color=color, mec="white", mew=1.2, zorder=6
            )
            self.paths.append((path, xy, color))
            self.heads.append(head)
            self.ends.append(None if end is None else self._end_marker(end, color))
            self.moving += [path, head]

    def _end_marker(self, end: figures.EndMarker, color: str) -> tuple:
        """The "x" and "diverged at step k" text a diverged or escaped run shows from its last
        step on, as (last step, marker, text), where :func:`optviz.figures.end_markers` puts
        them (the app's rule)."""
        x, y, right, top = end.x, end.y, end.right, end.top
        dy = 8 + end.level * 1.5 * self.font * 0.95
        (mark,) = self.ax.plot(
            [x], [y], "x", ms=self.marker * 1.2, mew=self.line * 1.3, color=color, zorder=7
        )
        text = self.ax.annotate(
            end.text,
            (x, y),
            xytext=(-8 if right else 8, -dy if top else dy),
            textcoords="offset points",
            ha="right" if right else "left",
            va="top" if top else "bottom",
            color=color,
            fontsize=self.font * 0.95,
            fontweight="bold",
            zorder=8,
            **self._text_style(),
        )
        return end.step, mark, text

    def _draw_loss(self) -> None:
        """The app's loss view: f − f* on a log axis when f* is known, else f linearly."""
        ax = self.loss_ax
        curves, log, title = figures.loss_view(self.surface, self.trajs)
        lo, hi = figures.loss_range(curves, log)
        self.loss_lines = []
        for curve, color in zip(curves, self.colors, strict=True):
            curve = np.clip(curve, -figures.LOSS_CAP, figures.LOSS_CAP)
            steps = np.arange(curve.size)
            ax.plot(steps, curve, "-", lw=self.line * 0.6, color=color, alpha=0.25)
            (line,) = ax.plot([], [], "-", lw=self.line, color=color)
            self.loss_lines.append((line, steps, curve))
            self.moving.append(line)
        self.cursor = ax.axvline(0, color="#333333", lw=1.2, ls="--")
        self.moving.append(self.cursor)
        ax.set_xlim(0, max(self.steps, 1))
        if log:
            ax.set_yscale("log")
            ax.set_ylim(10**lo, 10**hi)
        else:
            ax.set_ylim(lo, hi)
        ax.set_xlabel("step", fontsize=self.font)
        ax.set_ylabel(title, fontsize=self.font)
        ax.tick_params(labelsize=self.font * 0.85)
        ax.grid(True, alpha=0.3)

    def _draw_titles_and_legend(self) -> None:
        from matplotlib.lines import Line2D

        # Title left, step counter right: they never collide, even with projection fonts.
        self.fig.suptitle(
            self.surface.title, x=0.01, ha="left", fontsize=self.font * 1.35, fontweight="bold"
        )
        # The step counter is stamped by Pillow in the encoding thread (see :meth:`finish`).
        from matplotlib import font_manager

        mono = font_manager.findfont(font_manager.FontProperties(family="monospace"))
        px_per_pt = self.fig.dpi / 72
        self.counter_font = ImageFont.truetype(mono, round(self.font * 1.1 * px_per_pt))
        self.counter_xy = (self.fig.bbox.width * 0.99, self.fig.bbox.height * 0.012)
        handles = [
            Line2D([], [], color=c, lw=self.line * 1.3, marker="o", ms=self.marker * 0.7)
            for c in self.colors
        ]
        renderer = self.canvas.get_renderer()
        # As many columns as fit the width: the legend sits below the plots, never on a path.
        for ncol in range(min(len(handles), 4), 0, -1):
            legend = self.fig.legend(
                handles,
                self.labels,
                loc="outside lower center",
                ncol=ncol,
                fontsize=self.font,
                frameon=False,
                handlelength=1.6,
                columnspacing=1.5,
            )
            if ncol == 1 or legend.get_window_extent(renderer).width < 0.97 * self.fig.bbox.width:
                break
            legend.remove()

    # -- per frame --

    def update(self, step: int) -> None:
        """Set every moving artist to show ``step``."""
        for (path, xy, color), head in zip(self.paths, self.heads, strict=True):
            k = min(step, xy.shape[0] - 1)
            if self.opts.tail == "fade":
                n = max(8, self.steps // 6)
                seg_xy = xy[max(0, k - n) : k + 1]
                segments = np.stack([seg_xy[:-1], seg_xy[1:]], axis=1)
                rgba = np.tile(np.array([*_rgb(color), 255], float) / 255, (len(segments), 1))
                rgba[:, 3] = np.linspace(0.05, 1.0, len(segments)) if len(segments) else 1
                path.set_segments(segments)
                path.set_color(rgba)
            else:
                path.set_data(xy[: k + 1, 0], xy[: k + 1, 1])
            head.set_data(xy[k : k + 1, 0], xy[k : k + 1, 1])
        if self.loss_ax is not None:
            for line, steps, loss in self.loss_lines:
                line.set_data(steps[: step + 1], loss[: step + 1])
            self.cursor.set_xdata([step, step])

    @property
    def size(self) -> tuple[int, int]:
        return int(self.fig.bbox.width), int(self.fig.bbox.height)

    def rgba(self, step: int) -> bytes:
        """The RGBA pixels of the frame showing ``step`` (a copy, safe to hand to a thread)."""
        self.update(step)
        self.canvas.restore_region(self.background)
        for artist in self.moving:
            self.fig.draw_artist(artist)
        for end in self.ends:
            if end is not None and step >= end[0]:
                self.fig.draw_artist(end[1])
                self.fig.draw_artist(end[2])
        return bytes(self.canvas.buffer_rgba())

    def finish(self, rgba: bytes, step: int) -> Image.Image:
        """The RGB frame from :meth:`rgba`'s pixels, with the step counter (thread-safe)."""
        frame = Image.frombuffer("RGBA", self.size, rgba).convert("RGB")
        counter = f"step {step:>{len(str(self.steps))}}/{self.steps}"
        ImageDraw.Draw(frame).text(
            self.counter_xy, counter, font=self.counter_font, fill=(0, 0, 0), anchor="ra"
        )
        return frame

    def render(self, step: int) -> Image.Image:
        """The RGB image of the frame showing ``step``."""
        return self.finish(self.rgba(step), step)

    def to_pixel(self, x: float, y: float) -> tuple[int, int]:
        """(column, row) of the data point (x, y) of the contour axes in a frame."""
        px, py = self.ax.transData.transform((x, y))
        return int(round(px)), int(round(self.fig.bbox.height - py))

    def close(self) -> None:
        self.fig.clear()


@contextmanager
def _scene(
    comparison: config.Comparison, trajs: Sequence[Trajectory], opts: ExportOptions
) -> Iterator[_Scene]:
    """A laid-out scene, closed afterwards."""
    scene = _Scene(comparison, trajs, opts)
    try:
        yield scene
    finally:
        scene.close()


def contour_pixel(
    comparison: config.Comparison,
    trajs: Sequence[Trajectory],
    opts: ExportOptions,
    x: float,
    y: float,
) -> tuple[int, int]:
    """Pixel (column, row) where the data point (x, y) of the contour view lands in a frame."""
    with _scene(comparison, trajs, opts) as scene:
        return scene.to_pixel(x, y)


def _render_all(
    scene: _Scene,
    opts: ExportOptions,
    progress: Progress,
    share: float,
    on_frame: Callable[[Image.Image], object],
) -> list:
    """Render every frame and return ``on_frame(frame)`` of each.

    ``on_frame`` runs in a worker thread, so encoding overlaps with drawing (Pillow and ffmpeg
    release the GIL); ``progress`` goes from 0 to ``share``.
    """
    frame_steps = _frame_steps(scene.steps, opts.frames)

    def finish(rgba: bytes, step: int) -> object:
        return on_frame(scene.finish(rgba, step))

    with ThreadPoolExecutor(1) as pool:
        pending = []
        for i, step in enumerate(frame_steps):
            pending.append(pool.submit(finish, scene.rgba(int(step)), int(step)))
            if len(pending) > 3:  # bound the raw frames waiting for the encoder
                pending[-4].result()
            if progress is not None:
                progress(share * (i + 1) / len(frame_steps))
        return [p.result() for p in pending]


# ---- encoders -------------------------------------------------------------------------------


def _shared_palette(scene: _Scene) -> Image.Image:
    """One palette for all frames: the run colours exactly, the rest from the first and last
    frames (the background and every path at its longest)."""
    first, last = scene.render(0), scene.render(scene.steps)
    composite = Image.new("RGB", (first.width, 2 * first.height))
    composite.paste(last, (0, 0))
    composite.paste(first, (0, first.height))
    reserved = [_rgb(c) for c in scene.colors]
    reserved += [(255, 255, 255), (0, 0, 0)]
    quantized = composite.quantize(colors=256 - len(reserved), method=Image.Quantize.MEDIANCUT)
    used = len(quantized.getcolors(256) or ()) or 256 - len(reserved)
    # Reserved colours first: Pillow's palette lookup favours earlier entries on near-ties.
    entries = [v for rgb in reserved for v in rgb] + quantized.getpalette()[: 3 * used]
    palette = Image.new("P", (1, 1))
    palette.putpalette(entries + entries[:3] * (256 - len(entries) // 3))
    return palette


def check_gif_size(opts: ExportOptions) -> None:
    """Raise ValueError if the GIF's frames would not fit in memory (Pillow holds them all)."""
    pixels = opts.frames * opts.width * opts.height
    if pixels > MAX_GIF_PIXELS:
        most = MAX_GIF_PIXELS // (opts.width * opts.height)
        raise ValueError(
            f"frames: a GIF of {opts.frames} frames at {opts.width}x{opts.height} is too large; "
            f"use at most {most} frames at this size, or MP4"
        )


def _gif_delay_ms(ms: float) -> int:
    """GIF delays are whole hundredths of a second: 30 fps plays at 1/0.03 s, not 1/0.0333 s.
    Browsers also slow delays under 20 ms (fps above 50) down; use MP4 for those."""
    return 10 * max(1, round(ms / 10))


def render_gif(
    comparison: config.Comparison,
    trajs: Sequence[Trajectory],
    opts: ExportOptions,
    progress: Progress = None,
) -> bytes:
    """Animated GIF: one shared palette, 1000/fps ms per frame, the last held ``hold_last`` s."""
    check_gif_size(opts)
    with _scene(comparison, trajs, opts) as scene:
        palette = _shared_palette(scene)

        def quantize(frame: Image.Image) -> Image.Image:
            return frame.quantize(palette=palette, dither=Image.Dither.NONE)

        images = _render_all(scene, opts, progress, 0.85, quantize)
    durations = [_gif_delay_ms(1000 / opts.fps)] * len(images)
    durations[-1] = _gif_delay_ms(1000 / opts.fps + 1000 * opts.hold_last)
    buf = io.BytesIO()
    images[0].save(
        buf,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=durations,
        loop=opts.loop,
    )
    if progress is not None:
        progress(1.0)
    return buf.getvalue()


def render_mp4(
    comparison: config.Comparison,
    trajs: Sequence[Trajectory],
    opts: ExportOptions,
    progress: Progress = None,
) -> bytes:
    """H.264 MP4 (yuv420p) at ``fps``; the last frame repeats for ``hold_last`` seconds.

    yuv420p needs even dimensions: an odd width or height gets one white pixel column/row.
    """
    import imageio_ffmpeg

    size = (opts.width + opts.width % 2, opts.height + opts.height % 2)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "export.mp4")
        writer = imageio_ffmpeg.write_frames(
            path,
            size,
            fps=opts.fps,
            codec="libx264",
            pix_fmt_out="yuv420p",
            macro_block_size=1,
            quality=7,
            output_params=["-movflags", "+faststart"],
        )
        writer.send(None)

        last: list[bytes] = []

        def send(frame: Image.Image) -> None:
            if frame.size != size:
                padded = Image.new("RGB", size, "white")
                padded.paste(frame)
                frame = padded
            last[:] = [frame.tobytes()]
            writer.send(last[0])

        try:
            with _scene(comparison, trajs, opts) as scene:
                _render_all(scene, opts, progress, 0.95, send)
            for _ in range(round(opts.hold_last * opts.fps)):
                writer.send(last[0])
        finally:
            writer.close()
        data = Path(path).read_bytes()
    if progress is not None:
        progress(1.0)
    return data


def render_png(
    comparison: config.Comparison,
    trajs: Sequence[Trajectory],
    opts: ExportOptions,
    progress: Progress = None,
) -> bytes:
    """PNG of the final frame at ``opts.width`` x ``opts.height``."""
    with _scene(comparison, trajs, opts) as scene:
        frame = scene.render(scene.steps)
    buf = io.BytesIO()
    frame.save(buf, format="PNG")
    if progress is not None:
        progress(1.0)
    return buf.getvalue()


# ---- data -----------------------------------------------------------------------------------

CSV_COLUMNS = ("run", "optimizer", "label", "step", "x", "y", "loss", "grad_norm")


def trajectories_csv(comparison: config.Comparison, trajs: Sequence[Trajectory]) -> str:
    """One row per (run, step) over the valid rows: run index, optimizer, label, step, x, y,
    loss, ‖∇f‖ (the gradient the optimizer used there). Floats round-trip exactly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    names = labels.run_labels(comparison.runs)  # the app's legend text, "#k" included
    for i, (run, traj) in enumerate(zip(comparison.runs, trajs, strict=True)):
        label = names[i]
        n = traj.stopped_at + 1
        grad_norm = np.hypot(traj.grad[:n, 0], traj.grad[:n, 1])
        for k in range(n):
            x, y = traj.xy[k]
            writer.writerow(
                [
                    i,
                    run.optimizer,
                    label,
                    k,
                    repr(float(x)),
                    repr(float(y)),
                    repr(float(traj.loss[k])),
                    repr(float(grad_norm[k])),
                ]
            )
    return out.getvalue()


def _finite_list(values: np.ndarray) -> list:
    return [float(v) if math.isfinite(v) else None for v in values.tolist()]


def comparison_json(comparison: config.Comparison, trajs: Sequence[Trajectory]) -> str:
    """The comparison (its permalink query and a structured form) and every trajectory."""
    c = comparison
    runs = [
        {
            "optimizer": r.optimizer,
            "label": label,
            "options": r.resolved,
            "schedule": r.schedule,
        }
        for r, label in zip(c.runs, labels.run_labels(c.runs), strict=True)
    ]
    doc = {
        "query": config.to_query(c),
        "comparison": {
            "surface": c.surface,
            "surface_params": c.surface_params,
            "start": list(c.start_point()),
            "steps": c.steps,
            "seed": c.seed,
            "projection": c.projection,
            "runs": runs,
        },
        "trajectories": [
            {
                "optimizer": t.optimizer,
                "status": t.status,
                "message": t.message,
                "stopped_at": t.stopped_at,
                "x": _finite_list(t.valid_xy[:, 0]),
                "y": _finite_list(t.valid_xy[:, 1]),
                "loss": _finite_list(t.valid_loss),
                "grad_norm": _finite_list(np.hypot(*t.grad[: t.stopped_at + 1].T)),
            }
            for t in trajs
        ],
    }
    return json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False, default=_json_default)


def _json_default(value: object) -> object:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


# ---- files ----------------------------------------------------------------------------------


def format_of(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The export format: ``fmt`` if given, else the file suffix; ValueError if unknown."""
    fmt = (fmt or Path(path).suffix.lstrip(".")).lower()
    by_extension = {f.extension: f.name for f in FORMATS.values()}
    fmt = fmt if fmt in FORMATS else by_extension.get(fmt, fmt)
    if fmt not in FORMATS:
        raise ValueError(
            f"cannot tell the format of {str(path)!r}: use a suffix or --format among "
            f"{', '.join(FORMATS)}"
        )
    return fmt


def check_writable(path: str | os.PathLike) -> None:
    """Raise OSError with a clear message if ``path`` cannot be written (checked before work)."""
    directory = Path(path).parent
    if not directory.is_dir():
        raise OSError(f"cannot write {str(path)!r}: directory {str(directory)!r} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OSError(f"cannot write {str(path)!r}: directory {str(directory)!r} is not writable")
    if Path(path).is_dir():
        raise OSError(f"cannot write {str(path)!r}: it is a directory")


def write_atomic(path: str | os.PathLike, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename,
    so a failure never leaves a partial file."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


Writer = Callable[[config.Comparison, Sequence[Trajectory], ExportOptions, Progress], bytes | str]


@dataclass(frozen=True)
class Format:
    """One export format: its file extension and MIME type, the words the app's picker shows,
    its writer, and a check of the options it cannot take (run before any work)."""

    name: str
    extension: str
    mime: str
    label: str
    what: str  # what the file holds, for help texts: "an animated GIF"
    write: Writer
    check: Callable[[ExportOptions], None] | None = None
    animated: bool = False  # frames, fps, loop and hold shape it


def _data(writer: Callable[[config.Comparison, Sequence[Trajectory]], str]) -> Writer:
    def write(c: config.Comparison, trajs: Sequence[Trajectory], *_: object) -> str:
        return writer(c, trajs)

    return write


# The formats, in the order the app offers them. Adding a format is one entry here.
FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "gif",
            "gif",
            "image/gif",
            "GIF",
            "an animated GIF",
            render_gif,
            check_gif_size,
            animated=True,
        ),
        Format("mp4", "mp4", "video/mp4", "MP4", "an H.264 MP4", render_mp4, animated=True),
        Format("png", "png", "image/png", "PNG", "a PNG of the final frame", render_png),
        Format(
            "csv",
            "csv",
            "text/csv",
            "CSV",
            "a CSV of the trajectories",
            _data(trajectories_csv),
        ),
        Format(
            "json",
            "json",
            "application/json",
            "JSON",
            "a JSON of configuration and trajectories",
            _data(comparison_json),
        ),
    )
}


def get_format(fmt: str) -> Format:
    """The format named ``fmt``; ValueError naming the known ones otherwise."""
    try:
        return FORMATS[fmt]
    except (KeyError, TypeError):
        raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}") from None


def in_words(attribute: str) -> str:
    """Every format's ``attribute`` as one list in words: "GIF, MP4, PNG, CSV or JSON"."""
    items = [str(getattr(f, attribute)) for f in FORMATS.values()]
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else "".join(items)


def check(fmt: str, opts: ExportOptions) -> None:
    """Raise ValueError if format ``fmt`` cannot be written with ``opts`` (before any work)."""
    f = get_format(fmt)
    if f.check is not None:
        f.check(opts)


def file_name(comparison: config.Comparison, fmt: str) -> str:
    """The file name the app offers for ``comparison`` in format ``fmt``."""
    return f"optviz-{comparison.surface}.{get_format(fmt).extension}"


def export(
    comparison: config.Comparison,
    trajs: Sequence[Trajectory],
    fmt: str,
    opts: ExportOptions,
    progress: Progress = None,
) -> bytes | str:
    """The file content of ``comparison`` in format ``fmt`` (one of :data:`FORMATS`)."""
    return get_format(fmt).write(comparison, trajs, opts, progress)
