"""`casebook build --shard I/N` and `casebook build --merge DIR…`: one site built on N machines.

A shard loads and checks the whole casebook (the checks across files, such as an invoice
number used twice, need every file), renders only the cases of its part — a case belongs to
part `part_of(id, N)`, a digest of its id: the same on every machine, whatever the others hold
— into its folder, and leaves there, in `.casebook-shard/`, what the whole-site files need:
each case's `CaseOutput` and the diagnostics (`pieces.pickle`), and the files its renderers
wrote the cases' pieces to (`pieces/`, `casebook.site.pieces`). The merge takes the shards'
case pages and letters as they are (hard links where it can), assembles the dashboard and the
exports with the same code as a one-machine build (`SiteState.of`, `assemble.write_site`),
writes the same stamp and swaps the site in whole: the bytes are those of `casebook build` on
one machine.

The outputs are pickled: `CaseOutput` is read back whole, whatever fields it has. A pickle
runs code as it is read, so a merge reads only shards of the same CI run (their folders come
from that run's own artifacts), and reads each only after its plain JSON header agreed with
the others and with the merge's casebook (day, N, inputs, templates, options) and the pickle's
digest matched the header's; the pieces files, whose bytes go into the site, each match their
sha256 in the header too. It never renders a case page and never reads another run's files.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from casebook.diagnostics import Diagnostic, Severity, ordered
from casebook.errors import CasebookError
from casebook.history import commits
from casebook.load.casebook import Task
from casebook.load.loader import load, load_config
from casebook.model import Case, Config
from casebook.site.assemble import write_site
from casebook.site.build import BuildFailed, BuildResult, build_stamp, inputs_key
from casebook.site.pages import CaseOutput, Renderer
from casebook.site.pdf import require_pdf
from casebook.site.pieces import FOLDER as PIECES_DIR
from casebook.site.pieces import PieceReader, PiecesLost
from casebook.site.render import environment
from casebook.site.sitefolder import (
    STAMP_FILE,
    build_lock,
    clear_leftovers,
    finish_update,
    swap,
    trash_folder,
    umask,
    write_stamp,
)
from casebook.site.state import SiteState

SHARD_DIR = ".casebook-shard"  # in a shard's folder: what the merge needs besides the pages
HEADER = "shard.json"
PIECES = "pieces.pickle"
FORMAT = 2
_PART = re.compile(r"(\d+)/(\d+)")


@dataclass(frozen=True)
class Part:
    """Shard `index` of `total`, counted from 1."""

    index: int
    total: int

    @classmethod
    def parse(cls, text: str) -> Part:
        """"I/N", 1 ≤ I ≤ N; ValueError saying what is wrong otherwise."""
        found = _PART.fullmatch(text.strip())
        if found is None:
            raise ValueError(f"{text!r} is not I/N (for example 1/4: the first of four shards)")
        index, total = int(found.group(1)), int(found.group(2))
        if total < 1:
            raise ValueError(f"{text!r}: N, the number of shards, must be at least 1")
        if not 1 <= index <= total:
            raise ValueError(f"{text!r}: I must be between 1 and {total}")
        return cls(index, total)

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def part_of(case_id: str, total: int) -> int:
    """The shard (1 to `total`) that renders the case: a digest of its id, so every machine
    agrees and a new case moves no other."""
    digest = hashlib.blake2b(case_id.encode("utf-8"), digest_size=8).digest()
    return 1 + int.from_bytes(digest, "big") % total


# -- one shard ---------------------------------------------------------------------------------


def build_shard(root: Path, today: date, part: Part, out: Path | None = None, *,
                keep_going: bool = False, pdf: bool = False,
                progress: Any = None) -> BuildResult:
    """Check the whole casebook, render the cases of `part` into `out` (default `root/site`)
    with their pieces; BuildFailed on errors unless `keep_going`, as `build`."""
    if pdf:
        require_pdf()
    out = (out or root / "site").resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(out):
        clear_leftovers(out, trash_folder(root))
        staging = _staging(out)
        try:
            result = _render_shard(root, today, part, out, staging, keep_going, pdf, progress)
            swap(staging, out, trash_folder(root))
            return result
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)


def _render_shard(root: Path, today: date, part: Part, out: Path, staging: Path,
                  keep_going: bool, pdf: bool, progress: Any) -> BuildResult:
    stamp = build_stamp(root, today, keep_going, pdf)
    config, _, config_bytes = load_config(root)
    history = commits.read_histories(root)
    renderer = Renderer(root, config, today, history.by_path, pdf=pdf,
                        pieces=staging / SHARD_DIR / PIECES_DIR)
    renderer.prepare()  # compiled once, before the workers fork
    # its own kind of cached result: a shard's never stands for a whole build's
    task = Task("shard", f"{stamp}|{part}", partial(_render_part, renderer, staging, part),
                keys=history.keys,
                undo=lambda relative, _output: renderer.unwrite_case(relative, staging))
    casebook = load(root, today, task, fresh=True, progress=progress)
    diagnostics = ordered(casebook.checked)
    invalid = sorted({d.path for d in diagnostics if d.severity is Severity.ERROR})
    if invalid and not keep_going:
        raise BuildFailed(diagnostics)
    outputs = {path: output for path, output in sorted(casebook.results.items())
               if output is not None}
    header = {"format": FORMAT, "part": str(part), "index": part.index, "total": part.total,
              "today": today.isoformat(), "stamp": stamp, "keep_going": keep_going, "pdf": pdf,
              "inputs": inputs_key(casebook, config_bytes, history.key),
              "config": _digest(config_bytes or b""), "cases": sorted(outputs)}
    _write_pieces(staging / SHARD_DIR, header, {"outputs": outputs, "diagnostics": diagnostics})
    return BuildResult(out=out, diagnostics=diagnostics, cases=len(outputs),
                       rendered=len(outputs), invalid=invalid, written=True,
                       stamp=stamp, history=history.key)


def _render_part(renderer: Renderer, staging: Path, part: Part, case: Case,
                 _config: Config) -> CaseOutput | None:
    """The case rendered into the shard's folder, if it is the shard's; None otherwise."""
    if part_of(case.id, part.total) != part.index:
        return None
    return renderer.write_case(case, staging)


def _write_pieces(folder: Path, header: dict[str, Any], pieces: dict[str, Any]) -> None:
    folder.mkdir(exist_ok=True)
    data = pickle.dumps(pieces, protocol=pickle.HIGHEST_PROTOCOL)
    (folder / PIECES).write_bytes(data)
    header = {**header, "pieces_sha256": hashlib.sha256(data).hexdigest(),
              "piece_files": _piece_files(folder / PIECES_DIR)}
    (folder / HEADER).write_text(json.dumps(header, indent=1, sort_keys=True) + "\n", "utf-8")


# -- the merge ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shard:
    folder: Path
    header: dict[str, Any]


def merge(root: Path, today: date, folders: list[Path], out: Path | None = None, *,
          keep_going: bool | None = None, pdf: bool | None = None) -> BuildResult:
    """The site from the shards in `folders`, into `out` (default `root/site`): their pages
    and letters, the dashboard and exports assembled from their pieces. CasebookError, before
    anything is written, when the shards do not make one whole build of this casebook on
    `today`. `keep_going` and `pdf` are the shards' unless given (then they must agree)."""
    out = (out or root / "site").resolve()
    shards = _agreeing([_read_header(folder) for folder in folders], root, today, out)
    first = shards[0].header
    for name, given in (("keep_going", keep_going), ("pdf", pdf)):
        if given is not None and given != first[name]:
            flag = "--" + name.replace("_", "-")
            raise CasebookError(f"the shards were built {'with' if first[name] else 'without'}"
                                f" {flag}: give the merge the same options")
    outputs, diagnostics = _pieces(shards)
    invalid = sorted({d.path for d in diagnostics if d.severity is Severity.ERROR})
    out.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(out):
        finish_update(root, out)
        clear_leftovers(out, trash_folder(root))
        staging = _staging(out)
        try:
            for shard in shards:
                _take_pages(shard.folder, staging)
            reader = PieceReader([s.folder / SHARD_DIR / PIECES_DIR for s in shards])
            _assemble(root, today, outputs, diagnostics, invalid, staging, reader)
            write_stamp(staging, first["stamp"], first["inputs"])
            swap(staging, out, trash_folder(root))
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(out=out, diagnostics=diagnostics, cases=len(outputs), rendered=0,
                       invalid=invalid, written=True, stamp=first["stamp"])


