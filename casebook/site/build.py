"""`casebook build`: the dashboard, a page per case, the letters and the exports, as a static site.

The site is built into a fresh folder beside the output and swapped in whole, so a failed or
interrupted build leaves the last good site. Each case is rendered in the worker that parses it
(see `loader.Task`); a case whose file, config, templates, day and git history are unchanged is
not rendered again: its pages are hard-linked from the previous site. Output is deterministic:
the same input and day give the same bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from importlib import resources
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

import jinja2
from markupsafe import Markup

from casebook import __version__
from casebook.history import commits as githistory
from casebook.load.assess import assess_case, urgency
from casebook.atomic import write_all
from casebook.load.checks import check
from casebook.diagnostics import Diagnostic, Severity, ordered
from casebook.read.discover import template_dirs
from casebook.site.formats import (
    CSV_DIALECTS,
    csv_cells,
    csv_cells_line,
    export_fields,
    ics_event,
    join_csv,
    join_ics,
    json_line,
)
from casebook.engine.interest import interest_context, interest_for_case
from casebook.site.letters import (
    EXTRA_LETTERS,
    LADDER_LETTERS,
    letter_context,
    letters_for,
)
from casebook.site.letters import place_of as place_of
from casebook.load.loader import Casebook, Task, case_id, load
from casebook.model import Case, Config, Policy
from casebook.site.render import environment, labels
from casebook.site.sitefolder import (
    Chunks,
    build_lock,
    clear_leftovers,
    read_stamp,
    swap,
    trash_folder,
    umask,
    write_stamp,
)
from casebook.site.views import (
    AGENDA_MARK,
    TABLE_MARK,
    CaseRow,
    CaseView,
    Commit,
    LetterLink,
    SiteLists,
    SiteView,
    Sums,
    add_sums,
    case_row,
    case_view,
    row_sums,
)

OUTPUT_FORMAT = 5  # of `CaseOutput`, kept in the results cache: a change makes the cache stale


class CaseOutput(NamedTuple):
    """What the whole-site files need from one case, made (and encoded) where the case is
    rendered: its dashboard row and order, its pieces of the dashboard and of each export."""

    row: CaseRow
    order: tuple[bool, str, Decimal, str]  # most urgent first (`assess.urgency`)
    json: bytes
    csv: bytes
    csv_excel: bytes  # its row of cases-excel.csv; empty unless the locale is `it`
    ics: bytes  # empty without a due date
    row_html: bytes
    agenda_html: bytes  # empty when nothing is due
    sums: Sums  # its share of the dashboard's totals (`views.row_sums`)


@dataclass
class BuildResult:
    out: Path
    diagnostics: list[Diagnostic]
    cases: int = 0
    rendered: int = 0  # cases rendered now (the rest were unchanged)
    invalid: list[str] = field(default_factory=list)
    written: bool = False  # the site was replaced (or updated in place)
    in_place: bool = False  # only the changed cases' files, the dashboard and exports written
    # what an in-place update (`casebook.site.incremental`) starts from: the loaded casebook with
    # each case's (row, export, dashboard row) as results, and the build's stamp
    casebook: Casebook | None = field(default=None, repr=False)
    stamp: str = ""


class BuildFailed(Exception):
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("the casebook has errors")
        self.diagnostics = diagnostics


# -- one case -------------------------------------------------------------------------------


class Renderer:
    """Renders the pages of single cases; one per process, made lazily after the fork."""

    def __init__(self, root: Path, config: Config, today: date,
                 history: dict[str, tuple[Commit, ...]]) -> None:
        self.root, self.config, self.today, self.history = root, config, today, history
        self.interest = interest_context(config.interest, today)
        self._env: jinja2.Environment | None = None
        self._text_env: jinja2.Environment | None = None
        self._folders: set[Path] = set()

    @property
    def env(self) -> jinja2.Environment:
        if self._env is None:
            self._env = environment(self.root, self.config.locale, self.config.currency)
        return self._env

    @property
    def text_env(self) -> jinja2.Environment:
        if self._text_env is None:
            self._text_env = environment(self.root, self.config.locale, self.config.currency,
                                         text=True)
        return self._text_env

    def view(self, case: Case, letters: tuple[str, ...] | None = None) -> CaseView:
        return self._assessed(case, letters)[0]

    def _assessed(self, case: Case, letters: tuple[str, ...] | None = None
                  ) -> tuple[CaseView, dict[str, Any]]:
        """The case's view and its export row, from one assessment."""
        assessment = assess_case(case, self.config, self.today)
        interest = interest_for_case(case, self.interest)
        view = case_view(assessment.situation, assessment.action, interest,
                         self.history.get(case.path, ()), said=assessment.said)
        wanted = letters if letters is not None else letters_for(
            view, self.config.policy_for(case))
        if wanted:
            depth = case.id.count("/") + 1
            names = labels(self.config.locale)
            view = dataclasses.replace(view, letters=tuple(
                LetterLink(id=name, title=names.get(f"letter.{name}", name),
                           href="../" * depth + f"letters/{case.id}/{name}.html")
                for name in wanted))
        return view, export_fields(assessment, interest)

    def forget_folders(self) -> None:
        self._folders.clear()

    def prepare(self) -> None:
        """Compile every template once, here, so the worker processes forked after this
        inherit them instead of each compiling its own."""
        locale = self.config.locale
        for name in ("case.html", "_case_row.html", "_agenda_item.html"):
            self.env.get_template(name)
        for name in (*LADDER_LETTERS, *EXTRA_LETTERS):
            self.env.get_template(f"letters/{locale}/{name}.html")
            self.text_env.get_template(f"letters/{locale}/{name}.txt")

    def case_page(self, view: CaseView) -> str:
        base = "../" * (view.id.count("/") + 1)
        return self.env.get_template("case.html").render(
            case=view, creditor=self.config.creditor, base=base, today=self.today)

    def letter(self, view: CaseView, name: str, fmt: str = "html") -> str:
        """A letter as a printable page ("html", which carries the plain text too, ready to
        copy into an e-mail or a PEC message) or as that plain text alone ("txt")."""
        base = "../" * (view.id.count("/") + 2)
        context = {"case": view, "creditor": self.config.creditor, "today": self.today,
                   "base": base, "letter": letter_context(view, name, self.config)}
        folder = f"letters/{self.config.locale}/{name}"
        text = self.text_env.get_template(f"{folder}.txt").render(context)
        if fmt != "html":
            return text
        return self.env.get_template(f"{folder}.html").render(context, plain_text=text)

    def dashboard_row(self, row: CaseRow) -> Markup:
        """The case's row of the dashboard table, rendered here rather than in one long loop."""
        html = self.env.get_template("_case_row.html").render(row=row, base="", today=self.today)
        return Markup(html)

    def render_case(self, case: Case) -> tuple[dict[str, str], CaseOutput]:
        """The case's files (path in the site → text) and what the whole-site files need."""
        view, export = self._assessed(case)
        files = {f"cases/{case.id}.html": self.case_page(view)}
        for link in view.letters:
            files[f"letters/{case.id}/{link.id}.html"] = self.letter(view, link.id)
        row = case_row(view)
        agenda = ""
        if row.due_by(self.today):
            agenda = self.env.get_template("_agenda_item.html").render(
                row=row, base="", today=self.today)
        cells = csv_cells(export)
        output = CaseOutput(
            row=row, order=urgency(export), json=json_line(export).encode(),
            csv=csv_cells_line(cells).encode(), csv_excel=self._excel_line(cells),
            ics=ics_event(export, self.today, view.reason, self.config).encode(),
            row_html=self.dashboard_row(row).encode(), agenda_html=agenda.encode(),
            sums=row_sums(row))
        return files, output

    def _excel_line(self, cells: list[str]) -> bytes:
        if self.config.locale != "it":
            return b""
        return csv_cells_line(cells, CSV_DIALECTS["excel-it"]).encode()

    def write_case(self, case: Case, out: Path) -> CaseOutput:
        files, output = self.render_case(case)
        for name, text in files.items():
            self._write(out / name, text)
        return output

    def _write(self, path: Path, text: str) -> None:
        """A new file in the staging folder. Written with bare system calls: Python's text
        file would add an fstat, a terminal check and a seek to each of some 30,000 files."""
        folder = path.parent
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
        try:
            write_all(fd, text.encode("utf-8"))
        finally:
            os.close(fd)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# -- the whole site ----------------------------------------------------------------------------

