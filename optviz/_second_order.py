r"""The second-order and line-search methods: Newton, BFGS/DFP, L-BFGS, Levenberg–Marquardt,
steepest descent, and the line searches they share.

They evaluate the surface themselves (Hessian, Gauss–Newton matrix, values along a ray), so
each takes the surface id and data; the trajectory loop (:mod:`optviz._kernel`) calls them with
the same state layout as the first-order rules (:mod:`optviz._layout`). The batch kernel runs
them run by run through :func:`optviz._kernel.simulate`.
"""

from __future__ import annotations

import math

from numba import njit

from optviz._layout import (
    BFGS,
    BIG,
    EPS,
    GX_PREV,
    GY_PREV,
    H00,
    H01,
    H10,
    H11,
    LINE_SEARCH,
    MEM_HEAD,
    N_MEM,
    NEWTON_FORM,
    NU,
    SX,
    SY,
)
from surfaces._kernels import gauss_newton, gradient, hessian, value

# Below this ‖s‖·‖r‖ a quasi-Newton pair is numerically zero (its products sᵀr, rᵀVr lose their
# digits to underflow and 1/sᵀr overflows): the pair is skipped instead of turning V into NaN.
TINY_PAIR = 1e-280


@njit(cache=True, error_model="numpy")
def _phi_slope(sid, p, data_x, data_y, idx, x, y, px, py, a):
    gx, gy = gradient(sid, x + a * px, y + a * py, p, data_x, data_y, idx, idx.shape[0])
    return gx * px + gy * py


@njit(cache=True, error_model="numpy")
def line_search(mode, sid, p, data_x, data_y, idx, x, y, f0, gx, gy, px, py, a0):
    r"""Step length α along direction p from θ = (x, y); φ(α) = f(θ + αp), φ'(α) = ∇f(θ + αp)ᵀp.

    mode 0 (none): α = a0 (η).

    mode 1 (backtracking, Armijo): the largest α = a0·2⁻ʲ with φ(α) ≤ φ(0) + 10⁻⁴ α φ'(0).

    mode 2 (exact): the FIRST local minimum of φ along the ray (not the global argmin). Trial
    steps αⱼ = α₀·2ʲ, with α₀ = 10⁻³(1 + ‖θ‖)/‖p‖ (η is not used), advance while the loss keeps
    falling, φ(αⱼ) < φ(αⱼ₋₁), and the slope stays negative, φ'(αⱼ) < 0. The first trial where the
    loss stops falling or the slope turns ≥ 0 closes a bracket [αⱼ₋₁, αⱼ] that holds a local
    minimum; it is then halved, keeping the left half whenever the midpoint is not still
    descending below the left end (so a bump inside the bracket sends the search to the dip before
    it), until no float lies between the ends: α is found to 1 ulp. On a quadratic this is the
    closed form α = −gᵀp / pᵀHp. A dip narrower than the gap between two trial steps that the loss
    and slope at the trials do not reveal can be missed.

    mode 3 (wolfe, strong Wolfe conditions, c₁ = 10⁻⁴, c₂ = 0.9 as in scipy.optimize): trials
    α = a0·2ʲ until one satisfies φ(α) ≤ φ(0) + c₁αφ'(0) and |φ'(α)| ≤ c₂|φ'(0)| or brackets
    such a step, then the bracket is halved (Nocedal & Wright, Algorithms 3.5 and 3.6, with
    bisection as the interpolation). The curvature condition guarantees sᵀr > 0, so every
    quasi-Newton pair is usable.
    """
    if mode == 0:
        return a0
    slope0 = gx * px + gy * py
    if mode == 1:
        a = a0
        for _ in range(80):
            fa = value(sid, x + a * px, y + a * py, p, data_x, data_y)
            if fa <= f0 + 1e-4 * a * slope0:
                return a
            a *= 0.5
        return a
    if not (slope0 < 0.0):
        # No descent along p (p = 0 at a stationary point): stay instead of an ∞·0 = NaN step.
        return 0.0
    if mode == 3:
        return _wolfe(sid, p, data_x, data_y, idx, x, y, f0, slope0, px, py, a0)
    # Lecture 003 (Polish deck), "Minimalizacja kierunkowa – zamiast stałej wartości współczynnika
    # sprawdzanie jak daleko można podążać w danym kierunku, zanim wartość funkcji straty
    # (kosztu, celu) zacznie rosnać": follow the direction until the loss starts to rise.
    lo = 0.0
    flo = f0
    hi = 1e-3 * (1.0 + math.hypot(x, y)) / math.hypot(px, py)
    for _ in range(1200):
        fhi = value(sid, x + hi * px, y + hi * py, p, data_x, data_y)
        if not (fhi < flo):
            break  # the loss stopped falling (or is not finite): a minimum lies in (lo, hi)
        if not (_phi_slope(sid, p, data_x, data_y, idx, x, y, px, py, hi) < 0.0):
            break  # the slope turned: a minimum lies in (lo, hi]
        lo = hi
        flo = fhi
        hi *= 2.0
        if not (abs(x + hi * px) <= BIG and abs(y + hi * py) <= BIG):
            # φ still falls this far out: no minimum along the ray within |θ| ≤ BIG (f is
            # unbounded below there, as on the saddles). Take the farthest trial inside: the run
            # escapes (or the next step diverges) instead of jumping past BIG at once.
            return lo
    # Up to ~1100 halvings: from the first trial down to a minimum hundreds of binades below it
    # (a point near 0 on a quadratic whose minimum is at 0); ~55 when the bracket is tight.
    for _ in range(1200):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        s = _phi_slope(sid, p, data_x, data_y, idx, x, y, px, py, mid)
        fmid = value(sid, x + mid * px, y + mid * py, p, data_x, data_y)
        # Still descending and not above the left end (within rounding): the first minimum is
        # right of mid. Otherwise it is left of mid (the slope turned, or a bump lies between).
        if s < 0.0 and fmid <= flo + 1e-13 * abs(flo):
            lo = mid
            flo = min(flo, fmid)
        else:
            hi = mid
    return 0.5 * (lo + hi)


