r"""The Numba engine: every update rule, the LR schedules and the trajectory loop.

Everything here is compiled once (``cache=True``) and dispatches on integer ids, so one
compiled kernel serves every optimizer × surface × schedule. No ``fastmath`` (it would let LLVM
assume away the NaN/inf checks that detect divergence); ``error_model="numpy"`` so that 0/0 gives
NaN (and a "diverged" status) instead of raising ZeroDivisionError like Python would.

Update rules act on run ``i``: they mutate its optimizer state, column ``i`` of ``st`` (shape
(N_STATE, runs), layout below), read its hyperparameters, column ``i`` of ``hp`` (N_HP, runs),
and return the new point plus the effective per-coordinate step size they applied; apart from
that state they are pure functions of their arguments. Columns, not rows: :mod:`optviz._batch`
runs one rule over the runs of a block in a loop that LLVM vectorises, which needs state j of
consecutive runs to be contiguous. A single trajectory is one column. Their docstrings hold the
formula in the lecture notation, in blocks ``Formula (option=value):`` that
:mod:`optviz.optimizers` parses for the formula cards, so the documentation and the app cannot
drift apart.

Input contract of :func:`simulate` (the Python layer in :mod:`optviz.engine` guarantees it):
C-contiguous float64 arrays, ``hp`` of length ``N_HP`` and ``flags`` (int64) of length
``N_FLAGS``, ``batches`` of shape (steps, B) or (0, 0) for full-batch gradients, ``noise`` of
shape (steps, 2) or (0, 2) without gradient noise.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from surfaces._kernels import gauss_newton, gradient, hessian, value

# ---- optimizer ids ------------------------------------------------------------------------
GD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM, NADAM, ADAMW, AMSGRAD = range(9)
NEWTON, BFGS, DFP, LBFGS, LEVENBERG_MARQUARDT, STEEPEST_DESCENT = range(9, 15)

# ---- hyperparameter vector hp ---------------------------------------------------------------
LR, BETA1, BETA2, EPS, WEIGHT_DECAY, MOMENTUM_DECAY, DAMPENING, LR_DECAY, LM_LAMBDA = range(9)
STEP_TOL, TARGET_LOSS = 9, 10  # the Polish deck's stop rules: ‖θₖ₊₁ − θₖ‖ < tol, f ≤ target
N_HP = 11

# ---- integer option vector flags -------------------------------------------------------------
(
    MOMENTUM_FORM,  # 0 torch v=βv+g, 1 ema v=βv+(1−β)g, 2 lr_inside v=βv+ηg, 3 sum v=v+g
    NESTEROV_FORM,  # 0 torch (reparameterized), 1 lookahead ∇f(θ−βv)
    EPS_INSIDE,  # 0 ε outside √, 1 inside
    BIAS_CORRECTION,  # 0 off, 1 on
    NADAM_SCHEDULE,  # 0 torch μ_t = β₁(1 − ½·0.96^(tψ)), 1 constant μ = β₁
    NEWTON_FORM,  # 0 guarded (|λ| eigenvalues), 1 textbook
    LINE_SEARCH,  # 0 none (α = η), 1 backtracking (Armijo), 2 exact (first minimum), 3 wolfe
    HISTORY_SIZE,  # L-BFGS memory m
    CENTERED,  # RMSProp: 0 plain, 1 centered (torch option)
    ACCUMULATOR_INIT,  # RMSProp/Adam: 0 v₀ = 0 (torch), 1 v₁ = g₁² (σ⁰ = |g⁰|, Hung-yi Lee)
    STOP_RULE,  # 0 none, 1 ‖θₖ₊₁ − θₖ‖ < STEP_TOL, 2 f(θₖ) ≤ TARGET_LOSS (Polish deck)
) = range(11)
N_FLAGS = 11

# ---- schedule ids and statuses -----------------------------------------------------------------
S_CONSTANT, S_STEP, S_EXPONENTIAL, S_INVERSE_TIME, S_POWER, S_PIECEWISE, S_PLATEAU, S_SGDR = range(
    8
)
# Counted in epochs (1-based epoch = k // L + 1, L = sp[SP_EPOCH_LEN] updates per epoch):
S_EPOCH_INVERSE_TIME, S_EPOCH_EXPONENTIAL, S_EPOCH_INVERSE_SQRT, S_PERFORMANCE = range(8, 12)
S_EPOCH_PIECEWISE = 12
N_SCHED = 24
SP_EPOCH_LEN = N_SCHED - 1  # the schedule vector's last slot: updates per epoch (≥ 1)
OK, CONVERGED, DIVERGED, ESCAPED = range(4)

# ---- optimizer state layout ------------------------------------------------------------------
M0, M1 = 0, 1  # first moment / momentum buffer / velocity
V0, V1 = 2, 3  # second moment / accumulator G / RMSProp average
VMAX0, VMAX1 = 4, 5  # AMSGrad running max; RMSProp-centered gradient average
BP1, BP2 = 6, 7  # β₁ᵗ, β₂ᵗ tracked by multiplication
MU_PRODUCT = 8  # NAdam ∏ μ_i
NU = 9  # Levenberg–Marquardt ν
H00, H01, H10, H11 = 10, 11, 12, 13  # BFGS/DFP inverse-Hessian approximation V
SX, SY, GX_PREV, GY_PREV = 14, 15, 16, 17  # previous step s and gradient (quasi-Newton)
N_MEM, MEM_HEAD = 18, 19  # L-BFGS stored pairs
PL_BEST, PL_BAD, PL_FACTOR = 20, 21, 22  # reduce-on-plateau / performance-rule state
PREV_X, PREV_Y = 23, 24  # the point before the last update (stop rule ‖θₖ₊₁ − θₖ‖ < tol)
N_STATE = 25

BIG = 1e10  # |θ| beyond this is divergence, whatever the surface
# Below this ‖s‖·‖r‖ a quasi-Newton pair is numerically zero (its products sᵀr, rᵀVr lose their
# digits to underflow and 1/sᵀr overflows): the pair is skipped instead of turning V into NaN.
TINY_PAIR = 1e-280
# ‖∇f‖² below the smallest normal float (‖∇f‖ < 1.5e-154): the gradient is zero to working
# precision, a stationary point reached exactly.
TINY_NORMAL = 2.2250738585072014e-308


@njit(inline="always", error_model="numpy")
def _sqrt(v):
    # libm's sqrt, which may set errno: LLVM cannot speculate it, so the rules' branches on the
    # convention flags stay branches in the trajectory loop (with the LLVM intrinsic it computes
    # both sides and selects, ~12 % slower). The batch kernel rebinds this name to the intrinsic.
    return math.sqrt(v)


@njit(cache=True, error_model="numpy")
def _lerp(a, b, w):
    # torch.lerp's formula (weight < 0.5 from the start, else from the end): same rounding.
    if w < 0.5:
        return a + w * (b - a)
    return b - (b - a) * (1.0 - w)


# ======================================================================================
# First-order update rules
# ======================================================================================


@njit(cache=True, error_model="numpy")
def gd_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""Gradient descent (``torch.optim.SGD`` without momentum); SGD on mini-batches.

    Formula (default):
        \theta_t \leftarrow \theta_{t-1} - \eta\, g_t

    Notes:
        ``g_t`` is the (mini-batch) gradient plus ``weight_decay``·θ (L2, as torch adds it).
    """
    wd = hp[WEIGHT_DECAY, i]
    return x - lr * (gx + wd * x), y - lr * (gy + wd * y), lr, lr


