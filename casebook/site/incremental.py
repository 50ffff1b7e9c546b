"""Updating a built site in place when a few case files change: what `serve` and `watch` do
between full builds.

A full build (`casebook.site.build`) renders into a fresh folder and swaps it in whole. Between two
full builds, the preview keeps what the last one loaded (every case's dashboard row, export
row and row HTML) and, when case files change, parses only those, checks the casebook again
from the kept summaries, renders the changed cases and replaces, file by file and each in one
step, their pages, their letters, the dashboard and the exports. A change to `casebook.yml`, to
a template or to a folder, a new day or a new git commit takes a full build instead.

The stamp file of the site lists the case files updated in place (and has no inputs key while
an update is under way), so the next full build renders those cases again instead of reusing
the cached results of their earlier content.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import itertools
import os
import shutil
import threading
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from casebook.diagnostics import Diagnostic, Severity, ordered
from casebook.history import commits
from casebook.load.casebook import Casebook
from casebook.load.checks import check_changed
from casebook.load.files import FileSummary
from casebook.load.loader import CASES_DIR, case_id, load_config, reread
from casebook.model import Case
from casebook.site.assemble import site_files, stale_files
from casebook.site.build import BuildFailed, BuildResult, build, inputs_key
from casebook.site.pages import CaseOutput, Renderer
from casebook.site.pieces import PieceReader, PiecesLost
from casebook.site.sitefolder import (
    Chunks,
    build_lock,
    finish_update,
    make_trash,
    replace_file,
    trash_folder,
    write_stamp,
)
from casebook.site.state import SiteState


@dataclass
class _Live:
    """What the last full build left, kept up to date by each in-place update."""

    root: Path
    out: Path
    stamp: str
    head: str | None
    history: str  # the key of the case files' git history (`commits.Histories.key`)
    config_bytes: bytes | None
    casebook: Casebook[CaseOutput]
    site: SiteState
    renderer: Renderer
    dirty: set[str] = field(default_factory=set)  # updated in place since the full build
    pending: set[str] = field(default_factory=set)  # changed, but the update failed
    numbers: dict[str, set[str]] = field(default_factory=dict)  # invoice number → case paths
    reader: PieceReader | None = None  # the cases' pieces (`pieces`)
    #: a digest of each whole-site file as written
    written: dict[str, bytes] = field(default_factory=dict)


class LiveBuild:
    """Builds the site in full the first time, and then in place while only case files
    change; call it as `builder(root, today, out, changed)`."""

    def __init__(self) -> None:
        self._state: _Live | None = None

    def __call__(self, root: Path, today: date, out: Path,
                 changed: Iterable[str] | None = None) -> BuildResult:
        state = self._state
        if changed is not None and state is not None and state.root == root and state.out == out:
            paths = tuple(changed)
            if _in_place(state, paths, today):
                with build_lock(out):
                    if not finish_update(root, out):  # else a build came between: start over
                        with suppress(PiecesLost):  # else a case's pieces are gone: in full
                            return _update(state, paths)
        self._state = None
        result = build(root, today, out)
        if result.state is None:  # "up to date": no results in hand, so load them
            result = build(root, today, out, reuse_site=False)
        self._state = _start(root, out, today, result)
        return result


def _in_place(state: _Live, paths: tuple[str, ...], today: date) -> bool:
    """Whether these changes can be applied in place: case files only, the same day and
    the same git history."""
    if today != state.site.today or not paths:
        return False
    for path in paths:
        if not (path.startswith(CASES_DIR + "/") and path.endswith(".md")):
            return False  # casebook.yml, a template, a folder: a full build
        if (state.root / path).is_dir():
            return False
    return commits.head(state.root) == state.head


def _start(root: Path, out: Path, today: date, result: BuildResult) -> _Live | None:
    casebook, site, renderer = result.casebook, result.state, result.renderer
    if casebook is None or site is None or renderer is None or result.invalid:
        return None
    if result.reader is None:
        return None
    _, _, config_bytes = load_config(root)
    return _Live(root=root, out=out, stamp=result.stamp, head=commits.head(root),
                 history=result.history,
                 config_bytes=config_bytes, casebook=casebook, site=site, renderer=renderer,
                 reader=result.reader, numbers=_numbers(casebook.files))


def _update(state: _Live, paths: tuple[str, ...]) -> BuildResult:
    """Apply changed case files to the site in place; BuildFailed leaves the site alone."""
    paths = tuple(dict.fromkeys((*state.pending, *paths)))
    files = {s.path: s for s in state.casebook.files}
    before = {p: files[p] for p in paths if p in files}
    parsed: dict[str, Case | None] = {}
    for path in paths:
        if not (state.root / path).is_file() or Path(path).name.startswith(("_", ".")):
            files.pop(path, None)
            parsed[path] = None
            continue
        found = reread(state.root, path, state.casebook.config)
        if isinstance(found, FileSummary):  # unreadable
            files[path], parsed[path] = found, None
        else:
            files[path], parsed[path] = found[0], found[1].case
    casebook = dataclasses.replace(state.casebook, files=tuple(files[p] for p in sorted(files)),
                                   results={})
    diagnostics = _checked(state, casebook, files, paths)
    for path in paths:
        _index_numbers(state.numbers, path, before.get(path), files.get(path))
    site, out = state.site, state.out
    trash = _Trash(trash_folder(state.root))
    state.dirty.update(paths)
    write_stamp(out, state.stamp, "", frozenset(state.dirty))  # an update is under way
    for path in paths:
        cid = case_id(path)
        case = parsed.get(path)
        site.remove(path)
        if case is None:  # gone
            trash.take(out / "cases" / f"{cid}.html")
            trash.take(out / "letters" / cid)
            continue
        pages, output = state.renderer.render_case(case)
        for name, text in pages.items():
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            trash.replace(target, text.encode("utf-8"))
        _drop_letters(out / "letters" / cid, {Path(n).name for n in pages}, trash)
        site.add(path, output)
    assert state.reader is not None
    whole = site_files(site, casebook.config, state.renderer.env, state.reader)
    for name, chunks in whole.items():
        # the calendar, say, often stays the same: it is not replaced then
        state.written[name] = trash.replace_changed(out / name, chunks, state.written.get(name))
    for name in stale_files(out, whole):  # fewer rows, pages or owners than before
        trash.take(out / name)
        state.written.pop(name, None)
    state.casebook = casebook
    write_stamp(out, state.stamp, inputs_key(casebook, state.config_bytes, state.history),
                frozenset(state.dirty))
    trash.empty()
    return BuildResult(out=out, diagnostics=diagnostics, cases=len(site.outputs),
                       rendered=sum(1 for c in parsed.values() if c is not None),
                       written=True, in_place=True, stamp=state.stamp)


def _checked(state: _Live, casebook: Casebook[CaseOutput], files: dict[str, FileSummary],
             paths: tuple[str, ...]) -> list[Diagnostic]:
    """The diagnostics the change can bring; BuildFailed on an error. The casebook was
    valid before: a new error can only involve the changed files, and the files that share
    an invoice number with them."""
    numbers = {n for p in paths if p in files for n, _, _ in files[p].invoices}
    related = {*paths, *(p for n in numbers for p in state.numbers.get(n, ()))}
    nearby = dataclasses.replace(casebook, files=tuple(
        files[p] for p in sorted(related) if p in files))
    diagnostics = ordered(check_changed(nearby, state.site.today, paths))
    if any(d.severity is Severity.ERROR for d in diagnostics):
        state.pending.update(paths)  # applied with the next change, once they are mended
        raise BuildFailed(diagnostics)
    state.pending.clear()
    return diagnostics


def _numbers(files: Iterable[FileSummary]) -> dict[str, set[str]]:
    index: dict[str, set[str]] = {}
    for summary in files:
        for number, _, _ in summary.invoices:
            index.setdefault(number, set()).add(summary.path)
    return index


def _index_numbers(index: dict[str, set[str]], path: str, old: FileSummary | None,
                   new: FileSummary | None) -> None:
    for number, _, _ in old.invoices if old else ():
        index.get(number, set()).discard(path)
    for number, _, _ in new.invoices if new else ():
        index.setdefault(number, set()).add(path)


def _drop_letters(folder: Path, keep: set[str], trash: _Trash) -> None:
    """Remove the letters a case no longer needs."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.is_file() and entry.name not in keep:
            trash.take(Path(entry.path))


