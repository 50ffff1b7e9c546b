"""Bank statements read into booked credits (SPEC 8, `import bank`): ISO 20022 camt and CSV.

This module owns what a credit is and how one is read: from a camt.053 statement or a camt.054
notification of any version (elements matched by local name, so `.001.02` to `.001.13` read
alike), or from a CSV export described by a rules file (`csvrules`). It keeps booked credits only:
debits, pending entries and reversals are left out without a word. Each credit carries the bank's
own reference, so importing a statement twice can be recognised; an entry without one gets a
digest of what it says (`sha1:` and 16 hex digits), the same in every run and, for CSV, for the
same row in another export. Problems are diagnostics naming the file and line; one bad row or
entry never hides the others.

It reads the one file it is given and nothing else; it never matches credits to cases
(`matching`), never looks at the casebook and never writes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from casebook.diagnostics import Diagnostic, Severity
from casebook.imports import xmlread
from casebook.imports.csvrules import Column, Rules
from casebook.read.scalars import MAX_AMOUNT, iso_date, out_of_range, short

CENT = Decimal("0.01")
T = TypeVar("T")
_CONTAINERS = {"BkToCstmrStmt": "Stmt", "BkToCstmrDbtCdtNtfctn": "Ntfctn"}
_OTHER_XML = {
    "FatturaElettronica": "an e-invoice (FatturaPA): import it with 'casebook import fatturapa'",
    "BkToCstmrAcctRpt": "a camt.052 intraday report, whose entries may still change: import the "
                        "day's camt.053 statement instead",
}
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
_CAMT_AMOUNT = re.compile(r"\d+(?:\.\d+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, kw_only=True)
class Credit:
    """One booked credit on the creditor's account."""

    date: date  # booking date
    amount: Decimal  # > 0, exact, in cents
    currency: str
    reference: str  # the bank's own, else "sha1:" + 16 hex digits of what the entry says
    name: str | None  # the payer's name
    iban: str | None  # the payer's IBAN, upper case without spaces
    text: str  # the remittance information, words separated by single spaces
    where: str  # "path:line" of the entry or row


def read_statement(path: Path, rules: Rules | None = None) -> tuple[list[Credit], list[Diagnostic]]:
    """Booked credits of one file: camt.053/054 (any version, by element name) when it is XML,
    else CSV read through `rules` (an error when a CSV comes without rules)."""
    where = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [], [_error(where, 1, "unreadable", f"cannot read {where}: {exc.strerror}")]
    if _looks_like_xml(data):
        return _read_camt(data, where)
    if rules is None:
        return [], [_error(where, 1, "rules-missing",
                           f"{where} is not XML, so it would be read as CSV, which needs a rules "
                           "file naming its columns (--rules FILE)")]
    return _read_csv(data, where, rules)