@njit(cache=True, error_model="numpy")
def momentum_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""Heavy-ball momentum; β₁ is the momentum coefficient β.

    Formula (momentum_form=torch):
        v_t \leftarrow \beta_1 v_{t-1} + (1-\tau)\, g_t \quad (v_1 = g_1) \\
        \theta_t \leftarrow \theta_{t-1} - \eta\, v_t

    Formula (momentum_form=ema, bias_correction=on):
        v_t \leftarrow \beta_1 v_{t-1} + (1-\beta_1)\, g_t \quad (v_0 = 0) \\
        \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\, v_t

    Formula (momentum_form=ema):
        v_t \leftarrow \beta_1 v_{t-1} + (1-\beta_1)\, g_t \quad (v_0 = 0) \\
        \theta_t \leftarrow \theta_{t-1} - \eta\, v_t

    Formula (momentum_form=lr_inside):
        v_t \leftarrow \beta_1 v_{t-1} + \eta\, g_t \\
        \theta_t \leftarrow \theta_{t-1} - v_t

    Formula (momentum_form=sum):
        m_t = g_1 + g_2 + \dots + g_t \quad (\beta_1 \text{ not used: } \beta = 1) \\
        \theta_t \leftarrow \theta_{t-1} - \eta\, m_t

    Notes:
        ``torch`` is ``torch.optim.SGD(momentum=β₁, dampening=τ)`` and CS231n's v = ρv + ∇f.
        ``ema`` is the mini-batch deck's (Andrew Ng's) v = βv + (1−β)dW from v₀ = 0: its steps
        are (1−β₁) times smaller for the same η, and ``bias_correction`` (which acts in this
        form only) divides v by 1−β₁ᵗ. Hung-yi Lee's EMA momentum starts from m⁰ = g⁰ instead:
        that is ``torch`` with dampening τ = β₁. ``sum`` is Hung-yi Lee's first momentum,
        mᵗ = g⁰ + g¹ + … + gᵗ (β = 1). ``lr_inside`` is Sutskever's and the Polish lecture's
        m ← βm − η∇E; it equals ``torch`` for constant η and differs once η is scheduled (η
        of past steps stays inside v).
    """
    # Lecture quotes behind the notes above (/work/shared/lectures):
    #   002 (CS231n): "v_{t+1} = \rho v_t + \nabla f(x_t)", code "vx = rho * vx + dx".
    #   001 (mini-batch deck): "v_{dW} = \beta v_{dW} + (1 - \beta) dW"; its Adam slide starts
    #       "V_{dW} = 0, S_{dW} = 0"; bias correction: "v'_{dW} = \frac{v_{dW}}{1 - \beta^2}".
    #   004 (Hung-yi Lee): "m_i^0 = g_i^0", "m_i^t = g_i^0 + g_i^1 + g_i^2 + … + g_i^t" (sum) and,
    #       "Momentum (這不是經典的 Momentum)": "m_i^0 = g_i^0", "m_i^1 = β m_i^0 + (1 − β) g_i^1".
    #   003 (Polish deck): "m ← βm − η∇E".
    b = hp[BETA1, i]
    wd = hp[WEIGHT_DECAY, i]
    dx = gx + wd * x
    dy = gy + wd * y
    form = flags[MOMENTUM_FORM]
    if form == 3:
        if t == 1:
            st[M0, i] = dx
            st[M1, i] = dy
        else:
            st[M0, i] = st[M0, i] + dx
            st[M1, i] = st[M1, i] + dy
        return x - lr * st[M0, i], y - lr * st[M1, i], lr, lr
    if form == 0:
        if t == 1:
            st[M0, i] = dx
            st[M1, i] = dy
        else:
            damp = 1.0 - hp[DAMPENING, i]
            st[M0, i] = b * st[M0, i] + damp * dx
            st[M1, i] = b * st[M1, i] + damp * dy
        return x - lr * st[M0, i], y - lr * st[M1, i], lr, lr
    if form == 1:
        st[M0, i] = b * st[M0, i] + (1.0 - b) * dx
        st[M1, i] = b * st[M1, i] + (1.0 - b) * dy
        step = lr
        if flags[BIAS_CORRECTION] == 1:
            st[BP1, i] *= b
            step = lr / (1.0 - st[BP1, i])
        return x - step * st[M0, i], y - step * st[M1, i], step, step
    st[M0, i] = b * st[M0, i] + lr * dx
    st[M1, i] = b * st[M1, i] + lr * dy
    return x - st[M0, i], y - st[M1, i], lr, lr


@njit(cache=True, error_model="numpy")
def nesterov_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""Nesterov accelerated gradient (NAG); β₁ is the momentum coefficient.

    Formula (nesterov_form=torch):
        v_t \leftarrow \beta_1 v_{t-1} + g_t \quad (v_1 = g_1) \\
        \theta_t \leftarrow \theta_{t-1} - \eta\,(g_t + \beta_1 v_t)

    Formula (nesterov_form=lookahead):
        v_t \leftarrow \beta_1 v_{t-1} + \eta\, \nabla f(\theta_{t-1} - \beta_1 v_{t-1}) \\
        \theta_t \leftarrow \theta_{t-1} - v_t

    Notes:
        ``torch`` is ``torch.optim.SGD(momentum=β₁, nesterov=True)``: the change of variables
        θ̃ = θ − β₁v of CS231n, so the path drawn is the look-ahead point and the gradient is
        taken where the optimizer stands. ``lookahead`` is CS231n's first form and the Polish
        deck's: the gradient is evaluated at the look-ahead point θ − β₁v and the drawn path is
        θ itself. (The Adam deck names NAG but writes no formula.)
    """
    # Lecture quotes behind the notes above (/work/shared/lectures):
    #   002 (CS231n): "v_{t+1} = \rho v_t - \alpha \nabla f(x_t + \rho v_t)", "Change of variables
    #       \tilde{x}_t = x_t + \rho v_t and rearrange".
    #   003 (Polish deck): "\mathbf{m} \leftarrow \beta\mathbf{m} - \eta \cdot \nabla E(\mathbf{w} +
    #       \beta\mathbf{m})", "\mathbf{w} \leftarrow \mathbf{w} + \mathbf{m}".
    b = hp[BETA1, i]
    wd = hp[WEIGHT_DECAY, i]
    dx = gx + wd * x
    dy = gy + wd * y
    if flags[NESTEROV_FORM] == 0:
        if t == 1:
            st[M0, i] = dx
            st[M1, i] = dy
        else:
            st[M0, i] = b * st[M0, i] + dx
            st[M1, i] = b * st[M1, i] + dy
        return x - lr * (dx + b * st[M0, i]), y - lr * (dy + b * st[M1, i]), lr, lr
    st[M0, i] = b * st[M0, i] + lr * dx
    st[M1, i] = b * st[M1, i] + lr * dy
    return x - st[M0, i], y - st[M1, i], lr, lr


@njit(cache=True, error_model="numpy")
def _denominator(v, eps, inside):
    if inside == 1:
        return _sqrt(v + eps)
    return _sqrt(v) + eps


