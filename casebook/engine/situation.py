"""A case as it stands on one day: the facts the next-action rules read (SPEC 5).

Owns the derived facts — what counts on day T, residuals, overdue and dunnable invoices, `d0`,
open disputes and the escalation steps done — computed once and shared by every rule. It never
decides an action (that is `rules`) and never reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property

from casebook.engine.allocation import Allocation, allocate
from casebook.engine.billing import billed
from casebook.engine.prescription import ClaimTerm, claim_terms
from casebook.model import (
    DIRECT_CHANNELS,
    Case,
    Dispute,
    Instalment,
    Invoice,
    LogEntry,
    Payment,
    Plan,
    Policy,
    Promise,
    Step,
)

ZERO = Decimal(0)


def days(n: int | None) -> timedelta:
    return timedelta(days=n or 0)


def open_disputes(disputes: tuple[Dispute, ...], day: date) -> tuple[Dispute, ...]:
    """Disputes opened on or before `day` and not resolved by then, oldest first."""
    found = [d for d in disputes if d.opened <= day and (d.resolved is None or d.resolved > day)]
    return tuple(sorted(found, key=lambda d: d.opened))


def covered(invoice: Invoice, disputes: tuple[Dispute, ...]) -> bool:
    return any(d.invoice is None or d.invoice == invoice.invoice_number for d in disputes)


@dataclass(frozen=True)
class PromiseState:
    """A promise judged on the day: the amount it covers (the dunnable residual when it was
    made, unless it names one), its deadline (`by` plus the grace days) and whether enough
    was paid from the day it was made to that deadline."""

    promise: Promise
    amount: Decimal
    deadline: date
    kept: bool

    @property
    def broken_on(self) -> date:
        return self.deadline + timedelta(days=1)

    def state(self, today: date) -> str:
        """kept, broken (its deadline passed unkept) or pending."""
        return "kept" if self.kept else ("broken" if today > self.deadline else "pending")


@dataclass(frozen=True)
class InstalmentState:
    """An instalment of a plan judged on the day. It is missed when its deadline (due plus
    the grace days) has passed and what was paid from the agreement to that deadline falls
    short of every instalment so far (`shortfall`), even if it was paid later."""

    number: int
    instalment: Instalment
    cumulative: Decimal  # this instalment and every one before it
    deadline: date
    paid: bool  # paid by now, however late
    missed: bool
    shortfall: Decimal  # by the deadline, when missed

    @property
    def broken_on(self) -> date:
        return self.deadline + timedelta(days=1)

    @property
    def state(self) -> str:
        return "paid" if self.paid else ("missed" if self.missed else "pending")


@dataclass(frozen=True)
class Situation:
    """Case `case` on day `today` under `policy`."""

    case: Case
    policy: Policy
    today: date

    # -- what counts on the day -------------------------------------------

    @cached_property
    def bills(self) -> tuple[Invoice, ...]:
        """The invoices as billed on the day: lowered by credit notes, split into parts."""
        return billed(self.case.invoices, self.case.credits, self.today)

    @cached_property
    def invoices(self) -> tuple[Invoice, ...]:
        return tuple(i for i in self.bills if i.date <= self.today)

    @cached_property
    def payments(self) -> tuple[Payment, ...]:
        return tuple(p for p in self.case.payments if p.date <= self.today)

    @cached_property
    def log(self) -> tuple[LogEntry, ...]:
        return tuple(e for e in self.case.log if e.date <= self.today)

    @cached_property
    def allocation(self) -> Allocation:
        return allocate(self.bills, self.case.payments, self.today)

    def residual(self, invoice: Invoice) -> Decimal:
        return self.allocation.residual[invoice.number]

    # -- balances ------------------------------------------------------------

    @cached_property
    def balance(self) -> Decimal:
        return self.allocation.balance

    @cached_property
    def overdue(self) -> tuple[Invoice, ...]:
        return tuple(i for i in self.invoices if self.residual(i) > 0 and i.due < self.today)

    @cached_property
    def overdue_amount(self) -> Decimal:
        return sum((self.residual(i) for i in self.overdue), ZERO)

    @cached_property
    def open_disputes(self) -> tuple[Dispute, ...]:
        return open_disputes(self.case.disputes, self.today)

    @cached_property
    def ladder_resumes(self) -> date | None:
        """The day after the latest dispute resolved by today: no step of the ladder is due
        before it (rule 4)."""
        resolved = [d.resolved for d in self.case.disputes
                    if d.resolved is not None and d.resolved <= self.today]
        return max(resolved) + timedelta(days=1) if resolved else None

    @cached_property
    def claims(self) -> tuple[ClaimTerm, ...]:
        """Each open claim and when it prescribes (SPEC 10)."""
        return claim_terms(self.case, self.today, self.policy.payment_acknowledges,
                           (self.invoices, self.allocation.residual))

    @cached_property
    def prescribed(self) -> frozenset[str]:
        """The engine numbers of the open claims prescribed on the day."""
        return frozenset(c.invoice.number for c in self.claims if c.prescribed(self.today))

    @cached_property
    def dunnable(self) -> tuple[Invoice, ...]:
        """Overdue, not disputed, and — from a consumer — not prescribed: a prescribed debt is
        never demanded from a consumer (Codice del consumo arts. 24–25)."""
        barred = self.prescribed if self.case.debtor.kind == "consumer" else frozenset()
        return tuple(i for i in self.overdue
                     if not covered(i, self.open_disputes) and i.number not in barred)

    @cached_property
    def dunnable_amount(self) -> Decimal:
        return sum((self.residual(i) for i in self.dunnable), ZERO)

    @cached_property
    def d0(self) -> date | None:
        return min((i.due for i in self.dunnable), default=None)

    @property
    def days_overdue(self) -> int | None:
        return None if self.d0 is None else (self.today - self.d0).days

    def paid_between(self, first: date, last: date) -> Decimal:
        """Payments dated from `first` to `last`, both included (and not after today)."""
        return sum((p.amount for p in self.payments if first <= p.date <= last), ZERO)

    # -- the escalation so far ------------------------------------------------

    @cached_property
    def steps_done(self) -> tuple[LogEntry, ...]:
        """Log entries recording a step, dated on or after d0 (earlier ones are settled)."""
        if self.d0 is None:
            return ()
        d0, ladder = self.d0, self.policy.resolve
        return tuple(e for e in self.log
                     if e.step is not None and e.date >= d0 and ladder(e.step) is not None)

    @cached_property
    def last_step(self) -> Step | None:
        """The done step highest in the ladder."""
        ranks = [self.policy.rank(e.step) for e in self.steps_done if e.step is not None]
        return self.policy.steps[max(ranks)] if ranks else None

    @cached_property
    def last_step_date(self) -> date | None:
        """The date of the latest log entry of the last step."""
        if self.last_step is None:
            return None
        step_id = self.last_step.id
        return max(e.date for e in self.steps_done if e.step == step_id)

    def step_logged_since(self, step_id: str, since: date) -> bool:
        """A step at or above `step_id` is logged on or after `since`."""
        floor = self.policy.rank(step_id)
        return any(e.step is not None and e.date >= since
                   and self.policy.resolve(e.step) is not None
                   and self.policy.rank(e.step) >= floor for e in self.log)

    def contact_since(self, since: date, channels: frozenset[str] | None = None) -> bool:
        """A contact (any channel but `note`, or one of `channels`) logged on or after `since`."""
        return any(e.date >= since and (e.channel in channels if channels else e.is_contact)
                   for e in self.log)

    def direct_contact_since(self, since: date) -> bool:
        return self.contact_since(since, DIRECT_CHANNELS)

    def dunnable_on(self, day: date) -> Decimal:
        """The residual of the invoices dunnable at the end of `day` (for promises)."""
        bills = billed(self.case.invoices, self.case.credits, day)
        allocation = allocate(bills, self.case.payments, day)
        disputes = open_disputes(self.case.disputes, day)
        return sum(
            (allocation.residual[i.number] for i in bills
             if i.date <= day and i.due < day and allocation.residual[i.number] > 0
             and not covered(i, disputes)),
            ZERO,
        )

    # -- promises and plans -------------------------------------------------------

    def judge(self, promise: Promise) -> PromiseState:
        amount = promise.amount if promise.amount is not None else self.dunnable_on(promise.made)
        deadline = promise.by + days(self.policy.promise_grace)
        kept = self.paid_between(promise.made, deadline) >= amount
        return PromiseState(promise, amount, deadline, kept)

    def instalments(self, plan: Plan) -> tuple[InstalmentState, ...]:
        grace = days(self.policy.promise_grace)
        paid = self.paid_between(plan.agreed, self.today)
        found, cumulative = [], ZERO
        for number, instalment in enumerate(plan.instalments, start=1):
            cumulative += instalment.amount
            deadline = instalment.due + grace
            short = ZERO
            if self.today > deadline:
                short = cumulative - self.paid_between(plan.agreed, deadline)
            found.append(InstalmentState(number, instalment, cumulative, deadline,
                                         paid=paid >= cumulative, missed=short > 0,
                                         shortfall=max(short, ZERO)))
        return tuple(found)
