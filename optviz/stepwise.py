r"""One update taken apart: the sub-steps of step k, each with a caption in the lecture's words and
its numbers, and the arrows that add up to the step.

:func:`decompose` reads a run recorded with ``optviz.run(..., record_state=True)`` and returns a
:class:`Decomposition` of the update from θ_k (row k of the path) to θ_{k+1}: the update number
in the lectures' notation is t = k + 1 (θ_t ← θ_{t−1} − …). Sub-steps of kind

- ``"info"`` state what the optimizer computed (g, m ← β₁m + (1−β₁)g, v̂, H, …), no arrow or a
  guide arrow (``guide``: drawn dashed at θ_k, e.g. −ηg, what plain GD would do);
- ``"move"`` are the parts the step is made of (the momentum part and the gradient part of
  Momentum or Adam, the component along each Hessian eigenvector for Newton, …); drawn tip to
  tail from θ_k, they add up to the step to round-off (a test checks 1e-12);
- ``"step"``: the whole step θ_{t} − θ_{t−1}, as the path took it.

With a line search (steepest descent, BFGS, DFP, L-BFGS) and the run's ``surface`` given, an
info sub-step "line search" lists the α's the search tried at *this* update and the
decomposition carries the slice φ(α) = f(θ_k + α d) (:func:`optviz.linesearch.line_search_slice`,
the kernel's own search re-run with its evaluations recorded) in ``line_search``; its values
hold the trial points θ_k + α_j d the figure marks on the plane.

Every number a caption shows is in the sub-step's ``values`` (the recorded state, not recomputed
from the formula), formatted by :func:`fmt`. Pure: no Streamlit, no Plotly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

import surfaces
from optviz import optimizers
from optviz.engine import Trajectory
from optviz.state import eig2


@dataclass(frozen=True)
class SubStep:
    """One sub-step: a short title, the caption (formula in the lecture's notation with its
    numbers), and an arrow: ``vector`` for a move (chained tip to tail from θ_k) or ``guide``
    (drawn from ``origin``, θ_k unless said otherwise)."""

    title: str
    caption: str
    kind: str = "info"  # "info" | "move" | "step"
    vector: tuple[float, float] | None = None
    guide: tuple[float, float] | None = None
    origin: tuple[float, float] | None = None
    values: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Model:
    """A local quadratic model m(δ) = gᵀδ + ½ δᵀHδ around θ_k to draw (its contour through θ_k,
    its eigen-directions)."""

    label: str
    H: np.ndarray
    g: np.ndarray
    dash: str = "dash"


@dataclass(frozen=True)
class Decomposition:
    """Update t = k + 1 of a run: from ``theta`` (θ_k) to ``theta_next``, as sub-steps."""

    optimizer: str
    k: int
    theta: np.ndarray
    theta_next: np.ndarray
    substeps: tuple[SubStep, ...]
    models: tuple[Model, ...] = ()
    notes: tuple[str, ...] = ()
    line_search: object | None = None  # optviz.linesearch.LineSearchSlice of this update

    @property
    def step(self) -> np.ndarray:
        return self.theta_next - self.theta

    @property
    def moves(self) -> list[SubStep]:
        return [s for s in self.substeps if s.kind == "move"]


# ---- number formatting: what the captions show ------------------------------------------------


def fmt(v: object) -> str:
    """A number, a 2-vector "(a, b)" or a 2×2 matrix "[[a, b], [c, d]]", 4 significant digits."""
    a = np.asarray(v, dtype=np.float64)
    if a.ndim == 0:
        return _num(float(a))
    if a.ndim == 1:
        return "(" + ", ".join(_num(float(e)) for e in a) + ")"
    return "[" + ", ".join(fmt(row).replace("(", "[").replace(")", "]") for row in a) + "]"


def _num(x: float) -> str:
    if x == 0.0:
        return "0"
    if not math.isfinite(x):
        return str(x)
    text = f"{x:.4g}"
    if "e" in text:
        mant, exp = text.split("e")
        text = f"{mant}·10^{int(exp)}"
    return text.replace("-", "−")


def _vec(a: np.ndarray) -> tuple[float, float]:
    return float(a[0]), float(a[1])


# ---- the decomposition ------------------------------------------------------------------------


def updates(traj: Trajectory) -> int:
    """How many updates the run made (the valid values of k are 0 … updates − 1)."""
    return int(traj.stopped_at)


def decompose(traj: Trajectory, k: int, surface: surfaces.Surface | None = None) -> Decomposition:
    """The update from θ_k to θ_{k+1} of a run recorded with ``record_state=True``.

    ``surface`` (the run's surface) is only used to say whether the gradient was noisy or a
    mini-batch one. ValueError when the run has no recorded state or k is out of range.
    """
    if traj.state is None:
        raise ValueError("the run has no recorded state: run it with record_state=True")
    n = updates(traj)
    if not (isinstance(k, int | np.integer) and 0 <= k < n):
        raise ValueError(f"k must be a whole number in [0, {n - 1}], got {k!r}")
    k = int(k)
    b = _Builder(traj, k, surface)
    getattr(b, "_" + _family(traj.optimizer))()
    return b.result()


def _family(name: str) -> str:
    if name in ("adam", "adamw", "amsgrad"):
        return "adam"
    if name in ("bfgs", "dfp", "lbfgs"):
        return "quasi_newton"
    return name


class _Builder:
    def __init__(self, traj: Trajectory, k: int, surface: surfaces.Surface | None) -> None:
        self.traj = traj
        self.k = k
        self.r = k + 1  # state row of this update
        self.t = k + 1  # update number in the lectures' notation
        self.c = traj.config
        self.st = traj.state
        self.theta = traj.xy[k].astype(np.float64)
        self.theta_next = traj.xy[k + 1].astype(np.float64)
        self.g = self.st["g"][self.r]
        self.lr = float(self.st["lr"][self.r])
        self.wd = float(self.c.get("weight_decay", 0.0))
        self.surface = surface
        self.subs: list[SubStep] = []
        self.models: list[Model] = []
        self.notes: list[str] = []
        self.line_search: object | None = None

    # -- helpers --
    def _gradient_part(self, lr: float, g: np.ndarray) -> None:
        """The −η g part of a momentum step (torch's momentum at t = 1, torch's Nesterov)."""
        self.add(
            "gradient part",
            f"−η g = −{fmt(lr)}·{fmt(g)} = {fmt(-lr * g)}",
            "move",
            vector=-lr * g,
            values={"g": g},
        )

    def add(self, title: str, caption: str, kind: str = "info", **kw: object) -> None:
        if "vector" in kw and kw["vector"] is not None:
            kw["vector"] = _vec(kw["vector"])
        if "guide" in kw and kw["guide"] is not None:
            kw["guide"] = _vec(kw["guide"])
        if "origin" in kw and kw["origin"] is not None:
            kw["origin"] = _vec(kw["origin"])
        self.subs.append(SubStep(title, caption, kind, **kw))  # type: ignore[arg-type]

    def state(self, name: str, row: int | None = None) -> np.ndarray:
        return self.st[name][self.r if row is None else row]

    def gradient(
        self, at: str = "∇f(θ)", first_order: bool = True, origin: np.ndarray | None = None
    ) -> np.ndarray:
        """The gradient sub-step (and L2 weight decay); returns the g the rule used."""
        g = self.g
        where = ""
        if self.surface is not None:
            if self.surface.batch_size and self.surface.batch_size < self.surface.data_y.shape[0]:
                where = f" (mini-batch of {self.surface.batch_size})"
            if self.surface.grad_noise:
                where += f" (+ noise σ = {fmt(self.surface.grad_noise)})"
        guide = -self.lr * g if first_order else None
        self.add(
            "gradient",
            f"g = {at}{where} = {fmt(g)}"
            + (f"; −ηg = {fmt(-self.lr * g)} is where plain GD would step" if first_order else ""),
            guide=guide,
            origin=origin,
            values={"g": g, "lr": self.lr},
        )
        if self.wd and self.traj.optimizer not in ("adamw", "lion"):  # theirs is decoupled
            gw = g + self.wd * self.theta
            self.add(
                "weight decay",
                f"g ← g + λθ = {fmt(g)} + {fmt(self.wd)}·{fmt(self.theta)} = {fmt(gw)}",
                values={"g": gw, "weight_decay": self.wd},
            )
            return gw
        return g

    def total(self, formula: str) -> None:
        step = self.theta_next - self.theta
        self.add("step", f"step = {formula} = {fmt(step)}", "step", vector=step,
                 values={"step": step})  # fmt: skip

    def result(self) -> Decomposition:
        return Decomposition(
            self.traj.optimizer, self.k, self.theta, self.theta_next, tuple(self.subs),
            tuple(self.models), tuple(self.notes), self.line_search,
        )  # fmt: skip

    # -- first-order rules --
    def _gd(self) -> None:
        g = self.gradient()
        move = -self.lr * g
        self.add("gradient step", f"−η g = −{fmt(self.lr)}·{fmt(g)} = {fmt(move)}", "move",
                 vector=move, values={"lr": self.lr, "g": g})  # fmt: skip
        self.total("−η g")

    def _momentum(self) -> None:
        g = self.gradient()
        b = float(self.c["beta1"])
        vp, v = self.state("m", self.k), self.state("m")
        form = self.c["momentum_form"]
        lr = self.lr
        if form == "torch":
            damp = 1.0 - float(self.c["dampening"])
            if self.t == 1:
                self.add("velocity", f"v₁ = g₁ = {fmt(v)} (the buffer starts at the first "
                         "gradient, as in torch)", values={"v": v})  # fmt: skip
                self._gradient_part(lr, g)
            else:
                self.add(
                    "velocity",
                    f"v ← β v + (1−τ) g = {fmt(b)}·{fmt(vp)} + {fmt(damp)}·{fmt(g)} = {fmt(v)}"
                    " (momentum decays by ×β, the gradient is added)",
                    values={"v_prev": vp, "v": v, "beta1": b},
                )
                self._two_parts(-lr * b * vp, -lr * damp * g, "−η β v_prev", "−η (1−τ) g")
            self.total("−η v")
            return
        if form == "ema":
            self.add(
                "velocity",
                f"v ← β v + (1−β) g = {fmt(b)}·{fmt(vp)} + {fmt(1 - b)}·{fmt(g)} = {fmt(v)}"
                " (an exponentially weighted average of the gradients)",
                values={"v_prev": vp, "v": v, "beta1": b},
            )
            scale = lr
            if "m_hat" in self.st:
                bc = 1.0 - float(self.state("beta1_t"))
                vh = self.state("m_hat")
                self.add("bias correction", f"v̂ = v/(1−βᵗ) = {fmt(v)}/{fmt(bc)} = {fmt(vh)}",
                         values={"v": v, "v_hat": vh, "bias": bc})  # fmt: skip
                scale = lr / bc
            hat = "/(1−βᵗ)" if "m_hat" in self.st else ""
            self._two_parts(-scale * b * vp, -scale * (1 - b) * g, f"−η{hat} β v_prev",
                            f"−η{hat} (1−β) g")  # fmt: skip
            self.total("−η v̂" if hat else "−η v")
            return
        self.add(
            "velocity",
            f"v ← β v + η g = {fmt(b)}·{fmt(vp)} + {fmt(lr)}·{fmt(g)} = {fmt(v)}"
            " (η is inside the velocity: Sutskever, the Polish lecture's m ← βm − η∇E)",
            values={"v_prev": vp, "v": v, "beta1": b},
        )
        self._two_parts(-b * vp, -lr * g, "−β v_prev", "−η g")
        self.total("−v")

    def _two_parts(self, mom: np.ndarray, grad: np.ndarray, mom_f: str, grad_f: str) -> None:
        self.add("momentum part", f"{mom_f} = {fmt(mom)} (where the velocity carries θ)",
                 "move", vector=mom, values={"part": mom})  # fmt: skip
        self.add("gradient part", f"{grad_f} = {fmt(grad)} (the fresh gradient's share)",
                 "move", vector=grad, values={"part": grad})  # fmt: skip

    def _nesterov(self) -> None:
        b = float(self.c["beta1"])
        vp, v = self.state("m", self.k), self.state("m")
        lr = self.lr
        if self.c["nesterov_form"] == "lookahead":
            ahead = self.theta - b * vp
            self.add(
                "look-ahead",
                f"look ahead first: θ − β v = {fmt(self.theta)} − {fmt(b)}·{fmt(vp)} = "
                f"{fmt(ahead)} (where momentum is about to carry the point)",
                guide=-b * vp,
                values={"v_prev": vp, "ahead": ahead},
            )
            g = self.gradient("∇f(θ − β v), at the look-ahead point", origin=ahead)
            self.add(
                "velocity",
                f"v ← β v + η ∇f(θ − β v) = {fmt(b)}·{fmt(vp)} + {fmt(lr)}·{fmt(g)} = {fmt(v)}",
                values={"v_prev": vp, "v": v},
            )
            self._two_parts(-b * vp, -lr * g, "momentum −β v_prev", "look-ahead gradient −η g")
            self.total("−v")
            return
        g = self.gradient()
        if self.t == 1:
            self.add("velocity", f"v₁ = g₁ = {fmt(v)}", values={"v": v})
        else:
            self.add("velocity", f"v ← β v + g = {fmt(b)}·{fmt(vp)} + {fmt(g)} = {fmt(v)}",
                     values={"v_prev": vp, "v": v})  # fmt: skip
        self._gradient_part(lr, g)
        self.add(
            "look-ahead part",
            f"−η β v = −{fmt(lr)}·{fmt(b)}·{fmt(v)} = {fmt(-lr * b * v)} (the momentum step taken "
            "now: the path drawn is the look-ahead point θ − βv)",
            "move",
            vector=-lr * b * v,
            values={"v": v},
        )
        self.total("−η (g + β v)")

    def _denominator_text(self, name: str, inside: bool) -> str:
        return f"√({name} + ε)" if inside else f"(√{name} + ε)"

    def _adagrad(self) -> None:
        g = self.gradient()
        Gp, G = self.state("G", self.k), self.state("G")
        self.add("sum of squares", f"G ← G + g² = {fmt(Gp)} + {fmt(g * g)} = {fmt(G)}",
                 values={"G_prev": Gp, "G": G})  # fmt: skip
        lr_dec = float(self.c.get("lr_decay", 0.0))
        eta = "η"
        if lr_dec:
            clr = self.lr / (1.0 + (self.t - 1) * lr_dec)
            self.add("η decay", f"η_t = η/(1 + (t−1)·lr_decay) = {fmt(clr)}", values={"lr_t": clr})
            eta = "η_t"
        inside = self.c["eps_placement"] == "inside"
        self._per_coordinate(g, eta, self._denominator_text("G", inside))

    def _per_coordinate(self, g: np.ndarray, eta: str, denom: str) -> None:
        size = self.state("step_size")
        self.add(
            "per-coordinate step size",
            f"{eta}/{denom} = {fmt(size)} (one learning rate per coordinate)",
            values={"step_size": size},
        )
        move = -size * g
        self.add(
            "scaled gradient step",
            f"−{eta}/{denom} ⊙ g = −{fmt(size)} ⊙ {fmt(g)} = {fmt(move)}",
            "move",
            vector=move,
            values={"step_size": size, "g": g},
        )
        self.total(f"−{eta} g/{denom}")

    def _rmsprop(self) -> None:
        g = self.gradient()
        b2 = float(self.c["beta2"])
        vp, v = self.state("v", self.k), self.state("v")
        if self.t == 1 and self.c["accumulator_init"] == "first_grad":
            self.add("squared average", f"v₁ = g₁² = {fmt(v)} (Hung-yi Lee: σ⁰ = |g⁰|)",
                     values={"v": v})  # fmt: skip
        else:
            self.add(
                "squared average",
                f"v ← β₂ v + (1−β₂) g² = {fmt(b2)}·{fmt(vp)} + {fmt(1 - b2)}·{fmt(g * g)} = "
                f"{fmt(v)} (a leaky average: old gradients are forgotten)",
                values={"v_prev": vp, "v": v, "beta2": b2},
            )
        name = "v"
        if self.c["centered"]:
            gb = self.state("g_avg")
            var = v - gb * gb
            self.add("centered", f"ḡ ← β₂ ḡ + (1−β₂) g = {fmt(gb)}; v − ḡ² = {fmt(var)}",
                     values={"g_avg": gb, "var": var})  # fmt: skip
            name = "(v − ḡ²)"
        inside = self.c["eps_placement"] == "inside"
        self._per_coordinate(g, "η", self._denominator_text(name, inside))

    def _adam(self) -> None:
        name = self.traj.optimizer
        lr = self.lr
        if name == "adamw":
            decay = -lr * self.wd * self.theta
            self.add("decoupled weight decay", f"θ ← (1 − ηλ) θ: −ηλθ = {fmt(decay)}", "move",
                     vector=decay, values={"part": decay, "weight_decay": self.wd})  # fmt: skip
        g = self.gradient()
        b1, b2 = float(self.c["beta1"]), float(self.c["beta2"])
        mp, m = self.state("m", self.k), self.state("m")
        vp, v = self.state("v", self.k), self.state("v")
        self.add(
            "first moment",
            f"m ← β₁ m + (1−β₁) g = {fmt(b1)}·{fmt(mp)} + {fmt(1 - b1)}·{fmt(g)} = {fmt(m)}",
            values={"m_prev": mp, "m": m},
        )
        self.add(
            "second moment",
            f"v ← β₂ v + (1−β₂) g² = {fmt(b2)}·{fmt(vp)} + {fmt(1 - b2)}·{fmt(g * g)} = {fmt(v)}",
            values={"v_prev": vp, "v": v},
        )
        vname = "v"
        if name == "amsgrad":
            vmax = self.state("v_max")
            self.add("running max", f"v_max = max(v_max, v) = {fmt(vmax)} (never shrinks)",
                     values={"v_max": vmax})  # fmt: skip
            vname = "v_max"
        bias = bool(self.c["bias_correction"])
        t = self.t
        if bias:
            bc1 = 1.0 - float(self.state("beta1_t"))
            bc2 = 1.0 - float(self.state("beta2_t"))
            mh, vh = self.state("m_hat"), self.state("v_hat")
            self.add("bias correction (m)", f"m̂ = m/(1−β₁ᵗ) = {fmt(m)}/{fmt(bc1)} = {fmt(mh)}"
                     f" (t = {t})", values={"m_hat": mh, "bias": bc1})  # fmt: skip
            self.add("bias correction (v)",
                     f"v̂ = {vname}/(1−β₂ᵗ) = {fmt(self.state(vname))}/{fmt(bc2)} = {fmt(vh)}",
                     values={"v_hat": vh, "bias": bc2})  # fmt: skip
        inside = self.c["eps_placement"] == "inside"
        hat_m, hat_v = ("m̂", "v̂") if bias else ("m", vname)
        denom = self._denominator_text(hat_v, inside)
        size = self.state("step_size")
        over = "/(1−β₁ᵗ)" if bias else ""
        self.add("per-coordinate step size", f"η{over}/{denom} = {fmt(size)}",
                 values={"step_size": size})  # fmt: skip
        self._two_parts(-size * b1 * mp, -size * (1 - b1) * g,
                        f"−η{over} β₁ m_prev/{denom}", f"−η{over} (1−β₁) g/{denom}")  # fmt: skip
        self.total(f"−η {hat_m}/{denom}")

    def _nadam(self) -> None:
        g = self.gradient()
        b1, b2 = float(self.c["beta1"]), float(self.c["beta2"])
        eps = float(self.c["eps"])
        mu, mu_n = float(self.state("mu")), float(self.state("mu_next"))
        prod = float(self.state("mu_product"))
        mp, m = self.state("m", self.k), self.state("m")
        v, vh = self.state("v"), self.state("v_hat")
        sched = self.c["nadam_schedule"]
        self.add("momentum schedule",
                 f"μ_t = {fmt(mu)}, μ_t+1 = {fmt(mu_n)}, ∏μ = {fmt(prod)}"
                 + (" (torch: μ_t = β₁(1 − ½·0.96^(tψ)))" if sched == "torch" else " (μ = β₁)"),
                 values={"mu": mu, "mu_next": mu_n, "mu_product": prod})  # fmt: skip
        self.add("first moment",
                 f"m ← β₁ m + (1−β₁) g = {fmt(b1)}·{fmt(mp)} + {fmt(1 - b1)}·{fmt(g)} = {fmt(m)}",
                 values={"m_prev": mp, "m": m})  # fmt: skip
        self.add("second moment", f"v ← β₂ v + (1−β₂) g² = {fmt(v)} (β₂ = {fmt(b2)}); "
                 f"v̂ = v/(1−β₂ᵗ) = {fmt(vh)}", values={"v": v, "v_hat": vh})  # fmt: skip
        inside = self.c["eps_placement"] == "inside"
        d = np.sqrt(vh + eps) if inside else np.sqrt(vh) + eps
        denom = self._denominator_text("v̂", inside)
        c_grad = -self.lr * (1.0 - mu) / (1.0 - prod)
        c_mom = (-self.lr * mu_n) / (1.0 - prod * mu_n)
        self.add("gradient part", f"−η (1−μ_t)/(1−∏μ) · g/{denom} = {fmt(c_grad * (g / d))}",
                 "move", vector=c_grad * (g / d), values={"c": c_grad})  # fmt: skip
        self.add("momentum part (look-ahead)",
                 f"−η μ_t+1/(1−∏μ·μ_t+1) · m/{denom} = {fmt(c_mom * (m / d))}", "move",
                 vector=c_mom * (m / d), values={"c": c_mom})  # fmt: skip
        self.total("the two parts")

    # -- QHM, QHAdam, Lion, Adamax --
    def _qhm(self) -> None:
        g = self.gradient()
        b, nu = float(self.c["beta1"]), float(self.c["nu"])
        mp, m = self.state("m", self.k), self.state("m")
        self.add(
            "momentum buffer",
            f"m ← β m + (1−β) g = {fmt(b)}·{fmt(mp)} + {fmt(1 - b)}·{fmt(g)} = {fmt(m)}"
            " (an exponentially weighted average of the gradients)",
            values={"m_prev": mp, "m": m, "beta1": b},
        )
        lr = self.lr
        self.add("momentum part", f"−η ν m = −{fmt(lr)}·{fmt(nu)}·{fmt(m)} = "
                 f"{fmt(-lr * nu * m)} (ν of the step follows the average)", "move",
                 vector=-lr * nu * m, values={"m": m, "nu": nu})  # fmt: skip
        self.add("gradient part", f"−η (1−ν) g = −{fmt(lr)}·{fmt(1 - nu)}·{fmt(g)} = "
                 f"{fmt(-lr * (1 - nu) * g)} (1 − ν follows the fresh gradient)", "move",
                 vector=-lr * (1 - nu) * g, values={"g": g, "nu": nu})  # fmt: skip
        self.total("−η [(1−ν) g + ν m]")

    def _qhadam(self) -> None:
        g = self.gradient()
        b1, b2 = float(self.c["beta1"]), float(self.c["beta2"])
        nu1, nu2 = float(self.c["nu1"]), float(self.c["nu2"])
        t = self.t
        mh, vh = self.state("m_hat"), self.state("v_hat")
        self.add(
            "first moment",
            f"m ← β₁ m + (1−β₁) g, m̂ = m/(1−β₁ᵗ) = {fmt(mh)} (β₁ = {fmt(b1)}, t = {t})",
            values={"m_hat": mh},
        )
        self.add(
            "second moment",
            f"v ← β₂ v + (1−β₂) g², v̂ = v/(1−β₂ᵗ) = {fmt(vh)} (β₂ = {fmt(b2)})",
            values={"v_hat": vh},
        )
        size = self.state("step_size")
        mix = (1 - nu2) * g * g + nu2 * vh
        self.add(
            "per-coordinate step size",
            f"η/(√((1−ν₂) g² + ν₂ v̂) + ε) = η/(√{fmt(mix)} + ε) = {fmt(size)} (ν₂ = {fmt(nu2)}"
            "; ν₂ < 1 lets the current g² bound the step)",
            values={"step_size": size},
        )
        self._two_parts(-size * nu1 * mh, -size * (1 - nu1) * g, f"−η ν₁ m̂/(…) (ν₁ = {fmt(nu1)})",
                        "−η (1−ν₁) g/(…)")  # fmt: skip
        self.total("−η [(1−ν₁) g + ν₁ m̂]/(√((1−ν₂) g² + ν₂ v̂) + ε)")

    def _lion(self) -> None:
        g = self.gradient()
        b1, b2 = float(self.c["beta1"]), float(self.c["beta2"])
        mp, m, c = self.state("m", self.k), self.state("m"), self.state("c")
        sign = np.sign(c)
        self.add(
            "interpolation",
            f"c = β₁ m + (1−β₁) g = {fmt(b1)}·{fmt(mp)} + {fmt(1 - b1)}·{fmt(g)} = {fmt(c)}",
            values={"m_prev": mp, "c": c},
        )
        lr = self.lr
        self.add("sign step", f"−η sign(c) = −{fmt(lr)}·{fmt(sign)} = {fmt(-lr * sign)} (every "
                 "coordinate moves by exactly η, whatever the gradient's size)", "move",
                 vector=-lr * sign, values={"lr": lr, "sign": sign})  # fmt: skip
        if self.wd:
            decay = -lr * self.wd * self.theta
            self.add("decoupled weight decay", f"−ηλθ = {fmt(decay)}", "move", vector=decay,
                     values={"part": decay, "weight_decay": self.wd})  # fmt: skip
        self.add(
            "momentum",
            f"m ← β₂ m + (1−β₂) g = {fmt(b2)}·{fmt(mp)} + {fmt(1 - b2)}·{fmt(g)} = {fmt(m)}"
            " (updated after the step, with the slower β₂)",
            values={"m_prev": mp, "m": m},
        )
        self.total("−η sign(c) − ηλθ" if self.wd else "−η sign(c)")

    def _adamax(self) -> None:
        g = self.gradient()
        b1, b2 = float(self.c["beta1"]), float(self.c["beta2"])
        mp, m = self.state("m", self.k), self.state("m")
        up, u = self.state("u", self.k), self.state("u")
        self.add(
            "first moment",
            f"m ← β₁ m + (1−β₁) g = {fmt(b1)}·{fmt(mp)} + {fmt(1 - b1)}·{fmt(g)} = {fmt(m)}",
            values={"m_prev": mp, "m": m},
        )
        self.add(
            "∞-norm",
            f"u ← max(β₂ u, |g| + ε) = max({fmt(b2 * up)}, {fmt(np.abs(g))} + ε) = {fmt(u)} "
            "(a decaying max instead of Adam's root mean square)",
            values={"u_prev": up, "u": u},
        )
        bc1 = 1.0 - float(self.state("beta1_t"))
        size = self.state("step_size")
        self.add(
            "per-coordinate step size",
            f"η/(1−β₁ᵗ)/u = {fmt(self.lr)}/{fmt(bc1)}/u = {fmt(size)} (t = {self.t})",
            values={"step_size": size, "bias": bc1},
        )
        self._two_parts(-size * b1 * mp, -size * (1 - b1) * g, "−η/(1−β₁ᵗ) β₁ m_prev/u",
                        "−η/(1−β₁ᵗ) (1−β₁) g/u")  # fmt: skip
        self.total("−η/(1−β₁ᵗ) m/u")

    # -- opt-b: RAdam, Rprop, AdaBelief, full-matrix AdaGrad --
    def _first_moment(self, g: np.ndarray) -> tuple[float, np.ndarray]:
        """m ← β₁m + (1−β₁)g and m̂ (RAdam, AdaBelief); returns β₁ and m_prev."""
        b1 = float(self.c["beta1"])
        mp, m = self.state("m", self.k), self.state("m")
        self.add(
            "first moment",
            f"m ← β₁ m + (1−β₁) g = {fmt(b1)}·{fmt(mp)} + {fmt(1 - b1)}·{fmt(g)} = {fmt(m)}",
            values={"m_prev": mp, "m": m},
        )
        bc1 = 1.0 - float(self.state("beta1_t"))
        mh = self.state("m_hat")
        self.add("bias correction (m)", f"m̂ = m/(1−β₁ᵗ) = {fmt(m)}/{fmt(bc1)} = {fmt(mh)}"
                 f" (t = {self.t})", values={"m_hat": mh, "bias": bc1})  # fmt: skip
        return b1, mp

    def _radam(self) -> None:
        g = self.gradient()
        b1, mp = self._first_moment(g)
        b2 = float(self.c["beta2"])
        vp, v = self.state("v", self.k), self.state("v")
        self.add(
            "second moment",
            f"v ← β₂ v + (1−β₂) g² = {fmt(b2)}·{fmt(vp)} + {fmt(1 - b2)}·{fmt(g * g)} = {fmt(v)}",
            values={"v_prev": vp, "v": v},
        )
        rho, rho_inf = float(self.state("rho")), float(self.state("rho_inf"))
        size = self.state("step_size")
        text = f"ρ_t = ρ∞ − 2t β₂ᵗ/(1−β₂ᵗ) = {fmt(rho)} (ρ∞ = 2/(1−β₂) − 1 = {fmt(rho_inf)})"
        if rho > 5.0:
            r = float(self.state("rect"))
            self.add("variance rectification", f"{text} > 5: the variance of the adaptive step "
                     f"is tractable; r_t = {fmt(r)} (→ 1 as t grows)",
                     values={"rho": rho, "rho_inf": rho_inf, "rect": r})  # fmt: skip
            scale = "η r_t √(1−β₂ᵗ)/((1−β₁ᵗ)(√v + ε))"
        else:
            self.add("variance warm-up", f"{text} ≤ 5: too few gradients to trust v, so this "
                     "step is not adapted: a plain momentum step −η m̂",
                     values={"rho": rho, "rho_inf": rho_inf})  # fmt: skip
            scale = "η/(1−β₁ᵗ)"
        self.add("per-coordinate step size", f"{scale} = {fmt(size)}", values={"step_size": size})
        self._two_parts(-size * b1 * mp, -size * (1 - b1) * g, f"−{scale} · β₁ m_prev",
                        f"−{scale} · (1−β₁) g")  # fmt: skip
        self.total("−η m̂ (warm-up)" if rho <= 5.0 else "−η r_t m̂ √(1−β₂ᵗ)/(√v + ε)")

    def _adabelief(self) -> None:
        g = self.gradient()
        b1, mp = self._first_moment(g)
        b2 = float(self.c["beta2"])
        sp, s = self.state("s", self.k), self.state("s")
        m = self.state("m")
        self.add(
            "belief",
            f"s ← β₂ s + (1−β₂)(g − m)² + ε_root = {fmt(b2)}·{fmt(sp)} + {fmt(1 - b2)}·"
            f"{fmt((g - m) ** 2)} + ε_root = {fmt(s)} (how far g strays from its prediction m)",
            values={"s_prev": sp, "s": s},
        )
        sh = self.state("s_hat")
        bc2 = 1.0 - float(self.state("beta2_t"))
        self.add("bias correction (s)", f"ŝ = s/(1−β₂ᵗ) = {fmt(s)}/{fmt(bc2)} = {fmt(sh)}",
                 values={"s_hat": sh, "bias": bc2})  # fmt: skip
        size = self.state("step_size")
        self.add(
            "per-coordinate step size",
            f"η/(1−β₁ᵗ)/(√ŝ + ε) = {fmt(size)} (large where g is as predicted, small where it "
            "surprises)",
            values={"step_size": size},
        )
        self._two_parts(-size * b1 * mp, -size * (1 - b1) * g, "−η/(1−β₁ᵗ) β₁ m_prev/(√ŝ + ε)",
                        "−η/(1−β₁ᵗ) (1−β₁) g/(√ŝ + ε)")  # fmt: skip
        self.total("−η m̂/(√ŝ + ε)")

    def _rprop(self) -> None:
        g = self.gradient()
        gp, kept = self.state("g_last", self.k), self.state("g_last")
        dp, d = self.state("step_sizes", self.k), self.state("step_sizes")
        if self.t == 1:
            dp = np.full(2, self.lr)
        prod = g * gp
        words = [
            "holds: ×η₊" if p > 0 else "flipped: ×η₋" if p < 0 else "no test: ×1" for p in prod
        ]
        self.add(
            "sign test",
            f"g · g_prev = {fmt(g)} ⊙ {fmt(gp)} = {fmt(prod)}: sign {words[0]} in x, "
            f"{words[1]} in y",
            values={"g_last_prev": gp, "product": prod},
        )
        self.add(
            "step sizes",
            f"Δ ← clip(factor · Δ, Δ_min, Δ_max) = {fmt(d)} (from {fmt(dp)}"
            + ("; Δ₀ = η" if self.t == 1 else "")
            + ")",
            values={"step_sizes": d, "step_size": d},
        )
        if (prod < 0).any():
            self.add(
                "overshoot",
                f"where the sign flipped the step is skipped: g ← 0 there, g = {fmt(kept)} "
                "(and the next sign test there is skipped too)",
                values={"g_last": kept},
            )
        move = -d * np.sign(kept)
        self.add("sign step", f"−Δ ⊙ sign(g) = −{fmt(d)} ⊙ {fmt(np.sign(kept))} = {fmt(move)} "
                 "(|g| plays no part)", "move", vector=move,
                 values={"step_sizes": d, "g_last": kept})  # fmt: skip
        self.total("−Δ ⊙ sign(g)")

    def _adagrad_full(self) -> None:
        from optviz.state import full_adagrad_parts

        g = self.gradient()
        Gp, G = self.state("G", self.k), self.state("G")
        self.add("outer-product sum", f"G ← G + g gᵀ = {fmt(Gp)} + {fmt(np.outer(g, g))} = "
                 f"{fmt(G)}", values={"G_prev": Gp, "G": G})  # fmt: skip
        eps = float(self.c["eps"])
        P = self.state("preconditioner")
        A = G + eps * np.eye(2)
        lam, q = eig2(A)
        self.add(
            "preconditioner",
            f"(εI + G)^(−1/2) = {fmt(P)}: εI + G has eigenvalues λ = {fmt(lam)}, so the step is "
            "scaled by 1/√λ along each eigenvector (one rate per direction, not per coordinate)",
            values={"preconditioner": P, "lambda": lam},
        )
        # The kernel's step, with its operations (state.full_adagrad_parts), split along the
        # eigenvectors of εI + G: the projections add back up to it.
        adj, den = full_adagrad_parts(G, eps)
        step = -(self.lr / den) * np.array(
            [adj[0, 0] * g[0] + adj[0, 1] * g[1], adj[1, 1] * g[1] + adj[1, 0] * g[0]]
        )
        for i in range(2):
            qi = q[:, i]
            move = (qi @ step) * qi
            self.add(
                f"along eigenvector {i + 1}",
                f"−η (q{i + 1}ᵀg/√λ{i + 1}) q{i + 1} = {fmt(move)} with λ{i + 1} = {fmt(lam[i])}, "
                f"q{i + 1} = {fmt(qi)}",
                "move",
                vector=move,
                values={"lambda": lam[i], "q": qi, "part": move},
            )
        self.total("−η (εI + G)^(−1/2) g")

    # -- second-order methods --
    def _matrix_steps(self, H: np.ndarray, g: np.ndarray, scale: float, label: str) -> None:
        """Moves along H's eigenvectors: −scale·(qᵢᵀg/λᵢ) qᵢ for each i (they sum to
        −scale·H⁻¹g)."""
        lam, q = eig2(H)
        for i in range(2):
            qi = q[:, i]
            move = -scale * (qi @ g) / lam[i] * qi
            uphill = " — λ < 0: this part climbs along qᵢ, toward the model's saddle" if (
                lam[i] < 0) else ""  # fmt: skip
            self.add(
                f"along eigenvector {i + 1}",
                f"−{label}(q{i + 1}ᵀg/λ{i + 1}) q{i + 1} = {fmt(move)} with λ{i + 1} = "
                f"{fmt(lam[i])}, q{i + 1} = {fmt(qi)}{uphill}",
                "move",
                vector=move,
                values={"lambda": lam[i], "q": qi, "part": move},
            )

    def _newton(self) -> None:
        g = self.gradient(first_order=False)
        Htrue = self.state("hessian", self.k)
        H = self.state("H")
        lam, _ = eig2(Htrue)
        self.add("Hessian", f"H = ∇²f(θ) = {fmt(Htrue)}, eigenvalues λ = {fmt(lam)}",
                 values={"H": Htrue, "lambda": lam})  # fmt: skip
        textbook = self.c["newton_form"] == "textbook"
        if not textbook:
            lam_g, _ = eig2(H)
            self.add("guard", f"|H|_ε: eigenvalues max(|λ|, ε) = {fmt(lam_g)} (negative curvature"
                     " flipped: every step goes downhill)", values={"H": H})  # fmt: skip
        self.models.append(Model("local quadratic model", H, g))
        eta = "η" if self.lr != 1.0 else ""
        self._matrix_steps(H, g, self.lr, eta)
        if textbook and lam.min() < 0:
            self.notes.append(
                "H is indefinite: the local model f + gᵀδ + ½δᵀHδ is a saddle, and the textbook "
                "step −H⁻¹g jumps to the model's stationary point — on x² − y² that is the "
                "saddle (0, 0) itself. The lectures' θ* = θ₀ − H⁻¹∇J is a critical point, not "
                "necessarily a minimum."
            )
        self.total(f"−{eta}H⁻¹ g" if textbook else f"−{eta}|H|_ε⁻¹ g")

    def _quasi_newton(self) -> None:
        g = self.gradient(first_order=False)
        V, B = self.state("V"), self.state("H")
        Htrue = self.state("hessian", self.k)
        name = self.traj.optimizer
        what = {"bfgs": "BFGS", "dfp": "DFP", "lbfgs": "L-BFGS (two-loop, last m pairs)"}[name]
        self.add("inverse-Hessian estimate", f"V ({what}) = {fmt(V)}", values={"V": V})
        self.add("approximate vs true Hessian", f"B = V⁻¹ = {fmt(B)}; true H = {fmt(Htrue)}",
                 values={"H": B, "hessian": Htrue})  # fmt: skip
        self.models.append(Model("model with B = V⁻¹ (approximation)", B, g, "dash"))
        if np.isfinite(Htrue).all():
            self.models.append(Model("model with the true H", Htrue, g, "dot"))
        d = -V @ g
        alpha = float(self.state("step_size")[0])
        if d @ g >= 0:
            d = -g
            self.notes.append("−Vg went uphill: this update fell back to −g (V reset to I).")
        ls = self.c.get("line_search", "none")
        how = {"none": "α = η", "backtracking": "α from backtracking (Armijo)",
               "exact": "α = first local minimum of f(θ + αd)"}.get(ls, f"α ({ls})")  # fmt: skip
        self.add("direction", f"d = −V g = {fmt(d)}; {how} = {fmt(alpha)}", guide=d * alpha,
                 values={"d": d, "alpha": alpha})  # fmt: skip
        self._trials("+ α d")
        move = alpha * d
        self.add("step along d", f"α d = {fmt(alpha)}·{fmt(d)} = {fmt(move)}", "move",
                 vector=move, values={"alpha": alpha, "d": d})  # fmt: skip
        self.total("α d")

    def _trials(self, d: str) -> None:
        """The line search of this update, when there is one and the surface is known: the
        α's it tried (in order) and the one it took, along φ(α) = f(θ_k + α d)."""
        from optviz import linesearch

        if self.surface is None or not linesearch.uses_line_search(self.traj):
            return
        slc = linesearch.line_search_slice(self.traj, self.surface, self.k, points=240)
        self.line_search = slc
        trials = np.asarray(slc.trials, np.float64)
        runs: list[list] = []  # the trials as printed, repeats (a bisection at 1 ulp) counted
        for text in (fmt(a) for a in trials):
            if runs and runs[-1][0] == text:
                runs[-1][1] += 1
            else:
                runs.append([text, 1])
        shown = [t if n == 1 else f"{t} (×{n})" for t, n in runs]
        if len(shown) > 8:
            shown = [*shown[:4], "…", *shown[-3:]]
        words = {"exact": "first local minimum of φ", "wolfe": "strong Wolfe",
                 "backtracking": "Armijo backtracking"}.get(slc.mode, slc.mode)  # fmt: skip
        p = np.asarray(slc.direction, np.float64)
        points = np.asarray(slc.theta)[None, :] + trials[:, None] * p[None, :]
        self.add(
            "line search",
            f"φ(α) = f(θ_{self.k} {d}) tried {trials.size} α's ({words}): "
            f"{', '.join(shown)} → α = {fmt(slc.alpha)}, φ(α) = {fmt(slc.taken_phi)} "
            f"(φ(0) = {fmt(slc.f0)})",
            values={"trials": trials, "alpha": slc.alpha, "trial_points": points,
                    "phi": slc.taken_phi, "f0": slc.f0},
        )  # fmt: skip

    def _levenberg_marquardt(self) -> None:
        g = self.gradient(first_order=False)
        H = self.state("H")
        nu = float(self.state("nu", self.k))
        self.add("damped Gauss–Newton matrix", f"G = JᵀJ + νI = {fmt(H)} with ν = {fmt(nu)}",
                 values={"H": H, "nu": nu})  # fmt: skip
        self.models.append(Model("Gauss–Newton model", H, g))
        step = self.theta_next - self.theta
        if not step.any():
            self.add("rejected", f"f would increase: θ stays, ν ← 10ν = {fmt(self.state('nu'))}",
                     values={"nu": self.state("nu")})  # fmt: skip
            self.total("0")
            return
        move = -self.lr * np.linalg.solve(H, g)
        self.add("step", f"−η G⁻¹ g = {fmt(move)}; f decreased: ν ← ν/10", "move",
                 vector=move, values={"part": move})  # fmt: skip
        self.total("−η G⁻¹ g")

    def _steepest_descent(self) -> None:
        g = self.gradient(first_order=False)
        alpha = float(self.state("step_size")[0])
        ls = self.c.get("line_search", "exact")
        how = {"none": "α = η", "backtracking": "α from backtracking (Armijo)",
               "exact": "α = first local minimum of f(θ − αg)"}.get(ls, ls)  # fmt: skip
        self.add("step length", f"{how} = {fmt(alpha)}", values={"alpha": alpha})
        self._trials("− α g")
        move = -alpha * g
        self.add(
            "step along −g",
            f"−α g = −{fmt(alpha)}·{fmt(g)} = {fmt(move)}",
            "move",
            vector=move,
            values={"alpha": alpha, "g": g},
        )
        self.total("−α g")


def formula(traj: Trajectory) -> str:
    """The formula card of the run's optimizer with its convention options (the same source,
    the update rule's docstring, as the Formulas view)."""
    choices = {k: v for k, v in traj.config.items() if k in optimizers.CHOICE_OPTIONS}
    opt = optimizers.get(traj.optimizer)
    return optimizers.formula(traj.optimizer, **{k: v for k, v in choices.items()
                                                  if k in opt.defaults})  # fmt: skip
