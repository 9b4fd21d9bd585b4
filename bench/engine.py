"""Engine benchmark (a script, not a test): ``make bench`` or ``python bench/engine.py``.

Measures, in one run and on the same problem (Adam on Rosenbrock from (−1.5, 2), torch's
defaults η = 1e-3, β₁ = 0.9, β₂ = 0.999, ε = 1e-8):

- steps/s of one trajectory through ``optviz.run`` (the Numba kernel plus the Python wrapper),
  of the kernel alone, of a plain NumPy loop of the same update on 2-element arrays, of a
  pure-Python float loop and of ``torch.optim.Adam`` (float64, closed-form gradient put into
  ``p.grad``) when torch is importable; each the best of a few repeats;
- batched steps/s of ``optviz.run_batch`` on all cores, 10⁵ runs × 500 steps, and a check that
  a sample of its runs ends where ``optviz.run`` ends;
- the first call in a fresh process, with the on-disk Numba cache warm and with an empty one
  (a cold compile);
- how many signatures the kernels compiled (one each is the design).

Every loop's final point is compared with the kernel's, so the contenders do the same work.
Timings are best-of-N because other work on the machine only ever slows a run down.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import optviz  # noqa: E402
import surfaces  # noqa: E402
from optviz import _batch as B  # noqa: E402
from optviz import _kernel  # noqa: E402
from optviz import _layout as L  # noqa: E402

STEPS = 10_000
START = (-1.5, 2.0)
LR, BETA1, BETA2, EPS = 1e-3, 0.9, 0.999, 1e-8
BATCH_RUNS, BATCH_STEPS = 100_000, 500
TARGETS = {"numpy_ratio": 200.0, "batched": 1e8, "first_call": 1.0}


def best_seconds(fn, repeats: int) -> float:
    """Shortest wall time of ``repeats`` calls of ``fn()``."""
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def interleaved(contenders: dict, rounds: int) -> dict[str, list[float]]:
    """Per contender, its time in each of ``rounds`` rounds that time every contender once.

    Interleaving spreads the load of other processes over all contenders alike; a contender is
    ``(fn, repeats)`` and its time in a round is the best of ``repeats`` calls.
    """
    times = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, (fn, repeats) in contenders.items():
            times[name].append(best_seconds(fn, repeats))
    return times


def rosenbrock_gradient(x: float, y: float) -> tuple[float, float]:
    b = y - x * x
    return -2.0 * (1.0 - x) - 400.0 * x * b, 200.0 * b


def numpy_adam(steps: int) -> np.ndarray:
    """Adam as one would write it with NumPy on the 2-vector θ (torch's order of operations)."""
    theta = np.array(START)
    m = np.zeros(2)
    v = np.zeros(2)
    for t in range(1, steps + 1):
        x, y = theta
        b = y - x * x
        g = np.array([-2.0 * (1.0 - x) - 400.0 * x * b, 200.0 * b])
        m += (1.0 - BETA1) * (g - m)
        v = BETA2 * v + (1.0 - BETA2) * g * g
        step_size = LR / (1.0 - BETA1**t)
        denom = np.sqrt(v) / math.sqrt(1.0 - BETA2**t) + EPS
        theta = theta - step_size * (m / denom)
    return theta


def python_adam(steps: int) -> np.ndarray:
    """The same update on Python floats."""
    x, y = START
    m0 = m1 = v0 = v1 = 0.0
    for t in range(1, steps + 1):
        gx, gy = rosenbrock_gradient(x, y)
        m0 += (1.0 - BETA1) * (gx - m0)
        m1 += (1.0 - BETA1) * (gy - m1)
        v0 = BETA2 * v0 + (1.0 - BETA2) * gx * gx
        v1 = BETA2 * v1 + (1.0 - BETA2) * gy * gy
        step_size = LR / (1.0 - BETA1**t)
        sq = math.sqrt(1.0 - BETA2**t)
        x -= step_size * (m0 / (math.sqrt(v0) / sq + EPS))
        y -= step_size * (m1 / (math.sqrt(v1) / sq + EPS))
    return np.array([x, y])


def torch_adam(torch, steps: int) -> np.ndarray:  # noqa: ANN001
    """``torch.optim.Adam`` in float64 with the closed-form gradient written into ``p.grad``."""
    p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=LR, betas=(BETA1, BETA2), eps=EPS)
    for _ in range(steps):
        opt.zero_grad()
        x, y = p.detach().tolist()
        p.grad = torch.tensor(rosenbrock_gradient(x, y), dtype=torch.float64)
        opt.step()
    return p.detach().numpy().copy()


