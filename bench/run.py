"""Time casebook commands as whole processes on generated casebooks.

    python bench/run.py [--cases 1000,10000] [--repeat 3] [--only validate,next,...]

For each size a casebook is generated once (bench/generate.py) in a temporary folder; each
measurement then runs the `casebook` executable as a child process: one untimed warm-up run, then
--repeat timed runs (time.perf_counter around spawn and exit; peak RSS of that child alone from
os.wait4, or /usr/bin/time -f %M where wait4 is missing). A Markdown table goes to stdout,
progress to stderr. A command that fails is reported as FAILED with its exit code and the first
lines it wrote. When `hugo` is on PATH, "hugo build (same content)" times Hugo on a Hugo project
with the same case files (bench/hugo.py) right before `build` cold, and the table gives the ratio
casebook/hugo. `watch` is one long-running child instead: each timed run saves one case file as
an editor does and waits for its page in site/. Every casebook child gets XDG_CACHE_HOME set to a
folder in the benchmark's temp folder, so the user's own cache is never read or written.
`build` on the next day times the first build of a new day, each run from the site and cache a
build on TODAY left. The cold builds and that one also report the peak memory of the whole
process tree (the build's workers included: bench/shards.py's TreeSampler). `browser` runs
bench/browser.py (Playwright, Chromium) on the built site and adds a table of its figures; it
is skipped, with the reason, where either is missing. With --snapshot, every casebook child runs
on a copy of the casebook package taken at the start. Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from shards import TreeSampler

HERE = Path(__file__).resolve().parent
TODAY = "2026-11-20"  # the generator dates nothing after this day
NEXT_DAY = "2026-11-21"  # build-day: the first build of the day after TODAY
CHROMIUM = "/usr/bin/chromium"  # what bench/browser.py drives
CACHE_DIR = ".casebook-cache"
SITE_DIR = "site"
USER_CACHE = "xdg-cache"  # the children's XDG_CACHE_HOME, in the benchmark's temp folder
SMALL_SET = 100  # files named on the command line for the pre-commit style run
HEAD_LINES = 5
WATCH_POLL = 0.002  # seconds between two looks at the saved case's page
WATCH_STOP = 10.0  # seconds a `watch` child gets to exit after SIGINT before it is killed
OUTPUT_KEPT = 1 << 16  # bytes of a child's stdout kept (its last line, browser.py's table)


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    args: tuple[str, ...]  # after the executable; "{files}" expands to SMALL_SET case paths
    remove: tuple[str, ...] = ()  # folders of the casebook removed before every run (cold runs)
    needs: tuple[str, ...] = ()  # commands `casebook --help` must list
    edit_one: bool = False  # append a log entry to one case file before every run
    first: bool = False  # also remove the children's user cache folder before every run
    watch: bool = False  # one `casebook watch` child; each run saves a case (measure_watch)
    hugo: bool = False  # not casebook: Hugo on the same content (bench/hugo.py)
    also: tuple[str, ...] = ()  # --only names that select it besides its key and prefixes
    tree: bool = False  # also sample the memory of the child's process tree (its workers)
    day_before: bool = False  # start every run from the site and cache of a build on TODAY
    browser: bool = False  # bench/browser.py on the built site/ (Playwright, Chromium)


BUILD = ("--today", TODAY, "build")
MEASURES: tuple[Measure, ...] = (
    Measure("help", "`--help`", ("--help",)),
    Measure("validate-cold", "`validate` cold", ("validate",), remove=(CACHE_DIR,)),
    Measure("validate-warm", "`validate` warm", ("validate",)),
    Measure("next", f"`--today {TODAY} next`", ("--today", TODAY, "next")),
    Measure("validate-100", f"`validate` {SMALL_SET} files", ("validate", "{files}")),
    Measure("hugo", "hugo build (same content)", (), hugo=True),
    Measure("build-cold", "`build` cold", BUILD, remove=(SITE_DIR, CACHE_DIR), needs=("build",),
            tree=True),
    Measure("build-first", "`build` cold, first run after install", BUILD,
            remove=(SITE_DIR, CACHE_DIR), needs=("build",), first=True, tree=True),
    Measure("build-warm", "`build` unchanged", BUILD, needs=("build",)),
    Measure("build-day", f"`build` on the next day (`--today {NEXT_DAY}`)",
            ("--today", NEXT_DAY, "build"), needs=("build",), day_before=True, tree=True),
    Measure("build-one", "`build`, one case changed", BUILD, needs=("build",), edit_one=True),
    Measure("watch-one", "`watch`, one case saved", ("--today", TODAY, "watch"),
            needs=("build", "watch"), watch=True, also=("build",)),
    Measure("browser", "dashboard in Chromium, load event", (), needs=("build",), browser=True),
)
# The second row of watch-one: the rebuild time the `watch` child reports itself ("in N ms").
WATCH_WRITTEN = Measure("watch-written", "`watch`, change seen → site written", ())
EDIT_HEADING = f"## {TODAY} note — bench"


@dataclass
class Run:
    seconds: float
    rss_kib: int | None
    code: int
    head: list[str]
    timed_out: bool = False
    tree_rss_kib: int | None = None  # peak summed Rss of the child and its descendants
    tree_pss_kib: int | None = None  # the same for Pss
    tree_processes: int = 0  # the most processes seen in that tree at once
    last_line: str = ""  # the last line the child wrote on stdout
    output: str = ""  # what it wrote on stdout (the first OUTPUT_KEPT bytes)


@dataclass
class Result:
    size: int
    measure: Measure
    times: list[float] = field(default_factory=list)
    rss_kib: int | None = None
    failure: Run | None = None
    skipped: str | None = None
    note: str = ""  # shown after the label, e.g. how many pages Hugo wrote
    tree_rss_kib: int | None = None  # peak summed Rss of the process tree, over the runs
    tree_pss_kib: int | None = None
    figures: list[dict[str, float]] = field(default_factory=list)  # browser: one per run

    @property
    def best(self) -> float | None:
        return min(self.times) if self.times else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None


# --- running one child --------------------------------------------------------------------


def _head(data: bytes, lines: int = HEAD_LINES) -> list[str]:
    """The first lines of the output; of a Python traceback, the last ones (the error)."""
    text = data.decode("utf-8", errors="replace")
    kept = [line.rstrip() for line in text.splitlines() if line.strip()]
    if len(kept) > lines and any(line.startswith("Traceback") for line in kept):
        return ["…", *kept[-lines:]]
    return kept[:lines]


def _maxrss_kib(ru_maxrss: int) -> int:
    return ru_maxrss // 1024 if sys.platform == "darwin" else ru_maxrss  # bytes on macOS


def run_child(cmd: Sequence[str], cwd: Path, timeout: float,
              env: Mapping[str, str] | None = None, tree: bool = False) -> Run:
    """Run `cmd` once; wall time, peak RSS of that child, exit code, first output lines,
    its stdout; with `tree`, also the peaks of the summed Rss and Pss of the child and all
    its descendants, sampled every 0.2 s (bench/shards.py's TreeSampler)."""
    time_bin = shutil.which("time", path="/usr/bin") if not hasattr(os, "wait4") else None
    with tempfile.TemporaryDirectory(prefix="casebook-run-") as scratch:
        out_path, err_path = Path(scratch, "out"), Path(scratch, "err")
        rss_path = Path(scratch, "rss")
        full = list(cmd)
        if time_bin:
            full = [time_bin, "-f", "%M", "-o", str(rss_path), *full]
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            start = time.perf_counter()
            try:
                proc = subprocess.Popen(full, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                        stdout=out, stderr=err)
            except OSError as exc:
                return Run(0.0, None, 127, [f"cannot start {cmd[0]}: {exc}"])
            timer = threading.Timer(timeout, proc.kill)
            timer.start()
            sampler = _tree_sampler(proc.pid) if tree else None
            rss: int | None = None
            try:
                if hasattr(os, "wait4"):
                    _pid, status, usage = os.wait4(proc.pid, 0)
                    elapsed = time.perf_counter() - start
                    proc.returncode = os.waitstatus_to_exitcode(status)
                    rss = _maxrss_kib(usage.ru_maxrss)
                else:
                    proc.wait()
                    elapsed = time.perf_counter() - start
            finally:
                timer.cancel()
                if sampler is not None:
                    sampler.stop()
        timed_out = elapsed >= timeout and proc.returncode != 0
        if time_bin and rss_path.exists():
            lines = rss_path.read_text(errors="replace").split()
            rss = int(lines[-1]) if lines and lines[-1].isdigit() else None
        code = proc.returncode
        head: list[str] = []
        if code != 0:
            head = _head(err_path.read_bytes()) or _head(out_path.read_bytes())
        with open(out_path, "rb") as out:
            output = out.read(OUTPUT_KEPT).decode("utf-8", errors="replace")
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        found = Run(elapsed, rss, code, head, timed_out, last_line=lines[-1] if lines else "",
                    output=output)
        if sampler is not None:
            found.tree_rss_kib, found.tree_pss_kib = sampler.peak_rss_kib, sampler.peak_pss_kib
            found.tree_processes = sampler.peak_processes
        return found


def _tree_sampler(pid: int) -> TreeSampler | None:
    """A started sampler of the memory of `pid`'s process tree; None without /proc."""
    if not os.path.isdir(f"/proc/{pid}"):
        return None
    from shards import TreeSampler  # bench/shards.py

    return TreeSampler(pid).start()


class WatchFailed(Exception):
    """A `watch` child died, failed a rebuild or did not answer in time."""

    def __init__(self, why: str, timed_out: bool = False) -> None:
        super().__init__(why)
        self.why, self.timed_out = why, timed_out


def _temp_beside(path: Path) -> Path:
    """Where an editor-like save writes first: hidden, so the watcher ignores it."""
    return path.with_name(f".{path.name}.bench.tmp")


@contextlib.contextmanager
def _sigint_not_ignored() -> Iterator[None]:
    """A child inherits an ignored SIGINT (as in a script's background job), and could then
    not be stopped as Ctrl-C stops it. A handled SIGINT is reset to the default by exec, so
    it is handled (by a no-op) while the child starts."""
    ignored = (threading.current_thread() is threading.main_thread()
               and signal.getsignal(signal.SIGINT) == signal.SIG_IGN)
    if ignored:
        signal.signal(signal.SIGINT, lambda _signum, _frame: None)
    try:
        yield
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


class WatchChild:
    """`casebook watch` running in a casebook, in a session of its own; its output lines are
    read as they come (and all kept, for a failure's head). Never polled with Popen.poll() or
    wait(): stop() reaps it with os.wait4, for its peak RSS."""

    def __init__(self, cmd: Sequence[str], cwd: Path, env: Mapping[str, str] | None) -> None:
        with _sigint_not_ignored():
            self.proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         start_new_session=True)
        self.lines: queue.Queue[tuple[str, str]] = queue.Queue()  # (stream, line)
        self.output = {"stdout": bytearray(), "stderr": bytearray()}
        self.readers = [threading.Thread(target=self._read, args=(name, stream), daemon=True)
                        for name, stream in (("stdout", self.proc.stdout),
                                             ("stderr", self.proc.stderr))]
        for reader in self.readers:
            reader.start()
        self.code: int | None = None  # set once reaped
        self.rss_kib: int | None = None

    def _read(self, name: str, stream: IO[bytes] | None) -> None:
        assert stream is not None
        with stream:
            for raw in iter(stream.readline, b""):
                self.output[name] += raw
                self.lines.put((name, raw.decode("utf-8", errors="replace").rstrip()))

    @property
    def talking(self) -> bool:
        """Whether more output can come: a pipe is still open, or lines wait to be read."""
        return any(r.is_alive() for r in self.readers) or not self.lines.empty()

    def pending(self) -> list[tuple[str, str]]:
        """The lines that came since the last look, without waiting."""
        found: list[tuple[str, str]] = []
        while True:
            try:
                found.append(self.lines.get_nowait())
            except queue.Empty:
                return found

    def wait_for(self, wanted: Callable[[str, str], bool], what: str, timeout: float) -> str:
        """The first line for which `wanted(stream, line)` holds."""
        deadline = time.perf_counter() + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise WatchFailed(f"no {what} after {timeout:g} s", timed_out=True)
            try:
                stream, line = self.lines.get(timeout=min(left, 0.1))
            except queue.Empty:
                if not self.talking:
                    raise WatchFailed(f"exited before {what}") from None
                continue
            if wanted(stream, line):
                return line

    def save(self, path: Path, data: bytes, page: Path, marker: bytes, present: bool,
             relative: str, timeout: float) -> tuple[float, str]:
        """Save `data` to `path` as an editor does (a temp file beside it, renamed over it),
        then look at `page` every WATCH_POLL s until it holds `marker` (or, if not `present`,
        no longer does): seconds from the rename to that, and the child's line for that
        rebuild."""
        self.pending()  # older lines: not about this save
        temp = _temp_beside(path)
        temp.write_bytes(data)
        start = time.perf_counter()
        os.replace(temp, path)
        deadline = start + timeout
        seconds: float | None = None
        line: str | None = None
        while seconds is None or line is None:
            if seconds is None:
                try:
                    if (marker in page.read_bytes()) == present:
                        seconds = time.perf_counter() - start
                        continue
                except FileNotFoundError:
                    pass
            for stream, text in self.pending():
                if relative in text and " changed: " in text:
                    if stream == "stderr":  # a failed rebuild reports there
                        raise WatchFailed(f"the rebuild failed: {text}")
                    line = text
            if not self.talking:
                raise WatchFailed(f"exited after {relative} was saved")
            if time.perf_counter() >= deadline:
                what = "page" if seconds is None else "rebuild line"
                raise WatchFailed(f"no {what} {timeout:g} s after {relative} was saved",
                                  timed_out=True)
            time.sleep(WATCH_POLL)
        return seconds, line

    def _signal(self, kill: bool) -> None:
        """SIGKILL or SIGINT by os.kill: Popen's own methods poll first, which would reap the
        child before os.wait4 could (no other wait reaps it, so its pid is still its own)."""
        if hasattr(os, "wait4"):
            os.kill(self.proc.pid, signal.SIGKILL if kill else signal.SIGINT)
        elif kill:
            self.proc.kill()
        else:
            self.proc.send_signal(signal.SIGINT)

    def stop(self, grace: float = WATCH_STOP) -> None:
        """SIGINT (Ctrl-C), then SIGKILL after `grace` seconds (at once when 0); reap it: its
        exit code and peak RSS."""
        if self.code is not None:
            return
        killed: list[bool] = []

        def kill() -> None:
            killed.append(True)
            self._signal(kill=True)

        timer = threading.Timer(grace, kill)
        if grace > 0:
            self._signal(kill=False)
            timer.start()
        else:
            kill()
        try:
            if hasattr(os, "wait4"):
                _pid, status, usage = os.wait4(self.proc.pid, 0)
                self.proc.returncode = os.waitstatus_to_exitcode(status)
                self.rss_kib = _maxrss_kib(usage.ru_maxrss)
            else:
                self.proc.wait()
        finally:
            timer.cancel()
        self.code = self.proc.returncode
        for reader in self.readers:
            reader.join(timeout=5)
        if killed and grace > 0:
            raise WatchFailed(f"still running {grace:g} s after SIGINT: killed")

    def head(self) -> list[str]:
        return _head(bytes(self.output["stderr"])) or _head(bytes(self.output["stdout"]))


