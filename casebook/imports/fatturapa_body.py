"""One FatturaPA body (`FatturaElettronicaBody`) read into a `Document`: money and dates.

Owns what a body says the debtor owes and when: the sum of `ImportoPagamento` (after withholding
tax and split payment), computed from `ImportoTotaleDocumento` when a body has none, checked
against the total otherwise; due dates from `DataScadenzaPagamento`, else from the payment terms,
else 30 days; instalments as a schedule; which invoice a credit note lowers. Also the small,
exact readers of element values (dates, amounts in cents) that `fatturapa` shares.

It never reads a file or the clock: it takes elements and returns values, raising `Invalid` for
the first error in a body and passing warnings to the caller's `warn`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from casebook.imports.xmlread import Element

RECEIVABLES = ("TD01", "TD02", "TD03", "TD06", "TD24", "TD25")
CREDIT_NOTE = "TD04"
_TYPE_NAMES = {
    "TD05": "debit note", "TD16": "reverse-charge integration",
    "TD17": "self-invoice for services from abroad", "TD18": "self-invoice for EU goods",
    "TD19": "self-invoice for goods in Italy", "TD20": "self-invoice for irregular invoicing",
    "TD26": "sale of depreciable goods", "TD27": "self-consumption or free transfer",
    "TD28": "purchase from San Marino", "TD29": "report of missing or irregular invoicing",
}
_CENT = Decimal("0.01")
_AMOUNT = re.compile(r"-?\d{1,15}(\.\d+)?")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})?")
_DAYS = re.compile(r"\d{1,3}")
_DESCRIPTION_MAX = 120
_DEFAULT_DAYS = 30

_BODY = "FatturaElettronicaBody"
_GENERAL = "FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento"
_PAYMENT = "FatturaElettronicaBody/DatiPagamento/DettaglioPagamento"
_SUMMARY = "FatturaElettronicaBody/DatiBeniServizi/DatiRiepilogo"

Warn = Callable[[Element, str, str], None]  # (element, code, message)
_Parts = list[tuple[Element | None, Decimal]]  # DettaglioPagamento (None: computed), amount


@dataclass(frozen=True, kw_only=True)
class Part:
    due: dt.date
    amount: Decimal


@dataclass(frozen=True, kw_only=True)
class Document:
    """One `FatturaElettronicaBody`: an invoice to collect or a credit note."""

    type: str  # "TD01", "TD04", ...
    number: str  # Numero, as written
    date: dt.date
    amount: Decimal  # what the debtor owes: the sum of ImportoPagamento
    total: Decimal | None  # ImportoTotaleDocumento, only when it differs from amount
    due: dt.date  # the earliest due date
    schedule: tuple[Part, ...]  # () unless there are several due dates; then all, by due
    description: str | None  # Causale, else the first line's Descrizione; one line, <= 120
    credits_invoice: str | None  # for TD04: the IdDocumento of DatiFattureCollegate
    currency: str  # Divisa, e.g. "EUR"
    line: int  # the line of the FatturaElettronicaBody element


class Invalid(Exception):
    """A value that cannot be taken: the header or body it is in is not imported."""

    def __init__(self, element: Element, code: str, message: str) -> None:
        super().__init__(message)
        self.element = element
        self.code = code
        self.message = message


def read_body(body: Element, warn: Warn) -> Document | None:
    """The body's document, or None (with a warning) for a type casebook does not collect;
    raises Invalid."""
    general = need(body, "DatiGenerali/DatiGeneraliDocumento", _BODY)
    kind = text(general, "TipoDocumento", _GENERAL)
    number = text(general, "Numero", _GENERAL)
    if kind != CREDIT_NOTE and kind not in RECEIVABLES:
        name = f" ({_TYPE_NAMES[kind]})" if kind in _TYPE_NAMES else ""
        warn(general, "skipped-type", f"{_GENERAL}/TipoDocumento: {kind}{name} number "
             f"{number!r} is not imported: casebook collects invoices ({' '.join(RECEIVABLES)}) "
             f"and credit notes ({CREDIT_NOTE})")
        return None
    return _Body(body, general, kind, warn).document(number)


class _Body:
    def __init__(self, body: Element, general: Element, kind: str, warn: Warn) -> None:
        self.body = body
        self.general = general
        self.kind = kind
        self.credit = kind == CREDIT_NOTE
        self.warn = warn
        self.issued = need_date(general, "Data", _GENERAL)

    def document(self, number: str) -> Document:
        currency = text(self.general, "Divisa", _GENERAL).upper()
        total = amount_at(self.general, "ImportoTotaleDocumento", _GENERAL)
        if total is not None and self.credit:
            total = abs(total)
        parts = self.parts(total)
        owed = sum((amount for _, amount in parts), Decimal("0.00"))
        dues = [(self.issued, owed)] if self.credit else self.dues(parts)
        credits = text(self.body, "DatiGenerali/DatiFattureCollegate/IdDocumento", _BODY,
                       why="a credit note names the invoice it lowers") if self.credit else None
        return Document(
            type=self.kind, number=number, date=self.issued, amount=owed,
            total=total if total is not None and total != owed else None,
            due=min(due for due, _ in dues), schedule=_schedule(dues),
            description=_description(self.body, self.general), credits_invoice=credits,
            currency=currency, line=self.body.line)

    def parts(self, total: Decimal | None) -> _Parts:
        """Each DettaglioPagamento with its ImportoPagamento; without any, one part computed
        from the total (its element None)."""
        details = self.body.findall("DatiPagamento/DettaglioPagamento")
        amounts = [amount_at(detail, "ImportoPagamento", _PAYMENT) for detail in details]
        deductions = _deductions(self.body, self.general)
        if all(amount is None for amount in amounts):
            return [(None, self.computed(total, deductions))]
        parts: _Parts = [(detail, self.payment(detail, amount))
                         for detail, amount in zip(details, amounts, strict=True)]
        owed = sum((amount for _, amount in parts), Decimal(0))
        if not self.credit and total is not None and total - sum(deductions.values()) != owed:
            self.warn(details[0], "amounts-differ", f"{_PAYMENT}/ImportoPagamento: the amounts "
                      f"to pay add up to {owed}, against {_explain(total, deductions)}; "
                      f"importing {owed}")
        return parts

    def payment(self, detail: Element, amount: Decimal | None) -> Decimal:
        """`amount`, present and more than zero (either sign for a credit note: issuers use
        both; its amount is the absolute value)."""
        if amount is None:
            raise Invalid(detail, "missing-element", f"{_PAYMENT}/ImportoPagamento is missing, "
                          "while other DettaglioPagamento have one")
        if amount <= 0 and not (self.credit and amount):
            found = detail.find("ImportoPagamento")
            raise Invalid(detail if found is None else found, "bad-amount",
                          f"{_PAYMENT}/ImportoPagamento: {amount} is not an amount to collect "
                          "(it must be more than zero)")
        return abs(amount)

    def computed(self, total: Decimal | None, deductions: dict[str, Decimal]) -> Decimal:
        if total is None:
            raise Invalid(self.general, "missing-element", f"{_BODY}: neither DatiPagamento/"
                          "DettaglioPagamento/ImportoPagamento nor ImportoTotaleDocumento: the "
                          "amount owed is unknown")
        owed = total - sum(deductions.values())
        if owed <= 0:
            raise Invalid(self.general, "bad-amount", f"{_GENERAL}/ImportoTotaleDocumento: "
                          f"{_explain(total, deductions)} leaves nothing owed")
        if not self.credit:
            self.warn(self.general, "computed-amount", f"{_BODY}: no DatiPagamento/"
                      "DettaglioPagamento/ImportoPagamento; the amount owed is taken as "
                      f"{_explain(total, deductions)}")
        return owed

    def dues(self, parts: _Parts) -> list[tuple[dt.date, Decimal]]:
        """Each part with its due date; the invoice date + 30 days (and a warning) where there
        is none. A computed part is due on the first due date the body gives."""
        found = [(self.body, self.first_due(), amount) if detail is None
                 else (detail, _due(detail, self.issued), amount) for detail, amount in parts]
        missing = any(due is None for _, due, _ in found)
        default = self.default_due() if missing else self.issued
        dues = [(element, default if due is None else due, amount)
                for element, due, amount in found]
        for element, due, _ in dues:
            if due < self.issued:
                raise Invalid(element, "bad-date", f"{_PAYMENT}: the due date {due} is before "
                              f"the invoice date {self.issued}")
        return [(due, amount) for _, due, amount in dues]

    def default_due(self) -> dt.date:
        default = _later(self.issued, _DEFAULT_DAYS, self.general, f"{_GENERAL}/Data")
        self.warn(self.body, "no-due-date", f"{_BODY}: no due date (no DatiPagamento/"
                  "DettaglioPagamento with DataScadenzaPagamento or GiorniTerminiPagamento); "
                  f"due taken as the invoice date + 30 days, {default}")
        return default

    def first_due(self) -> dt.date | None:
        details = self.body.findall("DatiPagamento/DettaglioPagamento")
        found = (_due(detail, self.issued) for detail in details)
        return min((due for due in found if due is not None), default=None)


def _deductions(body: Element, general: Element) -> dict[str, Decimal]:
    """What the debtor does not pay to the seller: withholding tax, and the VAT under split
    payment (EsigibilitaIVA S: the public body pays it to the State). Signs are dropped."""
    withheld = (amount_at(r, "ImportoRitenuta", f"{_GENERAL}/DatiRitenuta")
                for r in general.findall("DatiRitenuta"))
    split = (amount_at(s, "Imposta", _SUMMARY)
             for s in body.findall("DatiBeniServizi/DatiRiepilogo")
             if (s.text_at("EsigibilitaIVA") or "").upper() == "S")
    found = {"withholding tax": sum((abs(a) for a in withheld if a is not None), Decimal(0)),
             "split-payment VAT": sum((abs(a) for a in split if a is not None), Decimal(0))}
    return {what: amount for what, amount in found.items() if amount}


def _explain(total: Decimal, deductions: dict[str, Decimal]) -> str:
    """"ImportoTotaleDocumento 976.49 less split-payment VAT 176.09 = 800.40", or the total."""
    if not deductions:
        return f"ImportoTotaleDocumento {total}"
    less = "".join(f" less {what} {amount}" for what, amount in deductions.items())
    return f"ImportoTotaleDocumento {total}{less} = {total - sum(deductions.values())}"


def _due(detail: Element, issued: dt.date) -> dt.date | None:
    """DataScadenzaPagamento, else DataRiferimentoTerminiPagamento (or the invoice date) +
    GiorniTerminiPagamento days; None when the detail gives neither."""
    explicit = date_at(detail, "DataScadenzaPagamento", _PAYMENT)
    if explicit is not None:
        return explicit
    found = detail.find("GiorniTerminiPagamento")
    days = found.text.strip() if found is not None else ""
    if found is None or not days:
        return None
    if not _DAYS.fullmatch(days):
        raise Invalid(found, "bad-number", f"{_PAYMENT}/GiorniTerminiPagamento: {days!r} is not "
                      "a number of days (0 to 999)")
    start = date_at(detail, "DataRiferimentoTerminiPagamento", _PAYMENT) or issued
    return _later(start, int(days), found, f"{_PAYMENT}/GiorniTerminiPagamento")


def _later(start: dt.date, days: int, element: Element, where: str) -> dt.date:
    try:
        return start + dt.timedelta(days=days)
    except OverflowError:
        raise Invalid(element, "bad-date", f"{where}: {start} + {days} days is past the year "
                      "9999: not a due date") from None


def _schedule(dues: list[tuple[dt.date, Decimal]]) -> tuple[Part, ...]:
    sums: dict[dt.date, Decimal] = {}
    for due, amount in dues:
        sums[due] = sums.get(due, Decimal(0)) + amount
    if len(sums) < 2:
        return ()
    return tuple(Part(due=due, amount=sums[due]) for due in sorted(sums))


def _description(body: Element, general: Element) -> str | None:
    found = squash(general.text_at("Causale")
                   or body.text_at("DatiBeniServizi/DettaglioLinee/Descrizione"))
    if len(found) > _DESCRIPTION_MAX:
        found = found[:_DESCRIPTION_MAX - 1].rstrip() + "…"
    return found or None


def need(parent: Element, path: str, where: str) -> Element:
    """The element at `path` below `parent` (whose own path is `where`); raises Invalid."""
    found = parent.find(path)
    if found is None:
        raise Invalid(parent, "missing-element", f"{where}/{path} is missing")
    return found


def text(parent: Element, path: str, where: str, why: str = "") -> str:
    """The text at `path`, stripped and not empty; raises Invalid, saying `why` it is needed."""
    found = parent.find(path)
    value = found.text.strip() if found is not None else ""
    if not value:
        reason = f": {why}" if why else ""
        raise Invalid(parent if found is None else found, "missing-element",
                      f"{where}/{path} is {'missing' if found is None else 'empty'}{reason}")
    return value


def date_at(parent: Element, path: str, where: str) -> dt.date | None:
    """The date at `path`, None when there is none; raises Invalid for one that is not a date."""
    found = parent.find(path)
    value = found.text.strip() if found is not None else ""
    if found is None or not value:
        return None
    match = _DATE.fullmatch(value)
    try:
        if match:
            return dt.date.fromisoformat(match[1])
    except ValueError:
        pass
    raise Invalid(found, "bad-date", f"{where}/{path}: {value!r} is not a date (YYYY-MM-DD)")


def need_date(parent: Element, path: str, where: str) -> dt.date:
    found = date_at(parent, path, where)
    if found is None:
        raise Invalid(parent, "missing-element", f"{where}/{path} is missing")
    return found


def amount_at(parent: Element, path: str, where: str) -> Decimal | None:
    """The amount at `path`, exact, with 2 decimals; None when there is none. More decimals
    are refused unless they are zeros: an amount to pay is in cents, never rounded here."""
    found = parent.find(path)
    value = found.text.strip() if found is not None else ""
    if found is None or not value:
        return None
    if not _AMOUNT.fullmatch(value):
        raise Invalid(found, "bad-amount", f"{where}/{path}: {value!r} is not an amount "
                      "(digits, a point and 2 decimals)")
    exact = Decimal(value)
    if exact != exact.quantize(_CENT):
        raise Invalid(found, "bad-amount", f"{where}/{path}: {value!r} has more than 2 decimals; "
                      "an amount to pay is in cents")
    return exact.quantize(_CENT)


def squash(value: str | None) -> str:
    """`value` on one line, runs of white space made one space."""
    return " ".join((value or "").split())