_RENDERER: Renderer | None = None


def _render_task(case: Case, config: Config, staging: Path) -> CaseOutput:
    assert _RENDERER is not None
    return _RENDERER.write_case(case, staging)


def contained_files(folder: Path) -> list[Path]:
    """The files under `folder` that really are inside it: a link to a file elsewhere
    (`templates/assets/x.css -> /etc/passwd`) is neither read nor published."""
    real = os.path.realpath(folder)
    return [p for p in sorted(folder.rglob("*"))
            if p.is_file() and os.path.realpath(p).startswith(real + os.sep)]


def templates_key(root: Path) -> str:
    """A digest of every template that can be used, shipped or the casebook's own."""
    digest = hashlib.blake2b(__version__.encode(), digest_size=16)
    for folder in template_dirs(root):
        for path in contained_files(Path(folder)):
            digest.update(str(path.relative_to(folder)).encode() + b"\0")
            digest.update(path.read_bytes())
    for data in ("labels.yml", "reasons.yml"):  # the interface's words and the reasons'
        digest.update(resources.files("casebook").joinpath("data", data).read_bytes())
    return digest.hexdigest()


def build(root: Path, today: date, out: Path | None = None, *, keep_going: bool = False,
          progress: Callable[[int, int], None] | None = None,
          reuse_site: bool = True) -> BuildResult:
    """Render the site into `out` (default `root/site`); raise BuildFailed on errors unless
    `keep_going`, in which case the invalid files are left out and listed on the dashboard.

    With `reuse_site` (the default), a site built from the same inputs is left as it is and
    the result has no `casebook`; without it, the site is put together again (from the
    results of the last build, where they hold) and the result carries them."""
    out = (out or root / "site").resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(out):
        clear_leftovers(out, trash_folder(root))
        return _build(root, today, out, keep_going, progress, reuse_site)


