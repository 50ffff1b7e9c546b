"""The next action for a case on a day: the eight rules of SPEC section 5, in order.

Each rule is a small function named after its line of the policy; it returns an `Action` when it
applies and None when the next rule should decide. `reason` sentences are written here, beside
the rule that decides, and name the facts that decided. Nothing here reads the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from casebook.model import Case, Plan, Policy, Promise, Step
from casebook.situation import Situation, days

NONE = "none"


@dataclass(frozen=True, kw_only=True)
class Action:
    status: str
    action: str
    due: date | None
    reason: str
    rule: int
    channel: str | None = None
    letter: str | None = None


def money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def n_days(n: int | None) -> str:
    n = n or 0
    return "1 day" if n == 1 else f"{n} days"


def _step_action(step: Step, due: date, reason: str, rule: int, status: str = "overdue") -> Action:
    return Action(status=status, action=step.id, due=due, reason=reason, rule=rule,
                  channel=step.channel, letter=step.letter)


# -- rules 1 to 4 -------------------------------------------------------------


def closed(s: Situation) -> Action | None:
    """1. `closed.date` ≤ T → no action (closed)."""
    c = s.case.closed
    if c is None or c.date > s.today:
        return None
    why = f": {c.reason}" if c.reason else ""
    return Action(status="closed", action=NONE, due=None, rule=1,
                  reason=f"case closed on {c.date}{why}")


def settled(s: Situation) -> Action | None:
    """2. The case has invoices and no residual → close, due the last payment's date."""
    if not s.invoices or s.balance > 0:
        return None
    last = max((p.date for p in s.payments), default=max(i.date for i in s.invoices))
    total = sum((i.amount for i in s.invoices), Decimal(0))
    return Action(status="settled", action="close", due=last, rule=2,
                  reason=f"{_all_invoices(len(s.invoices))} ({money(total)}) "
                         f"{'is' if len(s.invoices) == 1 else 'are'} paid, the last payment "
                         f"on {last}: close the case")


def _all_invoices(count: int) -> str:
    return "the invoice" if count == 1 else f"all {count} invoices"


def on_hold(s: Situation) -> Action | None:
    """3. `hold.until` ≥ T → resume, due `hold.until` (on-hold)."""
    h = s.case.hold
    if h is None or h.until < s.today:
        return None
    why = f" ({h.reason})" if h.reason else ""
    return Action(status="on-hold", action="resume", due=h.until, rule=3,
                  reason=f"reminders are on hold until {h.until}{why}")


def disputed(s: Situation) -> Action | None:
    """4. Any open dispute → resolve-dispute, due the oldest one's `opened` (disputed)."""
    if not s.open_disputes:
        return None
    oldest = s.open_disputes[0]
    what = f"invoice {oldest.invoice}" if oldest.invoice else "the whole case"
    why = f" ({oldest.reason})" if oldest.reason else ""
    return Action(status="disputed", action="resolve-dispute", due=oldest.opened, rule=4,
                  reason=f"a dispute on {what} is open since {oldest.opened}{why}: "
                         "clear the complaint before any reminder")


# -- rule 5: payment plans ------------------------------------------------------


def payment_plan(s: Situation) -> Action | None:
    """5. The latest plan agreed ≤ T governs, unless fully paid or broken and overtaken."""
    plans = [p for p in s.case.plans if p.agreed <= s.today]
    if not plans:
        return None
    plan = max(reversed(plans), key=lambda p: p.agreed)  # the latest; the last in the file on ties
    paid = s.paid_between(plan.agreed, s.today)
    if paid >= plan.total:
        return None
    broken = _plan_broken_on(s, plan)
    if broken is not None:
        return _plan_fallback(s, plan, *broken)
    if plan.confirmed is None or plan.confirmed > s.today:
        return Action(status="plan", action="confirm-plan", due=plan.agreed, rule=5,
                      reason=f"the payment plan agreed on {plan.agreed} "
                             f"({len(plan.instalments)} instalments, {money(plan.total)}) "
                             "is not yet confirmed in writing")
    cumulative = Decimal(0)
    for number, instalment in enumerate(plan.instalments, start=1):
        cumulative += instalment.amount
        if paid < cumulative:
            return Action(status="plan", action="await-instalment", due=instalment.due, rule=5,
                          reason=f"payment plan of {plan.agreed}: instalment {number} of "
                                 f"{len(plan.instalments)} ({money(instalment.amount)}) "
                                 f"falls due on {instalment.due}; {money(paid)} paid so far")
    return None  # unreachable: paid < total means some instalment is unpaid


def _plan_broken_on(s: Situation, plan: Plan) -> tuple[int, date, Decimal] | None:
    """(instalment number, B, shortfall) of the first missed instalment, if any."""
    grace = days(s.policy.promise_grace)
    cumulative = Decimal(0)
    for number, instalment in enumerate(plan.instalments, start=1):
        cumulative += instalment.amount
        deadline = instalment.due + grace
        if s.today <= deadline:
            continue
        paid = s.paid_between(plan.agreed, deadline)
        if paid < cumulative:
            return number, deadline + timedelta(days=1), cumulative - paid
    return None


