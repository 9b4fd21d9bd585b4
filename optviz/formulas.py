r"""Formula cards: one ``Formula:`` block per update rule, rendered for the options of a run.

Each update rule's docstring (:mod:`optviz._rules`, :mod:`optviz._second_order`) holds exactly
one block, written once for every option combination::

    Formula:
        @if{accumulator_init=first_grad}{m_1 = g_1,\quad }{}
            m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t
        [bias_correction=on] \hat m_t = \frac{m_t}{1-\beta_1^t}
        \theta_t \leftarrow \theta_{t-1} - \eta\, \frac{@bc{m_t}}{@den{v_t}}

Syntax
------
- The block starts at a line ``Formula:`` and ends at a blank line (or at a line indented less
  than its first line). Each line at the block's base indentation (that of its first line)
  starts a *card line*; a more-indented line continues the previous card line (joined with one
  space). The renderer joins the card lines shown with `` \\`` inside ``gathered``; a card line
  must therefore not end with ``\\`` itself.
- A card line may start with conditions ``[k=v, k2=a|b, k3!=v]``: it is shown only when all
  hold. ``k`` is an option of the optimizer (values as the options print: ``on``/``off`` for
  booleans, numbers compare as numbers) or ``method``, the optimizer's catalog name, for rules
  shared by two methods (BFGS and DFP). ``a|b`` is "a or b"; ``!=`` negates. A line without
  conditions is always shown.

Macros (expanded after the conditions are evaluated, innermost arguments first; arguments are
brace-balanced LaTeX, may be separated by spaces or a continuation line, and may hold other
macros):

- ``@den{X}``: the adaptive denominator with ε where ``eps_placement`` puts it:
  ``\sqrt{X} + \epsilon`` (outside, torch) or ``\sqrt{X + \epsilon}`` (inside).
- ``@bc{X}``: ``\hat X`` when ``bias_correction`` is on, else ``X`` (the bias-corrected moment
  where the rule uses it).
- ``@if{conditions}{A}{B}``: ``A`` when the conditions (the syntax inside ``[...]`` above) hold,
  else ``B``; for a part of a line that depends on an option (``B`` may be empty: ``{}``).
- ``@search{d}``: the line that says how the line search (option ``line_search``) picks the
  step length α_k along −d (``d`` is the LaTeX of the vector stepped against, e.g. ``g_k`` or
  ``V_k g_k``); the rule's own line then writes θ_{k+1} = θ_k − α_k d.

A macro unknown here, a malformed condition or a second ``Formula:`` block raises
:class:`FormulaSyntaxError`; tests/test_formula_cards.py renders every option combination of
every optimizer.

The card (:func:`formula`) is the rule's lines followed by the *tail lines* that say what else
the run does: the η schedule, AdaGrad's ``lr_decay``, the L2 weight-decay term, the stop rule.
Each tail is a function in :data:`TAIL_LINES`; a wrapper that applies to every optimizer (such as
Lookahead) adds its line by inserting a function there (before the stop rule).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from optviz import schedules


class FormulaSyntaxError(ValueError):
    """A ``Formula:`` block that cannot be parsed or rendered."""


# ---- parsing ------------------------------------------------------------------------------------

_HEADER = re.compile(r"^(\s*)Formula:\s*$")
_OLD_HEADER = re.compile(r"^\s*Formula \(.*\):\s*$")
_TERM = re.compile(r"^\s*([A-Za-z_]\w*)\s*(!=|=)\s*([\w.+\-]+(?:\s*\|\s*[\w.+\-]+)*)\s*$")
_COND_PREFIX = re.compile(r"^\[([^\[\]]*)\]\s*")


@dataclass(frozen=True)
class Condition:
    """``key=v1|v2`` (or ``key!=...``): holds when the option's printed value is (not) one of
    the values."""

    key: str
    values: tuple[str, ...]
    negate: bool = False

    def holds(self, active: Mapping[str, str]) -> bool:
        if self.key not in active:
            raise FormulaSyntaxError(f"condition on {self.key!r}, which this optimizer lacks")
        hit = any(_same(active[self.key], v) for v in self.values)
        return hit != self.negate

    def __str__(self) -> str:
        return f"{self.key}{'!=' if self.negate else '='}{'|'.join(self.values)}"


@dataclass(frozen=True)
class CardLine:
    """One line of a card: LaTeX (macros not yet expanded) and the conditions that show it."""

    text: str
    conditions: tuple[Condition, ...] = field(default=())

    def shown(self, active: Mapping[str, str]) -> bool:
        return all(c.holds(active) for c in self.conditions)


def _same(actual: str, wanted: str) -> bool:
    if actual == wanted:
        return True
    try:
        return float(actual) == float(wanted)
    except ValueError:
        return False


def parse_conditions(text: str) -> tuple[Condition, ...]:
    """``"k=v, k2=a|b, k3!=v"`` → conditions (all must hold)."""
    out = []
    for part in text.split(","):
        m = _TERM.match(part)
        if not m:
            raise FormulaSyntaxError(f"bad condition {part.strip()!r} in [{text}]")
        values = tuple(v.strip() for v in m.group(3).split("|"))
        out.append(Condition(m.group(1), values, m.group(2) == "!="))
    return tuple(out)


def parse(doc: str) -> tuple[CardLine, ...]:
    """The card lines of the single ``Formula:`` block of a docstring (``()`` when it has none)."""
    lines = doc.expandtabs().splitlines()
    if any(_OLD_HEADER.match(line) for line in lines):
        raise FormulaSyntaxError("old 'Formula (k=v):' block; write one 'Formula:' block")
    starts = [i for i, line in enumerate(lines) if _HEADER.match(line)]
    if len(starts) > 1:
        raise FormulaSyntaxError("more than one 'Formula:' block; write one with conditions")
    if not starts:
        return ()
    header_indent = len(_HEADER.match(lines[starts[0]]).group(1))  # type: ignore[union-attr]
    raw: list[str] = []
    base = -1
    for line in lines[starts[0] + 1 :]:
        if not line.strip():
            break
        indent = len(line) - len(line.lstrip())
        if base < 0:
            if indent <= header_indent:
                break
            base = indent
        if indent < base:
            break
        if indent == base:
            raw.append(line.strip())
        else:
            raw[-1] += " " + line.strip()
    if not raw:
        raise FormulaSyntaxError("empty 'Formula:' block")
    out = []
    for text in raw:
        conditions: tuple[Condition, ...] = ()
        if text.startswith("["):
            m = _COND_PREFIX.match(text)
            if not m:
                raise FormulaSyntaxError(f"unclosed condition in {text!r}")
            conditions = parse_conditions(m.group(1))
            text = text[m.end() :]
        if text.rstrip().endswith("\\\\"):
            raise FormulaSyntaxError(
                f"a card line ends with \\\\ (lines are joined for you): {text!r}"
            )
        if not text.strip():
            raise FormulaSyntaxError("a card line with conditions and no LaTeX")
        out.append(CardLine(text.strip(), conditions))
    return tuple(out)


def notes(doc: str) -> str:
    """The ``Notes:`` section of a docstring as one line (conventions, torch equivalence)."""
    _, _, tail = doc.partition("Notes:")
    return " ".join(tail.split())


# ---- macros -------------------------------------------------------------------------------------


def _den(active: Mapping[str, str], x: str) -> str:
    placement = _need(active, "eps_placement", "@den")
    if placement == "inside":
        return rf"\sqrt{{{x} + \epsilon}}"
    if placement == "outside":
        return rf"\sqrt{{{x}}} + \epsilon"
    raise FormulaSyntaxError(f"@den: eps_placement {placement!r}")


def _bc(active: Mapping[str, str], x: str) -> str:
    return rf"\hat {x}" if _need(active, "bias_correction", "@bc") == "on" else x


def _if(active: Mapping[str, str], cond: str, then: str, other: str) -> str:
    return then if all(c.holds(active) for c in parse_conditions(cond)) else other


_C1, _C2 = r"10^{-4}", "0.9"  # the kernel's Armijo and curvature constants (line_search)


def _search(active: Mapping[str, str], d: str) -> str:
    mode = _need(active, "line_search", "@search")
    at = rf"\theta_k - \alpha_k {d}"
    slope = r"\lVert g_k\rVert^2" if d == "g_k" else rf"g_k^\top {d}"
    armijo = rf"f({at}) \le f(\theta_k) - {_C1}\,\alpha_k\, {slope}"
    if mode == "none":
        return r"\alpha_k = \eta"
    if mode == "backtracking":
        return rf"\alpha_k = \eta\, 2^{{-j}},\ j \text{{ smallest with }} {armijo}"
    if mode == "exact":
        return (
            r"\alpha_k = \text{the first local minimum of } "
            rf"\varphi(\alpha) = f(\theta_k - \alpha\, {d}),\ \alpha > 0 \ (\text{{to 1 ulp}})"
        )
    if mode == "wolfe":
        return (
            rf"\alpha_k \text{{ from }} \eta:\ {armijo},"
            rf"\ \lvert \nabla f({at})^\top {d} \rvert \le {_C2}\, {slope}"
        )
    raise FormulaSyntaxError(f"@search: line_search {mode!r}")


def _need(active: Mapping[str, str], key: str, macro: str) -> str:
    if key not in active:
        raise FormulaSyntaxError(f"{macro} needs the option {key!r}, which this optimizer lacks")
    return active[key]


# name -> (number of brace arguments, function(active, *args) -> LaTeX)
MACROS: dict[str, tuple[int, Callable[..., str]]] = {
    "den": (1, _den),
    "bc": (1, _bc),
    "if": (3, _if),
    "search": (1, _search),
}
_MACRO = re.compile(r"@([A-Za-z]+)")


def _group(text: str, start: int) -> tuple[str, int]:
    """The brace group opening at ``text[start]`` (after spaces): (its content, index after it)."""
    while start < len(text) and text[start] == " ":
        start += 1
    if start >= len(text) or text[start] != "{":
        raise FormulaSyntaxError(f"macro argument expected at {text[start : start + 20]!r}")
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2  # \{ \} \\ are not group delimiters
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i], i + 1
        i += 1
    raise FormulaSyntaxError(f"unbalanced braces in {text[start:]!r}")


def expand(text: str, active: Mapping[str, str]) -> str:
    """``text`` with every macro expanded for the options ``active`` (printed values)."""
    out = []
    pos = 0
    while True:
        m = _MACRO.search(text, pos)
        if not m:
            out.append(text[pos:])
            return "".join(out)
        if m.group(1) not in MACROS:
            raise FormulaSyntaxError(f"unknown macro @{m.group(1)}; known: {', '.join(MACROS)}")
        n, fn = MACROS[m.group(1)]
        out.append(text[pos : m.start()])
        args = []
        i = m.end()
        for _ in range(n):
            arg, i = _group(text, i)
            args.append(arg)
        if m.group(1) == "if":
            parse_conditions(args[0])  # checked even when the branch taken has no macro
            out.append(expand(_if(active, args[0], args[1], args[2]), active))
        else:
            out.append(fn(active, *(expand(a, active) for a in args)))
        pos = i


def render(lines: tuple[CardLine, ...], active: Mapping[str, str]) -> list[str]:
    """The LaTeX of the card lines shown for the options ``active``, macros expanded."""
    return [expand(line.text, active) for line in lines if line.shown(active)]


def as_text(value: object) -> str:
    """An option's value as conditions write it: on/off for booleans."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def join(lines: list[str]) -> str:
    """Card lines as one display formula (``gathered`` when there are several, for KaTeX and
    matplotlib)."""
    latex = " \\\\\n".join(lines)
    if len(lines) > 1:
        return "\\begin{gathered}\n" + latex + "\n\\end{gathered}"
    return latex