def _build(root: Path, today: date, out: Path, keep_going: bool,
           progress: Callable[[int, int], None] | None, reuse_site: bool) -> BuildResult:
    global _RENDERER
    stamp = "|".join((today.isoformat(), templates_key(root), githistory.head(root) or "-",
                      f"keep-going={keep_going}", f"format={OUTPUT_FORMAT}"))
    previous, previous_inputs, dirty = read_stamp(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.build-{os.getpid()}-", dir=out.parent))
    os.chmod(staging, 0o777 & ~umask())  # mkdtemp makes it private; a site is not
    try:
        from casebook.load.loader import load_config

        config, _, config_bytes = load_config(root)
        if previous == stamp and reuse_site:  # the same day, templates and history
            current = load(root)  # cheap when warm: the validation cache answers
            if previous_inputs == inputs_key(current, config_bytes) and not dirty:
                diagnostics = ordered(check(current, today))
                invalid = sorted({d.path for d in diagnostics if d.severity is Severity.ERROR})
                return BuildResult(out=out, diagnostics=diagnostics, invalid=invalid,
                                   cases=sum(1 for f in current.files if f.valid) - len(invalid))
        _RENDERER = Renderer(root, config, today, githistory.histories(root))
        _RENDERER.prepare()
        task = Task(f"build@{stamp}", partial(_render_task, staging=staging))
        # cases updated in place since the last full build: their cached results are stale
        casebook = load(root, task=task, use_results=previous == stamp, rerun=dirty,
                        progress=progress)
        inputs = inputs_key(casebook, config_bytes)
        try:
            result = _finish(casebook, today, out, staging, keep_going)
        except _PreviousIncomplete:  # a page to reuse is gone: render every case afresh,
            # into an empty folder (the pages linked so far are the live site's own files)
            shutil.rmtree(staging)
            staging.mkdir()
            _RENDERER.forget_folders()
            casebook = load(root, task=task, use_results=False, progress=progress)
            result = _finish(casebook, today, out, staging, keep_going)
        write_stamp(staging, stamp, inputs)
        swap(staging, out, trash_folder(root))
        result.stamp = stamp
        return result
    finally:
        _RENDERER = None
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def inputs_key(casebook: Casebook, config_bytes: bytes | None) -> str:
    """A digest of every input file's content: equal keys, equal sites (with equal stamps)."""
    digest = hashlib.blake2b(config_bytes or b"", digest_size=16)
    for summary in casebook.files:
        digest.update(f"{summary.path}\0{summary.key}\n".encode())
    return digest.hexdigest()


def _finish(casebook: Casebook, today: date, out: Path, staging: Path,
            keep_going: bool) -> BuildResult:
    diagnostics = ordered(check(casebook, today))
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors and not keep_going:
        raise BuildFailed(diagnostics)
    invalid = sorted({d.path for d in errors})
    outputs: list[CaseOutput] = []
    rendered = 0
    for summary in casebook.files:
        if summary.path in invalid:
            _remove_case(staging, case_id(summary.path))  # rendered before a casebook-wide check
            continue
        if summary.path not in casebook.results:
            continue
        output: CaseOutput = casebook.results[summary.path]
        outputs.append(output)
        if not _rendered_now(staging, output.row.id):
            _link_previous(out, staging, output.row.id)
        else:
            rendered += 1
    first_error = {p: next(d.message for d in errors if d.path == p) for p in invalid}
    _write_site(casebook, outputs, tuple((p, first_error[p]) for p in invalid), today, staging)
    return BuildResult(out=out, diagnostics=diagnostics, cases=len(outputs), rendered=rendered,
                       invalid=invalid, written=True, casebook=casebook)


def _write_site(casebook: Casebook, outputs: list[CaseOutput],
                invalid: tuple[tuple[str, str], ...], today: date, staging: Path) -> None:
    for name, chunks in site_files(casebook, outputs, invalid, today).items():
        with open(staging / name, "wb") as handle:
            handle.writelines(chunks)
    for folder in reversed(template_dirs(casebook.root)):  # the casebook's own win
        source = Path(folder) / "assets"
        if source.is_dir():
            for path in contained_files(source):
                target = staging / "assets" / path.relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)


