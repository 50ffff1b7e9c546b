"""Late-payment interest, the EUR 40 compensation and the rate tables (SPEC 6).

This module owns the shipped rate tables (`casebook/data/rates.yml`) and their merge with the rows
of casebook.yml, the day interest is computed to, the interest segments of each invoice, the
imputation of payments to interest or capital, and the totals a letter or an export shows.
It never reads the clock, the environment or any file but the shipped rates.yml, never uses
binary floating point, and never decides balances: the order in which payments reach invoices
belongs to `allocation`.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from importlib import resources
from typing import Literal, get_args

import yaml

from casebook.allocation import (
    counted_invoices,
    due_order,
    payment_targets,
    payments_in_order,
)
from casebook.model import (
    Case,
    DebtorKind,
    Imputation,
    InterestMethod,
    InterestSettings,
    Invoice,
    Payment,
    RateRow,
)

RatedMethod = Literal["commercial", "legal"]
ZERO = Decimal(0)
CENT = Decimal("0.01")
COMPENSATION = Decimal("40.00")  # D.Lgs. 231/2002 art. 6 c.2, per invoice
ONE_DAY = timedelta(days=1)
_ROW_KEYS = frozenset({"from", "rate", "source"})


# --- rate tables ------------------------------------------------------------


@functools.cache
def shipped_rates() -> tuple[tuple[RateRow, ...], tuple[RateRow, ...]]:
    """The (commercial, legal) tables shipped in casebook/data/rates.yml, sorted by start."""
    text = resources.files("casebook").joinpath("data/rates.yml").read_text(encoding="utf-8")
    tables = _mapping(yaml.compose(text, Loader=yaml.CSafeLoader))
    return _rows(tables["commercial_rates"]), _rows(tables["legal_rates"])


def _mapping(node: yaml.Node | None) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise ValueError(f"rates.yml: a mapping was expected at {_where(node)}")
    return {_text(key): value for key, value in node.value}


def _text(node: yaml.Node) -> str:
    # Composed nodes keep the scalar's source text, so "8.75" never passes through a float.
    if not isinstance(node, yaml.ScalarNode):
        raise ValueError(f"rates.yml: a plain value was expected at {_where(node)}")
    return str(node.value)


def _where(node: yaml.Node | None) -> str:
    return "the top" if node is None else f"line {node.start_mark.line + 1}"


def _rows(node: yaml.Node) -> tuple[RateRow, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise ValueError(f"rates.yml: a list of rows was expected at {_where(node)}")
    rows: list[RateRow] = []
    for item in node.value:
        fields = _mapping(item)
        if set(fields) != _ROW_KEYS:
            raise ValueError(f"rates.yml: a row needs exactly from, rate, source at {_where(item)}")
        rows.append(
            RateRow(
                start=date.fromisoformat(_text(fields["from"])),
                rate=Decimal(_text(fields["rate"])),
                source=_text(fields["source"]),
            )
        )
    return merge_rates((), rows)


def merge_rates(shipped: Sequence[RateRow], extra: Sequence[RateRow]) -> tuple[RateRow, ...]:
    """`shipped` with the rows of `extra` on top: the same start replaces, others are added."""
    by_start = {row.start: row for row in shipped}
    by_start.update((row.start, row) for row in extra)
    return tuple(by_start[start] for start in sorted(by_start))


def covered_to(rows: Sequence[RateRow], method: RatedMethod) -> date:
    """The last day with a known rate: the end of the last row's semester or year."""
    last = rows[-1].start
    if method == "commercial" and last.month <= 6:
        return date(last.year, 6, 30)
    return date(last.year, 12, 31)


def rate_on(rows: Sequence[RateRow], day: date) -> Decimal | None:
    """The rate of the row in force on `day` (rows sorted by start); None before the first row."""
    index = bisect.bisect_right(rows, day, key=lambda row: row.start)
    return rows[index - 1].rate if index else None


def _period_start(day: date, method: RatedMethod) -> date:
    month = 7 if method == "commercial" and day.month > 6 else 1
    return date(day.year, month, 1)


@dataclass(frozen=True, kw_only=True)
class RateGap:
    """Days interest would run on but no row of a table covers; `message` says how to add one."""

    method: RatedMethod
    first: date
    last: date | None  # None: every day from `first` on
    message: str


def _add_row_hint(method: RatedMethod, start: date) -> str:
    return (
        f"add a row `{{from: {start}, rate: …, source: …}}` "
        f"under interest: {method}_rates: in casebook.yml"
    )


def _end_gap(method: RatedMethod, first: date, interest_to: date) -> RateGap:
    message = (
        f"no {method} rate is known from {first}: interest is computed to {interest_to}; "
        + _add_row_hint(method, first)
    )
    return RateGap(method=method, first=first, last=None, message=message)


def _start_gap(method: RatedMethod, number: str, first: date, last: date) -> RateGap:
    message = (
        f"no {method} rate is known from {first} to {last}: invoice {number} bears no interest "
        f"for those days; " + _add_row_hint(method, _period_start(first, method))
    )
    return RateGap(method=method, first=first, last=last, message=message)


