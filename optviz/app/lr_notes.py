"""The η notes and the batch-size slider of the app's controls.

Switching a run's optimizer resets its η to that optimizer's default, and switching the surface
keeps every run's η (GD's 0.038 from the ravine diverges at step 3 on Rosenbrock). The app's
callbacks leave a note in ``st.session_state["lr_note"]``; these functions show it beside the
widget that caused it, with one-click offers (the tuned η of :mod:`optviz.tuned`, or the η the
run had). A note disappears by itself once η or the optimizer changes.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

import surfaces
from optviz import labels, tuned

# Mini-batch sizes on the batch slider: 1, 2, 5 × 10ᵏ below n; its last stop is B = n (GD).
BATCH_STOPS = tuple(m * 10**k for k in range(5) for m in (1, 2, 5))


def slot_lrs() -> tuple:
    """(optimizer, η) of every run slot: a note is current while these stay the same."""
    ss = st.session_state
    return tuple((ss.get(f"o{i}.opt"), ss.get(f"o{i}.lr")) for i in range(ss["n_runs"]))


def on_set_lr(updates: dict) -> None:
    """One click on a note's offer: set those slots' η (and drop the note)."""
    ss = st.session_state
    for i, lr in updates.items():
        ss[f"o{i}.lr"] = lr
    ss.pop("lr_note", None)


def surface_note(surface: str) -> None:
    """After a surface switch: the runs kept their η; offer the tuned ones in one click."""
    ss = st.session_state
    note = ss.get("lr_note")
    if not note or note["kind"] != "surface" or note["surface"] != surface or ss.get("link"):
        return
    if note["runs"] != slot_lrs():
        return  # η or an optimizer changed since: the note is out of date
    offer = {}
    for i, (name, lr) in enumerate(note["runs"]):
        good = tuned.lr_for(surface, name)
        if good is not None and good != lr:
            offer[i] = good
    if not offer:
        return
    runs = ", ".join(f"run {i + 1}: {labels.number(lr)}" for i, lr in offer.items())
    st.caption(f"The runs kept their η from the previous surface. Tuned here: {runs}.")
    st.button("Use the tuned η", key="lr_note.surface", on_click=on_set_lr, args=(offer,))


def optimizer_note(i: int) -> None:
    """After an optimizer switch in slot i: say that η was reset, offer the tuned η for this
    surface and the η the run had, one click each."""
    ss = st.session_state
    note = ss.get("lr_note")
    if not note or note["kind"] != "optimizer" or note["slot"] != i:
        return
    name = ss[f"o{i}.opt"]
    if note["optimizer"] != name or ss.get(f"o{i}.lr") != note["lr"]:
        return
    title = labels.optimizer(name)
    old, lr = note["old_lr"], note["lr"]
    good = tuned.lr_for(ss["surface"], name)
    text = f"η reset to {title}'s default {labels.number(lr)}"
    st.caption(text + (f" (was {labels.number(old)})." if old is not None and old != lr else "."))
    if good is not None and good != lr:
        st.button(
            f"Use the tuned η = {labels.number(good)}", key="lr_note.tuned", on_click=on_set_lr,
            args=({i: good},), help="The best η for this surface, found by running (optviz.tuned)",
        )  # fmt: skip
    if old is not None and old != lr and old != good:
        st.button(
            f"Keep η = {labels.number(old)}", key="lr_note.keep", on_click=on_set_lr,
            args=({i: old},),
        )  # fmt: skip


def batch_slider(surface: str, key: str, on_change: Callable[[], None] | None = None) -> None:
    """Mini-batch size B as a slider over 1 … n in log steps; the last stop, B = n, is GD."""
    ss = st.session_state
    n = int(ss.get(f"sp.{surface}.n", surfaces.all_params(surfaces.spec(surface))["n"].default))
    current = int(ss[key])
    values = [b for b in BATCH_STOPS if b < n] + [0]  # 0 is the catalog's "all n"
    if current not in values:
        values = sorted(v for v in {*values, current} if v) + [0]

    def fmt(b: int) -> str:
        if b == 0 or b >= n:
            return f"full batch (GD), B = n = {n}"
        return "B = 1 (SGD)" if b == 1 else f"B = {b}"

    st.select_slider(
        labels.surface_param(surface, "batch_size"), options=values, key=key, format_func=fmt,
        on_change=on_change,
    )  # fmt: skip
