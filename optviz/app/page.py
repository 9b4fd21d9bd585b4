"""The page around the race: styles for normal and projection mode, loading the kernels once
per server, and the garbage collector's start-up freeze."""

from __future__ import annotations

import gc

import streamlit as st

import optviz

# Projection mode: the race fills the window; the sidebar and the optimizers panel become
# drawers over the page (a slim labelled strip at each edge that opens on hover or keyboard
# focus), so opening one never resizes the race.
PROJECTION_CSS = """
<style>
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stSidebarCollapseButton"], [data-testid="stExpandSidebarButton"],
[data-testid="stSidebarCollapsedControl"], [data-testid="stStatusWidget"], footer {
  display: none !important;
}
.block-container { padding: 0.3rem 34px 0.5rem 34px !important; max-width: none !important; }
section[data-testid="stSidebar"] {
  position: fixed !important; left: 0; top: 0; bottom: 0; height: 100vh !important;
  z-index: 999990; width: 420px !important; min-width: 420px !important;
  max-width: 90vw !important; transform: translateX(calc(-100% + 26px)) !important;
  transition: transform 0.15s; box-shadow: 2px 0 14px rgba(0, 0, 0, 0.3);
}
section[data-testid="stSidebar"]:hover, section[data-testid="stSidebar"]:focus-within {
  transform: none !important;
}
section[data-testid="stSidebar"]::after {
  content: "settings ⚙"; position: absolute; right: 0; top: 0; bottom: 0; width: 26px;
  writing-mode: vertical-rl; text-align: center; font: 600 15px Arial, sans-serif;
  color: #333; background: #e8e8e8; padding-top: 40vh; pointer-events: none;
}
section[data-testid="stSidebar"]:hover::after,
section[data-testid="stSidebar"]:focus-within::after { display: none; }
[data-testid="stColumn"]:has(.st-key-runs_panel) {
  flex: 0 0 0px !important; width: 0 !important; min-width: 0 !important;
}
.st-key-runs_panel {
  position: fixed !important; right: 0; top: 0; bottom: 0; width: 420px !important;
  max-width: 90vw; z-index: 999989; background: white; overflow-y: auto;
  padding: 1rem 1rem 1rem 40px; transform: translateX(calc(100% - 26px));
  transition: transform 0.15s; box-shadow: -2px 0 14px rgba(0, 0, 0, 0.3);
}
.st-key-runs_panel:hover, .st-key-runs_panel:focus-within { transform: none; }
.st-key-runs_panel::before {
  content: "optimizers ⚙"; position: absolute; left: 0; top: 0; bottom: 0; width: 26px;
  writing-mode: vertical-rl; text-align: center; font: 600 15px Arial, sans-serif;
  color: #333; background: #e8e8e8; padding-top: 40vh; z-index: 1;
}
.stApp, .stMarkdown p, .stMarkdown li, .stCaption, label { font-size: 1.3rem !important; }
[data-testid="stSidebar"] label p, [data-testid="stSidebar"] .stMarkdown p,
.st-key-runs_panel label p, .st-key-runs_panel .stMarkdown p,
[data-testid="stButtonGroup"] button p { font-size: 1.15rem !important; }
</style>
"""
NORMAL_CSS = """
<style>
.block-container { padding: 1.2rem 1.5rem 1rem 1.5rem !important; max-width: none !important; }
section[data-testid="stSidebar"] { width: 340px !important; }
@media (max-width: 1500px) { section[data-testid="stSidebar"] { width: 270px !important; } }
.st-key-app_header p { margin: 0 0 0.1rem 0; line-height: 1.3; }
.st-key-app_header h1 { font-size: 1.5rem !important; padding: 0 !important; margin: 0; }
</style>
"""


@st.cache_resource(max_entries=1, show_spinner="Loading the compiled optimizer kernels…")
def warm_up() -> bool:
    """Load (or compile) every kernel once per server, before the first interaction."""
    optviz.warm()
    return True


@st.cache_resource(max_entries=1, show_spinner=False)
def freeze_start_up_heap() -> bool:
    """Take what starting up allocated out of the garbage collector's sight, once per server.

    The modules, compiled kernels and the first page make a large heap; a full collection of
    it took 150–200 ms and came about once per slider move, stalling the reply by as much.
    Frozen, those objects are never scanned again; newer ones are collected as usual.
    """
    gc.freeze()
    return True
