"""A loaded casebook and the work asked of each of its cases: the typed results of `load`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from casebook.diagnostics import Diagnostic, Severity
from casebook.load.files import FileSummary
from casebook.model import Case, Config
from casebook.read.discover import CASES_DIR

T = TypeVar("T")


@dataclass(frozen=True)
class Task(Generic[T]):
    """Work done on each case that passes the checks, in the worker that parsed it; its
    result must pickle. It runs before the casebook-wide checks (so that no worker holds the
    cases until they are done): the result of a case they refuse is dropped, after `undo`
    (when given) has taken away what the work left behind. Results are cached per file
    under `kind`, for one `version` of everything else they depend on (the day, the
    templates): equal kinds and versions must give equal results for equal files and
    config. `keys` names, by case path, what else a
    case's result depends on (a digest of its file's git history): a cached result is taken
    only under the same key."""

    kind: str
    version: str
    run: Callable[[Case, Config], T]
    keys: Mapping[str, str] = field(default_factory=dict)
    undo: Callable[[str, T], None] | None = None  # (case path, result)
    #: told every result the cache keeps, before it writes them (a task whose results name
    #: files of its own makes them durable first)
    saving: Callable[[Iterable[T]], None] | None = None

    def key_of(self, relative: str, file_key: str) -> str:
        """The key a case's result is cached under: its file's, and its own `keys` entry."""
        extra = self.keys.get(relative)
        return f"{file_key}+{extra}" if extra else file_key


@dataclass(frozen=True)
class Casebook(Generic[T]):
    root: Path
    config: Config
    config_diagnostics: tuple[Diagnostic, ...]
    files: tuple[FileSummary, ...]
    has_config: bool
    # with a day: the diagnostics of loading and of every check on that day, in the order
    # `checks.check` finds them
    checked: tuple[Diagnostic, ...] = ()
    results: dict[str, T] = field(default_factory=dict)  # the task's, by case path
    worked: int = 0  # files parsed in this run (the rest came from the cache)

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """The diagnostics of loading: the config's and every file's."""
        found = list(self.config_diagnostics)
        for summary in self.files:
            found.extend(summary.diagnostics)
        return tuple(found)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.checked if d.severity is Severity.ERROR)

    @property
    def invalid(self) -> tuple[str, ...]:
        """The files with an error, of their own or found by the checks, sorted."""
        return tuple(sorted({d.path for d in self.errors}))

    @property
    def file_count(self) -> int:
        return len(self.files) + (1 if self.has_config else 0)

    def path_of(self, case_id_: str) -> Path:
        return self.root / CASES_DIR / f"{case_id_}.md"
