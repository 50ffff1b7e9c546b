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


def total(site: Path) -> int:
    """The demo's cases: one page each."""
    return len(list((site / "cases").rglob("*.html")))


def rows(page):  # type: ignore[no-untyped-def]
    return page.locator("table#cases tbody tr.case-row:visible")


def opened(page, site: Path, hash: str = ""):  # type: ignore[no-untyped-def]
    """The dashboard, its windowed table filled."""
    problems = watch(page)
    page.goto((site / "index.html").as_uri() + hash)
    page.wait_for_selector("table#cases tbody tr.case-row")
    return problems


def test_dashboard_opens_from_disk_without_errors_or_network(page, site: Path) -> None:  # type: ignore[no-untyped-def]
    problems = opened(page, site)
    page.wait_for_load_state("load")
    assert rows(page).count() == total(site)
    assert page.locator("[data-table-link]").is_hidden()  # the table replaces the link
    assert problems == []
    if os.environ.get("UPDATE_SCREENSHOTS"):
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=str(ROOT / "docs" / "dashboard.png"), full_page=False)


def column(page, at: int) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator(f"table#cases tbody tr.case-row td:nth-child({at})").all_inner_texts()


def amounts(page, at: int) -> list[float]:  # type: ignore[no-untyped-def]
    return [float(v.replace(".", "").replace(",", ".")) if v != "—" else 0.0
            for v in column(page, at)]


def test_sorting_by_each_column_both_ways(page, site: Path) -> None:  # type: ignore[no-untyped-def]
    opened(page, site)
    header = page.locator("table#cases thead th").nth(5)  # overdue amount: largest first
    header.click()
    first = amounts(page, 6)
    assert first == sorted(first, reverse=True) and first[0] > first[-1]
    assert header.get_attribute("aria-sort") == "descending"
    assert "sort=5%3Adesc" in page.evaluate("location.hash")
    header.click()
    assert amounts(page, 6) == sorted(first)
    assert header.get_attribute("aria-sort") == "ascending"
    page.locator("table#cases thead th").nth(0).click()
    names = [n.lower() for n in page.locator("table#cases tbody .case-link").all_inner_texts()]
    assert names == sorted(names)
    due = page.locator("table#cases thead th").nth(4)
    due.click()
    dates = [d for d in column(page, 5) if d != "—"]
    iso = ["-".join(reversed(d.split("/"))) for d in dates]
    assert iso == sorted(iso)
    due.click()
    iso = ["-".join(reversed(d.split("/"))) for d in column(page, 5) if d != "—"]
    assert iso == sorted(iso, reverse=True)
    for at in range(8):  # every column sorts both ways without an error
        page.locator("table#cases thead th").nth(at).click()
        page.locator("table#cases thead th").nth(at).click()
        assert rows(page).count() == total(site)


def test_filtering_by_text_status_owner_and_prescription(page, site: Path) -> None:  # type: ignore[no-untyped-def]
    problems = opened(page, site)
    page.fill("input[data-filter=text]", "portico")
    assert rows(page).count() == 1
    assert "Portico" in rows(page).first.inner_text()
    page.fill("input[data-filter=text]", "")
    assert rows(page).count() == total(site)
    page.select_option("select[data-filter=status]", "overdue")
    statuses = {r.get_attribute("data-status") for r in rows(page).all()}
    assert statuses == {"overdue"} and 0 < rows(page).count() < total(site)
    page.select_option("select[data-filter=status]", "")
    page.select_option("select[data-filter=owner]", "marta")
    owners = {r.get_attribute("data-owner") for r in rows(page).all()}
    assert owners == {"marta"}
    # the owner filter applies to the agenda too
    assert page.locator("[data-agenda-owner=marta]").is_visible()
    assert page.locator("[data-agenda-owner=luca]").is_hidden()
    page.select_option("select[data-filter=owner]", "")
    assert page.locator("[data-agenda-owner=luca]").is_visible()
    page.select_option("select[data-filter=prescription]", "soon")
    assert rows(page).count() == 1 and "Betulle" in rows(page).first.inner_text()
    page.select_option("select[data-filter=prescription]", "prescribed")
    assert rows(page).count() == 0 and page.locator("[data-empty]").is_visible()
    page.select_option("select[data-filter=prescription]", "")
    assert rows(page).count() == total(site)
    assert problems == []


def test_the_filters_and_sort_live_in_the_hash(page, site: Path) -> None:  # type: ignore[no-untyped-def]
    opened(page, site)
    page.select_option("select[data-filter=status]", "overdue")
    page.fill("input[data-filter=text]", "s.r.l")
    page.locator("table#cases thead th").nth(7).click()  # balance, largest first
    shown = column(page, 1)
    hash = page.evaluate("location.hash")
    assert "status=overdue" in hash and "q=s.r.l" in hash and "sort=7%3Adesc" in hash
    page.reload()
    page.wait_for_selector("table#cases tbody tr.case-row")
    assert page.input_value("select[data-filter=status]") == "overdue"
    assert page.input_value("input[data-filter=text]") == "s.r.l"
    assert column(page, 1) == shown
    assert page.locator("table#cases thead th").nth(7).get_attribute("aria-sort") == "descending"


