"""`casebook history`: a scripted git repository, its commits read back as facts."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from casebook.cli.main import main
from casebook.history.diff import diff_cases
from casebook.history.facts import file_history
from casebook.model import Case
from casebook.read.casefile import read_case
from casebook.read.config import read_config

CASE = textwrap.dedent("""\
    ---
    debtor:
      name: Rossi Costruzioni S.r.l.
      pec: rossi@pec.example.it
    invoices:
      - {number: "2026/101", date: 2026-07-01, due: 2026-07-31, amount: 1220.00}
    promises:
      - {made: 2026-10-05, by: 2026-10-20}
    ---
    ## 2026-09-01 phone — Maria Bianchi
    Invoice never arrived.
    """)
PAYMENT = '    payments:\n      - {date: 2026-10-10, amount: 100.00, invoice: "2026/101"}\n'
ENTRIES = ("\n## 2026-11-02 phone reminder — first call\nShe will pay.\n"
           "\n## 2026-11-10 email written-reminder\nSent.\n")


def git(repo: Path, *args: str, day: int = 1) -> str:
    stamp = f"2026-11-{day:02d}T12:00:00+01:00"
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    result = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=Luca Verdi", "-c", "user.email=luca@x.it",
         "-c", "commit.gpgsign=false", *args],
        capture_output=True, text=True, check=True, env=env,
    )
    return result.stdout.strip()


def commit(repo: Path, message: str, day: int) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, day=day)
    return git(repo, "rev-parse", "--short", "HEAD")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A casebook with eight commits to one case file; returns it and the commits by name."""
    root = tmp_path_factory.mktemp("book")
    git(root, "init", "-q", "-b", "main")
    (root / "casebook.yml").write_text("locale: en\n")
    (root / "cases").mkdir()
    case = root / "cases" / "rossi.md"
    case.write_text(CASE)
    ids = {"add": commit(root, "Add Rossi", 1)}
    edit(case, "promises:", PAYMENT.removeprefix("    ") + "promises:")
    ids["pay"] = commit(root, "Rossi paid 100", 2)
    edit(case, "by: 2026-10-20", "by: 2026-10-30")
    ids["promise"] = commit(root, "Promise moved", 3)
    case.write_text(case.read_text() + ENTRIES)
    ids["log"] = commit(root, "Two contacts", 4)
    (root / "cases" / "2026").mkdir()
    git(root, "mv", "cases/rossi.md", "cases/2026/rossi.md")
    ids["rename"] = commit(root, "File Rossi under 2026", 5)
    git(root, "revert", "--no-edit", ids["pay"], day=6)
    ids["revert"] = git(root, "rev-parse", "--short", "HEAD")
    case = root / "cases" / "2026" / "rossi.md"
    edit(case, "pec: rossi@pec.example.it", "pec: [rossi@pec.example.it")
    edit(case, "by: 2026-10-30", "by: 2026-11-30")
    ids["break"] = commit(root, "Broken edit", 7)
    edit(case, "pec: [rossi@pec.example.it", "pec: amministrazione@pec.example.it")
    ids["fix"] = commit(root, "Fix the YAML", 8)
    return root, ids


def history(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "history", *args], env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def blocks(output: str) -> dict[str, list[str]]:
    """Short hash → the lines under that commit's header."""
    found: dict[str, list[str]] = {}
    for block in output.strip().split("\n\n"):
        header, *lines = block.splitlines()
        found[header.split()[0]] = lines
    return found


def test_every_commit_as_facts(repo: tuple[Path, dict[str, str]]) -> None:
    root, ids = repo
    code, out, _ = history(root, "2026/rossi")
    assert code == 0
    found = blocks(out)
    assert list(found) == [ids[k] for k in ("fix", "break", "revert", "rename", "log",
                                            "promise", "pay", "add")]  # newest first
    assert found[ids["add"]] == [
        "  + debtor.name: Rossi Costruzioni S.r.l.",
        "  + debtor.pec: rossi@pec.example.it",
        "  + invoice 2026/101 2026-07-01 due 2026-07-31 €1,220.00",
        "  + promise made 2026-10-05: by 2026-10-20",
        "  + log 2026-09-01 phone — Maria Bianchi",
    ]
    assert found[ids["pay"]] == ["  + payment 2026-10-10 €100.00 on 2026/101"]
    assert found[ids["promise"]] == ["  ~ promise made 2026-10-05: by 2026-10-20 → 2026-10-30"]
    assert found[ids["log"]] == ["  + log 2026-11-02 phone reminder — first call",
                                 "  + log 2026-11-10 email written-reminder"]
    assert found[ids["rename"]] == ["  renamed from cases/rossi.md"]
    assert found[ids["revert"]] == ["  - payment 2026-10-10 €100.00 on 2026/101"]
    assert found[ids["break"]] == [
        "  (file did not parse: line 5: YAML syntax: did not find expected ',' or ']' "
        "while parsing a flow sequence)"]
    assert found[ids["fix"]] == [
        f"  (compared with {ids['revert']}, the last version that parsed)",
        "  ~ debtor.pec: rossi@pec.example.it → amministrazione@pec.example.it",
        "  ~ promise made 2026-10-05: by 2026-10-30 → 2026-11-30",
    ]


