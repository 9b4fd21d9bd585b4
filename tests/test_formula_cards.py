r"""Formula cards: the ``Formula:`` syntax of optviz.formulas, and every option combination of
every optimizer in the catalog rendered and checked.

The catalog part is driven by ``optimizers.NAMES`` and ``optimizers.CHOICE_OPTIONS``: an
optimizer added to the catalog is covered without touching this file (its rule needs one
``Formula:`` block, and every choice option that changes its run must change its card).
"""

from __future__ import annotations

import itertools
import re

import pytest

import optviz
from optviz import formulas, optimizers
from optviz.formulas import FormulaSyntaxError

# ---- the syntax, on strings -------------------------------------------------------------------

DOC = r"""A rule.

    Formula:
        [accumulator_init=first_grad] m_1 = g_1,\quad
            m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t
        [accumulator_init=zero] m_t \leftarrow \beta_1 m_{t-1}
            + (1-\beta_1)\, g_t
        [bias_correction=on, accumulator_init!=first_grad] \hat m_t = \frac{m_t}{1-\beta_1^t}
        [method=bfgs|dfp] \text{quasi}
        \theta_t \leftarrow \theta_{t-1} - \eta\, \frac{@bc{m_t}}{@den{@bc{v_t}}}

    Notes:
        Not part of the card.
"""


def _active(**kw: object) -> dict[str, str]:
    base = {"accumulator_init": "zero", "bias_correction": True, "eps_placement": "outside"}
    return formulas.active_options("adam", {**base, **kw})


def test_block_lines_conditions_and_continuations():
    lines = formulas.parse(DOC)
    assert len(lines) == 5
    assert lines[0].text == r"m_1 = g_1,\quad m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t"
    assert lines[1].text == r"m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t"
    assert [str(c) for c in lines[2].conditions] == [
        "bias_correction=on",
        "accumulator_init!=first_grad",
    ]
    assert lines[3].conditions[0].values == ("bfgs", "dfp")
    assert lines[4].conditions == ()
    assert "Notes" not in " ".join(line.text for line in lines)


def test_render_picks_lines_and_expands_macros():
    shown = formulas.render(formulas.parse(DOC), _active())
    assert shown == [
        r"m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t",
        r"\hat m_t = \frac{m_t}{1-\beta_1^t}",
        r"\theta_t \leftarrow \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}",
    ]
    first = formulas.render(
        formulas.parse(DOC), _active(accumulator_init="first_grad", eps_placement="inside")
    )
    assert first[0].startswith(r"m_1 = g_1")
    assert first[-1].endswith(r"\frac{\hat m_t}{\sqrt{\hat v_t + \epsilon}}")
    off = formulas.render(formulas.parse(DOC), _active(bias_correction=False))
    assert off[-1].endswith(r"\frac{m_t}{\sqrt{v_t} + \epsilon}") and len(off) == 2


def test_method_condition_and_or_values():
    lines = formulas.parse(DOC)
    assert r"\text{quasi}" in formulas.render(lines, {**_active(), "method": "dfp"})
    assert r"\text{quasi}" not in formulas.render(lines, _active())


def test_if_macro_and_spaces_between_arguments():
    text = r"a @if{centered=on, eps_placement=inside|outside}{X}{Y} b @if{centered=off}{P} {Q}"
    on = formulas.expand(text, {"centered": "on", "eps_placement": "inside"})
    off = formulas.expand(text, {"centered": "off", "eps_placement": "inside"})
    assert on == "a X b Q" and off == "a Y b P"
    # Nested macros, escaped braces left alone.
    assert formulas.expand(r"@if{x=1}{@den{\{a\}}}{}", {"x": "1", "eps_placement": "inside"}) == (
        r"\sqrt{\{a\} + \epsilon}"
    )


