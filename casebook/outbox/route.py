"""Which addresses a letter goes between, by its channel: the creditor's PEC to the debtor's PEC,
or the creditor's e-mail to the debtor's e-mail.

Owns the refusal of every other case, each with its reason and what to do instead: a channel
that is not a mailbox (a registered letter, a phone call, a visit), a mailbox that the debtor
or the creditor has no address for, or an address that is not one plain `name@domain`. Never
touches a file, the clock or the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address

from casebook.errors import CasebookError
from casebook.model import Creditor, Debtor
from casebook.outbox.message import pdf_name
from casebook.read.config import CONFIG_NAME

MAILBOXES = ("pec", "email")
_BY_POST = {"registered-letter": "registered letter", "letter": "letter"}
_IN_PERSON = {"visit": "a visit", "meeting": "a meeting"}
_NAMES = {"pec": "PEC", "email": "e-mail address"}


@dataclass(frozen=True, kw_only=True)
class Route:
    channel: str  # pec or email
    sender_name: str | None  # the creditor's name
    sender: str  # the creditor's address on that channel
    recipient_name: str  # the debtor's name
    recipient: str  # the debtor's address on that channel


class NoMailbox(CasebookError):
    """The letter cannot go as a message: the reason and what to do instead."""


def route_of(*, case_id: str, letter: str, channel: str | None, debtor: Debtor,
             creditor: Creditor, step: str | None = None, case_path: str | None = None
             ) -> Route:
    """The addresses letter `letter` of case `case_id` (the letter of `step`, if any) goes
    between by `channel`; raises NoMailbox when the channel is not a mailbox or either side has
    no address on it."""
    what = f"the {letter.replace('-', ' ')}"
    if channel not in MAILBOXES:
        log = f"casebook log {case_id} {channel or 'CHANNEL'}" + (f" {step}" if step else "")
        raise NoMailbox(_not_a_mailbox(what, case_id, letter, channel, debtor, log))
    theirs = debtor.pec if channel == "pec" else debtor.email
    ours = creditor.pec if channel == "pec" else creditor.email
    kind = _NAMES[channel]
    if not theirs:
        where = case_path or f"cases/{case_id}.md"
        post = "registered letter" if channel == "pec" else "post"
        raise NoMailbox(f"{what} goes by {channel}, but the debtor has no {kind}: add "
                        f"`{channel}:` under `debtor:` in {where}, or {_print(case_id, letter)} "
                        f"and send it by {post}")
    if not ours:
        raise NoMailbox(f"{what} goes by {channel}, but the creditor has no {kind}: add "
                        f"`{channel}:` under `creditor:` in {CONFIG_NAME}, the address the "
                        "message is sent from")
    for side, address, where in (("debtor", theirs, case_path or f"cases/{case_id}.md"),
                                 ("creditor", ours, CONFIG_NAME)):
        if not is_plain_address(address):
            raise NoMailbox(f"the {side}'s {channel} {address!r} is not one plain address like "
                            f"name@example.it: fix `{channel}:` under `{side}:` in {where}")
    return Route(channel=channel, sender_name=creditor.name, sender=ours,
                 recipient_name=debtor.name, recipient=theirs)


def is_plain_address(text: str) -> bool:
    """One ASCII address, `local@domain`, that a message header can carry as it is."""
    if not text.isascii() or text.count("@") != 1 or text != text.strip():
        return False
    try:
        parsed = Address(addr_spec=text)
    except ValueError:  # the parser's defects are ValueErrors too
        return False
    return bool(parsed.username and "." in parsed.domain) and parsed.addr_spec == text


def _not_a_mailbox(what: str, case_id: str, letter: str, channel: str | None,
                   debtor: Debtor, log: str) -> str:
    """Why the letter cannot go as a message, what to do instead, and how to log it."""
    if channel is None:
        return (f"{what} has no channel of its own, so casebook cannot tell whether it goes by "
                f"PEC or by e-mail: {_print(case_id, letter)}, send it yourself and record it "
                f"with `{log} -m …`")
    if channel in _BY_POST:
        why = " (the debtor has no PEC)" if channel == "registered-letter" and not debtor.pec \
            else ""
        return (f"{what} goes by {_BY_POST[channel]}{why}: {_print(case_id, letter)} and send "
                f"it by post, then record it with `{log} -m …`")
    if channel == "phone":
        number = f" ({debtor.phone})" if debtor.phone else ""
        return (f"{what} is a phone call: call the debtor{number}, then record the call with "
                f"`{log} -m …`")
    if channel == "lawyer":
        return (f"{what} is for the lawyer: {_print(case_id, letter)} and hand it over with "
                "the documents")
    if channel in _IN_PERSON:
        return (f"{what} goes by {_IN_PERSON[channel]}: {_print(case_id, letter)} and hand it "
                f"over, then record it with `{log} -m …`")
    return (f"{what} goes by {channel}, not by PEC or e-mail: {_print(case_id, letter)} "
            "and deliver it that way")


def _print(case_id: str, letter: str) -> str:
    out = pdf_name(case_id, letter)
    return f"print the PDF (`casebook letter {case_id} {letter} --format pdf --out {out}`)"
