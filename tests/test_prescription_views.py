"""Prescription and court where people and scripts look (SPEC 10): `next --json` and the
exports, `show`, the case page, the dashboard's total and filter, the calendar, and letters that
say nothing of legal action once a business claim is prescribed."""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from casebook.cli.main import main
from casebook.site.build import build
from tests.conftest import CHROMIUM, TODAY, write_casebook

CONFIG = """\
creditor:
  name: Esempio S.r.l.
  address: "Via Verdi 2, 20121 Milano MI"
  iban: IT60X0542811101000000123456
"""


def case_text(name: str, number: str, due: str, *, kind: str = "business",
              claim: str | None = None, extra: str = "") -> str:
    claim_line = f"    claim: {claim}\n" if claim else ""
    return f"""\
---
debtor:
  name: {name}
  kind: {kind}
  pec: debitore@pec.example.it
invoices:
  - number: "{number}"
    date: {due}
    due: {due}
    amount: 1000.00
{claim_line}{extra}---
"""


CASES = {
    # ordinary, due 2016-12-31: prescribes 2026-12-31, interrupt it from 2026-10-02
    "near": case_text("Vicina S.r.l.", "2016/7", "2016-12-31"),
    # professional, due 2020-01-31: prescribed since 2023-02-01
    "old": case_text("Studio Antico S.r.l.", "2020/1", "2020-01-31", claim="professional"),
    # an ordinary claim of this year: nothing near
    "fresh": case_text("Fresca S.r.l.", "2026/5", "2026-07-31"),
    "court": case_text("Giudizio S.r.l.", "2024/3", "2024-03-31", extra="""\
court:
  filed: 2025-06-01
  kind: decreto-ingiuntivo
  number: RG 12/2025
  court: Tribunale di Bergamo
"""),
}


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return write_casebook(tmp_path, CASES, config=CONFIG)


