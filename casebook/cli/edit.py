"""The write commands `log`, `pay`, `promise` and `dispute`: thin Click commands over `edit`.

Each reads one case file and casebook.yml (never the whole casebook), builds the new fact from
the user's words, lets `edit` insert it and read the result back, and replaces the file
atomically, unless the file changed on disk in the meantime. A refusal exits 1 and leaves the
file as it was. `casebook.load.cases.open_case` finds and reads the case; `cli.main` adds
`COMMANDS` to its group.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from casebook.cli.common import CASE, Context, write_item
from casebook.errors import CasebookError

if TYPE_CHECKING:
    from casebook.model import LogEntry

_DATE_HELP = "The day it happened, YYYY-MM-DD (default: today)."


@contextmanager
def _refusals() -> Iterator[None]:
    """A refused edit becomes a one-line error with exit code 1."""
    from casebook.write.edit import Refused

    try:
        yield
    except Refused as refused:
        raise CasebookError(f"nothing was written: {refused.message}") from None


@click.command()
@CASE
@click.argument("channel")
@click.argument("step", required=False)
@click.option("-m", "--message", "messages", multiple=True,
              help="The note; several -m are paragraphs. Without it $EDITOR opens.")
@click.option("--title", help="A short title after the heading's channel and step.")
@click.option("--date", "day", metavar="YYYY-MM-DD", help=_DATE_HELP)
@click.pass_obj
def log(obj: Context, case_id: str, channel: str, step: str | None,
        messages: tuple[str, ...], title: str | None, day: str | None) -> None:
    """Append a contact to CASE's log: `## DATE CHANNEL [STEP] [— TITLE]` and the note."""
    from dataclasses import replace

    from casebook.load.cases import open_case
    from casebook.model import LogEntry
    from casebook.write import edit

    opened = open_case(obj.root, case_id)
    with _refusals():
        policy = opened.config.policy_for(opened.case)
        entry = LogEntry(
            date=edit.parse_day(day, obj.today), channel=edit.channel_id(channel),
            step=None if step is None else edit.step_id(step, policy),
            title=edit.one_line(title, "the title") or "")
        message = "\n\n".join(messages) if messages else _from_editor(entry, opened.relative)
        note = edit.clean_note(message)
        if not note:
            raise CasebookError("aborted: the message is empty; nothing was written")
        entry = replace(entry, note=note)
        write_item(opened, "log", entry, edit.insert_log)
    click.echo(f"logged {edit.heading(entry).removeprefix('## ')} in {opened.relative}")


def _from_editor(entry: LogEntry, relative: str) -> str:
    from casebook.write import edit

    template = ("\n\n# The note of the new log entry of " + relative + ":\n#   "
                + edit.heading(entry) + "\n# Lines starting with '#' are left out; "
                "an empty message aborts the entry.\n")
    edited = click.edit(template, extension=".md", require_save=True)
    return "" if edited is None else edit.strip_comments(edited)


@click.command(context_settings={"ignore_unknown_options": True})
@CASE
@click.argument("amount")
@click.option("--invoice", help="The invoice it pays (default: the oldest open ones).")
@click.option("--date", "day", metavar="YYYY-MM-DD", help=_DATE_HELP)
@click.option("--method", help="How it was paid, e.g. 'bank transfer'.")
@click.option("--reference", help="The bank reference.")
@click.option("--overpayment", is_flag=True,
              help="Record it even when it is more than the case owes (capital, interest "
                   "and compensation).")
@click.pass_obj
def pay(obj: Context, case_id: str, amount: str, invoice: str | None, day: str | None,
        method: str | None, reference: str | None, overpayment: bool) -> None:
    """Record a payment of AMOUNT (like 500.00) in CASE's front matter."""
    from casebook.load.cases import open_case
    from casebook.model import Payment
    from casebook.write import edit

    opened = open_case(obj.root, case_id)
    with _refusals():
        payment = Payment(
            date=edit.parse_day(day, obj.today), amount=edit.parse_amount(amount),
            invoice=None if invoice is None else edit.invoice_of(opened.case, invoice),
            method=edit.one_line(method, "the method"),
            reference=edit.one_line(reference, "the reference"))
        if not overpayment:
            edit.refuse_overpayment(opened.case, payment, opened.config)
        write_item(opened, "payments", payment, edit.insert_payment)
    paid = f" to invoice {payment.invoice}" if payment.invoice else ""
    click.echo(f"recorded a payment of {payment.amount:.2f} on {payment.date}{paid} "
               f"in {opened.relative}")


@click.command()
@CASE
@click.option("--by", "by", required=True, metavar="YYYY-MM-DD",
              help="The day the debtor promised to pay by.")
@click.option("--amount", help="The promised amount (default: the overdue balance).")
@click.option("--date", "day", metavar="YYYY-MM-DD",
              help="The day the promise was made (default: today).")
@click.pass_obj
def promise(obj: Context, case_id: str, by: str, amount: str | None, day: str | None) -> None:
    """Record the debtor's promise to pay CASE's overdue balance (or --amount) by a day."""
    from casebook.load.cases import open_case
    from casebook.model import Promise
    from casebook.write import edit

    opened = open_case(obj.root, case_id)
    with _refusals():
        made = edit.parse_day(day, obj.today)
        promised = edit.parse_any_day(by, "the promised date")
        if promised < made:
            raise edit.Refused(f"the promised date {promised} is before the day the promise "
                               f"was made ({made})")
        item = Promise(made=made, by=promised,
                            amount=None if amount is None else edit.parse_amount(amount))
        write_item(opened, "promises", item, edit.insert_promise)
    what = "the overdue balance" if item.amount is None else f"{item.amount:.2f}"
    click.echo(f"recorded a promise made on {made} to pay {what} by {promised} "
               f"in {opened.relative}")


@click.command()
@CASE
@click.option("--invoice", help="The disputed invoice (default: the whole case).")
@click.option("--reason", required=True, help="What the debtor contests.")
@click.option("--date", "day", metavar="YYYY-MM-DD",
              help="The day the dispute was opened (default: today).")
@click.pass_obj
def dispute(obj: Context, case_id: str, invoice: str | None, reason: str,
            day: str | None) -> None:
    """Record a dispute about one invoice of CASE, or about the whole case."""
    from casebook.load.cases import open_case
    from casebook.model import Dispute
    from casebook.write import edit

    opened = open_case(obj.root, case_id)
    with _refusals():
        item = Dispute(
            opened=edit.parse_day(day, obj.today),
            invoice=None if invoice is None else edit.invoice_of(opened.case, invoice),
            reason=edit.one_line(reason, "the reason"))
        if item.reason is None:
            raise edit.Refused("the reason must not be empty")
        write_item(opened, "disputes", item, edit.insert_dispute)
    about = f"invoice {item.invoice}" if item.invoice else "the whole case"
    click.echo(f"recorded a dispute opened on {item.opened} about {about} "
               f"in {opened.relative}")


COMMANDS: tuple[click.Command, ...] = (log, pay, promise, dispute)
