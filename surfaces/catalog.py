"""The teaching surfaces: formulas, metadata and what each one is for.

A :class:`Surface` is a surface with its parameters bound: value, analytic gradient and Hessian
(all broadcasting over NumPy arrays, so a meshgrid gives a contour grid), plot bounds, known
minima and saddle points, default start points, its LaTeX formula and one sentence on what it
teaches. The formulas themselves live once, in :mod:`surfaces._kernels`, where the optimizer
kernel calls them; this module only describes and wraps them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from surfaces import _kernels as K
from surfaces import formula as _formula


@dataclass(frozen=True)
class Param:
    """A surface parameter: default, valid closed range, and a label for the UI."""

    default: float
    low: float
    high: float
    label: str
    integer: bool = False


@dataclass(frozen=True)
class Spec:
    """Static description of a surface family (parameters not yet bound)."""

    name: str
    title: str
    latex: str
    teaches: str
    params: dict[str, Param]
    # Builds (bounds, minima, saddles, starts, data) from the bound parameters.
    build: Callable[[dict[str, float]], dict]
    data_surface: bool = False
    # Runs that leave this radius (times the plot half-width) stop as "escaped" (unbounded below).
    escapes: bool = False
    # What the two coordinates mean, for axis titles and hover text (x, y for a plain function).
    axis_labels: tuple[str, str] = ("x", "y")
    # The "Data fit" view, where it applies: "line" = each point (w, b) = (x, y) is the line
    # t ↦ w·t + b fitted to the data points (data_x[:, 0], data_y); None = no such view.
    data_fit: str | None = None

    @property
    def sum_of_squares(self) -> bool:
        """f = scale·Σ rₖ² with residuals and their Jacobian known (what Levenberg–Marquardt
        needs): exactly when the surface's block in :mod:`surfaces._kernels` has them."""
        return "residuals" in K.block_parts(K.SURFACE_IDS[self.name])


# Every surface accepts Gaussian gradient noise; data surfaces also accept a mini-batch size.
COMMON_PARAMS = {"grad_noise": Param(0.0, 0.0, 100.0, "gradient noise σ")}
DATA_PARAMS = {"batch_size": Param(0, 0, 100_000, "batch size B (0 = all n)", integer=True)}


@dataclass(frozen=True)
class Point:
    """A stationary point: where it is and the value there."""

    x: float
    y: float
    value: float
    kind: str = "minimum"  # "minimum" | "saddle" | "maximum"


