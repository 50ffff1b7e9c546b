"""`casebook receipts FILE…`: PEC receipts into the log entries of the messages they name
(SPEC 9), a thin command over `casebook.imports.receipts` and `receipts_in`.

It reads the receipts, loads what it needs of the casebook (`receipts_in.sent_task`, cached
like `next`), prints each receipt's line under its case file, the receipts it could not match,
and a summary; it writes unless `--dry-run`. Diagnostics go to stderr; the exit code is 1 when a
file could not be read or a write was refused.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from casebook.cli.common import Context


@click.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print what would be added; write nothing.")
@click.pass_obj
def receipts(obj: Context, files: tuple[Path, ...], dry_run: bool) -> None:
    """Record PEC receipts (.eml files, or folders of them) in the log entries of the
    messages they refer to: accepted, delivered, not accepted, delivery failed."""
    from casebook.diagnostics import Severity, ordered
    from casebook.imports.receipts import read_receipts
    from casebook.imports.receipts_in import apply, plan, sent_task
    from casebook.load.loader import load

    found, others, problems = read_receipts(list(files))
    casebook = load(obj.root, obj.today, sent_task())
    planned = plan(found, others, casebook.results.values(), len(casebook.invalid))
    applied = apply(obj.root, casebook.config, planned.changes, dry_run=dry_run)
    for outcome in applied.outcomes:
        there = "" if outcome.added else " (already there)"
        click.echo(f"{outcome.path}: {outcome.entry} — {outcome.line}{there}")
    for line in [*planned.passing, *planned.unmatched]:
        click.echo(line)
    diagnostics = ordered([*problems, *applied.diagnostics])
    for diagnostic in diagnostics:
        click.echo(diagnostic.format(), err=True)
    added = sum(1 for o in applied.outcomes if o.added)
    already = len(applied.outcomes) - added
    verb = "would be added" if dry_run else "added"
    passing = f", {len(planned.passing)} with nothing to record" if planned.passing else ""
    click.echo(f"{added} receipts {verb} to {applied.entries} log entries, {already} already "
               f"there, {len(planned.unmatched)} not matched{passing}"
               + (" (dry run: nothing written)" if dry_run else ""))
    sys.exit(1 if any(d.severity is Severity.ERROR for d in diagnostics) else 0)


COMMANDS: tuple[click.Command, ...] = (receipts,)
