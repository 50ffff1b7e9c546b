"""Assessing a whole casebook on a day: for every valid case, its situation and next action.

The one place that joins the loaded casebook, the checks and the rules into what the commands
show (`next`, `show`, `export`) and the site renders. It never prints and never reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from casebook.checks import check
from casebook.diagnostics import Diagnostic, Severity
from casebook.loader import Casebook
from casebook.model import Case
from casebook.rules import NONE, Action, decide
from casebook.situation import Situation


@dataclass(frozen=True)
class Assessment:
    case: Case
    situation: Situation
    action: Action

    @property
    def open_matter(self) -> bool:
        """Something to do: closed cases and cases with no action are not."""
        return self.action.action != NONE

    def urgency(self) -> tuple[int, date, Any, str]:
        """Sort key: by due (none last), then by overdue amount descending, then case id."""
        due = self.action.due
        return (due is None, due or date.max, -self.situation.overdue_amount, self.case.id)

    def as_json(self) -> dict[str, Any]:
        """The object of `next --json` (SPEC 4)."""
        s, a = self.situation, self.action
        return {
            "case": self.case.id,
            "debtor": self.case.debtor.name,
            "status": a.status,
            "action": a.action,
            "due": a.due.isoformat() if a.due else None,
            "channel": a.channel,
            "letter": a.letter,
            "balance": cents(s.balance),
            "overdue": cents(s.overdue_amount),
            "days_overdue": s.days_overdue,
            "reason": a.reason,
        }


def cents(amount: Any) -> str:
    from decimal import ROUND_HALF_UP, Decimal

    return str(Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Assessed:
    """A casebook on a day: its diagnostics and the assessment of every valid case."""

    casebook: Casebook
    today: date
    diagnostics: tuple[Diagnostic, ...]
    assessments: tuple[Assessment, ...]

    @cached_property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)

    @cached_property
    def invalid_paths(self) -> frozenset[str]:
        return frozenset(d.path for d in self.errors)

    def by_urgency(self, *, everything: bool = False, due_by: date | None = None
                   ) -> list[Assessment]:
        chosen: Iterable[Assessment] = self.assessments
        if not everything:
            chosen = (a for a in chosen if a.open_matter)
        if due_by is not None:
            chosen = (a for a in chosen if a.action.due is not None and a.action.due <= due_by)
        return sorted(chosen, key=Assessment.urgency)

    def get(self, case_id: str) -> Assessment | None:
        for assessment in self.assessments:
            if assessment.case.id == case_id:
                return assessment
        return None


def assess_cases(cases: Sequence[Case], casebook: Casebook, today: date) -> list[Assessment]:
    config = casebook.config
    out = []
    for case in cases:
        situation, action = decide(case, config.policy_for(case), today)
        out.append(Assessment(case, situation, action))
    return out


def assess(casebook: Casebook, today: date) -> Assessed:
    """Check the casebook and assess every case without errors."""
    diagnostics = tuple(check(casebook, today))
    invalid = {d.path for d in diagnostics if d.severity is Severity.ERROR}
    valid = [c for c in casebook.cases if c.path not in invalid]
    return Assessed(casebook, today, diagnostics, tuple(assess_cases(valid, casebook, today)))