@njit(cache=True, error_model="numpy")
def _wolfe(sid, p, data_x, data_y, idx, x, y, f0, slope0, px, py, a0):
    """Strong-Wolfe step (``line_search`` mode 3); slope0 = φ'(0) < 0."""
    c1 = 1e-4
    c2 = 0.9
    a_prev = 0.0
    f_prev = f0
    a = a0
    lo = 0.0
    hi = 0.0
    flo = f0
    bracketed = False
    for j in range(1200):
        fa = value(sid, x + a * px, y + a * py, p, data_x, data_y)
        if not (fa <= f0 + c1 * a * slope0) or (j > 0 and fa >= f_prev):
            lo, flo, hi = a_prev, f_prev, a
            bracketed = True
            break
        da = _phi_slope(sid, p, data_x, data_y, idx, x, y, px, py, a)
        if abs(da) <= -c2 * slope0:
            return a
        if da >= 0.0:
            lo, flo, hi = a, fa, a_prev
            bracketed = True
            break
        a_prev = a
        f_prev = fa
        a *= 2.0
        if not (abs(x + a * px) <= BIG and abs(y + a * py) <= BIG):
            return a_prev  # no Wolfe step within |θ| ≤ BIG: the farthest trial inside
    if not bracketed:
        return a_prev
    # Zoom: lo satisfies the sufficient decrease with the lowest loss so far, and the slope at
    # lo points towards hi, so [lo, hi] holds steps that satisfy both conditions.
    for _ in range(1200):
        a = 0.5 * (lo + hi)
        if a == lo or a == hi:
            break
        fa = value(sid, x + a * px, y + a * py, p, data_x, data_y)
        if not (fa <= f0 + c1 * a * slope0) or fa >= flo:
            hi = a
        else:
            da = _phi_slope(sid, p, data_x, data_y, idx, x, y, px, py, a)
            if abs(da) <= -c2 * slope0:
                return a
            if da * (hi - lo) >= 0.0:
                hi = lo
            lo = a
            flo = fa
    return lo


