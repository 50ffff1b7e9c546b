"""The rules file that says how to read one bank's CSV export (`import bank --rules FILE`).

A small YAML file, in the spirit of hledger's CSV rules but without conditions: which columns
hold the booking date, the amount (one signed column, or separate credit and debit columns), the
remittance text, the payer's name, IBAN and the bank's reference, and how the export writes
numbers and dates. For example:

    separator: ";"
    encoding: cp1252
    skip: 0                   # lines before the header row
    header: true              # the first row after them names the columns
    date: Data contabile      # a column's name, or its position counting from 1
    date-format: "%d/%m/%Y"   # strptime codes
    amount: Importo           # signed; or credit: Avere (and debit: Dare)
    decimal-comma: true       # 1.234,56
    credit-sign: "+"          # "-" when the export writes money in as negative
    description: [Descrizione, Causale]
    name: Ordinante
    iban: IBAN ordinante
    reference: Riferimento
    currency: EUR             # a fixed code, or the column holding it

Every key is checked, with the line and column of what is wrong and a did-you-mean for a
misspelt key. This module owns that format, and how the export writes an amount and a date;
it never reads a CSV file (`bank` does).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from yaml.nodes import Node, ScalarNode, SequenceNode

from casebook.diagnostics import Diagnostic, Severity, did_you_mean, ordered
from casebook.model import Pos
from casebook.read.scalars import MAX_AMOUNT, out_of_range, short
from casebook.read.yamlread import Fields, Invalid, Reader, YamlSyntaxError, compose, describe

ENCODINGS = {
    "utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8-sig", "cp1252": "cp1252",
    "windows-1252": "cp1252", "latin-1": "latin-1", "latin1": "latin-1", "iso-8859-1": "latin-1",
    "iso-8859-15": "iso-8859-15",
}
SEPARATOR_WORDS = {"tab": "\t", "semicolon": ";", "comma": ",", "pipe": "|"}
_CODE = re.compile(r"[A-Z]{3}")
_COUNT = re.compile(r"[0-9]{1,4}")
_COMMA_AMOUNT = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d{1,2})?")
_DOT_AMOUNT = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?")
CENT = Decimal("0.01")
_SAMPLE_DAY = dt.datetime(2026, 12, 31)  # day 31 and month 12 cannot be confused
MAX_BYTES = 64 * 1024


@dataclass(frozen=True, kw_only=True)
class Column:
    """A column named by the rules: by its header (`str`) or its 1-based position (`int`)."""

    ref: str | int
    key: str  # the rules' key that names it, for messages
    pos: Pos  # where the rules name it


@dataclass(frozen=True, kw_only=True)
class Rules:
    """How to read one bank's CSV export; `path` is the rules file, for messages."""

    path: str
    date: Column
    separator: str = ","
    encoding: str = "utf-8-sig"
    skip: int = 0
    header: bool = True
    date_format: str = "%Y-%m-%d"
    amount: Column | None = None
    credit: Column | None = None
    debit: Column | None = None
    decimal_comma: bool = False
    credit_sign: str = "+"
    description: tuple[Column, ...] = ()
    name: Column | None = None
    iban: Column | None = None
    reference: Column | None = None
    currency: Column | str = "EUR"

    def amount_of(self, text: str) -> Decimal:
        """The signed amount in a cell as the export writes it: 1.234,56 with a decimal comma,
        else 1,234.56 or 1234.56; raises ValueError saying what is wrong."""
        plain = "".join(text.replace("€", "").split())
        if not (_COMMA_AMOUNT if self.decimal_comma else _DOT_AMOUNT).fullmatch(plain):
            example = "1.234,56" if self.decimal_comma else "1234.56"
            raise ValueError(f"{short(text)!r} is not an amount like {example}")
        if self.decimal_comma:
            plain = plain.replace(".", "").replace(",", ".")
        amount = Decimal(plain.replace(",", ""))
        if abs(amount) >= MAX_AMOUNT:
            raise ValueError(f"the amount {short(text)} is out of range")
        return amount.quantize(CENT)

    def date_of(self, text: str) -> dt.date:  # `date` here is the field
        """The date in a cell, read with `date_format`; raises ValueError saying what is wrong."""
        try:
            day = dt.datetime.strptime(text, self.date_format).date()
        except ValueError:
            raise ValueError(f"{short(text)!r} is not a date in the format "
                             f"{self.date_format!r}") from None
        problem = out_of_range(day)
        if problem is not None:
            raise ValueError(problem)
        return day

    def columns(self) -> tuple[Column, ...]:
        """Every column the rules read."""
        single = (self.date, self.amount, self.credit, self.debit, self.name, self.iban,
                  self.reference, None if isinstance(self.currency, str) else self.currency)
        return (*(c for c in single if c is not None), *self.description)


