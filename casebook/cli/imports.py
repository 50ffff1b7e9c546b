"""`casebook import fatturapa` and `casebook import bank`: facts in from e-invoices and bank
statements (SPEC 8), thin commands over `casebook.imports`.

Each reads the files, loads what it needs of the casebook (`imports.index`, cached like
`next`), plans the additions, prints them file by file, and writes them unless `--dry-run`.
Diagnostics go to stderr; the exit code is 1 when a file or an addition was refused.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from casebook.cli.common import Context

if TYPE_CHECKING:
    from casebook.diagnostics import Diagnostic
    from casebook.imports.index import CaseIndex
    from casebook.imports.writer import Written
    from casebook.load.casebook import Casebook
    from casebook.model import Case

_FILES = click.argument("files", nargs=-1, required=True,
                        type=click.Path(exists=True, path_type=Path))
_DRY = click.option("--dry-run", is_flag=True, help="Print what would be added; write nothing.")


@click.group(name="import")
def import_() -> None:
    """Facts in from where they already are: e-invoices and bank statements."""


def _casebook(obj: Context) -> Casebook[CaseIndex]:
    """The casebook's index; an import needs every case readable, or it could miss a debtor
    and open a second case for it."""
    from casebook.diagnostics import Severity, ordered
    from casebook.errors import CasebookError
    from casebook.imports.index import index_task
    from casebook.load.loader import load

    casebook = load(obj.root, obj.today, index_task(obj.today))
    errors = [d for d in ordered(casebook.checked) if d.severity is Severity.ERROR]
    if errors:
        for diagnostic in errors:
            click.echo(diagnostic.format(), err=True)
        raise CasebookError(f"nothing was imported: {len(errors)} errors in the casebook "
                            "(fix them first: an unreadable case could be a debtor the "
                            "import would miss)")
    return casebook


def _report(diagnostics: list[Diagnostic], written: Written, dry_run: bool) -> None:
    from casebook.diagnostics import Severity, ordered

    for diagnostic in ordered([*diagnostics, *written.diagnostics]):
        click.echo(diagnostic.format(), err=True)
    if not dry_run:
        for path in written.files:
            click.echo(f"wrote {path}")
    failed = any(d.severity is Severity.ERROR for d in [*diagnostics, *written.diagnostics])
    sys.exit(1 if failed else 0)


@import_.command()
@_FILES
@_DRY
@click.pass_obj
def fatturapa(obj: Context, files: tuple[Path, ...], dry_run: bool) -> None:
    """Debtors and invoices from Italian e-invoices (XML, .p7m, .zip, or folders of them)."""
    from casebook.imports.fatturapa import read_einvoices
    from casebook.imports.invoices_in import plan_einvoices
    from casebook.imports.writer import apply

    root = obj.root
    casebook = _casebook(obj)
    einvoices, diagnostics = read_einvoices(list(files))
    targets = {f"invoices/{e.filename}" for e in einvoices}
    existing = {t: (root / t).read_bytes() if (root / t).is_file() else None for t in targets}
    plan = plan_einvoices(einvoices, list(casebook.results.values()), existing,
                          casebook.config.creditor.vat)
    for name, case_id, opens, lines in plan.by_file:
        click.echo(f"{name} → cases/{case_id}.md" + (" (new case)" if opens else ""))
        for line in lines:
            click.echo(f"  {line}")
    origin = "e-invoices" if len(einvoices) != 1 else einvoices[0].filename
    written = apply(root, casebook.config, obj.today, list(plan.changes.values()), plan.copies,
                    origin, dry_run=dry_run)
    invoices = sum(len(c.invoices) for c in plan.changes.values())
    credits = sum(len(c.credits) for c in plan.changes.values())
    new_cases = sum(1 for c in plan.changes.values() if c.debtor is not None)
    verb = "would add" if dry_run else "added"
    click.echo(f"{verb} {invoices} invoices and {credits} credit notes to "
               f"{sum(1 for c in plan.changes.values() if not c.empty)} cases ({new_cases} new) "
               f"from {len(einvoices)} e-invoices" + (" (dry run: nothing written)"
                                                      if dry_run else ""))
    _report([*diagnostics, *plan.diagnostics], written, dry_run)


@import_.command()
@_FILES
@click.option("--rules", metavar="FILE|NAME",
              help="How to read a CSV export (YAML: columns, separator, decimal comma, date "
                   "format), or the name of one casebook ships (italian-home-banking); "
                   "camt.053/054 XML needs none.")
@_DRY
@click.pass_obj
def bank(obj: Context, files: tuple[Path, ...], rules: str | None, dry_run: bool) -> None:
    """Payments from bank statements (ISO 20022 camt.053/054, or CSV with --rules)."""
    from casebook.engine.words import labels
    from casebook.imports.payments_in import as_before, plan_payments, read_credits
    from casebook.imports.writer import apply
    from casebook.read.casefile import read_case

    casebook = _casebook(obj)
    config = casebook.config
    credits, diagnostics = read_credits(list(files), _rules_file(rules))

    def reread(case: CaseIndex) -> Case | None:
        data = (obj.root / case.path).read_bytes()
        return read_case(case.id, case.path, data, config).case

    cases = list(casebook.results.values())
    before = as_before(cases, credits, reread, config, obj.today)
    plan = plan_payments(credits, before, config.currency,
                         labels(config.locale).get("payment.bank_transfer", "bank transfer"),
                         frozenset(c.id for c in cases if c.iban))
    for line in plan.lines:
        click.echo(line)
    if dry_run:
        click.echo("dry run: nothing written")
    written = apply(obj.root, casebook.config, obj.today, list(plan.changes.values()), (),
                    "bank statement", dry_run=dry_run)
    _report([*diagnostics, *plan.diagnostics], written, dry_run)


def _rules_file(given: str | None) -> Path | None:
    """The rules file: a path, else the name of a shipped one (casebook/data/bank-rules)."""
    from importlib import resources

    from casebook.errors import CasebookError

    if given is None or Path(given).is_file():
        return None if given is None else Path(given)
    shipped = resources.files("casebook").joinpath("data", "bank-rules")
    names = sorted(p.name.removesuffix(".yml") for p in shipped.iterdir()
                   if p.name.endswith(".yml"))
    if given in names:
        return Path(str(shipped.joinpath(f"{given}.yml")))
    raise CasebookError(f"--rules {given!r} is neither a file nor a rules file casebook ships "
                        f"({', '.join(names)})")


COMMANDS = (import_,)