@njit(cache=True, error_model="numpy")
def newton_update(sid, p, data_x, data_y, x, y, gx, gy, lr, hp, flags, i):
    r"""Newton's method, damped by η, with a guard against indefinite Hessians.

    Formula (newton_form=guarded):
        H = Q \Lambda Q^\top,\quad |H|_\epsilon = Q \max(|\Lambda|, \epsilon)\, Q^\top \\
        \theta_t \leftarrow \theta_{t-1} - \eta\, |H|_\epsilon^{-1}\, g_t

    Formula (newton_form=textbook):
        \theta_t \leftarrow \theta_{t-1} - \eta\, H^{-1} g_t

    Notes:
        ``textbook`` (η = 1) is the lectures' θ* = θ₀ − H⁻¹∇J: it jumps to the stationary
        point of the local quadratic model, which at a saddle is the saddle itself. ``guarded``
        flips negative curvature to positive (saddle-free Newton) and floors tiny eigenvalues
        at ε, so every step goes downhill.
    """
    a, b, c = hessian(sid, x, y, p, data_x, data_y)
    if flags[NEWTON_FORM] == 1:
        det = a * c - b * b
        sx = (c * gx - b * gy) / det
        sy = (a * gy - b * gx) / det
        return x - lr * sx, y - lr * sy, lr, lr
    # Eigen-decomposition of the symmetric 2×2 matrix [[a, b], [b, c]].
    mean = 0.5 * (a + c)
    rad = math.hypot(0.5 * (a - c), b)
    l1 = mean + rad
    l2 = mean - rad
    if b != 0.0:
        vx, vy = l1 - c, b
    elif a >= c:
        vx, vy = 1.0, 0.0
    else:
        vx, vy = 0.0, 1.0
    nrm = math.hypot(vx, vy)
    vx /= nrm
    vy /= nrm
    m1 = max(abs(l1), hp[EPS, i])
    m2 = max(abs(l2), hp[EPS, i])
    p1 = (vx * gx + vy * gy) / m1  # component along the first eigenvector
    p2 = (-vy * gx + vx * gy) / m2  # along the second (orthogonal) one
    sx = p1 * vx - p2 * vy
    sy = p1 * vy + p2 * vx
    return x - lr * sx, y - lr * sy, lr, lr


