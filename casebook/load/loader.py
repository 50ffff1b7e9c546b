"""Loading a whole casebook: find it, read its config, parse every case file (on every core,
through the cache), check the casebook on the day, and run the work asked on each valid case.

The stages run one way: read → parse and work → check. The work asked runs on each case in the
worker that parses it, so that no case is held until the checks are done; a case that a
casebook-wide check then finds wrong (an invoice number used in two files) has its result
dropped, and undone (`Task.undo`) where the work left something behind. It reads files and
writes only its cache; it never reads the clock.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, TypeVar, overload

from casebook.diagnostics import Diagnostic, Severity
from casebook.load.cache import CACHE_DIR as CACHE_DIR
from casebook.load.cache import Signature, Store, signature
from casebook.load.casebook import Casebook, Task
from casebook.load.checks import check
from casebook.load.files import (
    FileSummary,
    clean,
    digest,
    file_key,
    parse_file,
    refused,
    summarize,
    unreadable,
)
from casebook.load.workers import Job, Workers
from casebook.model import Case, Config
from casebook.read.casefile import MAX_BYTES, Parsed
from casebook.read.config import CONFIG_NAME, read_config
from casebook.read.discover import CASES_DIR as CASES_DIR
from casebook.read.discover import case_files as case_files
from casebook.read.discover import case_id as case_id
from casebook.read.discover import read_limited, scan

T = TypeVar("T")
Progress = Callable[[int, int], None]  # (done, total) as work completes


def find_root(start: Path) -> Path | None:
    """The nearest folder from `start` upwards holding casebook.yml; else `start` if it holds
    cases/; else None: there is no casebook here (SPEC 1)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return start if is_casebook(start) else None


def is_casebook(folder: Path) -> bool:
    """The folder holds casebook.yml or cases/."""
    return (folder / CONFIG_NAME).is_file() or (folder / CASES_DIR).is_dir()


def load_config(root: Path) -> tuple[Config, tuple[Diagnostic, ...], bytes | None]:
    path = root / CONFIG_NAME
    if not path.is_file():
        return read_config(None).config, (), None
    try:
        data = read_limited(str(path))
    except OSError as exc:
        return read_config(None).config, unreadable(CONFIG_NAME, exc).diagnostics, b""
    if isinstance(data, int):
        problem = Diagnostic(CONFIG_NAME, 1, 1, Severity.ERROR, "too-large",
                             f"the file is {data:,} bytes; casebook.yml may be at most "
                             f"{MAX_BYTES:,} bytes")
        return read_config(None).config, (problem,), b"\0too-large %d" % data
    loaded = read_config(data)
    return loaded.config, loaded.diagnostics, data


@overload
def load(root: Path, today: date | None = None, task: None = None, *,
         use_cache: bool = True, fresh: bool = False, rerun: frozenset[str] = frozenset(),
         progress: Progress | None = None) -> Casebook[Any]: ...
@overload
def load(root: Path, today: date, task: Task[T], *, use_cache: bool = True,
         fresh: bool = False, rerun: frozenset[str] = frozenset(),
         progress: Progress | None = None) -> Casebook[T]: ...
def load(root: Path, today: date | None = None, task: Task[T] | None = None, *,
         use_cache: bool = True, fresh: bool = False, rerun: frozenset[str] = frozenset(),
         progress: Progress | None = None) -> Casebook[T]:
    """Load the casebook; with `today`, check it on that day (`Casebook.checked`); with a
    `task` too, run it on every case that passes the checks (`Casebook.results`), or take its
    cached result. With `fresh`, no cached result is taken; `rerun` names case files
    (relative to the root) whose cached results are stale for a reason the cache cannot see."""
    if task is not None and today is None:
        raise ValueError("a task runs on checked cases: give the day")
    # Loading makes many objects and no reference cycles worth collecting: the cyclic
    # collector would only rescan the growing results, so it waits.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load(root, today, task, use_cache, fresh, rerun, progress)
    finally:
        if enabled:
            gc.enable()


