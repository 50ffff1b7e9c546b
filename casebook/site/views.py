"""View models: what the templates see of a case and of the whole casebook.

Built from the model, the situation on the day and the interest statement; plain frozen values,
so a template never computes money or dates itself. Notes arrive here already rendered to safe
HTML (see `markdown`). Nothing here reads files or the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from casebook.engine.delivery import Delivery, delivery_of
from casebook.engine.interest import CaseInterest
from casebook.engine.prescription import ClaimTerm, earliest
from casebook.engine.rules import Action
from casebook.engine.situation import Situation, covered
from casebook.history.commits import Commit
from casebook.model import Closed, Court, Debtor, Hold, LogEntry, Plan, Promise
from casebook.site.markdown import render_markdown
from casebook.site.totals import BUCKETS

ZERO = Decimal(0)
#: the days before a claim prescribes that the dashboard counts it as prescribing, when the
#: policy's `prescription_warning` is off
PRESCRIPTION_WINDOW = 90


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
    invoice: str = ""  # the invoice's own number (a scheduled part's number adds "(k/n)")
    total: Decimal | None = None  # the document's total, when it differs from the amount
    credited: Decimal = Decimal(0)  # lowered by credit notes
    source: str | None = None  # the e-invoice's file name, when the case page links to it
    #: an open claim's prescription (SPEC 10): the last day of its term, and its state:
    #: running, soon (within the policy's warning), prescribed, court (no date while in court),
    #: or none (nothing left to pay)
    prescribes: dt.date | None = None
    prescription: str = "none"


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
    is_contact: bool  # it reached the debtor: a contact, and not a PEC that was never delivered
    #: a message sent with `casebook send`: sent, accepted, delivered or failed, and when
    delivery: Delivery | None = None


@dataclass(frozen=True, kw_only=True)
class LetterLink:
    id: str  # reminder | … | plan-confirmation | promise-confirmation | statement | dossier
    title: str
    href: str  # relative to the page that shows it
    pdf: str | None = None  # its PDF beside it, relative like `href`: built with `build --pdf`


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
    #: the e-invoice files copied beside the letters: file name -> link from the case page
    attachments: Mapping[str, str] = field(default_factory=dict)
    court: Court | None = None  # filed on or before the day
    #: the earliest prescription date of the claims not yet prescribed, whether it falls
    #: within the warning window (`prescribing`; never for a closed case: nothing is done
    #: about it), and whether an open claim is prescribed
    prescribes: date | None = None
    prescribing: bool = False
    prescribed: bool = False

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
    prescribes, prescribing = next_prescription(s)
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
        court=case.court if case.court and case.court.filed <= s.today else None,
        prescribes=prescribes, prescribing=prescribing and action.status != "closed",
        prescribed=bool(s.prescribed),
    )


def window(s: Situation) -> int:
    """The days before a claim prescribes that count as soon: the policy's warning, or
    `PRESCRIPTION_WINDOW` when it is off."""
    days = s.policy.prescription_warning
    return PRESCRIPTION_WINDOW if days is None else days


def next_prescription(s: Situation) -> tuple[date | None, bool]:
    """The earliest prescription date of the claims not prescribed yet, and whether it falls
    within the window (`window`)."""
    first = earliest(tuple(c for c in s.claims if not c.prescribed(s.today)))
    prescribes = first.prescribes if first is not None else None
    return prescribes, prescribes is not None and (prescribes - s.today).days <= window(s)


def claim_state(claim: ClaimTerm | None, s: Situation) -> str:
    """running, soon, prescribed, court or none: see `InvoiceView.prescription`."""
    if claim is None:
        return "none"
    if claim.prescribes is None:
        return "court"
    if claim.prescribed(s.today):
        return "prescribed"
    return "soon" if (claim.prescribes - s.today).days <= window(s) else "running"


def _log_view(entry: LogEntry) -> LogView:
    delivery = delivery_of(entry)
    sent = delivery if delivery.message_id or delivery.receipts else None
    return LogView(date=entry.date, channel=entry.channel, step=entry.step, title=entry.title,
                   note_html=render_markdown(entry.note),
                   is_contact=entry.is_contact and delivery.failure is None, delivery=sent)


def _invoices(s: Situation, interest: CaseInterest) -> tuple[InvoiceView, ...]:
    by_number = {item.number: item for item in interest.invoices}
    credited: dict[str, Decimal] = {}
    for credit in s.case.credits:
        if credit.date <= s.today:
            credited[credit.invoice] = credited.get(credit.invoice, ZERO) + credit.amount
    claims = {c.invoice.number: c for c in s.claims}
    views = []
    for invoice in s.invoices:
        residual = s.residual(invoice)
        claim = claims.get(invoice.number) if residual > 0 else None
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
            invoice=invoice.invoice_number,
            total=invoice.total,
            credited=ZERO if invoice.part_of else credited.get(invoice.number, ZERO),
            source=source_name(invoice.source),
            prescribes=claim.prescribes if claim else None,
            prescription=claim_state(claim, s),
        ))
    return tuple(views)


def source_name(source: str | None) -> str | None:
    """The name an invoice's source file has beside the case's letters (`pages` puts it
    there, where the letters that enclose a copy of the invoice are)."""
    return None if source is None else source.rsplit("/", 1)[-1]


def _payments(s: Situation) -> tuple[PaymentView, ...]:
    ordered = sorted(s.payments, key=lambda p: p.date)
    return tuple(PaymentView(date=p.date, amount=p.amount, invoice=p.invoice, method=p.method,
                             reference=p.reference) for p in ordered)


def _promise(s: Situation, promise: Promise) -> PromiseView:
    judged = s.judge(promise)
    return PromiseView(made=promise.made, by=promise.by, amount=judged.amount,
                       state=judged.state(s.today), deadline=judged.deadline)


def _plan(s: Situation, plan: Plan) -> PlanView:
    paid = s.paid_between(plan.agreed, s.today)
    judged = s.instalments(plan)
    instalments = tuple(InstalmentView(number=i.number, due=i.instalment.due,
                                       amount=i.instalment.amount, state=i.state)
                        for i in judged)
    broken = any(i.state == "missed" for i in judged)
    state = "paid" if paid >= plan.total else ("broken" if broken else "active")
    return PlanView(agreed=plan.agreed, confirmed=plan.confirmed, fallback=plan.fallback,
                    total=plan.total, paid=paid, state=state, instalments=instalments)


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
