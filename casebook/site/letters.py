"""Letters: which ones fit a case as it stands, and what each one tells the debtor (SPEC 7).

Owns applying the registry of letters (data/letters.yml, read by `letter_registry`, its conditions
in `letter_rules`) to a case: which letters a case may have and which the site makes now, and the
context a letter template receives — the invoices it is about, its deadline, its channel, the
claim (`claim`: one capital figure whatever the imputation, the interest and the EUR 40 named by
invoice, nothing of a disputed invoice). Everything comes from the case's view; nothing here
renders a template or reads the clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from casebook.engine.rules import real_channel
from casebook.engine.words import labels
from casebook.errors import CasebookError
from casebook.model import Config, Creditor, Policy
from casebook.site.claim import ZERO
from casebook.site.claim import Claim as Claim
from casebook.site.claim import InterestItem as InterestItem
from casebook.site.claim import claim_of as claim_of
from casebook.site.claim import imputed_lines as imputed_lines
from casebook.site.letter_registry import LetterRule, registry
from casebook.site.letter_rules import (
    FITS,
    INVOICES,
    OFFERED,
    next_action,
    promises_since_d0,
)
from casebook.site.letter_rules import latest_plan as latest_plan
from casebook.site.letter_rules import latest_promise as latest_promise
from casebook.site.letter_rules import pending_promise as pending_promise
from casebook.site.views import CaseView, InstalmentView, InvoiceView, PlanView, PromiseView

DEMANDING_LETTERS = registry().of_kind("step")
DOSSIER = registry().of_kind("dossier")[0]
LADDER_LETTERS = registry().of_kind("step", "dossier")
EXTRA_LETTERS = registry().of_kind("extra")
TERMS = {rule.name: rule.days for rule in registry().letters}  # days to pay
DEFAULT_TERM = registry().own.days  # of a letter of the casebook's own


# -- which letters fit -----------------------------------------------------------------------


def rule_for(name: str, policy: Policy) -> LetterRule:
    """The registry's rule for letter `name`; for a letter of the casebook's own, the rule of
    one that asks for payment when a step of the ladder names it, else one left to its author."""
    rule = registry().named(name)
    if rule is not None:
        return rule
    return registry().own.rule(name, step=any(s.letter == name for s in policy.steps))


def unfit(view: CaseView, name: str, policy: Policy) -> str | None:
    """Why letter `name` does not fit the case as it stands, or None when it does: the first of
    its `fits` conditions that fails says why (data/letters.yml, `letter_rules.FITS`)."""
    for condition in rule_for(name, policy).fits:
        why = FITS[condition](view, name)
        if why is not None:
            return why
    return None


def letters_for(view: CaseView, policy: Policy) -> tuple[str, ...]:
    """The letters the site makes for a case now, each only if it fits the case as it stands
    (`unfit`): the next action's once it is due within the policy's `letters_ahead` days,
    then every letter of the registry whose `offered` conditions hold
    (`letter_rules.OFFERED`: the agreements' confirmations, the statement, the dossier with
    the lawyer), in the registry's order. Any other letter is made on demand
    (`oneletter.ready_letter`)."""
    wanted = [view.letter] if view.letter is not None and next_action(
        view, view.letter, policy) else []
    wanted += [rule.name for rule in registry().letters if all(
        OFFERED[condition](view, rule.name, policy) for condition in rule.offered)]
    return tuple(name for name in dict.fromkeys(wanted) if unfit(view, name, policy) is None)


def require_fit(view: CaseView, name: str, policy: Policy) -> None:
    """Refuse, in one line, a letter asked for that does not fit the case."""
    why = unfit(view, name, policy)
    if why is not None:
        raise CasebookError(f"{view.id}: {why}")


def plan_b(view: CaseView, policy: Policy) -> str | None:
    """The step the policy takes if the pending promise is not kept: the stalling step when
    this would be the broken promise that reaches the count, else the ladder's next step."""
    broken = sum(1 for p in promises_since_d0(view) if p.state == "broken")
    ranks = [policy.rank(e.step) for e in view.steps_done
             if e.step is not None and policy.resolve(e.step) is not None]
    last = max(ranks, default=-1)
    limit, stalling = policy.stalling, policy.stalling_step
    if limit is not None and stalling is not None and broken + 1 >= max(limit, 1):
        rank = policy.rank(stalling)
        if last < rank:
            return policy.steps[rank].id
    return policy.steps[last + 1].id if last + 1 < len(policy.steps) else None


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
    #: the invoices as documents: one per invoice, however many of its parts are claimed
    documents: tuple[InvoiceView, ...]
    total: Decimal  # their capital
    lines: tuple[InvoiceView, ...]  # every invoice, capital after imputation
    capital: Decimal  # the capital of every invoice, due or not
    claim: Claim
    demand: bool  # the case is overdue with nothing in the way: the letter may ask to pay
    promise: PromiseView | None  # the pending promise the case awaits
    plan: PlanView | None  # the latest plan
    instalment: InstalmentView | None  # its next unpaid instalment, while the plan runs
    plan_b: str | None  # the step taken if the pending promise is not kept
    #: a claim of a debtor other than a consumer is prescribed: the letter says nothing of
    #: legal action (SPEC 10; a consumer is never asked for a prescribed claim at all)
    prescribed: bool = False


def letter_context(view: CaseView, name: str, config: Config) -> Letter:
    """What letter `name` of the case shows: the invoices its rule says it is about
    (`letter_rules.INVOICES`), its days to pay, its channel, the claim."""
    rule = rule_for(name, _policy(view, config))
    lines = imputed_lines(view)
    if view.debtor.kind == "consumer" and name != DOSSIER:
        # SPEC 10: a prescribed claim is never demanded from a consumer (the lawyer's file
        # still lists it)
        lines = tuple(i for i in lines if i.prescription != "prescribed")
    invoices = INVOICES[rule.invoices](view, lines)
    documents = _documents(invoices)
    numbers = ", ".join(i.number for i in documents)
    key = "letter.reference_one" if len(documents) == 1 else "letter.reference"
    label = labels(config.locale).get(key, "Invoices")
    plan = latest_plan(view)
    promise = pending_promise(view) if view.status == "promise" else None
    return Letter(
        id=name,
        deadline=view.today + timedelta(days=rule.days),
        channel=_letter_channel(name, config, view),
        place=place_of(config.creditor),
        reference=f"{label} {numbers} – {view.debtor.name}" if numbers else view.debtor.name,
        invoices=tuple(invoices),
        documents=documents,
        total=sum((i.residual for i in invoices), ZERO),
        lines=lines,
        capital=sum((i.residual for i in lines), ZERO),
        claim=claim_of(view, lines),
        demand=view.status == "overdue",
        promise=promise,
        plan=plan,
        instalment=_next_instalment(plan) if view.status == "plan" else None,
        plan_b=plan_b(view, _policy(view, config)) if promise is not None else None,
        prescribed=view.prescribed and view.debtor.kind != "consumer",
    )


def _documents(invoices: Sequence[InvoiceView]) -> tuple[InvoiceView, ...]:
    """One line per invoice, under its own number: the first of its claimed parts."""
    seen: dict[str, InvoiceView] = {}
    for line in invoices:
        number = line.invoice or line.number
        if number not in seen:
            seen[number] = dataclasses.replace(line, number=number)
    return tuple(seen.values())


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