def test_numbers_compare_as_numbers():
    (line,) = formulas.parse("Formula:\n    [weight_decay!=0] g + \\lambda\\theta\n")
    assert not line.shown({"weight_decay": "0.0"}) and line.shown({"weight_decay": "0.01"})


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("none", r"\alpha_k = \eta"),
        ("exact", r"\text{the first local minimum of }"),
        ("backtracking", r"\alpha_k = \eta\, 2^{-j}"),
        ("wolfe", r"\le 0.9\, g_k^\top V_k g_k"),
    ],
)
def test_search_macro_follows_line_search(mode, expected):
    assert expected in formulas.expand("@search{V_k g_k}", {"line_search": mode})


@pytest.mark.parametrize(
    "doc, message",
    [
        ("Formula:\n    a\n\nFormula:\n    b\n", "more than one"),
        ("Formula (eps_placement=inside):\n    a\n", "old"),
        ("Formula:\n    [k=v a\n", "unclosed"),
        ("Formula:\n    [k~v] a\n", "bad condition"),
        ("Formula:\n    [k=v]\n", "no LaTeX"),
        ("Formula:\n    a \\\\\n    b\n", "joined for you"),
        ("Formula:\n\n", "empty"),
    ],
)
def test_parse_errors(doc, message):
    with pytest.raises(FormulaSyntaxError, match=message):
        formulas.parse(doc)


@pytest.mark.parametrize(
    "text, active, message",
    [
        ("@nope{x}", {}, "unknown macro"),
        ("@den{x", {"eps_placement": "inside"}, "unbalanced"),
        ("@den x", {"eps_placement": "inside"}, "argument expected"),
        ("@den{x}", {}, "needs the option 'eps_placement'"),
        ("@if{k=1}{a}{b}", {}, "lacks"),
    ],
)
def test_expand_errors(text, active, message):
    with pytest.raises(FormulaSyntaxError, match=message):
        formulas.expand(text, active)


def test_a_doc_without_block_has_no_lines_and_notes_are_one_line():
    assert formulas.parse("No formula here.") == ()
    assert formulas.notes(DOC) == "Not part of the card."


# ---- every option combination of every optimizer -------------------------------------------------


def _choices(name: str) -> list[str]:
    return [o for o in optimizers.get(name).defaults if o in optimizers.CHOICE_OPTIONS]


def _conditions(lines: tuple[formulas.CardLine, ...]) -> list[formulas.Condition]:
    """The conditions of the card lines and of their @if macros."""
    out = [c for line in lines for c in line.conditions]
    for line in lines:
        for arg in re.findall(r"@if\{([^{}]*)\}", line.text):
            out += formulas.parse_conditions(arg)
    return out


def _numeric_variants(name: str) -> list[dict]:
    """Values of the number options the card's conditions test (``[weight_decay!=0]``): the
    default, each value a condition names, and one beside it (twice it, or 0.5 for 0)."""
    opt = optimizers.get(name)
    named: dict[str, set[float]] = {}
    for c in _conditions(formulas.parse(opt.update.__doc__ or "")):
        if c.key in opt.defaults and c.key not in optimizers.CHOICE_OPTIONS:
            named.setdefault(c.key, {float(opt.defaults[c.key])})
            named[c.key] |= {float(v) for v in c.values} | {float(v) * 2 or 0.5 for v in c.values}
    keys = sorted(named)
    cast = {k: int if k in optimizers.INT_OPTIONS else float for k in keys}
    return [
        {k: cast[k](v) for k, v in zip(keys, values, strict=True)}
        for values in itertools.product(*(sorted(named[k]) for k in keys))
    ]


def _combos(name: str) -> list[dict]:
    """Every combination of the choice options ``name`` takes (times the number options its
    card's conditions test) that resolve accepts."""
    keys = _choices(name)
    out = []
    for values in itertools.product(*(optimizers.CHOICE_OPTIONS[k][1] for k in keys)):
        for numbers in _numeric_variants(name):
            combo = {**dict(zip(keys, values, strict=True)), **numbers}
            try:
                optimizers.resolve(name, combo)
            except ValueError:
                continue
            out.append(combo)
    return out


