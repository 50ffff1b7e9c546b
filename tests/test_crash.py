"""Crash safety: `build`, `log` and `pay` killed at any moment, a read-only folder, a full disk.

After each failure the site is absent (no build ever completed), the previous complete site or
the new one, byte for byte; a case file holds its old text or its new text; nothing is left that
the loader would read as a case; and the command says what went wrong in one line. Each kill
loop runs `CASEBOOK_CRASH_KILLS` times (default 30; set it to a few hundred for a long run).
"""

from __future__ import annotations

import errno
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from casebook import atomic
from casebook.atomic import write_all
from casebook.cli.main import main
from casebook.load.loader import case_files
from casebook.site import pages as build_module

ROOT = Path(__file__).resolve().parent.parent
KILLS = int(os.environ.get("CASEBOOK_CRASH_KILLS", "30"))
CASES = int(os.environ.get("CASEBOOK_CRASH_CASES", "60"))
DAYS = ("2026-11-20", "2026-11-27")  # two complete sites that differ
CASEBOOK = [sys.executable, "-m", "casebook"]
SEED = int(os.environ.get("CASEBOOK_CRASH_SEED", "20261120"))


def casebook(root: Path, *args: str, today: str = DAYS[0]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CASEBOOK, "-C", str(root), "--today", today, *args],
                          capture_output=True, text=True, timeout=300)


def digest(folder: Path) -> str | None:
    """One digest of a whole tree: every path, its kind and its bytes; None when absent."""
    if not folder.exists():
        return None
    total = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        kind = "d" if path.is_dir() else "f"
        total.update(f"{path.relative_to(folder).as_posix()}\0{kind}\0".encode())
        if kind == "f":
            total.update(hashlib.sha256(path.read_bytes()).digest())
    return total.hexdigest()


def kill_at(command: list[str], delay: float) -> int:
    """Start `command`, SIGKILL it after `delay` seconds (unless it ended); its exit status.
    Its process group goes too, so no worker it forked writes on."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
    status = process.wait()
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    return status


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    return time.perf_counter() - start


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith((".site.build-",
                                                                       ".site.old-")))


# -- (a) builds killed at random moments ---------------------------------------------------


@dataclass
class KillLoop:
    sites: dict[str, str]  # day → digest of its complete site
    outcomes: Counter[str] = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)
    leftovers_before: list[str] = field(default_factory=list)
    final: bool = False
    final_leftovers: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def kill_loop(tmp_path_factory: pytest.TempPathFactory) -> KillLoop:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from generate import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "bench"))
    root = tmp_path_factory.mktemp("crash") / "book"
    generate(root, CASES, seed=1)
    site = root / "site"
    sites: dict[str, str] = {}
    durations: list[float] = []
    for day in DAYS:
        durations.append(timed([*CASEBOOK, "-C", str(root), "--today", day, "build"]))
        sites[day] = digest(site) or ""
    assert sites[DAYS[0]] != sites[DAYS[1]]
    shutil.rmtree(site)
    loop = KillLoop(sites)
    by_digest = {d: day for day, d in sites.items()}
    rng = random.Random(SEED)
    present: str | None = None  # the day of the site in place
    for index in range(KILLS):
        target = DAYS[1] if present == DAYS[0] else DAYS[0]
        delay = rng.uniform(0.0, min(durations) * 1.1)
        kill_at([*CASEBOOK, "-C", str(root), "--today", target, "build"], delay)
        found = digest(site)
        built = by_digest.get(found) if found is not None else None
        if found is None and present is None:
            loop.outcomes["absent"] += 1
        elif built == present and built is not None:
            loop.outcomes["old"] += 1
        elif built == target:
            loop.outcomes["new"] += 1
            present = target
        else:
            loop.wrong.append(f"kill {index} after {delay:.2f}s building {target}: the site is "
                              f"{'gone' if found is None else 'neither complete site'}")
            break
    loop.leftovers_before = leftovers(root)
    target = DAYS[1] if present == DAYS[0] else DAYS[0]
    done = casebook(root, "build", today=target)
    assert done.returncode == 0, done.stderr
    loop.final = digest(site) == sites[target]
    loop.final_leftovers = leftovers(root)
    print(f"\n{KILLS} builds killed: {dict(loop.outcomes)}; {len(loop.leftovers_before)} "
          f"staging folders left, {len(loop.final_leftovers)} after a complete build")
    return loop


def test_a_killed_build_leaves_no_site_the_old_one_or_the_new_one(kill_loop: KillLoop) -> None:
    assert kill_loop.wrong == []
    assert sum(kill_loop.outcomes.values()) == KILLS


def test_a_build_after_the_kills_gives_the_complete_site(kill_loop: KillLoop) -> None:
    assert kill_loop.final is True


def test_a_build_after_the_kills_removes_their_staging_folders(kill_loop: KillLoop) -> None:
    assert kill_loop.final_leftovers == []


# -- (b) edits killed mid-write ------------------------------------------------------------

ENTRY = """
## 2026-{month:02d}-{day:02d} phone reminder — call {index}
Spoke to the accounts office about invoice 2026/101; they will check and call back.
"""


def big_case() -> str:
    """A case with a long log, so that its write takes a measurable time."""
    entries = "".join(ENTRY.format(month=1 + i % 9, day=1 + i % 28, index=i) for i in range(1500))
    return f"""---
