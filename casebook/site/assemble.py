"""The whole-site files, assembled from the site's state: the dashboard and the exports.

The cases' pieces (their dashboard rows, their lines of each export) are used as they come,
never joined or encoded again: a large casebook's dashboard is tens of megabytes. It writes
nothing; the build and the in-place update write what it assembles.
"""

from __future__ import annotations

import shutil
from operator import itemgetter
from pathlib import Path

import jinja2

from casebook.model import Config
from casebook.read.discover import template_dirs
from casebook.site.dashboard import AGENDA_MARK, TABLE_MARK, SiteView
from casebook.site.outputs import exports_for
from casebook.site.sitefolder import Chunks, contained_files
from casebook.site.state import SiteState
from casebook.site.views import PRESCRIPTION_WINDOW


def site_files(state: SiteState, config: Config, env: jinja2.Environment
               ) -> dict[str, Chunks]:
    """File name in the site → its content in pieces."""
    ranked, by_case = state.by_urgency, state.by_case
    today = state.today
    window = config.policy.prescription_warning
    site = SiteView(today=today, rows=tuple(o.row for o in ranked), invalid=state.invalid,
                    sums=state.totals, lists=state.lists, exports=exports_for(config),
                    prescription_window=PRESCRIPTION_WINDOW if window is None else window)
    index = env.get_template("index.html").render(site=site, creditor=config.creditor,
                                                  base="", today=today)
    pieces = {AGENDA_MARK: [o.agenda_html for o in ranked],
              TABLE_MARK: [o.row_html for o in ranked]}
    files = {"index.html": _spliced(index, pieces)}
    lines = {"urgency": [o.lines for o in ranked], "case": [o.lines for o in by_case]}
    for at, export in enumerate(exports_for(config)):
        files[export.file] = export.whole(list(map(itemgetter(at), lines[export.order])))
    return files


def write_site(state: SiteState, config: Config, env: jinja2.Environment, root: Path,
               folder: Path) -> None:
    """The whole-site files and the assets, into a new site's folder."""
    for name, chunks in site_files(state, config, env).items():
        with open(folder / name, "wb") as handle:
            handle.writelines(chunks)
    for templates in reversed(template_dirs(root)):  # the casebook's own win
        source = Path(templates) / "assets"
        if source.is_dir():
            for path in contained_files(source):
                target = folder / "assets" / path.relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)


def _spliced(text: str, pieces: dict[str, list[bytes]]) -> Chunks:
    """`text` encoded, with each mark in it replaced by its pieces."""
    chunks: Chunks = []
    for mark, parts in pieces.items():
        before, found, text = text.partition(mark)
        if not found:
            text = before
            continue
        chunks.append(before.encode())
        chunks.extend(parts)
    chunks.append(text.encode())
    return chunks
