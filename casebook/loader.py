"""Finding a casebook and loading all of it: the config, then every case file.

Owns root discovery (like git), case discovery under `cases/`, parallel parsing on every core,
and the content-keyed cache that makes a second run over unchanged files cheap. It reads files
and writes only its cache; it never reads the clock (day-dependent checks are in `checks`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from casebook import __version__
from casebook.atomic import write_atomic
from casebook.casefile import Parsed, read_case
from casebook.config import CONFIG_NAME, read_config
from casebook.diagnostics import Diagnostic, Severity
from casebook.model import Case, Config

log = logging.getLogger(__name__)

CASES_DIR = "cases"
CACHE_DIR = ".casebook-cache"
CACHE_FILE = "cases.pickle"
_CASE_ID = re.compile(r"[a-z0-9_\-/]+")
_PARALLEL_FROM = 400  # below this many files to parse, a worker pool costs more than it saves


@dataclass(frozen=True, slots=True)
class Casebook:
    root: Path
    config: Config
    cases: tuple[Case, ...]
    diagnostics: tuple[Diagnostic, ...]
    files: int
    has_config: bool

    def case(self, case_id: str) -> Case | None:
        for case in self.cases:
            if case.id == case_id:
                return case
        return None


def find_root(start: Path) -> Path:
    """The nearest folder from `start` upwards holding casebook.yml; else `start`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return start


def case_files(root: Path) -> list[tuple[str, Path]]:
    """(relative path, path) of every case file, sorted; `_` and `.` names are skipped."""
    base = root / CASES_DIR
    found: list[tuple[str, Path]] = []
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
        for name in files:
            if name.endswith(".md") and not name.startswith(("_", ".")):
                path = Path(folder, name)
                found.append((path.relative_to(root).as_posix(), path))
    return sorted(found)


def case_id(relative: str) -> str:
    """`cases/2026/rossi.md` → `2026/rossi`."""
    return relative.removeprefix(CASES_DIR + "/").removesuffix(".md")


def load(root: Path, *, use_cache: bool = True) -> Casebook:
    config_path = root / CONFIG_NAME
    config_bytes = config_path.read_bytes() if config_path.is_file() else None
    loaded = read_config(config_bytes)
    files = case_files(root)
    config_key = _digest((config_bytes or b"") + __version__.encode())
    cache = _Cache(root / CACHE_DIR / CACHE_FILE, config_key) if use_cache else None
    parsed = _parse_all(files, loaded.config, cache)
    cases = tuple(p.case for _, p in parsed if p.case is not None)
    diagnostics = [*loaded.diagnostics]
    for _, p in parsed:
        diagnostics.extend(p.diagnostics)
    return Casebook(
        root=root,
        config=loaded.config,
        cases=cases,
        diagnostics=tuple(diagnostics),
        files=len(files) + (1 if config_bytes is not None else 0),
        has_config=config_bytes is not None,
    )


def _parse_all(
    files: Sequence[tuple[str, Path]], config: Config, cache: _Cache | None
) -> list[tuple[str, Parsed]]:
    results: dict[str, Parsed] = {}
    todo: list[tuple[str, Path, bytes, str]] = []
    for relative, path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            results[relative] = _unreadable(relative, exc)
            continue
        key = _digest(data)
        hit = cache.get(relative, key) if cache is not None else None
        if hit is not None:
            results[relative] = hit
        else:
            todo.append((relative, path, data, key))
    for relative, key, parsed in _parse(todo, config):
        results[relative] = parsed
        if cache is not None:
            cache.put(relative, key, parsed)
    if cache is not None:
        cache.save(results.keys())
    return sorted(results.items())


def _parse(
    todo: Sequence[tuple[str, Path, bytes, str]], config: Config
) -> Iterable[tuple[str, str, Parsed]]:
    if len(todo) < _PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        return [(rel, key, _read(rel, path, data, config)) for rel, path, data, key in todo]
    return _parse_parallel(todo, config)


def _parse_parallel(
    todo: Sequence[tuple[str, Path, bytes, str]], config: Config
) -> list[tuple[str, str, Parsed]]:
    import multiprocessing

    workers = os.cpu_count() or 2
    jobs = [(rel, str(path), key) for rel, path, _, key in todo]
    chunk = max(1, len(jobs) // (workers * 4))
    batches = [jobs[i:i + chunk] for i in range(0, len(jobs), chunk)]
    context = multiprocessing.get_context("fork")
    global _WORKER_CONFIG
    _WORKER_CONFIG = config
    with context.Pool(workers) as pool:
        out: list[tuple[str, str, Parsed]] = []
        for batch in pool.imap(_parse_batch, batches):
            out.extend(batch)
    return out


_WORKER_CONFIG: Config | None = None


def _parse_batch(batch: Sequence[tuple[str, str, str]]) -> list[tuple[str, str, Parsed]]:
    assert _WORKER_CONFIG is not None
    config = _WORKER_CONFIG
    return [(rel, key, _read(rel, Path(path), Path(path).read_bytes(), config))
            for rel, path, key in batch]


def _read(relative: str, path: Path, data: bytes, config: Config) -> Parsed:
    cid = case_id(relative)
    parsed = read_case(cid, relative, data, config)
    if not _CASE_ID.fullmatch(cid):
        bad = Diagnostic(relative, 1, 1, Severity.ERROR, "case-id",
                         f"the case id {cid!r} may only hold a-z, 0-9, '-', '_' and '/'; "
                         "rename the file")
        return Parsed(None, (bad, *parsed.diagnostics))
    return parsed


def _unreadable(relative: str, exc: OSError) -> Parsed:
    message = f"cannot read the file: {exc.strerror or exc}"
    return Parsed(None, (Diagnostic(relative, 1, 1, Severity.ERROR, "io", message),))


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class _Cache:
    """Parsed files keyed by their content, kept in the casebook's ignored cache folder."""

    VERSION = 1

    def __init__(self, path: Path, config_key: str) -> None:
        self.path = path
        self.config_key = config_key
        self.entries: dict[str, tuple[str, Parsed]] = {}
        self.changed = False
        try:
            with path.open("rb") as handle:
                stored = pickle.load(handle)
            if stored.get("version") == self.VERSION and stored.get("config") == config_key:
                self.entries = stored["entries"]
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, KeyError,
                TypeError, ValueError, ImportError):
            self.entries = {}

    def get(self, relative: str, key: str) -> Parsed | None:
        entry = self.entries.get(relative)
        return entry[1] if entry is not None and entry[0] == key else None

    def put(self, relative: str, key: str, parsed: Parsed) -> None:
        self.entries[relative] = (key, parsed)
        self.changed = True

    def save(self, present: Iterable[str]) -> None:
        keep = set(present)
        if set(self.entries) - keep:
            self.entries = {k: v for k, v in self.entries.items() if k in keep}
            self.changed = True
        if not self.changed:
            return
        data = pickle.dumps(
            {"version": self.VERSION, "config": self.config_key, "entries": self.entries},
            protocol=pickle.HIGHEST_PROTOCOL,
        )
        try:
            self.path.parent.mkdir(exist_ok=True)
            ignore = self.path.parent / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n")
            write_atomic(self.path, data)
        except OSError as exc:  # a read-only casebook still validates, only slower
            log.info("cannot write the cache %s: %s", self.path, exc)
