"""The channel an action will really use, the same in every output (SPEC 4): a step whose channel
is `pec` goes by registered letter when the debtor has no PEC address, and `next --json`, `show`,
the dashboard's agenda and table, the case page, the calendar and the letter all say so."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import icalendar
import pytest
from click.testing import CliRunner

from casebook.cli.main import main
from casebook.site.build import build
from tests.conftest import write_casebook

DAY = "2026-11-20"

# d0 = 07-31, a phone call on 08-01: formal-notice due 07-31 + 45 = 09-14, by PEC when it can.
ESCALATED = """\
---
debtor:
  name: {name}
  email: conti@example.it{pec}
invoices:
  - {{number: "{number}", date: 2026-07-01, due: 2026-07-31, amount: 1220.00}}
---
## 2026-08-01 phone reminder — Maria
## 2026-08-20 email written-reminder
## 2026-08-30 email final-notice
"""
CASES = {
    "bianchi": ESCALATED.format(name="Bianchi S.r.l.", pec="", number="B-1"),
    "verdi": ESCALATED.format(name="Verdi S.r.l.", pec="\n  pec: verdi@pec.example.it",
                              number="V-1"),
}
# final-notice by PEC too: its letter sets no channel of its own, so the action's decides
PEC_LADDER = """\
locale: it
policy:
  steps:
    - {id: reminder, after: 1, channel: phone, letter: reminder}
    - {id: written-reminder, after: 20, channel: email, letter: written-reminder}
    - {id: final-notice, after: 30, channel: pec, letter: final-notice}
    - {id: formal-notice, after: 45, channel: pec, letter: formal-notice}
    - {id: legal, after: 90, wait: 15, channel: lawyer, letter: dossier}
"""


def run(root: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["-C", str(root), "--today", DAY, *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes.decode("utf-8")


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return write_casebook(tmp_path, CASES, "locale: it\n")


def piece(page: str, start: str, end: str, case: str) -> str:
    """The one piece of `page` from `start` to `end` that links to the case's page."""
    found = [p.split(end, 1)[0] for p in page.split(start)[1:]]
    found = [p for p in found if f'cases/{case}.html"' in p]
    assert len(found) == 1, case
    return found[0]


@pytest.mark.parametrize(("case", "channel", "label", "via"), [
    ("bianchi", "registered-letter", "Raccomandata A/R", "Raccomandata A/R"),
    ("verdi", "pec", "PEC", "Via PEC"),
])
def test_every_output_names_the_channel_really_used(book: Path, case: str, channel: str,
                                                    label: str, via: str) -> None:
    rows = {r["case"]: r for r in json.loads(run(book, "next", "--json"))}
    assert (rows[case]["action"], rows[case]["due"], rows[case]["channel"]) == (
        "formal-notice", "2026-09-14", channel)
    assert f"due 2026-09-14  by {channel}  letter formal-notice" in run(book, "show", case)

    build(book, date.fromisoformat(DAY))
    site = book / "site"
    index = (site / "index.html").read_text("utf-8")
    chip = f'<span class="chip">{label}</span>'
    assert chip in piece(index, '<li class="agenda__item">', "</li>", case)
    table = (site / "table-1.html").read_text("utf-8")  # the table without JavaScript
    assert chip in piece(table, '<tr class="case-row', "</tr>", case)
    page = (site / "cases" / f"{case}.html").read_text("utf-8")
    assert f'<span class="chip chip--lg">{label}</span>' in page

    calendar = icalendar.Calendar.from_ical((site / "actions.ics").read_bytes())
    summaries = {str(e["SUMMARY"]) for e in calendar.walk("VEVENT")}
    debtor = "Bianchi S.r.l." if case == "bianchi" else "Verdi S.r.l."
    assert f"Diffida e messa in mora ({label}): {debtor}" in summaries
    assert (site / "actions.ics").read_bytes().decode() == run(book, "export", "--format", "ics")

    letter = (site / "letters" / case / "formal-notice.html").read_text("utf-8")
    assert f'<div class="via">{via}</div>' in letter


@pytest.mark.parametrize(("case", "via"), [("bianchi", "Raccomandata A/R"),
                                           ("verdi", "Via PEC")])
def test_a_letter_of_a_pec_step_agrees_with_the_action(tmp_path: Path, case: str,
                                                       via: str) -> None:
    book = write_casebook(tmp_path, {
        name: text.replace("## 2026-08-30 email final-notice\n", "")
        for name, text in CASES.items()}, PEC_LADDER)
    rows = {r["case"]: r for r in json.loads(run(book, "next", "--json"))}
    channel = "pec" if case == "verdi" else "registered-letter"
    assert (rows[case]["action"], rows[case]["channel"]) == ("final-notice", channel)
    letter = run(book, "letter", case)
    assert f'<div class="via">{via}</div>' in letter


def test_a_letter_other_than_the_actions_goes_by_the_same_rule(tmp_path: Path) -> None:
    """`letter CASE final-notice` while the action is formal-notice: the final notice, a PEC
    step, goes by registered letter to a debtor without PEC, as an action would."""
    book = write_casebook(tmp_path, CASES, PEC_LADDER)
    assert json.loads(run(book, "next", "--json"))[0]["action"] == "formal-notice"
    assert '<div class="via">Raccomandata A/R</div>' in run(book, "letter", "bianchi",
                                                            "final-notice")
    assert '<div class="via">Via PEC</div>' in run(book, "letter", "verdi", "final-notice")
