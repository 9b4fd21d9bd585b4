"""Every surface: analytic derivatives against finite differences, minima, saddles, metadata."""

from __future__ import annotations

import ast
import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import optviz
import surfaces
from surfaces import _kernels as K

# Each surface with its defaults and, where it has parameters, non-default ones.
CASES = [(name, {}) for name in surfaces.NAMES] + [
    ("ravine", {"kappa": 100.0, "angle": 30.0}),
    ("ravine", {"kappa": 4.0, "angle": -60.0}),
    ("plateau", {"width": 0.5}),
    ("noisy_linreg", {"n": 50, "w_true": -3.0, "b_true": 2.0, "noise": 0.5, "seed": 3}),
    ("sparse_logreg", {"n": 200, "density": 0.2, "l2": 0.01, "seed": 5}),
]
IDS = [name + "".join(f"-{k}={v}" for k, v in params.items()) for name, params in CASES]

# Minimum values and positions known in closed form (data surfaces are checked separately).
KNOWN_MINIMA = {
    "ravine": [(0.0, 0.0, 0.0)],
    "plateau": [(0.0, 0.0, 0.0)],
    "rosenbrock": [(1.0, 1.0, 0.0)],
    "beale": [(3.0, 0.5, 0.0)],
    "himmelblau": [
        (3.0, 2.0, 0.0),
        (-2.805118, 3.131312, 0.0),
        (-3.779310, -3.283186, 0.0),
        (3.584428, -1.848126, 0.0),
    ],
    "rastrigin": [(0.0, 0.0, 0.0)],
    "booth": [(1.0, 3.0, 0.0)],
}
KNOWN_SADDLES = {"saddle": [(0.0, 0.0, 0.0)], "monkey_saddle": [(0.0, 0.0, 0.0)]}


def random_points(surf: surfaces.Surface, n: int, seed: int) -> np.ndarray:
    (x0, x1), (y0, y1) = surf.bounds
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])


def scalar_value(surf: surfaces.Surface, x: float, y: float) -> float:
    return float(surf.value(x, y))


def step_size(x: float) -> float:
    return 1e-5 * (1.0 + abs(x))


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_gradient_matches_central_differences(name, params):
    surf = surfaces.get(name, **params)
    for x, y in random_points(surf, 25, seed=1):
        hx, hy = step_size(x), step_size(y)
        fd = np.array(
            [
                (scalar_value(surf, x + hx, y) - scalar_value(surf, x - hx, y)) / (2 * hx),
                (scalar_value(surf, x, y + hy) - scalar_value(surf, x, y - hy)) / (2 * hy),
            ]
        )
        g = surf.gradient(x, y)
        # Central differences: O(h²) truncation plus rounding of f / h.
        scale = 1.0 + abs(scalar_value(surf, x, y)) + np.max(np.abs(g))
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-7 * scale, err_msg=f"at ({x}, {y})")


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_hessian_matches_central_differences_of_gradient(name, params):
    surf = surfaces.get(name, **params)
    for x, y in random_points(surf, 25, seed=2):
        hx, hy = step_size(x), step_size(y)
        col_x = (surf.gradient(x + hx, y) - surf.gradient(x - hx, y)) / (2 * hx)
        col_y = (surf.gradient(x, y + hy) - surf.gradient(x, y - hy)) / (2 * hy)
        fd = np.column_stack([col_x, col_y])
        h = surf.hessian(x, y)
        assert h.shape == (2, 2)
        assert h[0, 1] == h[1, 0]
        scale = 1.0 + np.max(np.abs(h)) + np.max(np.abs(surf.gradient(x, y)))
        np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-7 * scale, err_msg=f"at ({x}, {y})")


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_value_gradient_hessian_broadcast(name, params):
    surf = surfaces.get(name, **params)
    pts = random_points(surf, 6, seed=3).reshape(2, 3, 2)
    xs, ys = pts[..., 0], pts[..., 1]
    values = surf.value(xs, ys)
    assert values.shape == (2, 3)
    assert surf.gradient(xs, ys).shape == (2, 3, 2)
    assert surf.hessian(xs, ys).shape == (2, 3, 2, 2)
    assert values[1, 2] == scalar_value(surf, xs[1, 2], ys[1, 2])
    gx, gy, zz = surf.grid(7)
    assert gx.shape == (7,) and gy.shape == (7,) and zz.shape == (7, 7)
    assert zz[2, 5] == scalar_value(surf, gx[5], gy[2])


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_metadata_is_consistent(name, params):
    surf = surfaces.get(name, **params)
    (x0, x1), (y0, y1) = surf.bounds
    assert x0 < x1 and y0 < y1

    def inside(x: float, y: float) -> bool:
        return x0 <= x <= x1 and y0 <= y <= y1

    assert surf.starts and all(inside(*s) for s in surf.starts)
    assert surf.start == surf.starts[0]
    assert all(inside(m.x, m.y) for m in surf.minima + surf.saddles)
    assert all(m.kind == "minimum" for m in surf.minima)
    assert all(s.kind == "saddle" for s in surf.saddles)
    assert surf.latex.strip() and surf.title.strip() and surf.teaches.strip()
    assert surf.minima or surf.saddles  # every surface marks a stationary point
    for key, prm in surfaces.all_params(surf.spec).items():
        assert prm.low <= prm.default <= prm.high, key
        assert surf.params[key] == params.get(key, prm.default)
    # Starting at a listed start never counts as escaped.
    assert all(math.hypot(*s) < surf.escape_radius for s in surf.starts)


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_stationary_points_have_zero_gradient(name, params):
    surf = surfaces.get(name, **params)
    for point in surf.minima + surf.saddles:
        assert scalar_value(surf, point.x, point.y) == point.value
        g = surf.gradient(point.x, point.y)
        assert np.max(np.abs(g)) < 1e-9, (point, g)
    for point in surf.minima:
        eigenvalues = np.linalg.eigvalsh(surf.hessian(point.x, point.y))
        assert np.all(eigenvalues > 0.0), (point, eigenvalues)
        # A minimum is lower than everything around it.
        for dx, dy in [(1e-3, 0.0), (-1e-3, 0.0), (0.0, 1e-3), (0.0, -1e-3), (7e-4, -7e-4)]:
            assert scalar_value(surf, point.x + dx, point.y + dy) > point.value


