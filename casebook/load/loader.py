"""Finding a casebook and loading all of it: the config, then every case file.

Owns root discovery (like git), case discovery under `cases/`, parallel work on every core and
the content-keyed cache that makes a second run over unchanged files cheap. Each file is parsed
once into a `Case`; what the rest of the run needs from it is a small `FileSummary` (for checks)
and, when a command asks, the result of a `Task` run on the case in the worker that holds it,
so that whole case models never have to travel between processes. It reads files and writes
only its cache; it never reads the clock.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from casebook import __version__
from casebook.atomic import write_atomic
from casebook.diagnostics import Diagnostic, Severity
from casebook.model import Case, Config
from casebook.read.casefile import MAX_BYTES, Parsed, read_case, too_large
from casebook.read.config import CONFIG_NAME, read_config
from casebook.read.discover import CASES_DIR as CASES_DIR
from casebook.read.discover import case_files as case_files
from casebook.read.discover import case_id as case_id
from casebook.read.discover import id_problem, scan
from casebook.read.discover import read_limited as read_limited
from casebook.usercache import seal, unseal

log = logging.getLogger(__name__)

CACHE_DIR = ".casebook-cache"
_BATCH_MOST = 40  # cases sent to a worker at once
_PARALLEL_FROM = 300  # below this many files to work on, a worker pool costs more than it saves
_CACHE_VERSION = 6  # raised whenever a case file may read differently: cached diagnostics go stale
_RACY_NS = 2_000_000_000  # a file changed this close to the signatures' writing is read again


class FileSummary(NamedTuple):
    """What the casebook-wide and day-dependent checks need from one file: plain values only
    (a tuple, so that thousands of them load from the cache quickly)."""

    path: str
    key: str  # digest of the file's bytes
    diagnostics: tuple[Diagnostic, ...]
    invoices: tuple[tuple[str, int, int], ...]  # number, line, column
    dated: tuple[tuple[int, int, int, str], ...]  # date ordinal, line, column, what
    valid: bool  # the file parsed into a case


@dataclass(frozen=True)
class Task:
    """Work done on each valid case in the worker that parsed it; the result must pickle.

    `name` identifies the work for the cache: equal names must give equal results for equal
    files and config (put the day in it when the work depends on the day).
    """

    name: str
    run: Callable[[Case, Config], Any]


@dataclass(frozen=True)
class Casebook:
    root: Path
    config: Config
    config_diagnostics: tuple[Diagnostic, ...]
    files: tuple[FileSummary, ...]
    has_config: bool
    results: dict[str, Any] = field(default_factory=dict)  # by case path, for the task asked
    worked: int = 0  # files parsed in this run (the rest came from the cache)

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        found = list(self.config_diagnostics)
        for summary in self.files:
            found.extend(summary.diagnostics)
        return tuple(found)

    @property
    def file_count(self) -> int:
        return len(self.files) + (1 if self.has_config else 0)

    def path_of(self, case_id_: str) -> Path:
        return self.root / CASES_DIR / f"{case_id_}.md"


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
        return read_config(None).config, (_unreadable(CONFIG_NAME, exc).diagnostics), b""
    if isinstance(data, int):
        problem = Diagnostic(CONFIG_NAME, 1, 1, Severity.ERROR, "too-large",
                             f"the file is {data:,} bytes; casebook.yml may be at most "
                             f"{MAX_BYTES:,} bytes")
        return read_config(None).config, (problem,), b"\0too-large %d" % data
    loaded = read_config(data)
    return loaded.config, loaded.diagnostics, data


Progress = Callable[[int, int], None]  # (done, total) as work completes


def load(root: Path, *, task: Task | None = None, use_cache: bool = True,
         use_results: bool = True, rerun: frozenset[str] = frozenset(),
         progress: Progress | None = None) -> Casebook:
    """Load the casebook; with `task`, also run it on every case that parsed.

    `use_results=False` runs the task on every case even where a cached result exists;
    `rerun` names the case files (paths relative to the root) for which it must run anyway.
    """
    # Loading makes many objects and no reference cycles worth collecting: the cyclic
    # collector would only rescan the growing results (a third of the time), so it waits.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load(root, task, use_cache, use_results, rerun, progress)
    finally:
        if enabled:
            gc.enable()


def _load(root: Path, task: Task | None, use_cache: bool, use_results: bool,
          rerun: frozenset[str], progress: Progress | None) -> Casebook:
    config, config_diagnostics, config_bytes = load_config(root)
    config_key = _digest((config_bytes or b"") + __version__.encode())
    store = _Store(root / CACHE_DIR, config_key, task.name if task else None, use_cache)
    if not use_results:
        store.results.clear()
    for relative in rerun:
        store.results.pop(relative, None)
    files, refused = scan(root)
    summaries, results, worked = _work(files, config, task, store, progress)
    store.save({rel for rel, _ in files})
    for diagnostic in refused:  # entries of cases/ that are not read: their diagnostics
        summaries[diagnostic.path] = FileSummary(diagnostic.path, "", (diagnostic,), (), (),
                                                 False)
    return Casebook(
        root=root,
        config=config,
        config_diagnostics=config_diagnostics,
        files=tuple(summaries[path] for path in sorted(summaries)),
        has_config=config_bytes is not None,
        results=results,
        worked=worked,
    )


def load_case(root: Path, relative: str, config: Config) -> Parsed:
    """Parse one case file afresh."""
    return _parse(relative, read_limited(str(root / relative)), config)


def reread(root: Path, relative: str, config: Config) -> FileSummary | tuple[FileSummary, Parsed]:
    """One case file read and parsed afresh: its summary and what it parsed to, or only a
    summary saying why it could not be read."""
    try:
        data = read_limited(str(root / relative))
    except OSError as exc:
        return _unreadable(relative, exc)
    parsed = _parse(relative, data, config)
    return summarize(relative, _key(data), parsed), parsed


def load_cases(root: Path) -> tuple[Config, list[Case]]:
    """Every case that parses, as models (for library use and tests)."""
    casebook = load(root, task=Task("case", _identity), use_cache=False)
    return casebook.config, [casebook.results[s.path] for s in casebook.files
                             if s.path in casebook.results]


def _identity(case: Case, config: Config) -> Case:
    return case


# -- the work on each file ----------------------------------------------------------


_Job = tuple[str, str, str]  # relative path, full path, key ("" when not read yet)
_Done = tuple[str, str, FileSummary, Any]  # relative path, key, summary, task result


def _work(
    files: Sequence[tuple[str, str]], config: Config, task: Task | None, store: _Store,
    progress: Progress | None = None,
) -> tuple[dict[str, FileSummary], dict[str, Any], int]:
    summaries: dict[str, FileSummary] = {}
    results: dict[str, Any] = {}
    jobs: list[_Job] = []
    signatures: dict[str, Signature | None] = {}
    for relative, path in files:
        # taken before the file is read: a change after this shows as another signature
        signatures[relative] = signature = _signature(path)
        if relative not in store.summaries:  # never seen: the worker reads and keys it
            jobs.append((relative, path, ""))
            continue
        key = store.known_key(relative, signature)
        if key is None:
            try:
                data = read_limited(path)
            except OSError as exc:
                summaries[relative] = _unreadable(relative, exc)
                continue
            key = _key(data)
            store.put_signature(relative, signature, key)
        summary = store.summary(relative, key)
        if summary is not None:
            summaries[relative] = summary
            if task is None or not summary.valid:
                continue
            found, result = store.result(relative, key)
            if found:
                results[relative] = result
                continue
        jobs.append((relative, path, key))
    for relative, key, summary, result in _run_jobs(jobs, config, task, progress):
        store.put_signature(relative, signatures[relative], key)
        if store.summary(relative, key) is None:
            store.put_summary(relative, summary)
        summaries[relative] = summary
        if task is not None and summary.valid and result is not None:
            results[relative] = result
            store.put_result(relative, key, result)
    return summaries, results, len(jobs)


def _run_jobs(jobs: Sequence[_Job], config: Config, task: Task | None,
              progress: Progress | None = None) -> list[_Done]:
    global _WORKER
    _WORKER = (config, task)
    if len(jobs) < _PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        done_here = []
        for job in jobs:
            done_here.append(_do(job))
            if progress is not None:
                progress(len(done_here), len(jobs))
        return done_here
    import multiprocessing

    workers = os.cpu_count() or 2
    # Batches small enough that the workers finish together (a last batch of 600 cases
    # left the other worker idle for a second), large enough that sending them costs little.
    size = max(1, min(len(jobs) // (workers * 8), _BATCH_MOST))
    batches = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    done: list[_Done] = []
    with multiprocessing.get_context("fork").Pool(workers, initializer=_start_worker) as pool:
        for batch in pool.imap(_do_batch, batches):
            done.extend(batch)
            if progress is not None:
                progress(len(done), len(jobs))
    return done


_WORKER: tuple[Config, Task | None] | None = None  # set before the workers fork


def _start_worker() -> None:
    """A worker collects its own garbage: rendering makes reference cycles (template
    contexts), which would otherwise pile up for as long as the worker lives. What it
    inherited from the parent is frozen, so the collector never rescans it."""
    gc.freeze()
    gc.enable()


def _do_batch(batch: Sequence[_Job]) -> list[_Done]:
    return [_do(job) for job in batch]


def _do(job: _Job) -> _Done:
    assert _WORKER is not None
    config, task = _WORKER
    relative, path, key = job
    try:
        data = read_limited(path)
    except OSError as exc:
        return relative, key, _unreadable(relative, exc), None
    key = key or _key(data)
    parsed = _parse(relative, data, config)
    case = parsed.case
    clean = not any(d.severity is Severity.ERROR for d in parsed.diagnostics)
    result = task.run(case, config) if task is not None and case is not None and clean else None
    return relative, key, summarize(relative, key, parsed), result


def _parse(relative: str, data: bytes | int, config: Config) -> Parsed:
    """`data` is the file's bytes, or its size when it is too large to read."""
    cid = case_id(relative)
    parsed = (read_case(cid, relative, data, config) if isinstance(data, bytes)
              else too_large(relative, data))
    problem = id_problem(relative)
    if problem is None:
        return parsed
    kept = parsed.case if problem.severity is Severity.WARNING else None
    return Parsed(kept, (problem, *parsed.diagnostics))


