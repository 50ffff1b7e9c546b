"""Late-payment interest, compensation and the totals of a case (SPEC 6), under any law.

This module owns the interest segments of each invoice, the imputation of payments to interest
or capital, and the totals a letter or an export shows: country-neutral arithmetic. Which method
a debtor gets, the rate tables and where each one ends, and the compensation per invoice come
from the `Law` the context carries (`casebook.engine.law`). It never names a country or a
statute, never reads the clock, the environment or any file, never uses binary floating point,
and never decides balances: the order in which payments reach invoices belongs to `allocation`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext

from casebook.engine.allocation import (
    counted_invoices,
    due_order,
    payment_targets,
    payments_in_order,
)
from casebook.engine.billing import billed
from casebook.engine.law import interest_context as interest_context
from casebook.engine.law.base import RateTable
from casebook.engine.law.tables import InterestContext as InterestContext
from casebook.engine.law.tables import RateGap as RateGap
from casebook.engine.law.tables import row_on, start_gap
from casebook.model import (
    Case,
    DebtorKind,
    Imputation,
    InterestMethod,
    Invoice,
    Payment,
    RateRow,
)

ZERO = Decimal(0)
CENT = Decimal("0.01")
ONE_DAY = timedelta(days=1)


# --- segments ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Segment:
    """Interest on a constant capital at a constant rate, both end days included."""

    first: date
    last: date
    days: int
    capital: Decimal
    rate: Decimal
    amount: Decimal  # rounded half-up to cents
    provisional: bool = False  # at a rate carried into a period with no row yet


def simple_interest(capital: Decimal, rate: Decimal, days: int) -> Decimal:
    """capital × rate% × days / 36500 (365 even in leap years), rounded half-up to cents."""
    with localcontext() as ctx:
        ctx.prec = 50
        return (capital * rate * days / 36500).quantize(CENT, rounding=ROUND_HALF_UP)


def segments(
    start: date,
    end: date,
    capital: Sequence[tuple[date, Decimal]],
    rows: Sequence[RateRow],
) -> tuple[Segment, ...]:
    """The segments from `start` to `end`, split wherever the rate or the capital changes.

    `capital` lists (first day, capital from that day on) in date order; days before the first
    row have no rate and days with no capital bear nothing, so neither makes a segment.
    """
    changes = {day for day, _ in capital} | {row.start for row in rows}
    cuts = sorted({start} | {day for day in changes if start < day <= end})
    result: list[Segment] = []
    for first, following in zip(cuts, [*cuts[1:], end + ONE_DAY], strict=True):
        row, amount = row_on(rows, first), _capital_on(capital, first)
        if first > end or row is None or amount <= 0:
            continue
        days = (following - first).days
        result.append(
            Segment(
                first=first,
                last=following - ONE_DAY,
                days=days,
                capital=amount,
                rate=row.rate,
                amount=simple_interest(amount, row.rate, days),
                provisional=row.provisional,
            )
        )
    return tuple(result)


def _capital_on(capital: Sequence[tuple[date, Decimal]], day: date) -> Decimal:
    current = ZERO
    for first, amount in capital:  # later entries for the same day win
        if first <= day:
            current = amount
    return current


# --- imputation -------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Imputed:
    """What one payment paid on one invoice: interest first or capital first, per settings."""

    date: date
    payment: int  # the payment's index in the case's payments
    interest: Decimal
    capital: Decimal


@dataclass(slots=True)
class _Ledger:
    """The working state of one invoice while payments are imputed (private, mutable)."""

    invoice: Invoice
    rows: tuple[RateRow, ...]
    interest_to: date
    capital: Decimal
    timeline: list[tuple[date, Decimal]]
    interest_paid: Decimal = ZERO
    imputed: list[Imputed] = field(default_factory=list)

    def segments(self, day: date) -> tuple[Segment, ...]:
        end = min(day, self.interest_to)
        return segments(self.invoice.due + ONE_DAY, end, self.timeline, self.rows)

    def pay_interest(self, left: Decimal, index: int, day: date) -> Decimal:
        if left <= 0:  # nothing left to pay with: spare recomputing every segment
            return left
        owed = sum((s.amount for s in self.segments(day)), ZERO) - self.interest_paid
        take = min(left, owed)
        if take <= 0:
            return left
        self.interest_paid += take
        self._record(index, day, interest=take)
        return left - take

    def pay_capital(self, left: Decimal, index: int, day: date) -> Decimal:
        take = min(left, self.capital)
        if take <= 0:
            return left
        self.capital -= take
        self.timeline.append((day + ONE_DAY, self.capital))  # day itself bears the old capital
        self._record(index, day, capital=take)
        return left - take

    def _record(
        self, index: int, day: date, interest: Decimal = ZERO, capital: Decimal = ZERO
    ) -> None:
        if self.imputed and self.imputed[-1].payment == index:
            last = self.imputed.pop()
            interest, capital = interest + last.interest, capital + last.capital
        self.imputed.append(Imputed(date=day, payment=index, interest=interest, capital=capital))


def _impute(
    ledgers: Sequence[_Ledger], payments: Sequence[Payment], context: InterestContext
) -> Decimal:
    """Apply every payment up to T; return what is left over (an overpayment)."""
    interest_first = context.settings.imputation == "interest-first"
    bills = [ledger.invoice for ledger in ledgers]
    by_due = due_order(bills)
    unapplied = ZERO
    for index, payment in payments_in_order(payments, context.until):
        reached = payment_targets(bills, payment.invoice, by_due)
        left = payment.amount
        if interest_first:  # each invoice's interest, then its capital
            for k in reached:
                if left <= 0:  # used up: the rest would take nothing
                    break
                left = ledgers[k].pay_interest(left, index, payment.date)
                left = ledgers[k].pay_capital(left, index, payment.date)
        else:  # capital as allocation does it; only what is left over goes to interest
            for k in reached:
                if left <= 0:  # used up: the rest would take nothing
                    break
                left = ledgers[k].pay_capital(left, index, payment.date)
            for k in reached:
                if left <= 0:
                    break
                left = ledgers[k].pay_interest(left, index, payment.date)
        unapplied += left
    return unapplied


# --- results ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class InvoiceInterest:
    number: str
    invoice: str  # the invoice's number in the case file (a scheduled part's invoice)
    due: date
    amount: Decimal
    method: InterestMethod
    segments: tuple[Segment, ...]
    accrued: Decimal  # every segment up to interest_to
    interest_paid: Decimal
    capital: Decimal  # residual capital after imputation
    overdue: bool  # capital > 0 and due before T
    last_payment: date | None  # the last payment that reached this invoice
    compensation: Decimal
    imputed: tuple[Imputed, ...]
    gap: RateGap | None  # days after due that precede the first row of the table

    @property
    def unpaid(self) -> Decimal:
        return self.accrued - self.interest_paid

    @property
    def provisional(self) -> bool:
        """Some of the interest is at a rate carried into a period with no row yet."""
        return any(part.provisional for part in self.segments)


@dataclass(frozen=True, kw_only=True)
class CaseInterest:
    method: InterestMethod
    imputation: Imputation
    until: date
    interest_to: date  # the last day with a known rate for this case's method, at most T
    invoices: tuple[InvoiceInterest, ...]
    unapplied: Decimal  # paid beyond every capital and every interest

    def invoice(self, number: str) -> InvoiceInterest:
        return next(item for item in self.invoices if item.number == number)

    @property
    def accrued(self) -> Decimal:
        return sum((item.accrued for item in self.invoices), ZERO)

    @property
    def interest_paid(self) -> Decimal:
        return sum((item.interest_paid for item in self.invoices), ZERO)

    @property
    def interest(self) -> Decimal:
        """Interest accrued and still unpaid at interest_to."""
        return sum((item.unpaid for item in self.invoices), ZERO)

    @property
    def compensation(self) -> Decimal:
        return sum((item.compensation for item in self.invoices), ZERO)

    @property
    def overdue_capital(self) -> Decimal:
        return sum((item.capital for item in self.invoices if item.overdue), ZERO)

    @property
    def claim(self) -> Decimal:
        return self.overdue_capital + self.interest + self.compensation

    @property
    def gaps(self) -> tuple[RateGap, ...]:
        return tuple(item.gap for item in self.invoices if item.gap is not None)

    @property
    def provisional(self) -> bool:
        """Some of the interest is at a rate carried into a period with no row yet."""
        return any(item.provisional for item in self.invoices)


def case_interest(
    invoices: Sequence[Invoice],
    payments: Sequence[Payment],
    kind: DebtorKind,
    context: InterestContext,
    court_filed: date | None = None,
) -> CaseInterest:
    """Interest, compensation and claim of one debtor's invoices at `context.until`; from
    `court_filed` on, at the method the law gives a claim in court (its own segments)."""
    method = context.method_for(kind)
    rows = context.rates(method)
    interest_to = context.interest_to_for(method)
    if court_filed is not None and court_filed <= context.until:
        rows, interest_to = _in_court(context, kind, method, rows, interest_to, court_filed)
    ledgers = [
        _Ledger(
            invoice=invoice,
            rows=rows,
            interest_to=interest_to,
            capital=invoice.amount,
            timeline=[(invoice.date, invoice.amount)],
        )
        for invoice in counted_invoices(invoices, context.until)
    ]
    unapplied = _impute(ledgers, payments, context)
    return CaseInterest(
        method=method,
        imputation=context.settings.imputation,
        until=context.until,
        interest_to=interest_to,
        invoices=_once_per_invoice([_result(ledger, kind, method, context) for ledger in ledgers]),
        unapplied=unapplied,
    )


def interest_for_case(case: Case, context: InterestContext) -> CaseInterest:
    bills = billed(case.invoices, case.credits, context.until)
    filed = case.court.filed if case.court is not None else None
    return case_interest(bills, case.payments, case.debtor.kind, context, filed)


def _in_court(context: InterestContext, kind: DebtorKind, method: InterestMethod,
              rows: tuple[RateRow, ...], interest_to: date,
              filed: date) -> tuple[tuple[RateRow, ...], date]:
    """The rows of `method` before the filing, then those of the method the law gives from it
    (Italy: a consumer's legal rate becomes the commercial one, art. 1284 c. 4 c.c.), and the
    day both are known to."""
    after = context.law.method_in_court(kind, method)
    if after == method:
        return rows, interest_to
    later = context.rates(after)
    in_force = [row for row in later if row.start <= filed][-1:]
    switched = (*(row for row in rows if row.start < filed),
                *(replace(row, start=filed) for row in in_force),
                *(row for row in later if row.start > filed))
    return switched, min(interest_to, context.interest_to_for(after))


def _result(
    ledger: _Ledger, kind: DebtorKind, method: InterestMethod, context: InterestContext
) -> InvoiceInterest:
    invoice = ledger.invoice
    parts = ledger.segments(ledger.interest_to)
    overdue = ledger.capital > 0 and invoice.due < context.until
    last_payment = ledger.imputed[-1].date if ledger.imputed else None
    late = last_payment is not None and last_payment > invoice.due
    return InvoiceInterest(
        number=invoice.number,
        invoice=invoice.invoice_number,
        due=invoice.due,
        amount=invoice.amount,
        method=method,
        segments=parts,
        accrued=sum((s.amount for s in parts), ZERO),
        interest_paid=ledger.interest_paid,
        capital=ledger.capital,
        overdue=overdue,
        last_payment=last_payment,
        compensation=context.compensation(kind, method) if overdue or late else ZERO,
        imputed=tuple(ledger.imputed),
        gap=None if method == "none" else _invoice_gap(ledger, context.table(method)),
    )


def _once_per_invoice(results: list[InvoiceInterest]) -> tuple[InvoiceInterest, ...]:
    """The flat compensation is owed once per invoice, not once per scheduled part: it stays
    on the first part that earns it."""
    earned: set[str] = set()
    kept = []
    for result in results:
        if result.compensation > 0:
            if result.invoice in earned:
                result = replace(result, compensation=ZERO)
            earned.add(result.invoice)
        kept.append(result)
    return tuple(kept)


def _invoice_gap(ledger: _Ledger, table: RateTable) -> RateGap | None:
    """The days after due, before the table's first row, on which capital was owed."""
    if not ledger.rows:
        return None
    first = ledger.invoice.due + ONE_DAY
    last = min(ledger.rows[0].start - ONE_DAY, ledger.interest_to)
    if first > last or _capital_on(ledger.timeline, first) <= 0:
        return None
    return start_gap(table, ledger.invoice.number, first, last)
