"""Export benchmark: a 150-frame 800x600 GIF (and MP4) of 4 optimizers over 1000 steps.

Target: the GIF in under 3 s on the 2-core project machine and a few MB at most. Prints the
first export in a fresh process (matplotlib fonts, the surface background) and the best of
the following ones (what the app's second click costs), as wall time and process CPU time
(the CPU time of the encoder threads included; ffmpeg's own process not).

    .venv/bin/python bench/export.py [--repeat 3] [--out /tmp]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from optviz import config, export  # noqa: E402

COMPARISON = config.Comparison(
    surface="rosenbrock",
    steps=1000,
    runs=(
        config.RunSpec("gd", {"lr": 0.001}),
        config.RunSpec("momentum", {"lr": 0.001, "beta1": 0.9}),
        config.RunSpec("adam", {"lr": 0.02}),
        config.RunSpec("rmsprop", {"lr": 0.01}),
    ),
)


def timed(render, trajs, opts, repeat):
    times, cpu, data = [], [], b""
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        data = render(COMPARISON, trajs, opts)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return times, cpu, data


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="also write the files here")
    args = parser.parse_args()

    trajs = config.run_comparison(COMPARISON)
    opts = export.ExportOptions(width=800, height=600, frames=150, fps=20)
    print(f"{len(trajs)} optimizers x {COMPARISON.steps} steps, {opts.frames} frames 800x600")
    for name, render in (("gif", export.render_gif), ("mp4", export.render_mp4)):
        times, cpu, data = timed(render, trajs, opts, args.repeat)
        later = f"{min(times[1:]):.2f} s (CPU {min(cpu[1:]):.2f} s)" if len(times) > 1 else "-"
        print(
            f"{name}: first {times[0]:.2f} s (CPU {cpu[0]:.2f} s), then best {later}; "
            f"{len(data) / 1e6:.2f} MB ({len(data) / opts.frames / 1e3:.1f} kB/frame)"
        )
        if args.out:
            (args.out / f"bench.{name}").write_bytes(data)
    for size in ((1280, 720), (1920, 1080)):
        big = export.ExportOptions(width=size[0], height=size[1], frames=150)
        times, cpu, data = timed(export.render_gif, trajs, big, 1)
        print(
            f"gif {size[0]}x{size[1]}: {times[0]:.2f} s (CPU {cpu[0]:.2f} s), "
            f"{len(data) / 1e6:.2f} MB"
        )


if __name__ == "__main__":
    main()
