"""The few failures of the environment (not of the user's data), shown as one clear line.

Problems in case files are diagnostics, never exceptions; these are for what stops a command
from running at all: no such case, a file that exists already, a port in use.
"""

from __future__ import annotations

import click


class CasebookError(click.ClickException):
    """A failure the user can act on; exit code 1, message on stderr."""

    exit_code = 1


class UnknownCase(CasebookError):
    def __init__(self, case_id: str) -> None:
        super().__init__(f"no case {case_id!r}: case files live in cases/<id>.md")


class WouldOverwrite(CasebookError):
    def __init__(self, path: str) -> None:
        super().__init__(f"{path} exists already; casebook never overwrites a file")
