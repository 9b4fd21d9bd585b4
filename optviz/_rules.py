r"""The first-order update rules: one function per method, one signature.

``rule(x, y, gx, gy, lr, t, hp, flags, st, i) -> (nx, ny, ex, ey)``: the rule acts on run ``i``.
It mutates its optimizer state, column ``i`` of ``st`` (shape (N_STATE, runs), slots in
:mod:`optviz._layout`), reads its hyperparameters, column ``i`` of ``hp`` (N_HP, runs), and
returns the new point plus the effective per-coordinate step size it applied; apart from that
state it is a pure function of its arguments. Columns, not rows: :mod:`optviz._batch` runs one
rule over the runs of a block in a loop that LLVM vectorises, which needs state j of consecutive
runs to be contiguous. A single trajectory is one column. The docstrings hold the formula in
the lecture notation, one ``Formula:`` block each whose lines depend on the options (syntax in
:mod:`optviz.formulas`, which renders the formula cards), so the documentation and the app
cannot drift apart.

Compiled with ``error_model="numpy"`` (0/0 gives NaN and a "diverged" status) and no
``fastmath``.
"""

from __future__ import annotations

import math

from numba import njit

from optviz._layout import (
    ACCUMULATOR_INIT,
    ADABELIEF,
    ADAGRAD,
    ADAGRAD_FULL,
    ADAM,
    ADAM_FIRST_GRAD,
    ADAMAX,
    ADAMW,
    AMSGRAD,
    BETA1,
    BETA2,
    BIAS_CORRECTION,
    BP1,
    BP2,
    CENTERED,
    DAMPENING,
    EPS,
    EPS_INSIDE,
    EPS_ROOT,
    ETA_MINUS,
    ETA_PLUS,
    G00,
    G01,
    G11,
    GAVG0,
    GAVG1,
    GD,
    LION,
    LOOKAHEAD_ALPHA,
    LOOKAHEAD_K,
    LR_DECAY,
    M0,
    M1,
    MOMENTUM,
    MOMENTUM_DECAY,
    MOMENTUM_FORM,
    MU_PRODUCT,
    NADAM,
    NADAM_SCHEDULE,
    NESTEROV,
    NESTEROV_FORM,
    NU1,
    NU2,
    QHADAM,
    QHM,
    RADAM,
    RMSPROP,
    RP_GPREV0,
    RP_GPREV1,
    RP_STEP0,
    RP_STEP1,
    RPROP,
    SLOW_X,
    SLOW_Y,
    STEP_MAX,
    STEP_MIN,
    V0,
    V1,
    VMAX0,
    VMAX1,
    WEIGHT_DECAY,
)


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


@njit(cache=True, error_model="numpy")
def _first_moment(st, i, gx, gy, b1):
    # m ← β₁m + (1−β₁)g as torch computes it (lerp): Adam, AMSGrad, AdamW, NAdam, RAdam, Adamax.
    st[M0, i] = _lerp(st[M0, i], gx, 1.0 - b1)
    st[M1, i] = _lerp(st[M1, i], gy, 1.0 - b1)


@njit(cache=True, error_model="numpy")
def _moments(st, i, gx, gy, b1, b2):
    # m as above and v ← β₂v + (1−β₂)g² in torch's order: the Adam family's two averages.
    _first_moment(st, i, gx, gy, b1)
    st[V0, i] = st[V0, i] * b2 + (1.0 - b2) * gx * gx
    st[V1, i] = st[V1, i] * b2 + (1.0 - b2) * gy * gy


# ======================================================================================
# First-order update rules
# ======================================================================================


