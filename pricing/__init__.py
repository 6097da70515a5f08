"""What accelerators cost and draw: sourced catalogs and small pure unit models.

``pricing`` knows nothing of scenarios; ``planner`` builds on it. Nothing here
imports ``planner`` or ``streamlit``, and nothing does work at import time.
"""
