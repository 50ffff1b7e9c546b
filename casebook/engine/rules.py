"""The next action for a case on a day: the eight rules of SPEC section 5, in order.

Each rule is a small function named after its line of the policy; it returns an `Action` when it
applies and None when the next rule should decide. Its reason is given here, beside the rule
that decides, as the facts that decided (`reasons.Clause`); the words are data
(`data/reasons.yml`). Nothing here reads the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from casebook.engine.delivery import delivery_of
from casebook.engine.prescription import FORMAL_NOTICE, earliest, warning_day
from casebook.engine.reasons import Clause, Reason, clause, for_scripts
from casebook.engine.reasons import money as money
from casebook.engine.situation import PromiseState, Situation, days
from casebook.model import Case, Debtor, Plan, Policy, Step

NONE = "none"


@dataclass(frozen=True, kw_only=True)
class Action:
    status: str
    action: str
    due: date | None
    why: Reason = field(hash=False)  # its facts are dicts
    rule: int
    channel: str | None = None
    letter: str | None = None

    @property
    def reason(self) -> str:
        """The reason in English with ISO dates, as `next --json` gives it to scripts."""
        return for_scripts().say(self.why)


def real_channel(channel: str, debtor: Debtor) -> str:
    """SPEC 4: a step whose channel is `pec` goes by `registered-letter` when the debtor has
    no `pec`."""
    return "registered-letter" if channel == "pec" and not debtor.pec else channel


def _step_action(s: Situation, step: Step, due: date, why: list[Clause], rule: int) -> Action:
    """A step of the ladder, whichever rule takes it: not due before the ladder resumes after
    a dispute (rule 4), and by the channel it will really use."""
    due, resumed = after_a_dispute(s, due)
    return Action(status="overdue", action=step.id, due=due, why=(*why, *resumed), rule=rule,
                  channel=real_channel(step.channel, s.case.debtor), letter=step.letter)


# -- rules 1 to 4 -------------------------------------------------------------


def closed(s: Situation) -> Action | None:
    """1. `closed.date` ≤ T → no action (closed)."""
    c = s.case.closed
    if c is None or c.date > s.today:
        return None
    return Action(status="closed", action=NONE, due=None, rule=1,
                  why=(clause("closed.why" if c.reason else "closed", date=c.date, why=c.reason),))


def settled(s: Situation) -> Action | None:
    """2. The case has invoices and no residual → close, due the last payment's date."""
    if not s.invoices or s.balance > 0:
        return None
    last = max((p.date for p in s.payments), default=max(i.date for i in s.invoices))
    total = sum((i.amount for i in s.invoices), Decimal(0))
    count = len(s.invoices)
    return Action(status="settled", action="close", due=last, rule=2,
                  why=(clause("settled.one" if count == 1 else "settled.many", count=count,
                              total=total, last=last),))


# -- SPEC 10's two rules, which stand between rules 2 and 3 ---------------------------------


def in_court(s: Situation) -> Action | None:
    """10. The claim is in court (`court.filed` ≤ T) → no action (court): the ladder stops."""
    c = s.case.court
    if c is None or c.filed > s.today:
        return None
    detail = ", ".join(part for part in (c.kind, c.number, c.court) if part)
    return Action(status="court", action=NONE, due=None, rule=10,
                  why=(clause("court.detail" if detail else "court", filed=c.filed,
                              detail=detail),))


def prescription(s: Situation) -> Action | None:
    """10. A claim that prescribes within `prescription_warning` days → interrupt-prescription,
    due that many days before, by the formal notice's channel and letter (even on hold or
    under a plan)."""
    days = s.policy.prescription_warning
    step_id = s.policy.resolve(FORMAL_NOTICE)
    if days is None or step_id is None:
        return None
    running = tuple(c for c in s.claims if not c.prescribed(s.today))
    first = earliest(running)
    if first is None or first.prescribes is None:
        return None
    due = warning_day(first.prescribes, days)
    if due > s.today:
        return None
    step = s.policy.step(step_id)
    last = first.last_act
    if last is None:
        why = clause("prescription", invoice=first.invoice.number, years=first.years,
                     prescribes=first.prescribes, due=first.invoice.due)
    else:
        why = clause(f"prescription.{last.what}", invoice=first.invoice.number,
                     years=first.years, prescribes=first.prescribes, date=last.day)
    return Action(status="overdue", action="interrupt-prescription", due=due, why=(why,),
                  rule=10, channel=real_channel(step.channel, s.case.debtor), letter=step.letter)


