"""Numba formulas of every surface: value, gradient, Hessian and Gauss–Newton matrix.

Every function dispatches on an integer surface id so that the optimizer kernel, which calls
them in its inner loop, compiles once for all surfaces. Input contract, shared by all:

- ``sid``: surface id (the ``SURFACE_IDS`` table below).
- ``x, y``: the point.
- ``p``: float64 parameter vector, meaning per surface (see ``surfaces.catalog``):
  ravine ``[kappa, cos(angle), sin(angle)]``, plateau ``[width]``, sparse_logreg ``[l2]``,
  formula: the compiled program ``[n, op_0, arg_0, …]`` of :mod:`surfaces.formula`.
- ``dx, dy``: data of the data surfaces (``dx`` shape (n, 2) features, ``dy`` shape (n,) targets);
  empty arrays for the analytic surfaces.
- ``idx, nidx``: the rows of the data that form the current mini-batch (the first ``nidx``
  entries of ``idx``); ignored by the analytic surfaces.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from surfaces import _jit_cache

_jit_cache.configure()

RAVINE = 0
SADDLE = 1
MONKEY_SADDLE = 2
PLATEAU = 3
NOISY_LINREG = 4
ROSENBROCK = 5
BEALE = 6
HIMMELBLAU = 7
RASTRIGIN = 8
BOOTH = 9
SPARSE_LOGREG = 10
FORMULA = 11

SURFACE_IDS = {
    "ravine": RAVINE,
    "saddle": SADDLE,
    "monkey_saddle": MONKEY_SADDLE,
    "plateau": PLATEAU,
    "noisy_linreg": NOISY_LINREG,
    "rosenbrock": ROSENBROCK,
    "beale": BEALE,
    "himmelblau": HIMMELBLAU,
    "rastrigin": RASTRIGIN,
    "booth": BOOTH,
    "sparse_logreg": SPARSE_LOGREG,
    "formula": FORMULA,
}

_BEALE_C = (1.5, 2.25, 2.625)
_TWO_PI = 2.0 * math.pi


@njit(cache=True, error_model="numpy")
def _softplus(z: float) -> float:
    # log(1 + e^z) without overflow for large |z|.
    if z > 0.0:
        return z + math.log1p(math.exp(-z))
    return math.log1p(math.exp(z))


@njit(cache=True, error_model="numpy")
def _sigmoid(z: float) -> float:
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


# ---- your own f(x, y): the stack-machine interpreter of surfaces.formula ----------------------
# Opcodes (the same table as surfaces.formula): push a constant, x or y; binary operations on the
# two top entries; unary functions of the top entry. Each stack entry is a second-order dual
# number, 6 floats: value, ∂/∂x, ∂/∂y, ∂²/∂x², ∂²/∂x∂y, ∂²/∂y², so the program yields the exact
# gradient and Hessian (forward mode, no finite differences).
F_CONST, F_X, F_Y = 0, 1, 2
F_ADD, F_SUB, F_MUL, F_DIV, F_MIN, F_MAX = 3, 4, 5, 6, 7, 8
F_NEG, F_POWC, F_SIN, F_COS, F_TAN, F_EXP, F_LOG, F_SQRT, F_TANH, F_ABS = range(9, 19)
MAX_STACK = 32
_DUAL = 6


@intrinsic
def _stack_memory(typingctx):
    """MAX_STACK dual numbers on the machine stack, allocated once in the entry block of the
    function that uses them: no heap allocation (the step loops run without NRT) and no growth
    when the call is inlined into a loop."""

    def codegen(context, builder, signature, args):
        return cgutils.alloca_once(builder, ir.DoubleType(), size=MAX_STACK * _DUAL)

    return types.CPointer(types.float64)(), codegen


@intrinsic
def _load(typingctx, ptr, i):
    """``ptr[i]`` for a raw float64 pointer."""

    def codegen(context, builder, signature, args):
        k = context.cast(builder, args[1], signature.args[1], types.intp)
        return builder.load(builder.gep(args[0], [k]))

    return types.float64(ptr, i), codegen


@intrinsic
def _store(typingctx, ptr, i, v):
    """``ptr[i] = v`` for a raw float64 pointer."""

    def codegen(context, builder, signature, args):
        k = context.cast(builder, args[1], signature.args[1], types.intp)
        val = context.cast(builder, args[2], signature.args[2], types.float64)
        builder.store(val, builder.gep(args[0], [k]))
        return context.get_dummy_value()

    return types.void(ptr, i, v), codegen


@njit(cache=True, error_model="numpy")
def formula_eval(p, x, y, order):
    """Run the compiled formula ``p`` at (x, y): (f, f_x, f_y, f_xx, f_xy, f_yy).

    ``order`` 0 computes the value only, 1 also the gradient, 2 also the Hessian (the entries
    not asked for are returned as 0). Domain errors (log of a negative number, 0/0, …) give NaN
    or ±inf, which the engine reports as divergence.
    """
    s = _stack_memory()  # a raw pointer: no array object, so no NRT even when inlined
    n = int(p[0])
    if n < 1 or 2 * n + 1 > p.shape[0]:
        return math.nan, math.nan, math.nan, math.nan, math.nan, math.nan
    top = -1
    for k in range(n):
        op = int(p[1 + 2 * k])
        arg = p[2 + 2 * k]
        if op <= F_Y:
            top += 1
            if top >= MAX_STACK:
                return math.nan, math.nan, math.nan, math.nan, math.nan, math.nan
            b = _DUAL * top
            _store(s, b, arg if op == F_CONST else (x if op == F_X else y))
            _store(s, b + 1, 1.0 if op == F_X else 0.0)
            _store(s, b + 2, 1.0 if op == F_Y else 0.0)
            _store(s, b + 3, 0.0)
            _store(s, b + 4, 0.0)
            _store(s, b + 5, 0.0)
            continue
        if op <= F_MAX:
            if top < 1:
                return math.nan, math.nan, math.nan, math.nan, math.nan, math.nan
            a = _DUAL * (top - 1)  # left operand; the result goes here
            b = _DUAL * top  # right operand
            top -= 1
            u = _load(s, a)
            v = _load(s, b)
            if op == F_ADD or op == F_SUB:
                sg = 1.0 if op == F_ADD else -1.0
                for j in range(_DUAL):
                    _store(s, a + j, _load(s, a + j) + sg * _load(s, b + j))
            elif op == F_MUL:
                ux = _load(s, a + 1)
                uy = _load(s, a + 2)
                vx = _load(s, b + 1)
                vy = _load(s, b + 2)
                _store(s, a, u * v)
                if order >= 1:
                    _store(s, a + 1, u * vx + v * ux)
                    _store(s, a + 2, u * vy + v * uy)
                if order >= 2:
                    _store(s, a + 3, u * _load(s, b + 3) + v * _load(s, a + 3) + 2.0 * ux * vx)
                    _store(s, a + 4, u * _load(s, b + 4) + v * _load(s, a + 4) + ux * vy + vx * uy)
                    _store(s, a + 5, u * _load(s, b + 5) + v * _load(s, a + 5) + 2.0 * uy * vy)
            elif op == F_DIV:
                # q = u/v; from u = q·v: ∇q = (∇u − q∇v)/v, Hq = (Hu − q·Hv − ∇q∇vᵀ − ∇v∇qᵀ)/v.
                q = u / v
                _store(s, a, q)
                if order >= 1:
                    vx = _load(s, b + 1)
                    vy = _load(s, b + 2)
                    qx = (_load(s, a + 1) - q * vx) / v
                    qy = (_load(s, a + 2) - q * vy) / v
                    _store(s, a + 1, qx)
                    _store(s, a + 2, qy)
                    if order >= 2:
                        _store(
                            s, a + 3, (_load(s, a + 3) - q * _load(s, b + 3) - 2.0 * qx * vx) / v
                        )
                        _store(
                            s,
                            a + 4,
                            (_load(s, a + 4) - q * _load(s, b + 4) - qx * vy - vx * qy) / v,
                        )
                        _store(
                            s, a + 5, (_load(s, a + 5) - q * _load(s, b + 5) - 2.0 * qy * vy) / v
                        )
            else:  # min / max: the chosen operand's derivatives (the first one on a tie)
                if u != u or v != v:
                    _store(s, a, math.nan)
                elif (op == F_MIN and v < u) or (op == F_MAX and v > u):
                    for j in range(_DUAL):
                        _store(s, a + j, _load(s, b + j))
            continue
        # unary f(u) on the top entry: value f, first and second derivatives d1, d2.
        if top < 0:
            return math.nan, math.nan, math.nan, math.nan, math.nan, math.nan
        b = _DUAL * top
        u = _load(s, b)
        d1 = 0.0
        d2 = 0.0
        if op == F_NEG:
            f = -u
            d1 = -1.0
        elif op == F_POWC:
            f = u**arg
            if arg == 0.0:
                f = 1.0
            elif arg == 1.0:
                d1 = 1.0
            elif arg == 2.0:
                d1 = 2.0 * u
                d2 = 2.0
            else:
                d1 = arg * u ** (arg - 1.0)
                d2 = arg * (arg - 1.0) * u ** (arg - 2.0)
        elif op == F_SIN:
            f = math.sin(u)
            d1 = math.cos(u)
            d2 = -f
        elif op == F_COS:
            f = math.cos(u)
            d1 = -math.sin(u)
            d2 = -f
        elif op == F_TAN:
            f = math.tan(u)
            d1 = 1.0 + f * f
            d2 = 2.0 * f * d1
        elif op == F_EXP:
            f = math.exp(u)
            d1 = f
            d2 = f
        elif op == F_LOG:
            f = math.log(u) if u >= 0.0 else math.nan
            d1 = 1.0 / u
            d2 = -d1 * d1
        elif op == F_SQRT:
            f = math.sqrt(u) if u >= 0.0 else math.nan
            d1 = 0.5 / f
            d2 = -0.5 * d1 / u
        elif op == F_TANH:
            f = math.tanh(u)
            d1 = 1.0 - f * f
            d2 = -2.0 * f * d1
        elif op == F_ABS:
            f = abs(u)
            d1 = 1.0 if u > 0.0 else (-1.0 if u < 0.0 else 0.0)
            if u != u:
                d1 = math.nan
        else:
            return math.nan, math.nan, math.nan, math.nan, math.nan, math.nan
        _store(s, b, f)
        if order >= 1:
            ux = _load(s, b + 1)
            uy = _load(s, b + 2)
            _store(s, b + 1, d1 * ux)
            _store(s, b + 2, d1 * uy)
            if order >= 2:
                _store(s, b + 3, d2 * ux * ux + d1 * _load(s, b + 3))
                _store(s, b + 4, d2 * ux * uy + d1 * _load(s, b + 4))
                _store(s, b + 5, d2 * uy * uy + d1 * _load(s, b + 5))
    if top != 0:
        return math.nan, math.nan, math.nan, math.nan, math.nan, math.nan
    return _load(s, 0), _load(s, 1), _load(s, 2), _load(s, 3), _load(s, 4), _load(s, 5)


@njit(cache=True, error_model="numpy")
def value(sid, x, y, p, dx, dy):
    """f(x, y) over the whole data set (data surfaces) or in closed form."""
    if sid == RAVINE:
        u = p[1] * x + p[2] * y
        w = -p[2] * x + p[1] * y
        return 0.5 * (u * u + p[0] * w * w)
    if sid == SADDLE:
        return x * x - y * y
    if sid == MONKEY_SADDLE:
        return x * x * x - 3.0 * x * y * y
    if sid == PLATEAU:
        s2 = p[0] * p[0]
        return 1.0 - math.exp(-(x * x + y * y) / (2.0 * s2))
    if sid == NOISY_LINREG:
        acc = 0.0
        n = dy.shape[0]
        for i in range(n):
            r = x * dx[i, 0] + y - dy[i]
            acc += r * r
        return acc / n
    if sid == ROSENBROCK:
        a = 1.0 - x
        b = y - x * x
        return a * a + 100.0 * b * b
    if sid == BEALE:
        r1 = 1.5 - x + x * y
        r2 = 2.25 - x + x * y * y
        r3 = 2.625 - x + x * y * y * y
        return r1 * r1 + r2 * r2 + r3 * r3
    if sid == HIMMELBLAU:
        a = x * x + y - 11.0
        b = x + y * y - 7.0
        return a * a + b * b
    if sid == RASTRIGIN:
        return 20.0 + x * x + y * y - 10.0 * (math.cos(_TWO_PI * x) + math.cos(_TWO_PI * y))
    if sid == BOOTH:
        a = x + 2.0 * y - 7.0
        b = 2.0 * x + y - 5.0
        return a * a + b * b
    if sid == SPARSE_LOGREG:
        acc = 0.0
        n = dy.shape[0]
        for i in range(n):
            z = x * dx[i, 0] + y * dx[i, 1]
            acc += _softplus(-dy[i] * z)
        return acc / n + 0.5 * p[0] * (x * x + y * y)
    if sid == FORMULA:
        return formula_eval(p, x, y, 0)[0]
    return math.nan


@njit(cache=True, error_model="numpy")
def gradient(sid, x, y, p, dx, dy, idx, nidx):
    """(∂f/∂x, ∂f/∂y); for data surfaces the mean over the rows ``idx[:nidx]``."""
    if sid == RAVINE:
        c = p[1]
        s = p[2]
        u = c * x + s * y
        w = -s * x + c * y
        k = p[0]
        return c * u - s * k * w, s * u + c * k * w
    if sid == SADDLE:
        return 2.0 * x, -2.0 * y
    if sid == MONKEY_SADDLE:
        return 3.0 * x * x - 3.0 * y * y, -6.0 * x * y
    if sid == PLATEAU:
        s2 = p[0] * p[0]
        e = math.exp(-(x * x + y * y) / (2.0 * s2)) / s2
        return x * e, y * e
    if sid == NOISY_LINREG:
        gx = 0.0
        gy = 0.0
        for j in range(nidx):
            i = idx[j]
            r = x * dx[i, 0] + y - dy[i]
            gx += r * dx[i, 0]
            gy += r
        return 2.0 * gx / nidx, 2.0 * gy / nidx
    if sid == ROSENBROCK:
        b = y - x * x
        return -2.0 * (1.0 - x) - 400.0 * x * b, 200.0 * b
    if sid == BEALE:
        gx = 0.0
        gy = 0.0
        for k in range(3):
            yk = y ** (k + 1)
            r = _BEALE_C[k] - x + x * yk
            gx += 2.0 * r * (yk - 1.0)
            gy += 2.0 * r * x * (k + 1) * y**k
        return gx, gy
    if sid == HIMMELBLAU:
        a = x * x + y - 11.0
        b = x + y * y - 7.0
        return 4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b
    if sid == RASTRIGIN:
        return (
            2.0 * x + 10.0 * _TWO_PI * math.sin(_TWO_PI * x),
            2.0 * y + 10.0 * _TWO_PI * math.sin(_TWO_PI * y),
        )
    if sid == BOOTH:
        a = x + 2.0 * y - 7.0
        b = 2.0 * x + y - 5.0
        return 2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b
    if sid == SPARSE_LOGREG:
        gx = 0.0
        gy = 0.0
        for j in range(nidx):
            i = idx[j]
            z = x * dx[i, 0] + y * dx[i, 1]
            c = -dy[i] * _sigmoid(-dy[i] * z)
            gx += c * dx[i, 0]
            gy += c * dx[i, 1]
        return gx / nidx + p[0] * x, gy / nidx + p[0] * y
    if sid == FORMULA:
        r = formula_eval(p, x, y, 1)
        return r[1], r[2]
    return math.nan, math.nan


@njit(cache=True, error_model="numpy")
def hessian(sid, x, y, p, dx, dy):
    """(f_xx, f_xy, f_yy) over the whole data set."""
    if sid == RAVINE:
        c = p[1]
        s = p[2]
        k = p[0]
        return c * c + k * s * s, c * s - k * s * c, s * s + k * c * c
    if sid == SADDLE:
        return 2.0, 0.0, -2.0
    if sid == MONKEY_SADDLE:
        return 6.0 * x, -6.0 * y, -6.0 * x
    if sid == PLATEAU:
        s2 = p[0] * p[0]
        e = math.exp(-(x * x + y * y) / (2.0 * s2)) / s2
        return e * (1.0 - x * x / s2), -e * x * y / s2, e * (1.0 - y * y / s2)
    if sid == NOISY_LINREG:
        sxx = 0.0
        sx = 0.0
        n = dy.shape[0]
        for i in range(n):
            sxx += dx[i, 0] * dx[i, 0]
            sx += dx[i, 0]
        return 2.0 * sxx / n, 2.0 * sx / n, 2.0
    if sid == ROSENBROCK:
        return 2.0 - 400.0 * (y - x * x) + 800.0 * x * x, -400.0 * x, 200.0
    if sid == BEALE:
        hxx = 0.0
        hxy = 0.0
        hyy = 0.0
        for k in range(3):
            n = k + 1
            yn = y**n
            r = _BEALE_C[k] - x + x * yn
            rx = yn - 1.0
            ry = x * n * y ** (n - 1)
            rxy = n * y ** (n - 1)
            ryy = x * n * (n - 1) * y ** (n - 2) if n >= 2 else 0.0
            hxx += 2.0 * rx * rx
            hxy += 2.0 * (rx * ry + r * rxy)
            hyy += 2.0 * (ry * ry + r * ryy)
        return hxx, hxy, hyy
    if sid == HIMMELBLAU:
        return (
            12.0 * x * x + 4.0 * y - 42.0,
            4.0 * x + 4.0 * y,
            4.0 * x + 12.0 * y * y - 26.0,
        )
    if sid == RASTRIGIN:
        c = 10.0 * _TWO_PI * _TWO_PI
        return 2.0 + c * math.cos(_TWO_PI * x), 0.0, 2.0 + c * math.cos(_TWO_PI * y)
    if sid == BOOTH:
        return 10.0, 8.0, 10.0
    if sid == SPARSE_LOGREG:
        hxx = 0.0
        hxy = 0.0
        hyy = 0.0
        n = dy.shape[0]
        for i in range(n):
            z = x * dx[i, 0] + y * dx[i, 1]
            s = _sigmoid(z)
            w = s * (1.0 - s)
            hxx += w * dx[i, 0] * dx[i, 0]
            hxy += w * dx[i, 0] * dx[i, 1]
            hyy += w * dx[i, 1] * dx[i, 1]
        return hxx / n + p[0], hxy / n, hyy / n + p[0]
    if sid == FORMULA:
        r = formula_eval(p, x, y, 2)
        return r[3], r[4], r[5]
    return math.nan, math.nan, math.nan


@njit(cache=True, error_model="numpy")
def gauss_newton(sid, x, y, p, dx, dy):
    """Gauss–Newton matrix 2·JᵀJ/scale of a sum-of-squares surface, as (a, b, c).

    It is the Hessian without the residual-curvature term; NaN for surfaces that are not sums
    of squares (the Python layer refuses Levenberg–Marquardt there).
    """
    if sid == NOISY_LINREG:
        return hessian(sid, x, y, p, dx, dy)
    if sid == ROSENBROCK:
        # residuals (1 - x, 10 (y - x²)); f = r1² + r2².
        return 2.0 + 800.0 * x * x, -400.0 * x, 200.0
    if sid == BEALE:
        hxx = 0.0
        hxy = 0.0
        hyy = 0.0
        for k in range(3):
            n = k + 1
            rx = y**n - 1.0
            ry = x * n * y ** (n - 1)
            hxx += 2.0 * rx * rx
            hxy += 2.0 * rx * ry
            hyy += 2.0 * ry * ry
        return hxx, hxy, hyy
    return math.nan, math.nan, math.nan


@njit(cache=True, error_model="numpy", nogil=True)
def value_grid(sid, xs, ys, p, dx, dy, out):
    """Fill ``out[i] = f(xs[i], ys[i])`` for flat arrays (contour grids)."""
    for i in range(xs.shape[0]):
        out[i] = value(sid, xs[i], ys[i], p, dx, dy)


@njit(cache=True, error_model="numpy")
def derivatives_grid(sid, xs, ys, p, dx, dy, grad_out, hess_out):
    """Full-data gradient (n, 2) and Hessian (n, 3: xx, xy, yy) at flat arrays of points."""
    n = dy.shape[0]
    idx = np.arange(n)
    for i in range(xs.shape[0]):
        gx, gy = gradient(sid, xs[i], ys[i], p, dx, dy, idx, n)
        grad_out[i, 0] = gx
        grad_out[i, 1] = gy
        a, b, c = hessian(sid, xs[i], ys[i], p, dx, dy)
        hess_out[i, 0] = a
        hess_out[i, 1] = b
        hess_out[i, 2] = c


@njit(cache=True, error_model="numpy")
def stationary_search(sid, p, dx, dy, starts, saddle_free, iters, max_step, out):
    """Newton iterations from each row of ``starts``; where each ended goes to ``out``.

    ``saddle_free``: the Hessian's eigenvalues replaced by their absolute values (floored), with
    a backtracking line search on f, so every step descends and the search ends in minima.
    Otherwise plain Newton steps, which converge to any nearby stationary point (saddles too).
    Steps are capped to ``max_step`` (x, y). Used to find a typed formula's minima and saddles.
    """
    n = dy.shape[0]
    idx = np.arange(n)
    for i in range(starts.shape[0]):
        x = starts[i, 0]
        y = starts[i, 1]
        f = value(sid, x, y, p, dx, dy)
        for _ in range(iters):
            gx, gy = gradient(sid, x, y, p, dx, dy, idx, n)
            a, b, c = hessian(sid, x, y, p, dx, dy)
            if not (math.isfinite(f) and math.isfinite(gx + gy) and math.isfinite(a + b + c)):
                break
            # Eigenvectors of [[a, b], [b, c]]: (cos θ, sin θ) for the larger eigenvalue.
            theta = 0.5 * math.atan2(2.0 * b, a - c)
            co = math.cos(theta)
            si = math.sin(theta)
            half = 0.5 * (a + c)
            rad = math.hypot(0.5 * (a - c), b)
            lmax = half + rad
            lmin = half - rad
            floor = 1e-8 * (1.0 + max(abs(lmax), abs(lmin)))
            if saddle_free:
                lmax = max(abs(lmax), floor)
                lmin = max(abs(lmin), floor)
            elif abs(lmin) < 1e-6 * floor or abs(lmax) < 1e-6 * floor:
                break  # singular: no Newton step
            g_max = co * gx + si * gy
            g_min = -si * gx + co * gy
            d_max = -g_max / lmax
            d_min = -g_min / lmin
            sx = co * d_max - si * d_min
            sy = si * d_max + co * d_min
            shrink = 1.0
            if abs(sx) > max_step[0]:
                shrink = max_step[0] / abs(sx)
            if abs(sy) * shrink > max_step[1]:
                shrink = max_step[1] / abs(sy)
            sx *= shrink
            sy *= shrink
            if saddle_free:
                t = 1.0
                moved = False
                for _ in range(40):
                    ft = value(sid, x + t * sx, y + t * sy, p, dx, dy)
                    if ft < f:
                        x += t * sx
                        y += t * sy
                        f = ft
                        moved = True
                        break
                    t *= 0.5
                if not moved:
                    break
            else:
                x += sx
                y += sy
                f = value(sid, x, y, p, dx, dy)
            if abs(sx) + abs(sy) <= 1e-15 * (1.0 + abs(x) + abs(y)):
                break
        out[i, 0] = x
        out[i, 1] = y