@njit(cache=True, error_model="numpy")
def quasi_newton_update(oid, sid, p, data_x, data_y, idx, x, y, f0, gx, gy, lr, flags, st, i):
    r"""BFGS or DFP: quasi-Newton steps with an inverse-Hessian estimate V (V₀ = I).

    Formula (method=bfgs):
        s_k = \theta_k - \theta_{k-1},\quad r_k = g_k - g_{k-1} \\
        V_k = V_{k-1} + \left[1 + \frac{r_k^\top V_{k-1} r_k}{s_k^\top r_k}\right]
              \frac{s_k s_k^\top}{s_k^\top r_k}
              - \frac{s_k r_k^\top V_{k-1} + V_{k-1} r_k s_k^\top}{s_k^\top r_k} \\
        \theta_{k+1} = \theta_k - \alpha_k V_k g_k

    Formula (method=dfp):
        s_k = \theta_k - \theta_{k-1},\quad r_k = g_k - g_{k-1} \\
        V_k = V_{k-1} + \frac{s_k s_k^\top}{s_k^\top r_k}
              - \frac{V_{k-1} r_k r_k^\top V_{k-1}}{r_k^\top V_{k-1} r_k} \\
        \theta_{k+1} = \theta_k - \alpha_k V_k g_k

    Notes:
        The Polish lecture's update formulas, with its directional minimisation: "Zarówno w DFP
        jak i BFGS przy V₀=I i minimalizacji kierunkowej w każdym kroku można zapewnić dodatnią
        określoność" (with V₀ = I and a directional minimisation at every step both keep V
        positive definite). So αₖ comes from ``line_search`` = ``exact`` by default (the first
        minimum along the ray; with it BFGS and DFP take the same steps, Dixon's theorem);
        ``wolfe`` is scipy.optimize's inexact search (sᵀr > 0 guaranteed; DFP is known to
        crawl with it), ``backtracking`` Armijo's (it may accept sᵀr ≤ 0). The update is
        skipped when sᵀr ≤ 10⁻¹²‖s‖‖r‖ (it would destroy positive definiteness) or the pair is
        numerically zero (‖s‖‖r‖ ≤ 10⁻²⁸⁰), and V resets to I if −Vg is not a descent
        direction.
    """
    if st[SX, i] != 0.0 or st[SY, i] != 0.0:
        sx, sy = st[SX, i], st[SY, i]
        rx, ry = gx - st[GX_PREV, i], gy - st[GY_PREV, i]
        sr = sx * rx + sy * ry
        nsr = math.hypot(sx, sy) * math.hypot(rx, ry)
        if sr > 1e-12 * nsr and nsr > TINY_PAIR:
            v00, v01, v10, v11 = st[H00, i], st[H01, i], st[H10, i], st[H11, i]
            vr0 = v00 * rx + v01 * ry  # V r
            vr1 = v10 * rx + v11 * ry
            rv0 = rx * v00 + ry * v10  # rᵀ V
            rv1 = rx * v01 + ry * v11
            rvr = rx * vr0 + ry * vr1
            if oid == BFGS:
                k = (1.0 + rvr / sr) / sr
                st[H00, i] = v00 + k * sx * sx - (sx * rv0 + vr0 * sx) / sr
                st[H01, i] = v01 + k * sx * sy - (sx * rv1 + vr0 * sy) / sr
                st[H10, i] = v10 + k * sy * sx - (sy * rv0 + vr1 * sx) / sr
                st[H11, i] = v11 + k * sy * sy - (sy * rv1 + vr1 * sy) / sr
            elif rvr > 1e-12 * nsr * math.hypot(st[H00, i], st[H11, i]) and rvr > TINY_PAIR:
                st[H00, i] = v00 + sx * sx / sr - vr0 * rv0 / rvr
                st[H01, i] = v01 + sx * sy / sr - vr0 * rv1 / rvr
                st[H10, i] = v10 + sy * sx / sr - vr1 * rv0 / rvr
                st[H11, i] = v11 + sy * sy / sr - vr1 * rv1 / rvr
    px = -(st[H00, i] * gx + st[H01, i] * gy)
    py = -(st[H10, i] * gx + st[H11, i] * gy)
    if px * gx + py * gy >= 0.0:
        st[H00, i], st[H01, i], st[H10, i], st[H11, i] = 1.0, 0.0, 0.0, 1.0
        px, py = -gx, -gy
    a = line_search(flags[LINE_SEARCH], sid, p, data_x, data_y, idx, x, y, f0, gx, gy, px, py, lr)
    st[SX, i], st[SY, i] = a * px, a * py
    st[GX_PREV, i], st[GY_PREV, i] = gx, gy
    return x + a * px, y + a * py, a, a


