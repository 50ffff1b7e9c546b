"""View models: what the templates see of a case and of the whole casebook.

Built from the model, the situation on the day and the interest statement; plain frozen values,
so a template never computes money or dates itself. Notes arrive here already rendered to safe
HTML (see `markdown`). Nothing here reads files or the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import NamedTuple

from markupsafe import Markup

from casebook.engine.interest import CaseInterest
from casebook.site.markdown import render_markdown
from casebook.model import Closed, Debtor, Hold, LogEntry, Plan, Promise
from casebook.engine.rules import Action
from casebook.engine.situation import Situation, covered, days

ZERO = Decimal(0)
TABLE_MARK = "\x00casebook:table\x00"  # never in a page otherwise: NUL is refused in input
AGENDA_MARK = "\x00casebook:agenda\x00"
BUCKETS = ("not-due", "1-30", "31-60", "61-90", "90+")


def bucket_of(days_late: int) -> int:
    """Index in BUCKETS for an invoice that is `days_late` days past its due date."""
    if days_late <= 0:
        return 0
    if days_late <= 30:
        return 1
    if days_late <= 60:
        return 2
    return 3 if days_late <= 90 else 4


@dataclass(frozen=True, kw_only=True)
class InvoiceView:
    number: str
    date: dt.date
    due: dt.date
    amount: Decimal
    paid: Decimal
    residual: Decimal
    days_overdue: int | None  # None when not overdue
    disputed: bool  # covered by an open dispute
    description: str | None
    interest: Decimal  # accrued and unpaid
    compensation: Decimal
    # what a claim counts (SPEC 6): the capital left after the payments are imputed, which
    # differs from `residual` under interest-first, and the interest those payments paid
    capital: Decimal
    interest_paid: Decimal


@dataclass(frozen=True, kw_only=True)
class PaymentView:
    date: dt.date
    amount: Decimal
    invoice: str | None
    method: str | None
    reference: str | None


@dataclass(frozen=True, kw_only=True)
class PromiseView:
    made: date
    by: date
    amount: Decimal
    state: str  # kept | broken | pending
    deadline: date  # by + grace


@dataclass(frozen=True, kw_only=True)
class InstalmentView:
    number: int
    due: date
    amount: Decimal
    state: str  # paid | missed | pending


@dataclass(frozen=True, kw_only=True)
class PlanView:
    agreed: date
    confirmed: date | None
    fallback: str | None
    total: Decimal
    paid: Decimal
    state: str  # paid | broken | active
    instalments: tuple[InstalmentView, ...]


@dataclass(frozen=True, kw_only=True)
class DisputeView:
    invoice: str | None
    opened: date
    reason: str | None
    resolved: date | None
    open: bool


@dataclass(frozen=True, kw_only=True)
class SegmentView:
    invoice: str
    first: date
    last: date
    days: int
    capital: Decimal
    rate: Decimal
    amount: Decimal
    provisional: bool  # a legal rate carried into a year with no row yet


@dataclass(frozen=True, kw_only=True)
class InterestView:
    method: str  # commercial | legal | none
    imputation: str  # capital-first | interest-first
    interest_to: date
    segments: tuple[SegmentView, ...]
    accrued: Decimal
    paid: Decimal
    interest: Decimal  # accrued and unpaid
    compensation: Decimal
    compensated_invoices: int  # invoices owing the EUR 40
    overdue_capital: Decimal
    claim: Decimal
    gap: str | None  # the missing rate period, if interest stops before the day


@dataclass(frozen=True, kw_only=True)
class LogView:
    date: dt.date
    channel: str
    step: str | None
    title: str
    note_html: str
    is_contact: bool


@dataclass(frozen=True, kw_only=True)
class Commit:
    date: str  # ISO date of the commit
    author: str
    subject: str
    hash: str  # short hash


@dataclass(frozen=True, kw_only=True)
class LetterLink:
    id: str  # reminder | … | plan-confirmation | promise-confirmation | statement | dossier
    title: str
    href: str  # relative to the page that shows it


@dataclass(frozen=True, kw_only=True)
class CaseView:
    id: str
    path: str
    debtor: Debtor
    owner: str | None
    tags: tuple[str, ...]
    policy: str | None  # the case's named policy, if any
    today: date
    status: str
    action: str
    due: date | None
    channel: str | None
    letter: str | None  # the letter of the next action
    reason: str  # the next action's reason, in the casebook's locale
    rule: int
    balance: Decimal
    overdue: Decimal
    dunnable: Decimal
    days_overdue: int | None
    d0: date | None
    invoices: tuple[InvoiceView, ...]
    payments: tuple[PaymentView, ...]
    promises: tuple[PromiseView, ...]
    plans: tuple[PlanView, ...]
    disputes: tuple[DisputeView, ...]
    hold: Hold | None
    closed: Closed | None
    interest: InterestView
    notes_html: str
    log: tuple[LogView, ...]  # oldest first
    steps_done: tuple[LogView, ...]  # the escalation steps logged since d0, oldest first
    history: tuple[Commit, ...]  # newest first; empty outside git
    letters: tuple[LetterLink, ...]
    aging: tuple[Decimal, ...]  # residual per BUCKETS entry

    @property
    def is_open(self) -> bool:
        return self.action != "none"

    @property
    def overdue_invoices(self) -> tuple[InvoiceView, ...]:
        return tuple(i for i in self.invoices if i.days_overdue is not None)

    @property
    def open_invoices(self) -> tuple[InvoiceView, ...]:
        return tuple(i for i in self.invoices if i.residual > 0)

    @property
    def disputed_amount(self) -> Decimal:
        return sum((i.residual for i in self.invoices if i.disputed), ZERO)


@dataclass(frozen=True, kw_only=True)
class CaseRow:
    """One case on the dashboard: small, so that 10,000 of them travel cheaply."""

    id: str
    debtor: str
    kind: str
    owner: str | None
    tags: tuple[str, ...]
    status: str
    action: str
    due: date | None
    channel: str | None
    reason: str  # in the casebook's locale
    balance: Decimal
    overdue: Decimal
    disputed: Decimal
    days_overdue: int | None
    interest: Decimal
    claim: Decimal
    aging: tuple[Decimal, ...]
    letter: str | None  # the next action's letter id, if it is rendered

    def due_by(self, day: date) -> bool:
        return self.due is not None and self.due <= day and self.action != "none"


def case_row(view: CaseView) -> CaseRow:
    return CaseRow(
        id=view.id, debtor=view.debtor.name, kind=view.debtor.kind, owner=view.owner,
        tags=view.tags, status=view.status, action=view.action, due=view.due,
        channel=view.channel, reason=view.reason, balance=view.balance, overdue=view.overdue,
        disputed=view.disputed_amount, days_overdue=view.days_overdue,
        interest=view.interest.interest, claim=view.interest.claim, aging=view.aging,
        letter=view.letter if any(link.id == view.letter for link in view.letters) else None,
    )


# -- building a case view ----------------------------------------------------------------


def case_view(
    s: Situation,
    action: Action,
    interest: CaseInterest,
    history: Sequence[Commit] = (),
    letters: Sequence[LetterLink] = (),
    *,
    said: str,
) -> CaseView:
    """The case as its pages show it; `said` is the action's reason in the casebook's locale
    (`Assessment.said`), the sentence people read."""
    case = s.case
    log = tuple(_log_view(e) for e in s.log)
    done_ids = {id(e) for e in s.steps_done}
    return CaseView(
        id=case.id, path=case.path, debtor=case.debtor, owner=case.owner, tags=case.tags,
        policy=case.policy, today=s.today, status=action.status, action=action.action,
        due=action.due, channel=action.channel, letter=action.letter, reason=said,
        rule=action.rule,
        balance=s.balance, overdue=s.overdue_amount, dunnable=s.dunnable_amount,
        days_overdue=s.days_overdue, d0=s.d0,
        invoices=_invoices(s, interest), payments=_payments(s),
        promises=tuple(_promise(s, p) for p in case.promises if p.made <= s.today),
        plans=tuple(_plan(s, p) for p in case.plans if p.agreed <= s.today),
        disputes=_disputes(s),
        hold=case.hold, closed=case.closed if case.closed and case.closed.date <= s.today
        else None,
        interest=_interest(interest),
        notes_html=render_markdown(case.notes),
        log=log,
        steps_done=tuple(v for v, e in zip(log, s.log, strict=True) if id(e) in done_ids),
        history=tuple(history), letters=tuple(letters), aging=_aging(s),
    )


def _log_view(entry: LogEntry) -> LogView:
    return LogView(date=entry.date, channel=entry.channel, step=entry.step, title=entry.title,
                   note_html=render_markdown(entry.note), is_contact=entry.is_contact)


def _invoices(s: Situation, interest: CaseInterest) -> tuple[InvoiceView, ...]:
    by_number = {item.number: item for item in interest.invoices}
    views = []
    for invoice in s.invoices:
        residual = s.residual(invoice)
        late = (s.today - invoice.due).days if residual > 0 and invoice.due < s.today else None
        item = by_number.get(invoice.number)
        views.append(InvoiceView(
            number=invoice.number, date=invoice.date, due=invoice.due, amount=invoice.amount,
            paid=invoice.amount - residual, residual=residual, days_overdue=late,
            disputed=residual > 0 and covered(invoice, s.open_disputes),
            description=invoice.description,
            interest=item.unpaid if item else ZERO,
            compensation=item.compensation if item else ZERO,
            capital=item.capital if item else residual,
            interest_paid=item.interest_paid if item else ZERO,
        ))
    return tuple(views)


def _payments(s: Situation) -> tuple[PaymentView, ...]:
    ordered = sorted(s.payments, key=lambda p: p.date)
    return tuple(PaymentView(date=p.date, amount=p.amount, invoice=p.invoice, method=p.method,
                             reference=p.reference) for p in ordered)


def _promise(s: Situation, promise: Promise) -> PromiseView:
    amount = promise.amount if promise.amount is not None else s.dunnable_on(promise.made)
    deadline = promise.by + days(s.policy.promise_grace)
    kept = s.paid_between(promise.made, deadline) >= amount
    state = "kept" if kept else ("broken" if s.today > deadline else "pending")
    return PromiseView(made=promise.made, by=promise.by, amount=amount, state=state,
                       deadline=deadline)


def _plan(s: Situation, plan: Plan) -> PlanView:
    grace = days(s.policy.promise_grace)
    paid = s.paid_between(plan.agreed, s.today)
    instalments, cumulative, broken = [], ZERO, False
    for number, instalment in enumerate(plan.instalments, start=1):
        cumulative += instalment.amount
        deadline = instalment.due + grace
        if paid >= cumulative:
            state = "paid"
        elif s.today > deadline and s.paid_between(plan.agreed, deadline) < cumulative:
            state, broken = "missed", True
        else:
            state = "pending"
        instalments.append(InstalmentView(number=number, due=instalment.due,
                                          amount=instalment.amount, state=state))
    state = "paid" if paid >= plan.total else ("broken" if broken else "active")
    return PlanView(agreed=plan.agreed, confirmed=plan.confirmed, fallback=plan.fallback,
                    total=plan.total, paid=paid, state=state, instalments=tuple(instalments))


def _disputes(s: Situation) -> tuple[DisputeView, ...]:
    open_ones = {id(d) for d in s.open_disputes}
    return tuple(
        DisputeView(invoice=d.invoice, opened=d.opened, reason=d.reason,
                    resolved=d.resolved if d.resolved and d.resolved <= s.today else None,
                    open=id(d) in open_ones)
        for d in s.case.disputes if d.opened <= s.today
    )


def _interest(interest: CaseInterest) -> InterestView:
    segments = tuple(
        SegmentView(invoice=item.number, first=seg.first, last=seg.last, days=seg.days,
                    capital=seg.capital, rate=seg.rate, amount=seg.amount,
                    provisional=seg.provisional)
        for item in interest.invoices for seg in item.segments
    )
    gaps = [gap.message for gap in interest.gaps]
    if interest.interest_to < interest.until and interest.method != "none":
        gaps.insert(0, f"interest is computed to {interest.interest_to}, the last day with a "
                       "known rate")
    return InterestView(
        method=interest.method, imputation=interest.imputation,
        interest_to=interest.interest_to, segments=segments,
        accrued=interest.accrued, paid=interest.interest_paid, interest=interest.interest,
        compensation=interest.compensation,
        compensated_invoices=sum(1 for i in interest.invoices if i.compensation > 0),
        overdue_capital=interest.overdue_capital, claim=interest.claim,
        gap="; ".join(gaps) or None,
    )


def _aging(s: Situation) -> tuple[Decimal, ...]:
    amounts = [ZERO] * len(BUCKETS)
    for invoice in s.invoices:
        residual = s.residual(invoice)
        if residual > 0:
            amounts[bucket_of((s.today - invoice.due).days)] += residual
    return tuple(amounts)


TOTAL_KEYS = ("open", "overdue", "disputed", "plan", "interest")
Sums = tuple[Decimal, ...]  # amounts and counts, as Decimals so that they add in one go


def row_sums(r: CaseRow) -> Sums:
    """One row's share of the dashboard's totals, counts and aging, flat: the five totals,
    the five counts and the cases without an owner, the aging amounts, the aging counts."""
    plan = r.status == "plan"
    return (r.balance, r.overdue, r.disputed, r.balance if plan else ZERO, r.interest,
            _ONE if r.balance > ZERO else ZERO, _ONE if r.overdue > ZERO else ZERO,
            _ONE if r.disputed > ZERO else ZERO, _ONE if plan else ZERO,
            _ONE if r.interest > ZERO else ZERO, _ONE if r.owner is None else ZERO,
            *r.aging, *(_ONE if a > ZERO else ZERO for a in r.aging))


def add_sums(shares: Iterable[Sums]) -> Sums:
    """The sum of row shares, column by column."""
    columns = 2 * len(TOTAL_KEYS) + 1 + 2 * len(BUCKETS)
    return tuple(sum(column, ZERO) for column in zip(*shares, strict=True)) or (
        (ZERO,) * columns)


def sub_sums(a: Sums, b: Sums) -> Sums:
    return tuple(x - y for x, y in zip(a, b, strict=True))


_ONE = Decimal(1)


@dataclass(frozen=True, kw_only=True)
class SiteView:
    """The dashboard."""

    today: date
    rows: tuple[CaseRow, ...]  # every valid case, most urgent first
    invalid: tuple[tuple[str, str], ...]  # (path, first error) of files left out
    # Every row of the case table and every agenda item comes rendered already, where each
    # case was rendered: the page shows marks in their place (`table_html`,
    # `agenda_items_html`), and the build writes the pieces there (`build.site_files`).
    prerendered: bool = False
    # `add_sums` of every row's `row_sums`, when the caller has it (else made from the rows)
    sums: Sums | None = None
    # the agenda, owners and statuses, when the caller keeps them (an in-place update of a
    # large casebook); else each is made from the rows
    known: SiteLists | None = None

    @cached_property
    def agenda(self) -> tuple[CaseRow, ...]:
        if self.known is not None:
            return self.known.agenda
        return tuple(r for r in self.rows if r.due_by(self.today))

    @property
    def table_html(self) -> Markup:
        """Where the rendered rows of the case table go: a loop in the template would cost
        several calls per row, and a large casebook has tens of thousands of them."""
        return Markup(TABLE_MARK)

    @property
    def agenda_items_html(self) -> Markup:
        """Where the rendered agenda items go."""
        return Markup(AGENDA_MARK)

    @cached_property
    def _sums(self) -> tuple[dict[str, Decimal], dict[str, int],
                             tuple[tuple[str, Decimal, int], ...]]:
        """Totals, counts and aging, from `sums` or from the rows."""
        flat = self.sums if self.sums is not None else add_sums(map(row_sums, self.rows))
        n, b = len(TOTAL_KEYS), len(BUCKETS)
        totals = dict(zip(TOTAL_KEYS, flat[:n], strict=True))
        counts = dict(zip((*TOTAL_KEYS, "unowned"), map(int, flat[n:2 * n + 1]), strict=True))
        start = 2 * n + 1
        aging = tuple(zip(BUCKETS, flat[start:start + b], map(int, flat[start + b:]),
                          strict=True))
        return totals, counts, aging

    @property
    def totals(self) -> dict[str, Decimal]:
        return self._sums[0]

    @property
    def counts(self) -> dict[str, int]:
        """How many cases count towards each total (and how many have no owner)."""
        return self._sums[1]

    @property
    def aging(self) -> tuple[tuple[str, Decimal, int], ...]:
        """(bucket, amount, number of cases with money in it) per BUCKETS entry."""
        return self._sums[2]

    @cached_property
    def owners(self) -> tuple[str, ...]:
        if self.known is not None:
            return self.known.owners
        return tuple(sorted({r.owner for r in self.rows if r.owner}))

    @cached_property
    def statuses(self) -> tuple[str, ...]:
        if self.known is not None:
            return self.known.statuses
        return tuple(sorted({r.status for r in self.rows}))


class SiteLists(NamedTuple):
    """What `SiteView` otherwise makes by going through every row."""

    agenda: tuple[CaseRow, ...]  # the rows with an action due, most urgent first
    owners: tuple[str, ...]  # sorted
    statuses: tuple[str, ...]  # sorted

