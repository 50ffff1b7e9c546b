"""`casebook history CASE`: the case's git history as facts, newest commit first.

A thin command over `casebook.history.facts`; `casebook.load.cases` names the case file (a
deleted case still has its history), and this module prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from casebook.cli.common import CASE, Context, colour

if TYPE_CHECKING:
    from casebook.history.facts import CommitFacts

_SIGN_COLOURS = {"+": "green", "-": "red", "~": "yellow"}


@click.command("history")
@CASE
@click.option("--since", metavar="REV",
              help="Only the commits after REV (a commit, tag or branch): REV..HEAD.")
@click.pass_obj
def history(obj: Context, case_id: str, since: str | None) -> None:
    """The git history of CASE as facts: what each commit added (+), changed (~) or
    removed (-), newest commit first, following renames."""
    from casebook.history.facts import HistoryUnavailable, file_history
    from casebook.load.cases import case_path, unknown_case

    root = obj.root
    relative = case_path(root, case_id)
    exists = (root / relative).is_file()
    try:
        commits = file_history(root, relative, since)
    except HistoryUnavailable:
        if not exists:
            raise unknown_case(root, case_id) from None
        raise
    if not commits:
        if not exists and since is None:
            raise unknown_case(root, case_id)
        after = f" after {since}" if since else ""
        click.echo(f"{relative}: no commits{after}")
        return
    click.echo("\n\n".join(_commit_text(c) for c in commits), color=colour())


def _commit_text(commit: CommitFacts) -> str:
    lines = [f"{click.style(commit.short, fg='yellow')} {commit.date} {commit.author}: "
             f"{commit.subject}"]
    if commit.renamed_from:
        lines.append(f"  renamed from {commit.renamed_from}")
    if commit.deleted:
        lines.append("  file deleted")
    if commit.error is not None:
        lines.append(f"  (file did not parse: {commit.error})")
        return "\n".join(lines)
    if commit.compared_with:
        lines.append(f"  (compared with {commit.compared_with}, the last version that parsed)")
    for change in commit.changes:
        lines.append("  " + click.style(change.line, fg=_SIGN_COLOURS[change.sign]))
    if not commit.changes and not commit.renamed_from:
        lines.append("  (no change to the facts)")
    return "\n".join(lines)


COMMANDS: tuple[click.Command, ...] = (history,)