@pytest.mark.parametrize("name", sorted(KNOWN_MINIMA))
def test_known_minima_positions_and_values(name):
    surf = surfaces.get(name)
    assert len(surf.minima) == len(KNOWN_MINIMA[name])
    for point, (x, y, v) in zip(surf.minima, KNOWN_MINIMA[name], strict=True):
        assert point.x == pytest.approx(x, abs=1e-5)
        assert point.y == pytest.approx(y, abs=1e-5)
        assert point.value == pytest.approx(v, abs=1e-12)


@pytest.mark.parametrize("name", sorted(KNOWN_SADDLES))
def test_known_saddles(name):
    surf = surfaces.get(name)
    assert [(s.x, s.y, s.value) for s in surf.saddles] == KNOWN_SADDLES[name]
    assert surf.minima == ()
    eigenvalues = np.linalg.eigvalsh(surf.hessian(0.0, 0.0))
    assert eigenvalues[0] <= 0.0 <= eigenvalues[1]


def test_ravine_is_the_stated_rotated_quadratic():
    surf = surfaces.get("ravine", kappa=100.0, angle=30.0)
    a = math.radians(30.0)
    rotation = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    h = rotation.T @ np.diag([1.0, 100.0]) @ rotation
    np.testing.assert_allclose(surf.hessian(0.3, -2.0), h, rtol=1e-14, atol=1e-13)
    p = np.array([0.3, -2.0])
    assert scalar_value(surf, *p) == pytest.approx(0.5 * p @ h @ p, rel=1e-14)
    assert np.linalg.cond(h) == pytest.approx(100.0, rel=1e-12)


@pytest.mark.parametrize("params", [{}, {"n": 50, "w_true": -3.0, "noise": 0.5, "seed": 3}])
def test_noisy_linreg_minimum_is_least_squares(params):
    surf = surfaces.get("noisy_linreg", **params)
    xs, ys = surf.data_x[:, 0], surf.data_y
    np.testing.assert_array_equal(surf.data_x[:, 1], 1.0)
    # Normal equations of the mean squared error, solved independently.
    a = np.array([[np.sum(xs * xs), np.sum(xs)], [np.sum(xs), len(xs)]])
    w, b = np.linalg.solve(a, [np.sum(xs * ys), np.sum(ys)])
    (point,) = surf.minima
    assert (point.x, point.y) == pytest.approx((w, b), rel=1e-10)
    assert point.value == pytest.approx(np.mean((w * xs + b - ys) ** 2), rel=1e-10)
    assert scalar_value(surf, 0.5, -1.0) == pytest.approx(np.mean((0.5 * xs - 1.0 - ys) ** 2))


