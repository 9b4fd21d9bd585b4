"""Presets: the lectures' scenarios, each one comparison that makes its point in one click.

Every preset was tuned by running it, and every claim its text makes is checked by running it
in ``tests/test_presets.py``: the zig-zag really zig-zags, the plateau GD really crawls, and so
on. Change a number in a text only together with that test.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from optviz.config import Comparison, RunSpec


@dataclass(frozen=True)
class Question:
    """What the class predicts before the runs are revealed (lesson mode).

    ``answer`` indexes ``choices``; ``tests/test_lesson.py`` runs the preset and checks it.
    ``title`` names the preset without giving the answer away (its own title often does);
    ``source`` is the lecture's line the question comes from.
    """

    title: str
    text: str
    choices: tuple[str, ...]
    answer: int
    explanation: str
    source: str


@dataclass(frozen=True)
class Preset:
    """A named comparison with the paragraph shown when it is loaded."""

    name: str
    title: str
    description: str
    comparison: Comparison
    question: Question | None = None  # asked in lesson mode before Reveal


_ADAM_TABLE = (
    RunSpec("momentum", {"lr": 0.01, "beta1": 0.9}),
    RunSpec("adagrad", {"lr": 0.01, "eps": 1e-8}),
    RunSpec("rmsprop", {"lr": 1e-4, "beta2": 0.9, "eps": 1e-8}),
    RunSpec("adam", {"lr": 1e-4, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
)
_BATCH_RUNS = (
    RunSpec("gd", {"lr": 0.05}),
    RunSpec("momentum", {"lr": 0.005, "beta1": 0.9}),
    RunSpec("adam", {"lr": 0.05}),
)
_BATCH_TEXT = (
    "Mean-squared error of a line fitted to 100 noisy points, w on the x-axis and b on the "
    "y-axis. {what} Same seed, so every optimizer sees the same mini-batches. Compare the three "
    "batch-size presets: the noise of the path grows as B shrinks, and with mini-batches (B < n) "
    "and a constant η the runs never settle exactly at the least-squares fit (the marked "
    "minimum); see the LR-decay preset for the cure."
)


def _batch_preset(name: str, batch_size: int, title: str, what: str) -> Preset:
    return Preset(
        name,
        title,
        _BATCH_TEXT.format(what=what),
        Comparison(
            surface="noisy_linreg",
            surface_params={"batch_size": batch_size},
            steps=500,
            runs=_BATCH_RUNS,
        ),
    )


_ALL = (
    Preset(
        "ravine_zigzag",
        "GD zig-zags in a ravine; momentum does not",
        "A rotated quadratic valley with condition number κ = 50. GD's η = 0.038 is just below the "
        "stability limit 2/κ = 0.04 across the valley, so every step overshoots the valley floor "
        "and the path zig-zags, while along the valley the same η is tiny and progress is slow. "
        "Momentum (η = 0.004, β₁ = 0.9) averages successive gradients: the zig-zag components "
        "cancel, the steady component along the valley accumulates, and it reaches the minimum "
        "first. Open the dynamics tab: GD's step length shrinks only by the factor "
        "|1 − κη| = 0.9 per step.",
        Comparison(
            surface="ravine",
            surface_params={"kappa": 50.0, "angle": 30.0},
            steps=150,
            runs=(RunSpec("gd", {"lr": 0.038}), RunSpec("momentum", {"lr": 0.004, "beta1": 0.9})),
        ),
    ),
    Preset(
        "nesterov_overshoot",
        "Nesterov brakes where momentum overshoots",
        "The Booth bowl with the same η = 0.01 and β₁ = 0.9 for both. Classical momentum builds up "
        "speed, overshoots the minimum and spirals around it for many steps; Nesterov evaluates "
        "the gradient at the look-ahead point, sees the slope turn before it gets there and "
        "brakes, settling in a fraction of the steps. Compare the loss curves on the right.",
        Comparison(
            surface="booth",
            steps=100,
            runs=(
                RunSpec("momentum", {"lr": 0.01, "beta1": 0.9}),
                RunSpec("nesterov", {"lr": 0.01, "beta1": 0.9}),
            ),
        ),
    ),
    Preset(
        "saddle_ridge",
        "Saddle x² − y²: GD gets stuck on the ridge, Adam escapes",
        "Started a hair off the ridge, at y = 10⁻⁶. The gradient along y is 2y ≈ 2·10⁻⁶, so GD "
        "(η = 0.01) slides straight into the saddle point and sits there: its distance from the "
        "ridge grows only by a factor 1.02 per step. Momentum accumulates that tiny push and "
        "leaves after ~170 steps; Adam divides the gradient by its own size, so even a 10⁻⁶ "
        'slope gives a full-size step and it escapes. Runs that leave the plot say "escaped".',
        Comparison(
            surface="saddle",
            start=(-1.5, 1e-6),
            steps=300,
            runs=(
                RunSpec("gd", {"lr": 0.01}),
                RunSpec("momentum", {"lr": 0.01, "beta1": 0.9}),
                RunSpec("adam", {"lr": 0.05}),
            ),
        ),
    ),
    Preset(
        "saddle_noise",
        "Saddle x² − y² with gradient noise: noise escapes too",
        "Started exactly on the ridge (y = 0), where the true gradient has no y component at all: "
        "without noise every first-order method would stop at the saddle. Here the gradient "
        'carries Gaussian noise σ = 0.1 (the surface parameter "gradient noise σ"), as SGD\'s '
        "mini-batch gradients do. The noise kicks the runs off the ridge and the negative "
        "curvature does the rest: noisy GD escapes too, later than momentum and Adam.",
        Comparison(
            surface="saddle",
            surface_params={"grad_noise": 0.1},
            start=(-1.5, 0.0),
            steps=500,
            runs=(
                RunSpec("gd", {"lr": 0.01}),
                RunSpec("momentum", {"lr": 0.01, "beta1": 0.9}),
                RunSpec("adam", {"lr": 0.05}),
            ),
        ),
    ),
    Preset(
        "plateau",
        "Plateau: GD crawls, RMSProp and Adam walk",
        "A wide flat plateau around a well; at the start ‖∇f‖ ≈ 2·10⁻⁴. GD's step is η·∇f, so "
        "with η = 0.1 it moves 2·10⁻⁵ per step and after 300 steps has barely left the start; "
        "momentum only multiplies that by 1/(1−β₁) = 10. RMSProp and Adam divide the gradient by "
        "its running RMS, so their steps stay of the order of η (within a factor 15) however "
        "small the slope: they cross the plateau and drop into the well. See the effective "
        "learning rate in the dynamics tab.",
        Comparison(
            surface="plateau",
            steps=300,
            runs=(
                RunSpec("gd", {"lr": 0.1}),
                RunSpec("momentum", {"lr": 0.1, "beta1": 0.9}),
                RunSpec("rmsprop", {"lr": 0.01}),
                RunSpec("adam", {"lr": 0.05}),
            ),
        ),
    ),
    Preset(
        "adagrad_vanishing",
        "AdaGrad's step vanishes; RMSProp keeps going",
        "Rosenbrock's banana valley. AdaGrad divides η by the root of the sum of all past squared "
        "gradients; that sum only grows, so its effective learning rate can only fall and it "
        "creeps along the valley floor: after 2000 steps it is still 1.0 away from the minimum "
        "(1, 1), at loss 0.3. RMSProp uses a leaky average instead (β₂ = 0.99): old gradients "
        "are forgotten, so as the gradients shrink its step grows again and it ends within 0.2 of "
        "(1, 1), at a loss below 0.01. The dynamics tab shows AdaGrad's effective learning rate "
        "only falling and RMSProp's rising again, ten-fold, along the valley.",
        Comparison(
            surface="rosenbrock",
            start=(-1.5, 2.0),
            steps=2000,
            runs=(RunSpec("adagrad", {"lr": 0.1}), RunSpec("rmsprop", {"lr": 0.003})),
        ),
    ),
    _batch_preset(
        "batch_1",
        1,
        "Noisy regression, batch size B = 1 (SGD)",
        "With B = 1 every step follows the gradient of a single data point: the path is a random "
        "walk around the descent direction and keeps jittering near the minimum.",
    ),
    _batch_preset(
        "batch_32",
        32,
        "Noisy regression, mini-batch B = 32",
        "With B = 32 the gradient is an average over 32 points: the path is visibly smoother than "
        "with B = 1 but still wobbles near the minimum.",
    ),
    _batch_preset(
        "batch_full",
        0,
        "Noisy regression, full batch B = n",
        "With B = n (batch size 0 means all points) the gradient is exact: this is plain gradient "
        "descent, the paths are smooth and converge to the least-squares fit.",
    ),
    Preset(
        "adam_lecture_table",
        "The Adam lecture's hyperparameter table",
        "The settings from the Adam lecture's experiments: SGD-Momentum η = 0.01, β = 0.9; "
        "AdaGrad η = 0.01; RMSProp η = 10⁻⁴, β₂ = 0.9; Adam η = 10⁻⁴, β₁ = 0.9, β₂ = 0.999; "
        "ε = 10⁻⁸, on the noisy regression with B = 32. Those η were tuned for an MNIST network; "
        "on this 2-D problem the adaptive methods take steps of about η, so at η = 10⁻⁴ RMSProp "
        "and Adam move only ~0.2 in 2000 steps while momentum converges: a good η depends on the "
        "problem's scale, not only on the method.",
        Comparison(
            surface="noisy_linreg",
            surface_params={"batch_size": 32},
            steps=2000,
            runs=_ADAM_TABLE,
        ),
    ),
    Preset(
        "newton_saddle",
        "Newton jumps to the saddle; BFGS goes downhill",
        "On x² − y² the textbook Newton step −H⁻¹∇f solves for the stationary point of the local "
        "quadratic model, which here is the saddle itself: one step lands exactly on (0, 0) and "
        "stays. Newton's method does not know up from down. BFGS starts from the identity as its "
        "inverse-Hessian estimate and uses a backtracking line search that demands a decrease, so "
        "it heads downhill and escapes. The guarded Newton (|eigenvalues|) escapes too.",
        Comparison(
            surface="saddle",
            start=(-1.5, 0.5),
            steps=30,
            runs=(
                RunSpec("newton", {"newton_form": "textbook"}),
                # The text describes BFGS with backtracking (the default is now the exact search).
                RunSpec("bfgs", {"line_search": "backtracking"}),
                RunSpec("newton", {"newton_form": "guarded"}),
            ),
        ),
    ),
    Preset(
        "lr_schedules",
        "Learning-rate decay schedules side by side",
        "SGD with batch size 1 on the noisy regression, η = 0.1 for all four. With a constant η "
        "the mini-batch noise keeps the run bouncing around the minimum for ever; step decay "
        "(halve every 100 steps), exponential decay (e^(−0.005 t)) and 1/t decay (1/(1 + 0.02 t)) "
        "shrink the steps and let the run settle. 1/t decays too fast at first here and arrives "
        "late.",
        Comparison(
            surface="noisy_linreg",
            surface_params={"batch_size": 1},
            steps=1000,
            runs=(
                RunSpec("gd", {"lr": 0.1}),
                RunSpec("gd", {"lr": 0.1}, {"name": "step", "step_size": 100.0, "gamma": 0.5}),
                RunSpec("gd", {"lr": 0.1}, {"name": "exponential", "k": 0.005}),
                RunSpec("gd", {"lr": 0.1}, {"name": "inverse_time", "k": 0.02}),
            ),
        ),
    ),
    Preset(
        "rosenbrock_second_order",
        "Rosenbrock: first-order vs second-order methods",
        "The curved banana valley from (−1.5, 2). GD (η = 10⁻³; from η = 2.5·10⁻³ it diverges on "
        "the steep walls) and Adam follow the valley slowly; Newton's method uses the exact "
        "curvature and arrives in a handful of steps; BFGS and L-BFGS build a curvature estimate "
        "from gradients alone and arrive in a few dozen; Levenberg–Marquardt exploits the "
        "sum-of-squares form and arrives too.",
        Comparison(
            surface="rosenbrock",
            start=(-1.5, 2.0),
            steps=300,
            runs=(
                RunSpec("gd", {"lr": 1e-3}),
                RunSpec("adam", {"lr": 0.05}),
                RunSpec("newton", {}),
                RunSpec("bfgs", {}),
                RunSpec("lbfgs", {}),
                RunSpec("levenberg_marquardt", {}),
            ),
        ),
    ),
    Preset(
        "own_double_well",
        "Your own f(x, y): momentum rolls over a hump",
        "A typed formula, f = x⁴ − 2x² + 0.3x + y²: a tilted double well with a shallow minimum "
        "on the right (f ≈ −0.71), a deeper one on the left (f ≈ −1.31) and a saddle between "
        "them, all found numerically and marked. From (1.8, 1.5), GD and Newton settle in the "
        "nearer, shallower well: the gradient only knows the slope where it stands. Momentum "
        "(β = 0.9) arrives with speed, rolls over the hump and ends in the deeper well. Edit the "
        "formula in the sidebar to try your own.",
        Comparison(
            surface="formula",
            surface_params={
                "formula": "x^4 - 2*x^2 + 0.3*x + y^2",
                "xmin": -2.0,
                "xmax": 2.0,
                "ymin": -2.0,
                "ymax": 2.0,
            },
            start=(1.8, 1.5),
            steps=150,
            runs=(
                RunSpec("gd", {"lr": 0.05}),
                RunSpec("momentum", {"lr": 0.02, "beta1": 0.9}),
                RunSpec("newton", {}),
            ),
        ),
    ),
    Preset(
        "full_adagrad_rotated",
        "Rotated ravine: full-matrix AdaGrad against diagonal AdaGrad",
        "The ravine (κ = 50) rotated by 45°: its steep and its flat direction are diagonals, not "
        "the axes. Diagonal AdaGrad (η = 0.3) gives each coordinate its own step size, but both "
        "coordinates see the same mix of steep and flat, so after 500 steps it is still 0.48 from "
        "the minimum. Full-matrix AdaGrad, the Adam deck's first form (G ← G + g gᵀ, step "
        "η (εI + G)^(−1/2) g), rescales along the directions the gradients took, whatever the "
        "rotation: it is within 10⁻³ of the minimum at step 168. Set the angle to 0°: the axes "
        "are the valley's directions again and the diagonal one arrives too (step 167).",
        Comparison(
            surface="ravine",
            surface_params={"kappa": 50.0, "angle": 45.0},
            steps=500,
            runs=(RunSpec("adagrad", {"lr": 0.3}), RunSpec("adagrad_full", {"lr": 0.3})),
        ),
    ),
    Preset(
        "lion_sign",
        "Lion moves diagonally: every step is ±η per coordinate",
        "Lion steps by the sign of an interpolated momentum, so every coordinate moves by exactly "
        "η = 0.05 at every step, whatever the gradient's size: the path is made of diagonal "
        "moves of one length. On the ravine rotated by 45° (κ = 20) it heads down the valley as "
        "fast as the steep direction allows, then cannot settle: it runs through the minimum "
        "and swings back and forth along the valley (0.42 away after 150 steps). Adam with the "
        "same η ends 0.67 away. Open Step by step on Lion: each step is −η sign(c).",
        Comparison(
            surface="ravine",
            surface_params={"kappa": 20.0, "angle": 45.0},
            steps=150,
            runs=(RunSpec("lion", {"lr": 0.05}), RunSpec("adam", {"lr": 0.05})),
        ),
    ),
    Preset(
        "radam_warmup",
        "RAdam's warm-up: no adaptive step until v can be trusted",
        "Rosenbrock from (−1.5, 2), Adam and RAdam with η = 10⁻³. Adam's first step already "
        "divides by √v̂ of a single gradient and is η-sized (0.0014). RAdam's first five steps are "
        "plain momentum steps −η m̂ (ρ_t ≤ 5: too few gradients for the variance of the adaptive "
        "rate to be finite), so its first step is 115 times Adam's; from step 6 the adaptive "
        "step switches on, scaled by the rectification r_t, which starts small (its steps drop "
        "below 10⁻⁵). Open Step by step on RAdam at steps 1 to 6.",
        Comparison(
            surface="rosenbrock",
            start=(-1.5, 2.0),
            steps=300,
            runs=(RunSpec("adam", {"lr": 1e-3}), RunSpec("radam", {"lr": 1e-3})),
        ),
    ),
    Preset(
        "sign_methods_plateau",
        "A plateau: step sizes that grow cross it",
        "The plateau from (4, 2), 150 steps. GD (η = 0.1) follows the vanishing gradient and "
        "has moved less than 0.01. Adam (η = 0.01) divides by the gradient's size, so its steps "
        "stay η-sized: 1.3 from the minimum at the end. Rprop (Δ₀ = 0.01) multiplies each "
        "coordinate's step by 1.2 while the gradient's sign holds, crosses the flat part in a "
        "few dozen steps and ends within 10⁻⁶ of the minimum; AdaBelief (η = 0.01), whose "
        "steps grow where the gradient is predictable, ends within 0.02.",
        Comparison(
            surface="plateau",
            steps=150,
            runs=(
                RunSpec("gd", {"lr": 0.1}),
                RunSpec("adam", {"lr": 0.01}),
                RunSpec("rprop", {"lr": 0.01}),
                RunSpec("adabelief", {"lr": 0.01}),
            ),
        ),
    ),
)

PRESETS: dict[str, Preset] = {p.name: p for p in _ALL}


def get(name: str) -> Preset:
    """The preset called ``name``; ``ValueError`` lists the valid names."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid presets: {', '.join(PRESETS)}")
    return PRESETS[name]


