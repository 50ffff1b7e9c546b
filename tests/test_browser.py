"""The built site in a real browser: Debian's Chromium, driven by Playwright.

Run with the rest of the tests; they need /usr/bin/chromium (`.ci/run` installs it). With
UPDATE_SCREENSHOTS=1 they also refresh the README's screenshots in docs/.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from casebook.site.build import build
from tests.conftest import CHROMIUM

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="needs Debian's chromium (apt-get install chromium); CI installs it",
)

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 11, 20)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    book = tmp_path_factory.mktemp("book")
    shutil.copy(ROOT / "casebook.yml", book / "casebook.yml")
    shutil.copytree(ROOT / "cases", book / "cases")
    build(book, DAY)
    return book / "site"


def watch(page):  # type: ignore[no-untyped-def]
    """Record console errors and every request that is not a local file."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: problems.append(f"network: {r.url}")
            if not r.url.startswith("file://") else None)
    return problems


def rows(page):  # type: ignore[no-untyped-def]
    return page.locator("table#cases tbody tr:visible")


def test_dashboard_opens_from_disk_without_errors_or_network(page, site: Path) -> None:  # type: ignore[no-untyped-def]
    problems = watch(page)
    page.goto((site / "index.html").as_uri())
    page.wait_for_load_state("load")
    assert rows(page).count() == 21
    assert problems == []
    if os.environ.get("UPDATE_SCREENSHOTS"):
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=str(ROOT / "docs" / "dashboard.png"), full_page=False)


def sort_values(page, column: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.get_attribute("data-sort") or "" for c in
            page.locator(f"table#cases tbody tr:visible td:nth-child({column})").all()]


def test_sorting_by_a_column(page, site: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto((site / "index.html").as_uri())
    header = page.locator("table#cases thead th").nth(5)  # overdue amount
    header.click()
    first = [float(v or 0) for v in sort_values(page, 6)]
    assert first in (sorted(first), sorted(first, reverse=True))
    assert header.get_attribute("aria-sort") in ("ascending", "descending")
    header.click()
    second = [float(v or 0) for v in sort_values(page, 6)]
    assert second == list(reversed(first)) or second == sorted(second)
    assert second != first
    due = page.locator("table#cases thead th").nth(4)
    due.click()
    dates = [v for v in sort_values(page, 5) if v]
    assert dates in (sorted(dates), sorted(dates, reverse=True))


def test_filtering_by_text_status_and_owner(page, site: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto((site / "index.html").as_uri())
    page.fill("input[data-filter=text]", "portico")
    assert rows(page).count() == 1
    assert "Portico" in rows(page).first.inner_text()
    page.fill("input[data-filter=text]", "")
    assert rows(page).count() == 21
    page.select_option("select[data-filter=status]", "overdue")
    statuses = {r.get_attribute("data-status") for r in rows(page).all()}
    assert statuses == {"overdue"} and rows(page).count() == 12
    page.select_option("select[data-filter=status]", "")
    page.select_option("select[data-filter=owner]", "marta")
    owners = {r.get_attribute("data-owner") for r in rows(page).all()}
    assert owners == {"marta"}
    page.select_option("select[data-filter=owner]", "")
    page.select_option("select[data-filter=prescription]", "soon")  # no demo case prescribes
    assert rows(page).count() == 0 and page.locator("[data-empty]").is_visible()
    page.select_option("select[data-filter=prescription]", "")
    assert rows(page).count() == 21


def local_links(page) -> list[str]:  # type: ignore[no-untyped-def]
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    return [h for h in hrefs if h.startswith("file://")]


def test_every_link_resolves(page, site: Path) -> None:  # type: ignore[no-untyped-def]
    for start in ("index.html", "cases/il-portico.html", "cases/2026/officina-sala.html"):
        problems = watch(page)
        page.goto((site / start).as_uri())
        links = local_links(page)
        assert links, start
        for link in links:
            target = Path(unquote(urlparse(link).path))
            assert target.is_file(), f"{start} → {link}"
        assert problems == [], start


PAGE = re.compile(rb"/Type\s*/Page(?!s)")


def test_each_letter_prints_on_one_or_two_a4_pages(page, site: Path) -> None:  # type: ignore[no-untyped-def]
    letters = sorted((site / "letters").rglob("*.html"))
    kinds = {p.stem for p in letters}
    assert kinds >= {"reminder", "written-reminder", "final-notice", "formal-notice",
                     "dossier", "plan-confirmation", "promise-confirmation", "statement"}
    for letter in letters:
        problems = watch(page)
        page.goto(letter.as_uri())
        pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        pages = len(PAGE.findall(pdf))
        assert 1 <= pages <= 2, f"{letter.relative_to(site)}: {pages} pages"
        assert problems == [], letter
    if os.environ.get("UPDATE_SCREENSHOTS"):
        page.set_viewport_size({"width": 900, "height": 1270})
        page.goto((site / "letters" / "il-portico" / "formal-notice.html").as_uri())
        page.screenshot(path=str(ROOT / "docs" / "formal-notice.png"), full_page=False)


def test_phone_width_has_no_horizontal_page_scroll(page, site: Path) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto((site / "index.html").as_uri())
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1
