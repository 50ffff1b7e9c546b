"""Guards against slips a person makes: a payment larger than what is owed, a mistyped case id,
a letter named by its name, a tab in the YAML indentation, an amount with thousands separators."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from casebook.cli.main import main
from casebook.engine.interest import interest_context, interest_for_case
from casebook.errors import CasebookError, UnknownCase
from casebook.load.cases import case_path, checked_case, open_case
from casebook.load.loader import load_cases
from casebook.site.letter_names import chosen_letter
from tests.conftest import diagnose, write_casebook
from tests.test_validate import GOOD

DAY = "2026-11-20"
LEGAL = (GOOD + "\n## 2026-10-01 pec formal-notice\nSent.\n\n"
         "## 2026-11-10 letter legal\nTo the lawyer.\n")


def run(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "--today", DAY, *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return write_casebook(tmp_path, {"rossi": GOOD, "privati/conti-paolo": GOOD.replace(
        '"2026/1"', '"2026/2"'), "legale": LEGAL.replace('"2026/1"', '"2026/3"')},
        config="locale: en\n")


# -- (a) a payment larger than what the case owes ------------------------------------------------


def test_a_payment_beyond_capital_and_interest_is_refused_with_the_figures(tmp_path: Path
                                                                            ) -> None:
    write_casebook(tmp_path, {"rossi": GOOD}, config="locale: en\ninterest: {business: none}\n")
    before = (tmp_path / "cases" / "rossi.md").read_bytes()
    code, out, err = run(tmp_path, "pay", "rossi", "5000.00")
    assert code == 1 and out == ""
    assert "5000.00" in err and "1220.00" in err and "--overpayment" in err
    assert (tmp_path / "cases" / "rossi.md").read_bytes() == before


def test_the_limit_counts_interest_and_compensation(book: Path) -> None:
    config, cases = load_cases(book)
    case = next(c for c in cases if c.id == "rossi")
    owed = interest_for_case(case, interest_context(config.interest, date(2026, 11, 20)))
    limit = sum((i.capital for i in owed.invoices), owed.interest + owed.compensation)
    assert limit > case.invoices[0].amount  # at least the EUR 40 compensation
    assert run(book, "pay", "rossi", f"{limit + 1:.2f}")[0] == 1
    code, _, err = run(book, "pay", "rossi", f"{limit:.2f}")
    assert code == 0, err


def test_the_limit_is_what_is_owed_on_the_payment_day(tmp_path: Path) -> None:
    text = GOOD.replace("---\n## ", "payments:\n  - {date: 2026-09-01, amount: 220.00}\n---\n## ")
    write_casebook(tmp_path, {"rossi": text}, config="locale: en\ninterest: {business: none}\n")
    code, _, err = run(tmp_path, "pay", "rossi", "1000.01", "--date", "2026-10-01")
    assert code == 1 and "1000.00" in err
    assert run(tmp_path, "pay", "rossi", "1000.00", "--date", "2026-10-01")[0] == 0


def test_overpayment_records_it_anyway(tmp_path: Path) -> None:
    write_casebook(tmp_path, {"rossi": GOOD}, config="locale: en\ninterest: {business: none}\n")
    code, _, err = run(tmp_path, "pay", "rossi", "5000.00", "--overpayment")
    assert code == 0, err
    assert "amount: 5000.00" in (tmp_path / "cases" / "rossi.md").read_text()


# -- (b) a mistyped case id -----------------------------------------------------------------------

TYPOS = [
    ["show", "rosi"], ["letter", "rosi"], ["log", "rosi", "phone", "-m", "x"],
    ["pay", "rosi", "10.00"], ["promise", "rosi", "--by", "2026-12-01"],
    ["dispute", "rosi", "--reason", "x"], ["history", "rosi"],
]


@pytest.mark.parametrize("args", TYPOS, ids=[a[0] for a in TYPOS])
def test_a_mistyped_case_id_gets_a_hint(book: Path, args: list[str]) -> None:
    code, _, err = run(book, *args)
    assert code == 1
    assert "no case 'rosi' (did you mean 'rossi'?)" in err


def test_the_hint_reaches_cases_in_folders(book: Path) -> None:
    code, _, err = run(book, "show", "cases/conti-paolo.md")
    assert code == 1 and "(did you mean 'privati/conti-paolo'?)" in err


@pytest.mark.parametrize("typed", ["rossi", "rossi.md", "cases/rossi.md", "./cases/rossi.md"])
def test_every_spelling_of_a_case_names_the_same_file(book: Path, typed: str) -> None:
    assert case_path(book, typed) == "cases/rossi.md"
    assert open_case(book, typed).case.id == "rossi"
    assert checked_case(book, typed, date(2026, 11, 20))[1].id == "rossi"


@pytest.mark.parametrize("typed", ["_draft", "../casebook", "rossi/../../x", "", "a//b",
                                   "Rossi", "x" * 201])
def test_only_a_legal_id_of_a_file_the_casebook_reads_is_looked_up_by_path(
        book: Path, typed: str) -> None:
    (book / "cases" / "_draft.md").write_text(GOOD)
    with pytest.raises(UnknownCase):
        case_path(book, typed)
    with pytest.raises(UnknownCase):
        open_case(book, typed)
    assert run(book, "history", typed)[0] == 1


def test_a_case_file_whose_id_breaks_the_rules_shows_its_errors_not_no_case(book: Path
                                                                            ) -> None:
    (book / "cases" / "Rossi.md").write_text(GOOD.replace('"2026/1"', '"2026/9"'))
    code, _, err = run(book, "show", "Rossi")
    assert code == 1
    assert "the case file has errors" in err and "the case id 'Rossi' may only hold" in err


def test_without_a_step_the_next_actions_letter_or_the_names_to_choose_from(book: Path
                                                                           ) -> None:
    config, case = checked_case(book, "rossi", date(2026, 11, 20))
    policy = config.policy_for(case)
    assert chosen_letter(None, "call", "reminder", policy, book, "en") == "reminder"
    assert chosen_letter("dossier", "call", None, policy, book, "en") == "dossier"
    with pytest.raises(CasebookError, match=r"the next action \(call\) has no letter; name "
                                            r"one: .*dossier"):
        chosen_letter(None, "call", None, policy, book, "en")


# -- (c) letters by their name ------------------------------------------------------------------


def test_letter_by_its_name(book: Path) -> None:
    code, out, err = run(book, "letter", "legale", "dossier", "--format", "text")
    assert code == 0, err
    assert out


@pytest.mark.parametrize("word", ["written-reminder", "sollecito-scritto", "statement",
                                  "final-notice"])
def test_letter_by_step_alias_or_name(book: Path, word: str) -> None:
    code, out, err = run(book, "letter", "rossi", word)
    assert code == 0, err
    assert out.startswith("<!")


def test_letter_of_a_template_of_the_casebook(book: Path) -> None:
    folder = book / "templates" / "letters" / "en"
    folder.mkdir(parents=True)
    (folder / "thanks.txt").write_text("Thank you, {{ case.debtor.name }}.\n")
    (folder / "thanks.html").write_text("<!doctype html><p>{{ plain_text }}</p>\n")
    code, out, err = run(book, "letter", "rossi", "thanks", "--format", "text")
    assert code == 0, err
    assert out == "Thank you, Rossi S.r.l..\n"


def test_an_unknown_letter_gets_a_hint(book: Path) -> None:
    code, _, err = run(book, "letter", "legale", "dosier")
    assert code == 1
    assert "no letter 'dosier' (did you mean 'dossier'?)" in err


# -- (d) tabs in the YAML indentation ------------------------------------------------------------


@pytest.mark.parametrize(("text", "line", "col"), [
    ("---\ndebtor:\n\tname: x\n---\n", 3, 1),
    ("---\ndebtor:\n  name: x\n\tkind: business\n---\n", 4, 1),
    ("---\ndebtor: {name: x}\ninvoices:\n  - number: \"1\"\n  \tdate: 2026-01-01\n---\n", 5, 3),
])
def test_a_tab_in_the_indentation_is_named(tmp_path: Path, text: str, line: int, col: int
                                           ) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "rossi.md").write_text(text)
    (found,) = diagnose(tmp_path)
    assert (found.line, found.col, found.code) == (line, col, "yaml"), found.format()
    assert found.message == "tabs are not allowed for indentation in YAML; use spaces"


def test_a_tab_in_casebook_yml_is_named_too(tmp_path: Path) -> None:
    write_casebook(tmp_path, {}, config="creditor:\n\tname: Esempio\n")
    (found,) = [d for d in diagnose(tmp_path) if d.path == "casebook.yml"]
    assert (found.line, found.col) == (2, 1)
    assert "tabs are not allowed for indentation" in found.message


# -- (e) thousands separators ----------------------------------------------------------------


@pytest.mark.parametrize(("amount", "meant"), [
    ("1.220", "1220.00"), ('"1.220"', "1220.00"), ('"1.220,50"', "1220.50"),
    ('"1,220.50"', "1220.50"), ('"1.220.000"', "1220000.00"), ('"12,50"', "12.50"),
])
def test_an_amount_with_thousands_separators_says_how_to_write_it(
        tmp_path: Path, amount: str, meant: str) -> None:
    write_casebook(tmp_path, {"rossi": GOOD.replace("1220.00", amount)})
    (found,) = diagnose(tmp_path)
    assert (found.line, found.col, found.code) == (8, 13, "amount"), found.format()
    assert ("write amounts without thousands separators, with a dot for decimals: "
            f"{meant}") in found.message


def test_a_dotted_thousand_may_also_be_a_zero_too_many(tmp_path: Path) -> None:
    write_casebook(tmp_path, {"rossi": GOOD.replace("1220.00", "1.220")})
    (found,) = diagnose(tmp_path)
    assert found.message == ("1.220 is not an amount: write amounts without thousands "
                             "separators, with a dot for decimals: 1220.00 (or 1.22, if that is "
                             "what you meant)")


def test_three_real_decimals_are_still_just_too_many(tmp_path: Path) -> None:
    write_casebook(tmp_path, {"rossi": GOOD.replace("1220.00", "1220.001")})
    (found,) = diagnose(tmp_path)
    assert found.message == "1220.001 has more than two decimals"


def test_pay_names_the_thousands_separator_too(book: Path) -> None:
    code, _, err = run(book, "pay", "rossi", "1.220,50")
    assert code == 1
    assert "with a dot for decimals: 1220.50" in err
