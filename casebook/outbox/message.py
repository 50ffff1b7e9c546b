"""The message `casebook send` writes: one letter as an e-mail, the same bytes for the same
letter and day.

Owns the message's form — RFC 5322 with CRLF line ends, a multipart/mixed of the letter's plain
text (UTF-8, quoted-printable) and its PDF (base64) — and what makes it deterministic: the Date
(the day at 09:00 in Rome), the Message-ID and the MIME boundary, both derived from the case,
the letter and the day. Also the names of the files: `outbox/<day>-<case>-<letter>.eml` and
`<letter>-<case>.pdf`, a `/` of the case id written `--`. Never touches a file, the clock or
the environment; never sends.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from email.headerregistry import Address, BaseHeader, HeaderRegistry, MessageIDHeader
from email.message import EmailMessage
from email.policy import SMTP, Policy
from email.utils import format_datetime

OUTBOX = "outbox"
SENT_AT = time(9, 0)  # the hour the Date header gives, in Rome


# BaseHeader too, as the registry mixes it in (typeshed gives the two clashing `max_count`s)
class _OneLineMessageID(MessageIDHeader, BaseHeader):  # type: ignore[misc]
    """A Message-ID never folded: folded, it reads back with a leading space in Python's own
    parser (and may in others), and it is the key a PEC receipt names the message by."""

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("message-id", _OneLineMessageID)
#: CRLF line ends: the canonical form RFC 5322 and 5321 ask for; smtplib sends bytes as they are
POLICY = SMTP.clone(header_factory=_HEADERS)
_ATOM = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True, kw_only=True)
class Outgoing:
    """One letter as a message: who sends it to whom, and what it says."""

    case_id: str
    letter: str  # the letter's name: formal-notice, reminder, …
    day: date
    sender_name: str | None
    sender: str  # an address
    recipient_name: str | None
    recipient: str
    subject: str
    text: str  # the letter's plain text
    pdf: bytes

    @property
    def message_id(self) -> str:
        return message_id(self.case_id, self.letter, self.day, self.sender)


def file_part(case_id: str) -> str:
    """A case id as part of a file name: `2026/ferri` → `2026--ferri`."""
    return case_id.replace("/", "--")


def eml_name(day: date, case_id: str, letter: str) -> str:
    return f"{day.isoformat()}-{file_part(case_id)}-{letter}.eml"


def pdf_name(case_id: str, letter: str) -> str:
    return f"{letter}-{file_part(case_id)}.pdf"


def _digest(kind: str, case_id: str, letter: str, day: date) -> str:
    seed = "\n".join((kind, case_id, letter, day.isoformat()))
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()


def message_id(case_id: str, letter: str, day: date, sender: str) -> str:
    """`<YYYYMMDD.case.letter.HASH8@domain>`, the domain the sender's: unique per case, letter
    and day, and the same every time they are the same."""
    hash8 = _digest("message-id", case_id, letter, day)[:8]
    local = ".".join((day.strftime("%Y%m%d"), _atom(file_part(case_id)), _atom(letter), hash8))
    return f"<{local}@{_domain(sender)}>"


def boundary(case_id: str, letter: str, day: date) -> str:
    """The MIME boundary: `=_` cannot occur in quoted-printable or base64 text, so it can
    never be mistaken for a line of the parts."""
    return "=_casebook_" + _digest("boundary", case_id, letter, day)[:32]


def sent_date(day: date) -> str:
    """The Date header: `day` at 09:00, Rome time (CET or CEST)."""
    return format_datetime(datetime.combine(day, SENT_AT, _rome(day)))


def build(outgoing: Outgoing) -> EmailMessage:
    """The message: the letter's text, then its PDF as an attachment."""
    message = EmailMessage(policy=POLICY)
    message["From"] = _address(outgoing.sender_name, outgoing.sender)
    message["To"] = _address(outgoing.recipient_name, outgoing.recipient)
    message["Subject"] = " ".join(outgoing.subject.split())  # one line, whatever the template
    message["Date"] = sent_date(outgoing.day)
    message["Message-ID"] = outgoing.message_id
    message.set_content(outgoing.text, charset="utf-8", cte="quoted-printable")
    message.add_attachment(outgoing.pdf, maintype="application", subtype="pdf",
                           filename=pdf_name(outgoing.case_id, outgoing.letter))
    message.set_boundary(boundary(outgoing.case_id, outgoing.letter, outgoing.day))
    for part in message.iter_parts():
        del part["MIME-Version"]  # the top level's says it for the whole message
    return message


def message_bytes(outgoing: Outgoing) -> bytes:
    """The message as the `.eml` file holds it and the server receives it."""
    return build(outgoing).as_bytes()


def _address(name: str | None, address: str) -> Address:
    return Address(display_name=" ".join((name or "").split()), addr_spec=address)


def _atom(text: str) -> str:
    """Text a Message-ID's left part may hold (letters, digits, `_` and `-`)."""
    return _ATOM.sub("-", text)


def _domain(address: str) -> str:
    """The address's domain (`route` lets only plain ASCII addresses through)."""
    return address.rpartition("@")[2].lower() or "casebook.invalid"


def _rome(day: date) -> timezone:
    """Rome's offset on `day` at 09:00 (EU rule: summer time from the last Sunday of March to
    the last Sunday of October), so the Date needs no time-zone database."""
    summer = _last_sunday(day.year, 3) <= day < _last_sunday(day.year, 10)
    return timezone(timedelta(hours=2 if summer else 1))


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)
