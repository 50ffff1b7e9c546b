"""The conditions that data/letters.yml names: when a case may have a letter, when the site
offers it, and which invoices the letter is about (SPEC 7).

Each condition is a small function whose docstring is its line of the policy, and one entry in
its table under the name letters.yml uses. A `fits` condition returns why the letter does not fit
the case as it stands ("no LETTER …") or None when it holds; an `offered` condition says whether
the site makes the letter now (given the case's policy); an `invoices` rule picks what the
letter is about. A new kind of condition is one function and one table entry. Everything comes
from the case's view; nothing here reads a file, renders a template or reads the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from casebook.engine.rules import money
from casebook.model import Policy
from casebook.site.views import CaseView, InvoiceView, PlanView, PromiseView

Refusal = Callable[[CaseView, str], "str | None"]
Offer = Callable[[CaseView, str, Policy], bool]
Pick = Callable[[CaseView, Sequence[InvoiceView]], list[InvoiceView]]


# -- when a case may have the letter ------------------------------------------------------------


def not_with_lawyer(view: CaseView, name: str) -> str | None:
    """A case with the lawyer or in court gets nothing but the dossier."""
    return f"no {name} {case_state(view)}" if view.status in ("legal", "court") else None


def not_closed(view: CaseView, name: str) -> str | None:
    """A closed case gets nothing more."""
    return f"no {name} {case_state(view)}" if view.status == "closed" else None


def overdue(view: CaseView, name: str) -> str | None:
    """A letter that demands payment needs an overdue case with no agreement, hold, dispute or
    settlement in the way."""
    return None if view.status == "overdue" else f"no {name} {case_state(view)}"


def plan_runs(view: CaseView, name: str) -> str | None:
    """A plan confirmation is made only for a plan that runs: not broken, not paid."""
    if view.status == "plan":
        return None
    plan = latest_plan(view)
    if plan is None:
        return f"no {name}: the case has no payment plan"
    if plan.state in ("broken", "paid"):
        return f"no {name}: the payment plan agreed on {plan.agreed} is {plan.state}"
    return f"no {name} {case_state(view)}"


def promise_pending(view: CaseView, name: str) -> str | None:
    """A promise confirmation is made only for a promise still pending."""
    if view.status == "promise":
        return None
    promise = latest_promise(view)
    if promise is None:
        return f"no {name}: the case has no pending promise"
    if promise.state != "pending":
        return (f"no {name}: the promise to pay {money(promise.amount)} by {promise.by} "
                f"was {promise.state}")
    return f"no {name} {case_state(view)}"


FITS: dict[str, Refusal] = {
    "not-with-lawyer": not_with_lawyer,
    "not-closed": not_closed,
    "overdue": overdue,
    "plan-runs": plan_runs,
    "promise-pending": promise_pending,
}


# -- when the site offers it ---------------------------------------------------------------------


def next_action(view: CaseView, name: str, policy: Policy) -> bool:
    """The letter of the next action, once the action is due within the policy's
    `letters_ahead` days (a later one is made on demand, by `casebook letter`)."""
    return view.letter == name and due_within(view, policy.letters_ahead)


def with_the_lawyer(view: CaseView, name: str, policy: Policy) -> bool:
    """Once the file is with the lawyer (in court it is made on demand)."""
    return view.status == "legal"


def something_owed(view: CaseView, name: str, policy: Policy) -> bool:
    """While something is owed (a settled case's, all zeros, is made on demand)."""
    return view.balance > 0


def due_within(view: CaseView, days: int | None) -> bool:
    """The next action is due by `days` days from today (`None`: whenever it is due; an
    action without a date counts as due)."""
    return days is None or view.due is None or view.due <= view.today + timedelta(days=days)


OFFERED: dict[str, Offer] = {
    "next-action": next_action,
    "with-the-lawyer": with_the_lawyer,
    "something-owed": something_owed,
}


# -- which invoices it is about --------------------------------------------------------------------


def overdue_undisputed(view: CaseView, lines: Sequence[InvoiceView]) -> list[InvoiceView]:
    """A demand is about the overdue invoices not under dispute, else those not yet due."""
    claimable = [i for i in lines if i.residual > 0 and not i.disputed]
    return [i for i in claimable if i.due < view.today] or claimable


def all_open(view: CaseView, lines: Sequence[InvoiceView]) -> list[InvoiceView]:
    """A statement, a file or a plan is about every invoice with something left to pay."""
    return [i for i in lines if i.residual > 0]


INVOICES: dict[str, Pick] = {
    "overdue-undisputed": overdue_undisputed,
    "all-open": all_open,
}


# -- the state of the case ---------------------------------------------------------------------


def case_state(view: CaseView) -> str:
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


def latest_plan(view: CaseView) -> PlanView | None:
    """The plan agreed last (the last in the file on the same day), as the rules take it."""
    return max(reversed(view.plans), key=lambda p: p.agreed, default=None)


def latest_promise(view: CaseView) -> PromiseView | None:
    """The promise made last since the overdue episode began (SPEC 5, rule 6)."""
    counted = promises_since_d0(view)
    return max(reversed(counted), key=lambda p: p.made, default=None)


def pending_promise(view: CaseView) -> PromiseView | None:
    promise = latest_promise(view)
    return promise if promise is not None and promise.state == "pending" else None


def promises_since_d0(view: CaseView) -> tuple[PromiseView, ...]:
    """The promises made since the overdue episode began."""
    if view.d0 is None:
        return ()
    d0 = view.d0
    return tuple(p for p in view.promises if p.made >= d0)