def kernel_only(steps: int) -> Callable[[], tuple]:
    """``optviz.run`` minus its Python validation: the compiled kernel on prepared arrays."""
    surf = surfaces.get("rosenbrock")
    hp = np.zeros(L.N_HP)
    hp[[L.LR, L.BETA1, L.BETA2, L.EPS]] = LR, BETA1, BETA2, EPS
    flags = np.zeros(L.N_FLAGS, np.int64)
    flags[L.BIAS_CORRECTION] = 1
    flags[L.HISTORY_SIZE] = 1
    args = (
        optviz.optimizers.get("adam").id, surf.id, *START, steps, hp, flags,
        surf.kernel_params, surf.data_x, surf.data_y, np.zeros((0, 0), np.int64),
        np.zeros((0, 2)), 0, np.zeros(L.N_SCHED), 0.0, surf.escape_radius,
    )  # fmt: skip
    outputs = [np.empty((steps + 1, 2)), np.empty(steps + 1), np.empty((steps + 1, 2))]
    outputs += [np.empty(steps + 1), np.empty((steps + 1, 2)), np.empty((0, L.N_STATE))]
    return lambda: _kernel.simulate(*args, *outputs)


FIRST_CALL = """
import json, time
t0 = time.perf_counter()
import optviz
t1 = time.perf_counter()
optviz.run("adam", "rosenbrock", steps=10)
t2 = time.perf_counter()
optviz.run_batch("adam", "rosenbrock", starts=[[-1.5, 2.0], [0.0, 0.0]], steps=10)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "run": t2 - t1, "run_batch": t3 - t2}))
"""


def first_call(cache_dir: str | None) -> dict:
    """Times of a fresh interpreter: import optviz, first run(), first run_batch(), total."""
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", FIRST_CALL], env=env, cwd=ROOT, capture_output=True, text=True
    )
    total = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "process": total}


def signature_counts() -> dict[str, int]:
    """Compiled signatures of each kernel entry point in this process: one each is the design."""
    kernels = {"simulate": _kernel.simulate, "simulate_blocked": B.simulate_blocked}
    return {name: len(kernel.signatures) for name, kernel in kernels.items()}


def batched(rounds: int) -> tuple[float, float]:
    """Best and median steps/s of ``optviz.run_batch`` (10⁵ random starts × 500 steps, all
    cores), after checking that a sample of its runs ends exactly where ``optviz.run`` ends."""
    rng = np.random.default_rng(0)
    (x0, x1), (y0, y1) = surfaces.get("rosenbrock").bounds
    starts = np.column_stack(
        [rng.uniform(x0, x1, BATCH_RUNS), rng.uniform(y0, y1, BATCH_RUNS)]
    )  # fmt: skip

    def batch():
        return optviz.run_batch("adam", "rosenbrock", starts=starts, steps=BATCH_STEPS)

    result = batch()
    batch_times = [best_seconds(batch, 1) for _ in range(rounds)]
    sample = rng.choice(BATCH_RUNS, 50, replace=False)
    for i in sample:
        one = optviz.run("adam", "rosenbrock", start=starts[i], steps=BATCH_STEPS)
        assert np.array_equal(one.xy[one.stopped_at], result.final_xy[i]), f"run {i} differs"
        assert optviz.STATUS_NAMES[result.status_code[i]] == one.status
        assert result.stopped_at[i] == one.stopped_at
    work = BATCH_RUNS * BATCH_STEPS
    return work / min(batch_times), work / float(np.median(batch_times))


