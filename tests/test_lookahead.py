"""Lookahead (Zhang et al., 2019) around every first-order optimizer, checked against the
paper's algorithm written out by hand: θ takes k fast steps of the inner optimizer from the slow
weights φ (φ₀ = θ₀), then φ ← φ + α(θ − φ) and θ ← φ; the inner optimizer keeps its state.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import optviz
from optviz import optimizers


def booth_gradient(x: float, y: float) -> tuple[float, float]:
    a = x + 2.0 * y - 7.0
    b = 2.0 * x + y - 5.0
    return 2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b


def by_hand(inner, start, steps, k, alpha):
    """The paper's Algorithm 1 with the inner optimizer ``inner(theta, g, t) -> theta``: the
    fast weights after every update (what optviz draws) and the slow weights."""
    theta = np.array(start, float)
    phi = theta.copy()
    path, slow = [theta.copy()], [phi.copy()]
    for t in range(1, steps + 1):
        theta = inner(theta, np.array(booth_gradient(*theta)), t)
        if t % k == 0:
            phi = phi + alpha * (theta - phi)
            theta = phi.copy()
        path.append(theta.copy())
        slow.append(phi.copy())
    return np.array(path), np.array(slow)


def test_gd_first_steps_by_hand():
    lr, k, alpha = 0.02, 3, 0.5
    traj = optviz.run("gd", "booth", start=(0.0, 0.0), steps=7, lr=lr, lookahead_k=k,
                      lookahead_alpha=alpha, record_state=True)  # fmt: skip
    # Update 1 by hand: g(0, 0) = (2·(−7) + 4·(−5), 4·(−7) + 2·(−5)) = (−34, −38).
    assert traj.xy[1] == pytest.approx((0.68, 0.76), abs=1e-15)
    path, slow = by_hand(lambda th, g, t: th - lr * g, (0.0, 0.0), 7, k, alpha)
    np.testing.assert_allclose(traj.xy, path, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(traj.state["slow"], slow, rtol=1e-14, atol=1e-15)
    # At the first sync the fast weights jump back to φ₁, halfway (α = ½) between φ₀ = θ₀ and
    # the third fast point.
    third = traj.xy[2] - lr * np.array(booth_gradient(*traj.xy[2]))
    assert traj.xy[3] == pytest.approx(0.5 * (traj.xy[0] + third), abs=1e-15)
    assert traj.xy[4] == pytest.approx(traj.xy[3] - lr * np.array(booth_gradient(*traj.xy[3])))


def test_adam_keeps_its_moments_across_syncs():
    lr, b1, b2, eps, k, alpha = 0.1, 0.9, 0.999, 1e-8, 4, 0.6
    m = np.zeros(2)
    v = np.zeros(2)

    def adam(theta, g, t):
        nonlocal m, v
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps)

    path, _ = by_hand(adam, (1.0, -1.0), 12, k, alpha)
    traj = optviz.run("adam", "booth", start=(1.0, -1.0), steps=12, lr=lr, lookahead_k=k,
                      lookahead_alpha=alpha)  # fmt: skip
    np.testing.assert_allclose(traj.xy, path, rtol=1e-12, atol=1e-13)


def test_off_by_default_and_the_same_path_when_off():
    for name in optimizers.FIRST_ORDER:
        assert optimizers.get(name).defaults["lookahead_k"] == 0
    a = optviz.run("momentum", "beale", steps=50)
    b = optviz.run("momentum", "beale", steps=50, lookahead_k=0, lookahead_alpha=0.9)
    assert np.array_equal(a.xy, b.xy, equal_nan=True)


def test_every_first_order_optimizer_offers_it_and_no_second_order_one():
    for name in optimizers.NAMES:
        opt = optimizers.get(name)
        assert ("lookahead_k" in opt.defaults) == (not opt.second_order), name
    with pytest.raises(ValueError, match="lookahead_k"):
        optviz.run("bfgs", "booth", steps=3, lookahead_k=5)
    with pytest.raises(ValueError, match="lookahead_k"):
        optviz.run("gd", "booth", steps=3, lookahead_k=-1)
    with pytest.raises(ValueError, match="lookahead_alpha"):
        optviz.run("gd", "booth", steps=3, lookahead_k=5, lookahead_alpha=1.5)


def test_alpha_is_inactive_while_lookahead_is_off():
    assert "lookahead_alpha" in optimizers.inactive("adam", optimizers.resolve("adam", {}))
    on = optimizers.resolve("adam", {"lookahead_k": 5})
    assert "lookahead_alpha" not in optimizers.inactive("adam", on)


def test_the_formula_card_has_the_lookahead_line_only_when_on():
    assert "Lookahead" not in optimizers.formula("adam")
    card = optimizers.formula("adam", lookahead_k=5, lookahead_alpha=0.5)
    assert r"\phi \leftarrow \phi + \alpha\,(\theta_t - \phi)" in card
    assert "k = 5" in card and r"\alpha = 0.5" in card


@pytest.mark.parametrize("name", optimizers.FIRST_ORDER)
def test_run_batch_ends_bit_for_bit_where_run_ends(name):
    starts = np.array([[-1.2, 1.0], [0.5, 1.5], [2.0, -0.5]])
    lrs = optimizers.get(name).defaults["lr"] * np.array([1.0, 5.0, 20.0])
    kw = {"lookahead_k": 4, "lookahead_alpha": 0.3}
    res = optviz.run_batch(name, "rosenbrock", starts=starts, steps=60, lr=lrs, **kw)
    assert res.kernel_path == "vectorised"
    for i, start in enumerate(starts):
        traj = optviz.run(name, "rosenbrock", start=tuple(start), steps=60, lr=lrs[i], **kw)
        assert tuple(res.final_xy[i]) == traj.final
        assert res.status[i] == traj.status and res.stopped_at[i] == traj.stopped_at
        assert math.isfinite(traj.loss[0])
