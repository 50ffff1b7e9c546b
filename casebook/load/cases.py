"""One case, found by what the user typed, read and parsed.

Owns how a typed name becomes a case id (`rossi`, `rossi.md`, `cases/rossi.md` and
`./cases/rossi.md` all name cases/rossi.md), which ids may be looked up by their path (a legal id
of a file the casebook reads: nothing outside cases/), and the did-you-mean answer when there is
no such case. `open_case` reads one file and casebook.yml, as an edit needs; `checked_case`
checks the whole casebook first, as show and the letters need. Never prints, never writes,
never reads the clock: `today` is a parameter.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from casebook.diagnostics import Severity
from casebook.errors import CasebookError, UnknownCase
from casebook.model import Case, Config
from casebook.read.casefile import Parsed
from casebook.read.discover import CASES_DIR, case_id, case_ids, id_problem


def typed_id(text: str) -> str:
    """The case id `text` names: `rossi` for `rossi`, `rossi.md`, `cases/rossi.md`."""
    return text.removeprefix("./").removeprefix(CASES_DIR + "/").removesuffix(".md")


def _nameable(wanted: str) -> bool:
    """A legal case id (`discover`'s rules) of a file the casebook reads: no part of it starts
    with `_` or `.` (those are skipped), so no name leads out of cases/."""
    problem = id_problem(f"{CASES_DIR}/{wanted}.md")
    if problem is not None and problem.severity is Severity.ERROR:
        return False
    return not any(part.startswith(("_", ".")) for part in wanted.split("/"))


def unknown_case(root: Path, text: str, known: Iterable[str] | None = None) -> UnknownCase:
    """The error for `text` naming no case, with a hint from `known` (default: the case ids
    of the casebook)."""
    return UnknownCase(text, case_ids(root) if known is None else known, typed_id(text))


def case_path(root: Path, text: str) -> str:
    """The path (relative to `root`) of the case file `text` names; whether it is there is
    the caller's question. Raises UnknownCase when `text` cannot name a case."""
    wanted = typed_id(text)
    if not _nameable(wanted):
        raise unknown_case(root, text)
    return f"{CASES_DIR}/{wanted}.md"


@dataclass(frozen=True)
class OpenCase:
    """One case file as read before an edit."""

    path: Path  # the real file, symlinks followed
    relative: str
    data: bytes
    config: Config
    parsed: Parsed

    @property
    def case(self) -> Case:
        assert self.parsed.case is not None
        return self.parsed.case


def open_case(root: Path, text: str) -> OpenCase:
    """The case file `text` names and casebook.yml, read (never the rest of the casebook) and
    parsed. The case need not be free of errors, only readable as a case: what an edit needs.
    Raises UnknownCase, or CasebookError for a file that must not or cannot be edited."""
    from casebook.load.loader import load_config
    from casebook.read.casefile import read_case
    from casebook.read.discover import read_limited

    relative = case_path(root, text)
    path = root / relative
    if not path.is_file():
        raise unknown_case(root, text)
    top = os.path.realpath(root)
    if not os.path.realpath(path).startswith(top + os.sep):
        raise CasebookError(f"{relative} is a link to a file outside the casebook; casebook "
                            "writes only inside its folder (copy the file in instead)")
    config = load_config(root)[0]
    data = read_limited(str(path))
    if isinstance(data, int):
        raise CasebookError(f"{relative} is {data:,} bytes, more than a case file may be; "
                            "casebook leaves it alone")
    parsed = read_case(case_id(relative), relative, data, config)
    if parsed.case is None:
        raise CasebookError(f"{relative} cannot be read; fix it first:\n"
                            + "\n".join(d.format() for d in parsed.diagnostics))
    return OpenCase(path.resolve(), relative, data, config, parsed)


def checked_case(root: Path, text: str, today: date) -> tuple[Config, Case]:
    """The config and the case `text` names, when neither its file nor casebook.yml has an
    error on `today` (a broken config must not quietly become the defaults): what show and
    the letters need. Raises UnknownCase, or CasebookError listing the errors."""
    from casebook.load.loader import load, load_case
    from casebook.read.config import CONFIG_NAME

    casebook = load(root, today)
    relative = f"{CASES_DIR}/{typed_id(text)}.md"
    # Only the files the casebook reads count, so nothing outside cases/ is reached; a file
    # whose id breaks the rules is found, and its errors are shown rather than "no case".
    if relative not in {s.path for s in casebook.files}:
        raise unknown_case(root, text, [case_id(s.path) for s in casebook.files])
    errors = [d for d in casebook.checked
              if d.path in (relative, CONFIG_NAME) and d.severity == "error"]
    if not errors:
        try:
            parsed = load_case(root, relative, casebook.config)
        except OSError as exc:
            raise CasebookError(f"cannot read {relative}: {exc.strerror or exc}") from None
        # the file may have changed since it was loaded
        errors = [d for d in parsed.diagnostics if d.severity == "error"]
        if not errors and parsed.case is not None:
            return casebook.config, parsed.case
    which = "the case file" if all(d.path == relative for d in errors) else "the casebook"
    raise CasebookError(f"{which} has errors; fix them first:\n"
                        + "\n".join(d.format() for d in errors))
