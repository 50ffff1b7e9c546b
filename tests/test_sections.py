"""Level-2 headings that are not log entries: kept with the notes, shown, and warned about when
they read like a contact (SPEC 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from casebook.cli.main import main
from casebook.load.loader import load_cases
from casebook.site.build import build
from tests.conftest import TODAY, diagnose, write_casebook
from tests.test_validate import GOOD

CALL = "## Telefonata del 19 novembre\nHa promesso di pagare entro fine mese.\n"


def run(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "--today", TODAY.isoformat(), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_a_section_after_an_entry_is_kept_with_the_notes(tmp_path: Path) -> None:
    text = GOOD + "\n" + CALL + "\n## 2026-11-20 email\nSent the IBAN.\n"
    write_casebook(tmp_path, {"rossi": text})
    (case,) = load_cases(tmp_path)[1]
    assert "## Telefonata del 19 novembre" in case.notes
    assert "Ha promesso di pagare entro fine mese." in case.notes
    assert [e.note for e in case.log] == ["Called.", "Sent the IBAN."]


def test_notes_keep_the_order_of_the_file(tmp_path: Path) -> None:
    text = GOOD.replace("---\n## ", "---\nGood payer until 2025.\n\n## ") + (
        "\n## Background\nLong-time customer.\n\n## 2026-10-01 note\nx\n\n## Addresses\nTwo.\n")
    write_casebook(tmp_path, {"rossi": text})
    (case,) = load_cases(tmp_path)[1]
    assert case.notes == ("Good payer until 2025.\n\n## Background\nLong-time customer.\n\n"
                          "## Addresses\nTwo.")


def test_a_section_that_reads_like_a_contact_is_a_warning_with_the_heading_to_write(
        tmp_path: Path) -> None:
    write_casebook(tmp_path, {"rossi": GOOD + "\n" + CALL})
    (found,) = diagnose(tmp_path)
    assert (found.path, found.line, found.col, str(found.severity), found.code) == (
        "cases/rossi.md", 13, 4, "warning", "log-section")
    assert "reads like a contact" in found.message
    assert "## 2026-11-19 phone — Telefonata del 19 novembre" in found.message


@pytest.mark.parametrize(("heading", "suggested"), [
    ("Chiamata con Maria", "## YYYY-MM-DD phone — Chiamata con Maria"),
    ("Mail del 3 ottobre 2026", "## 2026-10-03 email — Mail del 3 ottobre 2026"),
    ("PEC inviata il 30/10", "## 2026-10-30 pec — PEC inviata il 30/10"),
    ("Raccomandata", "## YYYY-MM-DD registered-letter — Raccomandata"),
    ("Visita in sede, 5 ott", "## 2026-10-05 visit — Visita in sede, 5 ott"),
    ("Incontro", "## YYYY-MM-DD meeting — Incontro"),
    ("Call on November 2", "## 2026-11-02 phone — Call on November 2"),
    ("Pagamento promesso il 12.11.2026", "## 2026-11-12 CHANNEL — Pagamento promesso il "
                                         "12.11.2026"),
    ("Sollecito 2026-10-15", "## 2026-10-15 CHANNEL reminder — Sollecito 2026-10-15"),
    ("Diffida via PEC", "## YYYY-MM-DD pec formal-notice — Diffida via PEC"),
])
def test_what_reads_like_a_contact(tmp_path: Path, heading: str, suggested: str) -> None:
    write_casebook(tmp_path, {"rossi": GOOD + f"\n## {heading}\ntext\n"})
    (found,) = diagnose(tmp_path)
    assert found.code == "log-section" and found.line == 13, found.format()
    assert suggested in found.message


@pytest.mark.parametrize("heading", ["Background", "Note", "Accordi presi", "Rata 1/3",
                                     "Lettere da spedire"])
def test_an_ordinary_section_brings_no_warning(tmp_path: Path, heading: str) -> None:
    write_casebook(tmp_path, {"rossi": GOOD + f"\n## {heading}\ntext\n"})
    assert diagnose(tmp_path) == []


def test_a_section_before_the_first_entry_is_checked_too(tmp_path: Path) -> None:
    text = GOOD.replace("---\n## ", "---\n## Telefonata del 20 agosto\nx\n\n## ")
    write_casebook(tmp_path, {"rossi": text})
    (found,) = diagnose(tmp_path)
    assert found.line == 10 and "## 2026-08-20 phone — Telefonata" in found.message


def test_a_heading_starting_with_a_digit_but_no_date_is_an_error_with_the_heading_to_write(
        tmp_path: Path) -> None:
    write_casebook(tmp_path, {"rossi": GOOD + "\n## 19 novembre telefonata\nx\n"})
    (found,) = diagnose(tmp_path)
    assert (found.line, found.col, str(found.severity), found.code) == (13, 4, "error",
                                                                        "log-date")
    assert "## 2026-11-19 phone — 19 novembre telefonata" in found.message


def test_a_contact_heading_inside_fenced_code_is_text(tmp_path: Path) -> None:
    write_casebook(tmp_path, {"rossi": GOOD + "\n```\n" + CALL + "```\n"})
    assert diagnose(tmp_path) == []


def test_validate_strict_fails_on_it(tmp_path: Path) -> None:
    write_casebook(tmp_path, {"rossi": GOOD + "\n" + CALL})
    code, out, _ = run(tmp_path, "validate", "--strict")
    assert code == 1
    assert "cases/rossi.md:13:4: warning:" in out


def test_the_case_page_shows_the_section_escaped(tmp_path: Path) -> None:
    text = GOOD + "\n## Telefonata del 19 novembre\n<script>alert(1)</script> promised.\n"
    write_casebook(tmp_path, {"rossi": text}, config="locale: en\n")
    build(tmp_path, TODAY)
    page = (tmp_path / "site" / "cases" / "rossi.html").read_text("utf-8")
    assert "Telefonata del 19 novembre" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; promised." in page
    assert "<script>alert(1)" not in page


def test_log_appends_after_a_section_and_keeps_it(tmp_path: Path) -> None:
    write_casebook(tmp_path, {"rossi": GOOD + "\n" + CALL}, config="locale: en\n")
    code, out, err = run(tmp_path, "log", "rossi", "phone", "-m", "Paid tomorrow.")
    assert code == 0, out + err
    text = (tmp_path / "cases" / "rossi.md").read_text()
    assert text == GOOD + "\n" + CALL + "\n## 2026-11-20 phone\nPaid tomorrow.\n"
    (case,) = load_cases(tmp_path)[1]
    assert [e.note for e in case.log] == ["Called.", "Paid tomorrow."]
    assert "Ha promesso di pagare" in case.notes