def _card_lines(card: str) -> list[str]:
    body = card.removeprefix("\\begin{gathered}\n").removesuffix("\n\\end{gathered}")
    return body.split(" \\\\\n")


def _assert_katex_safe(card: str) -> None:
    depth = 0
    for tok in re.findall(r"\\[{}]|[{}]", card):
        if tok in "{}":
            depth += 1 if tok == "{" else -1
            assert depth >= 0, card
    assert depth == 0, card
    assert len(re.findall(r"\\left\b", card)) == len(re.findall(r"\\right\b", card)), card
    assert card.count(r"\begin{") == card.count(r"\end{"), card
    assert "@" not in card, card  # no macro left
    assert not re.search(r"\[\s*\w+\s*!?=", card), card  # no condition left
    assert not re.search(r"\\\\\s*\\\\", card), card  # no empty line
    assert all(line.strip() for line in _card_lines(card)), card


@pytest.mark.parametrize("name", optimizers.NAMES)
def test_every_combination_renders_with_its_lines(name):
    lines = formulas.parse(optimizers.get(name).update.__doc__ or "")
    assert lines, f"{name}: its update rule has no 'Formula:' block"
    for combo in _combos(name):
        card = optimizers.formula(name, **combo)
        _assert_katex_safe(card)
        shown = _card_lines(card)
        active = formulas.active_options(name, optimizers.resolve(name, combo))
        for line in lines:
            text = formulas.expand(line.text, active)
            if line.shown(active):
                assert text in shown, (combo, text)
            elif line.conditions:
                assert text not in shown, (combo, text)


@pytest.mark.parametrize("name", optimizers.NAMES)
def test_every_line_shows_in_some_combination(name):
    rule = optimizers.get(name).update
    lines = formulas.parse(rule.__doc__ or "")
    sharing = [n for n in optimizers.NAMES if optimizers.get(n).update is rule]  # BFGS and DFP
    dead = [
        line.text
        for line in lines
        if not any(
            line.shown(formulas.active_options(n, optimizers.resolve(n, combo)))
            for n in sharing
            for combo in _combos(n)
        )
    ]
    assert not dead, f"{name}: lines no combination shows: {dead}"


@pytest.mark.parametrize("name", optimizers.NAMES)
def test_conditions_name_real_options_and_values(name):
    opt = optimizers.get(name)
    lines = formulas.parse(opt.update.__doc__ or "")
    conds = _conditions(lines)
    methods = {n for n in optimizers.NAMES if optimizers.get(n).update is opt.update}
    for c in conds:
        if c.key == "method":
            allowed = methods
        else:
            assert c.key in opt.defaults, f"{name}: condition on {c.key!r}, not an option of it"
            if c.key not in optimizers.CHOICE_OPTIONS:
                continue  # a number
            allowed = {formulas.as_text(v) for v in optimizers.CHOICE_OPTIONS[c.key][1]}
        assert set(c.values) <= allowed, f"{name}: {c} (values: {sorted(allowed)})"


@pytest.mark.parametrize("name", optimizers.NAMES)
def test_an_option_that_changes_the_run_changes_the_card(name):
    for combo in _combos(name):
        card = optimizers.formula(name, **combo)
        resolved = optimizers.resolve(name, combo)
        for option in _choices(name):
            if option in optimizers.inactive(name, resolved):
                continue
            for value in optimizers.CHOICE_OPTIONS[option][1]:
                if value == combo[option]:
                    continue
                other = {**combo, option: value}
                try:
                    optimizers.resolve(name, other)
                except ValueError:
                    continue
                assert optimizers.formula(name, **other) != card, (name, combo, option, value)


def test_the_catalog_is_covered():
    # Every optimizer of the catalog is a parameter above; the ones the app had before issue 9.
    assert {"gd", "momentum", "rmsprop", "adam", "nadam", "bfgs", "dfp"} <= set(optimizers.NAMES)
    assert optviz.formula is optimizers.formula


