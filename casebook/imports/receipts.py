"""Reading PEC receipts: what a provider's receipt (an `.eml` file) says of a message sent.

Owns the reading of one receipt: its kind from the `X-Ricevuta` header (else from
`daticert.xml`'s `tipo`), the Message-ID of the message it refers to (`X-Riferimento-Message-ID`,
else `<msgid>`), the provider's date, time and zone (`<data>`, else the `Date` header) and the
reason of a failure (`<errore-esteso>`, else the `errore` attribute), as a
`casebook.engine.delivery.Receipt`. An e-mail that is no receipt is said to be one; a file that
is no e-mail, a receipt that cannot be read and a hostile `daticert.xml` are diagnostics, never
exceptions. The copy of the original message a receipt may carry (`postacert.eml`) is not read.
Files are read with the standard `email` package; headers as its default policy reads them.

It never writes a file, never reads the clock and never decides which log entry a receipt
belongs to (`receipts_in` does). XML comes from `xmlread` only (no DOCTYPE, no entities).
"""

from __future__ import annotations

import email
import email.errors
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from email import policy
from email.message import Message
from pathlib import Path
from typing import Any

from casebook.diagnostics import Diagnostic, Severity
from casebook.engine.delivery import Receipt, ReceiptKind
from casebook.imports.xmlread import Element, XmlError, parse

MAX_BYTES = 20 * 1024 * 1024  # a receipt carrying the original message with its PDF
SUFFIX = ".eml"

#: The receipts that record something, by their `X-Ricevuta` word.
KINDS: dict[str, ReceiptKind] = {
    "accettazione": "accepted",
    "non-accettazione": "not accepted",
    "avvenuta-consegna": "delivered",
    "errore-consegna": "delivery failed",
}
#: The receipts that say something passing, with nothing to record in the log.
PASSING: dict[str, str] = {
    "presa-in-carico": "the recipient's provider took the message in charge",
    "preavviso-errore-consegna": "no delivery yet after 12 hours: a delivery receipt or a "
                                 "failure follows",
    "rilevazione-virus": "the provider found a virus in a message it was to forward",
}
_DATE = re.compile(r"(\d\d)/(\d\d)/(\d{4})")
_TIME = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d")
_ZONE = re.compile(r"[+-](?:[01]\d|2[0-3])[0-5]\d")
_DATICERT = "daticert.xml"
_MAX_PARTS = 200  # more parts than any receipt has: the rest is not looked at


@dataclass(frozen=True, kw_only=True)
class PecReceipt:
    """One receipt file: its kind and the message it refers to."""

    name: str  # the file, as given
    ricevuta: str  # the X-Ricevuta word (accettazione, …)
    message_id: str  # the original message's, normalised (`normal_message_id`)
    receipt: Receipt | None  # None for a passing kind (`PASSING`): nothing to record


@dataclass(frozen=True, kw_only=True)
class NotReceipt:
    """An e-mail that is no PEC receipt."""

    name: str
    why: str


def read_receipts(paths: Sequence[Path]) -> tuple[list[PecReceipt], list[NotReceipt],
                                                  list[Diagnostic]]:
    """Every receipt in `paths` (files, or folders read recursively in sorted order, taking
    *.eml whatever its case), the e-mails that are none, and the problems found."""
    found: list[PecReceipt] = []
    others: list[NotReceipt] = []
    problems: list[Diagnostic] = []
    for path in _files(paths):
        name = str(path)
        try:
            with path.open("rb") as file:
                data = file.read(MAX_BYTES + 1)
        except OSError as exc:
            problems.append(_error(name, "unreadable", f"cannot read the file: "
                                                       f"{exc.strerror or exc}"))
            continue
        if len(data) > MAX_BYTES:
            problems.append(_error(name, "too-large", f"the file is larger than {MAX_BYTES:,} "
                                                      "bytes: no receipt is"))
            continue
        read = read_receipt(name, data)
        if isinstance(read, PecReceipt):
            found.append(read)
        elif isinstance(read, NotReceipt):
            others.append(read)
        else:
            problems.append(read)
    return found, others, problems


