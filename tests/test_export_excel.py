"""The case list for spreadsheets: the debtor's contacts as columns, and a dialect that Excel in
Italian opens in columns (semicolons, decimal comma, a UTF-8 BOM)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from casebook.cli.main import main
from casebook.site.build import build
from tests.conftest import TODAY, write_casebook
from tests.test_validate import GOOD

ROSSI = GOOD.replace("  name: Rossi S.r.l.\n", """\
  name: Rossi S.r.l.
  address: |
    Via Roma 1
    24121 Bergamo BG
  pec: rossi@pec.example.it
  email: amministrazione@rossi.example.it
  phone: "035 000000"
""")
OLD_COLUMNS = [
    "case", "debtor", "kind", "owner", "status", "action", "due", "channel", "letter",
    "balance", "overdue", "days_overdue", "interest", "compensation", "claim", "interest_to",
    "reason",
]
NEW_COLUMNS = ["address", "pec", "email", "phone"]
LATER_COLUMNS = ["prescribes"]  # SPEC 10: the earliest prescription date, after the contacts
MONEY = ["balance", "overdue", "interest", "compensation", "claim"]


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return write_casebook(tmp_path, {"rossi": ROSSI, "bianchi": GOOD.replace(
        "Rossi", "Bianchi").replace('"2026/1"', '"2026/2"')}, config="locale: en\n")


def export(root: Path, *args: str) -> tuple[int, bytes]:
    result = CliRunner().invoke(main, ["-C", str(root), "--today", TODAY.isoformat(),
                                       "export", "--format", "csv", *args])
    return result.exit_code, result.stdout_bytes


def rows(data: bytes, delimiter: str) -> list[dict[str, str]]:
    text = data.decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_the_default_csv_gains_columns_only_at_the_end(book: Path) -> None:
    code, data = export(book)
    assert code == 0
    assert not data.startswith(b"\xef\xbb\xbf")
    header = data.split(b"\r\n", 1)[0].decode()
    assert header.split(",") == OLD_COLUMNS + NEW_COLUMNS + LATER_COLUMNS
    bianchi, rossi = rows(data, ",")
    assert rossi["address"] == "Via Roma 1, 24121 Bergamo BG"
    assert (rossi["pec"], rossi["email"], rossi["phone"]) == (
        "rossi@pec.example.it", "amministrazione@rossi.example.it", "035 000000")
    assert [bianchi[c] for c in NEW_COLUMNS] == ["", "", "", ""]
    assert rossi["balance"] == "1220.00" and rossi["due"] == "2026-09-08"
    assert rossi["prescribes"] == "2036-07-31"


def test_excel_it_has_a_bom_semicolons_and_a_decimal_comma(book: Path) -> None:
    code, data = export(book, "--dialect", "excel-it")
    assert code == 0
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data
    default = rows(export(book)[1], ",")
    excel = rows(data[3:], ";")
    assert list(excel[0]) == OLD_COLUMNS + NEW_COLUMNS + LATER_COLUMNS
    for plain, italian in zip(default, excel, strict=True):
        for column in OLD_COLUMNS + NEW_COLUMNS + LATER_COLUMNS:
            expected = plain[column].replace(".", ",") if column in MONEY else plain[column]
            assert italian[column] == expected, column
    assert excel[1]["balance"] == "1220,00" and excel[1]["claim"] != ""
    assert "," in excel[1]["claim"] and "." not in excel[1]["claim"]


def test_dialect_is_for_csv_only(book: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(book), "export", "--format", "json",
                                       "--dialect", "excel-it"])
    assert result.exit_code == 2 and "--dialect is for --format csv only" in result.stderr


def test_build_writes_cases_excel_csv_for_an_italian_casebook(book: Path) -> None:
    (book / "casebook.yml").write_text("locale: it\n")
    build(book, TODAY)
    site = book / "site"
    assert (site / "cases-excel.csv").read_bytes() == export(book, "--dialect", "excel-it")[1]
    assert (site / "cases.csv").read_bytes() == export(book)[1]
    assert 'href="cases-excel.csv"' in (site / "index.html").read_text("utf-8")


def test_an_english_casebook_gets_no_excel_file(book: Path) -> None:
    build(book, TODAY)
    assert not (book / "site" / "cases-excel.csv").exists()
    assert "cases-excel.csv" not in (book / "site" / "index.html").read_text("utf-8")