@njit(cache=True, error_model="numpy")
def gd_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""Gradient descent (``torch.optim.SGD`` without momentum); SGD on mini-batches.

    Formula:
        \theta_t \leftarrow \theta_{t-1} - \eta\, g_t

    Notes:
        ``g_t`` is the (mini-batch) gradient plus ``weight_decay``·θ (L2, as torch adds it).
    """
    wd = hp[WEIGHT_DECAY, i]
    return x - lr * (gx + wd * x), y - lr * (gy + wd * y), lr, lr


@njit(cache=True, error_model="numpy")
def momentum_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""Heavy-ball momentum; β₁ is the momentum coefficient β.

    Formula:
        [momentum_form=torch] v_t \leftarrow \beta_1 v_{t-1} + (1-\tau)\, g_t \quad (v_1 = g_1)
        [momentum_form=ema] v_t \leftarrow \beta_1 v_{t-1} + (1-\beta_1)\, g_t \quad (v_0 = 0)
        [momentum_form=lr_inside] v_t \leftarrow \beta_1 v_{t-1} + \eta\, g_t
        [momentum_form=sum] m_t = g_1 + g_2 + \dots + g_t \quad
            (\beta_1 \text{ not used: } \beta = 1)
        [momentum_form=torch|ema] \theta_t \leftarrow \theta_{t-1}
            - @if{momentum_form=ema, bias_correction=on}{\frac{\eta}{1-\beta_1^t}}{\eta}\, v_t
        [momentum_form=lr_inside] \theta_t \leftarrow \theta_{t-1} - v_t
        [momentum_form=sum] \theta_t \leftarrow \theta_{t-1} - \eta\, m_t

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

    Formula:
        [nesterov_form=torch] v_t \leftarrow \beta_1 v_{t-1} + g_t \quad (v_1 = g_1)
        [nesterov_form=torch] \theta_t \leftarrow \theta_{t-1} - \eta\,(g_t + \beta_1 v_t)
        [nesterov_form=lookahead] v_t \leftarrow \beta_1 v_{t-1}
            + \eta\, \nabla f(\theta_{t-1} - \beta_1 v_{t-1})
        [nesterov_form=lookahead] \theta_t \leftarrow \theta_{t-1} - v_t

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

    Formula:
        G_t \leftarrow G_{t-1} + g_t^2
        \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{@den{G_t}}\, g_t

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

    Formula:
        @if{accumulator_init=first_grad}{v_1 = g_1^2,\quad }{}
            v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2
        [centered=on] \bar g_t \leftarrow \beta_2 \bar g_{t-1} + (1-\beta_2)\, g_t
            \quad (\bar g_0 = 0)
        \theta_t \leftarrow \theta_{t-1}
            - \frac{\eta}{@den{v_t@if{centered=on}{ - \bar g_t^2}{}}}\, g_t

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
        st[GAVG0, i] = _lerp(st[GAVG0, i], dx, 1.0 - a)
        st[GAVG1, i] = _lerp(st[GAVG1, i], dy, 1.0 - a)
        v0 = v0 - st[GAVG0, i] * st[GAVG0, i]
        v1 = v1 - st[GAVG1, i] * st[GAVG1, i]
    inside = flags[EPS_INSIDE]
    ex = lr / _denominator(v0, hp[EPS, i], inside)
    ey = lr / _denominator(v1, hp[EPS, i], inside)
    return x - ex * dx, y - ey * dy, ex, ey


@njit(cache=True, error_model="numpy")
def adam_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""Adam: momentum (first moment m) with RMSProp scaling (second moment v).

    Formula:
        @if{accumulator_init=first_grad}{m_1 = g_1,\quad }{}
            m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t
        [accumulator_init=zero] v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2
        [accumulator_init=first_grad] \sigma_1 = |g_1|,\quad
            \sigma_t = \sqrt{\beta_2 \sigma_{t-1}^2 + (1-\beta_2)\, g_t^2}
        [accumulator_init=zero, bias_correction=on] \hat m_t = \frac{m_t}{1-\beta_1^t},\quad
            \hat v_t = \frac{v_t}{1-\beta_2^t}
        [accumulator_init=zero] \theta_t \leftarrow \theta_{t-1}
            - \eta\, \frac{@bc{m_t}}{@den{@bc{v_t}}}
        [accumulator_init=first_grad] \theta_t \leftarrow \theta_{t-1}
            - \frac{\eta}{@if{eps_placement=outside}{\sigma_t + \epsilon}
            {\sqrt{\sigma_t^2 + \epsilon}}}\, m_t

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
    _moments(st, i, dx, dy, b1, b2)
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

    Formula:
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2
        v^{\max}_t = \max(v^{\max}_{t-1}, v_t)
        [bias_correction=on] \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\,
            \frac{m_t}{@den{v^{\max}_t / (1-\beta_2^t)}}
        [bias_correction=off] \theta_t \leftarrow \theta_{t-1}
            - \eta\, \frac{m_t}{@den{v^{\max}_t}}

    Notes:
        ``torch.optim.Adam(amsgrad=True)``. The ε and bias-correction options are Adam's.
    """
    b1 = hp[BETA1, i]
    b2 = hp[BETA2, i]
    wd = hp[WEIGHT_DECAY, i]
    dx = gx + wd * x
    dy = gy + wd * y
    _moments(st, i, dx, dy, b1, b2)
    st[VMAX0, i] = max(st[VMAX0, i], st[V0, i])
    st[VMAX1, i] = max(st[VMAX1, i], st[V1, i])
    return _adam_step(x, y, lr, hp, flags, st, i, st[VMAX0, i], st[VMAX1, i])


