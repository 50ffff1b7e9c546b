"""The dashboard at 10,000 cases, in a real browser (Debian's Chromium through Playwright):
a light page, the windowed table (a bounded number of rows in the DOM whatever the scroll),
sorting, filtering and the URL hash over every case, the keyboard, and the plain-HTML table
pages that hold every case for reading without JavaScript. And text from a case file that
looks like HTML stays text in the windowed table.

Generating and building 10,000 cases takes about half a minute: once per module.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from casebook.site.build import build
from casebook.site.table_data import PAGE_ROWS
from tests.conftest import CHROMIUM

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="needs Debian's chromium (apt-get install chromium); CI installs it",
)

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 11, 20)
CASES = 10_000
HOSTILE = "<script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from generate import generate  # bench/generate.py
    finally:
        sys.path.pop(0)
    book = tmp_path_factory.mktemp("big")
    generate(book, CASES)
    build(book, DAY)
    return book / "site"


@pytest.fixture(scope="module")
def cases(big: Path) -> list[dict]:  # type: ignore[type-arg]
    return json.loads((big / "casebook.json").read_text("utf-8"))


def problems_of(page) -> list[str]:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: problems.append(f"network: {r.url}")
            if not r.url.startswith("file://") else None)
    return problems


def open_big(page, site: Path, hash: str = "") -> list[str]:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 1280, "height": 900})
    problems = problems_of(page)
    page.goto((site / "index.html").as_uri() + hash)
    page.wait_for_selector("table#cases tbody tr.case-row")
    return problems


def dom_rows(page) -> int:  # type: ignore[no-untyped-def]
    return page.locator("table#cases tbody tr").count()


def shown(page) -> int:  # type: ignore[no-untyped-def]
    """The count the table reports ("{shown} di {total} pratiche")."""
    text = page.locator("[data-count]").inner_text()
    return int(re.match(r"\s*(\d+)", text)[1])  # type: ignore[index]


def scroll_to(page, fraction: float) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("""f => new Promise(done => {
        const wrap = document.querySelector('[data-vtable]');
        wrap.scrollTop = (wrap.scrollHeight - wrap.clientHeight) * f;
        requestAnimationFrame(() => requestAnimationFrame(done));
    })""", fraction)


def test_the_page_is_light_and_every_case_is_in_memory(page, big: Path) -> None:  # type: ignore[no-untyped-def]
    assert (big / "index.html").stat().st_size <= 300 * 1024
    assert len(list(big.glob("rows-*.js"))) == 5
    problems = open_big(page, big)
    assert page.evaluate("window.casebookRows.length") == CASES
    assert shown(page) == CASES
    assert dom_rows(page) < 200
    for fraction in (0.5, 1.0):
        scroll_to(page, fraction)
        assert dom_rows(page) < 200
    last = page.locator("table#cases tbody tr.case-row").last
    assert last.get_attribute("data-pos") == str(CASES - 1) and last.is_visible()
    assert problems == []


def test_scrolling_keeps_the_rows_still_in_view_and_makes_the_rest(page, big: Path) -> None:  # type: ignore[no-untyped-def]
    """A small scroll moves the window by a few rows: the rows still in it are the same
    elements as before, every row in the DOM is in order with no gap, and the spacers
    stand for exactly the rows left out."""
    problems = open_big(page, big)
    scroll_to(page, 0.3)
    page.evaluate("window.__kept = document.querySelector('table#cases tbody tr.case-row"
                  ":nth-child(30)')")
    before = page.evaluate("window.__kept.getAttribute('data-pos')")
    page.evaluate("""() => new Promise(done => {
        const wrap = document.querySelector('[data-vtable]');
        wrap.scrollTop += 5 * 48;
        requestAnimationFrame(() => requestAnimationFrame(done));
    })""")
    assert page.evaluate("document.body.contains(window.__kept)")  # not made again
    assert page.evaluate("window.__kept.getAttribute('data-pos')") == before
    positions = [int(p) for p in page.locator("table#cases tbody tr.case-row")
                 .evaluate_all("rows => rows.map(r => r.getAttribute('data-pos'))")]
    assert positions == list(range(positions[0], positions[0] + len(positions)))
    heights = page.locator("table#cases tbody tr.vtable__spacer td").evaluate_all(
        "cells => cells.map(c => parseInt(c.style.height, 10))")
    assert heights == [positions[0] * 48, (CASES - positions[-1] - 1) * 48]
    for fraction in (0.9, 0.1, 0.0):  # far jumps: made anew, still in order
        scroll_to(page, fraction)
        positions = [int(p) for p in page.locator("table#cases tbody tr.case-row")
                     .evaluate_all("rows => rows.map(r => r.getAttribute('data-pos'))")]
        assert positions == list(range(positions[0], positions[0] + len(positions)))
    assert positions[0] == 0 and problems == []


def test_sorting_covers_every_case(page, big: Path, cases: list[dict]) -> None:  # type: ignore[no-untyped-def,type-arg]
    problems = open_big(page, big)
    balance = page.locator("table#cases thead th").nth(7)
    balance.click()  # largest first
    top = max(float(c["balance"]) for c in cases)
    first = page.locator("table#cases tbody tr.case-row td:nth-child(8)").first.inner_text()
    assert float(first.replace(".", "").replace(",", ".")) == top
    balance.click()
    low = min(float(c["balance"]) for c in cases)
    first = page.locator("table#cases tbody tr.case-row td:nth-child(8)").first.inner_text()
    assert float(first.replace(".", "").replace(",", ".")) == low
    scroll_to(page, 1.0)
    last = page.locator("table#cases tbody tr.case-row td:nth-child(8)").last.inner_text()
    assert float(last.replace(".", "").replace(",", ".")) == top
    assert dom_rows(page) < 200 and problems == []


def test_filtering_and_the_hash_cover_every_case(page, big: Path, cases: list[dict]) -> None:  # type: ignore[no-untyped-def,type-arg]
    problems = open_big(page, big)
    statuses = Counter(c["status"] for c in cases)
    owners = Counter(c["owner"] for c in cases if c["owner"])
    status, owner = statuses.most_common(1)[0][0], owners.most_common(1)[0][0]
    page.select_option("select[data-filter=status]", status)
    assert shown(page) == statuses[status]
    page.select_option("select[data-filter=owner]", owner)
    both = sum(1 for c in cases if c["status"] == status and c["owner"] == owner)
    assert shown(page) == both and dom_rows(page) < 200
    one = [c for c in cases if c["status"] == status and c["owner"] == owner][-1]
    page.fill("input[data-filter=text]", one["case"])
    assert shown(page) == 1
    assert page.locator("table#cases .case-link").first.inner_text() == one["debtor"]
    page.fill("input[data-filter=text]", "")
    page.locator("table#cases thead th").nth(6).click()  # days overdue, most first
    hash = page.evaluate("location.hash")
    page.reload()
    page.wait_for_selector("table#cases tbody tr.case-row")
    assert page.evaluate("location.hash") == hash
    assert shown(page) == both
    assert page.input_value("select[data-filter=owner]") == owner
    assert page.locator("table#cases thead th").nth(6).get_attribute("aria-sort") == "descending"
    days = [c["days_overdue"] for c in cases if c["status"] == status and c["owner"] == owner]
    first = page.locator("table#cases tbody tr.case-row td:nth-child(7)").first.inner_text()
    assert int(first) == max(d for d in days if d is not None)
    assert problems == []


def test_the_keyboard_walks_the_whole_table(page, big: Path) -> None:  # type: ignore[no-untyped-def]
    problems = open_big(page, big)
    page.locator("table#cases tbody tr.case-row").first.focus()
    for _ in range(3):
        page.keyboard.press("PageDown")
    page.keyboard.press("ArrowDown")
    pos = int(page.evaluate("document.activeElement.getAttribute('data-pos')"))
    assert pos > 20
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.getAttribute('data-pos')") == str(CASES - 1)
    assert dom_rows(page) < 200
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.getAttribute('data-pos')") == str(CASES - 2)
    href = page.evaluate("document.activeElement.querySelector('a').getAttribute('href')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/" + href)
    assert problems == []


def test_the_table_pages_hold_every_case_in_the_dashboard_order(big: Path, cases: list[dict]  # type: ignore[type-arg]
                                                                ) -> None:
    pages = sorted(big.glob("table-*.html"), key=lambda p: int(p.stem.split("-")[1]))
    assert len(pages) == CASES // PAGE_ROWS
    ids: list[str] = []
    for number, path in enumerate(pages, 1):
        text = path.read_text("utf-8")
        rows = re.findall(r'<tr class="case-row.*?href="cases/([^"]+)\.html"', text, re.S)
        assert len(rows) == PAGE_ROWS
        ids += rows
        assert ('rel="prev"' in text) == (number > 1)
        assert (f'href="table-{number + 1}.html"' in text) == (number < len(pages))
    assert sorted(ids) == sorted(c["case"] for c in cases)
    order = re.findall(r'^\["([^"]+)"', "".join(
        p.read_text("utf-8") for p in sorted(big.glob("rows-*.js"))), re.M)
    assert ids == order  # the pages list the cases as the dashboard shows them
    assert 'href="table-1.html"' in (big / "index.html").read_text("utf-8")


def test_the_agenda_is_grouped_capped_and_folds_closing(big: Path, cases: list[dict]) -> None:  # type: ignore[type-arg]
    index = (big / "index.html").read_text("utf-8")
    groups = re.findall(
        r'<section class="agenda-group" data-agenda-owner="([^"]+)">(.*?)</section>', index, re.S)
    owners = [g[0] for g in groups]
    assert owners == sorted(o for o in owners if o != "-") + (["-"] if "-" in owners else [])
    for owner, body in groups:
        assert body.count('<li class="agenda__item">') <= 30
        due = [c for c in cases if (c["owner"] or "-") == owner and c["due"]
               and c["due"] <= DAY.isoformat() and c["action"] != "none"]
        closing = sum(1 for c in due if c["action"] == "close")
        if closing:
            assert f"#action=close&amp;due=1&amp;owner={owner}" in body
            assert f">{closing} pratiche da chiudere<" in body or closing == 1
        more = len(due) - closing - body.count('<li class="agenda__item">')
        assert (more > 0) == (f"e altre {more}<" in body)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    book = tmp_path_factory.mktemp("hostile")
    shutil.copy(ROOT / "casebook.yml", book / "casebook.yml")
    shutil.copytree(ROOT / "cases", book / "cases")
    path = book / "cases" / "gelateria-donizetti.md"
    path.write_text(path.read_text("utf-8").replace(
        "name: Gelateria Donizetti S.r.l.", "name: '" + HOSTILE + "'"), "utf-8")
    build(book, DAY)
    return book / "site"


def test_a_debtor_that_looks_like_html_shows_as_text(page, hostile: Path) -> None:  # type: ignore[no-untyped-def]
    problems = open_big(page, hostile)
    page.fill("input[data-filter=text]", "gelateria-donizetti")
    link = page.locator("table#cases tbody .case-link")
    assert link.count() == 1 and link.inner_text() == HOSTILE
    assert page.locator("table#cases img, table#cases script").count() == 0
    assert page.evaluate("window.pwned") is None
    assert problems == []
