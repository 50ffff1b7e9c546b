"""Capital allocation: which payment pays which invoice (SPEC 5, "Balances").

This module owns the order in which payments reach invoices and the residual capital of every
invoice at a day. It counts capital only: interest and its imputation live in `interest`, which
reuses the ordering helpers below. It never reads the clock, a file or the environment, and never
rounds: residuals are exact decimals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from casebook.model import Invoice, Payment

ZERO = Decimal(0)


@dataclass(frozen=True, kw_only=True)
class Application:
    """An amount of one payment applied to the capital of one invoice."""

    invoice: str
    date: date
    amount: Decimal
    payment: int  # the payment's index in the sequence given to `allocate`


@dataclass(frozen=True, kw_only=True)
class Allocation:
    """Residual capital per invoice number (every counted invoice, in file order)."""

    residual: Mapping[str, Decimal]
    applications: tuple[Application, ...]
    unapplied: Decimal  # overpayment: paid but owed to no invoice

    @property
    def balance(self) -> Decimal:
        """The residual capital of every counted invoice, due or not."""
        return sum(self.residual.values(), ZERO)

    def applied_to(self, number: str) -> tuple[Application, ...]:
        return tuple(a for a in self.applications if a.invoice == number)

    def paid(self, number: str) -> Decimal:
        """The capital of invoice `number` paid so far."""
        return sum((a.amount for a in self.applied_to(number)), ZERO)

    def last_payment_date(self, number: str) -> date | None:
        """The date of the last payment that reduced invoice `number`, if any did."""
        dates = [a.date for a in self.applied_to(number)]
        return max(dates) if dates else None


def counted_invoices(invoices: Sequence[Invoice], until: date) -> tuple[Invoice, ...]:
    """The invoices issued on or before `until`, in file order."""
    return tuple(i for i in invoices if i.date <= until)


def payments_in_order(payments: Sequence[Payment], until: date) -> tuple[tuple[int, Payment], ...]:
    """(index, payment) for payments dated on or before `until`: by date, then file order."""
    dated = [(n, p) for n, p in enumerate(payments) if p.date <= until]
    return tuple(sorted(dated, key=lambda item: item[1].date))  # sorted() is stable


def payment_targets(invoices: Sequence[Invoice], named: str | None,
                    by_due: Sequence[int] | None = None) -> tuple[int, ...]:
    """Indices of `invoices` in the order a payment reaches them.

    The invoice the payment names comes first (all its parts, by due date, when it is payable
    in instalments); then every invoice by due date, then file order.
    Callers skip the ones with nothing left to pay. `by_due` is `due_order(invoices)`, when a
    caller places many payments (sorting once keeps a long file from taking quadratic time).
    """
    order = tuple(by_due) if by_due is not None else due_order(invoices)
    if named is None:
        return order
    first = [k for k in order if invoices[k].invoice_number == named]
    if not first:
        return order
    return (*first, *(k for k in order if invoices[k].invoice_number != named))


def due_order(invoices: Sequence[Invoice]) -> tuple[int, ...]:
    """Indices of `invoices` by due date, then file order."""
    return tuple(sorted(range(len(invoices)), key=lambda k: invoices[k].due))


def allocate(invoices: Sequence[Invoice], payments: Sequence[Payment], until: date) -> Allocation:
    """Apply the payments dated up to `until` to the capital of the invoices issued up to it."""
    bills = counted_invoices(invoices, until)
    residual = [bill.amount for bill in bills]
    applications: list[Application] = []
    unapplied = ZERO
    by_due = due_order(bills)
    for index, payment in payments_in_order(payments, until):
        left = payment.amount
        for k in payment_targets(bills, payment.invoice, by_due):
            if left <= 0:  # the payment is used up: the rest would take nothing
                break
            take = min(left, residual[k])
            if take <= 0:
                continue
            residual[k] -= take
            left -= take
            applications.append(
                Application(invoice=bills[k].number, date=payment.date, amount=take, payment=index)
            )
        unapplied += left
    return Allocation(
        residual=MappingProxyType({bill.number: residual[k] for k, bill in enumerate(bills)}),
        applications=tuple(applications),
        unapplied=unapplied,
    )