def test_header_line_has_hash_date_author_subject(repo: tuple[Path, dict[str, str]]) -> None:
    root, ids = repo
    _, out, _ = history(root, "cases/2026/rossi.md")
    assert out.splitlines()[0] == f"{ids['fix']} 2026-11-08 Luca Verdi: Fix the YAML"
    assert out.rstrip().endswith("  + log 2026-09-01 phone — Maria Bianchi")


def test_since_keeps_only_later_commits(repo: tuple[Path, dict[str, str]]) -> None:
    root, ids = repo
    code, out, _ = history(root, "2026/rossi", "--since", ids["rename"])
    assert code == 0
    assert list(blocks(out)) == [ids["fix"], ids["break"], ids["revert"]]
    code, out, _ = history(root, "2026/rossi", "--since", "HEAD")
    assert (code, out) == (0, "cases/2026/rossi.md: no commits after HEAD\n")


def test_since_an_unknown_revision_fails(repo: tuple[Path, dict[str, str]]) -> None:
    code, _, err = history(repo[0], "2026/rossi", "--since", "no-such-tag")
    assert code == 1
    assert "unknown revision 'no-such-tag'" in err


def test_unknown_case_exits_1(repo: tuple[Path, dict[str, str]]) -> None:
    code, _, err = history(repo[0], "bianchi")
    assert code == 1
    assert "no case 'bianchi'" in err
    assert history(repo[0], "../../etc/passwd")[0] == 1


def test_a_deleted_case_still_has_its_history(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "old.md").write_text(CASE)
    commit(tmp_path, "Add", 1)
    (tmp_path / "cases" / "old.md").unlink()
    gone = commit(tmp_path, "Remove", 2)
    code, out, _ = history(tmp_path, "old")
    assert code == 0
    assert blocks(out)[gone][:3] == ["  file deleted", "  - debtor.name: Rossi Costruzioni S.r.l.",
                                     "  - debtor.pec: rossi@pec.example.it"]


def test_a_case_never_committed(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "new.md").write_text(CASE)
    assert history(tmp_path, "new")[:2] == (0, "cases/new.md: no commits\n")


def test_outside_git_one_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "rossi.md").write_text(CASE)
    env = {"GIT_CEILING_DIRECTORIES": str(tmp_path.parent)}
    code, out, err = history(tmp_path, "rossi", env=env)
    assert (code, out) == (1, "")
    assert err == (f"Error: {tmp_path} is not in a git repository; casebook history reads "
                   "the case file's git history\n")


def test_without_git_one_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "rossi.md").write_text(CASE)
    code, _, err = history(tmp_path, "rossi", env={"PATH": str(tmp_path / "no-bin")})
    assert code == 1
    assert err == ("Error: git is not installed (or not on PATH); casebook history reads "
                   "the case file's git history\n")


def test_file_history_in_a_sub_folder_casebook(tmp_path: Path) -> None:
    """The casebook may be a folder inside a bigger repository: paths stay casebook-relative."""
    book = tmp_path / "collections"
    (book / "cases").mkdir(parents=True)
    (book / "cases" / "rossi.md").write_text(CASE)
    git(tmp_path, "init", "-q")
    commit(tmp_path, "Add", 1)
    (found,) = file_history(book, "cases/rossi.md")
    assert found.path == "cases/rossi.md"
    assert found.changes[2].line == "+ invoice 2026/101 2026-07-01 due 2026-07-31 €1,220.00"


# -- diff_cases on its own --------------------------------------------------------------------