def read_rules(path: Path) -> tuple[Rules | None, list[Diagnostic]]:
    """The rules in `path`; None, with the diagnostics, when any of them is an error."""
    where = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [_error(where, Pos(1, 1), "unreadable", f"cannot read {where}: "
                             f"{exc.strerror}")]
    if len(data) > MAX_BYTES:
        return None, [_error(where, Pos(1, 1), "too-large", f"{where} is too large for a rules "
                             f"file ({len(data):,} bytes)")]
    try:
        return rules_from_text(data.decode("utf-8-sig"), where)
    except UnicodeDecodeError:
        return None, [_error(where, Pos(1, 1), "encoding", f"{where} is not UTF-8 text")]


def rules_from_text(text: str, where: str) -> tuple[Rules | None, list[Diagnostic]]:
    """The rules written in `text`, read as the file `where`."""
    reader = Reader(where)
    try:
        root = compose(text)
    except YamlSyntaxError as exc:
        hint = _dash_hint(text, exc.line)
        return None, [_error(where, Pos(exc.line + 1, exc.col + 1), "yaml", exc.message + hint)]
    if root is None:
        return None, [_error(where, Pos(1, 1), "missing-key", f"{where} is empty: the rules "
                             "need at least 'date' and 'amount' (or 'credit')")]
    _, fields = reader.attempt(_Schema(reader).top, root)
    rules = None if fields is None else _rules(fields, where, reader)
    errors = any(d.severity is Severity.ERROR for d in reader.diagnostics)
    return (None if errors else rules), ordered(reader.diagnostics)


def _error(where: str, pos: Pos, code: str, message: str) -> Diagnostic:
    return Diagnostic(where, pos.line, pos.col, Severity.ERROR, code, message)


def _dash_hint(text: str, line: int) -> str:
    """Why `credit-sign: -` fails: a bare dash starts a YAML list."""
    lines = text.splitlines()
    if line < len(lines) and re.search(r":\s*-\s*(#.*)?$", lines[line]):
        return "; write a lone '-' in quotes: credit-sign: \"-\""
    return ""