# ---- predict, then reveal: the questions lesson mode asks before the runs are shown ----------

QUESTIONS: dict[str, Question] = {
    # 002 (CS231n): "What if loss changes quickly in one direction and slowly in another? What
    # does gradient descent do?" — "Very slow progress along shallow dimension, jitter along
    # steep direction"
    "ravine_zigzag": Question(
        "A ravine with κ = 50: GD at η = 0.038 and momentum",
        "GD's η = 0.038 is just below 2/κ = 0.04, the stability limit across the valley. "
        "Will GD converge?",
        (
            "No: it diverges",
            "Yes, sliding smoothly down the valley floor",
            "Yes, but zig-zagging across the valley",
        ),
        2,
        "Below 2/κ every step across the valley overshoots by a factor |1 − ηλ| = 0.9 < 1: "
        "the zig-zag shrinks, so GD converges, slowly; momentum averages the zig-zag away.",
        "002 (CS231n): “Very slow progress along shallow dimension, jitter along steep direction”",
    ),
    # 002: "Nesterov Momentum (NAG) khắc phục vấn đề mô hình vượt quá điểm cực tiểu bằng cách
    # ước lượng đạo hàm tại vị trí mà ta sẽ đến" (NAG fixes overshooting the minimum by
    # evaluating the gradient where it is going)
    "nesterov_overshoot": Question(
        "The Booth bowl: momentum and Nesterov, same η and β₁",
        "Same η = 0.01 and β₁ = 0.9. After 100 steps, which one is still circling the minimum?",
        ("Momentum", "Nesterov", "Both", "Neither"),
        0,
        "Momentum overshoots and spirals around (1, 3); Nesterov looks ahead, brakes, and "
        "has settled.",
        "002: “Nesterov Momentum (NAG) khắc phục vấn đề mô hình vượt quá điểm cực tiểu bằng "
        "cách ước lượng đạo hàm tại vị trí mà ta sẽ đến”",
    ),
    # 002: "Các thuật toán tối ưu hóa tiên tiến như Adam, RMSprop và những biến thể của gradient
    # descent được thiết kế để giúp vượt qua các điểm yên ngựa."
    "saddle_ridge": Question(
        "Saddle x² − y², started a hair off the ridge (y = 10⁻⁶)",
        "Which optimizer leaves the saddle first (out of the plot)?",
        ("GD", "Momentum", "Adam", "None of them leaves"),
        1,
        "Momentum, after ~170 steps: it accumulates the tiny push 2y and the negative "
        "curvature grows it. Adam leaves too, later; GD (×1.02 per step) is still there.",
        "002: “Các thuật toán tối ưu hóa tiên tiến như Adam, RMSprop … được thiết kế để giúp "
        "vượt qua các điểm yên ngựa”",
    ),
    # 004 (Hung-yi Lee): "Optimization 會在 Gradient 很小時停止" (optimization stops where the
    # gradient is small); 000: momentum "Di chuyển nhanh hơn tại các vùng bằng phẳng"
    "plateau": Question(
        "A plateau around a well: GD, momentum, RMSProp and Adam",
        "The slope at the start is ‖∇f‖ ≈ 10⁻⁴. After 300 steps, which runs are in the well?",
        ("GD and momentum", "RMSProp and Adam", "All four", "None"),
        1,
        "GD's step is η‖∇f‖ ≈ 10⁻⁵ and momentum only multiplies it by 10; RMSProp and Adam "
        "divide by the gradient's RMS, so their steps are about η whatever the slope.",
        "004 (Hung-yi Lee): “Optimization 會在 Gradient 很小時停止”",
    ),
    # 002: "Q: What happens to the step size over long time?" (AdaGrad); 003: "AdaGrad może
    # zwolnić zbyt szybko i skończyć działanie nie osiągając minimum lokalnego."
    "adagrad_vanishing": Question(
        "Rosenbrock's valley: AdaGrad and RMSProp",
        "AdaGrad divides η by √(sum of all past g²). What happens to its step size over a long "
        "time?",
        (
            "It stays about η",
            "It shrinks towards zero, and AdaGrad stalls",
            "It grows until AdaGrad diverges",
        ),
        1,
        "The sum only grows, so the step shrinks like 1/√t and AdaGrad stalls half-way; "
        "RMSProp's leaky average forgets old gradients and keeps walking.",
        "002 (CS231n, AdaGrad): “Q: What happens to the step size over long time?”",
    ),
    # 001: "Stochastic gradient descent xuất hiện nhiễu (noise) rất nhiều, đôi khi sẽ không thể
    # đạt đến giá trị tối thiểu toàn cục."
    "batch_1": Question(
        "Noisy regression, batch size B = 1 (SGD)",
        "Each step uses one data point, with a constant η. Does GD end at the least-squares "
        "fit (the star)?",
        ("Yes, exactly", "No: it keeps jittering around it"),
        1,
        "Each single-point gradient is noisy; with a constant η the noise never dies out, so "
        "the run wanders around the fit instead of settling on it (compare B = n).",
        "001: “Stochastic gradient descent xuất hiện nhiễu (noise) rất nhiều, đôi khi sẽ không "
        "thể đạt đến giá trị tối thiểu toàn cục”",
    ),
    # 002: "Solving for the critical point we obtain the Newton parameter update"; 003: "Jeżeli
    # gradient=0, to macierz H(w) musi być dodatnio określona, to żeby punkt ten był minimum."
    "newton_saddle": Question(
        "Saddle x² − y²: Newton, BFGS and guarded Newton",
        "Where does the textbook Newton step θ − H⁻¹∇f take the run from (−1.5, 0.5)?",
        (
            "Downhill, off the saddle",
            "Exactly onto the saddle point (0, 0), to stay",
            "Nowhere: it diverges",
        ),
        1,
        "The Newton step jumps to the critical point of the local quadratic model, and on "
        "x² − y² that is the saddle itself: one step, and it stays.",
        "002 (CS231n): “Solving for the critical point we obtain the Newton parameter update”",
    ),
    # 003: "Współczynnik uczenia powinien maleć podczas uczenia, żeby umożliwić dobre zbliżenie
    # się do minimum lokalnego (a nie odbijanie się pomiędzy ścianami doliny …)"
    "lr_schedules": Question(
        "SGD (B = 1): a constant η and three decay schedules",
        "After 1000 steps, which run ends farthest from the least-squares fit?",
        ("Constant η", "Step decay", "Exponential decay", "1/t decay"),
        0,
        "With a constant η the mini-batch noise keeps it bouncing; the decaying ones shrink "
        "their steps and settle near the fit.",
        "003: “Współczynnik uczenia powinien maleć podczas uczenia, żeby umożliwić dobre "
        "zbliżenie się do minimum lokalnego”",
    ),
    # 003: Newton — "zbieżność kwadratowa" (quadratic convergence); 002: BFGS approximates the
    # inverse Hessian "with rank 1 updates over time"
    "rosenbrock_second_order": Question(
        "Rosenbrock: first-order and second-order methods",
        "Which method reaches the minimum (1, 1) first?",
        ("GD", "Adam", "Newton", "BFGS", "L-BFGS", "Levenberg–Marquardt"),
        2,
        "Newton uses the exact curvature and converges quadratically: a handful of steps. BFGS, "
        "L-BFGS and LM need a few dozen; GD and Adam do not arrive in 300.",
        "003: Newton — “zbieżność kwadratowa”",
    ),
    # 000 (Adam deck): "G_t = G_{t-1} + diag(g_t, g_t^T)" and the outer product g_t · g_t^T
    "full_adagrad_rotated": Question(
        "A ravine rotated by 45°: two forms of AdaGrad",
        "Which AdaGrad reaches the minimum first?",
        ("Diagonal AdaGrad (G ← G + g²)", "Full-matrix AdaGrad (G ← G + g gᵀ)", "Neither, in 500"),
        1,
        "The valley's directions are diagonals; one step size per coordinate cannot follow "
        "them, one per direction of G can: the full matrix arrives at step 168, the diagonal "
        "one is still 0.48 away after 500.",
        "000: “G_t = G_{t-1} + diag(g_t, g_t^T)”, “g_t · g_t^T”",
    ),
}

for _name, _question in QUESTIONS.items():
    PRESETS[_name] = replace(PRESETS[_name], question=_question)