def batch_line(batch_rate: float, batch_median: float, numpy_rate: float | None) -> str:
    """The table row of the batched measurement."""
    label = f"optviz.run_batch, {BATCH_RUNS:,} runs × {BATCH_STEPS} steps, {os.cpu_count()} cores"
    ratio = "" if numpy_rate is None else f"{batch_rate / numpy_rate:,.0f}×"
    return f"| {label} | {batch_rate:.3g} ({batch_median:.2g}) | {ratio} |"


COMPARE_CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
import optviz, surfaces
from pathlib import Path
assert Path(optviz.__file__).resolve().is_relative_to(Path(sys.argv[1]).resolve()), optviz.__file__
start, steps, runs, batch_steps, repeats = json.loads(sys.argv[2])
start = tuple(start)


def best(fn, n):
    wall = cpu = float("inf")
    for _ in range(n):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - w)
        cpu = min(cpu, time.process_time() - c)
    return wall, cpu


out = {}
for name, kw in (("adam", {}), ("gd", {})):
    optviz.run(name, "rosenbrock", start=start, steps=10, **kw)
    one = lambda: optviz.run(name, "rosenbrock", start=start, steps=steps, **kw)  # noqa: E731
    wall, cpu = best(one, repeats)
    out["run " + name] = (steps / wall, steps / cpu)
rng = np.random.default_rng(0)
(x0, x1), (y0, y1) = surfaces.get("rosenbrock").bounds
starts = np.column_stack([rng.uniform(x0, x1, runs), rng.uniform(y0, y1, runs)])
optviz.run_batch("adam", "rosenbrock", starts=starts[:2], steps=2)
wall, cpu = best(lambda: optviz.run_batch("adam", "rosenbrock", starts=starts,
                                 steps=batch_steps), 3)