def _load(root: Path, today: date | None, task: Task[T] | None, use_cache: bool,
          fresh: bool, rerun: frozenset[str], progress: Progress | None) -> Casebook[T]:
    config, config_diagnostics, config_bytes = load_config(root)
    config_key = digest(config_bytes or b"")
    store = Store(root / CACHE_DIR, config_key, task.kind if task else None,
                  task.version if task else "", use_cache)
    if fresh:
        store.drop_results()
    store.drop_results(rerun)
    files, refusals = scan(root)
    summaries, jobs, results = _known(files, store, task)
    worked: dict[str, T] = {}  # the task's results on the cases parsed now, before the checks
    with Workers(config, task.run if task else None, len(jobs)) as workers:
        for done, (relative, key, summary, answer) in enumerate(workers.parse(jobs), 1):
            _remember(store, relative, key, summary, summaries)
            if answer is not None:
                worked[relative] = answer[0]
            if progress is not None:
                progress(done, len(jobs))
    for diagnostic in refusals:
        summaries[diagnostic.path] = refused(diagnostic)
    casebook: Casebook[T] = Casebook(
        root=root, config=config, config_diagnostics=config_diagnostics,
        files=tuple(summaries[path] for path in sorted(summaries)),
        has_config=config_bytes is not None, worked=len(jobs))
    if today is not None:
        casebook = _checked(casebook, today)
    if task is not None:
        invalid = set(casebook.invalid)
        for relative, result in worked.items():
            if relative in invalid:  # refused by the checks: as if never worked on
                if task.undo is not None:
                    task.undo(relative, result)
                continue
            store.put_result(relative, task.key_of(relative, summaries[relative].key), result)
            results[relative] = result
        for path in invalid:
            results.pop(path, None)
    present = {relative for relative, _ in files}
    if task is not None and task.saving is not None:
        task.saving(store.kept_results(present))
    store.save(present)
    return replace(casebook, results=results)


def _checked(casebook: Casebook[T], today: date) -> Casebook[T]:
    return replace(casebook, checked=tuple(check(casebook, today)))


def _known(files: Sequence[tuple[str, str]], store: Store, task: Task[Any] | None
           ) -> tuple[dict[str, FileSummary], list[Job], dict[str, Any]]:
    """What the cache answers: the summaries and task results of unchanged files, and the
    jobs for the rest (files never seen, changed, or whose result is not cached)."""
    summaries: dict[str, FileSummary] = {}
    results: dict[str, Any] = {}
    jobs: list[Job] = []
    for relative, path in files:
        # taken before the file is read: a change after this shows as another signature
        found_signature = signature(path)
        if relative not in store.summaries:  # never seen: the worker reads and keys it
            jobs.append((relative, path, ""))
            store.pending[relative] = found_signature
            continue
        key = _key_of(store, relative, path, found_signature, summaries)
        if key is None:
            continue
        summary = store.summary(relative, key)
        if summary is not None:
            summaries[relative] = summary
            if task is None or not summary.valid:
                continue
            cached, result = store.result(relative, task.key_of(relative, key))
            if cached:
                results[relative] = result
                continue
        jobs.append((relative, path, key))
        store.pending[relative] = found_signature
    return summaries, jobs, results


def _key_of(store: Store, relative: str, path: str, found_signature: Signature | None,
            summaries: dict[str, FileSummary]) -> str | None:
    """The file's key, from its signature or by reading it; None when it cannot be read
    (its summary then says why)."""
    key = store.known_key(relative, found_signature)
    if key is not None:
        return key
    try:
        data = read_limited(path)
    except OSError as exc:
        summaries[relative] = unreadable(relative, exc)
        return None
    key = file_key(data)
    store.put_signature(relative, found_signature, key)
    return key


def _remember(store: Store, relative: str, key: str, summary: FileSummary,
              summaries: dict[str, FileSummary]) -> None:
    store.put_signature(relative, store.pending.pop(relative, None), key)
    if store.summary(relative, key) is None:
        store.put_summary(relative, summary)
    summaries[relative] = summary


def load_case(root: Path, relative: str, config: Config) -> Parsed:
    """Parse one case file afresh."""
    return parse_file(relative, read_limited(str(root / relative)), config)


def reread(root: Path, relative: str, config: Config) -> FileSummary | tuple[FileSummary, Parsed]:
    """One case file read and parsed afresh: its summary and what it parsed to, or only a
    summary saying why it could not be read."""
    try:
        data = read_limited(str(root / relative))
    except OSError as exc:
        return unreadable(relative, exc)
    parsed = parse_file(relative, data, config)
    return summarize(relative, file_key(data), parsed), parsed


def load_cases(root: Path) -> tuple[Config, list[Case]]:
    """Every case whose file parses without an error of its own, as models (for library use
    and tests)."""
    config, _, _ = load_config(root)
    cases = []
    for relative, path in case_files(root):
        case = clean(parse_file(relative, read_limited(path), config))
        if case is not None:
            cases.append(case)
    return config, cases
