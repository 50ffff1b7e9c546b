"""What an import needs to know of the casebook: each case's identity numbers, the numbers
and references it already records, and what it has open on the day.

`index_task` is a loader task (`casebook.load.loader.load`), so it runs on valid cases only,
in the workers, and its results are cached per file like `next`'s: a second import of the
same files reads the casebook from the cache. It never writes anything.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial
from typing import NamedTuple

from casebook.engine.situation import Situation
from casebook.load.casebook import Task
from casebook.model import Case, Config


class InvoiceFacts(NamedTuple):
    """One invoice of a case file, as an import compares it."""

    number: str
    date: dt.date
    due: dt.date
    amount: Decimal
    residual: Decimal  # residual capital on the day, of all its parts
    creditable: Decimal  # what credit notes may still take: its amount less theirs


class CaseIndex(NamedTuple):
    """One valid case, as an import sees it (plain values: cached and sent between processes)."""

    id: str
    path: str
    name: str
    vat: str | None  # normalised: country code and digits, upper case, no spaces
    cf: str | None
    iban: str | None
    invoices: tuple[InvoiceFacts, ...]  # every invoice of the file
    credits: tuple[str, ...]  # credit-note numbers
    references: tuple[str, ...]  # the payments' references
    open_items: tuple[tuple[Decimal, str | None, str], ...]  # amount, invoice, what
    closed: bool


def normal_vat(vat: str | None) -> str | None:
    """`IT 01234567890`, `01234567890` and `it01234567890` are one VAT number."""
    if not vat:
        return None
    compact = "".join(vat.split()).upper()
    return compact if compact[:2].isalpha() else "IT" + compact


def normal_cf(cf: str | None) -> str | None:
    return "".join(cf.split()).upper() if cf else None


def index_case(case: Case, config: Config, today: dt.date) -> CaseIndex:
    s = Situation(case, config.policy_for(case), today)
    return CaseIndex(
        id=case.id, path=case.path, name=case.debtor.name,
        vat=normal_vat(case.debtor.vat), cf=normal_cf(case.debtor.cf),
        iban=_compact(case.debtor.iban),
        invoices=_invoices(case, s),
        credits=tuple(c.number for c in case.credits),
        references=tuple(p.reference for p in case.payments if p.reference),
        open_items=_open_items(s) if case.closed is None else (),
        closed=case.closed is not None and case.closed.date <= today,
    )


def _invoices(case: Case, s: Situation) -> tuple[InvoiceFacts, ...]:
    residual: dict[str, Decimal] = {}
    for bill in s.invoices:
        number = bill.invoice_number
        residual[number] = residual.get(number, Decimal(0)) + s.residual(bill)
    creditable = {i.number: i.amount for i in case.invoices}
    for credit in case.credits:
        creditable[credit.invoice] = creditable.get(credit.invoice, Decimal(0)) - credit.amount
    return tuple(InvoiceFacts(i.number, i.date, i.due, i.amount,
                              residual.get(i.number, Decimal(0)), creditable[i.number])
                 for i in case.invoices)


def _open_items(s: Situation) -> tuple[tuple[Decimal, str | None, str], ...]:
    """What a payment of exactly one amount could be settling: an invoice's (or a scheduled
    part's) residual, a plan's pending instalment, a pending promise."""
    items: list[tuple[Decimal, str | None, str]] = [
        (s.residual(i), i.invoice_number, f"invoice {i.number}")
        for i in s.invoices if s.residual(i) > 0
    ]
    for plan in s.case.plans:
        for state in s.instalments(plan):
            if state.state == "pending":
                items.append((state.instalment.amount, None,
                              f"the instalment of {state.instalment.due} of the plan agreed "
                              f"on {plan.agreed}"))
    for promise in s.case.promises:
        if promise.made > s.today:
            continue
        judged = s.judge(promise)
        if judged.state(s.today) == "pending":
            items.append((judged.amount, None, f"the promise to pay by {promise.by}"))
    return tuple(items)


def _compact(iban: str | None) -> str | None:
    return "".join(iban.split()).upper() if iban else None


def index_task(today: dt.date) -> Task[CaseIndex]:
    return Task("import-index", today.isoformat(), partial(index_case, today=today))

