"""Lesson mode: predict, then reveal.

With the sidebar's "Lesson mode" on, the race shows only the surface and the start
(:func:`optviz.figures.race_start_only`) and the preset's question (:class:`optviz.presets.
Question`) is asked above it, large in projection mode, until the lecturer presses Reveal; then
the race is exactly the one without lesson mode, and the answer is marked. The views below the
race, the preset's paragraph and anything else that would give the answer away wait too.

State: ``lesson`` (the toggle), ``question`` (the preset whose question is asked; both are in
the permalink, :mod:`optviz.config`), ``lesson.revealed`` (which question was revealed: a new
preset is hidden again).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import replace

import streamlit as st

from optviz import figures, presets
from optviz.config import Comparison

LESSON_KEY = "lesson"
QUESTION_KEY = "question"
REVEALED_KEY = "lesson.revealed"
RERUN_KEY = "lesson.rerun"
LETTERS = "ABCDEFGH"

CSS = """
<style>
.stMarkdown p.lesson-q {
  font-size: %(q)s !important; font-weight: 700; line-height: 1.25; margin: 0.2rem 0 0.4rem 0;
}
.stMarkdown p.lesson-c { font-size: %(c)s !important; line-height: 1.4; margin: 0 0 0.3rem 0; }
.lesson-c span { margin-right: 1.6em; white-space: nowrap; display: inline-block; }
.lesson-c .right { color: #007a55; font-weight: 700; }
.stMarkdown p.lesson-runs { font-size: %(r)s !important; margin: 0 0 0.3rem 0; }
.st-key-lesson_reveal button p, .st-key-lesson_hide button p { font-size: %(c)s !important; }
.lesson-runs span { font-weight: 700; margin-right: 1.1em; white-space: nowrap; }
@media (max-width: 1500px) {
  .stMarkdown p.lesson-q { font-size: %(q_small)s !important; }
  .stMarkdown p.lesson-c, .st-key-lesson_reveal button p, .st-key-lesson_hide button p {
    font-size: %(c_small)s !important;
  }
}
</style>
"""
SIZES = {
    False: {"q": "1.5rem", "c": "1.2rem", "r": "1rem", "q_small": "1.35rem", "c_small": "1.1rem"},
    True: {"q": "2.6rem", "c": "2rem", "r": "1.45rem", "q_small": "2.1rem", "c_small": "1.6rem"},
}


def question() -> presets.Question | None:
    """The question asked now (None without one)."""
    name = st.session_state.get(QUESTION_KEY)
    return presets.QUESTIONS.get(name) if isinstance(name, str) else None


def question_for(preset: str) -> str | None:
    """What ``QUESTION_KEY`` becomes when ``preset`` is loaded: its name if it asks."""
    return preset if preset in presets.QUESTIONS else None


def _round() -> tuple[str, str]:
    """What a reveal is for: the question and the loaded preset (a new one hides again)."""
    ss = st.session_state
    return (str(ss.get(QUESTION_KEY) or ""), str(ss.get("loaded_preset") or ""))


def hidden() -> bool:
    """Whether the runs are hidden now: lesson mode is on and this round is not revealed."""
    ss = st.session_state
    return bool(ss.get(LESSON_KEY)) and ss.get(REVEALED_KEY) != _round()


def write(c: Comparison) -> None:
    """Lesson mode and the question of ``c`` into the session (with the app's ``write_state``)."""
    st.session_state[LESSON_KEY] = bool(c.lesson)
    st.session_state[QUESTION_KEY] = c.question if c.question in presets.QUESTIONS else None


def read(c: Comparison) -> Comparison:
    """``c`` with the session's lesson mode and question (for the app's ``read_state``)."""
    ss = st.session_state
    name = ss.get(QUESTION_KEY)
    return replace(
        c,
        lesson=bool(ss.get(LESSON_KEY, False)),
        question=name if name in presets.QUESTIONS else None,
    )


def toggle() -> None:
    """The sidebar's lesson-mode switch."""
    st.toggle("Lesson mode: predict, then reveal", key=LESSON_KEY)


def preset_titles() -> dict[str, str]:
    """The presets' names as the preset box shows them: in lesson mode, a preset that asks a
    question is named by its question's title, which does not give the answer away."""
    lesson = bool(st.session_state.get(LESSON_KEY))
    return {
        name: p.question.title if lesson and p.question else p.title
        for name, p in presets.PRESETS.items()
    }


def shown_figure(figure: dict, comparison: Comparison) -> dict:
    """The race figure to send: only the start while hidden, else ``figure`` unchanged."""
    return figures.race_start_only(figure, comparison.steps) if hidden() else figure


def _reveal(on: bool) -> None:
    ss = st.session_state
    ss[REVEALED_KEY] = _round() if on else None
    ss[RERUN_KEY] = True  # the title and the views outside this fragment follow


def _choices_html(q: presets.Question, revealed: bool) -> str:
    """The choices on one line (they wrap), the right one marked once revealed."""
    items = []
    for i, choice in enumerate(q.choices):
        right = revealed and i == q.answer
        text = f"<b>{LETTERS[i]}.</b> {html.escape(choice)}" + (" ✓" if right else "")
        items.append(f'<span class="right">{text}</span>' if right else f"<span>{text}</span>")
    return f'<p class="lesson-c">{"".join(items)}</p>'


def render(
    comparison: Comparison, labels: Sequence[str], colors: Sequence[str], projection: bool
) -> None:
    """The question box above the race: always one element, empty outside lesson mode (so the
    race keeps its place in the page)."""
    ss = st.session_state
    if ss.pop(RERUN_KEY, False):
        st.rerun()
    box = st.container()
    if not comparison.lesson:
        return
    revealed = not hidden()
    q = question()
    with box:
        st.markdown(CSS % SIZES[projection], unsafe_allow_html=True)
        if q is None:
            prompt = "Predict: where will each run go, and which one gets there first?"
            st.markdown(f'<p class="lesson-q">{html.escape(prompt)}</p>', unsafe_allow_html=True)
        else:
            st.markdown(
                f'<p class="lesson-q">{html.escape(q.text)}</p>' + _choices_html(q, revealed),
                unsafe_allow_html=True,
            )
        text, button = st.columns([3, 1], vertical_alignment="center")
        if revealed:
            if q is not None:  # the legend names the runs now; the chart keeps the screen
                with text.expander(f"Why {LETTERS[q.answer]}?  (and the lecture's line)"):
                    st.markdown(f"**{LETTERS[q.answer]}.** {q.explanation}")
                    st.caption(f"From the lecture: {q.source}")
            button.button("Hide", key="lesson_hide", on_click=_reveal, args=(False,),
                          help="Hide the runs again")  # fmt: skip
        else:
            runs = "".join(
                f'<span style="color:{c}">● {html.escape(label)}</span>'
                for label, c in zip(labels, colors, strict=True)
            )
            text.markdown(f'<p class="lesson-runs">{runs}</p>', unsafe_allow_html=True)
            button.button("Reveal", key="lesson_reveal", type="primary", on_click=_reveal,
                          args=(True,), width="stretch")  # fmt: skip