def _plan_fallback(s: Situation, plan: Plan, number: int, broken: date,
                   short: Decimal) -> Action | None:
    name = plan.fallback or s.policy.plan_fallback
    step_id = s.policy.resolve(name) if name else None
    if step_id is None or s.step_logged_since(step_id, broken):
        return None  # the broken plan no longer governs: rules 6 and 7 decide
    return _step_action(
        s.policy.step(step_id), broken, rule=5,
        reason=f"instalment {number} of the payment plan of {plan.agreed} was missed "
               f"({money(short)} short after {n_days(s.policy.promise_grace)} of grace): "
               f"plan broken on {broken}, so the plan B is {step_id}")


# -- rule 6: promises -------------------------------------------------------------


@dataclass(frozen=True)
class _Promise:
    promise: Promise
    amount: Decimal
    deadline: date  # by + grace
    kept: bool

    @property
    def broken_on(self) -> date:
        return self.deadline + timedelta(days=1)


def promises(s: Situation) -> Action | None:
    """6. Promises made ≤ T and ≥ d0: stalling, awaiting one, or a broken one."""
    if s.d0 is None:
        return None
    d0 = s.d0
    made = [p for p in s.case.promises if d0 <= p.made <= s.today]
    if not made:
        return None
    judged = [_judge(s, p) for p in made]
    broken = sorted((j for j in judged if not j.kept and s.today > j.deadline),
                    key=lambda j: j.broken_on)
    stalling = _stalling(s, broken)
    if stalling is not None:
        return stalling
    latest = max(reversed(judged), key=lambda j: j.promise.made)
    if not latest.kept and s.today <= latest.deadline:
        return Action(status="promise", action="await-promise", due=latest.promise.by, rule=6,
                      reason=f"on {latest.promise.made} the debtor promised "
                             f"{money(latest.amount)} by {latest.promise.by}")
    if latest in broken and not s.contact_since(latest.broken_on):
        return Action(status="overdue", action="broken-promise", due=latest.broken_on, rule=6,
                      reason=f"the promise of {latest.promise.made} to pay "
                             f"{money(latest.amount)} by {latest.promise.by} was not kept; "
                             "act on it at once")
    return None


def _judge(s: Situation, promise: Promise) -> _Promise:
    amount = promise.amount if promise.amount is not None else s.dunnable_on(promise.made)
    deadline = promise.by + days(s.policy.promise_grace)
    kept = s.paid_between(promise.made, deadline) >= amount
    return _Promise(promise, amount, deadline, kept)


def _stalling(s: Situation, broken: list[_Promise]) -> Action | None:
    limit, step_name = s.policy.stalling, s.policy.stalling_step
    if limit is None or step_name is None or len(broken) < max(limit, 1):
        return None
    step = s.policy.step(step_name)
    done = s.last_step is not None and s.policy.rank(s.last_step.id) >= s.policy.rank(step.id)
    if done:
        return None
    reached = broken[max(limit, 1) - 1]
    return _step_action(step, reached.broken_on, rule=6,
                        reason=f"{len(broken)} promises broken (the {_ordinal(limit)} on "
                               f"{reached.broken_on}): the debtor is only gaining time, "
                               f"so {step.id} at once")


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


# -- rules 7 and 8 -------------------------------------------------------------------


def ladder(s: Situation) -> Action | None:
    """7. Dunnable invoices → the step after the last one done, or a call first."""
    if s.d0 is None:
        return None
    d0, steps = s.d0, s.policy.steps
    last = s.last_step
    what = f"{money(s.dunnable_amount)} overdue since {d0}"
    if last is not None and last == steps[-1]:
        return Action(status="legal", action=NONE, due=None, rule=7,
                      reason=f"{what}; {last.id} done on {s.last_step_date}: "
                             "the file is with the lawyer")
    step = steps[0] if last is None else steps[s.policy.rank(last.id) + 1]
    due = d0 + timedelta(days=step.after)
    reason = f"{what}: {step.id} is due {n_days(step.after)} after {d0}"
    if last is not None and s.last_step_date is not None:
        gap = step.wait if step.wait is not None else s.policy.min_gap
        after_last = s.last_step_date + days(gap)
        reason += f", and {n_days(gap)} after {last.id} on {s.last_step_date}"
        due = max(due, after_last)
    if step.id == s.policy.direct_contact_before and not s.direct_contact_since(d0):
        return Action(status="overdue", action="call", due=due, rule=7, channel="phone",
                      reason=f"{reason}; first speak to the debtor: no phone call, visit or "
                             f"meeting since {d0}")
    return _step_action(step, due, rule=7, reason=reason)


def current(s: Situation) -> Action:
    """8. Otherwise no action (current); the reason names the next due date."""
    upcoming = sorted((i for i in s.invoices if s.residual(i) > 0), key=lambda i: i.due)
    if upcoming:
        first = upcoming[0]
        reason = (f"nothing overdue; next due: invoice {first.number} "
                  f"({money(s.residual(first))}) on {first.due}")
    elif s.invoices:
        reason = "nothing is owed"
    else:
        reason = "no invoices yet"
    return Action(status="current", action=NONE, due=None, rule=8, reason=reason)


RULES: tuple[Callable[[Situation], Action | None], ...] = (
    closed, settled, on_hold, disputed, payment_plan, promises, ladder,
)


def decide(case: Case, policy: Policy, today: date) -> tuple[Situation, Action]:
    """The situation of `case` on `today` and the first rule's action."""
    situation = Situation(case, policy, today)
    for rule in RULES:
        action = rule(situation)
        if action is not None:
            return situation, action
    return situation, current(situation)