# ---- the card: rule lines + tail lines ----------------------------------------------------------


@dataclass
class Card:
    """What the tail-line functions see: the optimizer, its resolved options and schedule, the
    step index letter (``t`` for first-order rules, ``k`` for second-order) and the lines so far
    (a tail may rewrite them, as the schedule does with η → η_t)."""

    name: str
    resolved: dict
    schedule: dict
    k: str
    lines: list[str]


def _num(v: float) -> str:
    """A number for a formula card: 0.01, 10^{-6}, 2.5\\cdot 10^{-4}."""
    text = f"{v:.3g}"
    if "e" not in text:
        return text
    mant, exp = text.split("e")
    power = f"10^{{{int(exp)}}}"
    return power if mant in ("1", "1.0") else f"{mant}\\cdot {power}"


_ETA = re.compile(r"\\eta(?![_a-zA-Z])")


def _schedule_lines(card: Card) -> list[str]:
    """η_t in place of η under a schedule or AdaGrad's lr_decay, and the schedule's formula."""
    sched = card.schedule
    k = card.k
    lr_decay = card.resolved.get("lr_decay", 0.0)
    if sched["name"] == "constant" and not lr_decay:
        return []
    card.lines[:] = [_ETA.sub(lambda _: rf"\eta_{k}", line) for line in card.lines]
    out = []
    if sched["name"] != "constant":
        s = schedules.get(sched["name"])
        rhs = _ETA.sub(lambda _: r"\eta_0", s.latex.split("=", 1)[1]).replace(" t", f" {k}")
        values = ",\\ ".join(
            rf"\text{{{p.replace('_', ' ')}}} = {_num(v)}"
            for p, v in sched.items()
            if p != "name" and not isinstance(v, tuple)
        )
        where = rf"\quad ({values})" if values else ""
        if s.epochs:
            where += r"\quad \text{(epochs from 1)}"
        if sched["name"] == "performance":
            out.append(
                rf"\eta_{k} = \eta_{{\text{{epoch}}}},\ "
                rf"\eta_{{e}} = {_num(sched['increase'])}\,\eta_{{e-1}}"
                rf" \text{{ if the loss fell over epoch }} e-1,"
                rf"\ {_num(sched['decrease'])}\,\eta_{{e-1}} \text{{ if not}}"
            )
        else:
            out.append(rf"\eta_{k} = {rhs.strip()}{where}")
    if lr_decay:
        base = rf"\eta_{k}" if sched["name"] != "constant" else r"\eta"
        out.append(
            rf"\eta_{k} \leftarrow \frac{{{base}}}{{1 + ({k}-1)\,{_num(lr_decay)}}}"
            r"\quad (\text{lr decay})"
        )
    return out


