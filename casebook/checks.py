"""Checks that look across files or depend on the day, run after every case is loaded.

Each check is a plain function yielding diagnostics; `check` runs them in order. Checks only
report: they never change a case and never read the clock (the day is a parameter).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date

from casebook.diagnostics import Diagnostic, Severity
from casebook.loader import Casebook
from casebook.model import Case, Pos

CaseCheck = Callable[[Case, date], Iterable[Diagnostic]]
CasebookCheck = Callable[[Casebook, date], Iterable[Diagnostic]]


def _warning(case: Case, pos: Pos, code: str, message: str) -> Diagnostic:
    return Diagnostic(case.path, pos.line, pos.col, Severity.WARNING, code, message)


def unique_invoice_numbers(casebook: Casebook, today: date) -> Iterator[Diagnostic]:
    """An invoice number is used once in the whole casebook; every place is reported."""
    places: dict[str, list[tuple[str, Pos]]] = defaultdict(list)
    for case in casebook.cases:
        for invoice in case.invoices:
            places[invoice.number].append((case.path, invoice.pos))
    for number, where in places.items():
        if len(where) < 2:
            continue
        for path, pos in where:
            others = ", ".join(f"{p}:{q.line}" for p, q in where if (p, q) != (path, pos))
            yield Diagnostic(path, pos.line, pos.col, Severity.ERROR, "duplicate-invoice",
                             f"invoice number {number!r} is used more than once "
                             f"(also at {others})")


def payment_before_invoice(case: Case, today: date) -> Iterator[Diagnostic]:
    issued = {i.number: i.date for i in case.invoices}
    for payment in case.payments:
        day = issued.get(payment.invoice or "")
        if day is not None and payment.date < day:
            yield _warning(case, payment.pos, "payment-before-invoice",
                           f"this payment of {payment.date} is dated before invoice "
                           f"{payment.invoice} was issued on {day}")


def overpayment(case: Case, today: date) -> Iterator[Diagnostic]:
    invoiced = sum((i.amount for i in case.invoices), start=0)
    paid = sum((p.amount for p in case.payments), start=0)
    if case.payments and paid > invoiced:
        last = max(case.payments, key=lambda p: (p.date, p.pos.line))
        yield _warning(case, last.pos, "overpayment",
                       f"payments total {paid:.2f}, more than the {invoiced:.2f} invoiced; "
                       f"{paid - invoiced:.2f} is not applied to any invoice")


def future_facts(case: Case, today: date) -> Iterator[Diagnostic]:
    """Facts dated after the day are ignored by every computation; say so."""
    facts: list[tuple[str, date, Pos]] = [
        *((f"invoice {i.number} issued", i.date, i.pos) for i in case.invoices),
        *(("payment", p.date, p.pos) for p in case.payments),
        *(("dispute opened", d.opened, d.pos) for d in case.disputes),
        *(("dispute resolved", d.resolved, d.pos) for d in case.disputes if d.resolved),
        *(("promise made", p.made, p.pos) for p in case.promises),
        *(("plan agreed", p.agreed, p.pos) for p in case.plans),
        *((f"log entry ({e.channel})", e.date, e.pos) for e in case.log),
    ]
    if case.closed is not None:
        facts.append(("case closed", case.closed.date, case.closed.pos))
    for what, day, pos in facts:
        if day > today:
            yield _warning(case, pos, "future", f"{what} on {day}, after today ({today}): "
                           "it is ignored until that day")


CASE_CHECKS: tuple[CaseCheck, ...] = (payment_before_invoice, overpayment, future_facts)
CASEBOOK_CHECKS: tuple[CasebookCheck, ...] = (unique_invoice_numbers,)


def check(casebook: Casebook, today: date) -> list[Diagnostic]:
    """The diagnostics of loading plus those of every check."""
    found = list(casebook.diagnostics)
    for casebook_check in CASEBOOK_CHECKS:
        found.extend(casebook_check(casebook, today))
    for case in casebook.cases:
        for case_check in CASE_CHECKS:
            found.extend(case_check(case, today))
    return found