@njit(cache=True, error_model="numpy")
def adamw_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""AdamW: Adam with weight decay λ decoupled from the gradient.

    Formula:
        \theta_{t-1} \leftarrow (1-\eta\lambda)\,\theta_{t-1}
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t,\quad
            v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2
        [bias_correction=on] \hat m_t = \frac{m_t}{1-\beta_1^t},\quad
            \hat v_t = \frac{v_t}{1-\beta_2^t}
        \theta_t \leftarrow \theta_{t-1} - \eta\, \frac{@bc{m_t}}{@den{@bc{v_t}}}

    Notes:
        ``torch.optim.AdamW`` (default λ = ``weight_decay`` = 1e-2): the decay shrinks θ
        directly instead of being added to g, so Adam's scaling does not weaken it.
    """
    b1 = hp[BETA1, i]
    b2 = hp[BETA2, i]
    shrink = 1.0 - lr * hp[WEIGHT_DECAY, i]
    x = x * shrink
    y = y * shrink
    _moments(st, i, gx, gy, b1, b2)
    return _adam_step(x, y, lr, hp, flags, st, i, st[V0, i], st[V1, i])


@njit(cache=True, error_model="numpy")
def nadam_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""NAdam: Adam with a Nesterov look-ahead on the first moment.

    Formula:
        [nadam_schedule=torch] \mu_t = \beta_1\left(1 - \tfrac12\, 0.96^{t\psi}\right)
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t,\quad
            v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2
        [nadam_schedule=torch] \theta_t \leftarrow \theta_{t-1} - \eta\left(
            \frac{(1-\mu_t)\, g_t}{1-\prod_{i\le t}\mu_i}
            + \frac{\mu_{t+1}\, m_t}{1-\prod_{i\le t+1}\mu_i}\right)
            \Big/ \left(@den{v_t/(1-\beta_2^t)}\right)
        [nadam_schedule=constant] \theta_t \leftarrow \theta_{t-1} - \eta\left(
            \frac{(1-\beta_1)\, g_t}{1-\beta_1^t} + \frac{\beta_1\, m_t}{1-\beta_1^{t+1}}\right)
            \Big/ \left(@den{v_t/(1-\beta_2^t)}\right)

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
    _moments(st, i, dx, dy, b1, b2)
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


# ---- QHM, QHAdam, Lion, Adamax (opt-a) ------------------------------------------------------


@njit(cache=True, error_model="numpy")
def qhm_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""Quasi-hyperbolic momentum (QHM): a ν-weighted average of a plain gradient step and an
    EMA-momentum step; β₁ is the momentum β, ``nu`` is ν.

    Formula:
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t
        \theta_t \leftarrow \theta_{t-1} - \eta \left[(1-\nu)\, g_t + \nu\, m_t\right]

    Notes:
        Ma & Yarats (2019), ``qhoptim.pyt.QHM(lr=η, momentum=β₁, nu=ν)`` (golden ≤ 1e-15 over 1000
        steps), in its order of operations (m·β + (1−β)g, then the two parts added to θ one after
        the other). The paper's recommended β₁ = 0.999, ν = 0.7 are the defaults. ν = 0 is plain
        gradient descent, ν = 1 the EMA momentum v ← βv + (1−β)g, θ ← θ − ηv (the mini-batch
        deck's form, so η must be about 1/(1−β) times torch's): QHM fixes momentum's sluggish
        response to a fresh gradient by always giving the current gradient weight 1−ν, while
        the long memory (β = 0.999) averages out noise. ``weight_decay`` is L2 added to g
        (qhoptim's ``weight_decay_type="grad"``).
    """
    b = hp[BETA1, i]
    nu = hp[NU1, i]
    wd = hp[WEIGHT_DECAY, i]
    dx = gx + wd * x
    dy = gy + wd * y
    st[M0, i] = st[M0, i] * b + (1.0 - b) * dx
    st[M1, i] = st[M1, i] * b + (1.0 - b) * dy
    cm = lr * nu
    cg = lr * (1.0 - nu)
    nx = x - cm * st[M0, i]
    ny = y - cm * st[M1, i]
    return nx - cg * dx, ny - cg * dy, lr, lr


