"""When each open claim prescribes (SPEC 10; art. 2934 ff. c.c.).

A claim prescribes after 10 years (`ordinary`, art. 2946), 5 (`periodic`, art. 2948) or 3
(`professional`, art. 2956) from its due date (each scheduled part from its own). The term
starts again (art. 2943–2945) from:

- the delivery of a formal notice: a `formal-notice` log entry by `pec` or `registered-letter`,
  on its delivery date when its receipts give one (`delivery`), else on the entry's date; a PEC
  whose receipts say it was never delivered interrupts nothing;
- a written acknowledgement: a log entry with step `acknowledgement` (art. 2944);
- a part payment, only when the policy says `payment_acknowledges: true` (courts differ);

each act counting for the claims due on or before it, and only while the term is still running
(an act after a claim prescribed does not bring it back). From `court.filed` the term does not
run (art. 2945 c. 2): a claim in court has no prescription date. A term in years ends on the
same day of the month that many years on (29 February: on the 28th, art. 2963 c.c.); the claim
is prescribed from the day after.

It reads only the facts of a day and never the clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from casebook.engine.allocation import allocate
from casebook.engine.billing import billed
from casebook.engine.delivery import delivery_of
from casebook.model import Case, ClaimKind, Invoice

YEARS: dict[ClaimKind, int] = {"ordinary": 10, "periodic": 5, "professional": 3}
FORMAL_NOTICE = "formal-notice"
ACKNOWLEDGEMENT = "acknowledgement"
_WRITTEN = frozenset({"pec", "registered-letter"})


@dataclass(frozen=True, kw_only=True)
class Act:
    """Something that interrupts prescription: what and when it took effect."""

    day: date
    what: str  # formal-notice, acknowledgement, payment


@dataclass(frozen=True, kw_only=True)
class ClaimTerm:
    """One open claim (an invoice, or a scheduled part of one) and its prescription."""

    invoice: Invoice
    years: int
    runs_from: date  # its due date, or the last act that interrupted it
    last_act: Act | None
    prescribes: date | None  # the last day of the term; None while the claim is in court

    def prescribed(self, today: date) -> bool:
        return self.prescribes is not None and today > self.prescribes


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year without one
        return day.replace(year=day.year + years, day=28)


def acts(case: Case, today: date, payment_acknowledges: bool) -> tuple[Act, ...]:
    """The interrupting acts up to the day, in date order."""
    found: list[Act] = []
    for entry in case.log:
        if entry.date > today:
            continue
        if entry.step == FORMAL_NOTICE and entry.channel in _WRITTEN:
            delivery = delivery_of(entry)
            if delivery.failure is not None:
                continue  # never reached the debtor
            day = delivery.delivered_on or entry.date
            if day <= today:
                found.append(Act(day=day, what=FORMAL_NOTICE))
        elif entry.step == ACKNOWLEDGEMENT:
            found.append(Act(day=entry.date, what=ACKNOWLEDGEMENT))
    if payment_acknowledges:
        found.extend(Act(day=p.date, what="payment") for p in case.payments if p.date <= today)
    return tuple(sorted(found, key=lambda act: act.day))


def claim_terms(case: Case, today: date, payment_acknowledges: bool = False,
                known: tuple[Sequence[Invoice], Mapping[str, Decimal]] | None = None
                ) -> tuple[ClaimTerm, ...]:
    """Every claim with something left to pay on the day, in the engine's order; `known`: the
    day's bills and residuals when the caller has them already (`Situation`)."""
    if known is None:
        bills: Sequence[Invoice] = tuple(
            b for b in billed(case.invoices, case.credits, today) if b.date <= today)
        residual: Mapping[str, Decimal] = allocate(bills, case.payments, today).residual
    else:
        bills, residual = known
    interrupting = acts(case, today, payment_acknowledges)
    court = case.court if case.court is not None and case.court.filed <= today else None
    found = []
    for invoice in bills:
        if residual[invoice.number] <= 0:
            continue
        years = YEARS[invoice.claim]
        start, end, last = invoice.due, add_years(invoice.due, years), None
        for act in interrupting:
            if act.day > end:
                break  # prescribed before it: an act does not bring a claim back
            if act.day > start:
                start, end, last = act.day, add_years(act.day, years), act
        in_court = court is not None and court.filed <= end
        found.append(ClaimTerm(invoice=invoice, years=years, runs_from=start, last_act=last,
                               prescribes=None if in_court else end))
    return tuple(found)


def earliest(claims: tuple[ClaimTerm, ...]) -> ClaimTerm | None:
    """The claim that prescribes first (None when none has a date)."""
    dated = [c for c in claims if c.prescribes is not None]
    return min(dated, key=lambda c: c.prescribes or date.max) if dated else None


def warning_day(prescribes: date, days: int) -> date:
    return prescribes - timedelta(days=days)
