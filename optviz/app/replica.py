"""Which server process a session lives on, when a class is served by several replicas.

``deploy/class.py`` starts each replica with ``OPTVIZ_REPLICA`` set to its address; the page
then carries it in a hidden element (``data-testid="optviz-replica"``), so a test or a person
with the browser's inspector can see that nginx kept a session on one replica. Without the
variable (``make run``) nothing is drawn.
"""

from __future__ import annotations

import html
import os

import streamlit as st

ENV = "OPTVIZ_REPLICA"


def render() -> None:
    """The replica's name in a hidden element at the end of the sidebar (nothing if unset)."""
    name = os.environ.get(ENV)
    if name:
        with st.sidebar:
            st.html(f'<span data-testid="optviz-replica" hidden>{html.escape(name)}</span>')