@dataclass(frozen=True)
class Surface:
    """A surface with bound parameters. Create it with :func:`surfaces.get`."""

    spec: Spec
    params: dict[str, float]
    bounds: tuple[tuple[float, float], tuple[float, float]]
    minima: tuple[Point, ...]
    saddles: tuple[Point, ...]
    starts: tuple[tuple[float, float], ...]
    kernel_params: np.ndarray
    data_x: np.ndarray
    data_y: np.ndarray
    extra: dict = field(default_factory=dict)

    # -- identity -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def id(self) -> int:
        return K.SURFACE_IDS[self.spec.name]

    @property
    def latex(self) -> str:
        return self.spec.latex

    @property
    def teaches(self) -> str:
        return self.spec.teaches

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def start(self) -> tuple[float, float]:
        """The default start point."""
        return self.starts[0]

    @property
    def grad_noise(self) -> float:
        return float(self.params.get("grad_noise", 0.0))

    @property
    def batch_size(self) -> int:
        """Mini-batch size actually used: n (full batch) when the parameter is 0 or ≥ n."""
        n = self.data_y.shape[0]
        b = int(self.params.get("batch_size", 0))
        return n if (b <= 0 or b >= n) else b

    @property
    def escape_radius(self) -> float:
        """Distance from the origin beyond which a run counts as escaped (inf: never)."""
        if not self.spec.escapes:
            return math.inf
        (x0, x1), (y0, y1) = self.bounds
        return 10.0 * max(abs(x0), abs(x1), abs(y0), abs(y1))

    # -- formulas -------------------------------------------------------------------------
    def value(self, x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
        """f(x, y), broadcasting over arrays (a meshgrid gives a contour grid)."""
        xs, ys = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
        out = np.empty(xs.size)
        K.value_grid(
            self.id,
            np.ascontiguousarray(xs).ravel(),
            np.ascontiguousarray(ys).ravel(),
            self.kernel_params,
            self.data_x,
            self.data_y,
            out,
        )
        return out.reshape(xs.shape)

    def _derivatives(self, x: np.ndarray | float, y: np.ndarray | float) -> tuple:
        xs, ys = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
        g = np.empty((xs.size, 2))
        h = np.empty((xs.size, 3))
        K.derivatives_grid(
            self.id,
            np.ascontiguousarray(xs).ravel(),
            np.ascontiguousarray(ys).ravel(),
            self.kernel_params,
            self.data_x,
            self.data_y,
            g,
            h,
        )
        return xs.shape, g, h

    def gradient(self, x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
        """∇f over the whole data set, shape ``broadcast(x, y).shape + (2,)``."""
        shape, g, _ = self._derivatives(x, y)
        return g.reshape(shape + (2,))

    def hessian(self, x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
        """∇²f, shape ``broadcast(x, y).shape + (2, 2)``."""
        shape, _, h = self._derivatives(x, y)
        full = np.stack([h[:, 0], h[:, 1], h[:, 1], h[:, 2]], axis=-1)
        return full.reshape(shape + (2, 2))

    def residuals(self, x: float, y: float) -> tuple[float, np.ndarray]:
        """(scale, r) with f(x, y) = scale·Σₖ rₖ² of a sum-of-squares surface (all the data);
        ValueError for the others."""
        if not self.spec.sum_of_squares:
            raise ValueError(f"surface {self.name!r} is not a sum of squares")
        out = np.empty(max(self.data_y.shape[0], 8))
        scale, m = K.residuals(
            self.id, float(x), float(y), self.kernel_params, self.data_x, self.data_y, out
        )
        return float(scale), out[:m].copy()

    @property
    def f_star(self) -> float | None:
        """The lowest value f takes, when it is known: the lowest listed minimum, or None for
        surfaces unbounded below. For a typed formula it is estimated (see
        :attr:`f_star_estimated`): the best minimum found numerically, and None when the plot
        has lower points than every minimum found."""
        if self.spec.name == "formula":
            return self.extra.get("f_star")
        return min(m.value for m in self.minima) if self.minima else None

    @property
    def f_star_estimated(self) -> bool:
        """True when :attr:`f_star` was found numerically (a typed formula), not known exactly."""
        return self.spec.name == "formula"

    def nearest_minimum(self, x: float, y: float) -> Point | None:
        """The listed minimum closest to (x, y), or None for surfaces without one."""
        if not self.minima:
            return None
        return min(self.minima, key=lambda m: math.hypot(m.x - x, m.y - y))

    def grid(self, resolution: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(xs, ys, Z) over the plot bounds: 1-D axes and Z of shape (len(ys), len(xs))."""
        (x0, x1), (y0, y1) = self.bounds
        xs = np.linspace(x0, x1, resolution)
        ys = np.linspace(y0, y1, resolution)
        X, Y = np.meshgrid(xs, ys)
        return xs, ys, self.value(X, Y)


# ---- builders: derived metadata from the bound parameters -------------------------------


def _analytic(bounds: tuple, minima: list, starts: list, saddles: list = (), kp: tuple = ()):
    return {
        "bounds": bounds,
        "minima": minima,
        "saddles": list(saddles),
        "starts": starts,
        "kernel_params": kp,
    }


def _build_ravine(p: dict) -> dict:
    a = math.radians(p["angle"])
    return _analytic(
        ((-3.0, 3.0), (-3.0, 3.0)),
        [(0.0, 0.0)],
        [(-2.5, 1.0), (2.5, -2.0)],
        kp=(p["kappa"], math.cos(a), math.sin(a)),
    )


def _build_plateau(p: dict) -> dict:
    w = p["width"]
    # Start where the gradient is ~1e-4: r·e^(−r²/2w²)/w² ≈ 1e-4.
    return _analytic(
        ((-6.0 * w, 6.0 * w), (-6.0 * w, 6.0 * w)),
        [(0.0, 0.0)],
        [(4.0 * w, 2.0 * w), (-3.5 * w, -3.0 * w)],
        kp=(w,),
    )


def _noisy_linreg_data(p: dict) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(int(p["seed"]))
    n = int(p["n"])
    xs = rng.uniform(0.0, 2.0, n)
    ys = p["w_true"] * xs + p["b_true"] + p["noise"] * rng.standard_normal(n)
    return np.column_stack([xs, np.ones(n)]), ys


def _build_noisy_linreg(p: dict) -> dict:
    dx, dy = _noisy_linreg_data(p)
    # Least squares in closed form: the exact minimum of the MSE.
    w, b = np.linalg.lstsq(dx, dy, rcond=None)[0]
    cw, cb = p["w_true"], p["b_true"]
    return {
        "bounds": ((cw - 5.0, cw + 5.0), (cb - 5.0, cb + 5.0)),
        "minima": [(float(w), float(b))],
        "saddles": [],
        "starts": [(cw - 4.0, cb + 4.0), (cw + 4.0, cb + 4.0)],
        "kernel_params": (),
        "data": (dx, dy),
    }


def _sparse_logreg_data(p: dict) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(int(p["seed"]))
    n = int(p["n"])
    dense = rng.standard_normal(n)
    rare = np.where(rng.random(n) < p["density"], rng.standard_normal(n) + 2.0, 0.0)
    logits = 1.0 * dense + 3.0 * rare
    labels = np.where(rng.random(n) < 1.0 / (1.0 + np.exp(-logits)), 1.0, -1.0)
    return np.column_stack([dense, rare]), labels


def _newton_polish(sid: int, x: float, y: float, kp: np.ndarray, dx: np.ndarray, dy: np.ndarray):
    """Refine a stationary point to machine precision with Newton's method."""
    n = dy.shape[0]
    idx = np.arange(n)
    for _ in range(100):
        gx, gy = K.gradient(sid, x, y, kp, dx, dy, idx, n)
        a, b, c = K.hessian(sid, x, y, kp, dx, dy)
        det = a * c - b * b
        sx = (c * gx - b * gy) / det
        sy = (a * gy - b * gx) / det
        x, y = x - sx, y - sy
        if abs(sx) + abs(sy) < 1e-16 * (1.0 + abs(x) + abs(y)):
            break
    return float(x), float(y)


def _build_sparse_logreg(p: dict) -> dict:
    dx, dy = _sparse_logreg_data(p)
    return {
        "bounds": ((-4.0, 4.0), (-4.0, 4.0)),
        "minima": [("polish", 0.5, 0.5)],
        "saddles": [],
        "starts": [(-3.0, -3.0), (3.0, -3.0)],
        "kernel_params": (p["l2"],),
        "data": (dx, dy),
    }


_SPECS: dict[str, Spec] = {}


def _register(spec: Spec) -> None:
    _SPECS[spec.name] = spec


_register(
    Spec(
        name="ravine",
        title="Narrow ravine",
        latex=r"f(x,y)=\tfrac12\left(x'^2+\kappa\,y'^2\right),\quad"
        r"\begin{pmatrix}x'\\y'\end{pmatrix}=R(\alpha)\begin{pmatrix}x\\y\end{pmatrix}",
        teaches="A quadratic valley with condition number κ: GD zig-zags across it unless η is "
        "tiny, momentum averages the zig-zag out, and rotating it (angle α) takes away the "
        "per-coordinate advantage of AdaGrad/RMSProp/Adam.",
        params={
            "kappa": Param(50.0, 1.0, 1000.0, "condition number κ"),
            "angle": Param(30.0, -90.0, 90.0, "rotation α (degrees)"),
        },
        build=_build_ravine,
    )
)
_register(
    Spec(
        name="saddle",
        title="Saddle x² − y²",
        latex=r"f(x,y)=x^2-y^2",
        teaches="A saddle point: started on the ridge y = 0, GD slides into the saddle and stays; "
        "a little noise or a normalised step (Adam) escapes along −y.",
        params={},
        build=lambda p: _analytic(
            ((-2.0, 2.0), (-2.0, 2.0)),
            [],
            [(-1.5, 1e-6), (-1.5, 0.0), (-1.5, 0.5)],
            saddles=[(0.0, 0.0)],
        ),
        escapes=True,
    )
)
_register(
    Spec(
        name="monkey_saddle",
        title="Monkey saddle x³ − 3xy²",
        latex=r"f(x,y)=x^3-3xy^2",
        teaches="A degenerate saddle (zero Hessian at the origin) with three descending valleys: "
        "second-order information is useless there and gradients vanish cubically.",
        params={},
        build=lambda p: _analytic(
            ((-2.0, 2.0), (-2.0, 2.0)),
            [],
            [(1.5, 0.2), (1.5, 0.0)],
            saddles=[(0.0, 0.0)],
        ),
        escapes=True,
    )
)
_register(
    Spec(
        name="plateau",
        title="Plateau around a well",
        latex=r"f(x,y)=1-\exp\!\left(-\frac{x^2+y^2}{2w^2}\right)",
        teaches="A wide, almost flat plateau (‖∇f‖ ≈ 10⁻⁴ at the start) around a well: GD crawls "
        "because its step is proportional to the gradient, RMSProp/Adam divide the gradient "
        "by its own size and walk.",
        params={"width": Param(1.0, 0.2, 5.0, "well width w")},
        build=_build_plateau,
    )
)
_register(
    Spec(
        name="noisy_linreg",
        title="Noisy linear regression",
        latex=r"f(w,b)=\frac1n\sum_{i=1}^n\left(w\,x_i+b-y_i\right)^2,\quad"
        r"y_i=w^\star x_i+b^\star+\sigma\,\xi_i",
        teaches="Mean-squared error of a line fitted to noisy data: batch size B = n is GD, B = 1 "
        "is SGD; smaller batches make the path noisy and stop it from settling without LR decay.",
        params={
            "n": Param(100, 2, 5000, "data points n", integer=True),
            "w_true": Param(2.0, -10.0, 10.0, "true slope w*"),
            "b_true": Param(1.0, -10.0, 10.0, "true intercept b*"),
            "noise": Param(1.0, 0.0, 10.0, "label noise σ"),
            "seed": Param(0, 0, 2**31 - 1, "data seed", integer=True),
        },
        build=_build_noisy_linreg,
        data_surface=True,
        axis_labels=("slope w", "intercept b"),
        data_fit="line",
    )
)
_register(
    Spec(
        name="rosenbrock",
        title="Rosenbrock banana",
        latex=r"f(x,y)=(1-x)^2+100\,(y-x^2)^2",
        teaches="A curved, flat-bottomed valley: easy to find, slow to follow; a classic stress "
        "test where second-order and quasi-Newton methods shine.",
        params={},
        build=lambda p: _analytic(
            ((-2.0, 2.0), (-1.0, 3.0)), [(1.0, 1.0)], [(-1.5, 2.0), (-1.2, 1.0), (0.0, -0.5)]
        ),
    )
)
_register(
    Spec(
        name="beale",
        title="Beale",
        latex=r"f(x,y)=(1.5-x+xy)^2+(2.25-x+xy^2)^2+(2.625-x+xy^3)^2",
        teaches="Sharp ridges and flat arms with very different scales in different regions: a "
        "fixed η that is safe in one place is far too small in another.",
        params={},
        build=lambda p: _analytic(
            ((-4.5, 4.5), (-4.5, 4.5)), [(3.0, 0.5)], [(1.0, 1.4), (-1.0, -1.0)]
        ),
    )
)
_register(
    Spec(
        name="himmelblau",
        title="Himmelblau (four minima)",
        latex=r"f(x,y)=(x^2+y-11)^2+(x+y^2-7)^2",
        teaches="Four equal minima: which one a method reaches depends on the start point and on "
        "its momentum, not only on where the gradient points.",
        params={},
        build=lambda p: _analytic(
            ((-5.0, 5.0), (-5.0, 5.0)),
            [
                (3.0, 2.0),
                ("polish", -2.805118, 3.131312),
                ("polish", -3.779310, -3.283186),
                ("polish", 3.584428, -1.848126),
            ],
            [(0.0, 0.0), (-0.27, -0.92), (-1.0, 0.0)],
        ),
    )
)
_register(
    Spec(
        name="rastrigin",
        title="Rastrigin (many local minima)",
        latex=r"f(x,y)=20+x^2+y^2-10\left(\cos 2\pi x+\cos 2\pi y\right)",
        teaches="A bowl covered in local minima: gradient methods get trapped in the nearest "
        "dimple; momentum and noise sometimes carry a run further.",
        params={},
        build=lambda p: _analytic(((-5.12, 5.12), (-5.12, 5.12)), [(0.0, 0.0)], [(3.2, 2.7)]),
    )
)
_register(
    Spec(
        name="booth",
        title="Booth",
        latex=r"f(x,y)=(x+2y-7)^2+(2x+y-5)^2",
        teaches="A tilted quadratic bowl (Hessian eigenvalues 2 and 18, κ = 9): the gentle case "
        "where every method should work.",
        params={},
        build=lambda p: _analytic(((-10.0, 10.0), (-10.0, 10.0)), [(1.0, 3.0)], [(-8.0, -6.0)]),
    )
)
_register(
    Spec(
        name="sparse_logreg",
        title="Logistic regression, sparse feature",
        latex=r"f(w_1,w_2)=\frac1n\sum_{i=1}^n\log\!\left(1+e^{-y_i(w_1a_i+w_2c_i)}\right)"
        r"+\tfrac{\lambda}{2}\lVert w\rVert^2",
        teaches="Feature c is non-zero in only a few examples, so ∂f/∂w₂ is rare and small: "
        "AdaGrad's per-coordinate step grows for the rare feature, where GD barely moves w₂.",
        params={
            "n": Param(500, 10, 5000, "data points n", integer=True),
            "density": Param(0.05, 0.001, 1.0, "share of non-zero c"),
            "l2": Param(1e-3, 0.0, 1.0, "L2 penalty λ"),
            "seed": Param(0, 0, 2**31 - 1, "data seed", integer=True),
        },
        build=_build_sparse_logreg,
        data_surface=True,
        axis_labels=("w₁ (dense feature)", "w₂ (sparse feature)"),
    )
)

_register(
    Spec(
        name="formula",
        title="Your own f(x, y)",
        latex=r"f(x,y)=x^2+10\sin y",
        teaches="A function you type: its gradient and Hessian are exact (forward-mode dual "
        "numbers), its minima and saddle points are found numerically.",
        params={
            "xmin": Param(-3.0, -1e6, 1e6, "x min"),
            "xmax": Param(3.0, -1e6, 1e6, "x max"),
            "ymin": Param(-5.0, -1e6, 1e6, "y min"),
            "ymax": Param(5.0, -1e6, 1e6, "y max"),
        },
        build=lambda p: {},  # built by _make_formula
    )
)

NAMES: tuple[str, ...] = tuple(_SPECS)
FORMULA_DEFAULT = "x^2 + 10*sin(y)"


def spec(name: str) -> Spec:
    """The :class:`Spec` of a surface by name; ``ValueError`` names the valid ones."""
    if not isinstance(name, str) or name not in _SPECS:
        raise ValueError(f"unknown surface {name!r}; valid surfaces: {', '.join(NAMES)}")
    return _SPECS[name]


def all_params(s: Spec) -> dict[str, Param]:
    """Every parameter a surface accepts: its own, gradient noise, and batch size if data."""
    out = dict(s.params)
    if s.data_surface:
        out.update(DATA_PARAMS)
    out.update(COMMON_PARAMS)
    return out


def _validated(s: Spec, given: dict) -> dict[str, float]:
    accepted = all_params(s)
    unknown = sorted(set(given) - set(accepted))
    if unknown:
        raise ValueError(
            f"surface {s.name!r} has no parameter {unknown[0]!r}; "
            f"valid: {', '.join(accepted) or 'none'}"
        )
    out: dict[str, float] = {}
    for key, prm in accepted.items():
        v = given.get(key, prm.default)
        try:
            v = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"{s.name}.{key} must be a number, got {v!r}") from None
        if not math.isfinite(v) or not (prm.low <= v <= prm.high):
            raise ValueError(f"{s.name}.{key} must be in [{prm.low:g}, {prm.high:g}], got {v!r}")
        if prm.integer:
            if v != int(v):
                raise ValueError(f"{s.name}.{key} must be a whole number, got {v!r}")
            v = int(v)
        out[key] = v
    return out


def check_param(name: str, key: str, value: float) -> None:
    """ValueError unless ``value`` is valid for parameter ``key`` of surface ``name`` on its own
    (its range; constraints between parameters are checked by :func:`get`)."""
    s = spec(name)
    accepted = all_params(s)
    if key not in accepted:
        raise ValueError(f"surface {name!r} has no parameter {key!r}")
    _validated(replace(s, params={key: accepted[key]}), {key: value})


_CACHE: dict[tuple, Surface] = {}
FORMULA_CACHE = 256  # typed formulas kept (each holds its program, minima and saddles)


def get(name: str, **params: float) -> Surface:
    """The surface ``name`` with ``params`` bound (missing ones take their defaults).

    Raises ``ValueError`` naming the parameter and its valid range on bad input.
    """
    s = spec(name)
    params = dict(params)
    text = params.pop("formula", FORMULA_DEFAULT) if name == "formula" else None
    bound = _validated(s, params)
    if text is not None:
        program = _formula.compile_formula(text)  # FormulaError (a ValueError) on bad text
        for lo, hi in (("xmin", "xmax"), ("ymin", "ymax")):
            if not bound[hi] - bound[lo] >= 1e-6 * max(1.0, abs(bound[lo]), abs(bound[hi])):
                raise ValueError(
                    f"formula.{lo} must be below formula.{hi}, got {bound[lo]:g} ≥ {bound[hi]:g}"
                )
        bound["formula"] = text
    key = (name, tuple(sorted(bound.items())))
    if key not in _CACHE:
        if text is not None:  # typed formulas: keep the cache bounded (the oldest go)
            typed = [k for k in _CACHE if k[0] == "formula"]
            for old in typed[: max(len(typed) - FORMULA_CACHE + 1, 0)]:
                del _CACHE[old]
        _CACHE[key] = _make_formula(s, bound, program) if text is not None else _make(s, bound)
    return _CACHE[key]


def _formula_starts(p: np.ndarray, bounds: tuple) -> list[tuple[float, float]]:
    """Default starts of a typed formula: near two opposite corners of the plot, else the first
    grid points where f is finite."""
    (x0, x1), (y0, y1) = bounds
    w, h = x1 - x0, y1 - y0
    candidates = [(x0 + 0.85 * w, y0 + 0.8 * h), (x0 + 0.15 * w, y0 + 0.2 * h)]
    candidates += [(x0 + a * w, y0 + b * h) for a in np.linspace(0.1, 0.9, 9)
                   for b in np.linspace(0.9, 0.1, 9)]  # fmt: skip
    empty_x, empty_y = np.zeros((0, 2)), np.zeros(0)
    ok = [
        (float(x), float(y)) for x, y in candidates
        if math.isfinite(K.value(K.FORMULA, x, y, p, empty_x, empty_y))
    ]  # fmt: skip
    return ok[:2] or [candidates[0]]


def _make_formula(s: Spec, bound: dict, program: _formula.Program) -> Surface:
    """A typed formula: its program as the kernel parameters, minima and saddles found
    numerically, f* estimated from the best minimum when it is the lowest point of the plot."""
    kp = program.encode()
    bounds = ((bound["xmin"], bound["xmax"]), (bound["ymin"], bound["ymax"]))
    land = _formula.find_landscape(kp, bounds)
    unbounded = not land.best_is_global

    def count(n: int, one: str, many: str) -> str:
        return f"{n} {one if n == 1 else many}"

    found = (
        f"{count(len(land.minima), 'minimum', 'minima')} and "
        f"{count(len(land.saddles), 'saddle point', 'saddle points')} found numerically in the plot"
    )
    if not land.minima:
        found = "no minimum found in the plot, so f* is unknown"
    elif unbounded:
        found += ", but f is lower elsewhere in the plot, so f* is unknown"
    else:
        found += "; f* is estimated from the lowest one"
    teaches = (
        f"Your own function. Gradient and Hessian are exact (forward-mode dual numbers); {found}."
    )
    if unbounded:
        teaches += " The loss axis is linear, and runs that leave 10× the plot stop as escaped."
    # Plain text (no Markdown emphasis from "*"): the page title and the export's title.
    pretty = program.text.strip().replace("**", "^").replace("*", "·")
    own = replace(
        s,
        title=f"f(x, y) = {pretty}",
        latex=program.latex,
        teaches=teaches,
        escapes=unbounded,
    )
    return Surface(
        spec=own,
        params=bound,
        bounds=bounds,
        minima=tuple(Point(x, y, v, "minimum") for x, y, v in land.minima),
        saddles=tuple(Point(x, y, v, "saddle") for x, y, v in land.saddles),
        starts=tuple(_formula_starts(kp, bounds)),
        kernel_params=kp,
        data_x=np.zeros((0, 2)),
        data_y=np.zeros(0),
        extra={"f_star": None if unbounded else land.minima[0][2], "program": program},
    )


def _make(s: Spec, bound: dict[str, float]) -> Surface:
    built = s.build(bound)
    kp = np.zeros(4)
    kp[: len(built["kernel_params"])] = built["kernel_params"]
    dx, dy = built.get("data", (np.zeros((0, 2)), np.zeros(0)))
    dx = np.ascontiguousarray(dx, np.float64)
    dy = np.ascontiguousarray(dy, np.float64)
    sid = K.SURFACE_IDS[s.name]

    def point(entry: tuple, kind: str) -> Point:
        if entry[0] == "polish":
            x, y = _newton_polish(sid, entry[1], entry[2], kp, dx, dy)
        else:
            x, y = float(entry[0]), float(entry[1])
        return Point(x, y, float(K.value(sid, x, y, kp, dx, dy)), kind)

    return Surface(
        spec=s,
        params=bound,
        bounds=built["bounds"],
        minima=tuple(point(m, "minimum") for m in built["minima"]),
        saddles=tuple(point(m, "saddle") for m in built["saddles"]),
        starts=tuple((float(a), float(b)) for a, b in built["starts"]),
        kernel_params=kp,
        data_x=dx,
        data_y=dy,
    )