# Their weight decay shrinks θ in the rule itself (their cards say so), not through g.
DECOUPLED_DECAY = ("adamw", "lion")


def _weight_decay_line(card: Card) -> list[str]:
    """The L2 term torch adds to the gradient (AdamW's decoupled decay is in its rule)."""
    wd = card.resolved.get("weight_decay", 0.0)
    if not wd or card.name in DECOUPLED_DECAY:
        return []
    k = card.k
    return [
        rf"g_{k} = \nabla f(\theta_{{{k}-1}}) + \lambda\,\theta_{{{k}-1}}"
        rf"\quad (\lambda = {_num(wd)},\ \text{{weight decay}})"
    ]


def _lookahead_line(card: Card) -> list[str]:
    """Lookahead around a first-order optimizer (Zhang et al., 2019): every k fast steps the
    slow weights φ move a fraction α towards the fast ones, and the fast ones restart there."""
    sync = card.resolved.get("lookahead_k", 0)
    if not sync:
        return []
    k = card.k
    return [
        rf"\text{{every }}k = {sync}\text{{ steps: }} "
        rf"\phi \leftarrow \phi + \alpha\,(\theta_{k} - \phi),\ "
        rf"\theta_{k} \leftarrow \phi \quad (\phi_0 = \theta_0,\ "
        rf"\alpha = {_num(card.resolved['lookahead_alpha'])},\ \text{{Lookahead; path: }}\theta)"
    ]


