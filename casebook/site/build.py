"""`casebook build`: the dashboard, a page per case, the letters and the exports, as a static site.

The orchestrator: load → check → render each valid case → assemble the whole-site files →
swap. The site is built into a fresh folder beside the output and swapped in whole, so a failed
or interrupted build leaves the last good site. A case whose file, config, templates, day and
git history are unchanged is not rendered again: its pages are hard-linked from the previous
site. Output is deterministic: the same input and day give the same bytes. With `pdf`, each
letter's PDF is made beside its page, by the worker that renders the case.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
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
from casebook.load.loader import load, load_config
from casebook.model import Case, Config
from casebook.read.discover import template_dirs
from casebook.site.assemble import write_site
from casebook.site.pages import CaseOutput, Renderer
from casebook.site.pdf import require_pdf
from casebook.site.sitefolder import (
    PreviousIncomplete,
    build_lock,
    clear_leftovers,
    contained_files,
    link_previous,
    read_stamp,
    swap,
    trash_folder,
    umask,
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


def inputs_key(casebook: Casebook[Any], config_bytes: bytes | None) -> str:
    """A digest of every input file's content: equal keys, equal sites (with equal stamps)."""
    digest = hashlib.blake2b(config_bytes or b"", digest_size=16)
    for summary in casebook.files:
        digest.update(f"{summary.path}\0{summary.key}\n".encode())
    return digest.hexdigest()


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
    with build_lock(out):
        clear_leftovers(out, trash_folder(root))
        return _build(root, today, out, keep_going, progress, reuse_site, pdf)


def _build(root: Path, today: date, out: Path, keep_going: bool,
           progress: Callable[[int, int], None] | None, reuse_site: bool,
           pdf: bool) -> BuildResult:
    # a site with PDFs and one without differ in every case's files: neither reuses the other
    stamp = "|".join((today.isoformat(), templates_key(root), commits.head(root) or "-",
                      f"keep-going={keep_going}", f"pdf={pdf}"))
    previous, previous_inputs, dirty = read_stamp(out)
    config, _, config_bytes = load_config(root)
    if previous == stamp and reuse_site and not dirty:  # the same day, templates and history
        current = load(root, today)  # cheap when warm: the cache answers
        if previous_inputs == inputs_key(current, config_bytes):
            diagnostics = ordered(current.checked)
            invalid = sorted({d.path for d in diagnostics if d.severity is Severity.ERROR})
            return BuildResult(out=out, diagnostics=diagnostics, invalid=invalid,
                               cases=sum(1 for f in current.files if f.valid) - len(invalid))
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.build-{os.getpid()}-", dir=out.parent))
    os.chmod(staging, 0o777 & ~umask())  # mkdtemp makes it private; a site is not
    try:
        renderer = Renderer(root, config, today, commits.histories(root), pdf=pdf)
        renderer.prepare()  # compiled once, before the workers fork
        task = Task("build", stamp, partial(_render, renderer, staging))
        # cases updated in place since the last full build: their cached results are stale
        casebook = load(root, today, task, fresh=previous != stamp, rerun=dirty,
                        progress=progress)
        try:
            result = _finish(casebook, out, staging, keep_going, renderer)
        except PreviousIncomplete:  # a page to reuse is gone: render every case afresh,
            # into an empty folder (the pages linked so far are the live site's own files)
            shutil.rmtree(staging)
            staging.mkdir()
            renderer.forget_folders()
            casebook = load(root, today, task, fresh=True, progress=progress)
            result = _finish(casebook, out, staging, keep_going, renderer)
        write_stamp(staging, stamp, inputs_key(casebook, config_bytes))
        swap(staging, out, trash_folder(root))
        result.stamp = stamp
        return result
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _render(renderer: Renderer, staging: Path, case: Case, _config: Config) -> CaseOutput:
    return renderer.write_case(case, staging)


def _finish(casebook: Casebook[CaseOutput], out: Path, staging: Path, keep_going: bool,
            renderer: Renderer) -> BuildResult:
    """Link the pages of the cases not rendered now, and write the whole-site files."""
    diagnostics = ordered(casebook.checked)
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors and not keep_going:
        raise BuildFailed(diagnostics)
    invalid = sorted({d.path for d in errors})
    rendered = 0
    for output in casebook.results.values():
        if (staging / "cases" / f"{output.row.id}.html").exists():
            rendered += 1
        else:
            link_previous(out, staging, output.row.id)
    first_error = {p: next(d.message for d in errors if d.path == p) for p in invalid}
    state = SiteState.of(renderer.today, casebook.results,
                         tuple((p, first_error[p]) for p in invalid))
    write_site(state, casebook.config, renderer.env, casebook.root, staging)
    return BuildResult(out=out, diagnostics=diagnostics, cases=len(casebook.results),
                       rendered=rendered, invalid=invalid, written=True, casebook=casebook,
                       state=state, renderer=renderer)