@njit(cache=True, error_model="numpy")
def lbfgs_update(sid, p, data_x, data_y, idx, x, y, f0, gx, gy, lr, flags, st, i, mem):
    r"""L-BFGS: BFGS from the last m pairs (s, r) only, by the two-loop recursion.

    Formula (default):
        q \leftarrow g_k;\ \text{for } i = k-1 \dots k-m:\
            \rho_i = 1/(r_i^\top s_i),\ a_i = \rho_i s_i^\top q,\ q \leftarrow q - a_i r_i \\
        z \leftarrow \gamma_k q,\quad
            \gamma_k = \frac{s_{k-1}^\top r_{k-1}}{r_{k-1}^\top r_{k-1}} \\
        \text{for } i = k-m \dots k-1:\ b = \rho_i r_i^\top z,\ z \leftarrow z + s_i (a_i - b) \\
        \theta_{k+1} = \theta_k - \alpha_k z

    Notes:
        Memory m = ``history_size`` (default 10); O(m·n) memory instead of BFGS's n², which is
        what makes quasi-Newton ideas usable for networks. αₖ from ``line_search`` (default
        ``wolfe``, as scipy's L-BFGS-B: with Armijo backtracking alone the accepted steps can
        have sᵀr ≤ 0, every new pair is then skipped and the stale memory creeps). Pairs with
        sᵀr ≤ 10⁻¹²‖s‖‖r‖ or ‖s‖‖r‖ ≤ 10⁻²⁸⁰ are not stored.
    """
    m = mem.shape[0]
    if st[SX, i] != 0.0 or st[SY, i] != 0.0:
        rx, ry = gx - st[GX_PREV, i], gy - st[GY_PREV, i]
        sx, sy = st[SX, i], st[SY, i]
        nsr = math.hypot(sx, sy) * math.hypot(rx, ry)
        if sx * rx + sy * ry > 1e-12 * nsr and nsr > TINY_PAIR:
            head = int(st[MEM_HEAD, i])
            mem[head, 0], mem[head, 1], mem[head, 2], mem[head, 3] = st[SX, i], st[SY, i], rx, ry
            st[MEM_HEAD, i] = (head + 1) % m
            st[N_MEM, i] = min(st[N_MEM, i] + 1.0, m)
    count = int(st[N_MEM, i])
    qx, qy = gx, gy
    newest = int(st[MEM_HEAD, i]) - 1
    for j in range(count):
        h = (newest - j) % m
        rho = 1.0 / (mem[h, 2] * mem[h, 0] + mem[h, 3] * mem[h, 1])
        a = rho * (mem[h, 0] * qx + mem[h, 1] * qy)
        mem[h, 4] = a
        qx -= a * mem[h, 2]
        qy -= a * mem[h, 3]
    gamma = 1.0
    if count > 0:
        h = newest % m
        # γ = sᵀr / rᵀr, divided by ‖r‖ twice so that rᵀr cannot underflow to 0 (γ = ∞).
        nr = math.hypot(mem[h, 2], mem[h, 3])
        gamma = (mem[h, 0] * mem[h, 2] + mem[h, 1] * mem[h, 3]) / nr / nr
    zx, zy = gamma * qx, gamma * qy
    for j in range(count - 1, -1, -1):
        h = (newest - j) % m
        rho = 1.0 / (mem[h, 2] * mem[h, 0] + mem[h, 3] * mem[h, 1])
        b = rho * (mem[h, 2] * zx + mem[h, 3] * zy)
        zx += mem[h, 0] * (mem[h, 4] - b)
        zy += mem[h, 1] * (mem[h, 4] - b)
    px, py = -zx, -zy
    if px * gx + py * gy >= 0.0:
        px, py = -gx, -gy
    a = line_search(flags[LINE_SEARCH], sid, p, data_x, data_y, idx, x, y, f0, gx, gy, px, py, lr)
    st[SX, i], st[SY, i] = a * px, a * py
    st[GX_PREV, i], st[GY_PREV, i] = gx, gy
    return x + a * px, y + a * py, a, a


