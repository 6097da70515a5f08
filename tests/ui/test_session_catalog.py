"""AppTest: the Data page's overlay prices every page of its session (issue 12),
the grant reports download from the app (issue 15) and every page that prices
shows the session catalog's dates and the answer's warnings."""

import csv
import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from docx import Document
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from planner import optimise, places, pooling, tco, verdict
from planner.quick import QuickCompare
from planner.quick_hybrid import quick_scenario_with_hybrid
from planner.resolve import resolve
from planner.scenario import load_preset
from planner.tco.budget import nominal_totals
from pricing import history
from pricing.catalog import Catalog, Overlay
from ui.common import as_text, file_stem, overlay_sentence

ROOT = Path(__file__).parents[2]
APP_PATH = str(ROOT / "app.py")
SERVER = "8xH100-SXM"
QUICK_OWNED = f"Buy {SERVER} (sized to the demand)"
DEPARTMENT_OWNED = "Buy 8xH100 servers (sized to the demand)"
CONSORTIUM = "Shared 4x 8xH100 (three departments)"


def servers_overlay(factor: float = 0.5) -> str:
    """The shipped 8xH100-SXM row at ``factor`` times its price, as a quote
    dated by the upload (a blank source_date is today's)."""
    text = (ROOT / "pricing" / "data" / "servers.csv").read_text()
    reader = csv.DictReader(io.StringIO(text))
    row = next(r for r in reader if r["server"] == SERVER)
    row |= {
        "server_price_usd": f"{float(row['server_price_usd']) * factor:.0f}",
        "price_basis": "quote",
        "source": "vendor quote (test fixture)",
        "source_date": "",
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    return out.getvalue()


def overlaid(text: str, label: str = "quote.csv") -> Catalog:
    return Catalog().with_overlay("servers", text, label=label)


def open_page(page_file: str | None = None) -> AppTest:
    app = AppTest.from_file(APP_PATH, default_timeout=60).run()
    if page_file is not None:
        app.switch_page(page_file).run()
    return app


def upload(app: AppTest, text: str, label: str = "quote.csv") -> AppTest:
    app.switch_page("ui/data_page.py").run()
    app.selectbox(key="catalog_name").set_value("servers").run()
    app.file_uploader(key="catalog_overlay").set_value(
        (label, text.encode(), "text/csv")
    ).run()
    assert not app.exception
    assert not app.error, [e.value for e in app.error]
    return app


def texts(app: AppTest, kind: str) -> list[str]:
    return [as_text(element.value) for element in getattr(app, kind)]


def frame(app: AppTest, *columns: str) -> pd.DataFrame:
    for element in app.dataframe:
        value = element.value
        if all(column in value.columns for column in columns):
            return value
    msg = f"no table with columns {columns}"
    raise AssertionError(msg)


def banner(app: AppTest) -> list[str]:
    return [t for t in texts(app, "info") if "applies to every page" in t]


def quick_summary(app: AppTest) -> pd.DataFrame:
    app.switch_page("ui/quick_page.py").run()
    app.radio(key="quick_panel").set_value("summary").run()
    assert not app.exception
    return frame(app, "strategy", "institution_npv_usd").set_index("strategy")


def quick_library(catalog: Catalog | None) -> tco.Evaluation:
    scenario = quick_scenario_with_hybrid(QuickCompare(), catalog=catalog)
    return tco.evaluate(scenario, catalog=catalog)


# 1. The overlay reaches every page of the session --------------------------------


def test_a_half_price_server_overlay_prices_quick_compare_and_the_workbench():
    text = servers_overlay(0.5)
    mine = overlaid(text)
    app = open_page()
    before = quick_summary(app)
    assert banner(app) == []
    upload(app, text)
    sentence = overlay_sentence(mine.overlays)
    assert sentence == (
        "Your overlay quote.csv (servers) applies to every page of this session; "
        "it is not part of shared links."
    )
    assert banner(app) == [sentence]  # the remove button is beside it here
    assert app.button(key="catalog_remove|servers")
    shown = frame(app, "server", "server_price_usd").set_index("server")
    assert shown.loc[SERVER, "server_price_usd"] == pytest.approx(154_000)

    after = quick_summary(app)
    assert banner(app) == [sentence + " Remove it on the Data catalogs page."]
    shipped = quick_library(None).summary.set_index("strategy")
    quoted = quick_library(mine).summary.set_index("strategy")
    for column in ("institution_npv_usd", "award_npv_usd"):
        expected = quoted.loc[QUICK_OWNED, column] - shipped.loc[QUICK_OWNED, column]
        change = after.loc[QUICK_OWNED, column] - before.loc[QUICK_OWNED, column]
        assert expected < 0
        assert change == pytest.approx(expected, abs=1.0)
    owned = quick_library(mine).resolved.strategy(QUICK_OWNED)
    prices = {as_text(m.label): m.value for m in app.metric}
    assert prices["Server price (your overlay)"] == (
        f"${owned.server.server_price_usd:,.0f}"
    )

    app.switch_page("ui/workbench_page.py").run()
    assert not app.exception
    assert banner(app) == [sentence + " Remove it on the Data catalogs page."]
    summary = frame(app, "strategy", "npv_usd").set_index("strategy")
    department = load_preset("department")
    expected = tco.evaluate(department, catalog=mine).summary.set_index("strategy")
    assert summary.loc[DEPARTMENT_OWNED, "npv_usd"] == pytest.approx(
        expected.loc[DEPARTMENT_OWNED, "npv_usd"], abs=1.0
    )
    recs = verdict.recommendations(tco.evaluate(department, catalog=mine))
    assert recs[department.view].sentence in texts(app, "success")

    app.switch_page("ui/data_page.py").run()
    app.button(key="catalog_remove|servers").click().run()
    assert not app.exception
    assert banner(app) == []
    again = quick_summary(app)
    assert banner(app) == []
    pd.testing.assert_frame_equal(again, before)
    app.switch_page("ui/workbench_page.py").run()
    summary = frame(app, "strategy", "npv_usd").set_index("strategy")
    shipped_department = tco.evaluate(department).summary.set_index("strategy")
    assert summary.loc[DEPARTMENT_OWNED, "npv_usd"] == pytest.approx(
        shipped_department.loc[DEPARTMENT_OWNED, "npv_usd"], abs=1.0
    )


def test_a_removed_overlay_stays_removed_while_its_file_is_in_the_uploader():
    app = upload(open_page(), servers_overlay(0.5))
    app.button(key="catalog_remove|servers").click().run()
    app.text_input(key="catalog_filter").set_value("H100").run()
    assert banner(app) == []
    shown = frame(app, "server", "server_price_usd").set_index("server")
    assert shown.loc[SERVER, "server_price_usd"] == pytest.approx(308_000)


def test_one_overlay_per_catalog_a_new_upload_replaces_it():
    app = upload(open_page(), servers_overlay(0.5))
    app.selectbox(key="catalog_name").set_value("pue").run()  # the file stays
    assert not app.error, [e.value for e in app.error]
    upload(app, servers_overlay(0.25), label="newer.csv")
    assert banner(app) == [overlay_sentence([Overlay("servers", "newer.csv", "")])]
    shown = frame(app, "server", "server_price_usd").set_index("server")
    assert shown.loc[SERVER, "server_price_usd"] == pytest.approx(77_000)


def test_an_overlay_larger_than_the_catalogs_limit_is_refused():
    from pricing.catalog import MAX_OVERLAY_CHARACTERS

    text = servers_overlay(0.5)
    padding = "\n" * (MAX_OVERLAY_CHARACTERS + 1 - len(text))
    app = open_page("ui/data_page.py")
    app.selectbox(key="catalog_name").set_value("servers").run()
    app.file_uploader(key="catalog_overlay").set_value(
        ("big.csv", (text + padding).encode(), "text/csv")
    ).run()
    assert not app.exception
    assert any("larger than" in t for t in texts(app, "error"))
    assert banner(app) == []


def test_two_sessions_do_not_see_each_others_overlay():
    half, quarter = servers_overlay(0.5), servers_overlay(0.25)
    first = upload(open_page(), half)
    second = open_page()
    assert banner(second) == []
    shipped = quick_library(None).summary.set_index("strategy")
    assert quick_summary(second).loc[QUICK_OWNED, "institution_npv_usd"] == (
        pytest.approx(shipped.loc[QUICK_OWNED, "institution_npv_usd"], abs=1.0)
    )
    upload(second, quarter, label="other.csv")
    for app, text, label in (
        (first, half, "quote.csv"),
        (second, quarter, "other.csv"),
    ):
        summary = quick_summary(app)
        expected = quick_library(overlaid(text, label)).summary.set_index("strategy")
        assert summary.loc[QUICK_OWNED, "institution_npv_usd"] == pytest.approx(
            expected.loc[QUICK_OWNED, "institution_npv_usd"], abs=1.0
        )
        assert [label in line for line in banner(app)] == [True]


def test_a_server_an_overlay_adds_is_offered_on_quick_compare():
    text = servers_overlay(0.5).replace(f"\n{SERVER},", "\n8xH100-quoted,", 1)
    app = upload(open_page(), text)
    app.switch_page("ui/quick_page.py").run()
    assert "8xH100-quoted" in app.selectbox(key="quick_server").options
    app.selectbox(key="quick_server").set_value("8xH100-quoted").run()
    assert not app.exception
    assert not app.error, [e.value for e in app.error]


# 3. Catalog dates and the answer's warnings on every page that prices -------------


def dates_shown(app: AppTest, key: str) -> tuple[pd.DataFrame, list[str]]:
    dates = next(
        element.value
        for element in app.dataframe
        if "newest_source_date" in element.value.columns
    )
    stale = [t for t in texts(app, "caption") if "more than 180" in t]
    return dates, stale


def warnings_box(app: AppTest) -> str:
    boxes = [t for t in texts(app, "warning") if t.startswith("Check before")]
    assert len(boxes) <= 1
    return boxes[0] if boxes else ""


def open_pricing_page(app: AppTest, page: str) -> AppTest:
    app.switch_page(f"ui/{page}_page.py").run()
    if page == "optimiser":
        app.button(key="opt_run").click().run(timeout=180)
    assert not app.exception
    return app


@pytest.mark.parametrize("page", ["quick", "workbench", "optimiser", "consortium"])
def test_catalog_dates_are_the_session_catalogs(page):
    today = dt.date.today()
    mine = overlaid(servers_overlay(0.5))
    app = open_pricing_page(open_page(), page)
    dates, stale = dates_shown(app, page)
    expected = history.catalog_dates(today=today)
    assert list(dates["newest_source_date"].astype(str)) == list(
        expected["newest_source_date"].astype(str)
    )
    assert stale == history.staleness_warnings(today=today)
    open_pricing_page(upload(app, servers_overlay(0.5)), page)
    dates, stale = dates_shown(app, page)
    servers = dates[dates["catalog"] == "servers"].iloc[0]
    assert str(servers["newest_source_date"]) == today.isoformat()
    assert not bool(servers["stale"])
    assert stale == history.staleness_warnings(mine, today=today)
    assert not any(line.startswith("servers:") for line in stale)


def resolved_warnings(page: str, catalog: Catalog) -> tuple[str, ...]:
    if page == "quick":
        scenario = quick_scenario_with_hybrid(QuickCompare(), catalog=catalog)
    elif page == "consortium":
        scenario = load_preset("consortium")
    else:
        scenario = load_preset("department")
    if page in ("quick", "workbench"):
        # pages that evaluate show the evaluation's warnings (whole instances too)
        return tco.evaluate(scenario, catalog=catalog).warnings
    return resolve(scenario, catalog).warnings


@pytest.mark.parametrize("page", ["quick", "workbench", "optimiser", "consortium"])
def test_the_answers_warnings_are_beside_it(page):
    mine = overlaid(servers_overlay(0.5))
    app = open_pricing_page(open_page(), page)
    shipped = resolved_warnings(page, Catalog())
    assert shipped
    box = warnings_box(app)
    for line in shipped:
        assert f"- {line}" in box
    open_pricing_page(upload(app, servers_overlay(0.5)), page)
    box = warnings_box(app)
    quoted = resolved_warnings(page, mine)
    for line in quoted:
        assert f"- {line}" in box
    assert box.count("\n- ") == len(quoted)
    assert all("servers:" not in line for line in quoted)


def test_the_optimiser_and_the_consortium_price_with_the_overlay():
    mine = overlaid(servers_overlay(0.5))
    app = upload(open_page(), servers_overlay(0.5))
    open_pricing_page(app, "optimiser")
    plan = optimise.optimise(load_preset("department"), catalog=mine)
    metrics = {as_text(m.label): m.value for m in app.metric}
    assert metrics["Present value of costs"] == f"${plan.npv_usd:,.0f}"
    open_pricing_page(app, "consortium")
    game = pooling.consortium_game(load_preset("consortium"), CONSORTIUM, catalog=mine)
    table = pooling.allocations(game)
    shown = {as_text(m.label): m.value for m in app.metric}
    shapley = table[table["rule"] == "shapley"]
    for row in shapley.to_dict("records"):
        assert shown[row["member"]] == f"${row['allocation_usd']:,.0f}"


# 2. Grant reports -----------------------------------------------------------------


@pytest.fixture
def made(monkeypatch):
    """The download buttons' deferred files by name, and how often reports were
    built (a report is made only when its button is clicked)."""
    from ui import common

    files: dict[str, object] = {}
    built: list[str] = []
    register = MediaFileManager.add_deferred

    def add_deferred(self, data, mimetype, coordinates, file_name=None, **kwargs):
        files[str(file_name)] = data
        return register(self, data, mimetype, coordinates, file_name, **kwargs)

    original = common.report_bytes

    def counted(evaluation, suffix, **kwargs):
        built.append(suffix)
        return original(evaluation, suffix, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    monkeypatch.setattr(common, "report_bytes", counted)
    common.report_file.clear()
    return files, built


SUM = re.compile(r"^=SUM\(([A-Z]+)(\d+):([A-Z]+)(\d+)\)$")
REFERENCE = re.compile(r"^='?(.+?)'?!([A-Z]+)(\d+)$")


def cell_value(book, sheet, address):
    """A cell's value with the workbook's own formulas (=SUM of a range, a
    reference to another sheet) worked out, as a spreadsheet would."""
    value = book[sheet][address].value
    if not isinstance(value, str):
        return float(value or 0.0)
    if match := REFERENCE.match(value):
        return cell_value(book, match[1].replace("''", "'"), match[2] + match[3])
    if match := SUM.match(value):
        return sum(
            cell_value(book, sheet, cell.coordinate)
            for row in book[sheet][f"{match[1]}{match[2]}" : f"{match[3]}{match[4]}"]
            for cell in row
        )
    if value == "=0":
        return 0.0
    msg = f"unexpected formula {value!r}"
    raise AssertionError(msg)


def test_workbench_reports_open_and_carry_the_engines_numbers(made):
    files, built = made
    mine = overlaid(servers_overlay(0.5))
    app = upload(open_page(), servers_overlay(0.5))
    app.switch_page("ui/workbench_page.py").run()
    assert not app.exception
    stem = "department-gpu-plan-massachusetts-10-years"
    names = {
        f"{stem}-justification.docx",
        f"{stem}-justification.md",
        f"{stem}-budget.xlsx",
        f"{stem}-statement.tex",
    }
    assert names <= set(files)
    assert built == []  # nothing is built before a click
    evaluation = tco.evaluate(load_preset("department"), catalog=mine)
    summary = evaluation.summary.set_index("strategy")

    book = openpyxl.load_workbook(io.BytesIO(files[f"{stem}-budget.xlsx"]()))
    nominal = nominal_totals(evaluation).set_index("strategy")["award_nominal_usd"]
    rows = {
        row[0].value: row[0].row
        for row in book["Summary"].iter_rows(min_row=6, max_row=5 + len(nominal))
    }
    for strategy, expected in nominal.items():
        shown = cell_value(book, "Summary", f"C{rows[strategy]}")
        assert shown == pytest.approx(expected, abs=0.01)
        present = book["Summary"][f"D{rows[strategy]}"].value
        assert present == pytest.approx(summary.loc[strategy, "award_npv_usd"])

    document = Document(io.BytesIO(files[f"{stem}-justification.docx"]()))
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    sentence = verdict.recommendations(evaluation)["award"].sentence
    assert sentence in paragraphs
    markdown = files[f"{stem}-justification.md"]().decode()
    owned = round(summary.loc[DEPARTMENT_OWNED, "award_npv_usd"])
    assert f"${owned:,}" in markdown
    assert sentence in markdown
    tex = files[f"{stem}-statement.tex"]().decode()
    assert f"\\${nominal[DEPARTMENT_OWNED]:,.0f}" in tex
    assert sorted(built) == sorted([".xlsx", ".docx", ".md", ".tex"])
    files[f"{stem}-budget.xlsx"]()
    assert built.count(".xlsx") == 1  # cached by content


def test_report_view_and_funder_are_chosen_on_the_page(made):
    files, _ = made
    app = open_page("ui/workbench_page.py")
    app.radio(key="wb_report_view").set_value("institution").run()
    app.selectbox(key="wb_report_funder").set_value("ukri_fec80").run()
    assert not app.exception
    stem = "department-gpu-plan-massachusetts-10-years"
    book = openpyxl.load_workbook(io.BytesIO(files[f"{stem}-budget.xlsx"]()))
    assert "(institution)" in str(book["Summary"]["C5"].value)
    evaluation = tco.evaluate(load_preset("department"))
    nominal = nominal_totals(evaluation).set_index("strategy")
    row = next(
        r[0].row
        for r in book["Summary"].iter_rows(min_row=6)
        if r[0].value == DEPARTMENT_OWNED
    )
    assert cell_value(book, "Summary", f"C{row}") == pytest.approx(
        nominal.loc[DEPARTMENT_OWNED, "institution_nominal_usd"], abs=0.01
    )
    markdown = files[f"{stem}-justification.md"]().decode()
    assert "UK Research and Innovation" in markdown


def test_quick_compare_reports_are_of_its_scenario(made):
    files, _ = made
    app = open_page()
    app.radio(key="quick_panel").set_value("summary").run()
    assert not app.exception
    scenario = quick_scenario_with_hybrid(QuickCompare())
    name = f"{file_stem(scenario.name)}-budget.xlsx"
    assert re.fullmatch(r"[a-z0-9-]+-budget\.xlsx", name)
    book = openpyxl.load_workbook(io.BytesIO(files[name]()))
    evaluation = tco.evaluate(scenario)
    nominal = nominal_totals(evaluation).set_index("strategy")["award_nominal_usd"]
    rows = {
        row[0].value: row[0].row
        for row in book["Summary"].iter_rows(min_row=6, max_row=5 + len(nominal))
    }
    for strategy, expected in nominal.items():
        assert cell_value(book, "Summary", f"C{rows[strategy]}") == pytest.approx(
            expected, abs=0.01
        )


# Every other page that reads a catalog reads the session's -----------------------

CLOUD_HEADER = (ROOT / "pricing" / "data" / "cloud_prices.csv").read_text().split()[0]


def cloud_overlay(*rows: str) -> str:
    return CLOUD_HEADER + "\n" + "\n".join(rows) + "\n"


def upload_to(app: AppTest, name: str, text: str, label: str) -> AppTest:
    app.switch_page("ui/data_page.py").run()
    app.selectbox(key="catalog_name").set_value(name).run()
    app.file_uploader(key="catalog_overlay").set_value(
        (label, text.encode(), "text/csv")
    ).run()
    assert not app.exception
    assert not app.error, [e.value for e in app.error]
    return app


def test_an_offer_an_overlay_adds_is_offered_and_priced_on_quick_compare():
    text = cloud_overlay(
        "campus,on-site,gpu-node-8x,H100,H100-80GB-SXM5,8,80,128,2048,12.50,,2026,"
        "internal recharge rate sheet 2026,,,test fixture"
    )
    mine = Catalog().with_overlay("cloud_prices", text, label="campus.csv")
    app = upload_to(open_page(), "cloud_prices", text, "campus.csv")
    app.switch_page("ui/quick_page.py").run()
    offer = "campus|on-site|gpu-node-8x"
    assert offer.replace("|", " ") in app.selectbox(key="quick_offer").options
    app.selectbox(key="quick_offer").set_value(offer).run()
    assert not app.exception
    inputs = QuickCompare(provider="campus", region="on-site", instance_type=offer[15:])
    evaluation = quick_library_of(inputs, mine)
    recs = verdict.recommendations(evaluation)
    shown = texts(app, "success") + texts(app, "warning") + texts(app, "info")
    assert recs["institution"].sentence in shown


def quick_library_of(inputs: QuickCompare, catalog: Catalog) -> tco.Evaluation:
    return tco.evaluate(
        quick_scenario_with_hybrid(inputs, catalog=catalog), catalog=catalog
    )


def test_strubells_today_prices_are_the_session_catalogs():
    from planner.reference import strubell2019

    model = str(strubell2019.rates().loc["V100", "catalog_accelerator_model"])
    text = cloud_overlay(
        f"campus,on-site,v100-node,V100,{model},8,16,64,512,0.80,0.40,2026,"
        "internal recharge rate sheet 2026,,,test fixture"
    )
    mine = Catalog().with_overlay("cloud_prices", text, label="campus.csv")
    app = upload_to(open_page(), "cloud_prices", text, "campus.csv")
    app.switch_page("ui/strubell_page.py").run()
    assert not app.exception
    assert [label in line for line in banner(app) for label in ["campus.csv"]] == [True]
    rates = frame(app, "on_demand_offer").set_index("accelerator")
    expected = strubell2019.rates_today(catalog=mine)
    assert rates.loc["V100", "on_demand_offer"] == "campus on-site v100-node"
    assert rates.loc["V100", "on_demand_usd_per_chip_hour"] == pytest.approx(
        round(expected.loc["V100", "on_demand_usd_per_chip_hour"], 3)
    )


def test_the_demand_page_converts_with_an_accelerator_an_overlay_adds():
    from planner.demand_units import quick_demand_from_log, reference_hours_per_year

    text = (ROOT / "pricing" / "data" / "accelerators.csv").read_text()
    reader = csv.DictReader(io.StringIO(text))
    row = next(r for r in reader if r["accelerator_model"] == "A100-80GB-SXM4")
    row |= {
        "accelerator_model": "A100-tuned",
        "relative_throughput": "1.5",
        "throughput_basis": "our own benchmark (test fixture)",
        "source_date": "",
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    mine = Catalog().with_overlay("accelerators", out.getvalue(), label="mine.csv")
    app = upload_to(open_page(), "accelerators", out.getvalue(), "mine.csv")
    app.switch_page("ui/demand_page.py").run()
    assert "A100-tuned" in app.selectbox(key="demand_accelerator").options
    app.selectbox(key="demand_accelerator").set_value("A100-tuned").run()
    assert not app.exception
    from planner import joblog

    log = joblog.generate_workload(joblog.LISA_PRESET)
    fields = quick_demand_from_log(joblog.demand_summary(log))
    hours = reference_hours_per_year(
        float(fields["demand_value"]), "busy_gpus", "A100-tuned", catalog=mine
    )
    assert any(
        f"{hours:,.0f} reference accelerator-hours" in t for t in texts(app, "caption")
    )


def test_the_place_selector_fills_a_tariff_an_overlay_gives():
    lines = (ROOT / "pricing" / "data" / "electricity_prices.csv").read_text()
    reader = csv.DictReader(io.StringIO(lines))
    row = next(
        r
        for r in reader
        if r["country_iso2"] == "US"
        and not r["subdivision_code"]
        and r["sector"] == "commercial"
    )
    row |= {
        "price_local_currency_per_kwh": "0.09",
        "price_usd_per_kwh": "0.09",
        "source": "our 2026 tariff (test fixture)",
        "source_date": "",
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    mine = Catalog().with_overlay("electricity_prices", out.getvalue(), label="t.csv")
    app = upload_to(open_page(), "electricity_prices", out.getvalue(), "t.csv")
    app.switch_page("ui/quick_page.py").run()
    assert not app.exception
    expected = places.place_defaults("US", mine).electricity
    assert expected.user_supplied
    assert app.number_input(key="quick_electricity").value == pytest.approx(
        expected.value
    )
    app.radio(key="quick_panel").set_value("sources").run()
    sources = frame(app, "what", "source")
    assert sources["source"].str.contains("our 2026 tariff").any()


def test_a_shared_link_carries_the_inputs_but_never_the_overlay():
    from planner.share import decode_link

    app = upload(open_page(), servers_overlay(0.5))
    app.switch_page("ui/quick_page.py").run()
    app.number_input(key="quick_demand_value").set_value(20.0).run()
    link = app.query_params["q"]
    link = link[0] if isinstance(link, list) else link
    decoded = str(decode_link(link))
    assert "quote.csv" not in decoded
    assert "154000" not in decoded
    fresh = AppTest.from_file(APP_PATH, default_timeout=60)
    fresh.query_params["q"] = link
    fresh.run()
    assert banner(fresh) == []
    shown = quick_summary(fresh)
    scenario = quick_scenario_with_hybrid(QuickCompare(demand_value=20.0))
    expected = tco.evaluate(scenario).summary.set_index("strategy")
    assert shown.loc[QUICK_OWNED, "institution_npv_usd"] == pytest.approx(
        expected.loc[QUICK_OWNED, "institution_npv_usd"], abs=1.0
    )
