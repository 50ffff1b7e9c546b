"""Letters: which ones fit a case as it stands, and what each one tells the debtor (SPEC 7).

Owns the rules that keep a letter within the state of its case — nothing demands payment of a
closed, settled or on-hold case, of one with the lawyer (only the dossier) or of an invoice under
open dispute; a plan or a promise is confirmed only while it stands — and the figures a letter
shows: one capital figure whatever the imputation, the interest and the EUR 40 named by invoice,
nothing of a disputed invoice. Everything comes from the case's view; nothing here renders a
template or reads the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from casebook.errors import CasebookError
from casebook.model import Config, Creditor, Policy
from casebook.site.render import labels
from casebook.engine.rules import money, real_channel
from casebook.site.views import (
    CaseView,
    InstalmentView,
    InvoiceView,
    PlanView,
    PromiseView,
    SegmentView,
)

DEMANDING_LETTERS = ("reminder", "written-reminder", "final-notice", "formal-notice")
DOSSIER = "dossier"
STATEMENT = "statement"
PLAN_CONFIRMATION = "plan-confirmation"
PROMISE_CONFIRMATION = "promise-confirmation"
LADDER_LETTERS = (*DEMANDING_LETTERS, DOSSIER)
EXTRA_LETTERS = (PLAN_CONFIRMATION, PROMISE_CONFIRMATION, STATEMENT)
TERMS = {"formal-notice": 15}  # days to pay; every other letter: 7
DEFAULT_TERM = 7
ZERO = Decimal(0)


# -- which letters fit -----------------------------------------------------------------------


def unfit(view: CaseView, name: str, policy: Policy) -> str | None:
    """Why letter `name` does not fit the case as it stands, or None when it does.

    The dossier is the creditor's own file and fits any case; a case with the lawyer gets
    nothing else. A letter of the casebook's own that is no step of the ladder is left to its
    author. A closed case gets nothing more. The statement fits every other case (it asks for
    payment only where a letter may: `Letter.demand`); a plan confirmation needs a plan that
    runs, a promise confirmation a promise still pending, and the ladder's letters, which demand
    payment, an overdue case with no agreement, hold or dispute in the way."""
    if name == DOSSIER:
        return None
    state = _state(view)
    if view.status in ("legal", "court"):
        return f"no {name} {state}"
    ladder = {*DEMANDING_LETTERS, *(s.letter for s in policy.steps if s.letter)}
    if name not in ladder and name not in (STATEMENT, PLAN_CONFIRMATION, PROMISE_CONFIRMATION):
        return None
    if view.status == "closed":
        return f"no {name} {state}"
    if name == STATEMENT:
        return None
    if name == PLAN_CONFIRMATION:
        return None if view.status == "plan" else _no_plan(view, name, state)
    if name == PROMISE_CONFIRMATION:
        return None if view.status == "promise" else _no_promise(view, name, state)
    return None if view.status == "overdue" else f"no {name} {state}"


def letters_for(view: CaseView, policy: Policy) -> tuple[str, ...]:
    """The letters a case can need now, each only if it fits the case as it stands
    (`letters.unfit`): the next action's, the confirmation of the plan or the promise it
    awaits, the dossier once the file is with the lawyer, and the account statement while
    something is owed (a settled case's statement, all zeros, is made on demand)."""
    wanted = [view.letter] if view.letter is not None else []
    wanted += [PLAN_CONFIRMATION, PROMISE_CONFIRMATION]
    if view.status == "legal":
        wanted.append(DOSSIER)
    if view.balance > 0:
        wanted.append(STATEMENT)
    return tuple(name for name in dict.fromkeys(wanted) if unfit(view, name, policy) is None)


def require_fit(view: CaseView, name: str, policy: Policy) -> None:
    """Refuse, in one line, a letter asked for that does not fit the case."""
    why = unfit(view, name, policy)
    if why is not None:
        raise CasebookError(f"{view.id}: {why}")


def _state(view: CaseView) -> str:
    """The state of the case, as the end of "no LETTER …"."""
    status = view.status
    if status == "closed" and view.closed is not None:
        return f"for a case closed on {view.closed.date}"
    if status in ("legal", "court"):
        where = "with the lawyer" if status == "legal" else "in court"
        return f"for a case {where}: only the dossier"
    if status == "settled":
        return "for a settled case: nothing is owed"
    if status == "on-hold" and view.hold is not None:
        return f"while reminders are on hold until {view.hold.until}"
    disputes = [d for d in view.disputes if d.open]
    if status == "disputed" and disputes:
        first = min(disputes, key=lambda d: d.opened)
        what = f"invoice {first.invoice}" if first.invoice else "the whole case"
        return f"while the dispute on {what} is open (since {first.opened})"
    plan = latest_plan(view)
    if status == "plan" and plan is not None:
        return f"while the payment plan agreed on {plan.agreed} runs"
    promise = pending_promise(view)
    if status == "promise" and promise is not None:
        return f"while the promise to pay {money(promise.amount)} by {promise.by} is pending"
    if status == "current":
        return "while nothing is overdue"
    return f"while the next action is {view.action}"


def _no_plan(view: CaseView, name: str, state: str) -> str:
    plan = latest_plan(view)
    if plan is None:
        return f"no {name}: the case has no payment plan"
    if plan.state in ("broken", "paid"):
        return f"no {name}: the payment plan agreed on {plan.agreed} is {plan.state}"
    return f"no {name} {state}"


def _no_promise(view: CaseView, name: str, state: str) -> str:
    promise = latest_promise(view)
    if promise is None:
        return f"no {name}: the case has no pending promise"
    if promise.state != "pending":
        return (f"no {name}: the promise to pay {money(promise.amount)} by {promise.by} "
                f"was {promise.state}")
    return f"no {name} {state}"


def latest_plan(view: CaseView) -> PlanView | None:
    """The plan agreed last (the last in the file on the same day), as the rules take it."""
    return max(reversed(view.plans), key=lambda p: p.agreed, default=None)


def latest_promise(view: CaseView) -> PromiseView | None:
    """The promise made last since the overdue episode began (SPEC 5, rule 6)."""
    counted = _since_d0(view)
    return max(reversed(counted), key=lambda p: p.made, default=None)


def pending_promise(view: CaseView) -> PromiseView | None:
    promise = latest_promise(view)
    return promise if promise is not None and promise.state == "pending" else None


def _since_d0(view: CaseView) -> tuple[PromiseView, ...]:
    if view.d0 is None:
        return ()
    d0 = view.d0
    return tuple(p for p in view.promises if p.made >= d0)


def plan_b(view: CaseView, policy: Policy) -> str | None:
    """The step the policy takes if the pending promise is not kept: the stalling step when
    this would be the broken promise that reaches the count, else the ladder's next step."""
    broken = sum(1 for p in _since_d0(view) if p.state == "broken")
    ranks = [policy.rank(e.step) for e in view.steps_done
             if e.step is not None and policy.resolve(e.step) is not None]
    last = max(ranks, default=-1)
    limit, stalling = policy.stalling, policy.stalling_step
    if limit is not None and stalling is not None and broken + 1 >= max(limit, 1):
        rank = policy.rank(stalling)
        if last < rank:
            return policy.steps[rank].id
    return policy.steps[last + 1].id if last + 1 < len(policy.steps) else None


# -- what a letter claims ------------------------------------------------------------------------


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


# -- a letter's context ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Letter:
    """What a letter template receives as `letter`."""

    id: str
    deadline: date
    channel: str | None
    place: str
    reference: str
    invoices: tuple[InvoiceView, ...]  # what the letter is about, capital after imputation
    total: Decimal  # their capital
    lines: tuple[InvoiceView, ...]  # every invoice, capital after imputation
    capital: Decimal  # the capital of every invoice, due or not
    claim: Claim
    demand: bool  # the case is overdue with nothing in the way: the letter may ask to pay
    promise: PromiseView | None  # the pending promise the case awaits
    plan: PlanView | None  # the latest plan
    instalment: InstalmentView | None  # its next unpaid instalment, while the plan runs
    plan_b: str | None  # the step taken if the pending promise is not kept


def letter_context(view: CaseView, name: str, config: Config) -> Letter:
    """What letter `name` of the case shows: a demand letter is about the overdue invoices not
    under dispute (else those not yet due), the statement, the dossier and the plan
    confirmation about every open invoice."""
    lines = imputed_lines(view)
    claimable = [i for i in lines if i.residual > 0 and not i.disputed]
    if name in (STATEMENT, DOSSIER, PLAN_CONFIRMATION):
        invoices = [i for i in lines if i.residual > 0]
    else:
        invoices = [i for i in claimable if i.due < view.today] or claimable
    numbers = ", ".join(i.number for i in invoices)
    key = "letter.reference_one" if len(invoices) == 1 else "letter.reference"
    label = labels(config.locale).get(key, "Invoices")
    plan = latest_plan(view)
    promise = pending_promise(view) if view.status == "promise" else None
    return Letter(
        id=name,
        deadline=view.today + timedelta(days=TERMS.get(name, DEFAULT_TERM)),
        channel=_letter_channel(name, config, view),
        place=place_of(config.creditor),
        reference=f"{label} {numbers} – {view.debtor.name}" if numbers else view.debtor.name,
        invoices=tuple(invoices),
        total=sum((i.residual for i in invoices), ZERO),
        lines=lines,
        capital=sum((i.residual for i in lines), ZERO),
        claim=claim_of(view, lines),
        demand=view.status == "overdue",
        promise=promise,
        plan=plan,
        instalment=_next_instalment(plan) if view.status == "plan" else None,
        plan_b=plan_b(view, _policy(view, config)) if promise is not None else None,
    )


def _next_instalment(plan: PlanView | None) -> InstalmentView | None:
    if plan is None:
        return None
    return next((r for r in plan.instalments if r.state != "paid"), None)


def _policy(view: CaseView, config: Config) -> Policy:
    if view.policy is None:
        return config.policy
    return config.policies.get(view.policy, config.policy)


def _letter_channel(name: str, config: Config, view: CaseView) -> str | None:
    policy_steps = {s.letter: real_channel(s.channel, view.debtor)
                    for s in _policy(view, config).steps if s.letter}
    if name == view.letter and view.channel:
        return view.channel
    return policy_steps.get(name)


def place_of(creditor: Creditor) -> str:
    """The town in an Italian address like "Via Verdi 2, 20121 Milano MI" → "Milano"."""
    if not creditor.address:
        return ""
    last = creditor.address.replace("\n", ",").split(",")[-1].split()
    words = [w for w in last if not w.isdigit()]
    if len(words) > 1 and len(words[-1]) == 2 and words[-1].isupper():
        words = words[:-1]  # the province code
    return " ".join(words)
