"""The latency baseline: one slider and one small Plotly chart, nothing else."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

a = st.slider("a", 0.0, 2.0, 1.0, 0.01)
xs = np.linspace(-3.0, 3.0, 200)
st.plotly_chart(go.Figure(go.Scatter(x=xs, y=np.sin(a * xs), name="sin(a x)")))
