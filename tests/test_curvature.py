"""Curvature: eigenvalues along the paths, GD's stability edge 2/η, the momentum region."""

from __future__ import annotations

import numpy as np
import pytest

import optviz
import surfaces
from optviz import curvature, figures

KAPPA = 10.0
RAVINE = surfaces.get("ravine", kappa=KAPPA, angle=30.0)


def rosen_hessian(x: float, y: float) -> np.ndarray:
    # f = (1 − x)² + 100 (y − x²)²
    return np.array([[2.0 - 400.0 * (y - x * x) + 800.0 * x * x, -400.0 * x], [-400.0 * x, 200.0]])


def ravine_hessian(angle_deg: float, kappa: float) -> np.ndarray:
    # f = ½ (x′² + κ y′²) in coordinates rotated by the angle: H = R diag(1, κ) Rᵀ for either
    # sense of rotation has eigenvalues 1 and κ; written out for the surface's sense below.
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c * c + kappa * s * s, c * s - kappa * s * c],
                     [c * s - kappa * s * c, s * s + kappa * c * c]])  # fmt: skip


def test_eigenvalues_match_numpy_on_the_analytic_hessians():
    traj = optviz.run("adam", "rosenbrock", start=(-1.5, 2.0), steps=200, lr=0.02)
    lam = curvature.eigenvalues(surfaces.get("rosenbrock"), traj.xy)
    for k in range(0, 201, 7):
        ref = np.linalg.eigvalsh(rosen_hessian(*traj.xy[k]))[::-1]
        np.testing.assert_allclose(lam[k], ref, rtol=1e-12, atol=1e-10)
    lam_r = curvature.eigenvalues(RAVINE, np.array([[0.3, -2.0], [1.0, 1.0]]))
    ref = np.linalg.eigvalsh(ravine_hessian(30.0, KAPPA))[::-1]
    np.testing.assert_allclose(lam_r, [ref, ref], rtol=1e-12)
    np.testing.assert_allclose(ref, [KAPPA, 1.0], rtol=1e-12)
    lam_s = curvature.eigenvalues(surfaces.get("saddle"), np.array([[0.5, 0.1], [np.nan, 1.0]]))
    np.testing.assert_array_equal(lam_s[0], [2.0, -2.0])
    assert np.isnan(lam_s[1]).all()
    np.testing.assert_allclose(curvature.condition_number(np.array([[10.0, 1.0], [2.0, -2.0]])),
                               [10.0, 1.0])  # fmt: skip


def _steep_coordinate(xy: np.ndarray) -> np.ndarray:
    # Distance from the minimum (0, 0) along the steepest eigenvector of the analytic Hessian.
    w, q = np.linalg.eigh(ravine_hessian(30.0, KAPPA))
    return xy @ q[:, np.argmax(w)]


def _growing_oscillation(c: np.ndarray) -> np.ndarray:
    """Updates k (leaving θ_k) after which the steep coordinate flipped sign and grew."""
    flips = np.sign(c[1:]) != np.sign(c[:-1])
    grows = np.abs(c[1:]) > np.abs(c[:-1])
    return np.flatnonzero(flips & grows)


def test_gd_starts_to_oscillate_within_one_step_of_where_2_over_eta_crosses_lambda_max():
    # η rises in steps 0.16 → 0.24 (λ_max = 10, so 2/η falls from 12.5 to 8.3): GD zig-zags all
    # along (ηλ > 1) but the zig-zag shrinks; it grows from where λ_max > 2/η.
    factors = (1.0, 1.1, 1.15, 1.2, 1.22, 1.24, 1.3, 1.5)
    boundaries = (8.0, 16.0, 24.0, 32.0, 40.0, 48.0, 56.0)
    sched = {"name": "piecewise", "boundaries": boundaries, "factors": factors}
    traj = optviz.run("gd", RAVINE, start=(2.0, 1.5), steps=70, lr=0.16, schedule=sched)
    cv = curvature.path_curvature(RAVINE, traj)
    crossing = curvature.edge_crossings(cv["lam_max"][:-1], cv["edge"][:-1])
    onset = _growing_oscillation(_steep_coordinate(traj.valid_xy))
    assert crossing.size == 1 and onset.size
    assert abs(int(onset[0]) - int(crossing[0])) <= 1, (onset[:3], crossing)
    assert crossing[0] == 48  # the step where η·λ_max first exceeds 2 (η = 0.208)


