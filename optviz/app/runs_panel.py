"""The optimizers panel beside the race: one button per run in the run's colour, and the chosen
run's optimizer, hyperparameters, convention options and learning-rate schedule.

Every widget comes from the catalog's data (:func:`optviz.widget_state.option_widget`), so an
optimizer or option added to :mod:`optviz.optimizers` (with its words in :mod:`optviz.labels`)
appears here with no code of its own.
"""

from __future__ import annotations

import streamlit as st

from optviz import comparison, config, labels, optimizers, schedules, style
from optviz import widget_state as ws
from optviz.app import lr_notes, session, widgets

# Short names on the run buttons where the title is long; others show their title.
SHORT_NAMES = {"gd": "GD", "nesterov": "Nesterov", "newton": "Newton", "levenberg_marquardt": "LM"}
SHORT_NAMES |= {"steepest_descent": "Line search"}


def run_name(i: int) -> str:
    """Run slot i on its button: its number and a short optimizer name."""
    name = st.session_state[f"o{i}.opt"]
    return f"{i + 1} · {SHORT_NAMES.get(name, optimizers.get(name).title)}"


def idle_options(i: int, opt: optimizers.Optimizer) -> frozenset[str]:
    """The options of run slot i that change nothing with its other options (not drawn)."""
    ss = st.session_state
    current = {n: ss.get(f"o{i}.{n}", d) for n, d in opt.defaults.items()}
    try:
        return optimizers.inactive(opt.name, optimizers.resolve(opt.name, current))
    except ValueError:
        return frozenset()


def _option_widgets(i: int, opt: optimizers.Optimizer, names: tuple[str, ...]) -> None:
    ss = st.session_state
    idle = idle_options(i, opt)
    for name in (n for n in names if n not in idle):
        key = f"o{i}.{name}"
        if key not in ss:
            ss[key] = opt.defaults[name]
        widgets.option(key, name)


def schedule_ui(i: int) -> None:
    """Run slot i's learning-rate schedule and its parameters."""
    ss = st.session_state
    key = f"o{i}.sched"
    if key not in ss:
        ss[key] = "constant"
    st.selectbox(
        "learning-rate schedule η_t", schedules.NAMES, key=key, format_func=labels.schedule
    )
    sched = schedules.get(ss[key])
    if sched.name == "constant":
        return
    st.latex(sched.latex)
    for pname, (default, low, high) in sched.params.items():
        pkey = f"o{i}.sched.{sched.name}.{pname}"
        label = labels.schedule_param(sched.name, pname)
        if isinstance(default, tuple):
            if pkey not in ss:
                ss[pkey] = ", ".join(f"{v:g}" for v in default)
            st.text_input(label, key=pkey)
        else:
            if pkey not in ss:
                ss[pkey] = float(default)
            step = ws.number_step(0.0, max(default, 1.0))
            widgets.number(pkey, label, low, min(high, 1e9), False, step)


def run_ui(i: int, link: bool) -> None:
    """Run slot i's controls: optimizer, its hyperparameters, options and schedule."""
    ss = st.session_state
    opt = optimizers.get(ss[f"o{i}.opt"])
    st.selectbox(
        "optimizer",
        optimizers.NAMES,
        key=f"o{i}.opt",
        format_func=lambda n: optimizers.get(n).title,
        on_change=session.on_optimizer,
        args=(i,),
    )
    if not link:
        lr_notes.optimizer_note(i)
        _option_widgets(i, opt, opt.hyperparameters)
    _option_widgets(i, opt, opt.options)
    schedule_ui(i)
    if ss["n_runs"] > 1:
        st.button("Remove this run", key=f"o{i}.remove", on_click=session.on_remove, args=(i,))


def linked_ui() -> None:
    """One set of hyperparameter sliders for every run (each uses those it has)."""
    ss = st.session_state
    used = {h for i in range(ss["n_runs"]) for h in optimizers.get(ss[f"o{i}.opt"]).hyperparameters}
    st.caption("One set of sliders for every run (each uses those it has).")
    for h in optimizers.HYPERPARAMETERS:
        if h in used:
            key = f"link.{h}"
            if key not in ss:
                ss[key] = comparison.fallback_value(h)
            widgets.option(key, h)


def colour_css(projection: bool) -> str:
    """Each run slot's button in the optimizers panel in that run's colour."""
    selector = f".st-key-{session.RUN_KEY} button"
    rules = [
        f"{selector}:nth-of-type({i + 1}) p {{ color: {color} !important; font-weight: 700; }}\n"
        f"{selector}:nth-of-type({i + 1}) {{ border-bottom: 4px solid {color} !important; }}"
        for i, color in enumerate(style.run_colors(config.MAX_RUNS, projection))
    ]
    return "<style>\n" + "\n".join(rules) + "\n</style>"


def render() -> None:
    """The optimizers panel: one button per run, the chosen run's controls."""
    ss = st.session_state
    st.markdown("**Optimizers**")
    st.toggle("Link hyperparameters", key="link", on_change=session.on_link)
    link = bool(ss.get("link"))
    if link:
        linked_ui()
    slots = list(range(ss["n_runs"]))
    if ss.get(session.RUN_KEY) not in slots:
        ss[session.RUN_KEY] = 0
    names = {i: run_name(i) for i in slots}  # format_func must not read the session state
    shown = st.segmented_control(
        "Run", slots, key=session.RUN_KEY, format_func=names.__getitem__, required=True,
        label_visibility="collapsed", wrap=True,
    )  # fmt: skip
    run_ui(shown, link)
    st.button(
        "+ Add optimizer",
        on_click=session.on_add,
        disabled=ss["n_runs"] >= config.MAX_RUNS,
        key="add_run",
    )
