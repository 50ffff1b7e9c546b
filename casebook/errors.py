"""The few failures of the environment (not of the user's data), shown as one clear line.

Problems in case files are diagnostics, never exceptions; these are for what stops a command
from running at all: no casebook, no such case, a file that exists already, a port in use.
"""

from __future__ import annotations

from collections.abc import Iterable

import click

from casebook.diagnostics import did_you_mean


class CasebookError(click.ClickException):
    """A failure the user can act on; exit code 1, message on stderr."""

    exit_code = 1


class NoCasebook(CasebookError):
    """Not inside a casebook: nothing is answered about a folder that is not one (SPEC 1)."""

    exit_code = 2

    def __init__(self) -> None:
        super().__init__("no casebook here or above: run `casebook init`, or name one with -C")


class UnknownCase(CasebookError):
    """No such case; `known` (the casebook's case ids) gives a did-you-mean hint for `wanted`,
    the id as read from what was typed."""

    def __init__(self, case_id: str, known: Iterable[str] = (), wanted: str | None = None
                 ) -> None:
        hint = did_you_mean(wanted or case_id, known)
        super().__init__(f"no case {case_id!r}{hint}: case files live in cases/<id>.md")


class WouldOverwrite(CasebookError):
    def __init__(self, path: str) -> None:
        super().__init__(f"{path} exists already; casebook never overwrites a file")
