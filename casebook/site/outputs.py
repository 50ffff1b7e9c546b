"""The exports, listed once: every file of the site made of one line per case, with the
`export --format` it matches and the dashboard's link to it.

This list drives the build (which files, each case's piece of each, in which order), the
choices of `casebook export --format` and the dashboard's download links. A new export
format is one entry here, its line and whole-file functions in `formats`, and its label.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from casebook.model import Config
from casebook.site.formats import (
    CSV_DIALECTS,
    csv_cells,
    csv_cells_line,
    ics_event,
    join_csv,
    join_ics,
    json_line,
)

Chunks = list[bytes]


@dataclass(frozen=True)
class CaseLine:
    """What a case's line of any export is made from."""

    row: dict[str, Any]  # `formats.export_fields`
    cells: list[str]  # its CSV cells, made once for every dialect
    said: str  # the reason as people read it
    today: date
    config: Config


@dataclass(frozen=True)
class Export:
    file: str  # its name in the site
    format: str  # the `export --format` that writes the same content
    dialect: str | None  # for csv
    label: str  # the dashboard link's label (labels.yml)
    order: Literal["urgency", "case"]  # the order of the cases in it
    line: Callable[[CaseLine], bytes]
    whole: Callable[[list[bytes]], Chunks]  # the file, from every case's line
    locales: tuple[str, ...] = ()  # made only for these locales (none: for every one)
    download: bool = True  # the link downloads rather than opens it

    def made_for(self, config: Config) -> bool:
        return not self.locales or config.locale in self.locales


def _json_whole(lines: list[bytes]) -> Chunks:
    if not lines:
        return [b"[]\n"]
    chunks = [b"[\n"]
    for item in lines:
        chunks += (item, b",\n")
    chunks[-1] = b"\n]\n"
    return chunks


def _csv_whole(dialect: str) -> Callable[[list[bytes]], Chunks]:
    head = join_csv([], CSV_DIALECTS[dialect]).encode()
    return lambda lines: [head, *lines]


def _ics_whole(events: list[bytes]) -> Chunks:
    """The calendar's head, the events, its end (`join_ics` of no events is head and end)."""
    empty, end = join_ics([]).encode(), b"END:VCALENDAR\r\n"
    return [empty[:-len(end)], *events, end]


EXPORTS: tuple[Export, ...] = (  # in the dashboard's order
    Export("actions.ics", "ics", None, "exports.ics", "urgency",
           lambda c: ics_event(c.row, c.today, c.said, c.config).encode(), _ics_whole),
    Export("cases.csv", "csv", "standard", "exports.csv", "case",
           lambda c: csv_cells_line(c.cells).encode(), _csv_whole("standard")),
    Export("cases-excel.csv", "csv", "excel-it", "exports.csv_excel", "case",
           lambda c: csv_cells_line(c.cells, CSV_DIALECTS["excel-it"]).encode(),
           _csv_whole("excel-it"), locales=("it",)),  # Excel in Italian: semicolons
    Export("casebook.json", "json", None, "exports.json", "case",
           lambda c: json_line(c.row).encode(), _json_whole, download=False),
)
FORMATS = tuple(dict.fromkeys(e.format for e in EXPORTS))  # `export --format` choices
DIALECTS = tuple(CSV_DIALECTS)


def exports_for(config: Config) -> tuple[Export, ...]:
    return tuple(e for e in EXPORTS if e.made_for(config))


def case_lines(row: dict[str, Any], said: str, today: date, config: Config
               ) -> tuple[bytes, ...]:
    """A case's line of every export made for the casebook, in `exports_for`'s order."""
    line = CaseLine(row, csv_cells(row), said, today, config)
    return tuple(e.line(line) for e in exports_for(config))