def _read_header(folder: Path) -> _Shard:
    path = folder / SHARD_DIR / HEADER
    try:
        header = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise CasebookError(f"{folder} holds no shard: no {SHARD_DIR}/{HEADER} "
                            "(build it with casebook build --shard I/N --out DIR)") from None
    except (OSError, ValueError) as exc:
        raise CasebookError(f"cannot read {path}: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CasebookError(f"{path} was written by another version of casebook")
    return _Shard(folder.resolve(), header)


def _agreeing(shards: list[_Shard], root: Path, today: date, out: Path) -> list[_Shard]:
    """The shards in order, once each refused unless they are 1..N of one build of this
    casebook (its config and templates) on `today`, with the same options."""
    if not shards:
        raise CasebookError("--merge needs the shards' folders: casebook build --merge DIR…")
    first = shards[0]
    for shard in shards:
        if shard.folder == out:
            raise CasebookError(f"{shard.folder} is a shard: merge into another folder (--out)")
        for key, what in (("total", "a different number of shards"),
                          ("today", "a different day (give every job the same --today)"),
                          ("keep_going", "different options (--keep-going)"),
                          ("pdf", "different options (--pdf)"),
                          ("inputs", "different inputs (case files, casebook.yml or git "
                                     "history)"),
                          ("stamp", "different templates or casebook versions")):
            if shard.header[key] != first.header[key]:
                raise CasebookError(f"{shard.folder} and {first.folder} are shards of "
                                    f"{what}: {shard.header[key]} and {first.header[key]}"
                                    if key in ("total", "today") else
                                    f"{shard.folder} and {first.folder} are shards of {what}")
    total = first.header["total"]
    by_index: dict[int, _Shard] = {}
    for shard in shards:
        index = shard.header["index"]
        if index in by_index:
            raise CasebookError(f"shard {index}/{total} given twice: {by_index[index].folder} "
                                f"and {shard.folder}")
        by_index[index] = shard
    missing = [f"{i}/{total}" for i in range(1, total + 1) if i not in by_index]
    if missing:
        raise CasebookError(f"shards missing: {', '.join(missing)} (every shard of the build "
                            "is needed)")
    _same_casebook(first.header, root, today)
    return [by_index[i] for i in range(1, total + 1)]


def _same_casebook(header: dict[str, Any], root: Path, today: date) -> None:
    """The shards were built on `today` from this casebook's config and templates."""
    if header["today"] != today.isoformat():
        raise CasebookError(f"the shards were built for {header['today']}, the merge is for "
                            f"{today.isoformat()}: give the merge the same --today")
    _, _, config_bytes = load_config(root)
    if header["config"] != _digest(config_bytes or b""):
        raise CasebookError("the shards were built from another casebook.yml")
    if header["stamp"] != build_stamp(root, today, header["keep_going"], header["pdf"]):
        raise CasebookError("the shards were built with other templates or another version "
                            "of casebook")


def _pieces(shards: list[_Shard]) -> tuple[dict[str, CaseOutput], list[Diagnostic]]:
    """Every case's output, by path, and the diagnostics (every shard checked the whole
    casebook: the first's stand for all)."""
    outputs: dict[str, CaseOutput] = {}
    diagnostics: list[Diagnostic] = []
    for shard in shards:
        path = shard.folder / SHARD_DIR / PIECES
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CasebookError(f"cannot read {path}: {exc}") from None
        if hashlib.sha256(data).hexdigest() != shard.header["pieces_sha256"]:
            raise CasebookError(f"{path} is not the file its shard wrote (damaged or replaced)")
        _checked_piece_files(shard)
        pieces = pickle.loads(data)  # this run's own shard, its digest checked
        overlap = outputs.keys() & pieces["outputs"].keys()
        if overlap:
            raise CasebookError(f"{shard.folder} renders cases another shard rendered: "
                                f"{', '.join(sorted(overlap)[:3])}")
        outputs.update(pieces["outputs"])
        diagnostics = diagnostics or pieces["diagnostics"]
    return dict(sorted(outputs.items())), diagnostics


def _piece_files(folder: Path) -> dict[str, str]:
    """The sha256 of each pieces file the shard's renderers wrote (`pieces`), by name."""
    if not folder.is_dir():
        return {}
    return {path.name: _sha256_file(path) for path in sorted(folder.iterdir())}


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _checked_piece_files(shard: _Shard) -> None:
    """The shard's pieces files are those it wrote: their bytes go into the site."""
    folder = shard.folder / SHARD_DIR / PIECES_DIR
    expected = shard.header.get("piece_files")
    if not isinstance(expected, dict):
        raise CasebookError(f"{shard.folder / SHARD_DIR / HEADER} lists no pieces files")
    found = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    if found != set(expected):
        raise CasebookError(f"{folder} does not hold the pieces files its shard wrote")
    for name, digest in sorted(expected.items()):
        if _sha256_file(folder / name) != digest:
            raise CasebookError(f"{folder / name} is not the file its shard wrote "
                                "(damaged or replaced)")


def _take_pages(shard: Path, staging: Path) -> None:
    """The shard's case pages and letters into the new site, hard-linked where possible."""
    for folder, dirs, names in os.walk(shard):
        relative = Path(folder).relative_to(shard)
        if relative == Path("."):
            dirs[:] = [d for d in dirs if d != SHARD_DIR]
            names = [n for n in names if n != STAMP_FILE]
        dirs.sort()
        target = staging / relative
        target.mkdir(exist_ok=True)
        for name in sorted(names):
            if (target / name).exists():
                raise CasebookError(f"{relative / name} is in two shards")
            try:
                os.link(Path(folder) / name, target / name)
            except OSError:  # another file system, or no hard links
                shutil.copyfile(Path(folder) / name, target / name)


def _assemble(root: Path, today: date, outputs: dict[str, CaseOutput],
              diagnostics: list[Diagnostic], invalid: list[str], staging: Path,
              reader: PieceReader) -> None:
    """The dashboard, exports and assets, as `build._finish` writes them."""
    config, _, _ = load_config(root)
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    first_error = {p: next(d.message for d in errors if d.path == p) for p in invalid}
    state = SiteState.of(today, outputs, tuple((p, first_error[p]) for p in invalid))
    env = environment(root, config.locale, config.currency)
    try:
        write_site(state, config, env, root, staging, reader)
    except PiecesLost as exc:
        raise CasebookError(f"a shard's pieces are incomplete: {exc}") from None


def _staging(out: Path) -> Path:
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.build-{os.getpid()}-", dir=out.parent))
    os.chmod(staging, 0o777 & ~umask())  # mkdtemp makes it private; a site is not
    return staging


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()
