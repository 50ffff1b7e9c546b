"""The dashboard's table data and agenda, as `table_data` joins them: the chunks of rows, the
number of table pages, and the agenda by owner (closing folded, long groups capped)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from types import SimpleNamespace

from casebook.site.table_data import (
    AGENDA_CAP,
    CHUNK_ROWS,
    agenda_groups,
    data_files,
    page_count,
)

DAY = date(2026, 11, 20)


def rows_of(files: dict[str, Iterator[bytes]]) -> list[list[object]]:
    """The rows each file pushes, read back as JSON."""
    found = []
    for name in sorted(files):
        text = b"".join(files[name]).decode()
        head = "(self.casebookRows=self.casebookRows||[]).push("
        assert text.startswith(head) and text.endswith(");\n"), name
        found += json.loads("[" + text[len(head):-3] + "]")
    return found


def test_rows_go_in_chunks_in_order_and_read_back() -> None:
    rows = [json.dumps([f"c{i}", "<b>x</b>"]).encode() for i in range(CHUNK_ROWS * 2 + 1)]
    files = data_files(rows)
    assert list(files) == ["rows-0000.js", "rows-0001.js", "rows-0002.js"]
    assert [r[0] for r in rows_of(files)] == [f"c{i}" for i in range(len(rows))]


def test_no_case_still_makes_one_valid_file() -> None:
    files = data_files([])
    assert list(files) == ["rows-0000.js"] and rows_of(files) == []


def test_page_count() -> None:
    assert [page_count(n) for n in (0, 1, 500, 501, 10_000)] == [1, 1, 1, 2, 20]


def output(owner: str | None, action: str, n: int, due: bool = True) -> SimpleNamespace:
    row = SimpleNamespace(owner=owner, action=action, due_by=lambda day: due)
    return SimpleNamespace(row=row, agenda_html=f"<li>{owner}-{n}</li>".encode())


def test_the_agenda_by_owner_without_owner_last_closing_counted_long_groups_capped() -> None:
    ranked = [output(None, "call", 0), output("zoe", "close", 1), output("ada", "call", 2),
              output("zoe", "reminder", 3), output("zoe", "close", 4),
              output("ada", "call", 5, due=False)]
    ranked += [output("bob", "call", 10 + i) for i in range(AGENDA_CAP + 7)]
    read: list[int] = []

    class Items(list[bytes]):  # records which items are read
        def __getitem__(self, at):  # type: ignore[no-untyped-def]
            read.append(at)
            return super().__getitem__(at)

    items = Items(o.agenda_html for o in ranked)
    groups, pieces = agenda_groups(ranked, DAY, items)
    assert len(read) == sum(g.items for g in groups)  # only the items shown are read
    assert [(g.owner, g.items, g.to_close, g.more) for g in groups] == [
        ("ada", 1, 0, 0), ("bob", AGENDA_CAP, 0, 7), ("zoe", 1, 2, 0), (None, 1, 0, 0)]
    assert pieces[groups[2].mark] == [b"<li>zoe-3</li>"]  # the closing ones are not listed
    assert pieces[groups[1].mark][0] == b"<li>bob-10</li>"  # most urgent first
    assert groups[3].key == "-" and groups[3].due_link == "index.html#due=1&owner=-"
    assert groups[1].close_link == "index.html#action=close&due=1&owner=bob"