class SiteOrder(NamedTuple):
    """The cases' outputs in the orders the whole-site files need, and the lists the
    dashboard shows, when the caller keeps them up to date (`incremental`)."""

    ranked: list[CaseOutput]  # most urgent first
    by_case: list[CaseOutput]  # by case id
    lists: SiteLists


def site_files(casebook: Casebook, outputs: Sequence[CaseOutput],
               invalid: tuple[tuple[str, str], ...], today: date,
               env: jinja2.Environment | None = None, sums: Sums | None = None,
               order: SiteOrder | None = None) -> dict[str, Chunks]:
    """The dashboard and the exports, from every case's output: file name in the site →
    its content in pieces. The cases' pieces are used as they come, never joined or
    encoded again: at 10,000 cases the dashboard alone is some 20 MB. With `order`, the
    outputs are taken in its orders rather than sorted here."""
    config = casebook.config
    env = env or environment(casebook.root, config.locale, config.currency)
    ranked = order.ranked if order else sorted(outputs, key=attrgetter("order"))
    if sums is None:
        sums = add_sums(o.sums for o in outputs)
    site = SiteView(today=today, rows=tuple(o.row for o in ranked), invalid=invalid,
                    prerendered=True, sums=sums, known=order.lists if order else None)
    index = env.get_template("index.html").render(site=site, creditor=config.creditor,
                                                  base="", today=today)
    pieces = {AGENDA_MARK: [o.agenda_html for o in ranked],
              TABLE_MARK: [o.row_html for o in ranked]}
    by_case = order.by_case if order else sorted(outputs, key=lambda o: o.row.id)
    files = {
        "index.html": _spliced(index, pieces),
        "casebook.json": _joined(b"[\n", [o.json for o in by_case], b",\n", b"\n]\n", b"[]\n"),
        "cases.csv": [join_csv([]).encode(), *(o.csv for o in by_case)],
        "actions.ics": _ics_chunks(join_ics([]).encode(), [o.ics for o in ranked]),
    }
    if config.locale == "it":  # Excel in Italian opens a comma-separated file in one column
        excel = CSV_DIALECTS["excel-it"]
        files["cases-excel.csv"] = [join_csv([], excel).encode(), *(o.csv_excel for o in by_case)]
    return files


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


def _joined(head: bytes, items: list[bytes], separator: bytes, tail: bytes,
            empty: bytes) -> Chunks:
    if not items:
        return [empty]
    chunks = [head]
    for item in items:
        chunks += (item, separator)
    chunks[-1] = tail
    return chunks


def _ics_chunks(empty: bytes, events: list[bytes]) -> Chunks:
    """The calendar's head, the events, its end (`join_ics` of no events is head and end)."""
    end = b"END:VCALENDAR\r\n"
    return [empty[:-len(end)], *events, end]


def _rendered_now(staging: Path, case_id: str) -> bool:
    return (staging / "cases" / f"{case_id}.html").exists()


def _remove_case(staging: Path, case_id_: str) -> None:
    (staging / "cases" / f"{case_id_}.html").unlink(missing_ok=True)
    shutil.rmtree(staging / "letters" / case_id_, ignore_errors=True)


class _PreviousIncomplete(Exception):
    """The previous site lacks a page that was to be reused (someone deleted it)."""


def _link_previous(out: Path, staging: Path, case_id: str) -> None:
    """Hard-link an unchanged case's page and letters from the previous site. At 10,000 cases
    this is 30,000 links, so each costs as few system calls as can be: a folder is made only
    when a link finds it missing, and the letters are listed without a stat each."""
    if not _link(f"{out}/cases/{case_id}.html", f"{staging}/cases/{case_id}.html"):
        raise _PreviousIncomplete(case_id)
    try:
        letters = os.scandir(f"{out}/letters/{case_id}")
    except (FileNotFoundError, NotADirectoryError):
        return
    with letters:
        for entry in letters:
            if entry.is_file(follow_symlinks=False):
                _link(entry.path, f"{staging}/letters/{case_id}/{entry.name}")


def _link(source: str, target: str) -> bool:
    """Link (else copy) `source` to `target`, making its folder if need be; False when
    `source` is not there."""
    try:
        os.link(source, target)
    except FileNotFoundError:
        if not os.path.isfile(source):
            return False
        os.makedirs(os.path.dirname(target), exist_ok=True)
        _link_or_copy(source, target)
    except OSError:  # a file system without hard links
        shutil.copy2(source, target)
    return True


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # no hard links here (a copy of a file gone since fails as well)
        shutil.copy2(source, target)
