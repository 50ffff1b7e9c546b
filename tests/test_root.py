"""Finding the casebook (SPEC 1): the nearest folder upwards holding casebook.yml, else the
current one if it holds cases/, or the one named with -C; anywhere else every command but
`init` stops with exit 2 and one line, and writes nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from casebook.cli.main import main
from tests.conftest import tree
from tests.test_validate import GOOD

DAY = "2026-11-20"
NO_CASEBOOK = ("no casebook here or above: run `casebook init`, or name one with -C")

# Every command but init, with arguments that would work inside a casebook.
COMMANDS = [
    ["validate"], ["validate", "--strict"], ["next"], ["next", "--json"], ["show", "rossi"],
    ["build"], ["build", "--out", "elsewhere"], ["watch"], ["serve", "--port", "0"],
    ["new", "bianchi", "--name", "Bianchi"], ["log", "rossi", "phone", "-m", "x"],
    ["pay", "rossi", "10.00"], ["promise", "rossi", "--by", "2026-12-01"],
    ["dispute", "rossi", "--reason", "x"], ["letter", "rossi", "reminder"],
    ["history", "rossi"], ["export"], ["export", "--format", "csv"],
]


@pytest.fixture
def cwd(tmp_path: Path) -> Iterator[Path]:
    here = os.getcwd()
    folder = tmp_path / "somewhere"
    folder.mkdir()
    os.chdir(folder)
    try:
        yield folder
    finally:
        os.chdir(here)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--today", DAY, *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_outside_a_casebook_every_command_stops_with_exit_2(cwd: Path, args: list[str]) -> None:
    code, out, err = invoke(*args)
    assert code == 2, out + err
    assert out == ""
    assert err.strip().splitlines() == [f"Error: {NO_CASEBOOK}"]
    assert tree(cwd.parent) == {}  # nothing written: no site/, no cache, no case file


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_a_folder_named_with_C_that_is_no_casebook_stops_with_exit_2(
        cwd: Path, args: list[str]) -> None:
    (cwd / "casebook.yml").write_text("locale: en\n")  # -C names the casebook: no search
    folder = cwd / "plain"
    folder.mkdir()
    code, out, err = invoke("-C", str(folder), *args)
    assert code == 2, out + err
    assert err.strip().splitlines() == [f"Error: {NO_CASEBOOK}"]
    assert sorted(tree(cwd.parent)) == ["somewhere/casebook.yml"]


def test_help_of_a_command_works_anywhere(cwd: Path) -> None:
    code, out, _ = invoke("next", "--help")
    assert code == 0 and "Usage:" in out


def test_init_works_outside_a_casebook(cwd: Path) -> None:
    code, out, err = invoke("init")
    assert code == 0, out + err
    assert (cwd / "casebook.yml").is_file()
    assert invoke("validate")[0] == 0


def test_a_folder_with_cases_but_no_config_is_a_casebook(cwd: Path) -> None:
    (cwd / "cases").mkdir()
    (cwd / "cases" / "rossi.md").write_text(GOOD)
    code, out, _ = invoke("validate")
    assert code == 0 and out.endswith("in 1 files\n")


def test_the_nearest_config_upwards_wins(cwd: Path) -> None:
    (cwd.parent / "casebook.yml").write_text("locale: en\n")
    (cwd.parent / "cases").mkdir()
    (cwd.parent / "cases" / "rossi.md").write_text(GOOD)
    code, out, _ = invoke("next", "--json")
    assert code == 0 and '"case": "rossi"' in out


def test_cases_without_config_count_only_in_the_current_folder(cwd: Path) -> None:
    (cwd.parent / "cases").mkdir()
    code, _, err = invoke("next")
    assert code == 2 and NO_CASEBOOK in err


def test_init_starts_the_casebook_in_the_folder_C_names(cwd: Path) -> None:
    folder = cwd / "book"
    folder.mkdir()
    code, out, err = invoke("-C", str(folder), "init")
    assert code == 0, out + err
    assert (folder / "casebook.yml").is_file() and not (cwd / "casebook.yml").exists()