def read_receipt(name: str, data: bytes) -> PecReceipt | NotReceipt | Diagnostic:
    """One file's receipt, or why it is none; `name` is how diagnostics name it."""
    try:
        return _Reader(name, data).read()
    except _Broken as broken:
        return Diagnostic(broken.where or name, broken.line, broken.col, Severity.ERROR,
                          broken.code, broken.message)
    except (email.errors.MessageError, ValueError, TypeError, LookupError, IndexError,
            AttributeError) as exc:
        # The email package can fail this way on malformed headers and parts.
        return _error(name, "bad-email", f"cannot read the e-mail: {exc}")


def normal_message_id(text: str) -> str | None:
    """`<local@domain>` with the domain in lower case (the local part is case-sensitive), the
    angle brackets added when missing; None when `text` is not one Message-ID."""
    inner = text.strip()
    if inner.startswith("<") and inner.endswith(">"):
        inner = inner[1:-1].strip()
    if not inner or any(char.isspace() or char in "<>" for char in inner):
        return None
    local, at, domain = inner.rpartition("@")
    return f"<{local}@{domain.lower()}>" if at and local else f"<{inner}>"


class _Broken(Exception):
    """The file is no receipt casebook can read; `where` names an attachment."""

    def __init__(self, code: str, message: str, line: int = 1, col: int = 1,
                 where: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.line, self.col, self.where = code, message, line, col, where


class _Reader:
    """One e-mail read as a receipt."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self.cert_name = f"{name}!{_DATICERT}"
        # The MIME structure is parsed under compat32 and only the headers read here under
        # policy.default: the default policy parses every header of every part as it goes,
        # which made most of the time of a run (bench/receipts.py).
        message = email.message_from_bytes(data, policy=policy.compat32)
        if not message.keys():
            raise _Broken("not-email", "not an e-mail: it has no header")
        self.message = message
        self.cert = self._daticert()

    def read(self) -> PecReceipt | NotReceipt:
        word = self.header("X-Ricevuta")
        if word is None and self.cert is not None and self.cert.attrs.get("tipo") in KINDS:
            word = self.cert.attrs["tipo"]
        if word is None:
            return NotReceipt(name=self.name, why="is not a PEC receipt (no X-Ricevuta header)")
        word = word.lower()
        if word not in KINDS and word not in PASSING:
            known = ", ".join([*KINDS, *PASSING])
            raise _Broken("unknown-receipt", f"X-Ricevuta '{word}' is no PEC receipt casebook "
                                             f"knows ({known})")
        message_id = self.referenced()
        if word in PASSING:
            return PecReceipt(name=self.name, ricevuta=word, message_id=message_id, receipt=None)
        kind = KINDS[word]
        day, time, zone = self.when()
        failed = kind in ("not accepted", "delivery failed")
        receipt = Receipt(kind=kind, day=day, time=time, zone=zone,
                          reason=self.reason() if failed else None)
        return PecReceipt(name=self.name, ricevuta=word, message_id=message_id, receipt=receipt)

    def header(self, key: str) -> str | None:
        value = self._header(key)
        return None if value is None else (" ".join(str(value).split()) or None)

    def _header(self, key: str) -> Any:
        """The header as policy.default reads it (decoded, unfolded; a date as a date)."""
        raw = self.message.get(key)
        return None if raw is None else policy.default.header_fetch_parse(key, raw)

    def referenced(self) -> str:
        """The Message-ID of the message the receipt is about."""
        given = self.header("X-Riferimento-Message-ID")
        if given is None and self.cert is not None:
            given = self.cert.text_at("dati/msgid")
        if given is None:
            raise _Broken("no-message-id", "the receipt names no message: no "
                                           "X-Riferimento-Message-ID header and no <msgid> in "
                                           f"{_DATICERT}")
        found = normal_message_id(given)
        if found is None:
            raise _Broken("bad-message-id", f"the receipt names {given!r}, which is not one "
                                            "Message-ID (<local@domain>)")
        return found

    def when(self) -> tuple[date, str, str]:
        """The provider's day, time and zone: daticert.xml's <data>, else the Date header."""
        data = None if self.cert is None else self.cert.find("dati/data")
        if data is not None:
            return self._stamp(data)
        header = self._header("Date")
        moment = getattr(header, "datetime", None)
        if moment is None:
            raise _Broken("no-date", f"the receipt has no date: no <data> in {_DATICERT} and "
                                     "no readable Date header")
        offset = moment.utcoffset()
        zone = "-0000" if offset is None else _zone(offset)  # -0000: the zone is unknown
        return moment.date(), moment.strftime("%H:%M:%S"), zone

    def _stamp(self, data: Element) -> tuple[date, str, str]:
        giorno, ora, zona = data.text_at("giorno"), data.text_at("ora"), data.attrs.get("zona")
        day = _day(giorno or "")
        if day is None or not _TIME.fullmatch(ora or "") or not _ZONE.fullmatch(zona or ""):
            raise _Broken("bad-date", f"<data> must hold <giorno>dd/mm/yyyy</giorno> and "
                                      f"<ora>hh:mm:ss</ora> with zona=\"+hhmm\"; it has "
                                      f"{giorno!r}, {ora!r} and zona={zona!r}",
                          data.line, data.col, self.cert_name)
        assert ora is not None and zona is not None
        return day, ora, zona

    def reason(self) -> str | None:
        """Why a message was refused or not delivered, as the provider says it."""
        if self.cert is None:
            return None
        text = self.cert.text_at("dati/errore-esteso") or self.cert.attrs.get("errore", "")
        plain = " ".join("".join(c for c in text if c.isprintable() or c.isspace()).split())
        return None if plain.lower() in ("", "nessuno") else plain

    def _daticert(self) -> Element | None:
        for part in _parts(self.message):
            if (part.get_filename() or "").strip().lower() != _DATICERT:
                continue
            data = part.get_payload(decode=True)
            if not isinstance(data, bytes):
                continue
            try:
                root = parse(data)
            except XmlError as e:
                raise _Broken("bad-daticert", f"{_DATICERT}: {e.message}", e.line, e.col,
                              self.cert_name) from None
            if root.name != "postacert":
                raise _Broken("bad-daticert", f"{_DATICERT} is not a PEC certification: its "
                                              f"root is <{root.name}>, not <postacert>",
                              root.line, root.col, self.cert_name)
            return root
        return None


def _parts(message: Message) -> Iterator[Message]:
    """The leaf parts, in order, without entering attached messages (postacert.eml)."""
    stack: list[Message] = [message]
    seen = 0
    while stack and seen < _MAX_PARTS:
        part = stack.pop()
        seen += 1
        if part.get_content_type() == "message/rfc822":
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend(p for p in reversed(payload) if isinstance(p, Message))
        else:
            yield part


def _day(text: str) -> date | None:
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    except ValueError:
        return None


def _zone(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _files(paths: Sequence[Path]) -> Iterator[Path]:
    """The files named, and the *.eml of the folders named (recursively, sorted; names
    starting with a dot are left out)."""
    for path in paths:
        if not path.is_dir():
            yield path
            continue
        found = [p for p in path.rglob("*")
                 if p.suffix.lower() == SUFFIX and p.is_file()
                 and not any(part.startswith(".") for part in p.relative_to(path).parts)]
        yield from sorted(found, key=lambda p: p.relative_to(path).parts)


def _error(name: str, code: str, message: str) -> Diagnostic:
    return Diagnostic(name, 1, 1, Severity.ERROR, code, message)
