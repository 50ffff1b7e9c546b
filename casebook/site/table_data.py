"""The dashboard's case table as data, and the pieces of the site made from it: each case's
row as a compact JSON array (made once, where the case is rendered), the JavaScript chunks
that carry every row beside the page, the plain-HTML table pages for reading without
JavaScript, and the agenda grouped by owner.

It joins bytes made per case and never encodes a case again; it writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from casebook.site.dashboard import AgendaGroup, CaseRow, RowKey

Chunks = Iterator[bytes]  # a file's content in pieces, read as it is written

if TYPE_CHECKING:
    import jinja2


class Ranked(Protocol):
    """What the agenda needs of a case's output (`pages.CaseOutput`)."""

    @property
    def row(self) -> RowKey: ...


CHUNK_ROWS = 2000  # rows per JavaScript data file
PAGE_ROWS = 500  # rows per plain-HTML table page
AGENDA_CAP = 30  # agenda items shown per owner; the rest are one link to the table
STATUS_RANK = {"legal": 1, "court": 2, "overdue": 3, "disputed": 4, "promise": 5, "plan": 6,
               "on-hold": 7, "current": 8, "settled": 9, "closed": 10}  # `_status.html`

#: the dashboard's words that the labels do not have yet, by locale (English otherwise)
WORDS = {
    "en": {"to_close": "{n} cases to close", "to_close_one": "1 case to close",
           "more": "and {n} more", "no_owner": "No owner", "table": "The full table",
           "table_note": "{n} cases, {pages} pages of {per}", "page": "Page {n} of {pages}",
           "prev": "Previous page", "next": "Next page", "action": "Action",
           "due_today": "Due by today", "me": "I am"},
    "it": {"to_close": "{n} pratiche da chiudere", "to_close_one": "1 pratica da chiudere",
           "more": "e altre {n}", "no_owner": "Senza referente", "table": "La tabella completa",
           "table_note": "{n} pratiche, {pages} pagine da {per}",
           "page": "Pagina {n} di {pages}", "prev": "Pagina precedente",
           "next": "Pagina successiva", "action": "Azione", "due_today": "Da fare entro oggi",
           "me": "Io sono"},
}


def words(locale: str) -> dict[str, str]:
    return WORDS.get(locale, WORDS["en"])


def row_json(row: CaseRow, env: jinja2.Environment, today: date) -> bytes:
    """The case's row of the windowed table: one JSON array, in the order `casebook.js`
    reads (`COL`). Labels and figures come formatted here, so the page formats nothing."""
    T: Any = env.globals["T"]
    number, short = env.filters["number"], env.filters["date_short"]
    kind = T[f"kind.{row.kind}"]
    meta = " · ".join(filter(None, (row.id, kind if row.kind != "business" else "",
                                    ", ".join(row.tags))))
    marks = " ".join(m for m, on in (("soon", row.prescribing), ("prescribed", row.prescribed))
                     if on)
    status, action = T[f"status.{row.status}"], T[f"action.{row.action}"]
    channel = T[f"channel.{row.channel}"] if row.channel else ""
    search = " ".join((row.id, row.debtor, row.owner or "", " ".join(row.tags), status,
                       action, kind)).lower()
    cells = [
        row.id, row.debtor, meta, row.owner or "", row.status, status,
        STATUS_RANK.get(row.status, 99), row.action, action, channel,
        row.due.isoformat() if row.due else "", short(row.due) if row.due else "",
        float(row.overdue), number(row.overdue) if row.overdue > 0 else "",
        row.days_overdue, float(row.balance), number(row.balance), marks,
        short(row.prescribes) if row.prescribing and row.prescribes else "",
        1 if row.due_by(today) else 0, search,
    ]
    return json.dumps(cells, ensure_ascii=True, separators=(",", ":")).encode()


def data_files(rows: Sequence[bytes]) -> dict[str, Chunks]:
    """`rows-0000.js`, …: every row, most urgent first, `CHUNK_ROWS` to a file, each file a
    call that a <script src> runs from file:// (where fetch cannot read)."""
    return {chunk_name(at // CHUNK_ROWS): _data_file(rows[at:at + CHUNK_ROWS])
            for at in range(0, max(len(rows), 1), CHUNK_ROWS)}


def _data_file(rows: Sequence[bytes]) -> Chunks:
    yield b"(self.casebookRows=self.casebookRows||[]).push(\n"
    for at, row in enumerate(rows):
        if at:
            yield b",\n"
        yield row
    yield b"\n);\n" if rows else b");\n"


def chunk_name(index: int) -> str:
    return f"rows-{index:04d}.js"


def page_name(number: int) -> str:
    return f"table-{number}.html"


def page_count(rows: int) -> int:
    return max(1, -(-rows // PAGE_ROWS))


def agenda_groups(ranked: Sequence[Ranked], today: date, items_html: Sequence[bytes]
                  ) -> tuple[tuple[AgendaGroup, ...], dict[str, Sequence[bytes]]]:
    """The agenda by owner, each group most urgent first, the cases without owner last;
    a case's `close` action counted, not listed; at most `AGENDA_CAP` items a group. With
    the mark of each group → its items' bytes (`items_html`: each case's agenda item, in
    `ranked`'s order, read only for the items shown)."""
    items: dict[str | None, list[bytes]] = {}
    closing: dict[str | None, int] = {}
    due: dict[str | None, int] = {}
    for at, output in enumerate(ranked):
        row = output.row
        if not row.due_by(today):
            continue
        owner = row.owner
        items.setdefault(owner, [])
        if row.action == "close":
            closing[owner] = closing.get(owner, 0) + 1
            continue
        due[owner] = due.get(owner, 0) + 1
        if len(items[owner]) < AGENDA_CAP:
            items[owner].append(items_html[at])
    owners = sorted(o for o in items if o is not None) + ([None] if None in items else [])
    groups: list[AgendaGroup] = []
    pieces: dict[str, Sequence[bytes]] = {}
    for at, owner in enumerate(owners):
        mark = f"\x00casebook:agenda:{at}\x00"
        shown = len(items[owner])
        groups.append(AgendaGroup(owner=owner, mark=mark, items=shown,
                                  to_close=closing.get(owner, 0),
                                  more=due.get(owner, 0) - shown))
        pieces[mark] = items[owner]
    return tuple(groups), pieces
