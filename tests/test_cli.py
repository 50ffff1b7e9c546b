"""Every command through Click's runner: output, files written and exit codes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from casebook.cli.main import main
from tests.test_validate import GOOD

DAY = "2026-11-20"


def run(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(main, ["-C", str(root), "--today", DAY, *args], env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout_bytes.decode(), result.stderr


@pytest.fixture
def book(tmp_path: Path) -> Path:
    (tmp_path / "casebook.yml").write_text("locale: en\n")
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "rossi.md").write_text(GOOD)
    return tmp_path


# -- validate -------------------------------------------------------------------------


def test_validate_clean_exits_0_with_a_summary(book: Path) -> None:
    code, out, _ = run(book, "validate")
    assert code == 0
    assert out.splitlines()[-1] == "0 errors, 1 warnings in 2 files"  # the missing-rate warning


def test_validate_errors_exit_1_in_compiler_format(book: Path) -> None:
    (book / "cases" / "bad.md").write_text(GOOD.replace("amount: 1220.00", "amount: -1")
                                           .replace('"2026/1"', '"2026/9"'))
    code, out, _ = run(book, "validate")
    assert code == 1
    assert "cases/bad.md:8:13: error: the amount must be more than zero, found -1" in out
    assert out.splitlines()[-1] == "1 errors, 1 warnings in 3 files"


def test_validate_strict_fails_on_warnings(book: Path) -> None:
    assert run(book, "validate", "--strict")[0] == 1


def test_validate_named_files_only(book: Path) -> None:
    (book / "cases" / "bad.md").write_text("no front matter\n")
    code, out, _ = run(book, "validate", str(book / "cases" / "rossi.md"))
    assert code == 0
    assert out.strip() == "0 errors, 0 warnings in 1 files"
    code, out, _ = run(book, "validate", str(book / "cases" / "bad.md"))
    assert code == 1 and "cases/bad.md:1:1: error: no front matter" in out


def test_validate_json(book: Path) -> None:
    (book / "cases" / "bad.md").write_text("---\ndebtor: {nam: x}\n---\n")
    code, out, _ = run(book, "validate", "--json")
    report = json.loads(out)
    assert code == 1
    assert report["errors"] == 2 and report["files"] == 3
    first = report["diagnostics"][2]
    assert first == {"path": "cases/bad.md", "line": 2, "col": 10, "severity": "error",
                     "code": "unknown-key",
                     "message": "unknown key 'nam' in debtor (did you mean 'name'?)"}


def test_validate_uses_the_cache_and_sees_changes(book: Path) -> None:
    assert run(book, "validate")[0] == 0
    assert (book / ".casebook-cache" / "summaries.pickle").exists()
    (book / "cases" / "rossi.md").write_text(GOOD.replace("1220.00", "1220.005"))
    code, out, _ = run(book, "validate")
    assert code == 1 and "more than two decimals" in out


def test_bad_today_is_a_usage_error(book: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(book), "--today", "2026-02-30", "next"])
    assert result.exit_code == 2
    assert "is not a date in the form YYYY-MM-DD" in result.stderr


def test_today_from_the_environment(book: Path) -> None:
    runner = CliRunner()
    early = runner.invoke(main, ["-C", str(book), "next", "--json", "--all"],
                          env={"CASEBOOK_TODAY": "2026-07-15"})
    assert json.loads(early.stdout)[0]["status"] == "current"


def test_root_is_found_upwards(book: Path) -> None:
    runner = CliRunner()
    cwd = os.getcwd()
    try:
        os.chdir(book / "cases")
        result = runner.invoke(main, ["--today", DAY, "validate"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output


# -- init and new -----------------------------------------------------------------------


def test_init_writes_a_casebook_that_validates(tmp_path: Path) -> None:
    target = tmp_path / "book"
    code, out, _ = run(tmp_path, "init", str(target))
    assert code == 0
    assert (target / "casebook.yml").is_file()
    assert sorted(p.name for p in (target / "cases").iterdir()) == ["esempio-srl.md",
                                                                   "mario-rossi.md"]
    assert (target / ".gitignore").read_text().split() == ["site/", ".casebook-cache/", "outbox/"]
    code, out, _ = run(target, "validate")
    assert code == 0, out
    code, out, _ = run(target, "next", "--json")
    assert [r["action"] for r in json.loads(out)] == ["written-reminder"]
    mask = os.umask(0)
    os.umask(mask)
    mode = stat.S_IMODE((target / "casebook.yml").stat().st_mode)
    assert mode == 0o666 & ~mask  # the permissions of any new file, not the temp file's 0600


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "casebook.yml").write_text("locale: en\n")
    code, _, err = run(tmp_path, "init", str(tmp_path))
    assert code == 1
    assert "exists already" in err
    assert (tmp_path / "casebook.yml").read_text() == "locale: en\n"
    assert not (tmp_path / "cases").exists()


def test_new_writes_a_valid_case(book: Path) -> None:
    code, out, _ = run(book, "new", "2026/bianchi-srl", "--name", 'Bianchi "Due" S.r.l.',
                       "--owner", "giulia")
    assert code == 0
    text = (book / "cases" / "2026" / "bianchi-srl.md").read_text()
    assert 'name: "Bianchi \\"Due\\" S.r.l."' in text
    assert run(book, "validate")[0] == 0
    code, out, _ = run(book, "show", "2026/bianchi-srl")
    assert 'Bianchi "Due" S.r.l.' in out


@pytest.mark.parametrize("slug", ["../escape", "/abs", "Upper", "a/../b", "a b", ""])
def test_new_refuses_a_bad_id(book: Path, slug: str) -> None:
    code, _, err = run(book, "new", slug, "--name", "X")
    assert code == 1 and "is not a case id" in err
    assert not (book.parent / "escape.md").exists()


def test_new_refuses_to_overwrite(book: Path) -> None:
    before = (book / "cases" / "rossi.md").read_bytes()
    code, _, err = run(book, "new", "rossi", "--name", "Other")
    assert code == 1 and "exists already" in err
    assert (book / "cases" / "rossi.md").read_bytes() == before


# -- next, show, export ---------------------------------------------------------------------


def test_next_json(book: Path) -> None:
    code, out, _ = run(book, "next", "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert row == {
        "case": "rossi", "debtor": "Rossi S.r.l.", "status": "overdue",
        "action": "written-reminder", "due": "2026-09-08", "channel": "email",
        "letter": "written-reminder", "balance": "1220.00", "overdue": "1220.00",
        "days_overdue": 112, "prescribes": "2036-07-31",
        "reason": "1,220.00 overdue since 2026-07-31: written-reminder is due 20 days after "
                  "2026-07-31, and 7 days after reminder on 2026-09-01",
    }


def test_next_leaves_out_closed_and_idle_cases_unless_all(book: Path) -> None:
    (book / "cases" / "done.md").write_text(
        GOOD.replace('"2026/1"', '"2026/2"').replace("---\n## ",
                                                     "closed: {date: 2026-10-01}\n---\n## "))
    assert [r["case"] for r in json.loads(run(book, "next", "--json")[1])] == ["rossi"]
    everything = json.loads(run(book, "next", "--json", "--all")[1])
    assert [r["case"] for r in everything] == ["rossi", "done"]


def test_next_due_only_keeps_actions_due_by_today(book: Path) -> None:
    (book / "cases" / "later.md").write_text(
        GOOD.replace('"2026/1"', '"2026/2"').replace("due: 2026-07-31", "due: 2026-11-19")
        .replace("## 2026-09-01 phone reminder — Maria\nCalled.\n", ""))
    rows = json.loads(run(book, "next", "--json", "--all")[1])
    assert {r["case"]: r["due"] for r in rows} == {"rossi": "2026-09-08", "later": "2026-11-20"}
    assert [r["case"] for r in json.loads(run(book, "next", "--json", "--due")[1])] == [
        "rossi", "later"]
    run_day = CliRunner().invoke(main, ["-C", str(book), "--today", "2026-11-20", "next",
                                        "--json", "--due"])
    assert len(json.loads(run_day.stdout)) == 2


def test_next_table_is_plain_without_a_terminal_and_with_no_color(book: Path) -> None:
    code, out, _ = run(book, "next", env={"NO_COLOR": "1"})
    assert code == 0
    assert "\x1b[" not in out
    assert out.splitlines()[0].split() == ["DUE", "CASE", "STATUS", "ACTION", "OVERDUE", "DAYS"]
    assert "2026-09-08  rossi  overdue  written-reminder  1,220.00   112" in out


def test_next_with_an_invalid_case_reports_it_and_exits_1(book: Path) -> None:
    (book / "cases" / "bad.md").write_text("---\ndebtor: {}\n---\n")
    code, out, err = run(book, "next", "--json")
    assert code == 1
    assert [r["case"] for r in json.loads(out)] == ["rossi"]
    assert "cases/bad.md:2:9: error: debtor is missing the required key 'name'" in err


def test_show(book: Path) -> None:
    code, out, _ = run(book, "show", "rossi")
    assert code == 0
    assert "Rossi S.r.l." in out
    assert "Next: written-reminder  due 2026-09-08  by email" in out
    assert "2026/1" in out and "112 days overdue" in out
    assert "2026-09-01 phone [reminder] — Maria" in out


def test_show_unknown_case(book: Path) -> None:
    code, _, err = run(book, "show", "nobody")
    assert code == 1 and "no case 'nobody'" in err


def test_export_json_csv_ics(book: Path) -> None:
    assert run(book, "export", "--format", "json")[0] == 0
    (row,) = json.loads(run(book, "export", "--format", "json")[1])
    assert row["claim"] == "1260.00" and row["interest_to"] == "2026-06-30"
    assert row["invoices"] == [{"number": "2026/1", "date": "2026-07-01", "due": "2026-07-31",
                                "amount": "1220.00", "residual": "1220.00",
                                "interest": "0.00", "prescribes": "2036-07-31"}]
    lines = run(book, "export", "--format", "csv")[1].split("\r\n")
    assert lines[0].startswith("case,debtor,kind,owner,status,action,due")
    assert lines[1].startswith("rossi,Rossi S.r.l.,business,,overdue,written-reminder,2026-09-08")
    _, out, _ = run(book, "export", "--format", "ics")
    assert out.startswith("BEGIN:VCALENDAR\r\n") and out.endswith("END:VCALENDAR\r\n")
    assert "UID:rossi.written-reminder@casebook\r\n" in out
    assert "DTSTART;VALUE=DATE:20260908\r\n" in out
    assert all(len(line.encode()) <= 75 for line in out.split("\r\n"))


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    for command in ("init", "validate", "new", "next", "show", "export"):
        assert command in result.stdout


# -- each rate table has its own end (SPEC 6) -----------------------------------------------

CONSUMER = """\
---
debtor:
  name: Mario Neri
  kind: consumer
