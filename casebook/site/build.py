"""`casebook build`: the dashboard, a page per case, the letters and the exports, as a static site.

The orchestrator: load → check → render each valid case → assemble the whole-site files →
swap. The site is built into a fresh folder beside the output and swapped in whole, so a failed
or interrupted build leaves the last good site. A case whose file, config, templates, day and
own file's git history are unchanged is not rendered again: its pages are hard-linked from the
previous site. A commit renders again only the cases it touched: the site's stamp holds no
HEAD, and each case's cached result is keyed by its file's history (`commits.Histories`).
When at most `IN_PLACE_MAX` cases were rendered, the site is not put together again: their
files, the whole-site files and the stamp are moved into it where it stands, under a journal
that the next build finishes if this one is killed (`sitefolder.update_in_place`). A build
that never put its site in place says which cases it rendered, so the next one does not take
their cached results (`sitefolder.start_building`). Output is deterministic: the same input and
day give the same bytes, by either road. With `pdf`, each letter's PDF is made beside its page,
by the worker that renders the case.
"""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

from casebook.diagnostics import Diagnostic, Severity, ordered
from casebook.history import commits
from casebook.load.cache import code_key
from casebook.load.casebook import Casebook, Task
from casebook.load.loader import case_id, load, load_config
from casebook.model import Case, Config
from casebook.read.discover import template_dirs
from casebook.site.assemble import site_files, stale_files, write_site
from casebook.site.pages import CaseOutput, Renderer
from casebook.site.pdf import require_pdf
from casebook.site.pieces import PieceReader, PiecesLost, collect, sync_all
from casebook.site.sitefolder import (
    STAMP_FILE,
    PreviousIncomplete,
    build_lock,
    building_rendered,
    clear_leftovers,
    contained_files,
    done_building,
    finish_update,
    link_previous,
    read_stamp,
    start_building,
    swap,
    trash_folder,
    umask,
    update_in_place,
    write_stamp,
)
from casebook.site.state import SiteState


@dataclass
class BuildResult:
    out: Path
    diagnostics: list[Diagnostic]
    cases: int = 0
    rendered: int = 0  # cases rendered now (the rest were unchanged)
    invalid: list[str] = field(default_factory=list)
    written: bool = False  # the site was replaced (or updated in place)
    in_place: bool = False  # only the changed cases' files, the dashboard and exports written
    # what an in-place update (`casebook.site.incremental`) starts from
    casebook: Casebook[CaseOutput] | None = field(default=None, repr=False)
    state: SiteState | None = field(default=None, repr=False)
    renderer: Renderer | None = field(default=None, repr=False)
    stamp: str = ""
    history: str = ""  # the key of the case files' git history it was built from
    reader: PieceReader | None = field(default=None, repr=False)  # the cases' pieces


IN_PLACE_MAX = 50  # cases rendered that a build still puts into the site where it stands


class BuildFailed(Exception):
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("the casebook has errors")
        self.diagnostics = diagnostics


def templates_key(root: Path) -> str:
    """A digest of every template that can be used, shipped or the casebook's own, and of
    the code and data that render them."""
    digest = hashlib.blake2b(code_key().encode(), digest_size=16)
    for folder in template_dirs(root):
        for path in contained_files(Path(folder)):
            digest.update(str(path.relative_to(folder)).encode() + b"\0")
            digest.update(path.read_bytes())
    for data in ("labels.yml", "reasons.yml"):  # the interface's words and the reasons'
        digest.update(resources.files("casebook").joinpath("data", data).read_bytes())
    return digest.hexdigest()


def build_stamp(root: Path, today: date, keep_going: bool, pdf: bool) -> str:
    """What a site is built from besides its inputs: the day, the templates and the options
    (`--shard` writes it too, and `--merge` checks it)."""
    return "|".join((today.isoformat(), templates_key(root), f"keep-going={keep_going}",
                     f"pdf={pdf}"))


def inputs_key(casebook: Casebook[Any], config_bytes: bytes | None, history: str) -> str:
    """A digest of every input file's content, then the key of the case files' git history
    (`commits.Histories.key`): equal keys, equal sites (with equal stamps)."""
    digest = hashlib.blake2b(config_bytes or b"", digest_size=16)
    for summary in casebook.files:
        digest.update(f"{summary.path}\0{summary.key}\n".encode())
    return f"{digest.hexdigest()}:{history or '-'}"