def test_the_agenda_folds_closing_and_links_the_filtered_table(page, site: Path) -> None:  # type: ignore[no-untyped-def]
    opened(page, site)
    groups = page.locator("[data-agenda-owner]")
    assert groups.evaluate_all("gs => gs.map(g => g.dataset.agendaOwner)") == [
        "giulia", "luca", "marta"]
    close = page.locator("[data-agenda-owner=luca] .agenda-group__close a")
    assert close.inner_text() == "1 pratica da chiudere"
    close.click()  # the same page: the hash changes, the table follows
    page.wait_for_function("document.querySelectorAll('table#cases tbody tr.case-row').length == 1")
    assert rows(page).first.get_attribute("data-owner") == "luca"
    assert page.input_value("select[data-filter=action]") == "close"
    assert page.input_value("select[data-filter=owner]") == "luca"


def test_who_am_i_puts_my_agenda_first_and_is_remembered(page, site: Path) -> None:  # type: ignore[no-untyped-def]
    opened(page, site)
    owners = "gs => gs.map(g => g.dataset.agendaOwner)"
    page.select_option("[data-me] select", "marta")
    assert page.locator("[data-agenda-owner]").evaluate_all(owners) == ["marta", "giulia", "luca"]
    page.reload()
    page.wait_for_selector("table#cases tbody tr.case-row")
    assert page.input_value("[data-me] select") == "marta"
    assert page.locator("[data-agenda-owner]").evaluate_all(owners)[0] == "marta"
    page.select_option("[data-me] select", "")
    assert page.locator("[data-agenda-owner]").evaluate_all(owners) == ["giulia", "luca", "marta"]


def test_keyboard_moves_between_rows_and_opens_a_case(page, site: Path) -> None:  # type: ignore[no-untyped-def]
    opened(page, site)
    first = rows(page).first
    first.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.getAttribute('data-pos')")
    assert focused == "2"
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.getAttribute('data-pos')") == "1"
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.getAttribute('data-pos')") == str(total(site) - 1)
    page.keyboard.press("Home")
    name = page.evaluate("document.activeElement.querySelector('a').getAttribute('href')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/" + name)
    assert page.url.startswith("file://") and page.url.endswith(name)


def test_the_table_pages_without_javascript(browser, site: Path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto((site / "index.html").as_uri())
    assert page.locator("[data-vtable]").is_hidden()
    assert page.locator(".kpis").is_visible() and page.locator(".agenda__item").count() > 0
    page.click("[data-table-link] a")
    assert page.url.endswith("/table-1.html")
    assert page.locator("table#cases tbody tr.case-row").count() == total(site)
    assert page.locator("a[rel=next]").count() == 0
    context.close()


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
        # a letter to the debtor fits on two pages; the lawyer's dossier carries the whole
        # history of the case (and, with `lawyer:`, their address block), so it may run longer
        most = 4 if letter.stem == "dossier" else 2
        assert 1 <= pages <= most, f"{letter.relative_to(site)}: {pages} pages"
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


@pytest.mark.parametrize("width", [1300, 1000, 800])
def test_every_total_fits_its_card(page, site: Path, width: int) -> None:  # type: ignore[no-untyped-def]
    """Six totals side by side: the largest figure stays inside its card, never clipped."""
    page.set_viewport_size({"width": width, "height": 900})
    page.goto((site / "index.html").as_uri())
    clipped = page.evaluate("""[...document.querySelectorAll('.kpi')].filter(card => {
        const value = card.querySelector('.kpi__value');
        const right = card.getBoundingClientRect().right;
        return value && (value.scrollWidth > value.clientWidth
                         || value.getBoundingClientRect().right > right);
    }).length""")
    assert page.locator(".kpi").count() == 6 and clipped == 0


def test_text_sorts_and_filters_fold_case_and_accents(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """"Élite" sorts between "elba" and "Zeta", and "elite" finds it: keys are folded (lower
    case, accents dropped), whether a name has accents or not."""
    book = tmp_path / "book"
    (book / "cases").mkdir(parents=True)
    shutil.copy(ROOT / "casebook.yml", book / "casebook.yml")
    text = (ROOT / "cases" / "il-portico.md").read_text()
    for n, (name, debtor) in enumerate((("zeta", "Zeta Srl"), ("elite", "Élite Arredi"),
                                        ("elba", "elba snc"))):
        (book / "cases" / f"{name}.md").write_text(
            text.replace("Il Portico S.n.c. di Brembilla Dario & C.", debtor)
            .replace('"2026/', f'"{n}-2026/'))
    build(book, DAY)
    problems = opened(page, book / "site")
    page.locator("table#cases thead th").nth(0).click()
    names = [t.splitlines()[0] for t in column(page, 1)]
    assert names == ["elba snc", "Élite Arredi", "Zeta Srl"]
    page.fill("input[data-filter=text]", "ELITE")
    page.wait_for_function("document.querySelectorAll('table#cases tbody tr.case-row').length == 1")
    assert column(page, 1)[0].startswith("Élite Arredi") and problems == []
