"""The whole-site files, assembled from the site's state: the dashboard and the exports.

The cases' pieces (their rows of the table's data and pages, their agenda items, their lines
of each export) are used as they come, never encoded again. The dashboard itself stays small:
the case table travels beside it (`table_data`). Every file is at the site's top level, so
that a build or an update that puts it in place needs no folder for it. It writes nothing;
the build and the in-place update write what it assembles.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import jinja2

from casebook.model import Config
from casebook.read.discover import template_dirs
from casebook.site.dashboard import AGENDA_MARK, TABLE_MARK, CaseRow, SiteLists, SiteView
from casebook.site.outputs import exports_for, owner_calendars
from casebook.site.pages import AGENDA, ROW, ROW_HTML, ROW_JSON
from casebook.site.pieces import Decoded, Piece, PieceReader
from casebook.site.sitefolder import Chunks, contained_files
from casebook.site.state import SiteState
from casebook.site.table_data import (
    PAGE_ROWS,
    agenda_groups,
    data_files,
    page_count,
    page_name,
    words,
)
from casebook.site.views import PRESCRIPTION_WINDOW


def site_files(state: SiteState, config: Config, env: jinja2.Environment,
               reader: PieceReader) -> dict[str, Chunks]:
    """File name in the site → its content in pieces, each case's read from `reader` as the
    file is written (so one file's worth is never held at once)."""
    ranked, by_case = state.by_urgency, state.by_case
    urgent = [o.piece for o in ranked]
    today = state.today
    window = config.policy.prescription_warning
    groups, agenda = agenda_groups(ranked, today, reader.parts(urgent, AGENDA))
    data = data_files(reader.parts(urgent, ROW_JSON))
    pages = page_count(len(ranked))
    lists = SiteLists(
        agenda=_rows(reader, [state.outputs[path].piece for _, path in state.agenda]),
        owners=tuple(sorted(state.owners)), statuses=tuple(sorted(state.statuses)))
    site = SiteView(today=today, rows=_rows(reader, urgent), invalid=state.invalid,
                    sums=state.totals, lists=lists, exports=exports_for(config),
                    prescription_window=PRESCRIPTION_WINDOW if window is None else window,
                    agenda_groups=groups, data_files=tuple(data), table_pages=pages)
    template = env.get_template("index.html")
    index = template.render(site=site, creditor=config.creditor, base="", today=today,
                            page=None, words=words(config.locale))
    # a casebook's own index.html may still show every item and row where the page used to
    pieces: dict[str, Sequence[bytes]] = {AGENDA_MARK: reader.parts(urgent, AGENDA), **agenda,
                                          TABLE_MARK: ()}
    files = {"index.html": _spliced(index, pieces)}
    files.update(data)
    rows = reader.parts(urgent, ROW_HTML)
    for number in range(1, pages + 1):
        text = template.render(site=site, creditor=config.creditor, base="", today=today,
                               page=number, words=words(config.locale))
        part = rows[(number - 1) * PAGE_ROWS:number * PAGE_ROWS]
        files[page_name(number)] = _spliced(text, {TABLE_MARK: part})
    order = {"urgency": urgent, "case": [o.piece for o in by_case]}
    for at, export in enumerate(exports_for(config)):
        files[export.file] = export.whole(reader.parts(order[export.order], at))
    files.update(owner_calendars(ranked, config, reader))
    return files


def _rows(reader: PieceReader, pieces: list[Piece]) -> Sequence[CaseRow]:
    """The cases' whole rows, read when a template uses them (the shipped ones count them)."""
    return Decoded(reader.parts(pieces, ROW), pickle.loads)


# the whole-site files whose number varies with the casebook (the table's data and pages, a
# calendar per owner): an update in place takes out those it no longer writes
_VARYING = re.compile(r"rows-\d{4,}\.js|table-\d+\.html|actions-[a-z0-9-]+\.ics")


def stale_files(folder: Path, files: Iterable[str]) -> list[str]:
    """The names of the whole-site files in `folder` (a built site) that a site made of
    `files` no longer has, sorted."""
    keep = set(files)
    try:
        names = [entry.name for entry in os.scandir(folder) if entry.is_file()]
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n not in keep and _VARYING.fullmatch(n))


def write_site(state: SiteState, config: Config, env: jinja2.Environment, root: Path,
               folder: Path, reader: PieceReader) -> None:
    """The whole-site files and the assets, into a new site's folder."""
    for name, chunks in site_files(state, config, env, reader).items():
        with open(folder / name, "wb") as handle:
            handle.writelines(chunks)
    for templates in reversed(template_dirs(root)):  # the casebook's own win
        source = Path(templates) / "assets"
        if source.is_dir():
            for path in contained_files(source):
                target = folder / "assets" / path.relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)


def _spliced(text: str, pieces: dict[str, Sequence[bytes]]) -> Chunks:
    """`text` encoded, with each mark in it replaced by its pieces (read as written)."""
    for mark, parts in pieces.items():
        before, found, text = text.partition(mark)
        if not found:
            text = before
            continue
        yield before.encode()
        yield from parts
    yield text.encode()
