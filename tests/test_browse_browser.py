"""A real browser (Debian's chromium, driven by Playwright) on `chatkit browse`.

Screenshots land in test-artifacts/ (git-ignored) for a person to look at.
"""

import os
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="module")
def page():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
                                    headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        context.close()
        browser.close()


def body_cells(page) -> list[str]:
    return [cell.inner_text().strip() for cell in page.locator("table.rows-and-columns td.col-body").all()]


def test_search_box_finds_german_spellings(browse, page):
    page.goto(browse.url + "client/messages")
    box = page.locator('input[name="_search"]')
    box.fill("grüsse")
    box.press("Enter")
    page.wait_for_url("**_search=*")
    page.locator("table.rows-and-columns").wait_for()
    assert sorted(body_cells(page)) == ["GRÜSSE zurück nach München", "Viele Grüße aus München!", "grüsse von carol"]
    page.screenshot(path=str(ARTIFACTS / "browse-messages-search.png"), full_page=True)


def test_canned_search_query_with_a_parameter(browse, page):
    page.goto(browse.url + "client/search")
    field = page.locator('input[name="q"]')
    field.fill("münchen from:bob")
    field.press("Enter")
    page.wait_for_url("**q=*")
    marks = page.locator("table.rows-and-columns td.col-snippet mark")
    marks.first.wait_for()
    assert [m.inner_text() for m in marks.all()] == ["München"]
    assert page.locator("table.rows-and-columns td.col-snippet").inner_text() == "Viele Grüße aus München!"
    page.screenshot(path=str(ARTIFACTS / "browse-canned-search.png"), full_page=True)


def test_messages_on_a_day(browse, page):
    page.goto(browse.url + "client/messages_on_day")
    page.locator('input[name="day"]').fill("2026-12-02")
    page.locator('input[name="day"]').press("Enter")
    page.wait_for_url("**day=2026-12-02*")
    page.locator("table.rows-and-columns").wait_for()
    assert body_cells(page) == ["grüsse von carol", "Kommst du morgen?"]
    page.screenshot(path=str(ARTIFACTS / "browse-messages-on-day.png"), full_page=True)


def test_per_day_chart_renders(browse, page):
    fragment = "#g.mark=bar&g.x_column=day&g.x_type=ordinal&g.y_column=messages&g.y_type=quantitative"
    page.goto(browse.url + "client/messages_per_day" + fragment)
    chart = page.locator(".vega-embed canvas, .vega-embed svg").first
    chart.wait_for()
    box = chart.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100
    page.screenshot(path=str(ARTIFACTS / "browse-per-day-chart.png"), full_page=True)


def test_secrets_page_is_forbidden_in_the_browser(browse, page):
    response = page.goto(browse.url + "server/credentials")
    assert response.status == 403
    page.goto(browse.url + "server?sql=" + quote("select password_hash from credentials"))
    assert "$argon2" not in page.content()
    page.screenshot(path=str(ARTIFACTS / "browse-forbidden.png"))
