"""The `send` command: a letter of a case as a ready-to-send message in `outbox/`, and with
`--smtp` submitted to the sender's mail server and recorded in the case's contact log.

The work is the library's: `site.oneletter` renders the letter and its PDF, `outbox.route`
picks the addresses (or refuses a letter that goes by post or by phone), `outbox.message` builds
the bytes and `outbox.smtp` submits them. This module reads the environment (the server's URL
and password) and orders the steps so that nothing is logged unless the server accepted the
message, and the log entry is checked before anything is sent. It writes the log entry through
`cli.common.write_item`, the path `casebook log` takes.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from casebook.cli.common import CASE, Context

if TYPE_CHECKING:
    from pathlib import Path

    from casebook.load.cases import OpenCase
    from casebook.model import LogEntry
    from casebook.outbox.message import Outgoing
    from casebook.outbox.smtp import Server
    from casebook.site.oneletter import ReadyLetter

URL_VARIABLE = "CASEBOOK_SMTP_URL"
PASSWORD_VARIABLE = "CASEBOOK_SMTP_PASSWORD"


@click.command()
@CASE
@click.argument("step", required=False)
@click.option("--smtp", is_flag=True,
              help=f"Also submit it to the server in ${URL_VARIABLE} (password in "
                   f"${PASSWORD_VARIABLE}) and log it in the case.")
@click.pass_obj
def send(obj: Context, case_id: str, step: str | None, smtp: bool) -> None:
    """Write STEP's letter of CASE (by default the next action's) as a message from the
    creditor's PEC or e-mail to the debtor's, with the PDF attached:
    outbox/DAY-CASE-LETTER.eml. With --smtp, send it and log it."""
    from dataclasses import replace

    from casebook.outbox.message import OUTBOX, eml_name, message_bytes
    from casebook.site.oneletter import pdf_of, ready_letter

    server = _server() if smtp else None  # a bad URL is refused before anything is done
    letter = ready_letter(obj.root, case_id, step, obj.today)
    outgoing = _outgoing(letter, obj, step)
    _refuse_sent_before(letter, outgoing.message_id)
    checked = None if server is None else _checked_entry(obj, case_id, letter, step, outgoing)
    data = message_bytes(replace(outgoing, pdf=pdf_of(letter, obj.today)))
    relative = f"{OUTBOX}/{eml_name(obj.today, letter.case.id, letter.name)}"
    _write_message(obj.root / relative, data, relative)
    if server is None or checked is None:
        return
    opened, entry = checked
    _submit(server, outgoing, data, relative)
    _log(opened, entry, outgoing)
    click.echo(f"sent to {outgoing.recipient} (Message-ID {outgoing.message_id}); "
               f"logged in {opened.relative}")


def _server() -> Server:
    from casebook.errors import CasebookError
    from casebook.outbox.smtp import NotSent, server_of

    url = os.environ.get(URL_VARIABLE, "").strip()
    if not url:
        raise CasebookError(f"--smtp needs the mail server in {URL_VARIABLE}, like "
                            f"smtps://USER@HOST:465, and the password in {PASSWORD_VARIABLE}; "
                            "nothing was written")
    try:
        return server_of(url, os.environ.get(PASSWORD_VARIABLE) or None)
    except NotSent as refused:
        raise CasebookError(f"{URL_VARIABLE}: {refused.reason}; nothing was written") from None


def _outgoing(letter: ReadyLetter, obj: Context, word: str | None) -> Outgoing:
    """The message of `letter`, its PDF left out; raises NoMailbox when the letter does not
    go by PEC or e-mail, or a side has no address there."""
    from casebook.outbox.message import Outgoing
    from casebook.outbox.route import route_of

    route = route_of(case_id=letter.case.id, letter=letter.name, channel=letter.channel,
                     debtor=letter.case.debtor, creditor=letter.config.creditor,
                     step=_step_of(letter, word), case_path=letter.case.path)
    return Outgoing(case_id=letter.case.id, letter=letter.name, day=obj.today,
                    sender_name=route.sender_name, sender=route.sender,
                    recipient_name=route.recipient_name, recipient=route.recipient,
                    subject=letter.subject, text=letter.text, pdf=b"")


def _refuse_sent_before(letter: ReadyLetter, message_id: str) -> None:
    """A message logged as sent keeps its .eml: a second one the same day would carry the same
    Message-ID (and overwrite the copy of what went)."""
    from casebook.engine.delivery import delivery_of
    from casebook.errors import CasebookError

    for done in letter.case.log:
        if delivery_of(done).message_id == message_id:
            what = letter.name.replace("-", " ")
            raise CasebookError(f"the {what} was sent on {done.date} (Message-ID {message_id}, "
                                f"logged in {letter.case.path}); a second one the same day "
                                "would carry the same Message-ID: nothing was written")


def _step_of(letter: ReadyLetter, word: str | None) -> str | None:
    """The ladder step the letter is the letter of (the one `word` names, if it does)."""
    policy = letter.config.policy_for(letter.case)
    named = policy.resolve(word) if word is not None else None
    if named is not None and policy.step(named).letter == letter.name:
        return named
    return next((s.id for s in policy.steps if s.letter == letter.name), None)


def _checked_entry(obj: Context, case_id: str, letter: ReadyLetter, word: str | None,
                   outgoing: Outgoing) -> tuple[OpenCase, LogEntry]:
    """The case file as read now and the entry `--smtp` will append, already inserted and
    read back: an entry that could not be written is refused before the message is sent."""
    from casebook.engine.delivery import message_id_line
    from casebook.errors import CasebookError
    from casebook.load.cases import open_case
    from casebook.model import LogEntry
    from casebook.read.casefile import read_case
    from casebook.write import edit

    opened = open_case(obj.root, case_id)
    try:
        entry = LogEntry(
            date=obj.today, channel=str(letter.channel), step=_step_of(letter, word),
            title=edit.one_line(letter.subject, "the subject") or "",
            note=edit.clean_note(f"Sent by `casebook send` to {outgoing.recipient}.\n"
                                 + message_id_line(outgoing.message_id)))
        text = edit.insert_log(opened.data.decode("utf-8"), entry)
        after = read_case(opened.case.id, opened.relative, text.encode("utf-8"), opened.config)
        edit.verify(opened.parsed, after, "log", entry)
    except edit.Refused as refused:
        raise CasebookError(f"nothing was written or sent: the log entry would be refused: "
                            f"{refused.message}") from None
    return opened, entry


def _write_message(path: Path, data: bytes, relative: str) -> None:
    from casebook.atomic import write_atomic
    from casebook.cli.common import os_error
    from casebook.errors import CasebookError

    try:
        if path.is_file() and path.read_bytes() == data:
            click.echo(f"{relative} is up to date")
            return
        path.parent.mkdir(exist_ok=True)
        write_atomic(path, data)
    except OSError as exc:
        raise CasebookError(os_error(exc, f"cannot write {relative}")) from None
    click.echo(f"wrote {relative}")


def _submit(server: Server, outgoing: Outgoing, data: bytes, relative: str) -> None:
    from casebook.errors import CasebookError
    from casebook.outbox.smtp import NotSent, submit

    try:
        submit(server, outgoing.sender, outgoing.recipient, data)
    except NotSent as failed:
        raise CasebookError(f"not sent: {failed.reason}; nothing was logged ({relative} is "
                            "kept)") from None


def _log(opened: OpenCase, entry: LogEntry, outgoing: Outgoing) -> None:
    """Append the entry; the message is gone already, so a failure says how to log it."""
    from casebook.cli.common import write_item
    from casebook.errors import CasebookError
    from casebook.write import edit

    try:
        write_item(opened, "log", entry, edit.insert_log)
    except (CasebookError, edit.Refused) as exc:
        why = exc.message if isinstance(exc, edit.Refused) else exc.format_message()
        why = why.removesuffix(": run the command again")  # it would send the message again
        raise CasebookError(f"sent to {outgoing.recipient} (Message-ID {outgoing.message_id}), "
                            f"but not logged: {why}; do not send it again, log it by hand: "
                            + _log_command(opened, entry)) from None


def _log_command(opened: OpenCase, entry: LogEntry) -> str:
    """The `casebook log` command that appends `entry`."""
    from shlex import join

    words = ["casebook", "log", opened.case.id, entry.channel]
    words += [entry.step] if entry.step else []
    words += ["--date", entry.date.isoformat(), "--title", entry.title]
    for line in entry.note.splitlines():
        words += ["-m", line]
    return join(words)


COMMANDS: tuple[click.Command, ...] = (send,)
