"""The loader's stages run one way: parse, check, then the task on the valid cases only,
the same in this process and on a pool of workers."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from casebook.load import workers
from casebook.load.casebook import Task
from casebook.load.loader import load
from casebook.model import Case, Config

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 11, 20)


def _debtor(case: Case, config: Config) -> str:
    return case.debtor.name


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    book = tmp_path / "book"
    shutil.copytree(ROOT / "cases", book / "cases")
    shutil.copy(ROOT / "casebook.yml", book / "casebook.yml")
    return book


def _duplicate_an_invoice(book: Path) -> tuple[str, str]:
    """A copy of a case under another name: each file is fine alone, but both use the same
    invoice numbers, which a casebook-wide check refuses. Returns their paths."""
    first = sorted((book / "cases").glob("*.md"))[0]
    copy = first.with_name("zz-copy.md")
    shutil.copy(first, copy)
    return first.relative_to(book).as_posix(), copy.relative_to(book).as_posix()


@pytest.mark.parametrize("pooled", [False, True])
def test_the_task_runs_only_on_cases_that_pass_every_check(
        demo: Path, pooled: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if pooled:
        monkeypatch.setattr(workers, "PARALLEL_FROM", 1)
        monkeypatch.setattr(os, "cpu_count", lambda: 2)
    clashing = _duplicate_an_invoice(demo)
    casebook = load(demo, DAY, Task("names", "1", _debtor), use_cache=False)
    assert set(casebook.invalid) == set(clashing)
    assert {d.code for d in casebook.errors} == {"duplicate-invoice"}
    valid = {s.path for s in casebook.files if s.valid} - set(clashing)
    assert set(casebook.results) == valid
    assert all(isinstance(name, str) and name for name in casebook.results.values())


def test_a_pool_of_workers_gives_what_one_process_gives(
        demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here = load(demo, DAY, Task("names", "1", _debtor), use_cache=False)
    monkeypatch.setattr(workers, "PARALLEL_FROM", 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    pooled = load(demo, DAY, Task("names", "1", _debtor), use_cache=False)
    assert pooled.results == here.results
    assert pooled.files == here.files
    assert pooled.checked == here.checked


def _failing(case: Case, config: Config) -> str:
    raise ValueError(f"cannot work on {case.id}")


def test_an_error_in_a_worker_reaches_the_caller(
        demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "PARALLEL_FROM", 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with pytest.raises(ValueError, match="cannot work on"):
        load(demo, DAY, Task("fails", "1", _failing), use_cache=False)


def test_progress_climbs_to_the_whole(demo: Path) -> None:
    seen: list[tuple[int, int]] = []
    load(demo, DAY, Task("names", "1", _debtor), use_cache=False,
         progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1]
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_cached_results_are_taken_and_a_task_needs_a_day(demo: Path) -> None:
    first = load(demo, DAY, Task("names", "1", _debtor))
    again = load(demo, DAY, Task("names", "1", _debtor))
    assert again.worked == 0 and again.results == first.results
    with pytest.raises(ValueError, match="give the day"):
        load(demo, None, Task("names", "1", _debtor))  # type: ignore[call-overload]
