"""The questions: scenarios, demand, multi-year TCO and CO2, break-even, optimiser.

``planner`` builds on ``pricing`` and returns tidy pandas DataFrames. It never
imports ``streamlit``; the UI (``app.py``, ``ui/``) stays a thin shell over it.
"""
