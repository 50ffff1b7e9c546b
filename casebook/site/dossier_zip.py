"""The lawyer's file: `casebook letter CASE dossier --format zip` (SPEC 10).

Owns gathering, for one case on one day, what a lawyer needs to ask for a payment order
(ricorso per decreto ingiuntivo, art. 633–634 c.p.c.) into one zip:

    00-indice.txt, 00-indice.pdf   the index (00-index.* in English): each piece with its date
                                   and what it proves, and no more than the document supports
    01-dossier.pdf                 the dossier letter
    02-interessi.txt               the interest statement by period (02-interest.txt)
    03-fatture/NAME                each e-invoice an invoice's `source` names, as received
    04-lettere/DAY-STEP.pdf        each letter sent (a log entry by a written channel whose step
                                   has a letter), rendered from the case as it stood when it was
                                   written: on its day, before its own entry was logged
    04-lettere/DAY-STEP.eml        the message as sent, when outbox/ holds one with its Message-ID
    05-ricevute/DAY-STEP-KIND.eml  the PEC receipts `casebook receipts` kept (outbox/receipts/)

A letter that no longer fits the case of its day is listed as not reproducible, and each receipt
the note records is listed with its date and time, its file or not. The same input and day give
the same bytes: entries sorted by name, each dated the day at midnight, with fixed permissions
and compression, no extra field and no comment. The index's words are in `dossier_words`. It
reads the casebook's files (invoices, outbox/) and never writes one, prints or reads the clock.
"""

from __future__ import annotations

import dataclasses
import email.errors
import email.parser
import email.policy
import io
import os
import re
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from casebook.engine.delivery import Receipt, delivery_of, receipt_line
from casebook.engine.interest import interest_context, interest_for_case
from casebook.engine.words import Formats, labels
from casebook.errors import CasebookError
from casebook.imports.receipts import MAX_BYTES, PecReceipt, normal_message_id, read_receipt
from casebook.imports.receipts_in import receipts_folder
from casebook.model import Invoice, LogEntry
from casebook.outbox.message import OUTBOX
from casebook.site.dossier_words import (
    Item,
    Words,
    index_html,
    index_text,
    interest_statement,
    words_for,
)
from casebook.site.letters import DOSSIER, require_fit, rule_for
from casebook.site.oneletter import ReadyLetter, letter_of, pdf_of
from casebook.site.pages import Renderer
from casebook.site.pdf import letter_pdf
from casebook.site.template_errors import is_template_error, template_message

#: The channels a letter goes by; a phone call or a visit recorded as a step sent none.
LETTER_CHANNELS = frozenset({"email", "pec", "letter", "registered-letter"})
COMPRESS_LEVEL = 9
_MODE = 0o644 << 16  # -rw-r--r--, in the high bits as Unix zip tools write it
_UNIX = 3  # ZipInfo.create_system: the attributes are Unix ones, whatever system writes
_HEADERS = 64 * 1024  # an .eml's headers are at its start; its PDF need not be read
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclasses.dataclass(frozen=True, kw_only=True)
class LawyersFile:
    data: bytes  # the zip
    names: tuple[str, ...]  # its entries, in order
    left_out: tuple[str, ...]  # why a letter sent is not reproducible, one line each


def lawyers_file(root: Path, dossier: ReadyLetter, today: date) -> LawyersFile:
    """The zip of the case of `dossier` (its dossier letter, ready) on `today`. Raises
    PdfUnavailable when WeasyPrint cannot be loaded."""
    pieces = _Pieces(root, dossier, today)
    pieces.dossier_and_interest()
    pieces.einvoices()
    pieces.letters_sent()
    config, words, formats = dossier.config, pieces.words, pieces.formats
    files = pieces.files
    files[f"{words.index_stem}.txt"] = index_text(dossier, pieces.items, today, formats,
                                                  words).encode("utf-8")
    files[f"{words.index_stem}.pdf"] = letter_pdf(
        index_html(dossier, pieces.items, today, formats, words), today,
        title=words.pdf_title(dossier.case.debtor.name), author=config.creditor.name)
    return LawyersFile(data=zip_bytes(files, today), names=tuple(sorted(files)),
                       left_out=tuple(pieces.left_out))