# ---- known combinations, from the lectures ------------------------------------------------------


def test_rmsprop_centered_with_first_grad_start_keeps_v1_equal_g1_squared():
    # Issue 9: the first matching block dropped v_1 = g_1² although the kernel applies it.
    # Hung-yi Lee (004): "\sigma_i^0 = \sqrt{(g_i^0)^2}", i.e. v starts at g².
    card = optimizers.formula("rmsprop", centered=True, accumulator_init="first_grad")
    assert r"v_1 = g_1^2" in card and r"\bar g_t \leftarrow" in card
    assert r"\sqrt{v_t - \bar g_t^2} + \epsilon" in card
    inside = optimizers.formula(
        "rmsprop", centered=True, accumulator_init="first_grad", eps_placement="inside"
    )
    assert r"\sqrt{v_t - \bar g_t^2 + \epsilon}" in inside and r"v_1 = g_1^2" in inside
    assert r"v_1 = g_1^2" not in optimizers.formula("rmsprop", centered=True)
    assert r"\bar g" not in optimizers.formula("rmsprop", accumulator_init="first_grad")


def test_momentum_forms():
    # CS231n (002): "v_{t+1} = \rho v_t + \nabla f(x_t)" — torch's buffer (dampening τ).
    torch = optimizers.formula("momentum")
    assert r"v_t \leftarrow \beta_1 v_{t-1} + (1-\tau)\, g_t" in torch
    assert r"\theta_t \leftarrow \theta_{t-1} - \eta\, v_t" in torch
    # Mini-batch deck (001): V_dW = β V_dW + (1 − β) dW from 0, optionally bias-corrected.
    ema = optimizers.formula("momentum", momentum_form="ema")
    assert r"(1-\beta_1)\, g_t \quad (v_0 = 0)" in ema and r"1-\beta_1^t" not in ema
    ema_bc = optimizers.formula("momentum", momentum_form="ema", bias_correction=True)
    assert r"\frac{\eta}{1-\beta_1^t}\, v_t" in ema_bc
    # bias_correction acts in the EMA form only (inactive elsewhere): torch's card ignores it.
    assert optimizers.formula("momentum", bias_correction=True) == torch
    # Polish deck (003): "m \leftarrow \beta m - \eta \cdot \nabla E(w)" — η inside the buffer.
    inside = optimizers.formula("momentum", momentum_form="lr_inside")
    assert r"v_t \leftarrow \beta_1 v_{t-1} + \eta\, g_t" in inside
    assert r"\theta_t \leftarrow \theta_{t-1} - v_t" in inside
    # Hung-yi Lee (004): "m_i^t = g_i^0 + g_i^1 + g_i^2 + \dots + g_i^t".
    total = optimizers.formula("momentum", momentum_form="sum")
    assert r"m_t = g_1 + g_2 + \dots + g_t" in total and r"\eta\, m_t" in total


@pytest.mark.parametrize(
    "eps_placement, bias_correction, last",
    [
        # Adam deck (000) and CS231n (002): \hat m_t / (\sqrt{\hat v_t} + ε), torch's default.
        ("outside", True, r"\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}"),
        # Polish deck (003): "\eta \hat{m} \div \sqrt{\hat{s} + \varepsilon}"; mini-batch deck
        # (001): "V_{dW}' / \sqrt{S_{dW}' + \epsilon}".
        ("inside", True, r"\frac{\hat m_t}{\sqrt{\hat v_t + \epsilon}}"),
        # CS231n's "Adam (almost)": no bias correction.
        ("outside", False, r"\frac{m_t}{\sqrt{v_t} + \epsilon}"),
        ("inside", False, r"\frac{m_t}{\sqrt{v_t + \epsilon}}"),
    ],
)
def test_adam_eps_placement_times_bias_correction(eps_placement, bias_correction, last):
    card = optimizers.formula("adam", eps_placement=eps_placement, bias_correction=bias_correction)
    assert _card_lines(card)[-1] == r"\theta_t \leftarrow \theta_{t-1} - \eta\, " + last
    assert (r"\hat m_t = \frac{m_t}{1-\beta_1^t}" in card) == bias_correction
    for name in ("adamw", "amsgrad"):  # the same two options, the same two ε forms
        other = optimizers.formula(
            name, eps_placement=eps_placement, bias_correction=bias_correction
        )
        assert (r"} + \epsilon" in other) == (eps_placement == "outside")
        assert (r"\hat" in other or r"1-\beta_1^t" in other) == bias_correction