def on_hold(s: Situation) -> Action | None:
    """3. `hold.until` ≥ T → resume, due `hold.until` (on-hold)."""
    h = s.case.hold
    if h is None or h.until < s.today:
        return None
    return Action(status="on-hold", action="resume", due=h.until, rule=3,
                  why=(clause("hold.why" if h.reason else "hold", until=h.until, why=h.reason),))


def disputed(s: Situation) -> Action | None:
    """4. Any open dispute → resolve-dispute, due the oldest one's `opened` (disputed)."""
    if not s.open_disputes:
        return None
    oldest = s.open_disputes[0]
    key = "dispute.invoice" if oldest.invoice else "dispute.case"
    return Action(status="disputed", action="resolve-dispute", due=oldest.opened, rule=4,
                  why=(clause(key + ".why" if oldest.reason else key, invoice=oldest.invoice,
                              opened=oldest.opened, why=oldest.reason),))


def after_a_dispute(s: Situation, due: date) -> tuple[date, Reason]:
    """4. After a dispute is resolved on R, no step of the ladder is due before R + 1."""
    resumes = s.ladder_resumes
    if resumes is None or resumes <= due:
        return due, ()
    return resumes, (clause("resumed", resolved=resumes - timedelta(days=1), due=resumes),)


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
                      why=(clause("plan.unconfirmed", agreed=plan.agreed,
                                  count=len(plan.instalments), total=plan.total),))
    cumulative = Decimal(0)
    for number, instalment in enumerate(plan.instalments, start=1):
        cumulative += instalment.amount
        if paid < cumulative:
            return Action(status="plan", action="await-instalment", due=instalment.due, rule=5,
                          why=(clause("plan.instalment", agreed=plan.agreed, number=number,
                                      count=len(plan.instalments), amount=instalment.amount,
                                      due=instalment.due, paid=paid),))
    return None  # unreachable: paid < total means some instalment is unpaid


def _plan_broken_on(s: Situation, plan: Plan) -> tuple[int, date, Decimal] | None:
    """(instalment number, B, shortfall) of the first missed instalment, if any."""
    for judged in s.instalments(plan):
        if judged.missed:
            return judged.number, judged.broken_on, judged.shortfall
    return None


def _plan_fallback(s: Situation, plan: Plan, number: int, broken: date,
                   short: Decimal) -> Action | None:
    name = plan.fallback or s.policy.plan_fallback
    step_id = s.policy.resolve(name) if name else None
    if step_id is None or s.step_logged_since(step_id, broken):
        return None  # the broken plan no longer governs: rules 6 and 7 decide
    return _step_action(
        s, s.policy.step(step_id), broken, rule=5,
        why=[clause("plan.broken", number=number, agreed=plan.agreed, short=short,
                    grace=s.policy.promise_grace, broken=broken, step=step_id)])


# -- rule 6: promises -------------------------------------------------------------


def promises(s: Situation) -> Action | None:
    """6. Promises made ≤ T and ≥ d0: stalling, awaiting one, or a broken one."""
    if s.d0 is None:
        return None
    d0 = s.d0
    made = [p for p in s.case.promises if d0 <= p.made <= s.today]
    if not made:
        return None
    judged = [s.judge(p) for p in made]
    broken = sorted((j for j in judged if not j.kept and s.today > j.deadline),
                    key=lambda j: j.broken_on)
    stalling = _stalling(s, broken)
    if stalling is not None:
        return stalling
    latest = max(reversed(judged), key=lambda j: j.promise.made)
    if not latest.kept and s.today <= latest.deadline:
        return Action(status="promise", action="await-promise", due=latest.promise.by, rule=6,
                      why=(clause("promise.pending", made=latest.promise.made,
                                  amount=latest.amount, by=latest.promise.by),))
    if latest in broken and not s.contact_since(latest.broken_on):
        return Action(status="overdue", action="broken-promise", due=latest.broken_on, rule=6,
                      why=(clause("promise.broken", made=latest.promise.made,
                                  amount=latest.amount, by=latest.promise.by),))
    return None


