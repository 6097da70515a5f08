"""The questions: scenarios, demand, multi-year TCO and CO2, break-even, optimiser.

``planner`` builds on ``pricing`` and returns tidy pandas DataFrames. It never
imports ``streamlit``; the UI (``app.py``, ``ui/``) stays a thin shell over it.
"""

import logging as _logging

# A library logs but never prints: without a handler configured by the
# application, records (the CLI's tracebacks) go nowhere, not to stderr.
_logging.getLogger("planner").addHandler(_logging.NullHandler())