invoices:
  - number: "2026/7"
    date: 2026-08-01
    due: 2026-08-31
    amount: 1000.00
---
"""


@pytest.fixture
def consumer_book(tmp_path: Path) -> Path:
    (tmp_path / "casebook.yml").write_text("locale: en\n")
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "neri.md").write_text(CONSUMER)
    return tmp_path


def run_on(root: Path, day: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "--today", day, *args],
                                env={"NO_COLOR": "1"})
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def test_export_consumer_interest_runs_past_the_commercial_table(consumer_book: Path) -> None:
    code, out = run_on(consumer_book, "2026-11-22", "export", "--format", "json")
    (row,) = json.loads(out)
    assert code == 0
    # Sep 1 – Nov 22, 83 days at the 2026 legal rate: 1000 × 1.6 × 83 / 36500 = 3.638… → 3.64
    assert (row["interest"], row["interest_to"]) == ("3.64", "2026-11-22")
    assert row["invoices"][0]["interest"] == "3.64"
    assert row["claim"] == "1003.64"


def test_validate_warns_once_where_the_missing_commercial_rate_is_published(
        consumer_book: Path) -> None:
    code, out = run_on(consumer_book, "2026-11-22", "validate")
    assert code == 0
    (warning,) = [line for line in out.splitlines() if ": warning: " in line]
    assert warning.startswith("casebook.yml:1:1: warning: no commercial rate is known from "
                              "2026-07-01: commercial interest is computed to 2026-06-30; "
                              "add a row `{from: 2026-07-01, rate: …, source: …}`")
    assert "with the rate of the MEF communiqué in the Gazzetta Ufficiale" in warning
    assert "ECB main refinancing rate on 1 January / 1 July, + 8 points" in warning


def test_a_provisional_legal_rate_is_marked_and_warned(consumer_book: Path) -> None:
    code, out = run_on(consumer_book, "2027-01-31", "show", "neri")
    assert code == 0
    # 2027: Jan 1–31 at the 2026 rate carried forward: 1000 × 1.6 × 31 / 36500 = 1.358… → 1.36
    assert "2027-01-01 – 2027-01-31    31 days      1,000.00 at 1.6%  =      1.36  provisional" \
        in out
    code, out = run_on(consumer_book, "2027-01-31", "validate")
    assert "the legal rate for 2027 is not in the tables yet" in out
    assert "add a row `{from: 2027-01-01, rate: …, source: …}` under interest: legal_rates:" in out
    assert out.splitlines()[-1] == "0 errors, 1 warnings in 2 files"


def test_the_case_page_marks_provisional_segments(consumer_book: Path) -> None:
    assert run_on(consumer_book, "2027-01-31", "build")[0] == 0
    page = (consumer_book / "site" / "cases" / "neri.html").read_text("utf-8")
    rows = page.split('<caption class="data__caption">Computation by period</caption>')[1]
    rows = rows.split("</table>")[0]
    assert rows.count('<span class="tag" title="The previous year&#39;s rate') == 1
    assert rows.count(">provisional</span>") == 1
    assert rows.index("2027") < rows.index(">provisional</span>")
