"""Numba formulas of every surface: value, gradient, Hessian and, for sums of squares, the
residuals and the Gauss–Newton matrix.

**One block per surface.** Each surface is one class below, decorated with
``@surface(<id>, "<name>")``, whose functions are its formulas::

    value(x, y, p, data_x, data_y)                  -> f
    gradient(x, y, p, data_x, data_y, idx, nidx)    -> (f_x, f_y)
    hessian(x, y, p, data_x, data_y)                -> (f_xx, f_xy, f_yy)
    # sums of squares f = scale · Σₖ rₖ² only (Levenberg–Marquardt needs them):
    gauss_newton(x, y, p, data_x, data_y)           -> 2·scale·JᵀJ as (a, b, c)
    residuals(x, y, p, data_x, data_y, out)         -> (scale, m), rₖ written to out[:m]

Helpers a block shares between its formulas (Beale's residual and its derivatives) sit just
above it. The block's functions are compiled ``inline="always"``; the public functions
:func:`value`, :func:`gradient`, :func:`hessian`, :func:`gauss_newton` and :func:`residuals`
take the surface id first and are *generated* from the blocks at the end of this module (one
``if sid == …`` line per block), so a new surface is its block plus its catalog entry in
:mod:`surfaces.catalog`, and nothing else here. The optimizer kernel inlines ``gradient`` and
``value`` into its step loop (``optviz._kernel``), so the integer dispatch costs nothing and
every surface shares one compiled kernel.

Input contract, shared by all:

- ``sid``: surface id (``SURFACE_IDS``: name → id, filled by the blocks).
- ``x, y``: the point.
- ``p``: float64 parameter vector, meaning per surface (see ``surfaces.catalog``):
  ravine ``[kappa, cos(angle), sin(angle)]``, plateau ``[width]``, sparse_logreg ``[l2]``,
  formula: the compiled program ``[n, op_0, arg_0, …]`` of :mod:`surfaces.formula`.
- ``data_x, data_y``: data of the data surfaces (``data_x`` shape (n, 2) features, ``data_y``
  shape (n,) targets); empty arrays for the analytic surfaces.
- ``idx, nidx``: the rows of the data that form the current mini-batch (the first ``nidx``
  entries of ``idx``); ignored by the analytic surfaces. ``value``, ``hessian`` and the rest
  use all the data.
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

# ---- the registry: blocks become the dispatch -------------------------------------------------

# Each part of a block: its parameters after ``sid`` and what the dispatch returns for an id
# without that part (a surface that is not a sum of squares has no gauss_newton/residuals).
PARTS: dict[str, tuple[str, str]] = {
    "value": ("x, y, p, data_x, data_y", "math.nan"),
    "gradient": ("x, y, p, data_x, data_y, idx, nidx", "math.nan, math.nan"),
    "hessian": ("x, y, p, data_x, data_y", "math.nan, math.nan, math.nan"),
    "gauss_newton": ("x, y, p, data_x, data_y", "math.nan, math.nan, math.nan"),
    "residuals": ("x, y, p, data_x, data_y, out", "math.nan, 0"),
}
REQUIRED_PARTS = ("value", "gradient", "hessian")
SUM_OF_SQUARES_PARTS = ("gauss_newton", "residuals")

SURFACE_IDS: dict[str, int] = {}
_BLOCKS: dict[int, tuple[str, frozenset[str]]] = {}  # id -> (name, the parts it has)


def surface(sid: int, name: str):
    """Register the class below as the block of formulas of surface ``name`` with id ``sid``.

    Each function of the class named in :data:`PARTS` is compiled ``inline="always"`` and kept
    as the module-level ``_<name>_<part>``, which the generated dispatch calls. Ids are the
    blocks' order, 0, 1, 2, …
    """

    def register(block: type) -> type:
        if sid != len(_BLOCKS) or name in SURFACE_IDS:
            raise ValueError(f"surface {name!r}: id {sid} is not the next one ({len(_BLOCKS)})")
        parts = [k for k in PARTS if k in vars(block)]
        missing = [k for k in REQUIRED_PARTS if k not in parts]
        sums = [k for k in SUM_OF_SQUARES_PARTS if k in parts]
        if missing or 0 < len(sums) < len(SUM_OF_SQUARES_PARTS):
            raise ValueError(
                f"surface {name!r} needs {', '.join(REQUIRED_PARTS)} and either both or none of "
                f"{', '.join(SUM_OF_SQUARES_PARTS)}; it has {', '.join(parts)}"
            )
        for part in parts:
            fn = vars(block)[part]
            globals()[f"_{name}_{part}"] = njit(inline="always", error_model="numpy")(fn)
        SURFACE_IDS[name] = sid
        _BLOCKS[sid] = (name, frozenset(parts))
        return block

    return register


def block_parts(sid: int) -> frozenset[str]:
    """The parts (names in :data:`PARTS`) the block of surface ``sid`` has."""
    return _BLOCKS[sid][1]


def dispatch_source(part: str) -> str:
    """The Python source of the public function ``part`` (e.g. ``"gradient"``): one
    ``if sid == <id>:`` line per block that has that part, in id order."""
    params, fallback = PARTS[part]
    lines = [f"def {part}(sid, {params}):", f"    {_DOCS[part]!r}"]
    for sid, (name, parts) in _BLOCKS.items():
        if part in parts:  # the block's function takes the same parameters, sid aside
            lines += [f"    if sid == {sid}:", f"        return _{name}_{part}({params})"]
    lines.append(f"    return {fallback}")
    return "\n".join(lines) + "\n"


_DOCS = {
    "value": "f(x, y) over the whole data set (data surfaces) or in closed form.",
    "gradient": "(∂f/∂x, ∂f/∂y); for data surfaces the mean over the rows ``idx[:nidx]``.",
    "hessian": "(f_xx, f_xy, f_yy) over the whole data set.",
    "gauss_newton": "Gauss–Newton matrix 2·scale·JᵀJ of a sum-of-squares surface, as (a, b, c):"
    " the Hessian without the residual-curvature term; NaN for surfaces that are not sums of"
    " squares (the Python layer refuses Levenberg–Marquardt there).",
    "residuals": "(scale, m) with the residuals r_1..r_m written to out[:m], f = scale·Σ r_k²"
    " (all the data); (NaN, 0) for surfaces that are not sums of squares.",
}


# ---- helpers shared by several surfaces --------------------------------------------------------


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


_TWO_PI = 2.0 * math.pi


# ================================================================================================
# The surfaces, one block each. A formula is written once; where two parts compute the same
# quantity with a different order of floating-point operations (Beale's residuals in value and
# gradient), the order is kept as it was so that every trajectory stays bit for bit the same.
# ================================================================================================

RAVINE = 0


@surface(RAVINE, "ravine")
class Ravine:
    """½ (u² + κ w²) in the coordinates (u, w) rotated by α; p = [κ, cos α, sin α]."""

    def value(x, y, p, data_x, data_y):
        c = p[1]
        s = p[2]
        u = c * x + s * y
        w = -s * x + c * y
        return 0.5 * (u * u + p[0] * w * w)

    def gradient(x, y, p, data_x, data_y, idx, nidx):
        c = p[1]
        s = p[2]
        u = c * x + s * y
        w = -s * x + c * y
        k = p[0]
        return c * u - s * k * w, s * u + c * k * w

    def hessian(x, y, p, data_x, data_y):
        c = p[1]
        s = p[2]
        k = p[0]
        return c * c + k * s * s, c * s - k * s * c, s * s + k * c * c


SADDLE = 1


@surface(SADDLE, "saddle")
class Saddle:
    """x² − y²."""

    def value(x, y, p, data_x, data_y):
        return x * x - y * y

    def gradient(x, y, p, data_x, data_y, idx, nidx):
        return 2.0 * x, -2.0 * y

    def hessian(x, y, p, data_x, data_y):
        return 2.0, 0.0, -2.0


MONKEY_SADDLE = 2


@surface(MONKEY_SADDLE, "monkey_saddle")
class MonkeySaddle:
    """x³ − 3xy²."""

    def value(x, y, p, data_x, data_y):
        return x * x * x - 3.0 * x * y * y

    def gradient(x, y, p, data_x, data_y, idx, nidx):
        return 3.0 * x * x - 3.0 * y * y, -6.0 * x * y

    def hessian(x, y, p, data_x, data_y):
        return 6.0 * x, -6.0 * y, -6.0 * x


PLATEAU = 3


@surface(PLATEAU, "plateau")
class Plateau:
    """1 − exp(−(x² + y²)/(2w²)); p = [w]."""

    def value(x, y, p, data_x, data_y):
        s2 = p[0] * p[0]
        return 1.0 - math.exp(-(x * x + y * y) / (2.0 * s2))

    def gradient(x, y, p, data_x, data_y, idx, nidx):
        s2 = p[0] * p[0]
        e = math.exp(-(x * x + y * y) / (2.0 * s2)) / s2
        return x * e, y * e

    def hessian(x, y, p, data_x, data_y):
        s2 = p[0] * p[0]
        e = math.exp(-(x * x + y * y) / (2.0 * s2)) / s2
        return e * (1.0 - x * x / s2), -e * x * y / s2, e * (1.0 - y * y / s2)


NOISY_LINREG = 4


@njit(inline="always", error_model="numpy")
def _linreg_residual(i, x, y, data_x, data_y):
    """rᵢ = w xᵢ + b − yᵢ at (w, b) = (x, y)."""
    return x * data_x[i, 0] + y - data_y[i]


@surface(NOISY_LINREG, "noisy_linreg")
class NoisyLinreg:
    """(1/n) Σᵢ rᵢ², rᵢ = w xᵢ + b − yᵢ at (w, b) = (x, y); data_x[:, 0] = xᵢ, data_y = yᵢ.

    Linear residuals: the Hessian is the Gauss–Newton matrix."""

    def value(x, y, p, data_x, data_y):
        acc = 0.0
        n = data_y.shape[0]
        for i in range(n):
            r = _linreg_residual(i, x, y, data_x, data_y)
            acc += r * r
        return acc / n

    def gradient(x, y, p, data_x, data_y, idx, nidx):
        gx = 0.0
        gy = 0.0
        for j in range(nidx):
            i = idx[j]
            r = _linreg_residual(i, x, y, data_x, data_y)
            gx += r * data_x[i, 0]
            gy += r
        return 2.0 * gx / nidx, 2.0 * gy / nidx

    def hessian(x, y, p, data_x, data_y):
        sxx = 0.0
        sx = 0.0
        n = data_y.shape[0]
        for i in range(n):
            sxx += data_x[i, 0] * data_x[i, 0]
            sx += data_x[i, 0]
        return 2.0 * sxx / n, 2.0 * sx / n, 2.0

    def gauss_newton(x, y, p, data_x, data_y):
        # A call, not the Hessian's loop inlined: kept small, gauss_newton stays cheap to call
        # (LLVM inlines it into the Levenberg–Marquardt step; ~15 % faster on Beale).
        return hessian(NOISY_LINREG, x, y, p, data_x, data_y)  # noqa: F821 (generated below)

    def residuals(x, y, p, data_x, data_y, out):
        n = data_y.shape[0]
        for i in range(n):
            out[i] = _linreg_residual(i, x, y, data_x, data_y)
        return 1.0 / n, n


ROSENBROCK = 5


@surface(ROSENBROCK, "rosenbrock")
class Rosenbrock:
    """(1 − x)² + 100 (y − x²)²: residuals r = (1 − x, 10 (y − x²))."""

    def value(x, y, p, data_x, data_y):
        a = 1.0 - x
        b = y - x * x
        return a * a + 100.0 * b * b

    def gradient(x, y, p, data_x, data_y, idx, nidx):
        b = y - x * x
        return -2.0 * (1.0 - x) - 400.0 * x * b, 200.0 * b

    def hessian(x, y, p, data_x, data_y):
        return 2.0 - 400.0 * (y - x * x) + 800.0 * x * x, -400.0 * x, 200.0

    def gauss_newton(x, y, p, data_x, data_y):
        # J = [[−1, 0], [−20x, 10]]; 2JᵀJ is the Hessian without −400 (y − x²).
        return 2.0 + 800.0 * x * x, -400.0 * x, 200.0

    def residuals(x, y, p, data_x, data_y, out):
        out[0] = 1.0 - x
        out[1] = 10.0 * (y - x * x)
        return 1.0, 2


BEALE = 6
_BEALE_C = (1.5, 2.25, 2.625)


@njit(inline="always", error_model="numpy")
def _beale_residual(k, x, y):
    """Residual k (0, 1, 2) of Beale, rₙ = cₙ − x + x yⁿ with n = k + 1, and its derivatives:
    (r, ∂r/∂x, ∂r/∂y, ∂²r/∂x∂y, ∂²r/∂y²); ∂²r/∂x² = 0."""
    n = k + 1
    yn = y**n
    r = _BEALE_C[k] - x + x * yn
    rx = yn - 1.0
    ry = x * n * y ** (n - 1)
    rxy = n * y ** (n - 1)
    ryy = x * n * (n - 1) * y ** (n - 2) if n >= 2 else 0.0
    return r, rx, ry, rxy, ryy


@surface(BEALE, "beale")
class Beale:
    """Σₙ rₙ², rₙ = cₙ − x + x yⁿ, c = (1.5, 2.25, 2.625), n = 1, 2, 3 (see _beale_residual)."""

    def value(x, y, p, data_x, data_y):
        # The residuals as x·y·y (not x·y²): the value's rounding since the first release.
        r1 = 1.5 - x + x * y
        r2 = 2.25 - x + x * y * y
        r3 = 2.625 - x + x * y * y * y
        return r1 * r1 + r2 * r2 + r3 * r3

    def gradient(x, y, p, data_x, data_y, idx, nidx):
        gx = 0.0
        gy = 0.0
        for k in range(3):
            r, rx, _, _, _ = _beale_residual(k, x, y)
            gx += 2.0 * r * rx
            # 2 r ∂r/∂y multiplied left to right, the gradient's rounding since the first release.
            gy += 2.0 * r * x * (k + 1) * y**k
        return gx, gy

    def hessian(x, y, p, data_x, data_y):
        hxx = 0.0
        hxy = 0.0
        hyy = 0.0
        for k in range(3):
            r, rx, ry, rxy, ryy = _beale_residual(k, x, y)
            hxx += 2.0 * rx * rx
            hxy += 2.0 * (rx * ry + r * rxy)
            hyy += 2.0 * (ry * ry + r * ryy)
        return hxx, hxy, hyy

    def gauss_newton(x, y, p, data_x, data_y):
        hxx = 0.0
        hxy = 0.0
        hyy = 0.0
        for k in range(3):
            _, rx, ry, _, _ = _beale_residual(k, x, y)
            hxx += 2.0 * rx * rx
            hxy += 2.0 * rx * ry
            hyy += 2.0 * ry * ry
        return hxx, hxy, hyy

    def residuals(x, y, p, data_x, data_y, out):
        for k in range(3):
            out[k] = _beale_residual(k, x, y)[0]
        return 1.0, 3


HIMMELBLAU = 7


@surface(HIMMELBLAU, "himmelblau")
class Himmelblau:
    """(x² + y − 11)² + (x + y² − 7)²."""

    def value(x, y, p, data_x, data_y):
        a = x * x + y - 11.0
        b = x + y * y - 7.0
        return a * a + b * b

    def gradient(x, y, p, data_x, data_y, idx, nidx):
        a = x * x + y - 11.0
        b = x + y * y - 7.0
        return 4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b

    def hessian(x, y, p, data_x, data_y):
        return (
            12.0 * x * x + 4.0 * y - 42.0,
            4.0 * x + 4.0 * y,
            4.0 * x + 12.0 * y * y - 26.0,
        )


RASTRIGIN = 8


@surface(RASTRIGIN, "rastrigin")
class Rastrigin:
    """20 + x² + y² − 10 (cos 2πx + cos 2πy)."""

    def value(x, y, p, data_x, data_y):
        return 20.0 + x * x + y * y - 10.0 * (math.cos(_TWO_PI * x) + math.cos(_TWO_PI * y))

    def gradient(x, y, p, data_x, data_y, idx, nidx):
        return (
            2.0 * x + 10.0 * _TWO_PI * math.sin(_TWO_PI * x),
            2.0 * y + 10.0 * _TWO_PI * math.sin(_TWO_PI * y),
        )

    def hessian(x, y, p, data_x, data_y):
        c = 10.0 * _TWO_PI * _TWO_PI
        return 2.0 + c * math.cos(_TWO_PI * x), 0.0, 2.0 + c * math.cos(_TWO_PI * y)


BOOTH = 9


@surface(BOOTH, "booth")
class Booth:
    """(x + 2y − 7)² + (2x + y − 5)²."""

    def value(x, y, p, data_x, data_y):
        a = x + 2.0 * y - 7.0
        b = 2.0 * x + y - 5.0
        return a * a + b * b

    def gradient(x, y, p, data_x, data_y, idx, nidx):
        a = x + 2.0 * y - 7.0
        b = 2.0 * x + y - 5.0
        return 2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b

    def hessian(x, y, p, data_x, data_y):
        return 10.0, 8.0, 10.0


SPARSE_LOGREG = 10


@surface(SPARSE_LOGREG, "sparse_logreg")
class SparseLogreg:
    """(1/n) Σᵢ log(1 + exp(−yᵢ (w₁ aᵢ + w₂ cᵢ))) + (λ/2)‖w‖²; data_x = [a, c], data_y = ±1,
    p = [λ]."""

    def value(x, y, p, data_x, data_y):
        acc = 0.0
        n = data_y.shape[0]
        for i in range(n):
            z = x * data_x[i, 0] + y * data_x[i, 1]
            acc += _softplus(-data_y[i] * z)
        return acc / n + 0.5 * p[0] * (x * x + y * y)

    def gradient(x, y, p, data_x, data_y, idx, nidx):
        gx = 0.0
        gy = 0.0
        for j in range(nidx):
            i = idx[j]
            z = x * data_x[i, 0] + y * data_x[i, 1]
            c = -data_y[i] * _sigmoid(-data_y[i] * z)
            gx += c * data_x[i, 0]
            gy += c * data_x[i, 1]
        return gx / nidx + p[0] * x, gy / nidx + p[0] * y

    def hessian(x, y, p, data_x, data_y):
        hxx = 0.0
        hxy = 0.0
        hyy = 0.0
        n = data_y.shape[0]
        for i in range(n):
            z = x * data_x[i, 0] + y * data_x[i, 1]
            s = _sigmoid(z)
            w = s * (1.0 - s)
            hxx += w * data_x[i, 0] * data_x[i, 0]
            hxy += w * data_x[i, 0] * data_x[i, 1]
            hyy += w * data_x[i, 1] * data_x[i, 1]
        return hxx / n + p[0], hxy / n, hyy / n + p[0]


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


FORMULA = 11


@surface(FORMULA, "formula")
class Formula:
    """A typed f(x, y): p is its program, run by :func:`formula_eval` above."""

    def value(x, y, p, data_x, data_y):
        return formula_eval(p, x, y, 0)[0]

    def gradient(x, y, p, data_x, data_y, idx, nidx):
        r = formula_eval(p, x, y, 1)
        return r[1], r[2]

    def hessian(x, y, p, data_x, data_y):
        r = formula_eval(p, x, y, 2)
        return r[3], r[4], r[5]


# ================================================================================================
# The dispatch, generated from the blocks: ``value(sid, …)`` runs ``_<name>_value(…)`` of the
# block with that id, and so on (print ``dispatch_source("gradient")`` to read one). Compiled from
# this file's name so that Numba caches them on disk like the functions written out here.
# ================================================================================================


def _generate(part: str):
    code = compile(dispatch_source(part), __file__, "exec")
    exec(code, globals())  # defines the plain Python function `part` in this module
    return njit(cache=True, error_model="numpy")(globals()[part])


value = _generate("value")
gradient = _generate("gradient")
hessian = _generate("hessian")
gauss_newton = _generate("gauss_newton")
residuals = _generate("residuals")


@njit(cache=True, error_model="numpy", nogil=True)
def value_grid(sid, xs, ys, p, data_x, data_y, out):
    """Fill ``out[i] = f(xs[i], ys[i])`` for flat arrays (contour grids)."""
    for i in range(xs.shape[0]):
        out[i] = value(sid, xs[i], ys[i], p, data_x, data_y)


@njit(cache=True, error_model="numpy")
def derivatives_grid(sid, xs, ys, p, data_x, data_y, grad_out, hess_out):
    """Full-data gradient (n, 2) and Hessian (n, 3: xx, xy, yy) at flat arrays of points."""
    n = data_y.shape[0]
    idx = np.arange(n)
    for i in range(xs.shape[0]):
        gx, gy = gradient(sid, xs[i], ys[i], p, data_x, data_y, idx, n)
        grad_out[i, 0] = gx
        grad_out[i, 1] = gy
        a, b, c = hessian(sid, xs[i], ys[i], p, data_x, data_y)
        hess_out[i, 0] = a
        hess_out[i, 1] = b
        hess_out[i, 2] = c


@njit(cache=True, error_model="numpy")
def stationary_search(sid, p, data_x, data_y, starts, saddle_free, iters, max_step, out):
    """Newton iterations from each row of ``starts``; where each ended goes to ``out``.

    ``saddle_free``: the Hessian's eigenvalues replaced by their absolute values (floored), with
    a backtracking line search on f, so every step descends and the search ends in minima.
    Otherwise plain Newton steps, which converge to any nearby stationary point (saddles too).
    Steps are capped to ``max_step`` (x, y). Used to find a typed formula's minima and saddles.
    """
    n = data_y.shape[0]
    idx = np.arange(n)
    for i in range(starts.shape[0]):
        x = starts[i, 0]
        y = starts[i, 1]
        f = value(sid, x, y, p, data_x, data_y)
        for _ in range(iters):
            gx, gy = gradient(sid, x, y, p, data_x, data_y, idx, n)
            a, b, c = hessian(sid, x, y, p, data_x, data_y)
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
                    ft = value(sid, x + t * sx, y + t * sy, p, data_x, data_y)
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
                f = value(sid, x, y, p, data_x, data_y)
            if abs(sx) + abs(sy) <= 1e-15 * (1.0 + abs(x) + abs(y)):
                break
        out[i, 0] = x
        out[i, 1] = y