def run(root: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["-C", str(root), "--today", TODAY.isoformat(), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def rows_by_case(root: Path) -> dict[str, dict[str, object]]:
    return {r["case"]: r for r in json.loads(run(root, "next", "--json", "--all"))}


# -- next --json and the exports ---------------------------------------------------------------


def test_next_json_gives_the_earliest_prescription_date(book: Path) -> None:
    rows = rows_by_case(book)
    near = rows["near"]
    assert (near["status"], near["action"], near["due"], near["channel"], near["letter"],
            near["prescribes"]) == ("overdue", "interrupt-prescription", "2026-10-02", "pec",
                                    "formal-notice", "2026-12-31")
    assert list(near)[-2:] == ["prescribes", "reason"]  # after days_overdue, before reason
    assert rows["old"]["prescribes"] == "2023-01-31"  # past: prescribed already
    assert rows["fresh"]["prescribes"] == "2036-07-31"


def test_a_case_in_court_has_status_court_and_no_prescription_date(book: Path) -> None:
    court = rows_by_case(book)["court"]
    assert (court["status"], court["action"], court["due"], court["prescribes"]) == (
        "court", "none", None, None)


def test_the_json_and_csv_exports_carry_it(book: Path) -> None:
    exported = {r["case"]: r for r in json.loads(run(book, "export", "--format", "json"))}
    assert exported["near"]["prescribes"] == "2026-12-31"
    assert [i["prescribes"] for i in exported["near"]["invoices"]] == ["2026-12-31"]
    assert [i["prescribes"] for i in exported["court"]["invoices"]] == [None]
    table = list(csv.DictReader(io.StringIO(run(book, "export", "--format", "csv"),
                                            newline="")))
    assert {r["case"]: r["prescribes"] for r in table} == {
        "court": "", "fresh": "2036-07-31", "near": "2026-12-31", "old": "2023-01-31"}


def test_the_calendar_event_of_interrupt_prescription(book: Path) -> None:
    ics = run(book, "export", "--format", "ics").replace("\r\n ", "")
    event = next(e for e in ics.split("BEGIN:VEVENT") if "UID:near.interrupt-prescription" in e)
    assert "DTSTART;VALUE=DATE:20261002" in event
    assert "SUMMARY:Interrompere la prescrizione (PEC): Vicina S.r.l." in event
    assert "prescrizione: 31/12/2026)" in event  # the description names the date
    fresh = next(e for e in ics.split("BEGIN:VEVENT") if "UID:fresh." in e)
    assert "prescrizione: 31/07/2036)" in fresh


# -- show ------------------------------------------------------------------------------------


def test_show_prints_each_claims_prescription(book: Path) -> None:
    assert re.search(r"2016/7 .* prescribes 2026-12-31$", run(book, "show", "near"), re.M)
    assert re.search(r"2020/1 .* prescribed on 2023-01-31$", run(book, "show", "old"), re.M)
    court = run(book, "show", "court")
    assert ("Court: filed 2025-06-01  decreto-ingiuntivo  RG 12/2025  Tribunale di Bergamo"
            in court)
    assert re.search(r"2024/3 .* in court$", court, re.M)


# -- the site ---------------------------------------------------------------------------------


@pytest.fixture
def site(book: Path) -> Path:
    build(book, TODAY)
    return book / "site"


def test_the_case_page_shows_the_date_and_marks_a_prescribed_claim(site: Path) -> None:
    near = (site / "cases" / "near.html").read_text("utf-8")
    assert "<th scope=\"col\">Prescrizione</th>" in near
    assert '<time datetime="2026-12-31">31/12/2026</time> <span class="flag">a breve</span>' in near
    assert "badge--prescribed" not in near
    old = (site / "cases" / "old.html").read_text("utf-8")
    assert '<span class="badge badge--prescribed">prescritto</span>' in old


def test_the_case_page_shows_the_court(site: Path) -> None:
    page = (site / "cases" / "court.html").read_text("utf-8")
    head = page[page.index('<header class="case-head">'):page.index("</header>",
                                                                    page.index("case-head"))]
    assert 'badge--court">In giudizio</span>' in head
    assert '<strong>In giudizio dal <time datetime="2025-06-01">' in head
    for shown in ("decreto ingiuntivo", "RG 12/2025", "Tribunale di Bergamo"):
        assert shown in head
    assert '<span class="muted">in giudizio</span>' in page  # the claim's prescription


def test_the_dashboard_counts_the_cases_prescribing_and_filters_them(site: Path) -> None:
    index = (site / "index.html").read_text("utf-8")
    kpi = index[index.index('<div class="kpi kpi--prescribing">'):]
    kpi = kpi[:kpi.index("</div>")]
    assert "Si prescrive entro 90 giorni" in kpi
    assert "1.000,00\xa0€" in kpi and "1 pratica" in kpi
    assert '<select data-filter="prescription">' in index
    assert '<option value="soon">Entro 90 giorni</option>' in index
    table = (site / "table-1.html").read_text("utf-8")  # the table without JavaScript
    marks = {}
    for row in re.findall(r'<tr class="case-row.*?</tr>', table, re.S):
        case = re.search(r'href="cases/([a-z]+)\.html"', row)
        mark = re.search(r'data-prescription="([a-z ]+)"', row)
        if case and mark:
            marks[case[1]] = mark[1]
    assert marks == {"near": "soon", "old": "prescribed"}
    assert 'badge--court">In giudizio</span>' in table
    script = (site / "assets" / "casebook.js").read_text("utf-8")
    assert "[data-filter=prescription]" in script and "data-prescription" in script


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_the_filter_in_a_browser(page, site: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto((site / "index.html").as_uri())
    shown = page.locator("table#cases tbody tr:visible")
    assert shown.count() == 4
    for choice, case in (("soon", "Vicina"), ("prescribed", "Studio Antico")):
        page.select_option("select[data-filter=prescription]", choice)
        assert shown.count() == 1 and case in shown.first.inner_text()
    page.select_option("select[data-filter=prescription]", "")
    assert shown.count() == 4


def test_the_window_follows_the_policy(tmp_path: Path) -> None:
    root = write_casebook(tmp_path, {"near": CASES["near"]},
                          config=CONFIG + "policy:\n  prescription_warning: 30\n")
    build(root, TODAY)
    index = (root / "site" / "index.html").read_text("utf-8")
    assert "Si prescrive entro 30 giorni" in index
    table = (root / "site" / "table-1.html").read_text("utf-8")
    assert "data-prescription" not in table  # 41 days away: not within 30


# -- letters ----------------------------------------------------------------------------------

THREATS = ("decreto ingiuntivo", "senza ulteriore preavviso", "recupero del credito")


PLAN = """\
plans:
  - agreed: 2026-11-10
    fallback: legal
    instalments:
      - {due: 2026-12-10, amount: 500.00}
      - {due: 2027-01-10, amount: 500.00}
"""
PROMISE = "promises:\n  - {made: 2026-11-10, by: 2026-11-30}\n"
LADDER = "## 2026-10-01 pec formal-notice\n"  # the next step is the lawyer
#: the sentence each letter drops, as in its Italian text
DROPPED = {"formal-notice": "decreto ingiuntivo",
           "final-notice": "le iniziative per il recupero del credito",
           "plan-confirmation": "affideremo la pratica al nostro legale",
           "promise-confirmation": "affideremo la pratica al nostro legale"}


@pytest.mark.parametrize("form", ["html", "text"])
@pytest.mark.parametrize(("letter", "extra", "log"), [
    ("formal-notice", "", ""), ("final-notice", "", ""), ("plan-confirmation", PLAN, ""),
    ("promise-confirmation", PROMISE, LADDER)])
def test_a_prescribed_business_claim_drops_only_the_threat_of_legal_action(
        tmp_path: Path, letter: str, extra: str, log: str, form: str) -> None:
    texts = []
    for claim in ("professional", None):  # prescribed since 2023; ordinary, runs to 2030
        root = tmp_path / (claim or "ordinary")
        root.mkdir()
        text = case_text("Studio Antico S.r.l.", "2020/1", "2020-01-31", claim=claim,
                         extra=extra) + log
        write_casebook(root, {"old": text}, config=CONFIG)
        texts.append(run(root, "letter", "old", letter, "--format", form))
    # words and marks, as lines wrap anew
    prescribed, running = (re.findall(r"\w+|[^\w\s]", text) for text in texts)
    changes = difflib.SequenceMatcher(None, running, prescribed, autojunk=False).get_opcodes()
    assert {op for op, *_ in changes} == {"equal", "delete"}  # words dropped, none added
    dropped = " ".join(" ".join(running[a:b]) for op, a, b, _, _ in changes if op == "delete")
    assert DROPPED[letter] in dropped
    assert not any(threat in " ".join(prescribed) for threat in THREATS)


def test_in_english_too(tmp_path: Path) -> None:
    root = write_casebook(tmp_path, {"old": CASES["old"], "fresh": CASES["fresh"]},
                          config=CONFIG + "locale: en\n")

    def letter(case: str, name: str, form: str) -> str:
        return " ".join(run(root, "letter", case, name, "--format", form).split())

    for form in ("html", "text"):
        threat = "application for a payment order"
        assert threat in letter("fresh", "formal-notice", form)
        assert threat not in letter("old", "formal-notice", form)
        assert "take steps to recover the debt" in letter("fresh", "final-notice", form)
        assert "take steps to recover the debt" not in letter("old", "final-notice", form)


def test_a_consumer_is_never_asked_for_a_prescribed_claim(tmp_path: Path) -> None:
    one = case_text("Mario Rossi", "2020/1", "2020-01-31", kind="consumer",
                    claim="professional")
    both = one.removesuffix("---\n") + """\
  - number: "2026/5"
    date: 2026-07-31
    due: 2026-07-31
    amount: 500.00
---
"""
    root = write_casebook(tmp_path, {"rossi": both}, config=CONFIG)
    letter = run(root, "letter", "rossi", "formal-notice", "--format", "text")
    assert "2026/5" in letter and "2020/1" not in letter
    assert "decreto ingiuntivo" in letter