class _Trash:
    """Where the files an update replaces or removes go, to be deleted once the update is
    on disk, in the background. Freeing a file's blocks can take many milliseconds (a disk
    mounted with `discard` trims them at once); a link or a rename takes microseconds. The
    folder is in the casebook's ignored cache (`sitefolder.trash_folder`), where watchers,
    servers and git never see it; a full build removes any left behind."""

    def __init__(self, trash: Path) -> None:
        self.folder = trash / f"update-{os.getpid()}-{next(_serial)}"
        self._count = 0

    def _slot(self) -> Path:
        if self._count == 0:
            make_trash(self.folder.parent)
            self.folder.mkdir()
        self._count += 1
        return self.folder / str(self._count)

    def take(self, path: Path) -> None:
        """Move a file or folder out of the site."""
        if not os.path.lexists(path):
            return
        try:
            os.rename(path, self._slot())
        except OSError as error:  # the site is on another file system: delete it here
            if error.errno != errno.EXDEV:
                raise
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()

    def replace(self, path: Path, data: bytes | Chunks) -> None:
        """Replace a file in one step, keeping its old content here (a second link)."""
        if os.path.lexists(path):
            self._keep(path)
        replace_file(path, data)

    def _keep(self, path: Path) -> None:
        try:
            os.link(path, self._slot())
        except OSError as error:  # another file system: the old file is freed here
            if error.errno != errno.EXDEV:
                raise

    def replace_changed(self, path: Path, chunks: Chunks, before: bytes | None) -> bytes:
        """Replace a file as `replace` does unless its new content has the digest `before`
        (of what was written there last); the new content's digest."""
        digest = hashlib.blake2b(digest_size=16)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(temp, "wb") as handle:
                for chunk in chunks:
                    digest.update(chunk)
                    handle.write(chunk)
            if digest.digest() == before:
                temp.unlink()
            else:
                if os.path.lexists(path):
                    self._keep(path)
                os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return digest.digest()

    def empty(self) -> None:
        if self._count:
            threading.Thread(target=shutil.rmtree, args=(self.folder, True),
                             name="casebook-trash", daemon=True).start()


_serial = itertools.count()

