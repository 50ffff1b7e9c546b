"""What reached the debtor: PEC receipts in the log (engine/delivery.py) and the rule that sends
an undelivered step again by registered letter (SPEC 9)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from click.testing import CliRunner, Result

from casebook.cli.main import main
from casebook.engine.delivery import Receipt, delivery_of, receipt_line
from casebook.model import LogEntry

MID = "<20261110.rossi.formal-notice.1a2b3c4d@pec.example.it>"


def entry(note: str) -> LogEntry:
    return LogEntry(date=date(2026, 11, 10), channel="pec", step="formal-notice", note=note)


def test_the_receipts_in_a_note_are_read_back() -> None:
    note = (f"Sent by `casebook send`.\nMessage-ID: {MID}\n"
            "accepted 2026-11-10 10:30:01 +0100\ndelivered 2026-11-10 10:32:05 +0100\n")
    found = delivery_of(entry(note))
    assert found.message_id == MID
    assert [r.kind for r in found.receipts] == ["accepted", "delivered"]
    assert found.state == "delivered" and found.delivered_on == date(2026, 11, 10)
    assert found.failure is None


def test_a_failure_stands_until_a_delivery() -> None:
    failed = Receipt(kind="delivery failed", day=date(2026, 11, 10), time="10:32:05",
                     zone="+0100", reason="casella  piena\n")
    line = receipt_line(failed)
    assert line == "delivery failed 2026-11-10 10:32:05 +0100: casella piena"
    found = delivery_of(entry(f"Message-ID: {MID}\n{line}\n"))
    assert found.state == "failed" and found.failure is not None
    assert found.failure.reason == "casella piena"
    later = delivery_of(entry(f"{line}\ndelivered 2026-11-11 08:00:00 +0100\n"))
    assert later.state == "delivered" and later.failure is None


def test_plain_notes_have_no_delivery() -> None:
    found = delivery_of(entry("The debtor accepted to pay; delivered the goods again."))
    assert found.message_id is None and found.receipts == () and found.state == "sent"


CASE = """---
debtor:
  name: Rossi Costruzioni S.r.l.
  pec: rossi@pec.example.it
invoices:
  - {{number: "2026/101", date: 2026-07-01, due: 2026-07-31, amount: 1220.00}}
---
## 2026-08-05 phone reminder — Maria Bianchi
## 2026-08-25 email written-reminder
## 2026-09-15 email final-notice
## 2026-11-10 pec formal-notice — Costituzione in mora
Sent by `casebook send` to rossi@pec.example.it.
Message-ID: {mid}
accepted 2026-11-10 10:30:01 +0100
{receipt}
{more}"""


def book(tmp_path: Path, receipt: str, more: str = "") -> Path:
    root = tmp_path / "book"
    assert CliRunner().invoke(main, ["--today", "2026-11-20", "init", str(root)]).exit_code == 0
    for example in (root / "cases").glob("*.md"):
        example.unlink()
    (root / "cases" / "rossi.md").write_text(CASE.format(mid=MID, receipt=receipt, more=more))
    return root


def next_json(root: Path, locale_reason: bool = False) -> dict[str, object]:
    result: Result = CliRunner().invoke(
        main, ["-C", str(root), "--today", "2026-11-20", "next", "--json"])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.output)
    return rows[0]


def test_an_undelivered_formal_notice_is_sent_again_by_registered_letter(tmp_path: Path) -> None:
    root = book(tmp_path, "delivery failed 2026-11-10 10:32:05 +0100: casella piena")
    row = next_json(root)
    assert (row["action"], row["channel"], row["due"], row["letter"]) == (
        "formal-notice", "registered-letter", "2026-11-10", "formal-notice")
    assert row["reason"] == ("the formal-notice sent by PEC on 2026-11-10 was not delivered "
                             "(2026-11-10: casella piena): send it again by registered letter")
    letter = CliRunner().invoke(main, ["-C", str(root), "--today", "2026-11-20", "letter",
                                       "rossi", "--format", "text"])
    assert "Raccomandata A/R" in letter.output
    assert "PEC del 10" not in letter.output  # the undelivered PEC is no contact to refer to


def test_a_delivered_formal_notice_lets_the_ladder_go_on(tmp_path: Path) -> None:
    row = next_json(book(tmp_path, "delivered 2026-11-10 10:32:05 +0100"))
    assert (row["status"], row["action"]) == ("overdue", "legal")


def test_the_step_sent_again_by_registered_letter_counts(tmp_path: Path) -> None:
    more = "## 2026-11-12 registered-letter formal-notice — sent again\n"
    row = next_json(book(tmp_path, "delivery failed 2026-11-10 10:32:05 +0100: no-dest", more))
    assert (row["status"], row["action"]) == ("overdue", "legal")


def test_the_case_page_shows_sent_accepted_delivered(tmp_path: Path) -> None:
    root = book(tmp_path, "delivery failed 2026-11-10 10:32:05 +0100: casella piena")
    assert CliRunner().invoke(main, ["-C", str(root), "--today", "2026-11-20", "build"]) \
        .exit_code == 0
    page = (root / "site" / "cases" / "rossi.html").read_text()
    assert ('<p class="timeline__delivery timeline__delivery--failed">inviata → accettata '
            '<time>2026-11-10 10:30:01 +0100</time> → non consegnata <time>2026-11-10 '
            '10:32:05 +0100</time> (casella piena)</p>') in page
    shown = CliRunner().invoke(main, ["-C", str(root), "--today", "2026-11-20", "next"]).output
    assert ("la PEC del 10/11/2026 (diffida e messa in mora) non è stata consegnata "
            "(10/11/2026: casella piena): va inviata di nuovo per raccomandata A/R") in shown


def test_the_dossier_shows_what_reached_the_debtor(tmp_path: Path) -> None:
    more = "## 2026-11-12 registered-letter formal-notice — sent again\n"
    root = book(tmp_path, "delivery failed 2026-11-10 10:32:05 +0100: casella piena", more)
    for fmt in ("text", "html"):
        result = CliRunner().invoke(main, ["-C", str(root), "--today", "2026-11-20", "letter",
                                           "rossi", "dossier", "--format", fmt])
        assert result.exit_code == 0, result.output
        assert ("PEC inviata → accettata il 10/11/2026 alle 10:30:01 → non consegnata il "
                "10/11/2026 alle 10:32:05 (casella piena)") in result.output