def test_adam_first_grad_is_hung_yi_lees_form():
    # Hung-yi Lee (004): m⁰ = g⁰, σ⁰ = |g⁰|, θ ← θ − η/σ · m; no bias correction.
    card = optimizers.formula("adam", accumulator_init="first_grad")
    assert r"m_1 = g_1" in card and r"\sigma_1 = |g_1|" in card
    assert r"\frac{\eta}{\sigma_t + \epsilon}\, m_t" in card and r"\hat" not in card
    inside = optimizers.formula("adam", accumulator_init="first_grad", eps_placement="inside")
    assert r"\sqrt{\sigma_t^2 + \epsilon}" in inside


def test_nadam_schedules():
    # torch.optim.NAdam: μ_t = β₁(1 − ½·0.96^{tψ}), with the products of μ in the step.
    torch = optimizers.formula("nadam")
    assert r"\mu_t = \beta_1\left(1 - \tfrac12\, 0.96^{t\psi}\right)" in torch
    assert r"\prod_{i\le t+1}\mu_i" in torch
    # Dozat's constant μ = β₁: no μ_t at all.
    const = optimizers.formula("nadam", nadam_schedule="constant")
    assert r"\mu" not in const and r"\frac{\beta_1\, m_t}{1-\beta_1^{t+1}}" in const
    assert r"\sqrt{v_t/(1-\beta_2^t)} + \epsilon" in const
    inside = optimizers.formula("nadam", nadam_schedule="constant", eps_placement="inside")
    assert r"\sqrt{v_t/(1-\beta_2^t) + \epsilon}" in inside


def test_bfgs_and_dfp_share_one_block_and_say_their_line_search():
    bfgs, dfp = optimizers.formula("bfgs"), optimizers.formula("dfp")
    assert optimizers.get("bfgs").update is optimizers.get("dfp").update
    assert r"\left[1 + \frac{r_k^\top V_{k-1} r_k}{s_k^\top r_k}\right]" in bfgs
    assert r"\left[" not in dfp and r"r_k^\top V_{k-1} r_k}" in dfp
    # The Polish deck's directional minimisation is the default (exact search).
    assert "first local minimum" in bfgs and "first local minimum" in dfp
    assert r"\alpha_k = \eta" in optimizers.formula("bfgs", line_search="none")
    assert r"0.9" in optimizers.formula("lbfgs")  # strong Wolfe by default


# ---- tail lines ---------------------------------------------------------------------------------


def test_tail_lines_hook_puts_a_wrapper_line_before_the_stop_rule(monkeypatch):
    def wrapper(card: formulas.Card) -> list[str]:
        return [rf"\text{{wrapped}}_{card.k}"]

    tails = list(formulas.TAIL_LINES)
    tails.insert(tails.index(formulas._stop_rule_line), wrapper)
    monkeypatch.setattr(formulas, "TAIL_LINES", tails)
    lines = _card_lines(optimizers.formula("gd", stop_rule="loss", target_loss=0.5))
    assert lines[-2:] == [r"\text{wrapped}_t", r"\text{stop when } f(\theta_k) \le 0.5"]


def test_scheduled_card_uses_eta_t_in_every_rule_line():
    card = optimizers.formula("adamw", schedule="step")
    lines = _card_lines(card)
    assert r"(1-\eta_t\lambda)" in lines[0] and r"- \eta_t\," in lines[-2]
    assert lines[-1].startswith(r"\eta_t = \eta_0")