debtor: {{name: Rossi Costruzioni S.r.l.}}
invoices:
  - {{number: "2026/101", date: 2026-01-01, due: 2026-01-31, amount: 1220.00}}
payments:
  - {{date: 2026-02-15, amount: 100.00}}
---
{entries}"""


EDITS = {
    "pay": ["pay", "rossi", "200.00", "--invoice", "2026/101", "--date", "2026-11-19"],
    "log": ["log", "rossi", "phone", "reminder", "-m", "Promised to pay on Friday.",
            "--date", "2026-11-19"],
}


@pytest.fixture
def book(tmp_path: Path) -> Path:
    (tmp_path / "cases").mkdir()
    (tmp_path / "casebook.yml").write_text("locale: en\n")
    (tmp_path / "cases" / "rossi.md").write_text(big_case())
    return tmp_path


def case_names(root: Path) -> list[str]:
    """What the loader reads as cases."""
    return [relative for relative, _ in case_files(root)]


def test_killed_edits_leave_the_old_text_or_the_new(book: Path) -> None:
    path = book / "cases" / "rossi.md"
    old = path.read_bytes()
    new, duration = {}, {}
    for name, args in EDITS.items():
        duration[name] = timed([*CASEBOOK, "-C", str(book), "--today", DAYS[0], *args])
        new[name] = path.read_bytes()
        path.write_bytes(old)
    rng = random.Random(SEED)
    outcomes: Counter[str] = Counter()
    for index in range(KILLS):
        name = ("pay", "log")[index % 2]
        # half the kills aim at the end, where the file is written
        share = rng.uniform(0.0, 1.0) if index % 4 < 2 else rng.uniform(0.8, 1.05)
        kill_at([*CASEBOOK, "-C", str(book), "--today", DAYS[0], *EDITS[name]],
                duration[name] * share)
        now = path.read_bytes()
        assert now in (old, new[name]), f"kill {index} of {name}: a mix of old and new"
        outcomes[f"{name} {'old' if now == old else 'new'}"] += 1
        assert case_names(book) == ["cases/rossi.md"]
        path.write_bytes(old)
    stray = sorted(p.name for p in path.parent.iterdir() if p.name != "rossi.md")
    assert all(n.startswith(".rossi.md.") and n.endswith(".tmp") for n in stray), stray
    print(f"\n{KILLS} edits killed: {dict(outcomes)}; {len(stray)} temporary files left")
    assert casebook(book, "validate").returncode == 0


def test_an_abandoned_temporary_file_is_removed_by_the_next_write(book: Path) -> None:
    folder = book / "cases"
    dead = folder / ".rossi.md.abcd1234.tmp"
    fresh = folder / ".rossi.md.efgh5678.tmp"  # maybe another write, still going
    other = folder / ".bianchi.md.abcd1234.tmp"
    for stray in (dead, fresh, other):
        stray.write_text("half a ca")
    long_ago = time.time() - atomic.ABANDONED_AFTER - 60
    for stray in (dead, other):
        os.utime(stray, (long_ago, long_ago))
    result = CliRunner().invoke(main, ["-C", str(book), "--today", DAYS[0], *EDITS["pay"]])
    assert result.exit_code == 0, result.output
    assert not dead.exists() and fresh.exists() and other.exists()


def partial_write(real: Callable[[int, Any], int]) -> Callable[[int, Any], int]:
    """os.write that writes part of the bytes, then fails as on a full disk."""
    calls = 0

    def write(fd: int, data: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            return real(fd, bytes(data)[: max(1, len(data) // 3)])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    return write


def failing(number: int) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise OSError(number, os.strerror(number))

    return fail


FAILURES: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "short write, then disk full": lambda mp: mp.setattr(os, "write", partial_write(os.write)),
    "disk full at once": lambda mp: mp.setattr(os, "write", failing(errno.ENOSPC)),
    "flush fails": lambda mp: mp.setattr(os, "fsync", failing(errno.EIO)),
    "rename fails": lambda mp: mp.setattr(os, "replace", failing(errno.EXDEV)),
    "no room for the temporary file": lambda mp: mp.setattr(
        tempfile, "mkstemp", failing(errno.ENOSPC)),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_a_failed_write_leaves_the_file_and_says_why(
        book: Path, monkeypatch: pytest.MonkeyPatch, edit: str, failure: str) -> None:
    path = book / "cases" / "rossi.md"
    old = path.read_bytes()
    FAILURES[failure](monkeypatch)
    result = CliRunner().invoke(main, ["-C", str(book), "--today", DAYS[0], *EDITS[edit]])
    monkeypatch.undo()
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot write cases/rossi.md: "), lines
    assert "it was left as it was" in lines[0]
    assert path.read_bytes() == old
    assert sorted(p.name for p in path.parent.iterdir()) == ["rossi.md"]


# -- (c) a read-only folder, a full disk -----------------------------------------------------


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` cannot be written: by chmod, or by a read-only bind mount for root, whom
    chmod does not stop."""
    if os.geteuid() != 0:
        folders = [folder, *(p for p in folder.rglob("*") if p.is_dir())]
        for path in folders:
            path.chmod(0o555)
        try:
            yield
        finally:
            for path in folders:
                path.chmod(0o755)
        return
    bind = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True)
    if bind.returncode != 0:
        pytest.skip("running as root, where chmod does not stop writes, and a read-only bind "
                    f"mount is not allowed here: {bind.stderr.decode().strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True,
                       capture_output=True)
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True, capture_output=True)