def build(root: Path, today: date, out: Path | None = None, *, keep_going: bool = False,
          progress: Callable[[int, int], None] | None = None,
          reuse_site: bool = True, pdf: bool = False) -> BuildResult:
    """Render the site into `out` (default `root/site`); raise BuildFailed on errors unless
    `keep_going`, in which case the invalid files are left out and listed on the dashboard.
    With `pdf`, every letter gets its PDF beside it (PdfUnavailable, before anything is
    written, when WeasyPrint cannot be loaded).

    With `reuse_site` (the default), a site built from the same inputs is left as it is and
    the result has no `state`; without it, the site is put together again (from the
    results of the last build, where they hold) and the result carries its state."""
    if pdf:
        require_pdf()
    out = (out or root / "site").resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(out), _no_cyclic_collection():
        finish_update(root, out)  # one a killed build left half-way
        clear_leftovers(out, trash_folder(root))
        return _build(root, today, out, keep_going, progress, reuse_site, pdf)


@contextmanager
def _no_cyclic_collection() -> Iterator[None]:
    """A build holds every case's output and makes no reference cycles worth collecting:
    the cyclic collector would only rescan them, again and again (as `load` does)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build(root: Path, today: date, out: Path, keep_going: bool,
           progress: Callable[[int, int], None] | None, reuse_site: bool,
           pdf: bool) -> BuildResult:
    # a site with PDFs and one without differ in every case's files: neither reuses the other;
    # no HEAD: a commit changes only the histories of the files it touched (`history.keys`)
    stamp = build_stamp(root, today, keep_going, pdf)
    previous, previous_inputs, dirty = read_stamp(out)
    config, _, config_bytes = load_config(root)
    history = commits.read_histories(root)
    left = start_building(root, out)  # what a build that never put its site in place cached
    fresh = left is None or previous != stamp
    # cases updated in place by `watch` since, or rendered by a build whose site never came:
    # their cached results are not the site's
    rerun = dirty | (left or frozenset())
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.build-{os.getpid()}-", dir=out.parent))
    os.chmod(staging, 0o777 & ~umask())  # mkdtemp makes it private; a site is not
    try:
        renderer = Renderer(root, config, today, history.by_path, pdf=pdf)
        renderer.prepare()  # compiled once, before the workers fork
        named: set[str] = set()  # the pieces files the cached results name
        task = Task("build", stamp, partial(_render, renderer, staging), keys=history.keys,
                    undo=lambda relative, _output: renderer.unwrite_case(relative, staging),
                    saving=partial(_pieces_kept, renderer, named))
        casebook = load(root, today, task, fresh=fresh, rerun=rerun, progress=progress)
        collect(renderer.pieces.folder, named)
        inputs = inputs_key(casebook, config_bytes, history.key)
        if not fresh and not rerun and reuse_site and inputs == previous_inputs:
            done_building(root, out)  # the site is built from these inputs: left as it is
            diagnostics, _, invalid = _checked(casebook, keep_going=True)
            return BuildResult(out=out, diagnostics=diagnostics, invalid=invalid,
                               cases=len(casebook.results))
        building_rendered(root, out, frozenset(_rendered(casebook, staging)))
        reader = PieceReader([renderer.pieces.folder])
        result = None if fresh else _in_place(casebook, out, staging, keep_going, renderer,
                                              reader, stamp, inputs)
        if result is None:
            def afresh() -> Casebook[CaseOutput]:
                start_building(root, out)  # every result cached again: none holds if killed
                return load(root, today, task, fresh=True, progress=progress)

            result = _new_site(casebook, out, staging, keep_going, renderer, reader, afresh)
            write_stamp(staging, stamp, inputs_key(result.casebook or casebook, config_bytes,
                                                   history.key))
            swap(staging, out, trash_folder(root))
        done_building(root, out)
        result.stamp, result.history, result.reader = stamp, history.key, reader
        return result
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _new_site(casebook: Casebook[CaseOutput], out: Path, staging: Path, keep_going: bool,
              renderer: Renderer, reader: PieceReader,
              afresh: Callable[[], Casebook[CaseOutput]]) -> BuildResult:
    """The whole new site in `staging`: the cases rendered now, the others' pages linked
    from the previous site, the whole-site files."""
    try:
        return _finish(casebook, out, staging, keep_going, renderer, reader)
    except (PreviousIncomplete, PiecesLost):  # a page or a piece to reuse is gone: render
        # every case afresh, into an empty folder (the pages linked so far are the live
        # site's own files)
        shutil.rmtree(staging)
        staging.mkdir()
        renderer.forget_folders()
        return _finish(afresh(), out, staging, keep_going, renderer, reader)


def _render(renderer: Renderer, staging: Path, case: Case, _config: Config) -> CaseOutput:
    return renderer.write_case(case, staging)


def _pieces_kept(renderer: Renderer, named: set[str], kept: Iterable[CaseOutput]) -> None:
    """Before the cache names them: the pieces files of the results it keeps on disk."""
    named.update(output.piece.file for output in kept)
    sync_all(renderer.pieces.folder, named)


def _checked(casebook: Casebook[CaseOutput], keep_going: bool
             ) -> tuple[list[Diagnostic], list[Diagnostic], list[str]]:
    """The diagnostics, the errors and the invalid files; BuildFailed on an error unless
    `keep_going`."""
    diagnostics = ordered(casebook.checked)
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors and not keep_going:
        raise BuildFailed(diagnostics)
    return diagnostics, errors, sorted({d.path for d in errors})


def _finish(casebook: Casebook[CaseOutput], out: Path, staging: Path, keep_going: bool,
            renderer: Renderer, reader: PieceReader) -> BuildResult:
    """Link the pages of the cases not rendered now, and write the whole-site files."""
    diagnostics, errors, invalid = _checked(casebook, keep_going)
    rendered = 0
    for output in casebook.results.values():
        if (staging / "cases" / f"{output.row.id}.html").exists():
            rendered += 1
        else:
            link_previous(out, staging, output.row.id)
    first_error = {p: next(d.message for d in errors if d.path == p) for p in invalid}
    state = SiteState.of(renderer.today, casebook.results,
                         tuple((p, first_error[p]) for p in invalid))
    write_site(state, casebook.config, renderer.env, casebook.root, staging, reader)
    return BuildResult(out=out, diagnostics=diagnostics, cases=len(casebook.results),
                       rendered=rendered, invalid=invalid, written=True, casebook=casebook,
                       state=state, renderer=renderer)


def _rendered(casebook: Casebook[CaseOutput], staging: Path) -> list[str]:
    """The case files rendered now, whose pages are in `staging` (the rest were cached)."""
    paths = {output.row.id: path for path, output in casebook.results.items()}
    return [paths[cid] for cid in _site_cases(staging) if cid in paths]


def _in_place(casebook: Casebook[CaseOutput], out: Path, staging: Path, keep_going: bool,
              renderer: Renderer, reader: PieceReader, stamp: str, inputs: str
              ) -> BuildResult | None:
    """Put the few cases rendered now, the whole-site files and the stamp into the site
    where it stands, and take out the pages of the cases gone (`sitefolder.update_in_place`);
    None when a new site must be put together instead: more than `IN_PLACE_MAX` cases
    rendered, or a page or a piece to keep is missing."""
    diagnostics, errors, invalid = _checked(casebook, keep_going)
    ids = {output.row.id for output in casebook.results.values()}
    rendered = {case_id(path) for path in _rendered(casebook, staging)}
    if len(rendered) > IN_PLACE_MAX or not (out / STAMP_FILE).is_file():
        return None
    present = _site_cases(out)
    if not ids - rendered <= present:
        return None
    puts: list[str] = []
    drops: list[str] = []
    for cid in sorted(rendered):
        new = _files_in(staging / "letters" / cid)
        puts.extend(f"letters/{cid}/{name}" for name in sorted(new))
        puts.append(f"cases/{cid}.html")
        drops.extend(f"letters/{cid}/{name}" for name in sorted(_files_in(out / "letters" / cid)
                                                                 - new))
    for cid in sorted(present - ids):
        drops.append(f"cases/{cid}.html")
        drops.extend(f"letters/{cid}/{name}" for name in sorted(_files_in(out / "letters" / cid)))
    first_error = {p: next(d.message for d in errors if d.path == p) for p in invalid}
    state = SiteState.of(renderer.today, casebook.results,
                         tuple((p, first_error[p]) for p in invalid))
    try:
        whole = site_files(state, casebook.config, renderer.env, reader)
        for name, chunks in whole.items():
            with open(staging / name, "wb") as handle:
                handle.writelines(chunks)
            puts.append(name)
    except PiecesLost:
        return None
    drops.extend(stale_files(out, whole))
    write_stamp(staging, stamp, inputs)
    puts.append(STAMP_FILE)
    if not update_in_place(casebook.root, out, staging, puts, drops):
        return None
    return BuildResult(out=out, diagnostics=diagnostics, cases=len(casebook.results),
                       rendered=len(rendered), invalid=invalid, written=True, in_place=True,
                       casebook=casebook, state=state, renderer=renderer)


def _site_cases(out: Path) -> set[str]:
    """The ids of the case pages in the site."""
    top = f"{out}/cases/"
    found: set[str] = set()
    for folder, _, names in os.walk(top):
        prefix = folder[len(top):] + "/" if folder != top else ""
        found.update(prefix + name[:-5] for name in names if name.endswith(".html"))
    return found


def _files_in(folder: Path) -> set[str]:
    """The names of the files (not the folders) in `folder`."""
    try:
        with os.scandir(folder) as entries:
            return {e.name for e in entries if e.is_file(follow_symlinks=False)}
    except (FileNotFoundError, NotADirectoryError):
        return set()
