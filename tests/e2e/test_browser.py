"""Real-browser test: the app in headless Chromium, every page, with screenshots.

Runs with ``make e2e`` (Debian's ``chromium`` and the ``playwright`` package).
Screenshots go to ``docs/screenshots/`` (linked from the README).
"""

import csv
import io
from pathlib import Path

import pytest

from planner import breakeven, tco, verdict
from planner.quick import QuickCompare
from planner.quick_hybrid import quick_scenario_with_hybrid
from planner.reference import strubell2019
from pricing.catalog import Catalog
from tests.e2e.served import BROWSER_ARGS, CHROMIUM, served_app

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[2]
SHOTS = ROOT / "docs" / "screenshots"


@pytest.fixture(scope="module")
def app_url():
    with served_app() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make e2e installs it)")
    with sync_api.sync_playwright() as playwright:
        # launch() always starts from a fresh temporary profile (Playwright
        # refuses --user-data-dir here), which is what the fresh-profile rule asks.
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=BROWSER_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser):
    tab = browser.new_page(viewport={"width": 1400, "height": 1000})
    yield tab
    tab.close()


def _settled(page):
    """Wait until the app's script run has finished (Streamlit marks its root)."""
    page.wait_for_selector(
        "[data-test-script-state=notRunning]", state="attached", timeout=60_000
    )


