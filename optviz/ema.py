"""Exponentially weighted averages, as the mini-batch deck teaches them (pure; no Streamlit).

The deck (/work/shared/lectures/001_*.txt, "Trung bình trượt" and "Bias correction")::

    V_t = β V_{t−1} + (1 − β) θ_t,   V_0 = 0
    V′_t = V_t / (1 − β^t)                                   (bias correction)
    "V_t … xấp xỉ với giá trị thực một lượng là 1/(1−β)"
    β = 0.9: 10 days,  β = 0.98: 50 days,  β = 0.5: 2 days

Adam's first and second moments are exactly this average of the gradients g and of g²
(m_t = β₁ m_{t−1} + (1 − β₁) g_t, v_t = β₂ v_{t−1} + (1 − β₂) g_t²), and m̂, v̂ are V′.

Also here: the shipped synthetic year of temperatures and a parser for a pasted series that
never evaluates anything and says what it rejected.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DECK_BETAS = (0.5, 0.9, 0.98)  # the three curves of the deck's temperature plot
TEMPERATURES_CSV = Path(__file__).parent / "data" / "temperatures.csv"
MAX_VALUES = 10_000  # a pasted series longer than this is refused (a lesson, not a data tool)
MAX_ABS = 1e12  # larger magnitudes are refused: β^t · V stays far from overflow


def check_beta(beta: float) -> float:
    """``beta`` as a float in [0, 1); ``ValueError`` otherwise (β = 1 never forgets θ_0 = 0)."""
    b = float(beta)
    if not (0.0 <= b < 1.0):
        raise ValueError(f"β must be in [0, 1), got {beta!r}")
    return b


def ema(values: np.ndarray, beta: float, bias_correction: bool = False) -> np.ndarray:
    """V_1 … V_n for θ_1 … θ_n (``values``), from V_0 = 0; with ``bias_correction``, V′_t.

    Element t−1 of the result is V_t (or V′_t), so it lines up with ``values``.
    """
    b = check_beta(beta)
    theta = np.asarray(values, dtype=float)
    out = np.empty_like(theta)
    v = 0.0
    for i, x in enumerate(theta):
        v = b * v + (1.0 - b) * x
        out[i] = v
    if bias_correction:
        t = np.arange(1, theta.size + 1)
        out = out / (1.0 - b**t)
    return out


def window_days(beta: float) -> float:
    """The deck's reading: V_t averages roughly the last 1/(1 − β) values ("days")."""
    return 1.0 / (1.0 - check_beta(beta))


def window_weight(beta: float) -> float:
    """The share of V_t's weight on its last 1/(1 − β) values: 1 − β^(1/(1−β)).

    ≈ 0.65 for β = 0.9, → 1 − 1/e ≈ 0.63 as β → 1 (0.75 for β = 0.5). What "≈ an average over
    1/(1−β) days" means in numbers: most of the weight, not all of it.
    """
    b = check_beta(beta)
    if b == 0.0:
        return 1.0
    return 1.0 - b ** (1.0 / (1.0 - b))


def _num(x: float) -> str:
    """A number as the deck writes it: up to 6 significant digits, no trailing zeros."""
    return f"{x:.6g}"


@dataclass(frozen=True)
class FirstValue:
    """V_t and V′_t at one t, with the arithmetic written out as the deck does."""

    t: int
    theta: float
    v: float
    v_corrected: float
    v_text: str  # "0.98 · 0 + 0.02 · 40 = 0.8"
    corrected_text: str  # "0.8 / (1 − 0.98¹) = 40"


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def first_values(values: np.ndarray, beta: float, n: int = 2) -> list[FirstValue]:
    """The first ``n`` steps of the average, each with its arithmetic spelled out."""
    b = check_beta(beta)
    theta = np.asarray(values, dtype=float)[:n]
    plain = ema(theta, b)
    corrected = ema(theta, b, bias_correction=True)
    out = []
    previous = 0.0
    for i, x in enumerate(theta):
        t = i + 1
        out.append(
            FirstValue(
                t=t,
                theta=float(x),
                v=float(plain[i]),
                v_corrected=float(corrected[i]),
                v_text=f"{_num(b)} · {_num(previous)} + {_num(1.0 - b)} · {_num(x)} "
                f"= {_num(plain[i])}",
                corrected_text=f"{_num(plain[i])} / (1 − {_num(b)}{str(t).translate(_SUPERSCRIPT)})"
                f" = {_num(corrected[i])}",
            )
        )
        previous = float(plain[i])
    return out


def load_temperatures(path: Path = TEMPERATURES_CSV) -> np.ndarray:
    """The shipped synthetic year: daily temperatures in °F, day 1 first (see the data script)."""
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return data[:, 1].astype(float)


@dataclass(frozen=True)
class Parsed:
    """A pasted series: the numbers, or why it was refused (``problems`` non-empty)."""

    values: np.ndarray
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.values.size > 0


_SEPARATORS = re.compile(r"[\s;,]+")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def parse_series(text: str) -> Parsed:
    """Numbers separated by spaces, new lines, commas or semicolons ("40, 49, 45" or a column
    pasted from a spreadsheet). With a semicolon in the text, a comma is a decimal comma
    ("12,5; 13,1" is 12.5 and 13.1), as European spreadsheets write it. Only plain decimal
    numbers are accepted, matched by a regular expression (never evaluated); anything else is
    named in ``problems`` and nothing is kept.
    """
    if not isinstance(text, str):
        return Parsed(np.zeros(0), ["expected text"])
    if ";" in text:
        text = re.sub(r"(?<=\d),(?=\d)", ".", text)
    tokens = [tok for tok in _SEPARATORS.split(text.strip()) if tok]
    if not tokens:
        return Parsed(np.zeros(0), ["no numbers: paste values separated by spaces or commas"])
    if len(tokens) > MAX_VALUES:
        return Parsed(np.zeros(0), [f"too many values ({len(tokens)}); at most {MAX_VALUES}"])
    bad: list[str] = []
    values = np.empty(len(tokens))
    for i, tok in enumerate(tokens):
        value = float(tok) if _NUMBER.fullmatch(tok) else math.nan
        if not math.isfinite(value) or abs(value) > MAX_ABS:
            shown = tok if len(tok) <= 20 else tok[:20] + "…"
            bad.append(f"value {i + 1} ({shown!r}) is not a number up to ±1e12")
        values[i] = value
    if bad:
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        return Parsed(np.zeros(0), bad[:3] + ([more.strip()] if more else []))
    return Parsed(values)
