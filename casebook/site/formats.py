"""Exports of the assessed casebook: JSON (SPEC 6), CSV for spreadsheets (in two dialects),
ICS for calendars.

Rows are built per case in the loading worker (`export_task`); the formatters here turn a list
of rows into text. Nothing here reads the clock: the day is a parameter, and the same rows and
day always give the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache, partial
from typing import Any

from casebook.engine.interest import (
    CaseInterest,
    InterestContext,
    interest_context,
    interest_for_case,
)
from casebook.engine.reasons import for_people
from casebook.load.assess import Assessment, Row, assess_case, cents
from casebook.load.casebook import Task
from casebook.model import Case, Config, Debtor, InterestSettings

CSV_COLUMNS = (
    "case", "debtor", "kind", "owner", "status", "action", "due", "channel", "letter",
    "balance", "overdue", "days_overdue", "interest", "compensation", "claim", "interest_to",
    "reason", "address", "pec", "email", "phone", "prescribes",
)
_MONEY_COLUMNS = frozenset({"balance", "overdue", "interest", "compensation", "claim"})

#: The facts of a case file the export carries, and the column or JSON key that holds each
#: (`invoices[].due`: a key of each item of the JSON's `invoices`).
EXPORTED: Mapping[str, str] = {
    "Case.id": "case",
    "Case.debtor": "debtor, kind, address, pec, email, phone",
    "Case.owner": "owner",
    "Case.invoices": "invoices",
    "Debtor.name": "debtor",
    "Debtor.kind": "kind",
    "Debtor.address": "address",
    "Debtor.pec": "pec",
    "Debtor.email": "email",
    "Debtor.phone": "phone",
    "Invoice.number": "invoices[].number",
    "Invoice.date": "invoices[].date",
    "Invoice.due": "invoices[].due",
    "Invoice.amount": "invoices[].amount",
    "Invoice.schedule": "invoices[].due",  # one item per part, numbered "number (k/n)"
    "Invoice.claim": "prescribes, invoices[].prescribes",  # its term gives the date
}
_DECIDES = "it decides the status, the next action or the amounts, which are exported"
_ON_THE_PAGE = "not needed to chase a payment from a spreadsheet; the case page shows it"
#: The facts the export leaves out on purpose, and why (`*.pos`: that field of every class).
NOT_EXPORTED: Mapping[str, str] = {
    "*.pos": "a place in the case file, for diagnostics",
    "Case.path": "the case id (`case`) names the file",
    "Case.policy": _DECIDES,
    "Case.tags": _ON_THE_PAGE,
    "Case.notes": "free Markdown; the case page shows it",
    "Debtor.vat": _ON_THE_PAGE, "Debtor.cf": _ON_THE_PAGE, "Debtor.sdi": _ON_THE_PAGE,
    "Debtor.contact": _ON_THE_PAGE,
    "Invoice.description": _ON_THE_PAGE,
    "Debtor.iban": _ON_THE_PAGE, "Invoice.total": _ON_THE_PAGE, "Invoice.source": _ON_THE_PAGE,
    "Credit.number": _ON_THE_PAGE,
    "Court.kind": _ON_THE_PAGE, "Court.number": _ON_THE_PAGE, "Court.court": _ON_THE_PAGE,
    "Invoice.part_of": "a part's number names its invoice ('number (k/n)')",
    **dict.fromkeys((
        "Case.payments", "Payment.date", "Payment.amount", "Payment.invoice",
        "Case.credits", "Credit.date", "Credit.amount", "Credit.invoice",
        "Case.court", "Court.filed",
        "Case.disputes", "Dispute.opened", "Dispute.invoice", "Dispute.resolved",
        "Case.promises", "Promise.made", "Promise.by", "Promise.amount",
        "Case.plans", "Plan.agreed", "Plan.instalments", "Plan.confirmed", "Plan.fallback",
        "Instalment.due", "Instalment.amount",
        "Case.hold", "Hold.until", "Case.closed", "Closed.date",
        "Case.log", "LogEntry.date", "LogEntry.channel", "LogEntry.step",
    ), _DECIDES),
    **dict.fromkeys((
        "Payment.method", "Payment.reference", "Dispute.reason", "Hold.reason",
        "Closed.reason", "LogEntry.title", "LogEntry.note",
    ), _ON_THE_PAGE),
}


@dataclass(frozen=True)
class CsvDialect:
    """How a spreadsheet wants its CSV: `standard` is RFC 4180 (commas, a decimal dot);
    `excel-it` is what Excel in Italian opens in columns (semicolons, a decimal comma, and a
    UTF-8 BOM so that accented names are read as UTF-8)."""

    delimiter: str = ","
    decimal: str = "."
    bom: str = ""


CSV_DIALECTS = {"standard": CsvDialect(), "excel-it": CsvDialect(";", ",", "\ufeff")}
STANDARD = CSV_DIALECTS["standard"]
# A cell a spreadsheet may run: a formula sign first, or after blanks and quotes (some
# spreadsheets trim them on import), or a leading tab or line break.
_FORMULA = re.compile(r"[\s\"'\u00a0]*[=+\-@\uff1d\uff0b\uff0d\uff20]|[\t\r\n]")
# Line breaks that JSON leaves raw but line-oriented readers (str.splitlines, old JavaScript)
# split on: escaped, so that each case stays on its own line.
_JSON_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})
# Characters RFC 5545 does not allow in TEXT (the controls but tab): shown as U+FFFD.
_ICS_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@lru_cache(maxsize=8)
def _context(settings: InterestSettings, today: date) -> InterestContext:
    return interest_context(settings, today)


def export_row(case: Case, config: Config, today: date, for_people: bool = False) -> Row:
    """The `next --json` fields plus interest, compensation, claim and the invoices;
    `for_people`, with the reason in the casebook's locale (for the calendar)."""
    assessment = assess_case(case, config, today)
    interest = interest_for_case(case, _context(config.interest, today))
    return export_fields(assessment, interest, for_people=for_people)