def test_sparse_logreg_value_is_the_stated_loss():
    surf = surfaces.get("sparse_logreg", l2=0.01)
    a, c = surf.data_x[:, 0], surf.data_x[:, 1]
    labels = surf.data_y
    assert set(np.unique(labels)) == {-1.0, 1.0}
    assert 0 < np.count_nonzero(c) < 0.2 * len(c)  # the second feature is sparse
    for w1, w2 in [(0.5, -1.0), (-3.0, 3.5), (surf.minima[0].x, surf.minima[0].y)]:
        expected = np.mean(np.logaddexp(0.0, -labels * (w1 * a + w2 * c)))
        expected += 0.5 * 0.01 * (w1 * w1 + w2 * w2)
        assert scalar_value(surf, w1, w2) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("noisy_linreg", {"n": 100, "batch_size": 10}),
        ("noisy_linreg", {"n": 60, "batch_size": 1}),
        ("sparse_logreg", {"n": 200, "batch_size": 25}),
    ],
)
def test_mean_of_batch_gradients_over_an_epoch_is_the_full_gradient(name, params):
    surf = surfaces.get(name, **params)
    epoch = params["n"] // params["batch_size"]
    batches = optviz.batch_indices(params["n"], params["batch_size"], epoch, seed=4)
    assert sorted(batches.ravel()) == list(range(params["n"]))  # each row once per epoch
    # With η = 0 the point stays put and traj.grad holds each step's mini-batch gradient.
    start = surf.starts[1]
    traj = optviz.run("gd", surf, start=start, steps=epoch, lr=0.0, seed=4)
    batch_grads = traj.grad[:epoch]
    assert not np.allclose(batch_grads, batch_grads[0])  # the batches do differ
    np.testing.assert_allclose(
        batch_grads.mean(axis=0), surf.gradient(*start), rtol=1e-12, atol=1e-14
    )


def test_bad_surface_parameters_raise_naming_them():
    with pytest.raises(ValueError, match="kappa"):
        surfaces.get("ravine", kappa=0.5)
    with pytest.raises(ValueError, match="unknown surface"):
        surfaces.get("nope")
    with pytest.raises(ValueError, match="width"):
        surfaces.get("ravine", width=1.0)
    with pytest.raises(ValueError, match="n"):
        surfaces.get("noisy_linreg", n=10.5)


# ---- the formula blocks: recorded values, sums of squares, the registry -------------------------

RECORDER = Path(__file__).parent / "golden" / "record_surfaces.py"


