"""Checks of one case file that hold on any day and look across its sections: payments dated
before their invoice, more paid than invoiced, credit notes before their invoice or beyond it.

Each check is a plain function yielding (position, code, message); `casefile` runs
`FILE_CHECKS` as warnings and `FILE_ERRORS` as errors, once per file (the results are cached
with it). Checks that need the day or other files live in `casebook.load.checks`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

from casebook.model import Case, Pos

Finding = tuple[Pos, str, str]


def payment_before_invoice(case: Case) -> Iterator[Finding]:
    issued = {i.number: i.date for i in case.invoices}
    for payment in case.payments:
        day = issued.get(payment.invoice or "")
        if day is not None and payment.date < day:
            yield (payment.pos, "payment-before-invoice",
                   f"this payment of {payment.date} is dated before invoice "
                   f"{payment.invoice} was issued on {day}")


def overpayment(case: Case) -> Iterator[Finding]:
    invoiced = sum((i.amount for i in case.invoices), Decimal(0))
    invoiced -= sum((c.amount for c in case.credits), Decimal(0))
    paid = sum((p.amount for p in case.payments), Decimal(0))
    if case.payments and paid > invoiced:
        last = max(case.payments, key=lambda p: (p.date, p.pos.line))
        yield (last.pos, "overpayment",
               f"payments total {paid:.2f}, more than the {invoiced:.2f} invoiced; "
               f"{paid - invoiced:.2f} is not applied to any invoice")


def credit_before_invoice(case: Case) -> Iterator[Finding]:
    issued = {i.number: i.date for i in case.invoices}
    for credit in case.credits:
        day = issued.get(credit.invoice)
        if day is not None and credit.date < day:
            yield (credit.pos, "credit-before-invoice",
                   f"credit note {credit.number} of {credit.date} is dated before invoice "
                   f"{credit.invoice} was issued on {day}")


def overcredit(case: Case) -> Iterator[Finding]:
    """Credit notes never lower an invoice below zero (an error: the amounts cannot hold)."""
    amounts = {i.number: i.amount for i in case.invoices}
    credited: dict[str, Decimal] = {}
    for credit in case.credits:
        if credit.invoice not in amounts:
            continue  # an unknown invoice is an error of its own
        credited[credit.invoice] = credited.get(credit.invoice, Decimal(0)) + credit.amount
        if credited[credit.invoice] > amounts[credit.invoice]:
            yield (credit.pos, "overcredit",
                   f"credit notes on invoice {credit.invoice} total "
                   f"{credited[credit.invoice]:.2f}, more than its amount "
                   f"{amounts[credit.invoice]:.2f}")


FILE_CHECKS: tuple[Callable[[Case], Iterator[Finding]], ...] = (
    payment_before_invoice, overpayment, credit_before_invoice,
)
FILE_ERRORS: tuple[Callable[[Case], Iterator[Finding]], ...] = (overcredit,)
