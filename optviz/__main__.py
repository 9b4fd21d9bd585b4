"""Command line: ``python -m optviz warm`` and ``python -m optviz export ...``.

``export`` writes the same GIF/MP4/PNG/CSV/JSON the app's Export panel offers, for a preset, a
permalink query string copied from the app, or options given here, so a lecturer can script
every animation of a course.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import urllib.parse
from collections.abc import Sequence

EXAMPLES = """\
examples:
  python -m optviz export --preset ravine_zigzag -o zigzag.gif
  python -m optviz export --query "surface=ravine&o0=adam&o0.lr=0.01&o1=gd&o1.lr=0.05" -o r.mp4
  python -m optviz export --query "http://localhost:8501/?surface=saddle&o0=momentum" -o s.png
  python -m optviz export --surface rosenbrock --start -1.5,2 --steps 1000 \\
      --optimizer gd:lr=0.001 --optimizer adam:lr=0.02,beta1=0.9 -o rosen.gif --size 1280x720
  python -m optviz export --preset ravine_zigzag -o zigzag.csv
  python -m optviz export --formula '(1-x)^2 + 100*(y-x^2)^2' --bounds -2,2,-1,3 \
      --start -1.5,2 --optimizer bfgs --optimizer adam:lr=0.05 -o own.gif