def test_the_oscillation_stops_growing_where_2_over_eta_rises_above_lambda_max():
    # A decaying η = 0.22·e^(−0.005 t) crosses 2/λ_max = 0.2 between t = 19 and 20.
    sched = {"name": "exponential", "k": 0.005}
    traj = optviz.run("gd", RAVINE, start=(2.0, 1.5), steps=60, lr=0.22, schedule=sched)
    cv = curvature.path_curvature(RAVINE, traj)
    above = np.flatnonzero(cv["lam_max"][:-1] > cv["edge"][:-1])
    growing = _growing_oscillation(_steep_coordinate(traj.valid_xy))
    assert above[0] == 0 and growing[0] == 0
    assert abs(int(above[-1]) - int(growing[-1])) <= 1, (above[-3:], growing[-3:])


def test_gd_factors_are_the_ratio_of_successive_steep_coordinates():
    lr = 0.17
    traj = optviz.run("gd", RAVINE, start=(2.0, 1.5), steps=10, lr=lr)
    c = _steep_coordinate(traj.valid_xy)
    factor = curvature.gd_factors(np.array([KAPPA, 1.0]), lr)
    np.testing.assert_allclose(np.abs(c[1:] / c[:-1]), factor[0], rtol=1e-9)


@pytest.mark.parametrize(
    ("name", "form", "options"),
    [
        ("momentum", "heavy_ball", {}),
        ("momentum", "heavy_ball", {"momentum_form": "lr_inside"}),
        ("nesterov", "nesterov", {}),
        ("nesterov", "nesterov", {"nesterov_form": "lookahead"}),
    ],
)
def test_momentum_stability_region_predicts_convergence(name, form, options):
    rng = np.random.default_rng(5)
    for _ in range(12):
        beta = float(rng.uniform(0.0, 0.95))
        lr = float(np.exp(rng.uniform(np.log(0.01), np.log(0.6))))
        rho = curvature.stability_region([KAPPA, 1.0], [lr], [beta], form)[0, 0]
        if abs(rho - 1.0) < 0.02:
            continue  # too close to the edge to tell in a few hundred steps
        traj = optviz.run(name, RAVINE, start=(2.0, 1.5), steps=400, lr=lr, beta1=beta, **options)
        d = np.hypot(*traj.xy[traj.stopped_at])
        converged = traj.status == "ok" and d < 1e-3 * np.hypot(2.0, 1.5)
        assert converged == (rho < 1.0), (lr, beta, rho, traj.status, d)
        assert curvature.run_momentum(traj) == (lr, beta, form)


def test_heavy_ball_edge_is_the_lecture_bound():
    # Heavy ball on a quadratic converges iff 0 < ηλ < 2(1 + β); Nesterov iff ηλ < 2(1+β)/(1+2β).
    for beta in (0.0, 0.5, 0.9):
        h_edge = 2.0 * (1.0 + beta)
        assert curvature.spectral_radius(h_edge * 0.99, beta) < 1.0
        assert curvature.spectral_radius(h_edge * 1.01, beta) > 1.0
        n_edge = h_edge / (1.0 + 2.0 * beta)
        assert curvature.spectral_radius(n_edge * 0.99, beta, "nesterov") < 1.0
        assert curvature.spectral_radius(n_edge * 1.01, beta, "nesterov") > 1.0


def test_figures_carry_every_run_and_the_run_point():
    trajs = [
        optviz.run("gd", RAVINE, steps=50, lr=0.15),
        optviz.run("momentum", RAVINE, steps=50, lr=0.05, beta1=0.8),
        optviz.run("adam", RAVINE, steps=50, lr=0.05),
    ]
    labels, colors = ["GD", "Momentum", "Adam"], ["#0072B2", "#D55E00", "#009E73"]
    fig = figures.curvature_figure(RAVINE, trajs, labels, colors)
    names = [t.name for t in fig.data]
    assert all(lab in names for lab in labels)
    assert fig.layout.yaxis.type == "log"
    edge = next(t for t in fig.data if t.name == "GD: 2/η")
    np.testing.assert_allclose(edge.y, 2.0 / 0.15)
    stab = figures.quadratic_stability_figure([KAPPA, 1.0], trajs[1], "Momentum", "#D55E00")
    star = next(t for t in stab.data if t.name == "Momentum: (η, β)")
    assert (star.x[0], star.y[0]) == (0.05, 0.8)
    none = figures.quadratic_stability_figure([KAPPA, 1.0], trajs[2], "Adam", "#009E73")
    assert not [t for t in none.data if t.name == "Adam: (η, β)"]
    saddle = figures.curvature_figure(surfaces.get("saddle"), trajs[:1], ["GD"], ["#000"])
    assert saddle.layout.yaxis.type != "log"  # λ₂ = −2 cannot sit on a log axis
