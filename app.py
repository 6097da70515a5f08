"""Streamlit entry point: the planner's pages, each a thin shell over the library.

Every page runs inside :func:`ui.common.run_app`, the app's one handler for the
unexpected: a one-line message with an id on the page, the traceback in the
server log only (``showErrorDetails`` is off in ``.streamlit/config.toml``).
The session's question (:mod:`ui.state`) is read from the address once and
written back after every run, so every page shares it and a link reopens it.
While the session has catalog overlays (uploaded on the Data catalogs page),
every page opens with one line saying so (:func:`ui.common.overlay_banner`).
Every page has its own address (``/quick``, ``/workbench`` ...); the root
address opens Quick compare.
"""

import streamlit as st

from ui import common, state

st.set_page_config(page_title="GPU procurement planner", layout="wide")

QUICK = st.Page("ui/quick_page.py", title="Quick compare", url_path="quick")
DATA = st.Page("ui/data_page.py", title="Data catalogs", url_path="data")
PAGES = [
    QUICK,
    st.Page("ui/workbench_page.py", title="Scenario workbench", url_path="workbench"),
    st.Page("ui/optimiser_page.py", title="Optimiser", url_path="optimiser"),
    st.Page("ui/uncertainty_page.py", title="Uncertainty", url_path="uncertainty"),
    st.Page("ui/consortium_page.py", title="Consortium", url_path="consortium"),
    st.Page("ui/demand_page.py", title="Demand and waits", url_path="demand"),
    st.Page("ui/strubell_page.py", title="Strubell et al. 2019", url_path="strubell"),
    DATA,
]


def _start() -> None:
    """The root address: Quick compare, at its own address (``/quick``)."""
    st.switch_page(QUICK, query_params=st.query_params.to_dict())


def _run() -> None:
    state.start()
    page = st.navigation(
        [st.Page(_start, title="Start", default=True, visibility="hidden"), *PAGES]
    )
    try:
        common.overlay_banner(removable_here=page.url_path == DATA.url_path)
        page.run()
    finally:
        state.publish()


common.run_app(_run)