@njit(cache=True, error_model="numpy")
def adagrad_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""AdaGrad (diagonal): per-coordinate step η/√G with G the sum of squared gradients.

    Formula (eps_placement=outside):
        G_t \leftarrow G_{t-1} + g_t^2 \\
        \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{\sqrt{G_t} + \epsilon}\, g_t

    Formula (eps_placement=inside):
        G_t \leftarrow G_{t-1} + g_t^2 \\
        \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{\sqrt{G_t + \epsilon}}\, g_t

    Notes:
        ``outside`` is ``torch.optim.Adagrad`` (default ε = 1e-10) and CS231n's code; ``inside``
        is √(G + ε) of the Adam deck, of CS231n's slide and of the Polish deck. torch's
        ``lr_decay`` divides η by 1 + (t−1)·lr_decay. The full-matrix AdaGrad of the Adam deck
        (G += g gᵀ) is not offered.
    """
    # Lecture quotes behind the notes above (/work/shared/lectures):
    #   000 (Adam deck): "\theta_{t+1} = \theta_t - \frac{\eta}{\sqrt{G_t + \epsilon}}.g_t".
    #   002 (CS231n): slide "\frac{\alpha}{\sqrt{G_t + \epsilon}}", code
    #       "x -= learning_rate * dx / (np.sqrt(grad_squared) + 1e-7)".
    #   003 (Polish deck): "\eta \nabla E(\mathbf{w}) \div \sqrt{\mathbf{s} + \varepsilon},
    #       \quad (2)".
    wd = hp[WEIGHT_DECAY, i]
    dx = gx + wd * x
    dy = gy + wd * y
    clr = lr / (1.0 + (t - 1) * hp[LR_DECAY, i])
    st[V0, i] += dx * dx
    st[V1, i] += dy * dy
    inside = flags[EPS_INSIDE]
    ex = clr / _denominator(st[V0, i], hp[EPS, i], inside)
    ey = clr / _denominator(st[V1, i], hp[EPS, i], inside)
    return x - ex * dx, y - ey * dy, ex, ey


@njit(cache=True, error_model="numpy")
def rmsprop_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""RMSProp: AdaGrad with a leaky (exponential) average; β₂ is the decay α / ρ / γ.

    Formula (centered=on, eps_placement=outside):
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2,\quad
        \bar g_t \leftarrow \beta_2 \bar g_{t-1} + (1-\beta_2)\, g_t \\
        \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{\sqrt{v_t - \bar g_t^2} + \epsilon}\, g_t

    Formula (centered=on, eps_placement=inside):
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2,\quad
        \bar g_t \leftarrow \beta_2 \bar g_{t-1} + (1-\beta_2)\, g_t \\
        \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{\sqrt{v_t - \bar g_t^2 + \epsilon}}\, g_t

    Formula (accumulator_init=first_grad, eps_placement=outside):
        v_1 = g_1^2,\quad v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{\sqrt{v_t} + \epsilon}\, g_t

    Formula (accumulator_init=first_grad, eps_placement=inside):
        v_1 = g_1^2,\quad v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{\sqrt{v_t + \epsilon}}\, g_t

    Formula (eps_placement=outside):
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{\sqrt{v_t} + \epsilon}\, g_t

    Formula (eps_placement=inside):
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{\sqrt{v_t + \epsilon}}\, g_t

    Notes:
        ``outside`` is ``torch.optim.RMSprop`` (α = β₂ = 0.99, ε = 1e-8) and CS231n's code;
        ``inside`` is √(E[g²] + ε) of CS231n's slide and of the Polish deck (the mini-batch deck
        and Hung-yi Lee write no ε). ``centered`` (torch) subtracts the squared running mean of g.
        ``accumulator_init=first_grad`` starts from v₁ = g₁² (Hung-yi Lee's σ⁰ = |g⁰|), so the
        first step is η·sign(g) instead of the torch form's η·g/(√(1−β₂)|g|).
    """
    # Lecture quotes behind the notes above (/work/shared/lectures):
    #   002 (CS231n): slide "\frac{\alpha}{\sqrt{E[g^2]_t + \epsilon}} g_t", code
    #       "x -= learning_rate * dx / (np.sqrt(grad_squared) + 1e-7)".
    #   003 (Polish deck): "\eta \nabla E(\mathbf{w}) \div \sqrt{\mathbf{s} + \varepsilon},".
    #   001 (mini-batch deck): "W = W - \alpha \frac{dW}{\sqrt{S_{dW}}}" (no ε).
    #   004 (Hung-yi Lee): "\sigma_i^0 = \sqrt{(g_i^0)^2}",
    #       "\sigma_i^1 = \sqrt{\alpha(\sigma_i^0)^2 + (1 - \alpha)(g_i^1)^2}",
    #       "\frac{\eta}{\sigma_i^0} g_i^0" (no ε).
    a = hp[BETA2, i]
    wd = hp[WEIGHT_DECAY, i]
    dx = gx + wd * x
    dy = gy + wd * y
    if t == 1 and flags[ACCUMULATOR_INIT] == 1:
        st[V0, i] = dx * dx
        st[V1, i] = dy * dy
    else:
        st[V0, i] = st[V0, i] * a + (1.0 - a) * dx * dx
        st[V1, i] = st[V1, i] * a + (1.0 - a) * dy * dy
    v0 = st[V0, i]
    v1 = st[V1, i]
    if flags[CENTERED] == 1:
        st[VMAX0, i] = _lerp(st[VMAX0, i], dx, 1.0 - a)
        st[VMAX1, i] = _lerp(st[VMAX1, i], dy, 1.0 - a)
        v0 = v0 - st[VMAX0, i] * st[VMAX0, i]
        v1 = v1 - st[VMAX1, i] * st[VMAX1, i]
    inside = flags[EPS_INSIDE]
    ex = lr / _denominator(v0, hp[EPS, i], inside)
    ey = lr / _denominator(v1, hp[EPS, i], inside)
    return x - ex * dx, y - ey * dy, ex, ey


