"""The "Your own f(x, y)" input: a text box for the formula, its plot bounds, and what is wrong.

The text is compiled by :mod:`surfaces.formula` (a whitelist over Python's ``ast``; nothing is
ever evaluated). A formula that does not compile is shown with a caret under the offending token,
and the plot keeps the last formula that worked.

State (``st.session_state``): ``sp.formula.text`` is the text box, ``formula.valid`` the last text
that compiled (what the comparison uses), ``sp.formula.xmin`` … ``sp.formula.ymax`` the bounds
(the same keys as every surface parameter, so the app's generic code reads them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import streamlit as st

import surfaces
from optviz import widget_state as ws
from surfaces import formula

NAME = "formula"
TEXT_KEY = ws.FORMULA_TEXT_KEY
VALID_KEY = ws.FORMULA_VALID_KEY
BOUNDS = ("xmin", "xmax", "ymin", "ymax")  # drawn here, not in the generic parameter list
EXAMPLES = "x^2 + 10*sin(y) · (1-x)^2 + 100*(y-x^2)^2 · x^4 - 2*x^2 + y^2 · log(1 + x^2 + y^2)"


def _bound_key(name: str) -> str:
    return f"sp.{NAME}.{name}"


def current() -> str:
    """The formula the comparison uses: the last text that compiled (the default at first)."""
    return str(st.session_state.get(VALID_KEY, surfaces.FORMULA_DEFAULT))


def write(surface_params: Mapping) -> None:
    """Put a comparison's formula text into the box (a preset or permalink being loaded)."""
    text = str(surface_params.get("formula", surfaces.FORMULA_DEFAULT))
    st.session_state[TEXT_KEY] = text
    st.session_state[VALID_KEY] = text


def described_surface() -> surfaces.Surface:
    """The surface the sidebar describes, for the page title (defaults if the bounds are bad)."""
    ss = st.session_state
    params = {b: ss.get(_bound_key(b), surfaces.spec(NAME).params[b].default) for b in BOUNDS}
    try:
        return surfaces.get(NAME, formula=current(), **params)
    except ValueError:
        return surfaces.get(NAME, formula=current())


def error_text(text: str, error: formula.FormulaError) -> str:
    """The message under the box: what is wrong, and the text with a caret under the token."""
    return f"{error.message}\n\n```text\n{error.pointer(text)}\n```"


def render(on_change: Callable[[], None] | None = None) -> None:
    """The formula box, the message under it when the text does not compile, and the bounds.

    ``on_change`` is called when a bound changes (the app lets a default start follow them).
    """
    ss = st.session_state
    if TEXT_KEY not in ss:
        ss[TEXT_KEY] = current()
    st.text_input(
        "f(x, y) =",
        key=TEXT_KEY,
        max_chars=formula.MAX_LENGTH,
        help=f"Allowed: {formula.ALLOWED_TEXT}. ^ and ** both mean power. Examples: {EXAMPLES}",
    )
    text = ss[TEXT_KEY]
    error = formula.check(text)
    if error is None:
        ss[VALID_KEY] = text
    else:
        st.error(error_text(text, error))
        st.caption(f"The plot keeps the last formula that worked: `{current()}`")
    spec = surfaces.spec(NAME)
    cols = st.columns(2)
    for i, name in enumerate(BOUNDS):
        key = _bound_key(name)
        prm = spec.params[name]
        if key not in ss:
            ss[key] = float(prm.default)
        with cols[i % 2]:
            st.number_input(
                prm.label,
                min_value=float(prm.low),
                max_value=float(prm.high),
                step=0.5,
                format="%g",
                key=key,
                on_change=on_change,
            )
    for lo, hi in (("xmin", "xmax"), ("ymin", "ymax")):
        if not ss[_bound_key(lo)] < ss[_bound_key(hi)]:
            st.error(f"{lo[0]} min must be below {hi[0]} max; the default bounds are used")
