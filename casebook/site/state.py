"""The site as a whole, in memory: every valid case's output, in the orders the dashboard and
the exports list them, with the dashboard's lists and totals.

A full build makes one from the outputs of its cases; `watch` and `serve` keep it and update it
in place as case files change, a few binary searches a change instead of sorting every case
again. The whole-site files are assembled from it (`assemble.site_files`) either way.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from casebook.site.pages import CaseOutput
from casebook.site.totals import Totals


@dataclass
class SiteState:
    today: date
    outputs: dict[str, CaseOutput] = field(default_factory=dict)  # by case file path
    invalid: tuple[tuple[str, str], ...] = ()  # (path, first error) of files left out
    totals: Totals = field(default_factory=Totals)
    ranked: list[tuple[Any, str]] = field(default_factory=list)  # (urgency, path)
    ids: list[tuple[str, str]] = field(default_factory=list)  # (case id, path)
    agenda: list[tuple[Any, str]] = field(default_factory=list)  # (urgency, path), due only
    owners: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, today: date, outputs: dict[str, CaseOutput],
           invalid: tuple[tuple[str, str], ...] = ()) -> SiteState:
        rows = [o.row for o in outputs.values()]
        return cls(
            today=today, outputs=dict(outputs), invalid=invalid,
            totals=Totals.sum(o.share for o in outputs.values()),
            ranked=sorted((o.order, p) for p, o in outputs.items()),
            ids=sorted((o.row.id, p) for p, o in outputs.items()),
            agenda=sorted((o.order, p) for p, o in outputs.items() if o.row.due_by(today)),
            owners=Counter(r.owner for r in rows if r.owner),
            statuses=Counter(r.status for r in rows))

    def remove(self, path: str) -> None:
        output = self.outputs.pop(path, None)
        if output is None:
            return
        row = output.row
        self.totals = self.totals - output.share
        _discard(self.ranked, (output.order, path))
        _discard(self.ids, (row.id, path))
        if row.due_by(self.today):
            _discard(self.agenda, (output.order, path))
        for counter, name in ((self.owners, row.owner), (self.statuses, row.status)):
            if name:
                counter[name] -= 1
                if counter[name] <= 0:
                    del counter[name]

    def add(self, path: str, output: CaseOutput) -> None:
        self.remove(path)
        row = output.row
        self.outputs[path] = output
        self.totals = self.totals + output.share
        bisect.insort(self.ranked, (output.order, path))
        bisect.insort(self.ids, (row.id, path))
        if row.due_by(self.today):
            bisect.insort(self.agenda, (output.order, path))
        if row.owner:
            self.owners[row.owner] += 1
        self.statuses[row.status] += 1

    @property
    def by_urgency(self) -> list[CaseOutput]:
        """Most urgent first."""
        return [self.outputs[p] for _, p in self.ranked]

    @property
    def by_case(self) -> list[CaseOutput]:
        """By case id."""
        return [self.outputs[p] for _, p in self.ids]

def _discard(entries: list[Any], entry: Any) -> None:
    at = bisect.bisect_left(entries, entry)
    if at < len(entries) and entries[at] == entry:
        del entries[at]
