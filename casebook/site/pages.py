"""One case's part of the site: its page, its letters, and what the whole-site files need
from it (`CaseOutput`), rendered after the casebook has been checked, in the worker that
parsed the case. Output is deterministic: the same case, config, templates and day give the
same bytes.
"""

from __future__ import annotations

import dataclasses
import html as htmllib
import os
import pickle
import re
import shutil
import urllib.parse
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from casebook.atomic import write_all
from casebook.engine.interest import interest_context, interest_for_case
from casebook.engine.words import labels
from casebook.history.commits import Commit
from casebook.load.assess import assess_case, urgency
from casebook.model import Case, Config
from casebook.read.discover import case_id
from casebook.site.dashboard import CaseRow, RowKey, case_row, shared_zero
from casebook.site.formats import export_fields
from casebook.site.letters import (
    EXTRA_LETTERS,
    LADDER_LETTERS,
    Letter,
    letter_context,
    letters_for,
)
from casebook.site.outputs import case_lines
from casebook.site.pdf import letter_pdf, require_pdf
from casebook.site.pieces import Piece, PieceWriter, cache_folder
from casebook.site.render import environment
from casebook.site.table_data import row_json
from casebook.site.totals import Totals
from casebook.site.views import CaseView, LetterLink, case_view, source_name


class CaseOutput(NamedTuple):
    """What the whole-site files need from one case, made where the case is rendered: what
    places its row (`RowKey`), its order, its share of the totals, and where its pieces lie
    (`pieces`): its line of each export made (`outputs.exports_for`), in order, then `ROW`,
    `ROW_HTML`, `ROW_JSON` and `AGENDA`."""

    row: RowKey
    order: tuple[bool, str, Decimal, str]  # most urgent first (`assess.urgency`)
    piece: Piece
    share: Totals  # its share of the dashboard's totals


# the last parts of a case's pieces, after its export lines
ROW = -4  # its whole dashboard row (`CaseRow`), pickled: for a template that lists rows
ROW_HTML = -3  # its row of the plain-HTML table pages
ROW_JSON = -2  # its row of the dashboard's windowed table (`table_data.row_json`)
AGENDA = -1  # its agenda item, empty when nothing is due


class LetterPages(NamedTuple):
    """One letter of a case, rendered: what its template saw as `letter` (its channel, its
    deadline, …), its printable page and its plain text."""

    letter: Letter
    html: str
    text: str


# the subject line of the letters' layout (`letters/_letter.html`), less its label
_SUBJECT = re.compile(r'<p class="subject"><span class="label">[^<]*</span>(.*?)</p>', re.S)
_TAG = re.compile(r"<[^>]*>")


def letter_subject(page: str) -> str | None:
    """The subject of a letter's page as plain text, without "Oggetto:" or "Subject:"; None
    when the page has no subject line (a template that replaces the layout)."""
    found = _SUBJECT.search(page)
    if found is None:
        return None
    return " ".join(htmllib.unescape(_TAG.sub("", found.group(1))).split()) or None


