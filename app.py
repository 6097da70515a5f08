"""Streamlit entry point: the planner's pages, each a thin shell over the library.

Every page runs inside :func:`ui.common.run_app`, the app's one handler for the
unexpected: a one-line message with an id on the page, the traceback in the
server log only (``showErrorDetails`` is off in ``.streamlit/config.toml``).
"""

import streamlit as st

from ui import common

st.set_page_config(page_title="GPU procurement planner", layout="wide")

pages = [
    st.Page("ui/quick_page.py", title="Quick compare", url_path="quick", default=True),
    st.Page("ui/workbench_page.py", title="Scenario workbench", url_path="workbench"),
    st.Page("ui/optimiser_page.py", title="Optimiser", url_path="optimiser"),
    st.Page("ui/consortium_page.py", title="Consortium", url_path="consortium"),
    st.Page("ui/demand_page.py", title="Demand and waits", url_path="demand"),
    st.Page("ui/strubell_page.py", title="Strubell et al. 2019", url_path="strubell"),
    st.Page("ui/data_page.py", title="Data catalogs", url_path="data"),
]
common.run_app(st.navigation(pages).run)
