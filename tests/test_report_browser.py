"""The report in a real browser: nothing written by operators may run, and the views render."""

import os
import shutil
from pathlib import Path

import pytest

from tracekit import make_case, post
from unmask import api
from unmask.report.html import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.browser
if not CHROMIUM and os.environ.get("CI") != "true":
    pytestmark = [pytest.mark.browser, pytest.mark.skip(reason="chromium not installed (CI installs it)")]

PAYLOADS = [
    "<script>window.pwned = 1</script>",
    "<img src=x onerror=\"window.pwned = 2\">",
    "</script><script>window.pwned = 3</script>",
    "<a href=\"javascript:window.pwned=4\">click me</a>",
    "\u202eRTL override \u200b zero\u200dwidth <svg onload=\"window.pwned=5\">",
    "<!-- comment start ]]> {{ 7*7 }} ${7*7}",
]


def _browser():
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"])
    return pw, browser


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    import random

    rnd = random.Random(5)
    rows = [post(f"bg{i}", "source", i * 900, f"background {i}") for i in range(60)]
    for a in range(120):  # an organic background, so the hostile group stands out
        for j in range(5):
            o = rnd.randrange(60)
            rows.append(post(f"bgr{a}-{j}", f"bg{a}", o * 900 + rnd.uniform(1, 3000), kind="retweet", ref=f"bg{o}"))
    for i in range(8):
        rows.append(post(f"o{i}", "source", i * 5000, f"original {i}"))
        for m in range(6):
            payload = PAYLOADS[(i + m) % len(PAYLOADS)]
            rows.append(post(f"r{i}-{m}", f"acct<b>{m}</b>", i * 5000 + 3 + m, f"RT {payload}", kind="retweet",
                             ref=f"o{i}"))
            rows.append(post(f"t{i}-{m}", f"acct<b>{m}</b>", i * 5000 + 40 + m,
                             f"{payload} the same long message about the election {i}"))
    with make_case(tmp, rows) as case:
        api.detect(case, traces=["co_retweet", "co_text"])
        api.analyse(case, min_cluster=3)
        api.run_checks(case)
        assert case.count("operations") >= 1
        path = write_report(case, tmp / "report.html")
    return path


def _open(page, path):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(Path(path).as_uri())
    page.wait_for_function("window.unmaskReady === true", timeout=10_000)
    return errors, requests


def test_injected_markup_renders_as_text_and_runs_nothing(hostile_report, tmp_path):
    pw, browser = _browser()
    try:
        page = browser.new_page()
        errors, requests = _open(page, hostile_report)
        page.wait_for_timeout(500)
        assert page.evaluate("window.pwned") is None
        assert errors == []
        assert all(u.startswith("file://") for u in requests)
        body = page.inner_text("body")
        assert "<script>window.pwned = 1</script>" in body
        assert "<img src=x onerror=" in body
        assert page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
        assert page.evaluate("document.querySelectorAll('a[href^=\"javascript\"]').length") == 0
        assert page.evaluate("document.querySelectorAll('script').length") == 3  # data, library, ours
        page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
    finally:
        browser.close()
        pw.stop()


def test_demo_report_views(tmp_path):
    res = api.demo(tmp_path / "demo", posts=20000, seed=3)
    pw, browser = _browser()
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors, _ = _open(page, res["report"])
        assert errors == []
        page.wait_for_selector("#graph-1 canvas, details.op .graph canvas", timeout=10_000)
        # one block per candidate operation, and one per coordinated group listed as open
        flagged, open_ = res["analyse"]["candidate_operations"], res["analyse"]["open_networks"]
        flagged += res["analyse"]["registration_groups"]  # candidates found by how they were registered
        assert page.locator("details.op").count() == flagged + open_
        assert page.locator("#open-groups").count() == (1 if open_ else 0)
        assert page.locator("table.axes").count() == flagged + open_  # both axes, side by side, in each
        page.fill("#search", page.locator("table.accounts tr[data-search]").first.get_attribute("id")[5:])
        assert "1 matching" in page.inner_text("#search-count")
        shots = Path(os.environ.get("UNMASK_SCREENSHOTS", tmp_path))
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "summary.png"))
        page.locator("details.op").first.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "operation.png"))
    finally:
        browser.close()
        pw.stop()