def summarize(relative: str, key: str, parsed: Parsed) -> FileSummary:
    case = parsed.case
    invoices: tuple[tuple[str, int, int], ...] = ()
    dated: tuple[tuple[int, int, int, str], ...] = ()
    if case is not None:
        invoices = tuple((i.number, i.pos.line, i.pos.col) for i in case.invoices)
        dated = tuple((day.toordinal(), pos.line, pos.col, what)
                      for what, day, pos in dated_facts(case))
    return FileSummary(relative, key, parsed.diagnostics, invoices, dated, case is not None)


def dated_facts(case: Case) -> list[tuple[str, Any, Any]]:
    """(what, date, position) of every fact that a later day must not see yet."""
    facts: list[tuple[str, Any, Any]] = [
        *((f"invoice {i.number} issued", i.date, i.pos) for i in case.invoices),
        *(("payment", p.date, p.pos) for p in case.payments),
        *(("dispute opened", d.opened, d.pos) for d in case.disputes),
        *(("dispute resolved", d.resolved, d.pos) for d in case.disputes if d.resolved),
        *(("promise made", p.made, p.pos) for p in case.promises),
        *(("plan agreed", p.agreed, p.pos) for p in case.plans),
        *((f"log entry ({e.channel})", e.date, e.pos) for e in case.log),
    ]
    if case.closed is not None:
        facts.append(("case closed", case.closed.date, case.closed.pos))
    return facts