@contextmanager
def small_disk(folder: Path, size: str) -> Iterator[None]:
    """A tmpfs of `size` at `folder`, or a skip where mounting is not allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True) if os.geteuid() == 0 else None
    if mounted is None or mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root); the full disk is simulated "
                    "in-process by test_a_full_disk_while_building_keeps_the_site")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True, capture_output=True)


def one_error_line(result: subprocess.CompletedProcess[str], start: str) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {start}"), lines
    return lines[0]


def test_a_read_only_casebook_refuses_every_write_in_one_line(demo: Path) -> None:
    assert casebook(demo, "build").returncode == 0
    before = digest(demo)
    with read_only(demo):
        line = one_error_line(casebook(demo, "build", today=DAYS[1]), "cannot write the site")
        assert "the site was left as it was" in line
        line = one_error_line(casebook(demo, "pay", "il-portico", "10.00"),
                              "cannot write cases/il-portico.md")
        assert "left as it was" in line
        one_error_line(casebook(demo, "log", "il-portico", "phone", "-m", "x"),
                       "cannot write cases/il-portico.md")
        one_error_line(casebook(demo, "new", "fresh", "--name", "Fresh S.r.l."),
                       "cannot complete the command")
    assert digest(demo) == before


def test_a_read_only_casebook_still_builds_elsewhere(demo: Path, tmp_path: Path) -> None:
    """Its cache cannot be written, which only costs speed."""
    assert casebook(demo, "build").returncode == 0  # a cache for another day
    with read_only(demo):
        built = casebook(demo, "build", "--out", str(tmp_path / "out"), today=DAYS[1])
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "out" / "index.html").is_file()


def test_a_read_only_output_folder_keeps_its_site(demo: Path, tmp_path: Path) -> None:
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    assert casebook(demo, "build", "--out", str(shelf / "site")).returncode == 0
    before = digest(shelf)
    with read_only(shelf):
        result = casebook(demo, "build", "--out", str(shelf / "site"), today=DAYS[1])
    one_error_line(result, "cannot write the site")
    assert digest(shelf) == before


@pytest.mark.parametrize("where", ["site", "out"])
def test_a_file_where_the_site_folder_should_be(demo: Path, tmp_path: Path, where: str) -> None:
    blocker = demo / "site" if where == "site" else tmp_path / "file"
    blocker.write_text("my notes\n")
    args = ["build"] if where == "site" else ["build", "--out", str(blocker / "site")]
    one_error_line(casebook(demo, *args), "")
    assert blocker.read_text() == "my notes\n"
    assert not list(demo.glob(".site.build-*"))


def test_a_full_disk_keeps_the_site_and_the_cases(demo: Path, tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    with small_disk(disk, "4m"):
        book = disk / "book"
        shutil.copytree(demo, book)
        assert casebook(book, "build").returncode == 0
        filler = disk / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)  # fill the disk to the last block,
        try:  # unbuffered: no bytes are left in a buffer for a close to fail on
            while True:
                os.write(fd, b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        finally:
            os.close(fd)
        before = digest(book / "site"), digest(book / "cases")
        line = one_error_line(casebook(book, "build", today=DAYS[1]), "cannot write the site")
        assert "No space left on device" in line
        one_error_line(casebook(book, "pay", "il-portico", "10.00"),
                       "cannot write cases/il-portico.md: No space left on device")
        assert (digest(book / "site"), digest(book / "cases")) == before
        assert not list(book.glob(".site.build-*"))
        filler.unlink()
        assert casebook(book, "build", today=DAYS[1]).returncode == 0


def test_a_full_disk_while_building_keeps_the_site(demo: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The same, simulated in-process: the tenth page written finds the disk full."""
    assert CliRunner().invoke(main, ["-C", str(demo), "--today", DAYS[0], "build"]).exit_code == 0
    before = digest(demo / "site")
    opened = 0

    def full_disk_write(fd: int, data: bytes) -> None:
        nonlocal opened
        opened += 1
        if opened == 10:
            write_all(fd, b"<!doctype html><p>half a pa")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        write_all(fd, data)

    monkeypatch.setattr(build_module, "write_all", full_disk_write)
    result = CliRunner().invoke(main, ["-C", str(demo), "--today", DAYS[1], "build"])
    assert result.exit_code == 1 and opened == 10
    assert not isinstance(result.exception, OSError)
    lines = [x for x in result.output.splitlines() if x.startswith("Error")]
    assert lines and lines[0].startswith("Error: cannot write the site: No space left on device")
    assert digest(demo / "site") == before
    assert not list(demo.glob(".site.build-*"))


