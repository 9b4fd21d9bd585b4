"""The Export view: render the comparison on screen to a file of any format in
:data:`optviz.export.FORMATS` (the table the command line reads too), and offer it for download
only while it still shows what the screen shows."""

from __future__ import annotations

import streamlit as st

from optviz import comparison, export, export_queue
from optviz.config import Comparison

TAILS = {"full": "whole path", "fade": "fading tail"}  # words for export.TAILS


@st.fragment
def render(c: Comparison, trajs: list) -> None:
    """Render the current comparison to a file; a fragment, so rendering reruns only this."""
    formats = export.FORMATS
    cols = st.columns(4)
    fmt = cols[0].selectbox(
        "Format", list(formats), key="ex.format", format_func=lambda n: formats[n].label
    )
    size = cols[1].selectbox(
        "Size", tuple(export.SIZE_PRESETS), key="ex.size", format_func=lambda s: s.replace("x", "×")
    )
    fps = cols[2].number_input("Frames per second", 1, 60, 20, key="ex.fps")
    frames = cols[3].number_input("Frames", 2, 1000, 150, key="ex.frames")
    cols = st.columns(5)
    loop = cols[0].number_input("Loop (0 = forever)", 0, 1000, 0, key="ex.loop")
    hold = cols[1].number_input("Hold last frame (s)", 0.0, 60.0, 1.0, 0.5, key="ex.hold")
    tail = cols[2].selectbox(
        "Paths", export.TAILS, key="ex.tail", format_func=lambda t: TAILS.get(t, t)
    )
    only = cols[3].toggle("Trajectory only", key="ex.only")
    proj = cols[4].toggle("Projection styling", value=c.projection, key="ex.proj")
    label = formats[fmt].label
    # A rendered file is offered only while it shows what the screen shows with these options.
    what = (comparison.query_key(c), fmt, size, int(fps), int(frames), int(loop), float(hold))
    what += (tail, bool(only), bool(proj))
    stored = st.session_state.get("ex.data")
    if stored is not None and stored[3] != what:
        del st.session_state["ex.data"]
        st.caption("The comparison or the export options changed since the last render.")
    if st.button("Render", type="primary", key="ex.render"):
        width, height = export.SIZE_PRESETS[size]
        bar = st.progress(0.0, text=f"Rendering {label}…")
        try:
            opts = export.ExportOptions(
                width=width,
                height=height,
                fps=int(fps),
                frames=int(frames),
                loop=int(loop),
                hold_last=float(hold),
                projection=bool(proj),
                trajectory_only=bool(only),
                tail=tail,
            )
            export.check(fmt, opts)
            data = export_queue.run(  # a few renders at a time per server; others wait in line
                export_queue.shared(),
                lambda report: export.export(c, trajs, fmt, opts, report),
                lambda text, f: bar.progress(min(max(f, 0.0), 1.0), text=f"{label}: {text}"),
            )
            data = data.encode() if isinstance(data, str) else data
        except (ValueError, export_queue.QueueFull) as e:
            bar.empty()
            st.error(f"Export failed: {e}")
            return
        bar.progress(1.0, text=f"{label} ready: {len(data) / 1e6:.2f} MB")
        st.session_state["ex.data"] = (data, export.file_name(c, fmt), formats[fmt].mime, what)
    if "ex.data" in st.session_state:
        data, file_name, mime, _ = st.session_state["ex.data"]
        st.download_button(f"Download {file_name}", data, file_name, mime, key="ex.download")