# --- the benchmark ------------------------------------------------------------------------


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _load() -> str:
    """The load averages over 1, 5 and 15 minutes."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _generator() -> Callable[[Path, int, int], None]:
    sys.path.insert(0, str(HERE))
    from generate import generate

    return generate


class Trash:
    """Where the benchmark puts the outputs it clears between runs, emptied only when it ends.

    A run must start without the last run's site and cache, but not right after deleting
    them: on an ext4 file system without a journal (this machine kind's disk), the kernel
    will not reuse an inode freed less than 60-300 s earlier, and it finds that out by
    reading each recently freed inode as it looks for a free one. Files created just after
    30,000 were deleted cost up to 1 ms of kernel time each instead of 0.03 ms, by far the
    biggest and most erratic part of a cold build, and it is a property of the disk, not of
    the program. Every tool measured, Hugo included, gets the same treatment."""

    folder: Path | None = None
    count = 0

    @classmethod
    def put(cls, path: Path) -> None:
        if not path.exists() and not path.is_symlink():
            return
        if cls.folder is None:
            cls.folder = Path(tempfile.mkdtemp(prefix="casebook-bench-trash-"))
        cls.count += 1
        path.rename(cls.folder / str(cls.count))

    @classmethod
    def empty(cls) -> None:
        if cls.folder is not None:
            shutil.rmtree(cls.folder, ignore_errors=True)
            cls.folder = None


def _remove(path: Path) -> None:
    Trash.put(path)


def _git_commit(root: Path) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "generated casebook"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


CODE_ENV: dict[str, str] = {}  # PYTHONPATH on a copy of the casebook package (--snapshot)


def child_env(user_cache: Path) -> dict[str, str]:
    """The environment of every casebook child: its user cache folder is the benchmark's
    (and with --snapshot, its casebook package the copy)."""
    return {**os.environ, **CODE_ENV, "XDG_CACHE_HOME": str(user_cache)}


def _peak(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def timed(size: int, m: Measure, cmd: list[str], cwd: Path, repeat: int, timeout: float,
          prepare: Callable[[int], None] | None = None,
          env: Mapping[str, str] | None = None) -> Result:
    """One untimed warm-up run, then `repeat` timed runs; `prepare(attempt)` before each."""
    result = Result(size, m)
    for attempt in range(repeat + 1):  # attempt 0 is the untimed warm-up
        if prepare:
            prepare(attempt)
        run = run_child(cmd, cwd, timeout, env, tree=m.tree)
        if run.code != 0:
            result.failure = run
            result.times.clear()
            return result
        if attempt:
            result.times.append(run.seconds)
            result.rss_kib = _peak(result.rss_kib, run.rss_kib)
            result.tree_rss_kib = _peak(result.tree_rss_kib, run.tree_rss_kib)
            result.tree_pss_kib = _peak(result.tree_pss_kib, run.tree_pss_kib)
    return result


def measure(exe: Path, root: Path, user_cache: Path, size: int, m: Measure, files: list[str],
            repeat: int, timeout: float) -> Result:
    args: list[str] = []
    for arg in m.args:
        args.extend(files if arg == "{files}" else [arg])
    edited = root / files[0]
    original = edited.read_bytes() if m.edit_one else b""

    def prepare(attempt: int) -> None:
        for name in m.remove:
            _remove(root / name)
        if m.first:  # no compiled templates, no seal key: as on the first run ever
            _remove(user_cache)
        if m.edit_one:  # a different text each run, so every run sees one changed case
            text = original if original.endswith(b"\n") else original + b"\n"
            entry = f"\n{EDIT_HEADING}\nBench edit {attempt + 1}: one case changed.\n"
            edited.write_bytes(text + entry.encode("utf-8"))

    try:
        return timed(size, m, [str(exe), *args], root, repeat, timeout, prepare,
                     child_env(user_cache))
    finally:
        if m.edit_one:
            edited.write_bytes(original)


def measure_watch(exe: Path, root: Path, user_cache: Path, size: int, m: Measure,
                  files: list[str], repeat: int, timeout: float) -> list[Result]:
    """One `casebook watch` child on the built casebook; each run (one untimed warm-up, then
    `repeat`) saves the same case file with a new log entry and times the rename until the
    case's page holds the entry. Two results: save → page on disk, and the rebuild time the
    child reports ("in N ms", from the change it saw to the site written)."""
    result = Result(size, m, note="save → page on disk")
    written = Result(size, WATCH_WRITTEN, note="as it reports (\"in N ms\")")
    full = 0  # timed runs the child did as a full build, not in place ("built", not "updated")
    env = child_env(user_cache)
    relative = files[0]
    edited = root / relative
    cid = relative.removeprefix("cases/").removesuffix(".md")
    page = root / SITE_DIR / "cases" / f"{cid}.html"
    original = edited.read_bytes()
    text = original if original.endswith(b"\n") else original + b"\n"
    if not (root / SITE_DIR).is_dir():  # the site that watch starts from
        run = run_child([str(exe), *BUILD], root, timeout, env)
        if run.code != 0:
            result.failure = run
            return [result]
    try:
        child = WatchChild([str(exe), *m.args], root, env)
    except OSError as exc:
        result.failure = Run(0.0, None, 127, [f"cannot start {exe}: {exc}"])
        return [result]
    saved = False  # the case file differs from its original bytes
    try:
        try:
            child.wait_for(lambda stream, line: stream == "stdout" and line.startswith("watching"),
                           "\"watching\" line", timeout)
            marker = b""
            for attempt in range(repeat + 1):  # attempt 0 is the untimed warm-up
                marker = f"Bench save {attempt + 1}, pid {os.getpid()}".encode()
                entry = f"\n{EDIT_HEADING}\n".encode() + marker + b": one case saved.\n"
                saved = True
                seconds, line = child.save(edited, text + entry, page, marker, True, relative,
                                           timeout)
                ms = re.search(r"\bin (\d+) ms\b", line)
                if ms is None:
                    raise WatchFailed(f"no \"in N ms\" in its line: {line}")
                if attempt:
                    result.times.append(seconds)
                    written.times.append(int(ms.group(1)) / 1000)
                    full += " changed: built " in line
            child.save(edited, original, page, marker, False, relative, timeout)
            saved = False
            child.stop()
            if child.code != 0:
                raise WatchFailed(f"exit {child.code} after SIGINT")
        except WatchFailed as failed:
            with contextlib.suppress(WatchFailed):  # killed: the failure is told already
                child.stop(0 if failed.timed_out else WATCH_STOP)
            result.failure = Run(0.0, None, child.code if child.code is not None else -1,
                                 [failed.why, *child.head()], failed.timed_out)
            result.times.clear()
            return [result]
    finally:
        child.stop(0)  # Ctrl-C or an error here: no child left behind
        _temp_beside(edited).unlink(missing_ok=True)
        if saved:
            edited.write_bytes(original)
    result.rss_kib = child.rss_kib
    if full:
        written.note += f"; {full} of {repeat} were full builds"
    return [result, written]


def _wait_deleters(root: Path, limit: float = 120.0) -> None:
    """Wait (at most `limit` s) until no process deletes anything under `root`: a build
    that replaces a site hands the old one to a process of its own, in a session of its
    own, which deletes it in the background (casebook.site.sitefolder.discard). The next
    run should not share the machine with it."""
    prefix = str(root) + os.sep
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        busy = False
        for name in os.listdir("/proc") if os.path.isdir("/proc") else ():
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/cmdline", "rb") as fh:
                    argv = fh.read().decode("utf-8", errors="replace").split("\0")
            except OSError:
                continue
            if (any("rmtree" in arg for arg in argv)
                    and any(arg.startswith(prefix) for arg in argv)):
                busy = True
                break
        if not busy:
            return
        time.sleep(0.1)


class SnapshotChanged(Exception):
    """A file of the state build-day starts from changed: a run wrote into it in place."""


def _files_state(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every file under `folder`: size, mtime and inode."""
    found: dict[str, tuple[int, int, int]] = {}
    for top, _dirs, files in os.walk(folder):
        for name in files:
            st = os.lstat(os.path.join(top, name))
            found[os.path.relpath(os.path.join(top, name), folder)] = (
                st.st_size, st.st_mtime_ns, st.st_ino)
    return found


def measure_day(exe: Path, root: Path, user_cache: Path, work: Path, size: int, m: Measure,
                repeat: int, timeout: float) -> Result:
    """`build` on NEXT_DAY, each run (one untimed warm-up, then `repeat`) from the same
    state: the site/ and .casebook-cache/ a build on TODAY left. Those two folders are moved
    aside once; before every run the last run's are moved to the trash and the folders are
    made again with every file a hard link to the one set aside. A build writes no file of
    the site or cache in place (new files, temp files renamed over old ones), which the
    benchmark checks; and when it deletes the old site in the background (sitefolder.discard),
    the files' inodes stay in use, so the next run does not start right after tens of
    thousands of inodes were freed (see Trash). Left in that TODAY state at the end."""
    result = Result(size, m)
    env = child_env(user_cache)
    saved = work / "day-before"
    run = run_child([str(exe), *BUILD], root, timeout, env)
    if run.code != 0:
        result.failure = run
        return result
    _wait_deleters(root)
    _remove(saved)
    saved.mkdir()
    for name in (SITE_DIR, CACHE_DIR):
        if (root / name).exists():
            (root / name).rename(saved / name)
    state = _files_state(saved)

    def restore(_attempt: int = 0) -> None:
        _wait_deleters(root)  # the last run's old site, deleted in the background
        if _files_state(saved) != state:
            raise SnapshotChanged(f"a file under {saved} changed: a run wrote into the site "
                                  "or cache in place, so the runs did not start alike")
        for name in (SITE_DIR, CACHE_DIR):
            _remove(root / name)
            if (saved / name).exists():
                shutil.copytree(saved / name, root / name, symlinks=True,
                                copy_function=os.link)
        os.sync()  # the new folders' metadata, not during the timed run

    try:
        return timed(size, m, [str(exe), *m.args], root, repeat, timeout, restore, env)
    except SnapshotChanged as changed:
        result.failure = Run(0.0, None, 1, [str(changed)])
        return result
    finally:
        with contextlib.suppress(SnapshotChanged):
            restore()
        _remove(saved)


BROWSER_COLUMNS = ("index KB", "load ms", "sort ms", "filter ms", ">50ms", "worst ms",
                   "DOM rows", "heap MB", "renderer MB")  # bench/browser.py's table, in order


def browser_missing() -> str | None:
    """Why bench/browser.py cannot run here, if it cannot."""
    import importlib.util

    if importlib.util.find_spec("playwright") is None:
        return f"no Playwright in {sys.executable} (pip install playwright)"
    if not Path(CHROMIUM).exists():
        return f"no {CHROMIUM} (Debian's chromium package)"
    return None


def _browser_figures(output: str) -> dict[str, float] | None:
    """The row of bench/browser.py's table for `--site` (named "site"), by column."""
    lines = output.splitlines()
    for index, line in enumerate(lines[:-1]):
        if all(column in line for column in BROWSER_COLUMNS):
            values = lines[index + 1].split()
            if len(values) != len(BROWSER_COLUMNS) + 1 or values[0] != "site":
                return None
            try:
                return dict(zip(BROWSER_COLUMNS, map(float, values[1:]), strict=True))
            except ValueError:
                return None
    return None


def measure_browser(exe: Path, root: Path, user_cache: Path, size: int, m: Measure,
                    repeat: int, timeout: float) -> Result:
    """bench/browser.py on the casebook's site (built on TODAY first, untimed: build-day
    leaves another day's): one untimed warm-up run, then `repeat`, each a child of its own
    (`--repeat 1`: a fresh Chromium, one page). The times are the load event's; every
    figure of every run is kept for the browser table."""
    result = Result(size, m, note="all figures in the table below")
    run = run_child([str(exe), *BUILD], root, timeout, child_env(user_cache))
    if run.code != 0:
        result.failure = run
        return result
    cmd = [sys.executable, str(HERE / "browser.py"), "--site", str(root / SITE_DIR),
           "--repeat", "1"]
    for attempt in range(repeat + 1):  # attempt 0 is the untimed warm-up
        run = run_child(cmd, HERE.parent, timeout)
        figures = _browser_figures(run.output) if run.code == 0 else None
        if figures is None:
            if run.code == 0:
                run.code = 1
                run.head = ["unexpected output from bench/browser.py:",
                            *_head(run.output.encode())]
            result.failure = run
            result.times.clear()
            result.figures.clear()
            return result
        if attempt:
            result.figures.append(figures)
            result.times.append(figures["load ms"] / 1000)
    return result


def measure_hugo(hugo_exe: str, root: Path, work: Path, size: int, m: Measure, repeat: int,
                 timeout: float) -> Result:
    """Hugo on a Hugo project with the same case files; cold: no output, cache or resources/."""
    import hugo  # bench/hugo.py, importable once _generator() put bench/ on sys.path

    project, out, cache = work / "hugo", work / "hugo-public", work / "hugo-cache"
    started = time.perf_counter()
    cases = hugo.make_project(root, project)
    _progress(f"[{size:,}]   Hugo project with {cases:,} cases in "
              f"{time.perf_counter() - started:.2f} s ({project})")
    result = timed(size, m, hugo.command(hugo_exe, out, cache), project, repeat, timeout,
                   lambda _attempt: hugo.clean(project, out, cache, Trash.put))
    if not result.failure:
        result.note = f"{hugo.count_pages(out):,} pages"
    hugo.clean(project, out, cache, Trash.put)
    return result


def listed_commands(exe: Path, cwd: Path, timeout: float, env: Mapping[str, str]) -> set[str]:
    """The commands `casebook --help` lists (build, watch, …)."""
    try:
        proc = subprocess.run([str(exe), "--help"], cwd=cwd, env=env, capture_output=True,
                              text=True, errors="replace", timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return set()
    text = proc.stdout + proc.stderr
    _before, found, commands = text.partition("Commands:")
    return set(re.findall(r"^\s+([a-z][\w-]*)\b", commands if found else text, re.MULTILINE))


def hugo_version(hugo_exe: str) -> str:
    try:
        proc = subprocess.run([hugo_exe, "version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "hugo"
    found = re.search(r"v\d+\.\d+\.\d+", proc.stdout)
    return f"hugo {found.group(0)}" if found else "hugo"


def bench_size(exe: Path | None, size: int, keys: list[str],
               args: argparse.Namespace) -> list[Result]:
    work = Path(tempfile.mkdtemp(prefix=f"casebook-bench-{size}-"))
    root = work / "casebook"
    user_cache = work / USER_CACHE  # never the user's own ~/.cache
    try:
        started = time.perf_counter()
        _generator()(root, size, args.seed)
        _progress(f"[{size:,}] generated {size:,} cases in {time.perf_counter() - started:.2f} s"
                  f" ({root})")
        if args.git:
            started = time.perf_counter()
            _git_commit(root)
            _progress(f"[{size:,}] committed to git in {time.perf_counter() - started:.2f} s")
        files = sorted(p.relative_to(root).as_posix() for p in (root / "cases").rglob("*.md"))
        files = files[:SMALL_SET]
        listed = (set() if exe is None
                  else listed_commands(exe, root, args.timeout, child_env(user_cache)))
        hugo_exe = shutil.which("hugo")
        results: list[Result] = []
        for m in MEASURES:
            if m.key not in keys:
                continue
            if m.hugo and not hugo_exe:
                results.append(Result(size, m, skipped="no `hugo` on PATH"))
                continue
            missing = [name for name in m.needs if name not in listed]
            if missing:
                results.append(Result(size, m, skipped=f"no `{missing[0]}` in `casebook --help`"))
                continue
            why = browser_missing() if m.browser else None
            if why:
                results.append(Result(size, m, skipped=why))
                _progress(f"[{size:,}] {m.label.replace('`', '')}: skipped, {why}")
                continue
            _progress(f"[{size:,}] {m.label.replace('`', '')} ...")
            if m.hugo:
                assert hugo_exe is not None
                found = [measure_hugo(hugo_exe, root, work, size, m, args.repeat, args.timeout)]
            elif m.watch:
                assert exe is not None
                found = measure_watch(exe, root, user_cache, size, m, files, args.repeat,
                                      args.timeout)
            elif m.day_before:
                assert exe is not None
                found = [measure_day(exe, root, user_cache, work, size, m, args.repeat,
                                     args.timeout)]
            elif m.browser:
                assert exe is not None
                found = [measure_browser(exe, root, user_cache, size, m, args.repeat,
                                         args.timeout)]
            else:
                assert exe is not None
                found = [measure(exe, root, user_cache, size, m, files, args.repeat,
                                 args.timeout)]
            for result in found:
                if result.failure:
                    failure = result.failure
                    why = "timed out" if failure.timed_out else f"exit {failure.code}"
                    _progress(f"[{size:,}]   FAILED ({why})")
                else:
                    note = f" ({result.note})" if result.note else ""
                    _progress(f"[{size:,}]   best {result.best:.3f} s{note}")
            results.extend(found)
        return results
    finally:
        if args.keep:
            _progress(f"[{size:,}] kept {root}")
        else:
            Trash.put(work)  # deleted at the end, not before the next size's runs


# --- the report ---------------------------------------------------------------------------


def _target(r: Result, by_key: dict[tuple[int, str], Result]) -> list[tuple[str, float | None]]:
    """The row's targets: each one's text and its limit in seconds (None: no verdict)."""
    key, n = r.measure.key, r.size
    if key == "help":
        return [("< 0.15 s", 0.15)]
    if key == "validate-cold":
        return [("< 2.5 s", 2.5) if n <= 10_000 else ("— (< 2.5 s at 10,000)", None)]
    if key == "validate-warm":
        return [("< 0.5 s", 0.5) if n <= 10_000 else ("— (< 0.5 s at 10,000)", None)]
    if key == "validate-100":
        return [("< 0.3 s", 0.3)]
    if key == "next":
        for base, name in (("validate-warm", "validate warm"), ("validate-cold", "validate cold")):
            other = by_key.get((n, base))
            if other and other.median is not None:
                limit = 1.5 * other.median
                return [(f"≤ 1.5 × {name} = {limit:.3f} s", limit)]
        return [("≤ 1.5 × validate", None)]
    if key == "build-cold":
        targets: list[tuple[str, float | None]] = [
            ("< 0.6 s", 0.6) if n <= 1_000 else ("— (< 0.6 s at 1,000)", None)]
        hugo = by_key.get((n, "hugo"))
        if hugo and hugo.median is not None:
            targets.append((f"≤ 1.0 × hugo = {hugo.median:.3f} s", hugo.median))
            targets.append((f"stretch ≤ 0.7 × hugo = {0.7 * hugo.median:.3f} s",
                            0.7 * hugo.median))
        else:
            targets.append(("≤ 1.0 × hugo (stretch ≤ 0.7 ×)", None))
        return targets
    if key in ("build-first", "build-day"):
        cold = by_key.get((n, "build-cold"))
        if cold and cold.median is not None and r.median is not None:
            return [(f"— (`build` cold {r.median - cold.median:+.3f} s)", None)]
        return [("— (compare `build` cold)", None)]
    if key == "browser":
        return [("load ≤ 1 s", 1.0)]
    if key in ("build-warm", "build-one"):
        return [("< 1 s", 1.0)]
    if key == "watch-one":
        return [("< 0.25 s save → disk", 0.25)]
    if key == "watch-written":
        return [("< 0.1 s change seen → written", 0.1)]
    if key == "hugo":
        return [("— (reference for `build` cold)", None)]
    return [("—", None)]


def _ratio(r: Result, by_key: dict[tuple[int, str], Result]) -> str:
    """casebook/hugo, medians, on the rows of `build` cold and on the next day."""
    hugo = by_key.get((r.size, "hugo"))
    if (r.measure.key not in ("build-cold", "build-day") or r.median is None or not hugo
            or not hugo.median):
        return "—"
    return f"{r.median / hugo.median:.2f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def report(results: list[Result]) -> str:
    by_key = {(r.size, r.measure.key): r for r in results}
    with_hugo = any(r.measure.hugo and r.times for r in results)
    with_tree = any(r.tree_rss_kib is not None for r in results)
    ratio_head, ratio_rule = (" casebook/hugo |", "---:|") if with_hugo else ("", "")
    tree_head, tree_rule = (" tree peak RSS / PSS MiB |", "---:|") if with_tree else ("", "")
    lines = [
        f"| size | command | best s | median s | peak MiB |{tree_head}{ratio_head} target |",
        f"|---:|---|---:|---:|---:|{tree_rule}{ratio_rule}---|",
    ]
    failures: list[str] = []
    for r in results:
        targets = _target(r, by_key)
        target = "; ".join(text for text, _limit in targets)
        size = f"{r.size:,}"
        label = f"{r.measure.label}, {r.note}" if r.note else r.measure.label
        blank = (" — |" if with_tree else "") + (" — |" if with_hugo else "")
        if r.skipped:
            lines.append(f"| {size} | {label} | skipped | — | — |{blank} {_cell(r.skipped)} |")
            continue
        if r.failure:
            why = "timed out" if r.failure.timed_out else f"exit {r.failure.code}"
            lines.append(f"| {size} | {label} | FAILED ({why}) | — | — |{blank} {target} |")
            failures.append(f"- {size} {r.measure.label}: FAILED ({why})")
            failures.extend(f"      {line}" for line in r.failure.head or ["(no output)"])
            continue
        assert r.best is not None and r.median is not None
        median = r.median
        target = "; ".join(text + ("" if limit is None else (" ✓" if median <= limit else " ✗"))
                           for text, limit in targets)
        mib = "—" if r.rss_kib is None else f"{r.rss_kib / 1024:.1f}"
        tree = ""
        if with_tree:
            pss = "—" if r.tree_pss_kib is None else f"{r.tree_pss_kib / 1024:.1f}"
            tree = (" — |" if r.tree_rss_kib is None
                    else f" {r.tree_rss_kib / 1024:.1f} / {pss} |")
        ratio = f" {_ratio(r, by_key)} |" if with_hugo else ""
        lines.append(f"| {size} | {label} | {r.best:.3f} | {r.median:.3f} | {mib} |{tree}"
                     f"{ratio} {_cell(target)} |")
    lines.append("")
    lines.append("✓/✗: the median against the target. Each row: 1 untimed warm-up run, then the "
                 "timed runs; cold runs clear `.casebook-cache/` (validate) or `site/` and "
                 "`.casebook-cache/` (build) before every run (moved aside, deleted when the "
                 "benchmark ends), \"first run after install\" "
                 f"also the children's user cache folder (XDG_CACHE_HOME=<temp>/{USER_CACHE}: "
                 "compiled templates); \"one case changed\" appends a "
                 f"`{EDIT_HEADING}` entry (a new text each run) to one case file first. "
                 "watch: one `casebook watch` child; each run saves that entry to one case file "
                 "as an editor does (temp file, rename) and times the rename until the case's "
                 "page in `site/` holds it; \"change seen → site written\" is the rebuild time "
                 "the child itself reports; peak MiB is the child's over the whole session. "
                 "hugo: `hugo --quiet --ignoreCache` into a cleared output folder with a fresh "
                 "cache folder, on the same case files (bench/hugo.py); casebook/hugo is the "
                 "ratio of the medians. "
                 f"Next day: `--today {NEXT_DAY} build`, every run from the `site/` and "
                 f"`.casebook-cache/` a `--today {TODAY} build` left (set aside once, made "
                 "again of hard links to those files before each run), the first build of a "
                 "new day. Peak MiB: the main "
                 "process's own max RSS (wait4)"
                 + ("; tree peak: the largest sums of Rss and of Pss (/proc/PID/smaps_rollup) "
                    "over the process and all its descendants (the build's workers), sampled "
                    "every 0.2 s." if with_tree else "."))
    browser = browser_report([r for r in results if r.figures])
    if browser:
        lines.append("")
        lines.extend(browser)
    if failures:
        lines.append("")
        lines.append("Failures (first lines of stderr, else stdout; of a traceback, the last):")
        lines.append("")
        lines.extend(failures)
    return "\n".join(lines)


# (figure of bench/browser.py, heading, limit or None, format): its targets, as browser.py has them
BROWSER_TABLE: tuple[tuple[str, str, float | None, str], ...] = (
    ("index KB", "index.html KiB", 300, "{:,.0f}"),
    ("load ms", "load ms", 1000, "{:,.0f}"),
    ("sort ms", "sort → frame ms", 100, "{:,.1f}"),
    ("filter ms", "filter key → frame ms", 100, "{:,.1f}"),
    ("worst ms", "slowest scroll frame ms", 50, "{:,.1f}"),
    (">50ms", "frames > 50 ms", 0, "{:,.0f}"),
    ("DOM rows", "rows in DOM", None, "{:,.0f}"),
    ("heap MB", "JS heap MiB", None, "{:,.1f}"),
    ("renderer MB", "renderer peak MiB", 300, "{:,.1f}"),
)


def browser_report(results: list[Result]) -> list[str]:
    """The second table: every figure of bench/browser.py, medians of the timed runs."""
    if not results:
        return []
    runs = {len(r.figures) for r in results}
    lines = [f"Dashboard in Chromium (`bench/browser.py --site site/ --repeat 1`, a fresh "
             f"headless {CHROMIUM} each run: 1 untimed warm-up, then medians of "
             f"{'/'.join(map(str, sorted(runs)))} runs; sort: the slowest of 4 columns, "
             "filter: the slowest of 5 keystrokes, scroll: 180 frames):", "",
             "| size | " + " | ".join(heading for _k, heading, _l, _f in BROWSER_TABLE) + " |",
             "|---:|" + "---:|" * len(BROWSER_TABLE)]
    for r in results:
        cells = []
        for key, _heading, limit, fmt in BROWSER_TABLE:
            value = statistics.median(run[key] for run in r.figures)
            mark = "" if limit is None else (" ✓" if value <= limit else " ✗")
            cells.append(fmt.format(value) + mark)
        lines.append(f"| {r.size:,} | " + " | ".join(cells) + " |")
    lines.append("| target | " + " | ".join(
        "—" if limit is None else ("0" if limit == 0 else f"≤ {limit:,}")
        for _k, _h, limit, _f in BROWSER_TABLE) + " |")
    return lines


# --- command line -------------------------------------------------------------------------


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not sizes or any(n < SMALL_SET for n in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be at least {SMALL_SET}")
    return sizes


def _selected(only: str | None) -> list[str]:
    keys = [m.key for m in MEASURES]
    if not only:
        return keys
    wanted = [w.strip() for w in only.split(",") if w.strip()]

    def selects(w: str, m: Measure) -> bool:
        return m.key == w or m.key.startswith(w + "-") or w in m.also

    unknown = [w for w in wanted if not any(selects(w, m) for m in MEASURES)]
    if unknown:
        raise SystemExit(f"run.py: unknown --only {', '.join(unknown)}; choose from "
                         f"{', '.join(keys)} (or a prefix such as validate, build)")
    return [m.key for m in MEASURES if any(selects(w, m) for w in wanted)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the casebook command line.")
    parser.add_argument("--cases", type=_sizes, default=[1000, 10000],
                        help="comma-separated casebook sizes (default 1000,10000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per command (default 3)")
    parser.add_argument("--only", help="comma-separated measurements or prefixes: "
                        + ", ".join(m.key for m in MEASURES))
    parser.add_argument("--casebook", type=Path,
                        help="the casebook executable (default: next to this Python)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--git", action="store_true",
                        help="commit each generated casebook to a fresh git repository first")
    parser.add_argument("--keep", action="store_true", help="keep the generated casebooks")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds before one run is killed (default 600)")
    parser.add_argument("--snapshot", action="store_true",
                        help="run every casebook child on a copy of the casebook package taken "
                        "at the start (PYTHONPATH), not on files someone may be editing")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    keys = _selected(args.only)

    given: Path = args.casebook or Path(sys.executable).parent / "casebook"
    exe: Path | None = given.absolute()  # the children run in the casebook's folder
    if not given.exists():
        found = shutil.which("casebook") if args.casebook is None else None
        exe = Path(found).absolute() if found else None
    needs_casebook = any(not m.hugo for m in MEASURES if m.key in keys)
    if exe is None and needs_casebook:
        where = args.casebook or Path(sys.executable).parent / "casebook"
        print(f"run.py: no casebook executable at {where}; install the package or pass "
              "--casebook PATH", file=sys.stderr)
        return 2

    code_text, copy = "", None
    if args.snapshot and needs_casebook:
        from shards import snapshot_code  # bench/shards.py

        copy = Path(tempfile.mkdtemp(prefix="casebook-bench-code-"))
        env, described = snapshot_code(copy)
        CODE_ENV.update(env)
        code_text = f"; code: {described}"
    load_before = _load()
    results: list[Result] = []
    try:
        for size in args.cases:
            results.extend(bench_size(exe, size, keys, args))
    except KeyboardInterrupt:
        print("run.py: interrupted", file=sys.stderr)
        return 130
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = exc.stderr.decode(errors="replace").strip() if isinstance(
            exc, subprocess.CalledProcessError) and exc.stderr else ""
        print(f"run.py: {exc} {detail}".rstrip(), file=sys.stderr)
        if not results:
            return 2
    finally:
        load_after = _load()
        Trash.empty()
        if copy is not None:
            shutil.rmtree(copy, ignore_errors=True)

    hugo_exe = shutil.which("hugo") if "hugo" in keys else None
    hugo_text = f", {hugo_version(hugo_exe)}" if hugo_exe else ""
    print(f"casebook benchmark — {exe or 'no casebook'}; Python {platform.python_version()}"
          f"{hugo_text}, {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
          f"repeat {args.repeat}, seed {args.seed}{', git' if args.git else ''}{code_text}; "
          f"load average before {load_before}, after {load_after}")
    print()
    print(report(results))
    return 1 if any(r.failure for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
