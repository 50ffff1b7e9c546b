"""What a letter may demand of a case: one capital figure, the interest and the EUR 40 (SPEC 6).

Owns the claim arithmetic: the capital left on each invoice once the payments are imputed, so that a
letter never shows two capital figures; the interest and the EUR 40 named by the invoice behind
them; nothing of an invoice under open dispute. Everything comes from the case's view, exactly, in
`Decimal`; nothing here decides which letter fits, renders a template or reads the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from casebook.site.views import CaseView, InvoiceView, SegmentView

ZERO = Decimal(0)


@dataclass(frozen=True, kw_only=True)
class InterestItem:
    """The interest claimed on one invoice."""

    invoice: str
    first: date
    last: date
    accrued: Decimal
    paid: Decimal  # by payments imputed to interest
    amount: Decimal  # accrued less paid: what is claimed
    paid_late: bool  # the invoice's capital is paid, after its due date


@dataclass(frozen=True, kw_only=True)
class Claim:
    """What may be demanded: the overdue capital after imputation, the unpaid interest and the
    EUR 40 of every invoice not under open dispute (SPEC 6)."""

    method: str
    imputation: str
    capital: Decimal
    capital_invoices: tuple[str, ...]  # the overdue invoices behind `capital`
    interest_items: tuple[InterestItem, ...]
    compensated: tuple[str, ...]  # the invoices owing the EUR 40, oldest due first
    paid_late: tuple[str, ...]  # those of `compensated` paid, late
    compensation: Decimal
    segments: tuple[SegmentView, ...]  # the interest statement of the claimed invoices
    capital_paid: Decimal  # payments imputed to the capital of the claimed invoices
    interest_paid: Decimal  # and to their interest
    disputed: tuple[InvoiceView, ...]  # overdue but under open dispute: listed, never claimed

    @property
    def interest(self) -> Decimal:
        return sum((item.amount for item in self.interest_items), ZERO)

    @property
    def accrued(self) -> Decimal:
        return sum((s.amount for s in self.segments), ZERO)

    @property
    def total(self) -> Decimal:
        return self.capital + self.interest + self.compensation

    @property
    def imputed(self) -> bool:
        """Some payment reached the claimed invoices: the imputation is worth saying."""
        return self.capital_paid + self.interest_paid > 0

    @property
    def disputed_amount(self) -> Decimal:
        return sum((i.residual for i in self.disputed), ZERO)


def imputed_lines(view: CaseView) -> tuple[InvoiceView, ...]:
    """The case's invoices as a letter shows them: what is left of each one's capital once
    the payments are imputed (SPEC 6), so that a letter never shows two capital figures."""
    return tuple(
        i if i.residual == i.capital else replace(i, residual=i.capital,
                                                  paid=i.amount - i.capital)
        for i in view.invoices)


def claim_of(view: CaseView, lines: Sequence[InvoiceView]) -> Claim:
    """The claim of the case's invoices as `imputed_lines` gives them."""
    claimed = [i for i in lines if not i.disputed]
    overdue = [i for i in claimed if i.residual > 0 and i.due < view.today]
    segments = tuple(s for s in view.interest.segments
                     if s.invoice in {i.number for i in claimed})
    compensated = sorted((i for i in claimed if i.compensation > 0),
                         key=lambda i: (i.residual == 0, i.due))
    return Claim(
        method=view.interest.method,
        imputation=view.interest.imputation,
        capital=sum((i.residual for i in overdue), ZERO),
        capital_invoices=tuple(i.number for i in overdue),
        interest_items=tuple(_interest_item(i, segments) for i in claimed if i.interest > 0),
        compensated=tuple(i.number for i in compensated),
        paid_late=tuple(i.number for i in compensated if i.residual == 0),
        compensation=sum((i.compensation for i in compensated), ZERO),
        segments=segments,
        capital_paid=sum((i.paid for i in claimed), ZERO),
        interest_paid=sum((i.interest_paid for i in claimed), ZERO),
        disputed=tuple(i for i in lines if i.disputed and i.due < view.today),
    )


def _interest_item(invoice: InvoiceView, segments: Sequence[SegmentView]) -> InterestItem:
    own = [s for s in segments if s.invoice == invoice.number]
    return InterestItem(
        invoice=invoice.number,
        first=min((s.first for s in own), default=invoice.due + timedelta(days=1)),
        last=max((s.last for s in own), default=invoice.due),
        accrued=invoice.interest + invoice.interest_paid,
        paid=invoice.interest_paid,
        amount=invoice.interest,
        paid_late=invoice.residual == 0,
    )