@njit(cache=True, error_model="numpy")
def levenberg_marquardt_update(sid, p, data_x, data_y, x, y, f0, gx, gy, lr, st, i):
    r"""Levenberg–Marquardt on a sum of squares: Gauss–Newton blended with gradient descent.

    Formula (default):
        G = J^\top J + \nu_k I \\
        \theta_{k+1} = \theta_k - \eta\, G^{-1} J^\top e \quad
        \text{if } f \text{ decreases: } \nu_{k+1} = \nu_k/10,\ \text{else stay and } \nu_{k+1}
        = 10\,\nu_k

    Notes:
        The Polish lecture's G = JᵀJ + νI, written for f = c·Σeᵢ² with ∇f = 2c·Jᵀe so JᵀJ is
        the Gauss–Newton part of the Hessian (the residual curvature is dropped). Far from
        the minimum ν is large and the step is a short gradient step; near it ν → 0 and it is
        Gauss–Newton. The lecture gives no rule for changing ν (it refers to Osowski's book);
        the ×10 / ÷10 rule here is the common Marquardt heuristic, not the lecture's.
        ν₀ = ``lm_lambda`` (default 1e-3). A rejected step leaves θ in place.
    """
    # 003 (Polish deck): "\mathbf{G}(\mathbf{w}) = [\mathbf{J}(\mathbf{w})_k]^T
    #   \mathbf{J}(\mathbf{w}_k) + \nu_k \mathbf{I}", "Sposoby zmiany wartości v_k są podane
    #   m.in. w książce Stanisław Osowski" (the ways of changing ν are given in Osowski's book):
    #   no ν rule in the deck.
    a, b, c = gauss_newton(sid, x, y, p, data_x, data_y)
    nu = st[NU, i]
    a += nu
    c += nu
    det = a * c - b * b
    sx = (c * gx - b * gy) / det
    sy = (a * gy - b * gx) / det
    nx = x - lr * sx
    ny = y - lr * sy
    fn = value(sid, nx, ny, p, data_x, data_y)
    # ν stays within [1e-15, 1e15]: at the exact minimum no step can decrease f, and ν must
    # neither overflow there nor underflow to a singular Gauss–Newton matrix.
    if fn <= f0:
        st[NU, i] = max(nu / 10.0, 1e-15)
        return nx, ny, lr, lr
    st[NU, i] = min(nu * 10.0, 1e15)
    return x, y, lr, lr


@njit(cache=True, error_model="numpy")
def steepest_descent_update(sid, p, data_x, data_y, idx, x, y, f0, gx, gy, lr, flags):
    r"""Steepest descent: move along −g by the step length a line search picks.

    Formula (line_search=exact):
        \alpha_k = \text{the first local minimum of } \varphi(\alpha) = f(\theta_k - \alpha\, g_k),
        \ \alpha > 0 \ (\text{to 1 ulp}) \\
        \theta_{k+1} = \theta_k - \alpha_k\, g_k

    Formula (line_search=wolfe):
        \alpha_k:\ f(\theta_k - \alpha_k g_k) \le f(\theta_k) - 10^{-4}\alpha_k \lVert g_k\rVert^2,
        \ \lvert \nabla f(\theta_k - \alpha_k g_k)^\top g_k \rvert \le 0.9\, \lVert g_k\rVert^2 \\
        \theta_{k+1} = \theta_k - \alpha_k\, g_k

    Formula (line_search=backtracking):
        \alpha_k = \eta\, 2^{-j},\ j \text{ smallest with }
        f(\theta_k - \alpha_k g_k) \le f(\theta_k) - 10^{-4}\alpha_k \lVert g_k\rVert^2 \\
        \theta_{k+1} = \theta_k - \alpha_k\, g_k

    Formula (line_search=none):
        \theta_{k+1} = \theta_k - \eta\, g_k

    Notes:
        The Polish lecture's "metoda najszybszego spadku": GD with directional minimisation,
        which the lecture defines as following the direction "until the loss starts to rise".
        So ``exact`` is the first local minimum along −g, not the global argmin over α ≥ 0 (on
        Rosenbrock from (−1.5, 2) the first is α = 5.1·10⁻⁴, the global one 0.021): steps
        α₀·2ʲ until the loss stops falling or its slope turns, then bisection of that bracket
        to 1 ulp (η is not used). With it each new gradient is orthogonal to the previous
        step, hence the right-angled zig-zag in a ravine. ``wolfe`` is an inexact search from
        α = η (strong Wolfe conditions, as scipy.optimize).
    """
    a = line_search(flags[LINE_SEARCH], sid, p, data_x, data_y, idx, x, y, f0, gx, gy, -gx, -gy, lr)
    return x - a * gx, y - a * gy, a, a