def _stop_rule_line(card: Card) -> list[str]:
    """The Polish deck's stop rules: a short step or a low enough loss."""
    rule = card.resolved.get("stop_rule", "none")
    if rule == "step":
        return [
            r"\text{stop when } \lVert \theta_{k+1} - \theta_k \rVert < "
            + _num(card.resolved["step_tol"])
        ]
    if rule == "loss":
        return [r"\text{stop when } f(\theta_k) \le " + _num(card.resolved["target_loss"])]
    return []


# In card order. A wrapper of every optimizer (Lookahead) inserts its line before _stop_rule_line.
TAIL_LINES: list[Callable[[Card], list[str]]] = [
    _schedule_lines,
    _weight_decay_line,
    _lookahead_line,
    _stop_rule_line,
]


def active_options(name: str, resolved: Mapping[str, object]) -> dict[str, str]:
    """The values conditions and macros see: every option printed, plus ``method``."""
    active = {k: as_text(v) for k, v in resolved.items()}
    active["method"] = name
    return active


def rule_lines(name: str, doc: str, resolved: Mapping[str, object]) -> list[str]:
    """The rendered lines of the update-rule block in ``doc`` (``name``'s rule's docstring) for
    the ``resolved`` options."""
    lines = parse(doc)
    if not lines:
        raise LookupError(f"the update rule of {name} has no 'Formula:' block")
    return render(lines, active_options(name, resolved))


def formula(name: str, doc: str, resolved: Mapping[str, object], schedule: object = None) -> str:
    """The LaTeX update rule of ``name`` for its ``resolved`` options, as the run applies it.

    ``doc`` is its update rule's docstring (the catalog, :func:`optviz.optimizers.formula`,
    passes it in; this module knows no catalog). The rule's ``Formula:`` block rendered for the
    options; then the tail lines say what else the run does: η_t in place of η under a
    ``schedule`` (a name or mapping, as :func:`optviz.run` takes it) or AdaGrad's ``lr_decay``,
    the L2 weight-decay term added to the gradient, Lookahead and the stop rule.
    """
    body = rule_lines(name, doc, resolved)
    text = "\n".join(body)
    k = "k" if "_{k+1}" in text or "_k" in text else "t"
    card = Card(name, dict(resolved), schedules.resolve(schedule), k, body)  # type: ignore[arg-type]
    tails: list[str] = []
    for tail in TAIL_LINES:
        tails += tail(card)
    return join(card.lines + tails)