@njit(cache=True, error_model="numpy")
def adam_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""Adam: momentum (first moment m) with RMSProp scaling (second moment v).

    Formula (accumulator_init=first_grad, eps_placement=outside):
        m_1 = g_1,\quad m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
        \sigma_1 = |g_1|,\quad \sigma_t = \sqrt{\beta_2 \sigma_{t-1}^2 + (1-\beta_2)\, g_t^2} \\
        \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{\sigma_t + \epsilon}\, m_t

    Formula (accumulator_init=first_grad, eps_placement=inside):
        m_1 = g_1,\quad m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
        \sigma_1 = |g_1|,\quad \sigma_t = \sqrt{\beta_2 \sigma_{t-1}^2 + (1-\beta_2)\, g_t^2} \\
        \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{\sqrt{\sigma_t^2 + \epsilon}}\, m_t

    Formula (bias_correction=on, eps_placement=outside):
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \hat m_t = \frac{m_t}{1-\beta_1^t},\quad \hat v_t = \frac{v_t}{1-\beta_2^t} \\
        \theta_t \leftarrow \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    Formula (bias_correction=on, eps_placement=inside):
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \hat m_t = \frac{m_t}{1-\beta_1^t},\quad \hat v_t = \frac{v_t}{1-\beta_2^t} \\
        \theta_t \leftarrow \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t + \epsilon}}

    Formula (bias_correction=off, eps_placement=outside):
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \theta_t \leftarrow \theta_{t-1} - \eta\, \frac{m_t}{\sqrt{v_t} + \epsilon}

    Formula (bias_correction=off, eps_placement=inside):
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \theta_t \leftarrow \theta_{t-1} - \eta\, \frac{m_t}{\sqrt{v_t + \epsilon}}

    Notes:
        Defaults are ``torch.optim.Adam`` (η = 1e-3, β₁ = 0.9, β₂ = 0.999, ε = 1e-8, ε outside
        √, bias correction on), computed in torch's order: step η/(1−β₁ᵗ), denominator
        √v/√(1−β₂ᵗ) + ε. ε outside √ is also the Adam deck's and CS231n's form; ε inside √ is
        the mini-batch deck's and the Polish deck's. Without bias correction ("Adam (almost)"
        of CS231n) the first steps are tiny because m and v start at 0.
        ``accumulator_init=first_grad`` is Hung-yi Lee's Adam: m⁰ = g⁰ and σ⁰ = |g⁰| (his σ
        is √v), no bias correction (he omits it; the averages do not start at 0) and no ε
        (set ε = 0 for his exact form). ``weight_decay`` is L2 added to g (torch's Adam);
        AdamW decouples it.
    """
    # Lecture quotes behind the notes above (/work/shared/lectures):
    #   000 (Adam deck): "\theta_t = \theta_{t-1} - \alpha \cdot \widehat{m}_t /
    #       \sqrt{\widehat{v}_t} + \epsilon" (ε outside);
    #   002 (CS231n): "\frac{\alpha \widehat{m}_t}{\sqrt{\widehat{v}_t} + \epsilon}", code
    #       "np.sqrt(second_unbias)+1e-7" (outside).
    #   001 (mini-batch deck): "W = W - \alpha \frac{V_{dW}'}{\sqrt{S_{dW}' + \epsilon}}"
    #       (inside);
    #   003 (Polish deck): "\eta \hat{\mathbf{m}} \div \sqrt{\hat{\mathbf{s}} + \varepsilon}"
    #       (inside).
    #   004 (Hung-yi Lee): "m_i^0 = g_i^0", "\sigma_i^0 = \sqrt{(g_i^0)^2}", "\theta_i^{t+1}
    #       \leftarrow \theta_i^t - \frac{\eta}{\sigma_i^t} \mathbf{m}_i^t", "Adam has
    #       bias-corrected terms, which are omitted here for simplicity".
    b1 = hp[BETA1, i]
    b2 = hp[BETA2, i]
    wd = hp[WEIGHT_DECAY, i]
    dx = gx + wd * x
    dy = gy + wd * y
    st[M0, i] = _lerp(st[M0, i], dx, 1.0 - b1)
    st[M1, i] = _lerp(st[M1, i], dy, 1.0 - b1)
    st[V0, i] = st[V0, i] * b2 + (1.0 - b2) * dx * dx
    st[V1, i] = st[V1, i] * b2 + (1.0 - b2) * dy * dy
    return _adam_step(x, y, lr, hp, flags, st, i, st[V0, i], st[V1, i])


@njit(cache=True, error_model="numpy")
def adam_first_grad_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""Adam with ``accumulator_init=first_grad`` (Hung-yi Lee's form; its formula card is in
    :func:`adam_update`'s docstring). A rule of its own, chosen by the optimizer dispatch, so the
    torch form's loop stays branch-free and vectorised in the batch kernel (with this branch
    inside :func:`adam_update`, optviz.run lost 30 % and run_batch two thirds of its speed)."""
    b1 = hp[BETA1, i]
    b2 = hp[BETA2, i]
    wd = hp[WEIGHT_DECAY, i]
    dx = gx + wd * x
    dy = gy + wd * y
    # Hung-yi Lee's form: the averages start at the first gradient, no bias correction.
    if t == 1:
        st[M0, i] = dx
        st[M1, i] = dy
        st[V0, i] = dx * dx
        st[V1, i] = dy * dy
    else:
        st[M0, i] = b1 * st[M0, i] + (1.0 - b1) * dx
        st[M1, i] = b1 * st[M1, i] + (1.0 - b1) * dy
        st[V0, i] = b2 * st[V0, i] + (1.0 - b2) * dx * dx
        st[V1, i] = b2 * st[V1, i] + (1.0 - b2) * dy * dy
    inside = flags[EPS_INSIDE]
    ex = lr / _denominator(st[V0, i], hp[EPS, i], inside)
    ey = lr / _denominator(st[V1, i], hp[EPS, i], inside)
    return x - ex * st[M0, i], y - ey * st[M1, i], ex, ey


@njit(cache=True, error_model="numpy")
def _adam_step(x, y, lr, hp, flags, st, i, v0, v1):
    # Shared tail of Adam / AMSGrad / AdamW, in torch's order of operations.
    st[BP1, i] *= hp[BETA1, i]
    st[BP2, i] *= hp[BETA2, i]
    if flags[BIAS_CORRECTION] == 1:
        step_size = lr / (1.0 - st[BP1, i])
        bc2 = 1.0 - st[BP2, i]
    else:
        step_size = lr
        bc2 = 1.0
    if flags[EPS_INSIDE] == 1:
        d0 = _sqrt(v0 / bc2 + hp[EPS, i])
        d1 = _sqrt(v1 / bc2 + hp[EPS, i])
    else:
        sq = _sqrt(bc2)
        d0 = _sqrt(v0) / sq + hp[EPS, i]
        d1 = _sqrt(v1) / sq + hp[EPS, i]
    ex = step_size / d0
    ey = step_size / d1
    return x - step_size * (st[M0, i] / d0), y - step_size * (st[M1, i] / d1), ex, ey


@njit(cache=True, error_model="numpy")
def amsgrad_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""AMSGrad: Adam whose denominator never shrinks (running max of v).

    Formula (bias_correction=on, eps_placement=outside):
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        v^{\max}_t = \max(v^{\max}_{t-1}, v_t) \\
        \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\,
            \frac{m_t}{\sqrt{v^{\max}_t / (1-\beta_2^t)} + \epsilon}

    Formula (bias_correction=on, eps_placement=inside):
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        v^{\max}_t = \max(v^{\max}_{t-1}, v_t) \\
        \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\,
            \frac{m_t}{\sqrt{v^{\max}_t / (1-\beta_2^t) + \epsilon}}

    Formula (bias_correction=off, eps_placement=outside):
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        v^{\max}_t = \max(v^{\max}_{t-1}, v_t) \\
        \theta_t \leftarrow \theta_{t-1} - \eta\, \frac{m_t}{\sqrt{v^{\max}_t} + \epsilon}

    Formula (bias_correction=off, eps_placement=inside):
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        v^{\max}_t = \max(v^{\max}_{t-1}, v_t) \\
        \theta_t \leftarrow \theta_{t-1} - \eta\, \frac{m_t}{\sqrt{v^{\max}_t + \epsilon}}

    Notes:
        ``torch.optim.Adam(amsgrad=True)``. The ε and bias-correction options are Adam's.
    """
    b1 = hp[BETA1, i]
    b2 = hp[BETA2, i]
    wd = hp[WEIGHT_DECAY, i]
    dx = gx + wd * x
    dy = gy + wd * y
    st[M0, i] = _lerp(st[M0, i], dx, 1.0 - b1)
    st[M1, i] = _lerp(st[M1, i], dy, 1.0 - b1)
    st[V0, i] = st[V0, i] * b2 + (1.0 - b2) * dx * dx
    st[V1, i] = st[V1, i] * b2 + (1.0 - b2) * dy * dy
    st[VMAX0, i] = max(st[VMAX0, i], st[V0, i])
    st[VMAX1, i] = max(st[VMAX1, i], st[V1, i])
    return _adam_step(x, y, lr, hp, flags, st, i, st[VMAX0, i], st[VMAX1, i])


@njit(cache=True, error_model="numpy")
def adamw_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""AdamW: Adam with weight decay λ decoupled from the gradient.

    Formula (bias_correction=on, eps_placement=outside):
        \theta_{t-1} \leftarrow (1-\eta\lambda)\,\theta_{t-1} \\
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t,\quad
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \theta_t \leftarrow \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    Formula (bias_correction=on, eps_placement=inside):
        \theta_{t-1} \leftarrow (1-\eta\lambda)\,\theta_{t-1} \\
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t,\quad
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \theta_t \leftarrow \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t + \epsilon}}

    Formula (bias_correction=off, eps_placement=outside):
        \theta_{t-1} \leftarrow (1-\eta\lambda)\,\theta_{t-1} \\
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t,\quad
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \theta_t \leftarrow \theta_{t-1} - \eta\, \frac{m_t}{\sqrt{v_t} + \epsilon}

    Formula (bias_correction=off, eps_placement=inside):
        \theta_{t-1} \leftarrow (1-\eta\lambda)\,\theta_{t-1} \\
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t,\quad
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \theta_t \leftarrow \theta_{t-1} - \eta\, \frac{m_t}{\sqrt{v_t + \epsilon}}

    Notes:
        ``torch.optim.AdamW`` (default λ = ``weight_decay`` = 1e-2): the decay shrinks θ
        directly instead of being added to g, so Adam's scaling does not weaken it.
    """
    b1 = hp[BETA1, i]
    b2 = hp[BETA2, i]
    shrink = 1.0 - lr * hp[WEIGHT_DECAY, i]
    x = x * shrink
    y = y * shrink
    st[M0, i] = _lerp(st[M0, i], gx, 1.0 - b1)
    st[M1, i] = _lerp(st[M1, i], gy, 1.0 - b1)
    st[V0, i] = st[V0, i] * b2 + (1.0 - b2) * gx * gx
    st[V1, i] = st[V1, i] * b2 + (1.0 - b2) * gy * gy
    return _adam_step(x, y, lr, hp, flags, st, i, st[V0, i], st[V1, i])


@njit(cache=True, error_model="numpy")
def nadam_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""NAdam: Adam with a Nesterov look-ahead on the first moment.

    Formula (nadam_schedule=torch, eps_placement=outside):
        \mu_t = \beta_1\left(1 - \tfrac12\, 0.96^{t\psi}\right) \\
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t,\quad
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \theta_t \leftarrow \theta_{t-1} - \eta\left(
            \frac{(1-\mu_t)\, g_t}{1-\prod_{i\le t}\mu_i}
            + \frac{\mu_{t+1}\, m_t}{1-\prod_{i\le t+1}\mu_i}\right)
            \Big/ \left(\sqrt{v_t/(1-\beta_2^t)} + \epsilon\right)

    Formula (nadam_schedule=torch, eps_placement=inside):
        \mu_t = \beta_1\left(1 - \tfrac12\, 0.96^{t\psi}\right) \\
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t,\quad
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \theta_t \leftarrow \theta_{t-1} - \eta\left(
            \frac{(1-\mu_t)\, g_t}{1-\prod_{i\le t}\mu_i}
            + \frac{\mu_{t+1}\, m_t}{1-\prod_{i\le t+1}\mu_i}\right)
            \Big/ \sqrt{v_t/(1-\beta_2^t) + \epsilon}

    Formula (nadam_schedule=constant, eps_placement=outside):
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t,\quad
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \theta_t \leftarrow \theta_{t-1} - \eta\left(
            \frac{(1-\beta_1)\, g_t}{1-\beta_1^t} + \frac{\beta_1\, m_t}{1-\beta_1^{t+1}}\right)
            \Big/ \left(\sqrt{v_t/(1-\beta_2^t)} + \epsilon\right)

    Formula (nadam_schedule=constant, eps_placement=inside):
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t,\quad
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \theta_t \leftarrow \theta_{t-1} - \eta\left(
            \frac{(1-\beta_1)\, g_t}{1-\beta_1^t} + \frac{\beta_1\, m_t}{1-\beta_1^{t+1}}\right)
            \Big/ \sqrt{v_t/(1-\beta_2^t) + \epsilon}

    Notes:
        ``torch.optim.NAdam`` (η = 2e-3, ψ = ``momentum_decay`` = 4e-3): torch's μ schedule
        starts at μ₁ ≈ β₁/2 (0.45 for β₁ = 0.9) and reaches β₁ only after ~10⁵ steps, so early NAdam
        steps use much less momentum than β₁ suggests. ``constant`` is Dozat's simplified form
        with μ = β₁ throughout.
    """
    b1 = hp[BETA1, i]
    b2 = hp[BETA2, i]
    wd = hp[WEIGHT_DECAY, i]
    dx = gx + wd * x
    dy = gy + wd * y
    if flags[NADAM_SCHEDULE] == 0:
        psi = hp[MOMENTUM_DECAY, i]
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
    else:
        mu = b1
        mu_next = b1
    st[BP2, i] *= b2
    bc2 = 1.0 - st[BP2, i]
    st[MU_PRODUCT, i] *= mu
    st[M0, i] = _lerp(st[M0, i], dx, 1.0 - b1)
    st[M1, i] = _lerp(st[M1, i], dy, 1.0 - b1)
    st[V0, i] = st[V0, i] * b2 + (1.0 - b2) * dx * dx
    st[V1, i] = st[V1, i] * b2 + (1.0 - b2) * dy * dy
    if flags[EPS_INSIDE] == 1:
        d0 = _sqrt(st[V0, i] / bc2 + hp[EPS, i])
        d1 = _sqrt(st[V1, i] / bc2 + hp[EPS, i])
    else:
        d0 = _sqrt(st[V0, i] / bc2) + hp[EPS, i]
        d1 = _sqrt(st[V1, i] / bc2) + hp[EPS, i]
    mu_product_next = st[MU_PRODUCT, i] * mu_next
    c_grad = -lr * (1.0 - mu) / (1.0 - st[MU_PRODUCT, i])
    c_mom = (-lr * mu_next) / (1.0 - mu_product_next)
    x = x + c_grad * (dx / d0)
    y = y + c_grad * (dy / d1)
    x = x + c_mom * (st[M0, i] / d0)
    y = y + c_mom * (st[M1, i] / d1)
    return x, y, lr / d0, lr / d1


# ======================================================================================
# Second-order and line-search methods: they evaluate the surface themselves
# ======================================================================================


@njit(cache=True, error_model="numpy")
def _phi_slope(sid, p, dx, dy, idx, x, y, px, py, a):
    gx, gy = gradient(sid, x + a * px, y + a * py, p, dx, dy, idx, idx.shape[0])
    return gx * px + gy * py


@njit(cache=True, error_model="numpy")
def line_search(mode, sid, p, dx, dy, idx, x, y, f0, gx, gy, px, py, a0):
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
            fa = value(sid, x + a * px, y + a * py, p, dx, dy)
            if fa <= f0 + 1e-4 * a * slope0:
                return a
            a *= 0.5
        return a
    if not (slope0 < 0.0):
        # No descent along p (p = 0 at a stationary point): stay instead of an ∞·0 = NaN step.
        return 0.0
    if mode == 3:
        return _wolfe(sid, p, dx, dy, idx, x, y, f0, slope0, px, py, a0)
    # Lecture 003 (Polish deck), "Minimalizacja kierunkowa – zamiast stałej wartości współczynnika
    # sprawdzanie jak daleko można podążać w danym kierunku, zanim wartość funkcji straty
    # (kosztu, celu) zacznie rosnać": follow the direction until the loss starts to rise.
    lo = 0.0
    flo = f0
    hi = 1e-3 * (1.0 + math.hypot(x, y)) / math.hypot(px, py)
    for _ in range(1200):
        fhi = value(sid, x + hi * px, y + hi * py, p, dx, dy)
        if not (fhi < flo):
            break  # the loss stopped falling (or is not finite): a minimum lies in (lo, hi)
        if not (_phi_slope(sid, p, dx, dy, idx, x, y, px, py, hi) < 0.0):
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
        s = _phi_slope(sid, p, dx, dy, idx, x, y, px, py, mid)
        fmid = value(sid, x + mid * px, y + mid * py, p, dx, dy)
        # Still descending and not above the left end (within rounding): the first minimum is
        # right of mid. Otherwise it is left of mid (the slope turned, or a bump lies between).
        if s < 0.0 and fmid <= flo + 1e-13 * abs(flo):
            lo = mid
            flo = min(flo, fmid)
        else:
            hi = mid
    return 0.5 * (lo + hi)


@njit(cache=True, error_model="numpy")
def _wolfe(sid, p, dx, dy, idx, x, y, f0, slope0, px, py, a0):
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
        fa = value(sid, x + a * px, y + a * py, p, dx, dy)
        if not (fa <= f0 + c1 * a * slope0) or (j > 0 and fa >= f_prev):
            lo, flo, hi = a_prev, f_prev, a
            bracketed = True
            break
        da = _phi_slope(sid, p, dx, dy, idx, x, y, px, py, a)
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
        fa = value(sid, x + a * px, y + a * py, p, dx, dy)
        if not (fa <= f0 + c1 * a * slope0) or fa >= flo:
            hi = a
        else:
            da = _phi_slope(sid, p, dx, dy, idx, x, y, px, py, a)
            if abs(da) <= -c2 * slope0:
                return a
            if da * (hi - lo) >= 0.0:
                hi = lo
            lo = a
            flo = fa
    return lo


@njit(cache=True, error_model="numpy")
def newton_update(sid, p, dx, dy, x, y, gx, gy, lr, hp, flags, i):
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
    a, b, c = hessian(sid, x, y, p, dx, dy)
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
def quasi_newton_update(oid, sid, p, dx, dy, idx, x, y, f0, gx, gy, lr, flags, st, i):
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
    a = line_search(flags[LINE_SEARCH], sid, p, dx, dy, idx, x, y, f0, gx, gy, px, py, lr)
    st[SX, i], st[SY, i] = a * px, a * py
    st[GX_PREV, i], st[GY_PREV, i] = gx, gy
    return x + a * px, y + a * py, a, a


@njit(cache=True, error_model="numpy")
def lbfgs_update(sid, p, dx, dy, idx, x, y, f0, gx, gy, lr, flags, st, i, mem):
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
    a = line_search(flags[LINE_SEARCH], sid, p, dx, dy, idx, x, y, f0, gx, gy, px, py, lr)
    st[SX, i], st[SY, i] = a * px, a * py
    st[GX_PREV, i], st[GY_PREV, i] = gx, gy
    return x + a * px, y + a * py, a, a


@njit(cache=True, error_model="numpy")
def levenberg_marquardt_update(sid, p, dx, dy, x, y, f0, gx, gy, lr, st, i):
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
    a, b, c = gauss_newton(sid, x, y, p, dx, dy)
    nu = st[NU, i]
    a += nu
    c += nu
    det = a * c - b * b
    sx = (c * gx - b * gy) / det
    sy = (a * gy - b * gx) / det
    nx = x - lr * sx
    ny = y - lr * sy
    fn = value(sid, nx, ny, p, dx, dy)
    # ν stays within [1e-15, 1e15]: at the exact minimum no step can decrease f, and ν must
    # neither overflow there nor underflow to a singular Gauss–Newton matrix.
    if fn <= f0:
        st[NU, i] = max(nu / 10.0, 1e-15)
        return nx, ny, lr, lr
    st[NU, i] = min(nu * 10.0, 1e15)
    return x, y, lr, lr


@njit(cache=True, error_model="numpy")
def steepest_descent_update(sid, p, dx, dy, idx, x, y, f0, gx, gy, lr, flags):
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
    a = line_search(flags[LINE_SEARCH], sid, p, dx, dy, idx, x, y, f0, gx, gy, -gx, -gy, lr)
    return x - a * gx, y - a * gy, a, a


# ======================================================================================
# Learning-rate schedules
# ======================================================================================


@njit(cache=True, error_model="numpy")
def scheduled_lr(sid, sp, k, lr0, f, st, i):
    """η for update k (k = 0 for the first update); ``f`` is the loss where the step starts.

    The formulas, with t = k: see :mod:`optviz.schedules`, which documents and validates
    the parameters ``sp``.
    """
    if sid == S_CONSTANT:
        return lr0
    if sid == S_STEP:
        return lr0 * sp[1] ** math.floor(k / sp[0])
    if sid == S_EXPONENTIAL:
        return lr0 * math.exp(-sp[0] * k)
    if sid == S_INVERSE_TIME:
        return lr0 / (1.0 + sp[0] * k)
    if sid == S_POWER:
        return lr0 / (1.0 + k / sp[0]) ** sp[1]
    if sid == S_PIECEWISE:
        nb = int(sp[0])
        piece = 0
        for j in range(nb):
            if k >= sp[1 + j]:
                piece = j + 1
        return lr0 * sp[9 + piece]
    if sid == S_PLATEAU:
        # torch.optim.lr_scheduler.ReduceLROnPlateau(mode="min", threshold_mode="rel").
        if f < st[PL_BEST, i] * (1.0 - sp[2]):
            st[PL_BEST, i] = f
            st[PL_BAD, i] = 0.0
        else:
            st[PL_BAD, i] += 1.0
        if st[PL_BAD, i] > sp[1]:
            # torch ignores a reduction smaller than its eps = 1e-8 (η stalls near 1e-8).
            old = max(lr0 * st[PL_FACTOR, i], sp[3])
            if old - max(lr0 * st[PL_FACTOR, i] * sp[0], sp[3]) > 1e-8:
                st[PL_FACTOR, i] *= sp[0]
            st[PL_BAD, i] = 0.0
        return max(lr0 * st[PL_FACTOR, i], sp[3])
    if sid == S_SGDR:
        t0 = sp[0]
        mult = sp[1]
        if mult == 1.0:
            t_i = t0
            t_cur = k % t0
        else:
            # Walk the cycles as torch does: floor(log(...)/log(T_mult)) rounds down at some
            # restarts (k = 121, T_0 = 1, T_mult = 3) and would miss them.
            t_i = t0
            t_cur = float(k)
            while t_cur >= t_i:
                t_cur -= t_i
                t_i *= mult
        return sp[2] + (lr0 - sp[2]) * (1.0 + math.cos(math.pi * t_cur / t_i)) / 2.0
    # Counted in epochs, numbered from 1 as the decks do (001: "Epoch 1: α = 0.2 / (1+1*1)").
    per_epoch = max(int(sp[SP_EPOCH_LEN]), 1)
    epoch = k // per_epoch + 1
    if sid == S_EPOCH_INVERSE_TIME:
        return lr0 / (1.0 + sp[0] * epoch)
    if sid == S_EPOCH_EXPONENTIAL:
        return sp[0] ** float(epoch) * lr0
    if sid == S_EPOCH_INVERSE_SQRT:
        return sp[0] / math.sqrt(float(epoch)) * lr0
    if sid == S_EPOCH_PIECEWISE:
        # 003: "przez pierwsze kilka epok może on wynosić 0,1, przez kolejne kilkanaście 0,01 a
        # następnie 0,001": factor j after b_j epochs (epochs 1…b₁ take f₀).
        nb = int(sp[0])
        piece = 0
        for j in range(nb):
            if epoch > sp[1 + j]:
                piece = j + 1
        return lr0 * sp[9 + piece]
    if sid == S_PERFORMANCE:
        # 003: "jeżeli w kolejnej epoce E maleje to współczynnik uczenia jest zwiększany o 5%, a
        # w przeciwnym razie jest zmniejszany o 30%": at each epoch's start, E (the loss there)
        # is compared with E at the previous epoch's start.
        if k == 0:
            st[PL_BEST, i] = f
        elif k % per_epoch == 0:
            if f < st[PL_BEST, i]:
                st[PL_FACTOR, i] *= sp[0]
            else:
                st[PL_FACTOR, i] *= sp[1]
            st[PL_BEST, i] = f
        return lr0 * st[PL_FACTOR, i]
    return math.nan


# ======================================================================================
# The trajectory loop
# ======================================================================================


# The surface formulas of surfaces._kernels, inlined at Numba-IR level into the first-order step
# loops: a regular call passes the four arrays p, dx, dy, idx as ~30 machine words and costs
# ~10 ns, more than the maths. Same Python functions, so the formulas still live once.
_gradient_inline = njit(inline="always", error_model="numpy")(gradient.py_func)
_value_inline = njit(inline="always", error_model="numpy")(value.py_func)


@njit(inline="always", error_model="numpy")
def _prepare(
    oid, sid, k, x, y, f, hp, flags, st, i, p, dx, dy, idx_full, batches, noise, sched_id, sp, tol,
):  # fmt: skip
    """First part of update k (0-based) of run i at (x, y) with loss f: the gradient the
    optimizer sees (mini-batch row k of ``batches`` or all data, plus noise row k), the stop
    checks before the update, and the scheduled η.

    Returns (status, gx, gy, lr): status OK, DIVERGED (non-finite gradient) or CONVERGED
    (full gradient ‖∇f(x, y)‖ ≤ tol, or the stop rule of flags[STOP_RULE]: update k − 1 moved
    less than hp[STEP_TOL], or f ≤ hp[TARGET_LOSS]); lr is NaN when the run stops.
    """
    qx = x
    qy = y
    if oid == NESTEROV and flags[NESTEROV_FORM] == 1:
        qx = x - hp[BETA1, i] * st[M0, i]
        qy = y - hp[BETA1, i] * st[M1, i]
    if batches.shape[0] > 0:
        idx = batches[k]
    else:
        idx = idx_full
    gx, gy = _gradient_inline(sid, qx, qy, p, dx, dy, idx, idx.shape[0])
    if noise.shape[0] > 0:
        gx += noise[k, 0]
        gy += noise[k, 1]
    if not (math.isfinite(gx) and math.isfinite(gy)):
        return DIVERGED, gx, gy, math.nan
    if tol > 0.0:
        fgx, fgy = gradient(sid, x, y, p, dx, dy, idx_full, idx_full.shape[0])
        if math.hypot(fgx, fgy) <= tol:
            return CONVERGED, gx, gy, math.nan
    # The Polish deck's stop rules (003: "norma z różnicy wektorów wag z kolejnych iteracji",
    # "zadana dokładność"): the last step was shorter than STEP_TOL, or the loss is at TARGET_LOSS.
    rule = flags[STOP_RULE]
    if rule == 1:
        if k > 0 and math.hypot(x - st[PREV_X, i], y - st[PREV_Y, i]) < hp[STEP_TOL, i]:
            return CONVERGED, gx, gy, math.nan
        st[PREV_X, i] = x
        st[PREV_Y, i] = y
    elif rule == 2 and f <= hp[TARGET_LOSS, i]:
        return CONVERGED, gx, gy, math.nan
    # scheduled_lr is not inlined (it takes two arrays); the constant η needs no call.
    lr0 = hp[LR, i]
    lr = lr0 if sched_id == S_CONSTANT else scheduled_lr(sched_id, sp, k, lr0, f, st, i)
    return OK, gx, gy, lr


@njit(inline="always", error_model="numpy")
def _update(oid, sid, t, x, y, f, gx, gy, lr, hp, flags, st, i, mem, p, dx, dy, idx_full):
    """The update rule of optimizer ``oid`` for run i: (nx, ny, ex, ey)."""
    if oid == GD:
        return gd_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    if oid == MOMENTUM:
        return momentum_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    if oid == NESTEROV:
        return nesterov_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    if oid == ADAGRAD:
        return adagrad_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    if oid == RMSPROP:
        return rmsprop_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    if oid == ADAM:
        if flags[ACCUMULATOR_INIT] == 1:
            return adam_first_grad_update(x, y, gx, gy, lr, t, hp, flags, st, i)
        return adam_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    if oid == NADAM:
        return nadam_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    if oid == ADAMW:
        return adamw_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    if oid == AMSGRAD:
        return amsgrad_update(x, y, gx, gy, lr, t, hp, flags, st, i)
    if oid == NEWTON:
        return newton_update(sid, p, dx, dy, x, y, gx, gy, lr, hp, flags, i)
    if oid == BFGS or oid == DFP:
        return quasi_newton_update(oid, sid, p, dx, dy, idx_full, x, y, f, gx, gy, lr, flags, st, i)
    if oid == LBFGS:
        return lbfgs_update(sid, p, dx, dy, idx_full, x, y, f, gx, gy, lr, flags, st, i, mem[i])
    if oid == LEVENBERG_MARQUARDT:
        return levenberg_marquardt_update(sid, p, dx, dy, x, y, f, gx, gy, lr, st, i)
    return steepest_descent_update(sid, p, dx, dy, idx_full, x, y, f, gx, gy, lr, flags)


@njit(inline="always", error_model="numpy")
def _outcome(sid, nx, ny, p, dx, dy, escape_radius):
    """Last part of an update that produced (nx, ny): (status, loss there). DIVERGED: the run
    stops before this point; ESCAPED: the point is valid and the run stops after it."""
    fn = _value_inline(sid, nx, ny, p, dx, dy)
    if not (math.isfinite(fn) and abs(nx) <= BIG and abs(ny) <= BIG):
        return DIVERGED, fn
    # hypot is a libm call (~10 ns); most surfaces have no escape radius (inf).
    if escape_radius < math.inf and math.hypot(nx, ny) > escape_radius:
        return ESCAPED, fn
    return OK, fn


@njit(inline="always", error_model="numpy")
def _step(
    oid, sid, k, x, y, f, hp, flags, st, i, mem, p, dx, dy, idx_full, batches, noise, sched_id,
    sp, tol, escape_radius,
):  # fmt: skip
    """Update k (0-based) of run i from (x, y) with loss f: :func:`_prepare`, :func:`_update`,
    :func:`_outcome` in turn. ``mem`` holds the L-BFGS memory of every run, ``mem[i]`` run i's.

    Returns (status, nx, ny, fn, gx, gy, lr, ex, ey): ``gx, gy`` the gradient the optimizer saw,
    ``lr`` the scheduled η, ``ex, ey`` the per-coordinate step it applied. Status OK: (nx, ny,
    fn) is the next valid point; ESCAPED: it is valid and the run stops after it; CONVERGED or
    DIVERGED: the run stops at (x, y); a second-order method whose full gradient is zero to
    working precision (‖∇f‖² underflows) stops CONVERGED whatever ``tol``. Inlined (at Numba-IR
    level) into the trajectory loop :func:`_steps`; its three parts are also the three passes of
    the batch kernel's vectorised loop, so every path runs the same statements.
    """
    nan = math.nan
    status, gx, gy, lr = _prepare(
        oid, sid, k, x, y, f, hp, flags, st, i, p, dx, dy, idx_full, batches, noise, sched_id,
        sp, tol,
    )  # fmt: skip
    if status != OK:
        return status, x, y, f, gx, gy, nan, nan, nan
    if (
        oid >= NEWTON
        and batches.shape[0] == 0
        and noise.shape[0] == 0
        and gx * gx + gy * gy < TINY_NORMAL
    ):
        # A stationary point reached exactly (∇f = 0 to working precision) is converged,
        # whatever tol: the methods that divide by curvature would otherwise take a 0/0 step
        # (sᵀr, rᵀr and gᵀVg all underflow) and report it as a divergence. First-order methods
        # may still move from ∇f = 0 (momentum), so they go on.
        return CONVERGED, x, y, f, gx, gy, nan, nan, nan
    nx, ny, ex, ey = _update(oid, sid, k + 1, x, y, f, gx, gy, lr, hp, flags, st, i, mem, p, dx,
                             dy, idx_full)  # fmt: skip
    status, fn = _outcome(sid, nx, ny, p, dx, dy, escape_radius)
    if status == DIVERGED:
        return _stopped_at_rest(gx, gy, batches, noise), x, y, f, gx, gy, lr, ex, ey
    return status, nx, ny, fn, gx, gy, lr, ex, ey


@njit(inline="always", error_model="numpy")
def _stopped_at_rest(gx, gy, batches, noise):
    """The status of a run whose update blew up: CONVERGED when the full gradient it stood on
    was exactly zero (a first-order 0/0 with ε = 0 and zero accumulators at a stationary point:
    the point is stationary, nothing diverged), else DIVERGED."""
    if gx == 0.0 and gy == 0.0 and batches.shape[0] == 0 and noise.shape[0] == 0:
        return CONVERGED
    return DIVERGED


@njit(inline="always", error_model="numpy")
def _record(rec, row, st):
    # The optimizer state after an update, for Trajectory.state (optviz.engine names the slots).
    for j in range(st.shape[0]):
        rec[row, j] = st[j, 0]


# _nrt=False: no reference counting here. With it, each inlined surface call increfs and
# decrefs its array arguments (8 atomic NRT calls per step). Nothing in the loop allocates
# (L-BFGS's memory comes in preallocated as ``mem``).
@njit(cache=True, error_model="numpy", _nrt=False)
def _steps(
    oid, sid, steps, hp, flags, p, dx, dy, idx_full, batches, noise, sched_id, sp, tol,
    escape_radius, xy, loss, grad, lr_out, eff, st, mem, x, y, f, rec,
):  # fmt: skip
    """simulate's step loop: starts from (x, y) with loss f and the initialised state ``st``
    (one column); returns (status, last, x, y, f) with the last valid point and its loss.
    ``rec`` (rows, N_STATE): when it has rows, row k+1 receives the state after update k."""
    for k in range(steps):
        status, nx, ny, fn, gx, gy, lr, ex, ey = _step(
            oid, sid, k, x, y, f, hp, flags, st, 0, mem, p, dx, dy, idx_full, batches, noise,
            sched_id, sp, tol, escape_radius,
        )  # fmt: skip
        grad[k, 0] = gx
        grad[k, 1] = gy
        if status == DIVERGED or status == CONVERGED:
            return status, k, x, y, f
        lr_out[k] = lr
        eff[k, 0] = ex
        eff[k, 1] = ey
        x = nx
        y = ny
        f = fn
        xy[k + 1, 0] = x
        xy[k + 1, 1] = y
        loss[k + 1] = f
        if rec.shape[0] > 0:
            _record(rec, k + 1, st)
        if status == ESCAPED:
            return status, k + 1, x, y, f
    return OK, steps, x, y, f


@njit(cache=True, error_model="numpy")
def init_state(st, hp):
    """Optimizer state before the first update: column i of ``st`` (N_STATE, runs) from the
    hyperparameters in column i of ``hp``."""
    st[:] = 0.0
    for i in range(st.shape[1]):
        st[BP1, i] = 1.0
        st[BP2, i] = 1.0
        st[MU_PRODUCT, i] = 1.0
        st[NU, i] = hp[LM_LAMBDA, i]
        st[H00, i] = 1.0
        st[H11, i] = 1.0
        st[PL_BEST, i] = math.inf
        st[PL_FACTOR, i] = 1.0


@njit(cache=True, error_model="numpy", nogil=True)
def simulate(
    oid, sid, x0, y0, steps, hp, flags, p, dx, dy, batches, noise, sched_id, sp, tol,
    escape_radius, xy, loss, grad, lr_out, eff, rec,
):  # fmt: skip
    """Run one optimizer for ``steps`` updates from (x0, y0); return (status, stopped_at).

    The outputs have ``steps + 1`` rows: row 0 is the start, row k the point after k updates;
    rows after ``stopped_at`` are NaN. ``rec`` records the optimizer state (the N_STATE slots
    above) in the same rows when it has shape (steps + 1, N_STATE); with shape (0, N_STATE)
    nothing is recorded and the loop is the same.
    """
    n = dy.shape[0]
    idx_full = np.arange(n)
    # One column, in Fortran order: st[j, 0] is then at a constant offset from the data, as in
    # a flat vector (a C-ordered column would need the row stride).
    st = np.empty((1, N_STATE)).T
    hp = hp.reshape((1, N_HP)).T
    init_state(st, hp)
    # L-BFGS pairs (s, r) and the two-loop coefficient of each pair.
    mem = np.zeros((1, max(flags[HISTORY_SIZE], 1), 5))
    f = value(sid, x0, y0, p, dx, dy)
    xy[0, 0] = x0
    xy[0, 1] = y0
    loss[0] = f
    if rec.shape[0] > 0:
        _record(rec, 0, st)
    status, last, x, y, f = _steps(
        oid, sid, steps, hp, flags, p, dx, dy, idx_full, batches, noise, sched_id, sp, tol,
        escape_radius, xy, loss, grad, lr_out, eff, st, mem, x0, y0, f, rec,
    )  # fmt: skip
    if status == OK or status == ESCAPED:
        # The last row's gradient: the full gradient where the run ended (no noise, no batch).
        gx, gy = gradient(sid, x, y, p, dx, dy, idx_full, n)
        grad[last, 0] = gx
        grad[last, 1] = gy
    for j in range(last + 1, steps + 1):
        xy[j, 0] = math.nan
        xy[j, 1] = math.nan
        loss[j] = math.nan
        grad[j, 0] = math.nan
        grad[j, 1] = math.nan
        if rec.shape[0] > 0:
            rec[j, :] = math.nan
    for j in range(last, steps + 1):
        lr_out[j] = math.nan
        eff[j, 0] = math.nan
        eff[j, 1] = math.nan
    return status, last