def test_a_rebuild_never_writes_into_the_live_site(demo: Path) -> None:
    """When a page to reuse is missing, every case is rendered again: never through the hard
    links to the previous site, whose pages would be half-written while being served."""
    assert casebook(demo, "build").returncode == 0
    pages = sorted((demo / "site" / "cases").rglob("*.html"))
    served = os.open(pages[0], os.O_RDONLY)  # a page of the live site, as a server holds it
    try:
        before = os.fstat(served)
        case = demo / "cases" / "gelateria-donizetti.md"
        case.write_text(case.read_text().replace("Donizetti S.r.l.", "Donizetti S.p.A."))
        pages[-1].unlink()  # a page to reuse is gone: the build renders every case again
        time.sleep(0.01)
        assert casebook(demo, "build").returncode == 0
        assert os.fstat(served).st_mtime_ns == before.st_mtime_ns
    finally:
        os.close(served)


# -- (d) a build that updates the site in place, killed ----------------------------------------

JOURNALS = "site-update-*.json"


def files_of(folder: Path) -> dict[str, str]:
    """Each file of a site (path → digest of its bytes)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@dataclass
class Versions:
    """A generated casebook in two versions that differ by a few cases (changed, deleted,
    added), and the complete site of each, as a fresh build makes it."""

    root: Path
    texts: dict[str, dict[str, str | None]]  # version → case path → text (None: absent)
    sites: dict[str, str]  # version → digest of its complete site
    files: dict[str, dict[str, str]]  # version → its site's files

    def put(self, version: str) -> None:
        for relative, text in self.texts[version].items():
            path = self.root / relative
            if text is None:
                path.unlink(missing_ok=True)
            else:
                path.write_text(text, "utf-8")

    def belongs(self, site: Path) -> list[str]:
        """The files of `site` that are in neither complete site (empty when each page is
        one state's or the other's)."""
        return [f"{name}" for name, found in files_of(site).items()
                if found not in (self.files["a"].get(name), self.files["b"].get(name))]


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> Versions:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(ROOT / "bench"))
    root = tmp_path_factory.mktemp("inplace") / "book"
    generate(root, CASES, seed=2)
    cases = sorted(p.relative_to(root).as_posix() for p in (root / "cases").rglob("*.md"))
    changed, deleted = cases[:3], cases[3]
    a = {relative: (root / relative).read_text("utf-8") for relative in [*changed, deleted]}
    b: dict[str, str | None] = {relative: a[relative] + "\n## 2026-11-20 note — in place\n"
                                for relative in changed}
    b[deleted] = None
    added = deleted.replace(".md", "-bis.md")
    b[added] = a[deleted].replace('"20', '"BIS-20')  # its invoice numbers, wherever named
    texts: dict[str, dict[str, str | None]] = {"a": {**a, added: None}, "b": b}
    made = Versions(root, texts, {}, {})
    for version in ("a", "b"):  # each complete site, built fresh in a copy
        made.put(version)
        copy = root.parent / f"fresh-{version}"
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns("site", ".casebook-cache"))
        assert casebook(copy, "build").returncode == 0
        made.sites[version], made.files[version] = digest(copy / "site") or "", files_of(
            copy / "site")
    assert made.sites["a"] != made.sites["b"]
    made.put("a")
    assert casebook(root, "build").returncode == 0
    assert digest(root / "site") == made.sites["a"]
    return made


def test_a_build_with_a_few_changes_updates_the_site_in_place(versions: Versions) -> None:
    site = versions.root / "site"
    served = os.open(site / "index.html", os.O_RDONLY)  # the dashboard as a server holds it
    try:
        kept = os.fstat(served)
        unchanged = sorted((site / "cases").rglob("*.html"))[-1]  # the first four change
        inode = unchanged.stat().st_ino
        versions.put("b")
        assert casebook(versions.root, "build").returncode == 0
        assert digest(site) == versions.sites["b"]  # what a full build makes
        assert unchanged.stat().st_ino == inode  # the site was not put together again
        assert os.fstat(served).st_mtime_ns == kept.st_mtime_ns  # replaced, never rewritten
    finally:
        os.close(served)
        versions.put("a")
        assert casebook(versions.root, "build").returncode == 0
    assert digest(site) == versions.sites["a"]
    assert not list((versions.root / ".casebook-cache").glob(JOURNALS))


def test_an_in_place_update_killed_at_random_is_finished_by_the_next_build(
        versions: Versions) -> None:
    root, site = versions.root, versions.root / "site"
    versions.put("b")
    duration = timed([*CASEBOOK, "-C", str(root), "--today", DAYS[0], "build"])
    present = "b"
    rng = random.Random(SEED + 1)
    outcomes: Counter[str] = Counter()
    for index in range(KILLS):
        target = "a" if present == "b" else "b"
        versions.put(target)
        delay = rng.uniform(0.0, duration * 1.1)
        kill_at([*CASEBOOK, "-C", str(root), "--today", DAYS[0], "build"], delay)
        mixed = versions.belongs(site)
        assert mixed == [], f"kill {index} after {delay:.2f}s: pages of neither state: {mixed}"
        if list((root / ".casebook-cache").glob(JOURNALS)):
            outcomes["mid-update"] += 1
        else:
            outcomes["new" if digest(site) == versions.sites[target] else "old"] += 1
        assert casebook(root, "build").returncode == 0
        assert digest(site) == versions.sites[target], f"kill {index} after {delay:.2f}s"
        assert not list((root / ".casebook-cache").glob(JOURNALS))
        assert leftovers(root) == []
        present = target
    print(f"\n{KILLS} in-place updates killed: {dict(outcomes)}")
    versions.put("a")
    assert casebook(root, "build").returncode == 0


KILL_AT_MOVE = """
import os, signal, sys
from casebook.site import sitefolder
from casebook.cli.main import main
moves = [0]
real = sitefolder._move
def move(source, target):
    moves[0] += 1
    if moves[0] == {n}:
        os.kill(os.getpid(), signal.SIGKILL)
    real(source, target)
