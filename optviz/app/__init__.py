"""The Streamlit layer of optviz: the only package (with :mod:`optviz.race_chart`) that imports
Streamlit.

``app.py`` is the entry point. Each view or page of the app lives in a module of its own here,
with a ``render(...)`` function that takes plain values (a :class:`optviz.config.Comparison`, its
trajectories, the run colours) and draws with Streamlit; the computing and the figures it shows
come from the pure core (:mod:`optviz`, :mod:`optviz.figures`), testable without a browser.
"""
