"""What the dashboard sees: each case as a row, and the page as a whole (the dashboard, or
one page of the plain-HTML table).

A row is small, so that many thousands of them travel between processes cheaply; the page's
totals and lists come kept up to date by `SiteState`. Nothing here reads files or the clock.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple
from urllib.parse import quote

from markupsafe import Markup

from casebook.site.outputs import Export
from casebook.site.totals import Totals
from casebook.site.views import PRESCRIPTION_WINDOW, CaseView

TABLE_MARK = "\x00casebook:table\x00"  # never in a page otherwise: NUL is refused in input
AGENDA_MARK = "\x00casebook:agenda\x00"


@dataclass(frozen=True)
class AgendaGroup:
    """One owner's part of the agenda: its items (spliced in at `mark`), how many of its
    cases are only to be closed, and how many more are due than it shows."""

    owner: str | None
    mark: str
    items: int
    to_close: int
    more: int

    @property
    def key(self) -> str:
        return self.owner if self.owner is not None else "-"

    @property
    def due_link(self) -> str:
        """The table of the group's cases due (its "and N more")."""
        return "index.html#due=1&owner=" + quote(self.key, safe="")

    @property
    def close_link(self) -> str:
        """The table of the group's cases due to be closed."""
        return "index.html#action=close&due=1&owner=" + quote(self.key, safe="")



@dataclass(frozen=True, kw_only=True, slots=True)
class CaseRow:
    """One case on the dashboard: small, so that 100,000 of them travel and stay in memory
    cheaply (slots; its zero amounts shared, `shared_zero`)."""

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
    #: the earliest prescription date of its claims not yet prescribed, whether it is within
    #: the warning window, and whether an open claim is prescribed already (SPEC 10)
    prescribes: date | None
    prescribing: bool
    prescribed: bool

    def due_by(self, day: date) -> bool:
        return self.due is not None and self.due <= day and self.action != "none"

    @property
    def key(self) -> RowKey:
        return RowKey(self.id, self.owner, self.status, self.action, self.due)

    def share(self) -> Totals:
        """The case's share of the dashboard's totals."""
        return Totals.of(balance=self.balance, overdue=self.overdue, disputed=self.disputed,
                         plan=self.status == "plan", interest=self.interest, owner=self.owner,
                         aging=self.aging, prescribing=self.prescribing)


class RowKey(NamedTuple):
    """What the whole-site files read of a case's row to place it: 100,000 of them are held
    at once, so the rest of the row waits among the case's pieces (`pages.ROW`)."""

    id: str
    owner: str | None
    status: str
    action: str
    due: date | None

    def due_by(self, day: date) -> bool:
        return self.due is not None and self.due <= day and self.action != "none"


_ZEROS: dict[str, Decimal] = {}


def shared_zero(amount: Decimal) -> Decimal:
    """`amount`, or when it is a zero, one object for each way a zero is written ("0",
    "0.00"): most of a row's amounts are zeros, and a pickle keeps one copy of an object
    however often it is named, so the rows a worker sends together, or a cache table holds,
    share them."""
    return _ZEROS.setdefault(str(amount), amount) if not amount else amount


def _word(text: str | None) -> str | None:
    """A word of a small vocabulary (a status, an owner), as one shared object, as zeros are."""
    return None if text is None else sys.intern(text)


def case_row(view: CaseView) -> CaseRow:
    zero, word = shared_zero, _word
    return CaseRow(
        id=view.id, debtor=view.debtor.name, kind=sys.intern(view.debtor.kind),
        owner=word(view.owner), tags=tuple(map(sys.intern, view.tags)),
        status=sys.intern(view.status), action=sys.intern(view.action), due=view.due,
        channel=word(view.channel), reason=view.reason, balance=zero(view.balance),
        overdue=zero(view.overdue), disputed=zero(view.disputed_amount),
        days_overdue=view.days_overdue, interest=zero(view.interest.interest),
        claim=zero(view.interest.claim), aging=tuple(map(zero, view.aging)),
        letter=view.letter if any(link.id == view.letter for link in view.letters) else None,
        prescribes=view.prescribes, prescribing=view.prescribing, prescribed=view.prescribed,
    )


@dataclass(frozen=True, kw_only=True)
class SiteView:
    """The dashboard. Every row of the case table and every agenda item comes rendered
    already, made where each case was rendered: the page shows marks in their place
    (`table_html`, `agenda_items_html`), and the site's assembly writes the pieces there."""

    today: date
    rows: Sequence[CaseRow]  # every valid case, most urgent first (read when used)
    invalid: tuple[tuple[str, str], ...]  # (path, first error) of files left out
    sums: Totals
    lists: SiteLists
    exports: tuple[Export, ...] = ()  # the files the dashboard links to (`outputs`)
    #: the days the "prescribing" total looks ahead, as the casebook's policy says (each case
    #: is counted by its own policy's)
    prescription_window: int = PRESCRIPTION_WINDOW
    #: the agenda by owner (`table_data.agenda_groups`), the windowed table's data files, and
    #: the number of plain-HTML table pages
    agenda_groups: tuple[AgendaGroup, ...] = ()
    data_files: tuple[str, ...] = ()
    table_pages: int = 1

    @property
    def agenda(self) -> Sequence[CaseRow]:
        return self.lists.agenda

    @property
    def table_html(self) -> Markup:
        """Where the rendered rows of the case table go."""
        return Markup(TABLE_MARK)

    @property
    def agenda_items_html(self) -> Markup:
        """Where the rendered agenda items go."""
        return Markup(AGENDA_MARK)

    def group_items_html(self, group: AgendaGroup) -> Markup:
        """Where one owner's rendered agenda items go."""
        return Markup(group.mark)

    @property
    def totals(self) -> dict[str, Decimal]:
        return self.sums.by_key

    @property
    def counts(self) -> dict[str, int]:
        """How many cases count towards each total (and how many have no owner)."""
        return self.sums.counts_by_key

    @property
    def aging(self) -> tuple[tuple[str, Decimal, int], ...]:
        """(bucket, amount, number of cases with money in it) per bucket."""
        return self.sums.aging_rows

    @property
    def owners(self) -> tuple[str, ...]:
        return self.lists.owners

    @property
    def statuses(self) -> tuple[str, ...]:
        return self.lists.statuses


class SiteLists(NamedTuple):
    """The dashboard's lists, kept by `SiteState` as cases change."""

    agenda: Sequence[CaseRow]  # the rows with an action due, most urgent first
    owners: tuple[str, ...]  # sorted
    statuses: tuple[str, ...]  # sorted