@njit(cache=True, error_model="numpy")
def qhadam_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""QHAdam: Adam whose numerator and denominator each mix the bias-corrected average with the
    current gradient (ν₁ for m, ν₂ for v).

    Formula:
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t,\quad
            v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2
        \hat m_t = \frac{m_t}{1-\beta_1^t},\quad \hat v_t = \frac{v_t}{1-\beta_2^t}
        \theta_t \leftarrow \theta_{t-1} - \eta\,
            \frac{(1-\nu_1)\, g_t + \nu_1 \hat m_t}
            {\sqrt{(1-\nu_2)\, g_t^2 + \nu_2 \hat v_t} + \epsilon}

    Notes:
        Ma & Yarats (2019), ``qhoptim.pyt.QHAdam(lr=η, betas=(β₁, β₂), nus=(ν₁, ν₂), eps=ε)``
        (golden ≤ 1e-15 over 1000 steps), in its order of operations: it keeps the bias-corrected
        averages m̂, v̂ themselves (slots M, V), updated with the weight 1/W_t where
        W_t = 1 + β W_{t−1} = (1−βᵗ)/(1−β) (slots BP1, BP2 hold W₁, W₂ here, not βᵗ). Defaults
        are the paper's recommendation β₁ = 0.995, β₂ = 0.999, ν₁ = 0.7, ν₂ = 1. ν₁ = ν₂ = 1 is
        Adam; ν₂ < 1 puts the current g² into the denominator, which bounds the step by
        η/√(1−ν₂) and fixes Adam's large steps when v̂ is small and a large gradient arrives.
        ``weight_decay`` is L2 added to g (qhoptim's default); ε is outside the √.
    """
    b1 = hp[BETA1, i]
    b2 = hp[BETA2, i]
    nu1 = hp[NU1, i]
    nu2 = hp[NU2, i]
    eps = hp[EPS, i]
    wd = hp[WEIGHT_DECAY, i]
    dx = gx + wd * x
    dy = gy + wd * y
    dx2 = dx * dx
    dy2 = dy * dy
    w1 = 1.0 + b1 * st[BP1, i] if t > 1 else 1.0
    w2 = 1.0 + b2 * st[BP2, i] if t > 1 else 1.0
    st[BP1, i] = w1
    st[BP2, i] = w2
    a1 = 1.0 - 1.0 / w1
    a2 = 1.0 - 1.0 / w2
    st[M0, i] = st[M0, i] * a1 + (1.0 - a1) * dx
    st[M1, i] = st[M1, i] * a1 + (1.0 - a1) * dy
    st[V0, i] = st[V0, i] * a2 + (1.0 - a2) * dx2
    st[V1, i] = st[V1, i] * a2 + (1.0 - a2) * dy2
    n0 = st[M0, i] * nu1 + (1.0 - nu1) * dx
    n1 = st[M1, i] * nu1 + (1.0 - nu1) * dy
    d0 = _sqrt(st[V0, i] * nu2 + (1.0 - nu2) * dx2) + eps
    d1 = _sqrt(st[V1, i] * nu2 + (1.0 - nu2) * dy2) + eps
    return x - lr * (n0 / d0), y - lr * (n1 / d1), lr / d0, lr / d1


@njit(cache=True, error_model="numpy")
def lion_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""Lion (evoLved sIgn mOmeNtum): the sign of an interpolation between the momentum and the
    gradient, so every coordinate moves by exactly ±η.

    Formula:
        c_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t
        \theta_t \leftarrow \theta_{t-1} - \eta @if{weight_decay!=0}
            {\left(\operatorname{sign}(c_t) + \lambda\, \theta_{t-1}\right)}
            {\, \operatorname{sign}(c_t)}
        m_t \leftarrow \beta_2 m_{t-1} + (1-\beta_2)\, g_t

    Notes:
        Chen et al. (2023), ``optax.lion(learning_rate=η, b1=β₁, b2=β₂, weight_decay=λ)``
        (golden: equal to the last bit over 1000 steps). Every step has coordinates of exactly
        ±η (0 only where c = 0): the path moves along the diagonals of a grid, whatever the
        gradient's size, so η sets the final jitter around the minimum (a decaying schedule
        removes it). The momentum m uses β₂ (slow, 0.99) but the sign uses β₁ (faster, 0.9):
        near a turn the sign can disagree with the gradient. What it fixes: Adam's per-coordinate
        scaling at the cost of no second moment at all (half Adam's memory); use η 3–10× smaller
        than Adam's. Weight decay is decoupled (AdamW-style, scaled by η), not added to g; optax's
        default λ is 1e-3, here 0.
    """
    b1 = hp[BETA1, i]
    b2 = hp[BETA2, i]
    wd = hp[WEIGHT_DECAY, i]
    cx = (1.0 - b1) * gx + b1 * st[M0, i]
    cy = (1.0 - b1) * gy + b1 * st[M1, i]
    # sign(c) with sign(0) = 0 and NaN kept (jnp.sign), as selects so the batch loop vectorises.
    sx = 1.0 if cx > 0.0 else (-1.0 if cx < 0.0 else cx)
    sy = 1.0 if cy > 0.0 else (-1.0 if cy < 0.0 else cy)
    st[M0, i] = (1.0 - b2) * gx + b2 * st[M0, i]
    st[M1, i] = (1.0 - b2) * gy + b2 * st[M1, i]
    return x - lr * (sx + wd * x), y - lr * (sy + wd * y), lr, lr


@njit(cache=True, error_model="numpy")
def adamax_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""Adamax: Adam with the ∞-norm in place of the root mean square: the denominator u is a
    decaying running max of |g|.

    Formula:
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t
        u_t \leftarrow \max\left(\beta_2 u_{t-1},\ |g_t| + \epsilon\right)
        \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\, \frac{m_t}{u_t}

    Notes:
        Kingma & Ba (2015), Algorithm 2; ``torch.optim.Adamax(lr=η, betas=(β₁, β₂), eps=ε)``
        (golden ≤ 1e-15 over 1000 steps), with torch's ε inside the max (the paper has none).
        u needs no bias correction (a max is not pulled towards 0 by its zero start), so the
        first step is η·sign(g₁). What it changes: Adam's √v̂ is the L² norm of the recent
        gradients; Adamax takes the Lᵖ norm's limit p → ∞, a max, which is numerically simple,
        needs no bias correction and bounds every step by about η per coordinate (Kingma & Ba:
        |Δθ| ≤ η). One huge gradient keeps u large, and the steps small, until β₂ᵏ has decayed
        it: ln(ratio)/(1−β₂) steps. ``weight_decay`` is L2 added to g (torch).
    """
    b1 = hp[BETA1, i]
    b2 = hp[BETA2, i]
    eps = hp[EPS, i]
    wd = hp[WEIGHT_DECAY, i]
    dx = gx + wd * x
    dy = gy + wd * y
    _first_moment(st, i, dx, dy, b1)
    # torch.maximum as a select (a NaN gradient propagates, as in torch; Python's max() would
    # drop it, and its branches keep the batch loop scalar).
    u0 = st[V0, i] * b2
    u1 = st[V1, i] * b2
    a0 = abs(dx) + eps
    a1 = abs(dy) + eps
    st[V0, i] = u0 if u0 > a0 else a0
    st[V1, i] = u1 if u1 > a1 else a1
    st[BP1, i] *= b1
    clr = lr / (1.0 - st[BP1, i])
    return (
        x - clr * (st[M0, i] / st[V0, i]),
        y - clr * (st[M1, i] / st[V1, i]),
        clr / st[V0, i],
        clr / st[V1, i],
    )


# ---- opt-b: RAdam, Rprop, AdaBelief, full-matrix AdaGrad ------------------------------------


@njit(cache=True, error_model="numpy")
def radam_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""RAdam (rectified Adam): Adam whose adaptive step waits until the variance of its
    adaptive learning rate is tractable, then is scaled by the rectification r_t.

    Formula:
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t,\quad
            v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2,\quad
            \hat m_t = \frac{m_t}{1-\beta_1^t}
        \rho_\infty = \frac{2}{1-\beta_2} - 1,\quad
            \rho_t = \rho_\infty - \frac{2t\,\beta_2^t}{1-\beta_2^t}
        \rho_t \le 5:\quad \theta_t \leftarrow \theta_{t-1} - \eta\, \hat m_t
            \quad (\text{un-adapted: momentum SGD})
        \rho_t > 5:\quad r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\,\rho_\infty}
            {(\rho_\infty-4)(\rho_\infty-2)\,\rho_t}},\quad
            \theta_t \leftarrow \theta_{t-1} - \eta\, r_t\,
            \hat m_t\, \frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon}

    Notes:
        ``torch.optim.RAdam`` (η = 1e-3, β₁ = 0.9, β₂ = 0.999, ε = 1e-8; ``weight_decay`` is
        L2 added to g), computed in torch's order with βᵗ = pow(β, t) as torch takes it. ε is
        torch's: added to √v before the bias correction √(1−β₂ᵗ) multiplies (Adam adds it to
        √v̂); the paper (Liu et al. 2020, Algorithm 2) has no ε and switches at ρ_t > 4, torch
        at ρ_t > 5. What it fixes: Adam's first steps divide by a second moment averaged over a
        handful of gradients, whose variance is huge, so early steps can be wild (hence the
        usual learning-rate warm-up). RAdam is that warm-up built in: while ρ_t ≤ 5 its steps
        are plain, un-adapted momentum steps −η m̂, as large as η·|g| (ρ₁ = 1 always; ρ₅ ≈ 4.99
        and ρ₆ ≈ 5.99 with β₂ = 0.999, so the first 5 steps for any β₂ ≥ 0.9; never adapted
        when β₂ ≤ 2/3, i.e. ρ∞ ≤ 5). On Rosenbrock from (−1.2, 1) with η = 1e-2 the first step
        is 2.3 long and the run diverges. After that the Adam step is multiplied by r_t, which
        grows from ~0 towards 1 as the variance estimate becomes reliable.
    """
    b1 = hp[BETA1, i]
    b2 = hp[BETA2, i]
    wd = hp[WEIGHT_DECAY, i]
    dx = gx + wd * x
    dy = gy + wd * y
    _moments(st, i, dx, dy, b1, b2)
    tf = float(t)
    st[BP1, i] = math.pow(b1, tf)
    st[BP2, i] = math.pow(b2, tf)
    bc1 = 1.0 - st[BP1, i]
    bc2 = 1.0 - st[BP2, i]
    mx = st[M0, i] / bc1
    my = st[M1, i] / bc1
    rho_inf = 2.0 / (1.0 - b2) - 1.0
    rho = rho_inf - 2.0 * tf * st[BP2, i] / bc2
    if rho > 5.0:
        rect = _sqrt(
            (rho - 4.0) * (rho - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho)
        )
        sq = _sqrt(bc2)
        ax = sq / (_sqrt(st[V0, i]) + hp[EPS, i])
        ay = sq / (_sqrt(st[V1, i]) + hp[EPS, i])
        nx = x - mx * lr * ax * rect
        ny = y - my * lr * ay * rect
        return nx, ny, lr * ax * rect / bc1, lr * ay * rect / bc1
    return x - mx * lr, y - my * lr, lr / bc1, lr / bc1


@njit(cache=True, error_model="numpy")
def _rprop_coordinate(g, g_prev, step, eta_minus, eta_plus, step_min, step_max):
    # One coordinate of Rprop, as torch's single-tensor rule: (gradient kept, new step size).
    s = g * g_prev
    if s > 0.0:
        step = step * eta_plus
    elif s < 0.0:
        step = step * eta_minus
        g = 0.0
    return g, min(max(step, step_min), step_max)


@njit(cache=True, error_model="numpy")
def _sign(v):
    if v > 0.0:
        return 1.0
    if v < 0.0:
        return -1.0
    return 0.0


@njit(cache=True, error_model="numpy")
def rprop_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""Rprop (resilient backpropagation): only the sign of each gradient coordinate is used;
    each coordinate has its own step size Δ, grown while the sign holds and cut when it flips.

    Formula:
        \Delta_t = \operatorname{clip}\left(s_t\, \Delta_{t-1},\ \Delta_{\min},\ \Delta_{\max}
            \right),\quad s_t = \eta_+ \text{ if } g_t g_{t-1} > 0,\ \eta_- \text{ if }
            g_t g_{t-1} < 0,\ 1 \text{ otherwise}\quad (\Delta_0 = \eta)
        g_t \leftarrow 0 \text{ where } g_t g_{t-1} < 0 \quad (\text{sign flipped: no step now,
            no flip test next step})
        \theta_t \leftarrow \theta_{t-1} - \Delta_t \odot \operatorname{sign}(g_t)

    Notes:
        ``torch.optim.Rprop`` (η = Δ₀ = 1e-2, η₋ = ``eta_minus`` = 0.5, η₊ = ``eta_plus`` =
        1.2, Δ_min = ``step_min`` = 1e-6, Δ_max = ``step_max`` = 50; torch's ``etas`` and
        ``step_sizes``). What it fixes: the step of GD is proportional to |g|, so it crawls on
        plateaus and overshoots on cliffs; Rprop's step ignores |g|, moves every coordinate by
        its own Δ and adapts Δ from the sign history alone (×1.2 while the sign holds, ×0.5
        after an overshoot). η sets Δ₀ only: as in torch, the step sizes start at the η of the
        first update, and a schedule does not act after it. Designed for full-batch gradients:
        with mini-batch noise the signs flip at random and Δ shrinks.
    """
    if t == 1:
        st[RP_STEP0, i] = lr
        st[RP_STEP1, i] = lr
    em = hp[ETA_MINUS, i]
    ep = hp[ETA_PLUS, i]
    lo = hp[STEP_MIN, i]
    hi = hp[STEP_MAX, i]
    gx, st[RP_STEP0, i] = _rprop_coordinate(gx, st[RP_GPREV0, i], st[RP_STEP0, i], em, ep, lo, hi)
    gy, st[RP_STEP1, i] = _rprop_coordinate(gy, st[RP_GPREV1, i], st[RP_STEP1, i], em, ep, lo, hi)
    st[RP_GPREV0, i] = gx
    st[RP_GPREV1, i] = gy
    ex = st[RP_STEP0, i]
    ey = st[RP_STEP1, i]
    return x - _sign(gx) * ex, y - _sign(gy) * ey, ex, ey


@njit(cache=True, error_model="numpy")
def adabelief_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""AdaBelief: Adam whose denominator is the spread of g around its own average m (the
    "belief" in the gradient), not the size of g.

    Formula:
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t
        s_t \leftarrow \beta_2 s_{t-1} + (1-\beta_2)\,(g_t - m_t)^2 + \epsilon_{\text{root}}
        \theta_t \leftarrow \theta_{t-1} - \eta\,
            \frac{m_t/(1-\beta_1^t)}{\sqrt{s_t/(1-\beta_2^t)} + \epsilon}

    Notes:
        ``optax.adabelief`` (η = 1e-3, β₁ = 0.9, β₂ = 0.999, ε = 1e-16, ε_root = ``eps_root``
        = 1e-16; ε_root is added to s every step and stays in it, as optax keeps it in its
        state), computed in optax's order: βᵗ = pow(β, t), and the division by 1 − βᵗ done as a
        multiplication by its reciprocal, as XLA compiles it. What it fixes: Adam takes small
        steps where the gradient is large but steady and large steps where it is small but
        noisy; AdaBelief divides by how far g strays from its prediction m, so a steady slope
        (g ≈ m, s ≈ 0) gets a large step and a noisy or sharply curving one a small step. With
        the tiny default ε the step on a perfectly steady slope is limited by ε and ε_root only.
    """
    b1 = hp[BETA1, i]
    b2 = hp[BETA2, i]
    eps_root = hp[EPS_ROOT, i]
    st[M0, i] = (1.0 - b1) * gx + b1 * st[M0, i]
    st[M1, i] = (1.0 - b1) * gy + b1 * st[M1, i]
    px = gx - st[M0, i]
    py = gy - st[M1, i]
    st[V0, i] = (1.0 - b2) * (px * px) + b2 * st[V0, i] + eps_root
    st[V1, i] = (1.0 - b2) * (py * py) + b2 * st[V1, i] + eps_root
    tf = float(t)
    st[BP1, i] = math.pow(b1, tf)
    st[BP2, i] = math.pow(b2, tf)
    r1 = 1.0 / (1.0 - st[BP1, i])
    r2 = 1.0 / (1.0 - st[BP2, i])
    d0 = _sqrt(st[V0, i] * r2) + hp[EPS, i]
    d1 = _sqrt(st[V1, i] * r2) + hp[EPS, i]
    nx = x - lr * ((st[M0, i] * r1) / d0)
    ny = y - lr * ((st[M1, i] * r1) / d1)
    return nx, ny, lr * r1 / d0, lr * r1 / d1


# det G below this fraction of G₀₀G₁₁ is round-off of a rank-one G (G₀₀G₁₁ and G₀₁² are the same
# product rounded two ways): full-matrix AdaGrad with ε = 0 then takes the pseudo-inverse.
_RANK_ONE = 1e-12


@njit(cache=True, error_model="numpy")
def adagrad_full_update(x, y, gx, gy, lr, t, hp, flags, st, i):
    r"""Full-matrix AdaGrad: G sums the outer products g gᵀ, and the step is preconditioned by
    (εI + G)^{-1/2}, a whole matrix instead of one number per coordinate.

    Formula:
        G_t \leftarrow G_{t-1} + g_t\, g_t^\top
        \theta_t \leftarrow \theta_{t-1} - \eta\,(\epsilon I + G_t)^{-1/2}\, g_t
        [eps=0] G_t^{-1/2} \to G_t^{+1/2} = G_t/(\operatorname{tr} G_t)^{3/2}
            \text{ (pseudo-inverse) while } G_t \text{ is singular}

    Notes:
        The first form of AdaGrad in the Vietnamese Adam deck (000), written there as
        "G_t = G_{t-1} + diag(\boldsymbol{g_t}, \boldsymbol{g_t^T})" and
        "\theta_{t+1} = \theta_t - \frac{\eta}{\sqrt{G_t + \epsilon}}.g_t", where the next slide
        expands g_t · g_t^T into the full matrix of products g_{t,i} g_{t,j} (so "diag(g, gᵀ)"
        is the outer product g gᵀ, and √(G + ε) is read as the matrix square root of εI + G).
        No library implements it; its golden is a numpy loop written from those formulas. What
        it fixes: diagonal AdaGrad scales each coordinate alone, which helps only when the
        valley is aligned with the axes; G also learns the correlation between coordinates,
        so the preconditioner turns with the valley, and on a rotated ravine it behaves as on
        the aligned one, where the diagonal form loses its advantage. Cost: a d×d matrix and
        its inverse square root, O(d³) per step, which is why practice uses the diagonal.
        (εI + G)^{-1/2} in closed form for 2×2: with s = √det(εI + G) and τ = √(tr(εI + G) +
        2s), √A = (A + sI)/τ, so A^{-1/2} = (adj A + sI)/(sτ); det(εI + G) = ε² + ε tr G +
        det G, det G ≥ 0 (Cauchy–Schwarz; round-off clamped). With ε = 0 the inverse does not
        exist while G is singular (after the first step G = g gᵀ; as long as every gradient is
        parallel): the rule then takes the pseudo-inverse G^{+1/2} = G/(tr G)^{3/2}, as Duchi et
        al. (2011) define AdaGrad without ε, a step of length η along −g. ``step_size``
        reports η times the diagonal of (εI + G)^{-1/2}.
    """
    st[G00, i] += gx * gx
    st[G01, i] += gx * gy
    st[G11, i] += gy * gy
    eps = hp[EPS, i]
    a = st[G00, i] + eps
    b = st[G01, i]
    c = st[G11, i] + eps
    det_g = max(st[G00, i] * st[G11, i] - b * b, 0.0)
    if eps == 0.0 and det_g <= _RANK_ONE * st[G00, i] * st[G11, i]:
        # G still rank one (every gradient so far parallel): the pseudo-inverse square root,
        # G^{+1/2} = G/(tr G)^{3/2}, as Duchi et al. define AdaGrad without ε.
        tau = _sqrt(a + c)
        k = lr / (tau * tau * tau)
        return x - k * (a * gx + b * gy), y - k * (b * gx + c * gy), k * a, k * c
    s = _sqrt(eps * (eps + st[G00, i] + st[G11, i]) + det_g)
    k = lr / (s * _sqrt(a + c + 2.0 * s))
    nx = x - k * ((c + s) * gx - b * gy)
    ny = y - k * ((a + s) * gy - b * gx)
    return nx, ny, k * (c + s), k * (a + s)


# ======================================================================================
# Lookahead: a wrapper around every first-order rule
# ======================================================================================


@njit(cache=True, error_model="numpy")
def lookahead_sync(x, y, nx, ny, t, hp, flags, st, i):
    r"""Lookahead (Zhang et al., 2019, "k steps forward, 1 step back") around the first-order
    rule that has just taken run i's update t from the fast weights θ = (x, y) to (nx, ny).

    The slow weights φ start at θ₀; after every k-th fast update (k = ``lookahead_k`` =
    flags[LOOKAHEAD_K] > 0) φ ← φ + α(θ − φ) and θ ← φ (α = ``lookahead_alpha``). Returns the
    fast weights after update t. As ``optax.lookahead(inner, sync_period=k, slow_step_size=α)``
    with ``reset_state=False``: the inner rule keeps its state (momentum, v, …) across syncs,
    gradients are taken at the fast weights, and the path drawn is the fast weights, which jump
    back to φ at each sync; φ is in the state slots SLOW_X, SLOW_Y. Its formula-card line is
    added by :func:`optviz.optimizers.formula` (as the weight-decay line is).
    """
    if t == 1:
        st[SLOW_X, i] = x
        st[SLOW_Y, i] = y
    if t % flags[LOOKAHEAD_K] != 0:
        return nx, ny
    a = hp[LOOKAHEAD_ALPHA, i]
    sx = st[SLOW_X, i] + a * (nx - st[SLOW_X, i])
    sy = st[SLOW_Y, i] + a * (ny - st[SLOW_Y, i])
    st[SLOW_X, i] = sx
    st[SLOW_Y, i] = sy
    return sx, sy


# ======================================================================================
# The registry: optimizer id -> first-order rule
# ======================================================================================

# Every first-order rule, by the id of optviz._layout that selects it. optviz._batch builds its
# vectorised loops from this table (each rule and every njit helper of this module rebound to
# the vectorisable ones), and tests/test_kernel_registry.py checks that each entry has its line
# in the two hand-hoisted dispatches (optviz._kernel._update, optviz._batch._run_block).
FIRST_ORDER_RULES = {
    GD: gd_update,
    MOMENTUM: momentum_update,
    NESTEROV: nesterov_update,
    ADAGRAD: adagrad_update,
    RMSPROP: rmsprop_update,
    ADAM: adam_update,
    NADAM: nadam_update,
    ADAMW: adamw_update,
    AMSGRAD: amsgrad_update,
    ADAM_FIRST_GRAD: adam_first_grad_update,
    QHM: qhm_update,
    QHADAM: qhadam_update,
    LION: lion_update,
    ADAMAX: adamax_update,
    RADAM: radam_update,
    RPROP: rprop_update,
    ADABELIEF: adabelief_update,
    ADAGRAD_FULL: adagrad_full_update,
}