sitefolder._move = move
sys.argv = ["casebook", "-C", {root!r}, "--today", {day!r}, "build"]
main()
"""


def test_an_update_killed_at_each_move_is_finished_by_the_next_build(
        versions: Versions) -> None:
    """kill -9 between two of the update's moves: the journal is there, every page is
    one state's or the other's, and the next build completes the new state."""
    root, site = versions.root, versions.root / "site"
    rng = random.Random(SEED + 2)
    present = "a"
    moves = [1, 2, 3, 5, 8, 10, 11, 12, 13, *rng.sample(range(1, 30), 4)]
    finished = 0
    for n in moves:
        target = "a" if present == "b" else "b"
        versions.put(target)
        script = KILL_AT_MOVE.format(n=n, root=str(root), day=DAYS[0])
        status = subprocess.run([sys.executable, "-c", script], capture_output=True,
                                timeout=300).returncode
        if status == 0:  # fewer moves than n: the update completed
            finished += 1
            assert digest(site) == versions.sites[target]
        else:
            assert status == -signal.SIGKILL
            assert list((root / ".casebook-cache").glob(JOURNALS)), f"move {n}: no journal"
            assert versions.belongs(site) == [], f"move {n}"
            assert digest(site) != versions.sites[target]  # half-way indeed
            assert casebook(root, "build").returncode == 0
            assert digest(site) == versions.sites[target], f"killed at move {n}"
            assert not list((root / ".casebook-cache").glob(JOURNALS))
        present = target
    assert finished < len(moves)
    versions.put("a")
    assert casebook(root, "build").returncode == 0