def zip_bytes(files: dict[str, bytes], day: date) -> bytes:
    """The zip of `files` (name → bytes): the same files and day give the same bytes."""
    stamp = (day.year, day.month, day.day, 0, 0, 0) if day.year >= 1980 else (1980, 1, 1, 0, 0, 0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = _UNIX
            info.external_attr = _MODE
            archive.writestr(info, files[name], compresslevel=COMPRESS_LEVEL)
    return buffer.getvalue()


class _Pieces:
    """The zip's files and the index's items, as they are gathered, in the index's order."""

    def __init__(self, root: Path, dossier: ReadyLetter, today: date) -> None:
        self.root, self.dossier, self.today = root, dossier, today
        self.words = words_for(dossier.config.locale)
        self.formats = Formats(dossier.config.locale, dossier.config.currency)
        self.files: dict[str, bytes] = {}
        self.items: list[Item] = []
        self.left_out: list[str] = []
        self._messages: dict[str, Path] | None = None

    def add(self, section: str, name: str | None, data: bytes | None, day: date, what: str,
            time: str | None = None) -> None:
        """A piece of the index, and its file in the zip unless `name` is None."""
        if name is not None and data is not None:
            self.files[name] = data
        self.items.append(Item(section=section, name=name, day=day, what=what, time=time))

    def dossier_and_interest(self) -> None:
        dossier, today, words = self.dossier, self.today, self.words
        day = self.formats.date_short(today)
        self.add("dossier", "01-dossier.pdf", pdf_of(dossier, today), today,
                 words.dossier(day))
        config = dossier.config
        interest = interest_for_case(dossier.case, interest_context(config.interest, today))
        text = interest_statement(dossier, interest, today, self.formats, words)
        self.add("dossier", words.interest_file, text.encode("utf-8"), today,
                 words.interest(interest, day))

    def einvoices(self) -> None:
        """Each file an invoice's `source` names, once, as it is; a source that is no file
        inside the casebook is listed without one."""
        found: dict[tuple[str, bool], list[Invoice]] = {}  # (path, inside) → its invoices
        real_root = os.path.realpath(self.root)
        for invoice in self.dossier.case.invoices:
            if invoice.source is not None:
                real = os.path.realpath(self.root / invoice.source)
                inside = real.startswith(real_root + os.sep) and os.path.isfile(real)
                key = (real, True) if inside else (invoice.source, False)
                found.setdefault(key, []).append(invoice)
        for (path, inside), named in sorted(found.items(),
                                            key=lambda pair: (pair[1][0].date, pair[0])):
            first, numbers = named[0], _numbers(named)
            day = self.formats.date_short(first.date)
            data = _read(Path(path)) if inside else None
            if data is None:
                self.add("invoices", None, None, first.date,
                         self.words.einvoice_missing(numbers, day, first.source or path))
                continue
            name = _unique(f"{self.words.invoices_folder}/{os.path.basename(path)}", self.files)
            self.add("invoices", name, data, first.date, self.words.einvoice(numbers, day))

    def letters_sent(self) -> None:
        """Each log entry by a written channel whose step has a letter (not the dossier
        itself), up to the day: the letter, its message and its receipts."""
        case = self.dossier.case
        policy = self.dossier.config.policy_for(case)
        for index, entry in enumerate(case.log):
            step = policy.resolve(entry.step) if entry.step else None
            name = policy.step(step).letter if step else None
            if (step is None or name is None or name == DOSSIER or entry.date > self.today
                    or entry.channel not in LETTER_CHANNELS):
                continue
            stem = _unique_stem(f"{self.words.letters_folder}/{entry.date}-{_safe(step)}",
                                self.files)
            title = labels(self.dossier.config.locale).get(f"letter.{name}", name)
            self._letter(index, entry, name, title, stem)
            message_id = delivery_of(entry).message_id
            if message_id is not None:
                self._message(entry, message_id, stem)
                of = self.words.receipt_of(title, self.formats.date_short(entry.date))
                receipts = stem.replace(self.words.letters_folder, self.words.receipts_folder, 1)
                self._receipts(entry, message_id, receipts, of)

    def _letter(self, index: int, entry: LogEntry, name: str, title: str, stem: str) -> None:
        day = self.formats.date_short(entry.date)
        try:
            letter = _as_sent(self.root, self.dossier, index, name)
        except CasebookError as refused:
            self.left_out.append(f"the {name.replace('-', ' ')} of {entry.date} is not "
                                 f"reproducible: {refused.format_message()}")
            self.add("letters", None, None, entry.date,
                     self.words.unreproducible(title, entry.channel, day))
            return
        receipt = delivery_of(entry).delivered
        delivered = None if receipt is None else (self.formats.date_short(receipt.day), receipt)
        demands = rule_for(name, self.dossier.config.policy_for(self.dossier.case)).kind in (
            "step", "own")  # a step's letter, shipped or of the casebook's own: it asks to pay
        self.add("letters", f"{stem}.pdf", pdf_of(letter, entry.date), entry.date,
                 self.words.letter(letter.subject, entry.channel, day, name, demands,
                                   delivered))

    def _message(self, entry: LogEntry, message_id: str, stem: str) -> None:
        """The .eml in outbox/ that carries the entry's Message-ID, if one does."""
        if self._messages is None:
            self._messages = _outbox_messages(self.root)
        sent = self._messages.get(normal_message_id(message_id) or message_id)
        data = None if sent is None else _read(sent)
        if data is not None:
            self.add("letters", f"{stem}.eml", data, entry.date,
                     self.words.message(message_id))

    def _receipts(self, entry: LogEntry, message_id: str, stem: str, of: str) -> None:
        """Each receipt the note records, with its kept file when there is one, then the kept
        files the note does not record."""
        kept: dict[str, list[tuple[PecReceipt, bytes]]] = {}
        for pec, data in _kept_receipts(self.root, message_id):
            assert pec.receipt is not None
            kept.setdefault(receipt_line(pec.receipt), []).append((pec, data))
        for receipt in delivery_of(entry).receipts:
            found = kept.get(receipt_line(receipt))
            self._receipt(receipt, found.pop(0) if found else None, stem, of)
        for pair in (pair for pairs in kept.values() for pair in pairs):
            assert pair[0].receipt is not None
            self._receipt(pair[0].receipt, pair, stem, of)

    def _receipt(self, receipt: Receipt, kept: tuple[PecReceipt, bytes] | None, stem: str,
                 of: str) -> None:
        """A receipt the note records, or a kept file; `kept`: its file and its bytes."""
        name = None if kept is None else _unique(f"{stem}-{kept[0].ricevuta}.eml", self.files)
        day = self.formats.date_short(receipt.day)
        self.add("receipts", name, None if kept is None else kept[1], receipt.day,
                 self.words.receipt(receipt, of, day, missing=name is None),
                 time=f"{receipt.time} {receipt.zone}")


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _numbers(invoices: list[Invoice]) -> list[str]:
    return list(dict.fromkeys(invoice.invoice_number for invoice in invoices))


def _as_sent(root: Path, dossier: ReadyLetter, index: int, name: str) -> ReadyLetter:
    """Letter `name` as it was written on the day of log entry `index`: from the case of that
    day without that entry, nor those after it on the same day (it was written before they
    were logged, as `casebook send` writes it). Raises CasebookError when it does not fit."""
    case, config = dossier.case, dossier.config
    day = case.log[index].date
    before = dataclasses.replace(case, log=tuple(
        entry for i, entry in enumerate(case.log) if i < index or entry.date != day))
    return letter_of(root, before, config, day, name)


def _kept_receipts(root: Path, message_id: str) -> list[tuple[PecReceipt, bytes]]:
    """The receipts of the message kept in outbox/receipts/, by their date and time."""
    folder = root / receipts_folder(message_id)
    normal = normal_message_id(message_id)
    found: list[tuple[Receipt, PecReceipt, bytes]] = []
    for path in sorted(folder.glob("*.eml")) if folder.is_dir() else ():
        try:
            with path.open("rb") as file:
                data = file.read(MAX_BYTES + 1)
        except OSError:
            continue
        read = read_receipt(path.name, data)
        if (isinstance(read, PecReceipt) and read.receipt is not None
                and read.message_id == normal and len(data) <= MAX_BYTES):
            found.append((read.receipt, read, data))
    found.sort(key=lambda kept: (kept[0].day, kept[0].time))
    return [(pec, data) for _, pec, data in found]


def _outbox_messages(root: Path) -> dict[str, Path]:
    """The messages in outbox/ (`casebook send`'s .eml files) by their Message-ID."""
    parser = email.parser.BytesHeaderParser(policy=email.policy.default)
    found: dict[str, Path] = {}
    folder = root / OUTBOX
    for path in sorted(folder.glob("*.eml")) if folder.is_dir() else ():
        try:
            with path.open("rb") as file:
                headers = parser.parsebytes(file.read(_HEADERS))
            written = headers.get("Message-ID")
        except (OSError, email.errors.MessageError, ValueError, TypeError, LookupError):
            continue
        normal = normal_message_id(str(written)) if written else None
        if normal is not None and path.is_file():
            found.setdefault(normal, path)
    return found


# -- names ---------------------------------------------------------------------------------------


def _safe(word: str) -> str:
    return _UNSAFE.sub("-", word).strip("-") or "step"


def _unique(name: str, files: dict[str, bytes]) -> str:
    """`name`, or with -2, -3… before its first dot when the zip has one of that name."""
    if name not in files:
        return name
    folder, _, base = name.rpartition("/")
    stem, dot, rest = base.partition(".")
    count = 2
    while f"{folder}/{stem}-{count}{dot}{rest}" in files:
        count += 1
    return f"{folder}/{stem}-{count}{dot}{rest}"


def _unique_stem(stem: str, files: dict[str, bytes]) -> str:
    """A letter's name without its extension, free for both its .pdf and its .eml."""
    count, found = 1, stem
    while f"{found}.pdf" in files or f"{found}.eml" in files:
        count += 1
        found = f"{stem}-{count}"
    return found