Explicit options (--surface, --formula, --bounds, --surface-param, --optimizer, --start, --steps,
--seed) override
the preset or query; --optimizer replaces all of its runs. Exit status 2 on bad options or an
unwritable output path; nothing is written then.
"""


VALUE_MAY_START_WITH_DASH = ("--start", "--size", "--formula", "--bounds")


class UsageError(Exception):
    """A bad option: reported on stderr with exit status 2."""


def _parser() -> argparse.ArgumentParser:
    from optviz import export

    parser = argparse.ArgumentParser(
        prog="python -m optviz",
        description="optviz: gradient-based optimizers on 2-D loss surfaces.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser(
        "warm",
        help="load (or compile) every Numba kernel so the app's first click does not wait",
        description="Load (or compile, the first time) every Numba kernel; prints the time.",
    )
    ex = sub.add_parser(
        "export",
        help=f"write a comparison as {export.in_words('label')}",
        description=f"Write a comparison as {export.in_words('what')}.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = ex.add_argument_group("what to export (default: the app's default comparison)")
    pick = source.add_mutually_exclusive_group()
    pick.add_argument("--preset", metavar="NAME", help="a preset by name (see optviz.presets)")
    pick.add_argument(
        "--query",
        metavar="QUERY",
        help="the app's permalink: a query string 'surface=ravine&o0=adam&o0.lr=0.01' or a "
        "full URL; ignored parameters are listed on stderr",
    )
    source.add_argument("--surface", metavar="NAME", help="surface name, e.g. ravine, rosenbrock")
    source.add_argument(
        "--formula",
        metavar="F",
        help="your own surface f(x, y), e.g. 'x^2 + 10*sin(y)' (numbers, x, y, pi, e, + - * / ^, "
        "sin cos tan exp log sqrt tanh abs min max pow); implies --surface formula",
    )
    source.add_argument(
        "--bounds",
        metavar="X0,X1,Y0,Y1",
        help="plot bounds of --formula, e.g. -3,3,-5,5 (default: -3,3,-5,5)",
    )
    source.add_argument(
        "--surface-param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a surface parameter, e.g. kappa=50 (repeatable)",
    )
    source.add_argument(
        "--optimizer",
        action="append",
        default=[],
        metavar="NAME[:key=value,...]",
        help="a run, e.g. adam:lr=0.01,beta1=0.8 or momentum:lr=0.05,sched=step,"
        "sched.step_size=100 (repeatable: one run each)",
    )
    source.add_argument("--start", metavar="X,Y", help="common start point, e.g. -2.5,1")
    source.add_argument("--steps", type=int, metavar="N", help="number of steps (1-5000)")
    source.add_argument("--seed", type=int, metavar="N", help="seed of mini-batches and noise")

    out = ex.add_argument_group("output")
    out.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write")
    out.add_argument(
        "--format",
        choices=list(export.FORMATS),
        help="file format (default: from the suffix of FILE)",
    )
    defaults = export.ExportOptions()
    out.add_argument(
        "--size",
        default=f"{defaults.width}x{defaults.height}",
        metavar="WxH",
        help=f"image size in pixels, up to {export.MAX_WIDTH}x{export.MAX_HEIGHT}; e.g. "
        f"{', '.join(export.SIZE_PRESETS)} (default: %(default)s)",
    )
    out.add_argument(
        "--fps",
        type=int,
        default=defaults.fps,
        help="frames per second, 1-60; GIF delays are whole 1/100 s and browsers slow GIFs "
        "above 50 fps, so prefer MP4 there (default: %(default)s)",
    )
    out.add_argument(
        "--frames",
        type=int,
        default=defaults.frames,
        help="number of frames, 2-1000, spread evenly over the steps (at most steps+1); for a "
        "GIF, frames x width x height <= 10^9, e.g. 482 frames at 1920x1080 "
        "(default: %(default)s)",
    )
    out.add_argument(
        "--loop",
        type=int,
        default=defaults.loop,
        help="GIF repeats, 0 = forever (default: %(default)s)",
    )
    out.add_argument(
        "--hold",
        type=float,
        default=defaults.hold_last,
        metavar="SECONDS",
        help="how long the last frame stays (default: %(default)s)",
    )
    out.add_argument(
        "--tail",
        choices=export.TAILS,
        default=defaults.tail,
        help="full paths or fading tails (default: %(default)s)",
    )
    out.add_argument(
        "--trajectory-only",
        action="store_true",
        help="only the contour view, no loss curves",
    )
    out.add_argument(
        "--projection",
        action="store_true",
        help="projection styling: larger text, thicker lines, projector palette (also on when "
        "the query or preset says so)",
    )
    out.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    return parser


def _parse_optimizer(index: int, text: str) -> dict[str, str]:
    """``adam:lr=0.01,beta1=0.8`` -> {"o0": "adam", "o0.lr": "0.01", "o0.beta1": "0.8"}."""
    name, _, rest = text.partition(":")
    query = {f"o{index}": name.strip()}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"--optimizer {text!r}: expected NAME:key=value,key=value")
        query[f"o{index}.{key.strip()}"] = value.strip()
    return query


def _query_of(text: str) -> dict[str, list[str]]:
    """A permalink query string or full URL, as ``parse_qs`` gives it."""
    parsed = urllib.parse.urlsplit(text)
    query = parsed.query if parsed.scheme or parsed.netloc or "?" in text else text
    return urllib.parse.parse_qs(query.lstrip("?"), keep_blank_values=True)


def comparison_from_args(args: argparse.Namespace) -> object:
    """The Comparison the export options describe; query notices go to stderr.

    Raises UsageError for a bad preset or explicit option.
    """
    from optviz import config

    if args.query is not None:
        comparison, notices = config.from_query(_query_of(args.query))
        for notice in notices:
            print(f"optviz: notice: {notice}", file=sys.stderr)
    elif args.preset is not None:
        from optviz import presets

        try:
            comparison = presets.get(args.preset).comparison
        except ValueError as e:
            raise UsageError(str(e)) from None
    else:
        comparison = config.Comparison()

    explicit = (args.surface, args.formula, args.bounds, args.start, args.steps, args.seed)
    if all(v is None for v in explicit) and not args.optimizer and not args.surface_param:
        return comparison
    # Explicit options go through the permalink codec (the one validator); here anything it
    # would ignore is an error, since the user typed it.
    query = config.to_query(comparison)
    if args.surface is not None:
        query = {k: v for k, v in query.items() if not k.startswith("sp.") and k != "start"}
        query["surface"] = args.surface
    if args.formula is not None:
        if args.surface not in (None, "formula"):
            raise UsageError(f"--formula draws your own surface, not --surface {args.surface}")
        if args.surface is None and query.get("surface") != "formula":
            query = {k: v for k, v in query.items() if not k.startswith("sp.") and k != "start"}
        query["surface"] = "formula"
        query["formula"] = args.formula
    if args.bounds is not None:
        if query.get("surface") != "formula":
            raise UsageError("--bounds goes with --formula (other surfaces have fixed bounds)")
        parts = args.bounds.split(",")
        if len(parts) != 4:
            raise UsageError(f"--bounds {args.bounds!r}: expected X0,X1,Y0,Y1")
        for key, text in zip(("xmin", "xmax", "ymin", "ymax"), parts, strict=True):
            query[f"sp.{key}"] = text.strip()
    for item in args.surface_param:
        key, eq, value = item.partition("=")
        if not eq:
            raise UsageError(f"--surface-param {item!r}: expected KEY=VALUE")
        query[f"sp.{key.strip()}"] = value.strip()
    if args.start is not None:
        query["start"] = args.start
    if args.steps is not None:
        query["steps"] = str(args.steps)
    if args.seed is not None:
        query["seed"] = str(args.seed)
    if args.optimizer:
        query = {k: v for k, v in query.items() if not (k[:1] == "o" and k[1:2].isdigit())}
        if len(args.optimizer) > config.MAX_RUNS:
            raise UsageError(f"at most {config.MAX_RUNS} --optimizer runs")
        for i, text in enumerate(args.optimizer):
            query.update(_parse_optimizer(i, text))
    comparison, notices = config.from_query(query)
    if notices:
        raise UsageError("; ".join(n.removeprefix("ignored ") for n in notices))
    return comparison


def _export(args: argparse.Namespace) -> int:
    from optviz import config, export

    try:
        fmt = export.format_of(args.output, args.format)
        width, height = export.parse_size(args.size)
        comparison = comparison_from_args(args)
        opts = export.ExportOptions(
            width=width,
            height=height,
            fps=args.fps,
            frames=args.frames,
            loop=args.loop,
            hold_last=args.hold,
            projection=args.projection or comparison.projection,
            trajectory_only=args.trajectory_only,
            tail=args.tail,
        )
        export.check(fmt, opts)
        export.check_writable(args.output)
    except (ValueError, UsageError, OSError) as e:
        print(f"optviz export: error: {e}", file=sys.stderr)
        return 2
    if opts.projection != comparison.projection:
        comparison = dataclasses.replace(comparison, projection=opts.projection)

    t0 = time.perf_counter()
    trajs = config.run_comparison(comparison)
    data = export.export(comparison, trajs, fmt, opts)
    try:
        export.write_atomic(args.output, data)
    except OSError as e:
        print(f"optviz export: error: cannot write {args.output!r}: {e}", file=sys.stderr)
        return 2
    if not args.quiet:
        size = len(data.encode() if isinstance(data, str) else data) / 1e6
        elapsed = time.perf_counter() - t0
        print(f"wrote {args.output} ({fmt}, {size:.2f} MB) in {elapsed:.2f} s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # "--start -1.5,2" and "--size -3x4": a value starting with "-" is still a value here.
    for i in range(len(argv) - 2, -1, -1):
        if argv[i] in VALUE_MAY_START_WITH_DASH and argv[i + 1].startswith("-"):
            argv[i : i + 2] = [f"{argv[i]}={argv[i + 1]}"]
    args = _parser().parse_args(argv)
    if args.command == "warm":
        import optviz

        t0 = time.perf_counter()
        optviz.warm()
        print(f"optviz kernels ready in {time.perf_counter() - t0:.2f} s")
        return 0
    return _export(args)


if __name__ == "__main__":
    sys.exit(main())
