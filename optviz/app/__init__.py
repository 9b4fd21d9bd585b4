"""The Streamlit layer of optviz: the only package (with :mod:`optviz.race_chart`) that imports
Streamlit (``tests/test_imports.py`` checks it).

``app.py`` is the entry point and lays the page out from these parts:

- :mod:`~optviz.app.session`: the widget keys in the session state, read and written through the
  one codec (:mod:`optviz.widget_state`), the callbacks, the permalink in the URL;
- :mod:`~optviz.app.sidebar`, :mod:`~optviz.app.runs_panel` (the optimizers panel; its widgets
  come from the catalog's data through :mod:`~optviz.app.widgets`), :mod:`~optviz.app.race_panel`
  (the race fragment, cached engine and figure), :mod:`~optviz.app.page` (styles, start-up);
- :mod:`~optviz.app.views`: the registry of the views below the race (one entry per view);
  each view's module has a ``render(...)`` that takes plain values (a
  :class:`optviz.config.Comparison`, its trajectories, the run colours) and draws with Streamlit;
  the computing and the figures come from the pure core (:mod:`optviz`, :mod:`optviz.figures`),
  testable without a browser.
"""
