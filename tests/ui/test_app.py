"""AppTest: every page renders on the shipped defaults and shows library numbers."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from planner.reference import strubell2019
from pricing import catalog

APP_PATH = str(Path(__file__).parents[2] / "app.py")


def open_page(page_file: str | None = None) -> AppTest:
    app = AppTest.from_file(APP_PATH, default_timeout=60).run()
    if page_file is not None:
        app.switch_page(page_file).run()
    return app


def test_strubell_page_shows_section5_numbers():
    app = open_page("ui/strubell_page.py")
    assert not app.exception
    expected = strubell2019.hardware_vs_cloud()
    values = {metric.label: metric.value for metric in app.metric}
    assert values["58 GPUs as 7.25 servers"] == f"${expected['hardware_usd']:,.0f}"
    assert values["Cloud on-demand (Table 4)"] == (
        f"${expected['cloud_on_demand_usd']:,.0f}"
    )


def test_data_page_lists_each_catalog_and_filters():
    app = open_page("ui/data_page.py")
    assert not app.exception
    app.selectbox(key="catalog_name").set_value("servers").run()
    rows = len(catalog.load_catalog("servers"))
    assert any(f"{rows:,} rows" in md.value for md in app.markdown)
    app.text_input(key="catalog_filter").set_value("H100").run()
    assert not app.exception
    shown = app.dataframe[0].value
    assert 0 < len(shown) < rows
    matches = shown.astype(str).apply(lambda col: col.str.contains("H100", case=False))
    assert matches.any(axis=1).all()
    assert "8xH100-SXM" in set(shown["server"])