out["run_batch adam"] = (runs * batch_steps / wall, runs * batch_steps / cpu)
print(json.dumps(out))
"""


def compare(base: Path, rounds: int) -> None:
    """Before/after, side by side in one run: ``base`` (a checkout of the old commit with its
    kernels compiled once) and this checkout measured in alternating child processes, ``rounds``
    times each. steps/s by wall clock (the figures the README quotes) and by the process's CPU
    time (less sensitive to other work on the machine; for the batch it sums every thread)."""
    trees = {"before": base.resolve(), "after": ROOT}
    arg = json.dumps([START, STEPS, BATCH_RUNS, BATCH_STEPS, 20])
    results: dict[str, list[dict]] = {label: [] for label in trees}
    for r in range(rounds):
        for label, tree in trees.items():
            out = subprocess.run(
                [sys.executable, "-c", COMPARE_CHILD, str(tree), arg],
                cwd=tree, capture_output=True, text=True,
            )  # fmt: skip
            if out.returncode != 0:
                raise RuntimeError(out.stderr)
            results[label].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"round {r + 1} {label}: {results[label][-1]}", flush=True)
    print()
    print(f"before = {base}, after = {ROOT}; {rounds} alternating rounds, {os.cpu_count()} cores")
    print(f"run: Adam/GD on Rosenbrock, {STEPS:,} steps, best of 20; run_batch: Adam, "
          f"{BATCH_RUNS:,} runs × {BATCH_STEPS} steps, best of 3")  # fmt: skip
    print()
    print("| measurement | round | before: wall (cpu) | after: wall (cpu) | after/before |")
    print("|---|---:|---:|---:|---:|")
    for key in results["before"][0]:
        for r in range(rounds):
            (bw, bc), (aw, ac) = results["before"][r][key], results["after"][r][key]
            print(
                f"| {key} steps/s | {r + 1} | {bw:.3g} ({bc:.3g}) | {aw:.3g} ({ac:.3g}) "
                f"| {aw / bw:.2f} ({ac / bc:.2f}) |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-compile run")
    parser.add_argument(
        "--only", choices=["batched"], help="measure only run_batch (with its endpoint check)"
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="OLD_CHECKOUT",
        help="before/after: optviz.run and run_batch of OLD_CHECKOUT and of this checkout, "
        "alternating in child processes (--rounds times, default 2)",
    )
    args = parser.parse_args()
    if args.compare is not None:
        compare(args.compare, args.rounds if args.rounds != 5 else 2)
        return
    print(f"optviz engine benchmark · Adam on Rosenbrock · {os.cpu_count()} cores", flush=True)
    if args.only == "batched":
        batch_rate, batch_median = batched(args.rounds)
        print(batch_line(batch_rate, batch_median, None))
        print(f"batched: {batch_rate:.3g} steps/s (target ≥ {TARGETS['batched']:.0e})")
        print("50 sampled run_batch endpoints equal optviz.run's: yes")
        return
    reference = optviz.run("adam", "rosenbrock", start=START, steps=STEPS).xy[-1]  # compile/load
    contenders = {
        "optviz.run (Numba kernel)": (
            lambda: optviz.run("adam", "rosenbrock", start=START, steps=STEPS),
            20,
        ),
        "kernel alone": (kernel_only(STEPS), 20),
        "numpy loop (2-element arrays)": (lambda: numpy_adam(STEPS), 1),
        "pure-Python floats": (lambda: python_adam(STEPS), 1),
    }
    for name in ("numpy loop (2-element arrays)", "pure-Python floats"):
        final = contenders[name][0]()
        assert np.allclose(final, reference, rtol=0, atol=1e-9), f"{name} differs"
    try:
        import torch
    except ImportError:
        print("(torch not importable: skipped)")
    else:
        torch.set_num_threads(1)
        final = torch_adam(torch, STEPS)
        assert np.allclose(final, reference, rtol=0, atol=1e-9), "torch differs"
        contenders["torch.optim.Adam (float64)"] = (lambda: torch_adam(torch, STEPS), 1)
    times = interleaved(contenders, args.rounds)
    rate = {name: STEPS / min(t) for name, t in times.items()}
    median_rate = {name: STEPS / float(np.median(t)) for name, t in times.items()}
    numpy_rate = rate["numpy loop (2-element arrays)"]

    batch_rate, batch_median = batched(args.rounds)
    warm = min((first_call(None) for _ in range(3)), key=lambda t: t["process"])
    cold = None
    if not args.no_cold:
        with tempfile.TemporaryDirectory() as empty:
            cold = first_call(empty)
    signatures = signature_counts()

    print()
    print(f"best of {args.rounds} interleaved rounds (median in brackets: the load's noise)")
    print()
    print("| measurement | steps/s | vs NumPy loop |")
    print("|---|---:|---:|")
    for name, r in sorted(rate.items(), key=lambda item: -item[1]):
        value = f"{r:.3g} ({median_rate[name]:.2g})"
        print(f"| {name}, {STEPS:,} steps | {value} | {r / numpy_rate:,.0f}× |")
    print(batch_line(batch_rate, batch_median, numpy_rate))
    for name, t in (("warm cache", warm), ("empty cache (cold compile)", cold)):
        if t is None:
            continue
        print(
            f"| fresh process, {name}: import + first run() + first run_batch() "
            f"| {t['import']:.2f} + {t['run']:.2f} + {t['run_batch']:.2f} s "
            f"(process {t['process']:.2f} s) | |"
        )
    print(f"| compiled signatures | {signatures} | |")

    kernel_ratio = rate["optviz.run (Numba kernel)"] / numpy_rate
    print()
    print(f"kernel / NumPy loop: {kernel_ratio:,.0f}× (target ≥ {TARGETS['numpy_ratio']:.0f}×)")
    print(f"batched: {batch_rate:.3g} steps/s (target ≥ {TARGETS['batched']:.0e})")
    print(f"first run() from the cache: {warm['run']:.2f} s (target < {TARGETS['first_call']} s)")
    print(f"50 sampled run_batch endpoints equal optviz.run's: yes; final θ = {reference}")


if __name__ == "__main__":
    main()
