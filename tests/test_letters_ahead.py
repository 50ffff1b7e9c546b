"""`policy.letters_ahead`: `build` makes a next action's letter only once the action is due
within that many days; the agreements' confirmations and the registry's other offered letters
are made whatever the day, and any letter not built is still made on demand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from click.testing import CliRunner

from casebook.cli.main import main
from casebook.diagnostics import Severity
from casebook.read.config import read_config
from casebook.site.build import build
from tests.conftest import write_casebook

DAY = date(2026, 11, 20)
# overdue since 10 November, the reminder done on the 12th: the written reminder is due on
# the 30th, ten days from DAY
VERDI = """\
    ---
    debtor:
      name: Verdi Impianti S.r.l.
      email: verdi@example.it
    invoices:
      - {number: "2026/300", date: 2026-10-10, due: 2026-11-10, amount: 1000.00}
    ---
    ## 2026-11-12 phone reminder — Marco Verdi
    Will check.
    """
# a promise pending until 15 December: its confirmation is made now, whatever letters_ahead
NERI = """\
    ---
    debtor:
      name: Neri S.n.c.
      email: neri@example.it
    invoices:
      - {number: "2026/301", date: 2026-09-01, due: 2026-10-01, amount: 500.00}
    promises:
      - {made: 2026-11-15, by: 2026-12-15}
    ---
    ## 2026-10-05 phone reminder — Neri
    """
CREDITOR = "creditor: {name: Esempio S.r.l., address: \"Via Verdi 2, 20121 Milano MI\"}\n"


def letters(root: Path) -> set[str]:
    folder = root / "site" / "letters"
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.html")}


def make(root: Path, policy: str = "") -> Path:
    root.mkdir(exist_ok=True)
    return write_casebook(root, {"verdi": VERDI, "neri": NERI}, CREDITOR + policy)


def test_a_letter_due_beyond_letters_ahead_is_not_built_nor_linked(tmp_path: Path) -> None:
    build(make(tmp_path), DAY)
    assert letters(tmp_path) == {"verdi/statement.html", "neri/statement.html",
                                 "neri/promise-confirmation.html"}
    page = (tmp_path / "site" / "cases" / "verdi.html").read_text("utf-8")
    assert "written-reminder.html" not in page and "letters/verdi/statement.html" in page
    assert "written-reminder.html" not in (tmp_path / "site" / "index.html").read_text("utf-8")


def test_the_letter_is_built_once_the_action_is_due_within_letters_ahead(tmp_path: Path) -> None:
    build(make(tmp_path), date(2026, 11, 23))  # seven days before the 30th
    assert "verdi/written-reminder.html" in letters(tmp_path)
    page = (tmp_path / "site" / "cases" / "verdi.html").read_text("utf-8")
    assert "../letters/verdi/written-reminder.html" in page


def test_letters_ahead_from_the_policy_and_null_for_no_limit(tmp_path: Path) -> None:
    build(make(tmp_path / "ten", "policy: {letters_ahead: 10}\n"), DAY)
    assert "verdi/written-reminder.html" in letters(tmp_path / "ten")
    build(make(tmp_path / "nine", "policy: {letters_ahead: 9}\n"), DAY)
    assert "verdi/written-reminder.html" not in letters(tmp_path / "nine")
    build(make(tmp_path / "none", "policy: {letters_ahead: null}\n"), DAY)
    assert "verdi/written-reminder.html" in letters(tmp_path / "none")


def test_a_named_policy_sets_its_own_letters_ahead(tmp_path: Path) -> None:
    make(tmp_path, "policies: {early: {letters_ahead: 30}}\n")
    case = tmp_path / "cases" / "verdi.md"
    case.write_text(case.read_text().replace("---\ndebtor:", "---\npolicy: early\ndebtor:", 1))
    build(tmp_path, DAY)
    assert "verdi/written-reminder.html" in letters(tmp_path)


def test_a_letter_not_built_is_made_on_demand(tmp_path: Path) -> None:
    build(make(tmp_path), DAY)
    runner = CliRunner()
    for args in (["verdi"], ["verdi", "written-reminder"]):
        done = runner.invoke(main, ["-C", str(tmp_path), "--today", "2026-11-20", "letter",
                                    *args, "--format", "text"])
        assert done.exit_code == 0, done.output
        assert done.output.startswith("Oggetto: Sollecito di pagamento – Fattura n. 2026/300")
        assert "facendo seguito al nostro colloquio telefonico del 12 novembre" in done.output
    assert not (tmp_path / "site" / "letters" / "verdi" / "written-reminder.html").exists()


def test_letters_ahead_is_read_like_the_other_policy_keys() -> None:
    assert read_config(None).config.policy.letters_ahead == 7
    assert read_config(b"policy:\n  letters_ahead: 0\n").config.policy.letters_ahead == 0
    assert read_config(b"policy:\n  letters_ahead: null\n").config.policy.letters_ahead is None
    for bad, code in (("soon", "type"), ("-3", "type"), ("99999999", "value")):
        found = read_config(f"policy:\n  letters_ahead: {bad}\n".encode()).diagnostics
        assert [(d.path, d.line, d.col, d.severity, d.code) for d in found] == [
            ("casebook.yml", 2, 18, Severity.ERROR, code)]


def test_validate_reports_a_bad_letters_ahead_at_its_line(tmp_path: Path) -> None:
    make(tmp_path, "policy:\n  letters_ahead: soon\n")
    done = CliRunner().invoke(main, ["-C", str(tmp_path), "--today", "2026-11-20", "validate"])
    assert done.exit_code == 1
    assert "casebook.yml:3:18: error" in done.output
