"""App speed in a real browser: each page's first render and a typical widget change.

Targets (issue 16): a page's first render under 2 s, a widget change under 0.5 s,
on this machine. The app runs as ``streamlit run app.py`` (headless) and Debian's
Chromium drives it through Playwright (``make e2e`` installs both). One visit
warms the server first (its first session imports pandas, scipy and the
catalogs; printed apart). Then each page opens in a fresh browser context (a
new session, nothing cached in the browser): the time from navigation until the
script has finished and the page's own text is on screen. A typical widget
change is timed from the input until the rerun has finished and the page has
settled; each figure is the median of ``REPEATS`` runs, printed with its ratio
to the target.

Run: ``.venv/bin/python benchmarks/bench_browser.py [page ...]`` (about two
minutes for every page; name pages, e.g. ``quick demand``, to time only those).
"""

import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))  # the tests' server helper, shared with make e2e
from tests.e2e.served import BROWSER_ARGS, CHROMIUM, served_app  # noqa: E402

FIRST_RENDER_TARGET_S = 2.0
CHANGE_TARGET_S = 0.5
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
FIRST_ONLY = "--first-only" in sys.argv
SETTLED = "[data-test-script-state=notRunning]"

# A rerun counter in the page: a change is done when the script has run again
# and stopped (the attribute Streamlit sets on its root while a script runs).
WATCH = """() => {
  window.__runs = 0;
  let running = false;
  const root = document.querySelector('[data-test-script-state]');
  new MutationObserver(() => {
    const now = root.getAttribute('data-test-script-state');
    if (now === 'running') running = true;
    if (now === 'notRunning' && running) { running = false; window.__runs += 1; }
  }).observe(root, {attributes: true});
}"""


def _fill(label: str, value: str) -> Callable[[Page], None]:
    def change(page: Page) -> None:
        box = page.locator(f'input[aria-label^="{label}"]').first
        box.fill(value)
        box.press("Enter")

    return change


def _click(text: str) -> Callable[[Page], None]:
    def change(page: Page) -> None:
        page.get_by_text(text, exact=True).first.click()

    return change


# path, text the page shows when drawn, what a typical change is, the change,
# and a value to change back to (so each repeat is a real change).
PAGES: list[
    tuple[str, str, str, Callable[[Page], None] | None, Callable[[Page], None] | None]
] = [
    (
        "quick",
        "Break-even utilisation",
        "demand 16 -> 20 busy GPUs",
        _fill("Demand, busy GPUs", "20"),
        _fill("Demand, busy GPUs", "16"),
    ),
    (
        "workbench",
        "Results",
        "real discount rate 0.03 -> 0.04",
        _fill("Real discount rate per year", "0.04"),
        _fill("Real discount rate per year", "0.03"),
    ),
    (
        "optimiser",
        "press Optimise",
        "tick 'Allow spot'",
        _click("Allow spot"),
        _click("Allow spot"),
    ),
    (
        "consortium",
        "coalitions priced",
        "horizon 6 -> 5 years",
        _fill("Years compared after the purchase", "5"),
        _fill("Years compared after the purchase", "6"),
    ),
    (
        "demand",
        "Waits against cluster size",
        "scheduler fifo -> backfill",
        _click("backfill"),
        _click("fifo"),
    ),
    # Its Run is long work with a progress bar (2,000 draws: about 1.2 s),
    # not a widget change; the first render is measured.
    ("uncertainty", "Uncertain inputs", "(Run: long work)", None, None),
    ("strubell", "Energy and Policy", "(no inputs)", None, None),
    (
        "data",
        "rows",
        "filter rows containing H100",
        _fill("Filter rows containing", "H100"),
        _fill("Filter rows containing", ""),
    ),
]


def _settle(page: Page) -> None:
    page.wait_for_selector(SETTLED, state="attached", timeout=120_000)


def _first_render(
    browser, url: str, text: str, context=None
) -> tuple[float, object, Page]:
    """Seconds from navigation until the page's text is shown and its run ended.

    Without ``context``: a new browser context (no cache, a new session);
    with one: a new tab of a browser that has loaded the app before (its
    HTTP cache warm), still a new session.
    """
    context = context or browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url)
    page.get_by_text(text, exact=False).first.wait_for(timeout=120_000)
    _settle(page)
    return time.perf_counter() - started, context, page


def _change(page: Page, action: Callable[[Page], None]) -> float:
    """Seconds from the input to the end of its rerun (NaN if none followed)."""
    page.evaluate(WATCH)
    started = time.perf_counter()
    action(page)
    try:
        page.wait_for_function("() => window.__runs >= 1", timeout=30_000)
    except PlaywrightTimeoutError:
        return math.nan
    _settle(page)
    return time.perf_counter() - started


def _measure(url: str) -> None:
    """Every page's first render and change on the served app, printed."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=BROWSER_ARGS
        )
        cold, context, _ = _first_render(browser, url, "Break-even utilisation")
        context.close()
        print(
            f"server's first session (imports and catalogs, once per server): "
            f"{cold:.2f} s"
        )
        print(
            f"{'page':<12}{'first render':>14}{'ratio':>7}"
            f"{'returning':>12}{'ratio':>7}"
            f"{'widget change':>16}{'ratio':>7}   change"
        )
        worst = 0.0
        chosen = set(sys.argv[1:]) - {"--first-only"}
        for path, text, what, change, back in PAGES:
            if chosen and path not in chosen:
                continue
            firsts, returning, changes = [], [], []
            for _ in range(REPEATS):
                seconds, context, page = _first_render(browser, f"{url}/{path}", text)
                firsts.append(seconds)
                if change is not None and back is not None and not FIRST_ONLY:
                    changes.append(_change(page, change))
                    changes.append(_change(page, back))
                page.close()
                seconds, _, page = _first_render(
                    browser, f"{url}/{path}", text, context
                )
                returning.append(seconds)
                context.close()
            first = statistics.median(firsts)
            again = statistics.median(returning)
            ratio = first / FIRST_RENDER_TARGET_S
            again_ratio = again / FIRST_RENDER_TARGET_S
            worst = max(worst, ratio)
            line = (
                f"/{path:<11}{first:>12.2f} s{ratio:>7.2f}"
                f"{again:>10.2f} s{again_ratio:>7.2f}"
            )
            valid = [c for c in changes if not math.isnan(c)]
            if valid:
                median = statistics.median(valid)
                change_ratio = median / CHANGE_TARGET_S
                worst = max(worst, change_ratio)
                line += f"{median:>14.2f} s{change_ratio:>7.2f}   {what}"
                if len(valid) < len(changes):
                    line += f" ({len(changes) - len(valid)} without a rerun)"
            else:
                line += f"{'-':>16}{'-':>7}   {what}"
            print(line)
        browser.close()
    print(
        f"targets: first render {FIRST_RENDER_TARGET_S:.1f} s, widget change "
        f"{CHANGE_TARGET_S:.1f} s; medians of {REPEATS} runs (changes: there "
        f"and back). First render: a new browser profile (nothing cached); "
        f"returning: a new tab of a browser that opened the app before (a new "
        f"session, its HTTP cache warm). Worst ratio (new profile, changes): "
        f"{worst:.2f}"
    )


def main() -> int:
    try:
        with served_app() as url:
            _measure(url)
    except RuntimeError as error:  # the server did not start
        print(error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
