"""The commands that read the casebook and report: `validate`, `next`, `show` and `export`.

Each loads and assesses through the library, prints the result, and sets the exit code: 1 when
files had errors (they are left out and listed on stderr), else 0.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from casebook.cli.common import CASE, Context, colour
from casebook.site.outputs import DIALECTS, FORMATS

if TYPE_CHECKING:
    from casebook.diagnostics import Diagnostic
    from casebook.load.assess import Assessed, Row
    from casebook.load.casebook import Task
    from casebook.model import Case, Config

OWNER = click.option("--owner", metavar="NAME",
                     help="Only the cases whose owner is NAME (the case files' `owner`).")


@click.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--json", "as_json", is_flag=True, help="Print the diagnostics as JSON.")
@click.pass_obj
def validate(obj: Context, files: tuple[Path, ...], strict: bool, as_json: bool) -> None:
    """Check casebook.yml and every case file (or only FILES)."""
    from casebook.diagnostics import ordered, summary
    from casebook.load.checks import check
    from casebook.load.loader import load

    casebook = load(obj.root)
    found = check(casebook, obj.today)
    count = casebook.file_count
    if files:
        wanted = {_relative(obj.root, f) for f in files}
        found = [d for d in found if d.path in wanted]
        found += [_not_a_case(p) for p in sorted(wanted) if not _is_casebook_file(p)]
        count = len(wanted)
    diagnostics = ordered(found)
    if as_json:
        click.echo(json.dumps(_diagnostics_json(diagnostics, count), indent=2))
    else:
        for diagnostic in diagnostics:
            click.echo(diagnostic.format())
        click.echo(summary(diagnostics, count))
    sys.exit(_exit_code(diagnostics, strict))


def _relative(root: Path, path: Path) -> str:
    resolved = path.resolve()
    try:
        return resolved.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _is_casebook_file(relative: str) -> bool:
    return relative == "casebook.yml" or (relative.startswith("cases/")
                                          and relative.endswith(".md"))


def _not_a_case(relative: str) -> Diagnostic:
    from casebook.diagnostics import Diagnostic, Severity

    return Diagnostic(relative, 1, 1, Severity.ERROR, "not-a-case",
                      "not a case file of this casebook: case files are cases/**/*.md")


def _diagnostics_json(diagnostics: list[Diagnostic], files: int) -> dict[str, Any]:
    errors = sum(1 for d in diagnostics if d.severity == "error")
    return {
        "errors": errors,
        "warnings": len(diagnostics) - errors,
        "files": files,
        "diagnostics": [d.as_json() for d in diagnostics],
    }


def _exit_code(diagnostics: list[Diagnostic], strict: bool) -> int:
    if any(d.severity == "error" for d in diagnostics):
        return 1
    return 1 if strict and diagnostics else 0


def json_lines(items: list[dict[str, Any]]) -> str:
    """A JSON array with one object per line: valid JSON, and a readable, greppable diff."""
    from casebook.site.formats import to_json

    return to_json(items).rstrip("\n")


def _report_errors(assessed: Assessed) -> None:
    """The files with errors, on stderr: each diagnostic, then how many files are left out."""
    for diagnostic in assessed.errors:
        click.echo(diagnostic.format(), err=True)
    if assessed.errors:
        click.echo(f"{len(assessed.invalid_paths)} files with errors are left out; "
                   "run `casebook validate`", err=True)


@click.command(name="next")
@click.option("--due", "due_only", is_flag=True, help="Only actions due by today.")
@click.option("--all", "everything", is_flag=True,
              help="Also closed cases and cases with nothing to do.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (SPEC format).")
@OWNER
@click.pass_obj
def next_(obj: Context, due_only: bool, everything: bool, as_json: bool,
          owner: str | None) -> None:
    """The next action of every case, most urgent first."""
    from casebook.load.assess import assess, next_task

    # the reasons in the casebook's locale for people, in the SPEC's words for JSON
    task = next_task(obj.today, for_people=not as_json)
    assessed = assess(obj.root, obj.today, task if owner is None else owned_task(task))
    _report_errors(assessed)
    rows = assessed.by_urgency(everything=everything, due_by=obj.today if due_only else None)
    if owner is not None:
        # the owner rode along only to choose the rows: the SPEC's objects do not carry it
        rows = [_without_owner(r) for r in only_owner(assessed.rows, rows, owner)]
    if as_json:
        click.echo(json_lines(rows))
    else:
        from casebook.cli.terminal import next_table

        click.echo(next_table(rows, obj.today), color=colour())
    sys.exit(1 if assessed.errors else 0)


@click.command()
@CASE
@click.pass_obj
def show(obj: Context, case_id: str) -> None:
    """One case: balance, invoices, interest, status, next action, recent contacts."""
    from casebook.cli.terminal import show_case
    from casebook.engine.interest import interest_context, interest_for_case
    from casebook.load.assess import assess_case
    from casebook.load.cases import checked_case

    config, case = checked_case(obj.root, case_id, obj.today)
    assessment = assess_case(case, config, obj.today)
    interest = interest_for_case(case, interest_context(config.interest, obj.today))
    click.echo(show_case(assessment, interest), color=colour())


@click.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json",
              show_default=True)
@click.option("--dialect", type=click.Choice(DIALECTS),
              help="For csv: standard (commas, a decimal dot; the default) or excel-it "
                   "(semicolons, a decimal comma and a UTF-8 BOM, as Excel in Italian opens it).")
@OWNER
@click.pass_obj
def export(obj: Context, fmt: str, dialect: str | None, owner: str | None) -> None:
    """Every case with its balance, interest and next action, to stdout."""
    from casebook.load.assess import assess
    from casebook.site.formats import CSV_DIALECTS, export_task, to_csv, to_ics, to_json

    if dialect is not None and fmt != "csv":
        raise click.UsageError("--dialect is for --format csv only")
    assessed = assess(obj.root, obj.today, task=export_task(obj.today, for_people=fmt == "ics"))
    _report_errors(assessed)
    rows = sorted(assessed.rows, key=lambda r: r["case"])
    if owner is not None:
        rows = only_owner(assessed.rows, rows, owner)
    if fmt == "json":
        text = to_json(rows)
    elif fmt == "csv":
        text = to_csv(rows, CSV_DIALECTS[dialect or "standard"])
    else:
        text = to_ics(rows, obj.today, assessed.casebook.config)
    # Bytes, so that the CRLF line ends CSV and ICS require reach the file untouched.
    click.echo(text.encode("utf-8"), nl=False)
    sys.exit(1 if assessed.errors else 0)


def owned_task(task: Task[Row]) -> Task[Row]:
    """`task`, with each row carrying its case's `owner` (cached apart from `task`'s rows)."""
    from casebook.load.casebook import Task

    return Task(f"{task.kind}-owner", task.version, partial(_with_owner, task.run), task.keys)


def _with_owner(run: Callable[[Case, Config], Row], case: Case, config: Config) -> Row:
    return {**run(case, config), "owner": case.owner}


def _without_owner(row: Row) -> Row:
    return {k: v for k, v in row.items() if k != "owner"}


def only_owner(every: Sequence[Row], rows: Sequence[Row], owner: str) -> list[Row]:
    """The `rows` whose case's owner is `owner`, in their order; a usage error (exit 2) with a
    did-you-mean hint and the owners there are when no case of `every` (the casebook's valid
    cases, closed ones too) has that owner."""
    known = sorted({r["owner"] for r in every if r["owner"]})
    if owner not in known:
        from casebook.diagnostics import did_you_mean

        there = ", ".join(known) if known else "none: no case has an `owner`"
        raise click.BadParameter(f"no case has owner {owner!r}{did_you_mean(owner, known)}; "
                                 f"the owners: {there}", param_hint="'--owner'")
    return [r for r in rows if r["owner"] == owner]


COMMANDS: tuple[click.Command, ...] = (validate, next_, show, export)