def _shot(page, name: str) -> None:
    """Screenshot the whole page: the app scrolls inside its main block, so the
    viewport is made as tall as that block first (at most 5,000 pixels)."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
        "[data-testid=stMainBlockContainer]')].map(e => e.scrollHeight), 1000)"
    )
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(height + 80, 5000)})
    _settled(page)
    page.screenshot(path=str(SHOTS / name), full_page=True)
    page.set_viewport_size(size)


def _visit(page, url, text):
    page.goto(url)
    page.get_by_text(text, exact=False).first.wait_for(timeout=60_000)
    _settled(page)


def _quick_verdict(**changes: object) -> tuple[str, str]:
    scenario = quick_scenario_with_hybrid(QuickCompare(**changes))
    evaluation = tco.evaluate(scenario)
    found = breakeven.break_even(
        scenario,
        next(s for s in scenario.strategies if s.kind == "onprem").name,
        scenario.strategies[0].name,
        evaluation=evaluation,
    )
    sentence = verdict.recommendations(evaluation)["institution"].sentence
    return sentence, f"{found.cloud_premium:.2f}x"


def _shows(page, text: str, timeout: float = 60_000) -> None:
    """Wait until the page shows ``text`` (ignoring the invisible word joiners
    that keep plain text from becoming links)."""
    page.wait_for_function(
        "t => document.body.innerText.replaceAll('\\u2060', '').includes(t)",
        arg=text,
        timeout=timeout,
    )


def _body(page) -> str:
    return page.inner_text("body").replace("\u2060", "")


def _number(page, label: str):
    return page.locator(f'input[aria-label^="{label}"]').first


def test_quick_compare_in_the_browser(page, app_url):
    sentence, premium = _quick_verdict()
    _visit(page, app_url, "Break-even utilisation")  # the root opens Quick compare
    page.get_by_text(premium).first.wait_for(timeout=30_000)
    assert page.url.split("?")[0].endswith("/quick")
    assert sentence in _body(page)
    _shot(page, "quick_compare.png")


def test_every_page_has_its_own_address(page, app_url):
    for path, text in (
        ("quick", "Break-even utilisation"),
        ("workbench", "Scenario workbench"),
        ("consortium", "Consortium"),
        ("uncertainty", "Uncertainty"),
        ("data", "Data catalogs"),
    ):
        _visit(page, f"{app_url}/{path}", text)
        assert "Page not found" not in page.inner_text("body")


def test_a_shared_link_opens_the_same_question_in_a_fresh_browser(
    page, app_url, browser
):
    _visit(page, f"{app_url}/quick", "Break-even utilisation")
    box = _number(page, "Demand, busy GPUs")
    box.fill("24")
    box.press("Enter")
    sentence, premium = _quick_verdict(demand_value=24.0)
    _shows(page, sentence)
    _settled(page)
    page.wait_for_function("() => location.search.includes('q=v1.')")
    link = page.url
    # A new browser context: no cookies, storage or session shared.
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        fresh = context.new_page()
        _visit(fresh, link, "Break-even utilisation")
        _shows(fresh, sentence)
        body = _body(fresh)
        assert sentence in body
        assert premium in body
        assert _number(fresh, "Demand, busy GPUs").input_value() == "24.0"
        # A broken link is one message, and the default question is kept.
        _visit(fresh, f"{app_url}/quick?q=v1.broken", "Break-even utilisation")
        fresh.get_by_text("This link could not be opened").first.wait_for()
    finally:
        context.close()


def test_workbench_in_the_browser(page, app_url):
    _visit(page, f"{app_url}/workbench", "Scenario workbench")
    _shows(page, "is cheapest (institution view")
    page.get_by_text("Site", exact=True).first.click()
    page.get_by_text("Where the machine room is").first.wait_for(timeout=30_000)
    _settled(page)
    _shot(page, "workbench.png")


def test_strubell_page_in_the_browser(page, app_url):
    hardware = strubell2019.hardware_vs_cloud()["hardware_usd"]
    _visit(page, f"{app_url}/strubell", "Energy and Policy Considerations")
    page.get_by_text(f"${hardware:,.0f}").first.wait_for(timeout=30_000)
    _shot(page, "strubell.png")


def test_data_page_in_the_browser(page, app_url):
    _visit(page, f"{app_url}/data", "Data catalogs")
    page.get_by_text("rows").first.wait_for(timeout=30_000)
    _shot(page, "data.png")


def test_demand_page_imports_an_uploaded_log(page, app_url):
    _visit(page, f"{app_url}/demand", "Demand from real usage")
    log = ROOT / "tests" / "data" / "joblogs" / "sacct_mixed.txt"
    page.locator("input[type=file]").set_input_files(str(log))
    page.get_by_text("5 rejected rows").first.wait_for(timeout=60_000)
    page.get_by_text("Read sacct_mixed.txt").first.wait_for(timeout=60_000)
    _settled(page)
    _shot(page, "demand.png")


def test_optimiser_page_in_the_browser(page, app_url):
    _visit(page, f"{app_url}/optimiser", "Optimiser")
    page.get_by_role("button", name="Optimise").click()
    page.get_by_text("Present value of costs").first.wait_for(timeout=120_000)
    page.get_by_text("Planned").first.wait_for(timeout=120_000)
    _settled(page)
    _shot(page, "optimiser.png")


def test_uncertainty_page_in_the_browser(page, app_url):
    _visit(page, f"{app_url}/uncertainty", "Uncertainty")
    page.get_by_text("Press Run").first.wait_for(timeout=60_000)
    page.get_by_role("button", name="Run", exact=True).click()
    _shows(page, "sampled futures (institution view)", timeout=120_000)
    page.get_by_text("What decides it").first.wait_for(timeout=60_000)
    _settled(page)
    _shot(page, "uncertainty.png")


def test_consortium_page_in_the_browser(page, app_url):
    _visit(page, f"{app_url}/consortium", "Consortium")
    page.get_by_text("Pooling costs").first.wait_for(timeout=120_000)
    page.get_by_text("Buy-in").first.wait_for(timeout=60_000)
    _settled(page)
    _shot(page, "consortium.png")


def _half_price_servers_overlay() -> bytes:
    """The shipped 8xH100-SXM row at half its price, as a quote (CSV)."""
    text = (ROOT / "pricing" / "data" / "servers.csv").read_text()
    reader = csv.DictReader(io.StringIO(text))
    row = next(r for r in reader if r["server"] == "8xH100-SXM")
    row |= {
        "server_price_usd": f"{float(row['server_price_usd']) / 2:.0f}",
        "price_basis": "quote",
        "source": "vendor quote (test fixture)",
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    return out.getvalue().encode()


def test_an_overlay_uploaded_on_the_data_page_prices_quick_compare(app_url, browser):
    content = _half_price_servers_overlay()
    mine = Catalog().with_overlay("servers", content.decode(), label="quote.csv")
    scenario = quick_scenario_with_hybrid(QuickCompare(), catalog=mine)
    owned = next(s for s in scenario.strategies if s.kind == "onprem").name
    evaluation = tco.evaluate(scenario, catalog=mine)
    price = evaluation.resolved.strategy(owned).server.server_price_usd
    shipped = quick_scenario_with_hybrid(QuickCompare())
    before = tco.evaluate(shipped).resolved.strategy(owned).server.server_price_usd
    assert f"${price:,.0f}" != f"${before:,.0f}"
    # A session of its own: the overlay never reaches the other tests' session.
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        tab = context.new_page()
        _visit(tab, f"{app_url}/data", "Data catalogs")
        tab.locator("[data-testid=stSelectbox]").filter(has_text="Catalog").click()
        tab.get_by_role("option", name="servers", exact=True).click()
        _settled(tab)
        tab.locator("input[type=file]").set_input_files(
            files=[{"name": "quote.csv", "mimeType": "text/csv", "buffer": content}]
        )
        _shows(tab, "Your overlay quote.csv (servers) applies to every page")
        _settled(tab)
        # Within the session (a reload would start a new one): the sidebar link.
        tab.get_by_role("link", name="Quick compare").click()
        _shows(tab, "Server price (your overlay)")
        _shows(tab, f"${price:,.0f}")
        _settled(tab)
        body = _body(tab)
        assert "Your overlay quote.csv (servers) applies to every page" in body
        assert "it is not part of shared links" in body
        assert f"${before:,.0f}" not in body
    finally:
        context.close()


def _files_under(folder: Path) -> dict[str, tuple[int, int]]:
    seen = {}
    for path in folder.rglob("*"):
        if ".venv" in path.parts or ".git" in path.parts or not path.is_file():
            continue
        info = path.stat()
        seen[str(path)] = (info.st_size, info.st_mtime_ns)
    return seen


def test_hostile_uploads_touch_no_server_file(page, app_url):
    # A client file name that used to make the server write outside its
    # temporary folder, and a scenario naming a server file: nothing changes on
    # disk and no server file's content reaches the page.
    import secrets

    marker = f"pwned_{secrets.token_hex(4)}"
    before = _files_under(ROOT / "pricing") | _files_under(ROOT / "tests")
    _visit(page, f"{app_url}/demand", "Demand from real usage")
    log = (ROOT / "tests" / "data" / "joblogs" / "sacct_mixed.txt").read_bytes()
    page.locator("input[type=file]").set_input_files(
        files=[
            {
                "name": f"../../../../../../tmp/{marker}.csv",
                "mimeType": "text/csv",
                "buffer": log,
            }
        ]
    )
    page.get_by_text("5 rejected rows").first.wait_for(timeout=60_000)
    _settled(page)
    assert not Path(f"/tmp/{marker}.csv").exists()
    assert not Path(f"/{marker}.csv").exists()
    _visit(page, f"{app_url}/workbench", "Scenario workbench")
    scenario = (ROOT / "planner" / "presets" / "grant.yaml").read_text()
    hostile = scenario.replace(
        "demand:\n", "demand:\n  joblog:\n    path: /etc/passwd\n", 1
    )
    page.locator("input[type=file]").first.set_input_files(
        files=[
            {
                "name": "../../evil.yaml",
                "mimeType": "text/yaml",
                "buffer": hostile.encode(),
            }
        ]
    )
    page.get_by_text("the app opens no file a scenario names").first.wait_for(
        timeout=60_000
    )
    _settled(page)
    body = page.inner_text("body")
    assert "root:x:0:0" not in body
    assert "Traceback" not in body
    assert _files_under(ROOT / "pricing") | _files_under(ROOT / "tests") == before
