"""The reports in a real browser: Debian's headless Chromium driven by Playwright, from file://.

Needs ``apt-get install -y chromium`` and ``pip install playwright`` (the browser is never
downloaded: Playwright launches /usr/bin/chromium). Skips without them, except under CI=...,
where a missing browser fails the run. Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader import report
from grader.exports.synthetic import HOSTILE_ID, synthetic_batch, write_batch, write_hostile

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _require_browser():
    missing = None
    try:
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError:
        missing = "playwright is not installed (pip install playwright)"
    if missing is None and not CHROMIUM.exists():
        missing = f"{CHROMIUM} not found (apt-get install -y chromium)"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser test needs a browser in CI: {missing}")
        pytest.skip(missing)


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                               args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser-report")
    write_batch(out, synthetic_batch(24, 12, seed=11))
    write_hostile(out)  # a candidate whose every field tries to inject markup or script
    report.write_reports(out, titles={})
    return out


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url, wait_until="load")
    return page, problems, requests


def column_values(page, index: int) -> list[str]:
    return page.eval_on_selector_all(
        "#candidates tbody tr:not([hidden])", f"rows => rows.map(r => r.cells[{index}].getAttribute('data-v'))")


def test_index_sorts_filters_and_draws_charts(browser, rendered):
    ARTIFACTS.mkdir(exist_ok=True)
    url = (rendered / "index.html").as_uri()
    page, problems, requests = open_page(browser, url)
    assert page.locator("#histogram svg rect").count() == 10
    assert page.locator("#heatmap svg rect").count() == 25 * 13  # 12 exercises and the hostile one
    assert page.locator("#histogram svg").bounding_box()["height"] > 100
    assert page.locator("#heatmap svg").bounding_box()["height"] > 100

    # click "Total" (column 1): ascending, then descending
    page.click("#candidates thead th:nth-child(2)")
    totals = [float(v) for v in column_values(page, 1)]
    assert totals == sorted(totals) and len(totals) == 25
    assert page.get_attribute("#candidates thead th:nth-child(2)", "aria-sort") == "ascending"
    page.click("#candidates thead th:nth-child(2)")
    assert [float(v) for v in column_values(page, 1)] == sorted(totals, reverse=True)
    # the candidate column sorts as text
    page.click("#candidates thead th:nth-child(1)")
    names = column_values(page, 0)
    assert names == sorted(names, key=str.lower)

    # filtering
    page.fill("#filter-text", "cand001")
    assert page.text_content("#filter-count") == "10"
    assert len(column_values(page, 0)) == 10
    page.fill("#filter-text", "")
    page.screenshot(path=str(ARTIFACTS / "report-index.png"), full_page=True)

    assert not problems, problems
    assert all(u.startswith("file://") for u in requests), requests


def test_candidate_page_has_no_errors(browser, rendered):
    ARTIFACTS.mkdir(exist_ok=True)
    page, problems, requests = open_page(browser, (rendered / "index.html").as_uri())
    page.click("#candidates tbody tr:first-child td:first-child a")
    page.wait_for_load_state("load")
    assert page.url.endswith("/report.html")
    assert page.locator("h1").count() == 1
    page.locator("details").first.evaluate("d => d.open = true")
    assert page.locator(".hl").count() > 0  # highlighted source
    page.screenshot(path=str(ARTIFACTS / "report-candidate.png"), full_page=True)
    assert not problems, problems
    assert all(u.startswith("file://") for u in requests), requests


def test_injection_attempt_runs_nothing(browser, rendered):
    page, problems, _ = open_page(browser, (rendered / HOSTILE_ID / "report.html").as_uri())
    for d in page.locator("details").all():
        d.evaluate("d => d.open = true")
    page.hover("h1")
    assert not problems, problems  # an alert() would have opened a dialog
    assert page.evaluate("document.scripts.length") == 0
    assert "<script>alert" in page.text_content("body")  # shown as text
