"""The files shipped in casebook/data/ load under the strict reader of user files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import casebook
from casebook.engine.law.it import shipped_rates
from casebook.engine.words import labels
from casebook.read import datafiles
from casebook.read.config import _default_fields
from casebook.read.datafiles import DataFileError, data_path, plain, read_data, read_text
from casebook.site.letter_registry import read_registry, registry

DATA = Path(casebook.__file__).parent / "data"
FILES = sorted(path.name for path in DATA.iterdir() if path.is_file())

LEGAL = [  # art. 1284 c.c., one row per decree (domain/law-it.md section 2)
    ("2012-01-01", "2.5"), ("2014-01-01", "1.0"), ("2015-01-01", "0.5"), ("2016-01-01", "0.2"),
    ("2017-01-01", "0.1"), ("2018-01-01", "0.3"), ("2019-01-01", "0.8"), ("2020-01-01", "0.05"),
    ("2021-01-01", "0.01"), ("2022-01-01", "1.25"), ("2023-01-01", "5.0"), ("2024-01-01", "2.5"),
    ("2025-01-01", "2.0"), ("2026-01-01", "1.6"),
]


def test_the_data_folder_holds_yaml_files_only() -> None:
    assert {"defaults.yml", "labels.yml", "letters.yml", "rates.yml"} <= set(FILES)
    assert all(name.endswith(".yml") for name in FILES)


@pytest.mark.parametrize("name", FILES)
def test_every_data_file_loads_under_the_strict_reader(name: str) -> None:
    assert read_data(name, plain)  # raises DataFileError on a duplicate key, alias or tag


def test_a_duplicate_key_is_an_error_naming_both_lines() -> None:
    text = "legal_rates:\n  - {from: 2026-01-01, rate: 1.6, source: x}\nlegal_rates: []\n"
    with pytest.raises(DataFileError, match=r"^casebook/data/rates\.yml:3:1: error: duplicate key "
                                            r"'legal_rates' in a mapping \(first at line 1\)"):
        read_text(text, "casebook/data/rates.yml", plain)


def test_aliases_and_tags_are_errors_as_in_a_case_file() -> None:
    with pytest.raises(DataFileError, match="anchors and aliases"):
        read_text("a: &x 1\nb: *x\n", "x.yml", plain)
    with pytest.raises(DataFileError, match=r"the YAML tag '[^']*python/name:os\.system'"):
        read_text("a: !!python/name:os.system ''\n", "x.yml", plain)


LOADERS: dict[str, Callable[[], object]] = {
    "rates.yml": shipped_rates.__wrapped__,
    "labels.yml": lambda: labels.__wrapped__("en"),
    "defaults.yml": _default_fields.__wrapped__,
    "letters.yml": registry.__wrapped__,
}


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_each_loader_of_a_data_file_refuses_a_duplicate_key(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = datafiles.data_text(name)
    key = next(line.split(":")[0] for line in original.splitlines()
               if line and not line.startswith(("#", " ")))  # the file's first top-level key
    monkeypatch.setattr(datafiles, "data_text", lambda _: original + f"{key}: {{}}\n")
    with pytest.raises(DataFileError, match=f"duplicate key '{key}'"):
        LOADERS[name]()


def test_rates_has_one_table_of_each_kind_with_every_row_sourced() -> None:
    commercial, legal = shipped_rates()
    assert [(str(row.start), str(row.rate)) for row in legal] == LEGAL
    assert all("DM " in row.source for row in legal)
    assert all("ECB " in row.source for row in commercial)
    assert {row.rate for row in commercial} >= {Decimal("8.75"), Decimal("10.15")}
    assert commercial[0].start == date(2013, 1, 1)


def _letters_with(old: str, new: str, word: str) -> tuple[str, int, int]:
    """letters.yml with the first `old` replaced by `new`, and the 1-based line and column of
    `word` in it."""
    text = datafiles.data_text("letters.yml")
    at = text.index(old)
    text = text[:at] + new + text[at + len(old):]
    where = text.index(word, at)
    return text, text.count("\n", 0, where) + 1, where - text.rfind("\n", 0, where)


@pytest.mark.parametrize(("old", "new", "word", "message"), [
    ("overdue]", "overdew]", "overdew",
     "unknown condition 'overdew' in fits (did you mean 'overdue'?)"),
    ("[something-owed]", "[always]", "always",
     "unknown condition 'always' in offered; one of: next-action, with-the-lawyer, "),
    ("invoices: all-open", "invoices: all-opened", "all-opened",
     "unknown invoices 'all-opened' (did you mean 'all-open'?)"),
    ("kind: extra", "kind: bonus", "bonus", "unknown kind 'bonus'; one of: step, dossier, extra"),
    ("name: statement", "name: reminder", "reminder",
     "the letter 'reminder' is listed twice (first at line "),
])
def test_a_bad_name_in_the_letters_registry_is_refused_where_it_stands(
    old: str, new: str, word: str, message: str
) -> None:
    text, line, col = _letters_with(old, new, word)
    with pytest.raises(DataFileError) as refused:
        read_text(text, data_path("letters.yml"), read_registry)
    assert str(refused.value).startswith(
        f"casebook/data/letters.yml:{line}:{col}: error: {message}")
