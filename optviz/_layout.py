"""The kernel's integer contract, stated once: optimizer ids and their first/second-order ranges,
the slots of the hyperparameter vector ``hp``, of the integer option vector ``flags`` and of the
optimizer state ``st``, the schedule ids and the run statuses.

Every other module reads these names from here: the update rules (:mod:`optviz._rules`,
:mod:`optviz._second_order`), the trajectory loop (:mod:`optviz._kernel`), the batch kernel
(:mod:`optviz._batch`), the catalog (:mod:`optviz.optimizers`) and the state names
(:mod:`optviz.state`). Numba reads module-level integers as compile-time constants, so a name
costs nothing in the compiled loops.
"""

from __future__ import annotations

# ---- optimizer ids ------------------------------------------------------------------------
# First-order ids form one contiguous range from 0 (the batch kernel vectorises exactly these),
# the second-order and line-search methods follow.
GD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM, NADAM, ADAMW, AMSGRAD = range(9)
ADAM_FIRST_GRAD = 9  # internal: Adam with accumulator_init=first_grad, chosen by the engine
QHM, QHADAM, LION, RADAM, ADAMAX, RPROP, ADABELIEF, ADAGRAD_FULL = range(10, 18)
N_FIRST_ORDER = 18
NEWTON, BFGS, DFP, LBFGS, LEVENBERG_MARQUARDT, STEEPEST_DESCENT = range(18, 24)
N_OPTIMIZERS = 24
FIRST_ORDER_IDS = range(0, N_FIRST_ORDER)
SECOND_ORDER_IDS = range(N_FIRST_ORDER, N_OPTIMIZERS)

# ---- hyperparameter vector hp ---------------------------------------------------------------
LR, BETA1, BETA2, EPS, WEIGHT_DECAY, MOMENTUM_DECAY, DAMPENING, LR_DECAY, LM_LAMBDA = range(9)
STEP_TOL, TARGET_LOSS = 9, 10  # the Polish deck's stop rules: ‖θₖ₊₁ − θₖ‖ < tol, f ≤ target
NU1 = 11  # QHM ν / QHAdam ν₁
NU2 = 12  # QHAdam ν₂
ETA_MINUS, ETA_PLUS, STEP_MIN, STEP_MAX = 13, 14, 15, 16  # Rprop
LOOKAHEAD_ALPHA = 17  # Lookahead's pull-back α
EPS_ROOT = 18  # AdaBelief's ε inside √ (optax's eps_root)
N_HP = 19

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
    LOOKAHEAD_K,  # Lookahead's k (sync period); 0 = off
) = range(12)
N_FLAGS = 12

# ---- schedule ids and statuses -----------------------------------------------------------------
S_CONSTANT, S_STEP, S_EXPONENTIAL, S_INVERSE_TIME, S_POWER, S_PIECEWISE, S_PLATEAU, S_SGDR = range(
    8
)
# Counted in epochs (1-based epoch = k // L + 1, L = sp[SP_EPOCH_LEN] updates per epoch):
S_EPOCH_INVERSE_TIME, S_EPOCH_EXPONENTIAL, S_EPOCH_INVERSE_SQRT, S_PERFORMANCE = range(8, 12)
S_EPOCH_PIECEWISE = 12
N_SCHED = 24
SP_EPOCH_LEN = N_SCHED - 1  # the schedule vector's last slot: updates per epoch (≥ 1)
# ERROR: the kernel has no update rule for the optimizer id; the run stops before its first update.
OK, CONVERGED, DIVERGED, ESCAPED, ERROR = range(5)

# ---- optimizer state layout ------------------------------------------------------------------
M0, M1 = 0, 1  # first moment / momentum buffer / velocity (QHM buffer, Lion/RAdam/… m)
V0, V1 = 2, 3  # second moment / accumulator G / RMSProp average (Adamax u, AdaBelief s)
VMAX0, VMAX1 = 4, 5  # AMSGrad running max
BP1, BP2 = 6, 7  # β₁ᵗ, β₂ᵗ tracked by multiplication
MU_PRODUCT = 8  # NAdam ∏ μ_i
NU = 9  # Levenberg–Marquardt ν
H00, H01, H10, H11 = 10, 11, 12, 13  # BFGS/DFP inverse-Hessian approximation V
SX, SY, GX_PREV, GY_PREV = 14, 15, 16, 17  # previous step s and gradient (quasi-Newton)
N_MEM, MEM_HEAD = 18, 19  # L-BFGS stored pairs
PL_BEST, PL_BAD, PL_FACTOR = 20, 21, 22  # reduce-on-plateau / performance-rule state
PREV_X, PREV_Y = 23, 24  # the point before the last update (stop rule ‖θₖ₊₁ − θₖ‖ < tol)
GAVG0, GAVG1 = 25, 26  # RMSProp-centered running mean ḡ
RP_STEP0, RP_STEP1 = 27, 28  # Rprop per-coordinate step sizes
RP_GPREV0, RP_GPREV1 = 29, 30  # Rprop previous gradient
G00, G01, G11 = 31, 32, 33  # full-matrix AdaGrad's G = Σ g gᵀ (symmetric)
SLOW_X, SLOW_Y = 34, 35  # Lookahead's slow weights φ
N_STATE = 36

BIG = 1e10  # |θ| beyond this is divergence, whatever the surface
