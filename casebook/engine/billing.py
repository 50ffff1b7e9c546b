"""What the engine bills: the invoices of a case lowered by their credit notes and split into
their scheduled parts (SPEC 2, `credits` and `schedule`).

A credit note lowers its invoice from the invoice's issue on, as if it had been billed lower;
it counts from the day it is dated (a day replayed before it does not know it yet). It lowers
the earliest parts of a scheduled invoice first, so that less is overdue sooner: when in doubt,
casebook asks the debtor for less. An invoice payable in instalments becomes one part per
instalment, each with its own due date and amount, so each part is overdue, dunned and bears
interest from its own due date; a part's number is the invoice's with "(k/n)", and `part_of`
names the invoice. An invoice credited to nothing is not billed at all.

Every later stage (allocation, interest, the rules, the case page) reads these parts; this
module only derives them and never reads a file or the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

from casebook.model import Credit, Instalment, Invoice

ZERO = Decimal(0)


def billed(
    invoices: Sequence[Invoice], credits: Sequence[Credit], until: date
) -> tuple[Invoice, ...]:
    """The invoices as the engine counts them on `until`, in file order (parts in due order)."""
    if not credits and not any(invoice.schedule for invoice in invoices):
        return tuple(invoices)
    credited: dict[str, Decimal] = {}
    for credit in credits:
        if credit.date <= until:
            credited[credit.invoice] = credited.get(credit.invoice, ZERO) + credit.amount
    found: list[Invoice] = []
    for invoice in invoices:
        found.extend(_bill(invoice, credited.get(invoice.number, ZERO)))
    return tuple(found)


def _bill(invoice: Invoice, credit: Decimal) -> list[Invoice]:
    if len(invoice.schedule) < 2:  # one part is the invoice itself
        amount = invoice.amount - credit
        return [replace(invoice, amount=amount)] if amount > 0 else []
    parts = sorted(invoice.schedule, key=lambda part: part.due)
    amounts = _lowered([part.amount for part in parts], credit)
    count = len(parts)
    return [
        _part(invoice, part, amount, k, count)
        for k, (part, amount) in enumerate(zip(parts, amounts, strict=True), start=1)
        if amount > 0
    ]


def _lowered(amounts: list[Decimal], credit: Decimal) -> list[Decimal]:
    """`amounts` with `credit` taken from the first ones first."""
    lowered = []
    for amount in amounts:
        take = min(amount, credit)
        credit -= take
        lowered.append(amount - take)
    return lowered


def _part(invoice: Invoice, part: Instalment, amount: Decimal, k: int, count: int) -> Invoice:
    return replace(invoice, number=f"{invoice.number} ({k}/{count})", due=part.due,
                   amount=amount, schedule=(), part_of=invoice.number, pos=part.pos)
