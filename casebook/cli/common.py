"""What every command shares: the context, the DATE type, the CASE argument, how paths and system
failures are shown, whether colour may reach the screen, and how one item is written into a case
file (`write_item`: `log`, `pay`, `promise`, `dispute`, and `send --smtp`'s log entry).

The command modules import this module and the library, never each other; `cli.main` adds their
commands to the group. Nothing here does a command's work.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from casebook.load.cases import OpenCase


@dataclass(frozen=True)
class Context:
    found: Path | None  # the casebook's folder; None outside any casebook
    today: date
    named: Path | None = None  # the folder -C named

    @property
    def root(self) -> Path:
        """The casebook's folder; outside one, every command but `init` stops here (SPEC 1)."""
        if self.found is None:
            from casebook.errors import NoCasebook

            raise NoCasebook()
        return self.found


class DateType(click.ParamType):  # type: ignore[type-arg,unused-ignore]
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        from casebook.read.yamlread import iso_date, out_of_range

        day = iso_date(str(value).strip())
        if day is None:
            self.fail(f"{value!r} is not a date in the form YYYY-MM-DD", param, ctx)
        problem = out_of_range(day)
        if problem is not None:
            self.fail(problem, param, ctx)
        return day


DATE = DateType()

CASE = click.argument("case_id", metavar="CASE")
"""The case a command works on, as typed: `rossi`, `rossi.md` or `cases/rossi.md`. It is looked
up (with a did-you-mean hint when there is no such case) by `casebook.load.cases` as the command
runs, after its other arguments have been parsed."""


def shown(path: Path) -> str:
    """`path` relative to the current folder when it lies below it, else as given."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def os_error(exc: OSError, what: str = "cannot complete the command") -> str:
    """`what: the system's reason (the file)`, one line."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = f" ({shown(Path(os.fsdecode(exc.filename)))})" if exc.filename else ""
    return f"{what}: {reason}{where}"


def colour() -> bool | None:
    """None lets click decide (colour on a terminal only); NO_COLOR turns it off."""
    return False if os.environ.get("NO_COLOR") else None


def write_item(opened: OpenCase, section: str, item: Any,
               insert: Callable[[str, Any], str]) -> None:
    """Insert `item`, check the result, replace the file; print the warnings it brings."""
    from casebook.atomic import write_atomic
    from casebook.errors import CasebookError
    from casebook.read.casefile import read_case
    from casebook.write import edit

    text = opened.data.decode("utf-8")
    data = insert(text, item).encode("utf-8")
    after = read_case(opened.case.id, opened.relative, data, opened.config)
    warnings = edit.verify(opened.parsed, after, section, item)
    try:
        current = opened.path.read_bytes()
    except OSError as exc:
        raise CasebookError(f"cannot read {opened.relative} again: {exc.strerror}") from None
    if current != opened.data:
        raise CasebookError(f"{opened.relative} changed on disk while casebook was working on "
                            "it; nothing was written: run the command again")
    try:
        write_atomic(opened.path, data)
    except OSError as exc:
        raise CasebookError(f"cannot write {opened.relative}: {exc.strerror or exc}; "
                            "it was left as it was") from None
    for diagnostic in warnings:
        click.echo(diagnostic.format(), err=True)