def _unreadable(relative: str, exc: OSError) -> FileSummary:
    message = f"cannot read the file: {exc.strerror or exc}"
    diagnostic = Diagnostic(relative, 1, 1, Severity.ERROR, "io", message)
    return FileSummary(relative, "", (diagnostic,), (), (), False)


Signature = tuple[int, int, int, int, int]  # size, mtime and ctime in ns, inode, device


def _signature(path: str) -> Signature | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _key(data: bytes | int) -> str:
    """The cache key of what `read_limited` gave: the bytes, or the size of a file too large."""
    return _digest(data if isinstance(data, bytes) else b"\0too-large %d" % data)


# -- the cache ----------------------------------------------------------------------


class _Store:
    """Two content-keyed caches in the casebook's ignored `.casebook-cache/` folder, each
    sealed (`casebook.usercache`): a file that this user's casebook did not write is ignored.

    `summaries` serve the checks, so `validate` reads no unchanged file twice; `results` hold a
    task's result per file under the task's name (the next actions of one day, say). Whole case
    models are not kept: reading them back costs about as much as parsing the file again.
    A cache that cannot be read is ignored; one that cannot be written only costs speed.
    """

    def __init__(self, folder: Path, config_key: str, task: str | None, enabled: bool) -> None:
        self.folder, self.enabled = folder, enabled
        self.stamp = (_CACHE_VERSION, config_key)
        self.task_stamp = (_CACHE_VERSION, config_key, task)
        self.summaries: dict[str, FileSummary] = self._read("summaries", self.stamp)
        # One results file per kind of task, so `next` and `build` keep each other's.
        self.results_name = "results-" + (task or "none").split("@")[0]
        self.results: dict[str, tuple[str, Any]] = (
            self._read(self.results_name, self.task_stamp) if task else {})
        self.signatures, self.trusted_before = self._read_signatures()
        self.dirty: set[str] = set()

    def _read_signatures(self) -> tuple[dict[str, tuple[Signature, str]], int]:
        """Each file's key under its signature when it was last read, and the time before
        which a signature can be trusted: the moment the table was written, less a margin."""
        try:
            written = (self.folder / "signatures.pickle").stat().st_mtime_ns
        except OSError:
            return {}, 0
        return self._read("signatures", self.stamp), written - _RACY_NS

    def known_key(self, relative: str, signature: Signature | None) -> str | None:
        """The file's key without reading it, as git trusts its index: when its size, times,
        inode and device are those it had when it was last read, and it had not changed for a
        while before that was written down. A file changed within `_RACY_NS` of the
        table's writing could have changed again in the same tick of the clock: it is read."""
        found = self.signatures.get(relative)
        if (signature is None or found is None or found[0] != signature
                or max(signature[1], signature[2]) >= self.trusted_before):
            return None
        return found[1]

    def put_signature(self, relative: str, signature: Signature | None, key: str) -> None:
        if signature is None or not key:
            return
        entry = (signature, key)
        if self.signatures.get(relative) != entry:
            self.signatures[relative] = entry
            self.dirty.add("signatures")

    def _read(self, name: str, stamp: object) -> dict[str, Any]:
        if not self.enabled:
            return {}
        try:
            data = unseal((self.folder / f"{name}.pickle").read_bytes())
            if data is None:  # not written by this user's casebook: never unpickled
                return {}
            stored = pickle.loads(data)
            return stored["entries"] if stored.get("stamp") == stamp else {}
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, KeyError,
                TypeError, ValueError, ImportError, IndexError):
            return {}

    def summary(self, relative: str, key: str) -> FileSummary | None:
        found = self.summaries.get(relative)
        return found if found is not None and found.key == key else None

    def result(self, relative: str, key: str) -> tuple[bool, Any]:
        found = self.results.get(relative)
        return (True, found[1]) if found is not None and found[0] == key else (False, None)

    def put_summary(self, relative: str, summary: FileSummary) -> None:
        self.summaries[relative] = summary
        self.dirty.add("summaries")

    def put_result(self, relative: str, key: str, result: Any) -> None:
        self.results[relative] = (key, result)
        self.dirty.add(self.results_name)

    def save(self, present: set[str]) -> None:
        if not self.enabled:
            return
        tables: dict[str, dict[str, Any]] = {"summaries": self.summaries,
                                             self.results_name: self.results,
                                             "signatures": self.signatures}
        for name, entries in tables.items():
            gone = set(entries) - present
            for relative in gone:
                del entries[relative]
            if gone:
                self.dirty.add(name)
        for name in sorted(self.dirty):
            stamp = self.task_stamp if name == self.results_name else self.stamp
            self._write(name, {"stamp": stamp, "entries": tables[name]})
        if "signatures" in self.dirty:
            self._drop_racy_signatures()

    def _drop_racy_signatures(self) -> None:
        """Git's "racily clean" rule: a signature taken within `_RACY_NS` of the moment the
        table was written (that moment read off the file system's own clock, from the
        table's mtime) may hide a second change in the same tick; such entries are dropped
        and the table written again, so every signature it keeps is older than that margin."""
        try:
            written = (self.folder / "signatures.pickle").stat().st_mtime_ns
        except OSError:
            return
        racy = [relative for relative, (signature, _key) in self.signatures.items()
                if max(signature[1], signature[2]) >= written - _RACY_NS]
        if racy:
            for relative in racy:
                del self.signatures[relative]
            self._write("signatures", {"stamp": self.stamp, "entries": self.signatures})

    def _write(self, name: str, content: dict[str, Any]) -> None:
        try:
            self.folder.mkdir(exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n")
            data = pickle.dumps(content, protocol=pickle.HIGHEST_PROTOCOL)
            write_atomic(self.folder / f"{name}.pickle", seal(data))
        except OSError as exc:  # a read-only casebook still works, only slower
            log.info("cannot write the cache %s: %s", self.folder, exc)
