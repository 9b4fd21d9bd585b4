r"""Formula cards: the ``Formula:`` syntax of optviz.formulas, and every option combination of
every optimizer in the catalog rendered and checked.

The catalog part is driven by ``optimizers.NAMES`` and ``optimizers.CHOICE_OPTIONS``: an
optimizer added to the catalog is covered without touching this file (its rule needs one
``Formula:`` block, and every choice option that changes its run must change its card).
"""

from __future__ import annotations

import pytest

from optviz import formulas
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