def _recorder():
    spec = importlib.util.spec_from_file_location("record_surfaces", RECORDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_formulas_reproduce_the_recorded_values_bit_for_bit():
    # Recorded by tests/golden/record_surfaces.py before the formulas were regrouped; every
    # surface's value, full and mini-batch gradient, Hessian and Gauss–Newton matrix at 48 points.
    recorder = _recorder()
    recorded = np.load(recorder.HERE / "surface_values" / "values.npz")
    # The catalog when recorded (a surface added since is covered by the finite-difference
    # tests; re-run the recorder to pin its values too).
    cases = json.loads(str(recorded["cases"]))
    assert len(cases) == 17
    for i, (name, params) in enumerate(cases):
        got = recorder.evaluate(surfaces.get(name, **params))
        np.testing.assert_array_equal(got["points"], recorded[f"case{i}_points"])
        np.testing.assert_array_equal(got["values"], recorded[f"case{i}_values"], err_msg=name)


def test_every_catalog_surface_has_one_block_and_ids_are_contiguous():
    assert list(K.SURFACE_IDS) == list(surfaces.NAMES)
    assert sorted(K.SURFACE_IDS.values()) == list(range(len(surfaces.NAMES)))
    for name, sid in K.SURFACE_IDS.items():
        parts = K.block_parts(sid)
        assert set(K.REQUIRED_PARTS) <= parts, name
        assert surfaces.spec(name).sum_of_squares == (set(K.SUM_OF_SQUARES_PARTS) <= parts)
        assert surfaces.get(name).id == sid
    for part in K.PARTS:
        source = K.dispatch_source(part)
        for sid in K.SURFACE_IDS.values():
            assert (f"if sid == {sid}:" in source) == (part in K.block_parts(sid)), (part, sid)


def test_an_unknown_surface_id_gives_nan_not_another_surface():
    empty_x, empty_y = np.zeros((0, 2)), np.zeros(0)
    bad = len(K.SURFACE_IDS)
    p = np.zeros(4)
    assert math.isnan(K.value(bad, 0.5, 0.5, p, empty_x, empty_y))
    assert all(
        math.isnan(v) for v in K.gradient(bad, 0.5, 0.5, p, empty_x, empty_y, np.arange(0), 0)
    )
    assert all(math.isnan(v) for v in K.hessian(bad, 0.5, 0.5, p, empty_x, empty_y))
    assert all(math.isnan(v) for v in K.gauss_newton(bad, 0.5, 0.5, p, empty_x, empty_y))


def test_a_block_missing_a_formula_is_refused():
    with pytest.raises(ValueError, match="needs value, gradient, hessian"):

        @K.surface(len(K.SURFACE_IDS), "half_done")
        class HalfDone:
            def value(x, y, p, data_x, data_y):
                return x

    with pytest.raises(ValueError, match="not the next one"):
        K.surface(0, "again")(type("Again", (), {}))


SQUARES = [(n, p) for n, p in CASES if surfaces.spec(n).sum_of_squares]


def test_the_sums_of_squares_are_the_expected_surfaces():
    assert {n for n, _ in SQUARES} == {"noisy_linreg", "rosenbrock", "beale"}


def residual_jacobian(surf: surfaces.Surface, x: float, y: float) -> np.ndarray:
    """∂rₖ/∂(x, y) by central differences, shape (m, 2)."""
    hx, hy = step_size(x), step_size(y)
    cols = [
        (surf.residuals(x + hx, y)[1] - surf.residuals(x - hx, y)[1]) / (2 * hx),
        (surf.residuals(x, y + hy)[1] - surf.residuals(x, y - hy)[1]) / (2 * hy),
    ]
    return np.column_stack(cols)


@pytest.mark.parametrize(("name", "params"), SQUARES, ids=[f"{n}{p or ''}" for n, p in SQUARES])
def test_sum_of_squares_value_gradient_and_gauss_newton_from_the_residuals(name, params):
    surf = surfaces.get(name, **params)
    for x, y in random_points(surf, 20, seed=11):
        scale, r = surf.residuals(x, y)
        assert scale > 0.0 and r.shape[0] >= 2
        f = scalar_value(surf, x, y)
        assert scale * np.sum(r * r) == pytest.approx(f, rel=1e-12, abs=1e-12)
        jac = residual_jacobian(surf, x, y)
        g = surf.gradient(x, y)
        # ∇f = 2·scale·Jᵀr
        scale_g = 1.0 + abs(f) + np.max(np.abs(g))
        np.testing.assert_allclose(2.0 * scale * jac.T @ r, g, rtol=1e-6, atol=1e-7 * scale_g)
        # Gauss–Newton = 2·scale·JᵀJ, the matrix Levenberg–Marquardt uses
        a, b, c = K.gauss_newton(surf.id, x, y, surf.kernel_params, surf.data_x, surf.data_y)
        gn = np.array([[a, b], [b, c]])
        expected = 2.0 * scale * jac.T @ jac
        np.testing.assert_allclose(gn, expected, rtol=1e-6, atol=1e-7 * (1.0 + np.abs(gn).max()))


@pytest.mark.parametrize("name", [n for n in surfaces.NAMES if not surfaces.spec(n).sum_of_squares])
def test_other_surfaces_have_no_residuals_and_no_gauss_newton(name):
    surf = surfaces.get(name)
    x, y = surf.start
    gn = K.gauss_newton(surf.id, x, y, surf.kernel_params, surf.data_x, surf.data_y)
    assert all(math.isnan(v) for v in gn)
    with pytest.raises(ValueError, match="not a sum of squares"):
        surf.residuals(x, y)


@pytest.mark.parametrize("name", surfaces.NAMES)
def test_catalog_axis_labels_and_data_fit(name):
    s = surfaces.spec(name)
    assert len(s.axis_labels) == 2 and all(isinstance(a, str) and a for a in s.axis_labels)
    assert s.data_fit in (None, "line")
    if s.data_fit == "line":  # each point (w, b) is the line t ↦ w·t + b through the data
        surf = surfaces.get(name)
        assert s.data_surface and s.axis_labels != ("x", "y")
        t, target = surf.data_x[:, 0], surf.data_y
        for w, b in [(0.5, -1.0), surf.start]:
            expected = np.mean((w * t + b - target) ** 2)
            assert scalar_value(surf, w, b) == pytest.approx(expected, rel=1e-12)


def test_surfaces_never_import_optviz():
    package = Path(surfaces.__file__).parent
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n == "optviz" or n.startswith("optviz.") for n in names), path
    code = (
        "import sys; import surfaces; s = surfaces.get('rosenbrock'); s.gradient(0.0, 0.0);"
        "surfaces.get('formula', formula='x^2 + y^2');"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'optviz'], 'optviz imported'"
    )
    root = package.parent
    done = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(root)!r}); {code}"],
        capture_output=True, text=True, cwd=root, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