def export_fields(assessment: Assessment, interest: CaseInterest, *,
                  for_people: bool = False) -> Row:
    case, residual = assessment.case, assessment.situation.allocation.residual
    issued = {i.number: i for i in assessment.situation.invoices}
    prescribes = {c.invoice.number: c.prescribes for c in assessment.situation.claims}
    row = assessment.as_json(for_people=for_people)
    row.update({
        "kind": case.debtor.kind,
        "owner": case.owner,
        **_contacts(case.debtor),
        "interest": cents(interest.interest),
        "interest_to": interest.interest_to.isoformat(),
        "compensation": cents(interest.compensation),
        "claim": cents(interest.claim),
        "invoices": [
            {
                "number": item.number,
                "date": issued[item.number].date.isoformat(),
                "due": item.due.isoformat(),
                "amount": cents(item.amount),
                "residual": cents(residual[item.number]),
                "interest": cents(item.unpaid),
                "prescribes": _iso(prescribes.get(item.number)),
            }
            for item in interest.invoices
        ],
    })
    return row


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _contacts(debtor: Debtor) -> dict[str, str | None]:
    """The debtor's address (on one line), PEC, e-mail and phone."""
    address = debtor.address
    if address is not None:
        address = ", ".join(line.strip() for line in address.splitlines() if line.strip())
    return {"address": address, "pec": debtor.pec, "email": debtor.email,
            "phone": debtor.phone}


def export_task(today: date, *, for_people: bool = False) -> Task[Row]:
    """The export rows; `for_people`, with the reasons in the casebook's locale (`to_ics`)."""
    name = "export-said" if for_people else "export"
    return Task(name, today.isoformat(),
                partial(export_row, today=today, for_people=for_people))


# -- formats --------------------------------------------------------------------------


def to_json(rows: Sequence[Row]) -> str:
    """A JSON array with one case per line, like `next --json`: a readable diff, fast to write."""
    return join_json([json_line(r) for r in rows])


def json_line(row: Row) -> str:
    line = json.dumps(row, ensure_ascii=False)
    return line if line.isascii() else line.translate(_JSON_BREAKS)


def join_json(lines: Sequence[str]) -> str:
    return "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"


def to_csv(rows: Sequence[Row], dialect: CsvDialect = STANDARD) -> str:
    """A header row, then one row per case, CRLF line ends as spreadsheets expect; text cells
    that a spreadsheet could run as a formula are prefixed with an apostrophe."""
    return join_csv([csv_line(r, dialect) for r in rows], dialect)


