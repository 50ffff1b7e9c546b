"""Assessing a casebook on a day: every valid case's next action, as `next --json` rows.

The one place that joins loading, the checks and the rules into what the commands show. Rows
are computed after the checks, in the worker that parsed each case (`load.workers`), and
cached per day, so a large casebook is decided about as fast as it is read. It never prints
and never reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property, partial
from pathlib import Path
from typing import Any

from casebook.diagnostics import Diagnostic, Severity
from casebook.engine.prescription import earliest
from casebook.engine.reasons import for_people
from casebook.engine.rules import NONE, Action, decide
from casebook.engine.situation import Situation
from casebook.load.casebook import Casebook, Task
from casebook.load.loader import load
from casebook.model import Case, Config

Row = dict[str, Any]


def cents(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Assessment:
    """One case on one day: its situation and the action the rules decide."""

    case: Case
    situation: Situation
    action: Action
    config: Config

    @property
    def said(self) -> str:
        """The reason as people read it: in the casebook's locale and formats (SPEC 4)."""
        return for_people(self.config.locale, self.config.currency).say(self.action.why)

    def as_json(self, *, for_people: bool = False) -> Row:
        """The object of `next --json` (SPEC 4), keys in the SPEC's order; `for_people`, with
        the reason as people read it (`said`) rather than in English for scripts.
        `prescribes` (SPEC 10) is the earliest prescription date of the open claims, past when
        one is prescribed already, null when none has one (nothing open, or in court)."""
        s, a = self.situation, self.action
        first = earliest(s.claims)
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
            "prescribes": first.prescribes.isoformat() if first and first.prescribes else None,
            "reason": self.said if for_people else a.reason,
        }


def assess_case(case: Case, config: Config, today: date) -> Assessment:
    situation, action = decide(case, config.policy_for(case), today)
    return Assessment(case, situation, action, config)


def _row(case: Case, config: Config, today: date, for_people: bool) -> Row:
    return assess_case(case, config, today).as_json(for_people=for_people)


def next_task(today: date, *, for_people: bool = False) -> Task[Row]:
    """The rows of `next --json`; `for_people`, with each reason in the casebook's locale, for
    the terminal (a task, and a cache, of its own: each reader pays only for its sentence)."""
    name = "next-said" if for_people else "next"
    return Task(name, today.isoformat(), partial(_row, today=today, for_people=for_people))


def urgency(row: Row) -> tuple[bool, str, Decimal, str]:
    """Most urgent first: by due (none last), then overdue amount descending, then case id."""
    due = row["due"]
    return (due is None, due or "", -Decimal(row["overdue"]), row["case"])


@dataclass(frozen=True)
class Assessed:
    """A casebook on a day: its diagnostics and the row of every valid case."""

    casebook: Casebook[Row]
    today: date
    diagnostics: tuple[Diagnostic, ...]
    rows: tuple[Row, ...]

    @cached_property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)

    @cached_property
    def invalid_paths(self) -> frozenset[str]:
        return frozenset(d.path for d in self.errors)

    def by_urgency(self, *, everything: bool = False, due_by: date | None = None) -> list[Row]:
        chosen: Iterable[Row] = self.rows
        if not everything:
            chosen = (r for r in chosen if r["action"] != NONE)
        if due_by is not None:
            limit = due_by.isoformat()
            chosen = (r for r in chosen if r["due"] is not None and r["due"] <= limit)
        return sorted(chosen, key=urgency)


def assess(root: Path, today: date, task: Task[Row] | None = None, *,
           for_people: bool = False) -> Assessed:
    """Load and check the casebook, and run `task` (default: decide the next action, the
    reasons for people with `for_people`) on every case without errors."""
    casebook = load(root, today, task or next_task(today, for_people=for_people))
    rows = tuple(casebook.results[s.path] for s in casebook.files if s.path in casebook.results)
    return Assessed(casebook, today, casebook.checked, rows)