def _looks_like_xml(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<") or b"<?xml" in head


def _error(where: str, line: int, code: str, message: str, col: int = 1) -> Diagnostic:
    return Diagnostic(where, line, col, Severity.ERROR, code, message)


class _Bad(Exception):
    """An entry or row that cannot be read; the reader turns it into one diagnostic."""

    def __init__(self, line: int, code: str, message: str, col: int = 1) -> None:
        super().__init__(message)
        self.line, self.code, self.message, self.col = line, code, message, col


class _Digests:
    """References for entries without one: the same content twice in one file (two equal
    payments on one day) is told apart by its occurrence, so each keeps its own reference."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    def __call__(self, parts: Iterable[str]) -> str:
        line = "\x1f".join(" ".join(part.split()) for part in parts)
        self.seen[line] += 1
        if self.seen[line] > 1:
            line += f"\x1f#{self.seen[line]}"
        return "sha1:" + hashlib.sha1(line.encode(), usedforsecurity=False).hexdigest()[:16]


def _words(parts: Iterable[str | None]) -> str:
    return " ".join(word for part in parts if part for word in part.split())


def normal_iban(text: str | None) -> str | None:
    """The IBAN upper case without spaces, or None when the text is not shaped like one."""
    if text is None:
        return None
    iban = "".join(text.split()).upper()
    return iban if _IBAN.fullmatch(iban) else None


def _cents(text: str, line: int, col: int = 1) -> Decimal:
    """An unsigned amount below MAX_AMOUNT, exact to the cent (1220 is 1220.00)."""
    amount = Decimal(text)
    if amount >= MAX_AMOUNT:
        raise _Bad(line, "bad-amount", f"the amount {short(text)} is out of range", col)
    if amount != amount.quantize(CENT):
        raise _Bad(line, "bad-amount", f"the amount {short(text)} has fractions of a cent", col)
    return amount.quantize(CENT)


# -- camt.053 / camt.054 ---------------------------------------------------------------------


def _read_camt(data: bytes, where: str) -> tuple[list[Credit], list[Diagnostic]]:
    try:
        root = xmlread.parse(data)
    except xmlread.XmlError as exc:
        code = "hostile-xml" if exc.message.startswith("refused") else "not-xml"
        return [], [_error(where, exc.line, code, f"{exc.message}; nothing is read from {where}",
                           exc.col)]
    top = next((c for c in root.children if c.name in _CONTAINERS), root)
    part = _CONTAINERS.get(top.name)
    if part is None:
        return [], [_not_a_statement(where, root)]
    camt = _Camt(where)
    for report in top.findall(part):
        for entry in report.findall("Ntry"):
            camt.entry(entry)
    return camt.credits, camt.diagnostics


def _not_a_statement(where: str, root: xmlread.Element) -> Diagnostic:
    inner = root.children[0].name if root.name == "Document" and root.children else root.name
    what = _OTHER_XML.get(inner, f"XML whose root is <{short(inner)}>")
    return _error(where, root.line, "not-a-statement",
                  f"{where} is not an ISO 20022 camt.053 statement or camt.054 notification: "
                  f"it is {what}", root.col)


def _booked_credit(entry: xmlread.Element) -> bool:
    """CdtDbtInd CRDT, Sts BOOK (or Sts/Cd BOOK from version 8), and not a reversal."""
    if entry.text_at("CdtDbtInd") != "CRDT":
        return False
    status = entry.find("Sts")
    if status is None or (status.text_at("Cd") or status.text.strip()) != "BOOK":
        return False
    return (entry.text_at("RvslInd") or "").lower() not in ("true", "1")


def _amount(holder: xmlread.Element, path: str) -> tuple[Decimal, str]:
    element = holder.find(path)
    if element is None:
        raise _Bad(holder.line, "bad-amount", f"a booked credit without <{path}>", holder.col)
    text, currency = element.text.strip(), element.attrs.get("Ccy", "")
    if not _CAMT_AMOUNT.fullmatch(text):
        raise _Bad(element.line, "bad-amount", f"<Amt> holds {short(text)!r}, not an amount",
                   element.col)
    if not _CURRENCY.fullmatch(currency):
        raise _Bad(element.line, "bad-amount", f"<Amt> has no currency code (Ccy={currency!r})",
                   element.col)
    return _cents(text, element.line, element.col), currency


def _booking_date(entry: xmlread.Element) -> date:
    """BookgDt (Dt, or DtTm's date), else ValDt for the rare bank that books without one."""
    for path in ("BookgDt/Dt", "BookgDt/DtTm", "ValDt/Dt", "ValDt/DtTm"):
        text = entry.text_at(path)
        if text is not None:
            day = iso_date(text[:10])
            if day is None or out_of_range(day):
                raise _Bad(entry.line, "bad-date", f"<{path}> holds {short(text)!r}, not a date")
            return day
    raise _Bad(entry.line, "bad-date", "a booked credit without a booking date (<BookgDt>)")


def _tx_amount(tx: xmlread.Element) -> str | None:
    """The path of a transaction's own amount inside a batch entry, if it has one."""
    return next((p for p in ("Amt", "AmtDtls/TxAmt/Amt") if tx.find(p) is not None), None)


def _tx_reference(tx: xmlread.Element) -> str | None:
    end_to_end = tx.text_at("Refs/EndToEndId")
    return tx.text_at("Refs/AcctSvcrRef") or (
        end_to_end if end_to_end and end_to_end.upper() != "NOTPROVIDED" else None)


def _payer(txs: Sequence[xmlread.Element]) -> tuple[str | None, str | None]:
    """The debtor's name (Dbtr/Nm, or Dbtr/Pty/Nm from version 8) and IBAN, the first given."""
    name = iban = None
    for parties in (p for tx in txs if (p := tx.find("RltdPties")) is not None):
        debtor = parties.find("Dbtr")
        if debtor is not None:
            name = name or debtor.text_at("Nm") or debtor.text_at("Pty/Nm")
        iban = iban or normal_iban(parties.text_at("DbtrAcct/Id/IBAN"))
    return (_words([name]) or None), iban


def _remittance(tx: xmlread.Element) -> Iterator[str]:
    """A transaction's words for the payee: every Ustrd, each structured creditor reference,
    and AddtlTxInf (an entry's AddtlNtryInf is added for an entry that is one credit)."""
    for path in ("RmtInf/Ustrd", "RmtInf/Strd/CdtrRefInf/Ref", "AddtlTxInf"):
        for element in tx.findall(path):
            yield element.text


class _Camt:
    """The credits of one camt file, entry by entry."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.credits: list[Credit] = []
        self.diagnostics: list[Diagnostic] = []
        self.digest = _Digests()

    def entry(self, entry: xmlread.Element) -> None:
        if not _booked_credit(entry):
            return
        try:
            self._entry(entry)
        except _Bad as bad:
            self.diagnostics.append(_error(self.where, bad.line, bad.code, bad.message, bad.col))

    def _entry(self, entry: xmlread.Element) -> None:
        day = _booking_date(entry)
        amount, currency = _amount(entry, "Amt")
        txs = entry.findall("NtryDtls/TxDtls")
        own = entry.text_at("AcctSvcrRef") or entry.text_at("NtryRef")
        if len(txs) > 1 and all(_tx_amount(tx) for tx in txs):
            self.credits.extend(self._batch(day, own, txs))
            return
        if amount == 0:
            return
        name, iban = _payer(txs)
        text = _words([*(t for tx in txs for t in _remittance(tx)), entry.text_at("AddtlNtryInf")])
        reference = own or next((r for r in map(_tx_reference, txs) if r), None)
        if reference is None:
            reference = self.digest(("camt", day.isoformat(), str(amount), currency, iban or "",
                                     name or "", text, entry.text_at("ValDt/Dt") or ""))
        self.credits.append(Credit(date=day, amount=amount, currency=currency, reference=reference,
                                   name=name, iban=iban, text=text,
                                   where=f"{self.where}:{entry.line}"))

    def _batch(self, day: date, own: str | None,
               txs: Sequence[xmlread.Element]) -> list[Credit]:
        """A batch entry: each transaction is a credit of its own amount and reference (the
        entry's + "/n" when it has none); a debit inside it, such as a fee, is left out."""
        base = own or self.digest(("camt-batch", day.isoformat(),
                                   *(_words(_remittance(tx)) for tx in txs)))
        credits = []
        for number, tx in enumerate(txs, start=1):
            amount, currency = _amount(tx, _tx_amount(tx) or "Amt")
            if tx.text_at("CdtDbtInd") == "DBIT" or amount == 0:
                continue
            name, iban = _payer([tx])
            credits.append(Credit(
                date=day, amount=amount, currency=currency,
                reference=tx.text_at("Refs/AcctSvcrRef") or f"{base}/{number}",
                name=name, iban=iban, text=_words(_remittance(tx)),
                where=f"{self.where}:{tx.line}"))
        return credits


# -- CSV -------------------------------------------------------------------------------------


def _read_csv(data: bytes, where: str, rules: Rules) -> tuple[list[Credit], list[Diagnostic]]:
    try:
        text = data.decode(rules.encoding)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return [], [_error(where, line, "encoding",
                           f"{where} is not {rules.encoding} text (byte {exc.start}); set "
                           f"'encoding' in {rules.path} (cp1252 is common for bank exports)")]
    lines = itertools.islice(io.StringIO(text, newline=""), rules.skip, None)
    reading = _Csv(where, rules)
    reading.read(lines)
    return reading.credits, reading.diagnostics


class _Csv:
    """The credits of one CSV export, row by row."""

    def __init__(self, where: str, rules: Rules) -> None:
        self.where, self.rules = where, rules
        self.credits: list[Credit] = []
        self.diagnostics: list[Diagnostic] = []
        self.digest = _Digests()
        self.index: dict[Column, int] | None = None  # resolved at the first row

    def read(self, lines: Iterable[str]) -> None:
        """Every row after the skipped lines and the header; blank rows are passed over."""
        rows = csv.reader(lines, delimiter=self.rules.separator)
        line = self.rules.skip + 1
        try:
            for cells in rows:
                if any(cell.strip() for cell in cells):
                    if self.index is not None:
                        self._row(cells, line)
                    elif not self._columns(cells, line):
                        return
                    elif not self.rules.header:
                        self._row(cells, line)
                line = self.rules.skip + rows.line_num + 1
        except csv.Error as exc:
            self.diagnostics.append(_error(self.where, line, "bad-row",
                                           f"the CSV cannot be read from this line on: {exc}"))

    def _columns(self, first: list[str], line: int) -> bool:
        """Resolve the rules' columns against the header row (or by position); False, with a
        diagnostic for each column not found, when the file cannot be read."""
        header = [" ".join(cell.split()).casefold() for cell in first] if self.rules.header else []
        index, missing = {}, []
        for column in self.rules.columns():
            if isinstance(column.ref, int):
                index[column] = column.ref - 1
            elif column.ref.casefold() in header:
                index[column] = header.index(column.ref.casefold())
            else:
                missing.append(column)
        for column in missing:
            self.diagnostics.append(_error(self.where, line, "csv-column",
                f"there is no column {column.ref!r} (named by '{column.key}' at "
                f"{self.rules.path}:{column.pos.line}:{column.pos.col}); the header is: "
                f"{short('; '.join(first), 200)}"))
        if not missing:
            self.index = index
        return not missing

    def _row(self, cells: list[str], line: int) -> None:
        try:
            credit = self._credit(cells, line)
        except _Bad as bad:
            self.diagnostics.append(_error(self.where, bad.line, bad.code,
                                           f"{bad.message}; the row is left out"))
            return
        if credit is not None:
            self.credits.append(credit)

    def _cell(self, cells: list[str], column: Column, line: int) -> str:
        assert self.index is not None
        at = self.index[column]
        if at >= len(cells):
            raise _Bad(line, "bad-row", f"the row has {len(cells)} columns, and "
                       f"'{column.key}' reads column {at + 1}")
        return cells[at].strip()

    def _credit(self, cells: list[str], line: int) -> Credit | None:
        rules = self.rules
        amount = self._amount(cells, line)
        if amount is None:
            return None  # a debit
        day = _parsed(rules.date_of, self._cell(cells, rules.date, line), line, "bad-date")
        currency = self._currency(cells, line)
        name = self._cell(cells, rules.name, line) if rules.name else None
        iban = normal_iban(self._cell(cells, rules.iban, line)) if rules.iban else None
        text = _words(self._cell(cells, c, line) for c in rules.description)
        own = self._cell(cells, rules.reference, line) if rules.reference else ""
        reference = own or self.digest(("csv", day.isoformat(), str(amount), currency, *cells))
        return Credit(date=day, amount=amount, currency=currency, reference=reference,
                      name=_words([name]) or None, iban=iban, text=text,
                      where=f"{self.where}:{line}")

    def _amount(self, cells: list[str], line: int) -> Decimal | None:
        """The credit's amount, or None for a debit or a row with zero."""
        rules = self.rules
        if rules.amount is not None:
            cell = self._cell(cells, rules.amount, line)
            signed = _parsed(rules.amount_of, cell, line, "bad-amount")
            amount = signed if rules.credit_sign == "+" else -signed
            return amount if amount > 0 else None
        assert rules.credit is not None  # csvrules requires amount or credit
        credit = self._cell(cells, rules.credit, line)
        if rules.debit is not None and not credit and not self._cell(cells, rules.debit, line):
            raise _Bad(line, "bad-row", f"neither {rules.credit.ref!r} nor {rules.debit.ref!r} "
                       "holds an amount")
        if not credit:
            return None
        amount = _parsed(rules.amount_of, credit, line, "bad-amount")
        if amount < 0:
            raise _Bad(line, "bad-amount", f"the credit column {rules.credit.ref!r} holds a "
                       f"negative amount ({short(credit)})")
        return amount if amount > 0 else None

    def _currency(self, cells: list[str], line: int) -> str:
        if isinstance(self.rules.currency, str):
            return self.rules.currency
        code = self._cell(cells, self.rules.currency, line).upper()
        if not _CURRENCY.fullmatch(code):
            raise _Bad(line, "bad-row", f"the currency {short(code)!r} is not a code like EUR")
        return code


def _parsed(read: Callable[[str], T], text: str, line: int, code: str) -> T:
    """The value `read` (a method of the rules) finds in a cell; its complaint, at the row."""
    try:
        return read(text)
    except ValueError as exc:
        raise _Bad(line, code, str(exc)) from None