def csv_line(row: Row, dialect: CsvDialect = STANDARD) -> str:
    """One row of the CSV, with its CRLF."""
    return csv_cells_line(csv_cells(row), dialect)


def csv_cells(row: Row) -> list[str]:
    """The cells of a row, as every dialect starts from them."""
    return [_cell(row.get(column)) for column in CSV_COLUMNS]


def csv_cells_line(cells: list[str], dialect: CsvDialect = STANDARD) -> str:
    """One row of the CSV from its cells (`csv_cells`), with its CRLF."""
    out = io.StringIO()
    if dialect.decimal != ".":
        cells = [cell.replace(".", dialect.decimal) if column in _MONEY_COLUMNS else cell
                 for column, cell in zip(CSV_COLUMNS, cells, strict=True)]
    csv.writer(out, delimiter=dialect.delimiter, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def join_csv(lines: Sequence[str], dialect: CsvDialect = STANDARD) -> str:
    return dialect.bom + dialect.delimiter.join(CSV_COLUMNS) + "\r\n" + "".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if _FORMULA.match(text) else text


def to_ics(rows: Sequence[Row], today: date, config: Config) -> str:
    """An iCalendar (RFC 5545) with one all-day event per next action that has a due date,
    from rows whose reasons are in the casebook's locale (`export_task(…, for_people=True)`)."""
    return join_ics([ics_event(row, today, row["reason"], config) for row in rows])


def ics_event(row: Row, today: date, said: str, config: Config) -> str:
    """The VEVENT of a case's next action, folded, with CRLFs; empty when it has no date.
    People read it: its title and details are in the casebook's locale, `said` its reason."""
    if row["due"] is None:
        return ""
    due = date.fromisoformat(row["due"])
    uid = f"{row['case'].replace('/', '.')}.{row['action']}@casebook"
    voice = for_people(config.locale, config.currency)
    channel = row["channel"]
    summary = voice.fill("ics.summary.by" if channel else "ics.summary", {
        "action": voice.name("action.", row["action"]), "debtor": row["debtor"],
        "channel": voice.name("channel.", channel) if channel else None})
    prescribes = row.get("prescribes")
    details = voice.fill("ics.description.prescribes" if prescribes else "ics.description", {
        "reason": said, "overdue": Decimal(row["overdue"]),
        "status": voice.name("status.", row["status"]),
        "prescribes": date.fromisoformat(prescribes) if prescribes else None})
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{today:%Y%m%d}T000000Z",
        f"DTSTART;VALUE=DATE:{due:%Y%m%d}",
        f"DTEND;VALUE=DATE:{due + timedelta(days=1):%Y%m%d}",
        "SUMMARY:" + _text(summary),
        "DESCRIPTION:" + _text(details),
        "CATEGORIES:" + _text(row["status"]),
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]
    return "".join(_fold(line) + "\r\n" for line in lines)


def join_ics(events: Sequence[str]) -> str:
    """The calendar around events in the order given (most urgent first, by convention)."""
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//casebook//casebook//EN",
            "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "X-WR-CALNAME:casebook"]
    return "".join(line + "\r\n" for line in head) + "".join(events) + "END:VCALENDAR\r\n"


def _text(value: str) -> str:
    """RFC 5545 TEXT escaping; CR, LF and CRLF are an escaped newline, and a control
    character, which TEXT may not hold, is U+FFFD."""
    text = (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))
    return text if text.isprintable() else _ICS_CONTROL.sub("\ufffd", text)


def _fold(line: str) -> str:
    """Fold at 75 octets without splitting a UTF-8 character (RFC 5545 3.1)."""
    if len(line) <= 75 and (line.isascii() or len(line.encode("utf-8")) <= 75):
        return line
    data = line.encode("utf-8")
    parts: list[bytes] = []
    start, limit = 0, 75
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a continuation byte: cut before its character
            end -= 1
        parts.append(data[start:end])
        start, limit = end, 74  # continuation lines start with a space
    parts.append(data[start:])
    return b"\r\n ".join(parts).decode("utf-8")
