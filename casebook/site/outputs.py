"""The exports, listed once: every file of the site made of one line per case, with the
`export --format` it matches and the dashboard's link to it.

This list drives the build (which files, each case's piece of each, in which order), the
choices of `casebook export --format` and `--dialect`, and the dashboard's download links. A
new export format is one entry here, its line and whole-file functions in `formats`, and its
label. It is read by `casebook --help` too, so it imports `formats` only to make a line.
Each owner's calendar (`owner_calendars`) is the whole calendar's lines of that owner's cases.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from casebook.model import Config

Chunks = Iterable[bytes]  # a file's content in pieces, written one after the other


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
    whole: Callable[[Sequence[bytes]], Chunks]  # the file, from every case's line
    locales: tuple[str, ...] = ()  # made only for these locales (none: for every one)
    download: bool = True  # the link downloads rather than opens it

    def made_for(self, config: Config) -> bool:
        return not self.locales or config.locale in self.locales


@cache
def _formats() -> ModuleType:
    """The export functions, imported when a line or a file is made (never for `--help`)."""
    from casebook.site import formats

    return formats


def _json_whole(lines: Sequence[bytes]) -> Chunks:
    if not lines:
        yield b"[]\n"
        return
    yield b"[\n"
    for at, item in enumerate(lines):
        if at:
            yield b",\n"
        yield item
    yield b"\n]\n"


def _csv_line(dialect: str) -> Callable[[CaseLine], bytes]:
    return lambda c: _formats().csv_cells_line(c.cells, _formats().CSV_DIALECTS[dialect]).encode()


def _csv_whole(dialect: str) -> Callable[[Sequence[bytes]], Chunks]:
    def whole(lines: Sequence[bytes]) -> Chunks:
        yield _formats().join_csv([], _formats().CSV_DIALECTS[dialect]).encode()
        yield from lines

    return whole


def _ics_line(c: CaseLine) -> bytes:
    return _formats().ics_event(c.row, c.today, c.said, c.config).encode()  # type: ignore[no-any-return]


def _ics_whole(events: Sequence[bytes]) -> Chunks:
    """The calendar's head, the events, its end (`join_ics` of no events is head and end)."""
    empty, end = _formats().join_ics([]).encode(), b"END:VCALENDAR\r\n"
    yield empty[:-len(end)]
    yield from events
    yield end


def _json_line(c: CaseLine) -> bytes:
    return _formats().json_line(c.row).encode()  # type: ignore[no-any-return]


EXPORTS: tuple[Export, ...] = (  # in the dashboard's order
    Export("actions.ics", "ics", None, "exports.ics", "urgency", _ics_line, _ics_whole),
    Export("cases.csv", "csv", "standard", "exports.csv", "case",
           _csv_line("standard"), _csv_whole("standard")),
    Export("cases-excel.csv", "csv", "excel-it", "exports.csv_excel", "case",
           _csv_line("excel-it"), _csv_whole("excel-it"),
           locales=("it",)),  # Excel in Italian: semicolons, a decimal comma
    Export("casebook.json", "json", None, "exports.json", "case", _json_line, _json_whole,
           download=False),
)
FORMATS = tuple(sorted({e.format for e in EXPORTS}))  # `export --format` choices
DIALECTS = tuple(dict.fromkeys(e.dialect for e in EXPORTS if e.dialect))  # `--dialect` choices


def exports_for(config: Config) -> tuple[Export, ...]:
    return tuple(e for e in EXPORTS if e.made_for(config))


def case_lines(row: dict[str, Any], said: str, today: date, config: Config
               ) -> tuple[bytes, ...]:
    """A case's line of every export made for the casebook, in `exports_for`'s order."""
    line = CaseLine(row, _formats().csv_cells(row), said, today, config)
    return tuple(e.line(line) for e in exports_for(config))


# -- each owner's calendar ----------------------------------------------------------------

CALENDAR = "actions.ics"  # the whole calendar, whose events each owner's calendar takes


class _Owned(Protocol):
    """What an owner's calendar needs from a case's output (`pages.CaseOutput`)."""

    @property
    def row(self) -> Any: ...  # with `.owner`, a name or None

    @property
    def piece(self) -> Any: ...  # where its lines lie (`pieces.Piece`)


class _Parts(Protocol):
    """Reads one part of many cases' pieces (`pieces.PieceReader`)."""

    def parts(self, pieces: Sequence[Any], at: int) -> Sequence[bytes]: ...


def owner_calendars(ranked: Sequence[_Owned], config: Config, reader: _Parts
                    ) -> dict[str, Chunks]:
    """`actions-<owner>.ics` → the calendar of that owner's cases, for every owner with a case:
    the whole calendar's events of those cases, in `ranked`'s order (most urgent first), so an
    owner with nothing dated gets an empty calendar rather than a missing file."""
    export = next(e for e in exports_for(config) if e.file == CALENDAR)
    at = exports_for(config).index(export)
    pieces: dict[str, list[Any]] = defaultdict(list)
    for output in ranked:
        if output.row.owner:
            pieces[output.row.owner].append(output.piece)
    names = owner_calendar_names(pieces)
    return {names[owner]: export.whole(reader.parts(pieces[owner], at))
            for owner in sorted(pieces)}


def owner_calendar_names(owners: Iterable[str]) -> dict[str, str]:
    """Each owner's calendar file: `actions-<slug>.ics`, the slug the name in lower-case ASCII
    letters, digits and hyphens (`Luca Rossi` → `luca-rossi`). Owners whose slugs are the same
    (`Luca Rossi`, `luca-rossi`) each get a digest of their name after it, so that no calendar
    takes another's place and an owner's file does not depend on the order of the cases."""
    slugs = {owner: owner_slug(owner) for owner in sorted(set(owners))}
    shared = {slug for slug, count in Counter(slugs.values()).items() if count > 1}
    return {owner: f"actions-{slug}{_digest(owner) if slug in shared else ''}.ics"
            for owner, slug in slugs.items()}


def owner_slug(owner: str) -> str:
    """`owner` as a file name's part: accents dropped, anything but a-z and 0-9 one hyphen;
    `owner` when nothing is left (a name in another script)."""
    ascii_ = unicodedata.normalize("NFKD", owner).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-") or "owner"


def _digest(owner: str) -> str:
    return "-" + hashlib.sha256(owner.encode("utf-8")).hexdigest()[:8]