def _stalling(s: Situation, broken: list[PromiseState]) -> Action | None:
    limit, step_name = s.policy.stalling, s.policy.stalling_step
    if limit is None or step_name is None or len(broken) < max(limit, 1):
        return None
    step = s.policy.step(step_name)
    done = s.last_step is not None and s.policy.rank(s.last_step.id) >= s.policy.rank(step.id)
    if done:
        return None
    reached = broken[max(limit, 1) - 1]
    return _step_action(s, step, reached.broken_on, rule=6,
                        why=[clause("stalling", count=len(broken), limit=limit,
                                    broken=reached.broken_on, step=step.id)])


# -- rules 7 and 8 -------------------------------------------------------------------


def ladder(s: Situation) -> Action | None:
    """7. Dunnable invoices → the step after the last one done, or a call first."""
    if s.d0 is None:
        return None
    d0, steps = s.d0, s.policy.steps
    last, amount = s.last_step, s.dunnable_amount
    if last is not None and last == steps[-1]:
        return Action(status="legal", action=NONE, due=None, rule=7,
                      why=(clause("legal", amount=amount, d0=d0, step=last.id,
                                  date=s.last_step_date),))
    undelivered = _undelivered(s)
    if undelivered is not None:
        return undelivered
    step = steps[0] if last is None else steps[s.policy.rank(last.id) + 1]
    due = d0 + timedelta(days=step.after)
    why = [clause("ladder", amount=amount, d0=d0, step=step.id, after=step.after)]
    if last is not None and s.last_step_date is not None:
        gap = step.wait if step.wait is not None else s.policy.min_gap
        why.append(clause("ladder.gap", gap=gap, last=last.id, date=s.last_step_date))
        due = max(due, s.last_step_date + days(gap))
    if step.id == s.policy.direct_contact_before and not s.direct_contact_since(d0):
        due, resumed = after_a_dispute(s, due)
        return Action(status="overdue", action="call", due=due, rule=7, channel="phone",
                      why=(*why, *resumed, clause("ladder.call", d0=d0)))
    return _step_action(s, step, due, why, rule=7)


def _undelivered(s: Situation) -> Action | None:
    """7. The last step went by PEC and its receipts say it never reached the debtor (refused,
    or a failed delivery, with no delivery after) → that step again by registered letter, due
    the day of the failure: what counts in law is the delivery, not the sending."""
    last = s.last_step
    if last is None:
        return None
    sent = [e for e in s.steps_done if e.step == last.id]
    latest = max(reversed(sent), key=lambda e: e.date) if sent else None  # the last of the day
    if latest is None or latest.channel != "pec":
        return None
    failure = delivery_of(latest).failure
    if failure is None or failure.day > s.today:
        return None
    due, resumed = after_a_dispute(s, failure.day)
    why = clause("undelivered.why" if failure.reason else "undelivered", step=last.id,
                 date=latest.date, failed=failure.day, why=failure.reason)
    return Action(status="overdue", action=last.id, due=due, why=(why, *resumed), rule=7,
                  channel="registered-letter", letter=last.letter)


def current(s: Situation) -> Action:
    """8. Otherwise no action (current); the reason names the next due date, or the claim
    prescribed that is never demanded from a consumer."""
    barred = [c for c in s.claims if c.invoice.number in s.prescribed]
    if s.case.debtor.kind == "consumer" and barred:
        return Action(status="current", action=NONE, due=None, rule=8,
                      why=(clause("prescribed.consumer", invoice=barred[0].invoice.number,
                                  prescribes=barred[0].prescribes),))
    upcoming = sorted((i for i in s.invoices if s.residual(i) > 0), key=lambda i: i.due)
    if upcoming:
        first = upcoming[0]
        why = clause("current.next", invoice=first.number, amount=s.residual(first),
                     due=first.due)
    else:
        why = clause("current.paid" if s.invoices else "current.empty")
    return Action(status="current", action=NONE, due=None, rule=8, why=(why,))


RULES: tuple[Callable[[Situation], Action | None], ...] = (
    closed, settled, in_court, prescription, on_hold, disputed, payment_plan, promises, ladder,
)


def decide(case: Case, policy: Policy, today: date) -> tuple[Situation, Action]:
    """The situation of `case` on `today` and the first rule's action."""
    situation = Situation(case, policy, today)
    for rule in RULES:
        action = rule(situation)
        if action is not None:
            return situation, action
    return situation, current(situation)