class Renderer:
    """Renders the pages of single cases, in the process that builds the site and in the
    workers forked from it (made, and its templates compiled, before they fork). With `pdf`,
    `write_case` writes each letter as a PDF too, and the case page links it. Each case's
    pieces of the whole-site files go to a file of the rendering process's own in `pieces`
    (the casebook's cache folder unless told)."""

    def __init__(self, root: Path, config: Config, today: date,
                 history: dict[str, tuple[Commit, ...]], *, pdf: bool = False,
                 pieces: Path | None = None) -> None:
        self.root, self.config, self.today, self.history = root, config, today, history
        self.pdf = pdf
        self.pieces = PieceWriter(pieces or cache_folder(root))
        self.interest = interest_context(config.interest, today)
        self.env = environment(root, config.locale, config.currency)
        self.text_env = environment(root, config.locale, config.currency, text=True)
        self._folders: set[Path] = set()

    def view(self, case: Case, letters: tuple[str, ...] | None = None) -> CaseView:
        return self._assessed(case, letters)[0]

    def _assessed(self, case: Case, letters: tuple[str, ...] | None = None
                  ) -> tuple[CaseView, dict[str, Any]]:
        """The case's view and its export row, from one assessment."""
        assessment = assess_case(case, self.config, self.today)
        interest = interest_for_case(case, self.interest)
        view = case_view(assessment.situation, assessment.action, interest,
                         self.history.get(case.path, ()), said=assessment.said)
        sources = self.sources(case)
        if sources:
            to_letters = "../" * (case.id.count("/") + 1) + f"letters/{case.id}/"
            view = dataclasses.replace(view, attachments={
                name: to_letters + urllib.parse.quote(name) for name in sources})
        wanted = letters if letters is not None else letters_for(
            view, self.config.policy_for(case))
        if wanted:
            depth = case.id.count("/") + 1
            names = labels(self.config.locale)
            folder = "../" * depth + f"letters/{case.id}/"
            view = dataclasses.replace(view, letters=tuple(
                LetterLink(id=name, title=names.get(f"letter.{name}", name),
                           href=f"{folder}{name}.html",
                           pdf=f"{folder}{name}.pdf" if self.pdf else None)
                for name in wanted))
        return view, export_fields(assessment, interest)

    def sources(self, case: Case) -> dict[str, Path]:
        """The case's e-invoice files (`source`) that are files inside the casebook, by the
        name they take beside its letters (the first of two with the same name)."""
        found: dict[str, Path] = {}
        real_root = os.path.realpath(self.root)
        for invoice in case.invoices:
            name = source_name(invoice.source)
            if invoice.source is None or name is None or name in found:
                continue
            path = self.root / invoice.source
            if path.is_file() and os.path.realpath(path).startswith(real_root + os.sep):
                found[name] = path
        return found

    def forget_folders(self) -> None:
        self._folders.clear()

    def prepare(self) -> None:
        """Compile every template once, here, so the worker processes forked after this
        inherit them instead of each compiling its own (and, making PDFs, WeasyPrint loaded)."""
        locale = self.config.locale
        for name in ("case.html", "_case_row.html", "_agenda_item.html"):
            self.env.get_template(name)
        for name in (*LADDER_LETTERS, *EXTRA_LETTERS):
            self.env.get_template(f"letters/{locale}/{name}.html")
            self.text_env.get_template(f"letters/{locale}/{name}.txt")
        if self.pdf:
            require_pdf()
        self.pieces.prepare()

    def case_page(self, view: CaseView) -> str:
        base = "../" * (view.id.count("/") + 1)
        return self.env.get_template("case.html").render(
            case=view, creditor=self.config.creditor, base=base, today=self.today)

    def letter(self, view: CaseView, name: str, fmt: str = "html") -> str:
        """A letter as a printable page ("html", which carries the plain text too, ready to
        copy into an e-mail or a PEC message) or as that plain text alone ("txt")."""
        pages = self.letter_pages(view, name, page=fmt == "html")
        return pages.html if fmt == "html" else pages.text

    def letter_pages(self, view: CaseView, name: str, *, page: bool = True) -> LetterPages:
        """A letter's context, its printable page and its plain text, from one rendering
        (without `page`, the plain text alone: `html` is empty)."""
        base = "../" * (view.id.count("/") + 2)
        letter = letter_context(view, name, self.config)
        context = {"case": view, "creditor": self.config.creditor, "today": self.today,
                   "base": base, "letter": letter, "lawyer": self.config.lawyer}
        folder = f"letters/{self.config.locale}/{name}"
        text = self.text_env.get_template(f"{folder}.txt").render(context)
        html = ""
        if page:
            html = self.env.get_template(f"{folder}.html").render(context, plain_text=text)
        return LetterPages(letter=letter, html=html, text=text)

    def subject(self, page: str, name: str) -> str:
        """Letter `name`'s subject, read from its page; its title when the page has none."""
        return letter_subject(page) or labels(self.config.locale).get(f"letter.{name}", name)

    def make_pdf(self, page: str, name: str) -> bytes:
        """A letter's page as a PDF: its subject for title, the creditor as author."""
        return letter_pdf(page, self.today, title=self.subject(page, name),
                          author=self.config.creditor.name)

    def render_case(self, case: Case) -> tuple[dict[str, str], CaseOutput]:
        """The case's files (path in the site → text) and what the whole-site files need."""
        _, files, output = self._render(case)
        return files, output

    def _render(self, case: Case) -> tuple[CaseView, dict[str, str], CaseOutput]:
        view, export = self._assessed(case)
        files = {f"cases/{case.id}.html": self.case_page(view)}
        for link in view.letters:
            files[f"letters/{case.id}/{link.id}.html"] = self.letter(view, link.id)
        row = case_row(view)
        agenda = ""
        if row.due_by(self.today):
            agenda = self._partial("_agenda_item.html", row)
        parts = (*case_lines(export, view.reason, self.today, self.config),
                 pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL),
                 self._partial("_case_row.html", row).encode(),
                 row_json(row, self.env, self.today), agenda.encode())
        due, when, overdue, cid = urgency(export)
        output = CaseOutput(row=row.key, order=(due, when, shared_zero(overdue), cid),
                            piece=self.pieces.put(parts), share=row.share())
        return view, files, output

    def _partial(self, name: str, row: CaseRow) -> str:
        """The case's row of the dashboard table or its agenda item, rendered here rather
        than in one long loop over every case."""
        return self.env.get_template(name).render(row=row, base="", today=self.today)

    def write_case(self, case: Case, out: Path) -> CaseOutput:
        """Render the case into the site folder `out`, with each letter's PDF beside its page
        when the renderer makes PDFs."""
        view, files, output = self._render(case)
        for name, text in files.items():
            self._write(out / name, text.encode("utf-8"))
        for link in view.letters if self.pdf else ():
            page = files[f"letters/{case.id}/{link.id}.html"]
            self._write(out / "letters" / case.id / f"{link.id}.pdf",
                        self.make_pdf(page, link.id))
        for name, path in self.sources(case).items():  # the e-invoices the letters enclose
            target = out / "letters" / case.id / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:  # another file system, or no hard links
                shutil.copyfile(path, target)
        return output

    def unwrite_case(self, relative: str, out: Path) -> None:
        """Take out of the site folder `out` what `write_case` wrote there for the case file
        `relative` (which the casebook's checks then refused)."""
        cid = case_id(relative)
        (out / "cases" / f"{cid}.html").unlink(missing_ok=True)
        shutil.rmtree(out / "letters" / cid, ignore_errors=True)
        self._folders.discard(out / "letters" / cid)

    def _write(self, path: Path, data: bytes) -> None:
        """A new file in the staging folder, written with bare system calls (Python's text
        file would add an fstat, a terminal check and a seek to each of many files)."""
        folder = path.parent
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
        try:
            write_all(fd, data)
        finally:
            os.close(fd)