class _Schema:
    """Readers for each key; each raises `Invalid` at the node that is wrong."""

    def __init__(self, reader: Reader) -> None:
        self.r = reader

    def top(self, node: Node) -> Fields | None:
        r = self.r
        column_keys = ("date", "amount", "credit", "debit", "name", "iban", "reference")
        fields: dict[str, Callable[[Node], Any]] = {
            key: self._column_of(key) for key in column_keys}
        fields.update({
            "separator": self.separator, "encoding": self.encoding, "skip": self.lines,
            "header": self.boolean, "date-format": self.date_format,
            "decimal-comma": self.boolean, "credit-sign": self.sign,
            "description": self.description, "currency": self.currency,
        })
        return r.mapping(node, fields, what="the CSV rules", required=("date",))

    def _column_of(self, key: str) -> Callable[[Node], Column | None]:
        return lambda node: self.column(node, key)

    def column(self, node: Node, key: str) -> Column | None:
        value = self.r.text(node)
        return None if value is None else self._column(node, value, key)

    def _column(self, node: Node, value: str, key: str) -> Column:
        """A column by position when the value is a plain number, else by its header."""
        if not value.strip():
            raise Invalid(node, f"'{key}' names no column", "value")
        if not getattr(node, "style", None) and _COUNT.fullmatch(value):
            if int(value) < 1:
                raise Invalid(node, f"'{key}' names column {value}: positions count from 1",
                              "value")
            return Column(ref=int(value), key=key, pos=self.r.pos(node))
        return Column(ref=" ".join(value.split()), key=key, pos=self.r.pos(node))

    def description(self, node: Node) -> tuple[Column, ...]:
        if isinstance(node, SequenceNode):
            columns = self.r.sequence(node, lambda n: self.column(n, "description"),
                                      what="description")
            return tuple(columns)
        column = self.column(node, "description")
        return () if column is None else (column,)

    def currency(self, node: Node) -> Column | str | None:
        value = self.r.text(node)
        if value is not None and _CODE.fullmatch(value.strip()):
            return value.strip()
        return None if value is None else self._column(node, value, "currency")

    def lines(self, node: Node) -> int | None:
        value = self.r.text(node)
        if value is not None and not _COUNT.fullmatch(value):
            raise Invalid(node, f"'skip' is a number of lines, found {short(value)!r}", "value")
        return None if value is None else int(value)

    def boolean(self, node: Node) -> bool:
        self.r.visit(node)
        if isinstance(node, ScalarNode) and not node.style and node.value in ("true", "false"):
            return bool(node.value == "true")
        raise Invalid(node, f"expected true or false, found {describe(node)}")

    def separator(self, node: Node) -> str | None:
        value = self.r.text(node)
        if value is None:
            raise Invalid(node, "the separator is empty; write it in quotes, like \";\" "
                          "(a bare , or | means something else to YAML)", "value")
        value = SEPARATOR_WORDS.get(value.lower(), value)
        if len(value) != 1 or value in "\"\r\n" or value.isalnum():
            raise Invalid(node, f"the separator must be one character such as \";\" or \",\" "
                          f"(or the word tab), found {value!r}", "value")
        return value

    def encoding(self, node: Node) -> str | None:
        value = self.r.text(node)
        if value is None:
            return None
        known = ENCODINGS.get(value.strip().lower().replace("_", "-"))
        if known is None:
            raise Invalid(node, f"unknown encoding {value!r}{did_you_mean(value, ENCODINGS)}; "
                          f"casebook reads {', '.join(sorted(set(ENCODINGS.values())))}", "value")
        return known

    def date_format(self, node: Node) -> str | None:
        value = self.r.text(node)
        if value is None:
            return None
        try:
            back = dt.datetime.strptime(_SAMPLE_DAY.strftime(value), value)
        except ValueError as exc:
            raise Invalid(node, f"the date-format {value!r} cannot be used: {exc}",
                          "value") from None
        if back.date() != _SAMPLE_DAY.date():
            raise Invalid(node, f"the date-format {value!r} does not read a whole date: write "
                          "the day, month and year with strptime codes, like %d/%m/%Y for "
                          "31/12/2026", "value")
        return value

    def sign(self, node: Node) -> str | None:
        value = self.r.text(node)
        if value is not None and value.strip() not in ("+", "-"):
            raise Invalid(node, f"credit-sign must be \"+\" (money in is positive) or \"-\" "
                          f"(money in is negative), found {value!r}", "value")
        return None if value is None else value.strip()


def _rules(fields: Fields, where: str, reader: Reader) -> Rules | None:
    """The rules once every key is read, with the checks that look at several keys."""
    amount, credit, debit = (fields.get(k) for k in ("amount", "credit", "debit"))
    if amount is not None and credit is not None:
        reader.error(fields.where("credit"), "rules", "give either 'amount' (one signed column) "
                     "or 'credit' and 'debit' (two columns), not both")
    elif not {"amount", "credit"} & fields.at.keys():
        reader.error(fields.pos, "missing-key", "the rules need 'amount' (one signed column) or "
                     "'credit' (the column of money in, with 'debit' for money out)")
    if debit is not None and credit is None:
        reader.error(fields.where("debit"), "rules", "'debit' needs 'credit' beside it; a "
                     "single signed column is 'amount'")
    if "credit-sign" in fields and amount is None:
        reader.warning(fields.where("credit-sign"), "rules", "credit-sign applies to a signed "
                       "'amount' column only; it is ignored with 'credit' and 'debit'")
    if fields.get("header") is False:
        _positions_only(fields, reader)
    names = {"date-format": "date_format", "decimal-comma": "decimal_comma",
             "credit-sign": "credit_sign"}
    values = {names.get(key, key): value for key, value in fields.items()}
    return Rules(path=where, **values)


def _positions_only(fields: Fields, reader: Reader) -> None:
    for value in fields.values():
        columns = value if isinstance(value, tuple) else (value,)
        for column in columns:
            if isinstance(column, Column) and isinstance(column.ref, str):
                reader.error(column.pos, "rules", f"'{column.key}' names the column "
                             f"{column.ref!r}, but 'header' is false: name columns by position "
                             "(1 for the first)")