@dataclass(frozen=True, kw_only=True)
class InterestContext:
    """What every case of one casebook shares: settings, merged tables and the end date."""

    settings: InterestSettings
    until: date  # T, the day the computation is made at
    interest_to: date  # min(T, the last day each table in use covers)
    commercial_rates: tuple[RateRow, ...]
    legal_rates: tuple[RateRow, ...]
    gaps: tuple[RateGap, ...]  # tables in use that end before T

    def rates(self, method: InterestMethod) -> tuple[RateRow, ...]:
        if method == "none":
            return ()
        return self.commercial_rates if method == "commercial" else self.legal_rates

    @property
    def warning(self) -> str | None:
        """One sentence for `validate` when some days up to T have no known rate."""
        return "; ".join(gap.message for gap in self.gaps) or None


def interest_context(
    settings: InterestSettings,
    until: date,
    shipped: tuple[tuple[RateRow, ...], tuple[RateRow, ...]] | None = None,
) -> InterestContext:
    """Merge the casebook's rows onto the shipped tables and find the day interest runs to."""
    commercial, legal = shipped_rates() if shipped is None else shipped
    tables: dict[RatedMethod, tuple[RateRow, ...]] = {
        "commercial": merge_rates(commercial, settings.commercial_rates),
        "legal": merge_rates(legal, settings.legal_rates),
    }
    used = [m for m in get_args(RatedMethod) if m in _methods_in_use(settings)]
    if any(not tables[m] for m in used):
        raise ValueError("an interest method in use has an empty rate table")
    ends = {method: covered_to(tables[method], method) for method in used}
    interest_to = min([until, *ends.values()])
    gaps = tuple(_end_gap(m, ends[m] + ONE_DAY, interest_to) for m in used if ends[m] < until)
    return InterestContext(
        settings=settings,
        until=until,
        interest_to=interest_to,
        commercial_rates=tables["commercial"],
        legal_rates=tables["legal"],
        gaps=gaps,
    )


def _methods_in_use(settings: InterestSettings) -> set[InterestMethod]:
    kinds: tuple[DebtorKind, ...] = get_args(DebtorKind)
    return {settings.method_for(kind) for kind in kinds}


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
        rate, amount = rate_on(rows, first), _capital_on(capital, first)
        if first > end or rate is None or amount <= 0:
            continue
        days = (following - first).days
        result.append(
            Segment(
                first=first,
                last=following - ONE_DAY,
                days=days,
                capital=amount,
                rate=rate,
                amount=simple_interest(amount, rate, days),
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
        if interest_first:  # art. 1194 c.c.: each invoice's interest, then its capital
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


@dataclass(frozen=True, kw_only=True)
class CaseInterest:
    method: InterestMethod
    imputation: Imputation
    until: date
    interest_to: date
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


def case_interest(
    invoices: Sequence[Invoice],
    payments: Sequence[Payment],
    kind: DebtorKind,
    context: InterestContext,
) -> CaseInterest:
    """Interest, compensation and claim of one debtor's invoices at `context.until`."""
    method = context.settings.method_for(kind)
    rows = context.rates(method)
    ledgers = [
        _Ledger(
            invoice=invoice,
            rows=rows,
            interest_to=context.interest_to,
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
        interest_to=context.interest_to,
        invoices=tuple(_result(ledger, method, context) for ledger in ledgers),
        unapplied=unapplied,
    )


def interest_for_case(case: Case, context: InterestContext) -> CaseInterest:
    return case_interest(case.invoices, case.payments, case.debtor.kind, context)


def _result(ledger: _Ledger, method: InterestMethod, context: InterestContext) -> InvoiceInterest:
    invoice = ledger.invoice
    parts = ledger.segments(context.interest_to)
    overdue = ledger.capital > 0 and invoice.due < context.until
    last_payment = ledger.imputed[-1].date if ledger.imputed else None
    late = last_payment is not None and last_payment > invoice.due
    return InvoiceInterest(
        number=invoice.number,
        due=invoice.due,
        amount=invoice.amount,
        method=method,
        segments=parts,
        accrued=sum((s.amount for s in parts), ZERO),
        interest_paid=ledger.interest_paid,
        capital=ledger.capital,
        overdue=overdue,
        last_payment=last_payment,
        compensation=COMPENSATION if method == "commercial" and (overdue or late) else ZERO,
        imputed=tuple(ledger.imputed),
        gap=_invoice_gap(ledger, method, context.interest_to),
    )


def _invoice_gap(ledger: _Ledger, method: InterestMethod, interest_to: date) -> RateGap | None:
    """The days after due, before the table's first row, on which capital was owed."""
    if method == "none" or not ledger.rows:
        return None
    first = ledger.invoice.due + ONE_DAY
    last = min(ledger.rows[0].start - ONE_DAY, interest_to)
    if first > last or _capital_on(ledger.timeline, first) <= 0:
        return None
    return _start_gap(method, ledger.invoice.number, first, last)