def case(front: str, body: str = "") -> Case:
    text = "---\ndebtor: {name: Rossi}\n" + front + "---\n" + body
    parsed = read_case("rossi", "cases/rossi.md", text.encode(), read_config(None).config)
    assert parsed.case is not None, parsed.diagnostics
    return parsed.case


def lines(old: Case | None, new: Case | None) -> list[str]:
    return [c.line for c in diff_cases(old, new)]


INVOICES = textwrap.dedent("""\
    invoices:
      - {number: "2026/101", date: 2026-07-01, due: 2026-07-31, amount: 1220.00}
      - {number: "2026/115", date: 2026-08-01, due: 2026-08-31, amount: 610.00}
    """)


def test_a_changed_field_at_the_same_position_is_a_change() -> None:
    old = case(INVOICES + "payments: [{date: 2026-10-10, amount: 100.00, invoice: '2026/101'}]\n")
    new = case(INVOICES + "payments: [{date: 2026-10-10, amount: 150.00, invoice: '2026/101'}]\n")
    assert lines(old, new) == [
        "~ payment 2026-10-10 €100.00 on 2026/101: amount €100.00 → €150.00"]


def test_payments_matched_by_identity_not_position() -> None:
    first = "  - {date: 2026-09-01, amount: 50.00}\n"
    second = "  - {date: 2026-10-10, amount: 100.00, invoice: '2026/101', method: cash}\n"
    old = case(INVOICES + "payments:\n" + first + second)
    new = case(INVOICES + "payments:\n" + second)
    assert lines(old, new) == ["- payment 2026-09-01 €50.00"]
    assert lines(new, old) == ["+ payment 2026-09-01 €50.00"]


def test_disputes_holds_and_closing() -> None:
    old = case(INVOICES + "disputes: [{invoice: '2026/115', opened: 2026-09-02}]\n"
               "hold: {until: 2026-12-01}\n")
    new = case(INVOICES + "hold: {until: 2026-12-15, reason: owner asked}\n"
               "closed: {date: 2026-12-20, reason: paid in full}\n")
    assert lines(old, new) == [
        "- dispute 2026-09-02 on 2026/115",
        "~ hold: until 2026-12-01 → 2026-12-15",
        "~ hold: reason (none) → owner asked",
        "+ closed 2026-12-20 — paid in full",
    ]
    assert lines(None, old)[-1] == "+ hold until 2026-12-01"


def test_plans_and_log_notes() -> None:
    plan = ("plans: [{agreed: 2026-10-25, instalments: [{due: 2026-11-15, amount: 400.00},"
            " {due: 2026-12-15, amount: 420.00}]}]\n")
    old = case(INVOICES + plan, "## 2026-11-02 phone — Maria\nWill pay.\n")
    new = case(INVOICES + plan.replace("420.00", "430.00").replace("agreed: 2026-10-25",
                                                                   "agreed: 2026-10-25, "
                                                                   "confirmed: 2026-10-26"),
               "## 2026-11-02 phone reminder — Maria\nWill pay on Friday.\n")
    assert lines(old, new) == [
        "~ plan agreed 2026-10-25: instalments 2026-11-15 €400.00, 2026-12-15 €420.00 → "
        "2026-11-15 €400.00, 2026-12-15 €430.00",
        "~ plan agreed 2026-10-25: confirmed (none) → 2026-10-26",
        "~ log 2026-11-02 phone — Maria: step (none) → reminder",
        "~ log 2026-11-02 phone — Maria: note edited",
    ]


def test_moved_lines_are_no_change_and_nothing_is_nothing() -> None:
    old = case(INVOICES)
    new = case("owner: luca\n" + INVOICES.replace("invoices:", "# comment\ninvoices:"))
    assert lines(old, new) == ["+ owner: luca"]
    assert lines(None, None) == []
    assert lines(new, new) == []


def test_the_debtors_tax_code_and_sdi_code_are_facts() -> None:
    def debtor(fields: str) -> Case:
        text = "---\ndebtor: {name: Rossi" + fields + "}\n---\n"
        parsed = read_case("rossi", "cases/rossi.md", text.encode(), read_config(None).config)
        assert parsed.case is not None, parsed.diagnostics
        return parsed.case

    old = debtor(", cf: RSSMRA80A01F205X")
    new = debtor(", cf: RSSMRA80A01F205Y, sdi: M5UXCR1")
    assert lines(old, new) == ["~ debtor.cf: RSSMRA80A01F205X → RSSMRA80A01F205Y",
                               "+ debtor.sdi: M5UXCR1"]
