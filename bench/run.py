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
Standard library only.
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
from typing import IO

HERE = Path(__file__).resolve().parent
TODAY = "2026-11-20"  # the generator dates nothing after this day
CACHE_DIR = ".casebook-cache"
SITE_DIR = "site"
USER_CACHE = "xdg-cache"  # the children's XDG_CACHE_HOME, in the benchmark's temp folder
SMALL_SET = 100  # files named on the command line for the pre-commit style run
HEAD_LINES = 5
WATCH_POLL = 0.002  # seconds between two looks at the saved case's page
WATCH_STOP = 10.0  # seconds a `watch` child gets to exit after SIGINT before it is killed


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


BUILD = ("--today", TODAY, "build")
MEASURES: tuple[Measure, ...] = (
    Measure("help", "`--help`", ("--help",)),
    Measure("validate-cold", "`validate` cold", ("validate",), remove=(CACHE_DIR,)),
    Measure("validate-warm", "`validate` warm", ("validate",)),
    Measure("next", f"`--today {TODAY} next`", ("--today", TODAY, "next")),
    Measure("validate-100", f"`validate` {SMALL_SET} files", ("validate", "{files}")),
    Measure("hugo", "hugo build (same content)", (), hugo=True),
    Measure("build-cold", "`build` cold", BUILD, remove=(SITE_DIR, CACHE_DIR), needs=("build",)),
    Measure("build-first", "`build` cold, first run after install", BUILD,
            remove=(SITE_DIR, CACHE_DIR), needs=("build",), first=True),
    Measure("build-warm", "`build` unchanged", BUILD, needs=("build",)),
    Measure("build-one", "`build`, one case changed", BUILD, needs=("build",), edit_one=True),
    Measure("watch-one", "`watch`, one case saved", ("--today", TODAY, "watch"),
            needs=("build", "watch"), watch=True, also=("build",)),
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


@dataclass
class Result:
    size: int
    measure: Measure
    times: list[float] = field(default_factory=list)
    rss_kib: int | None = None
    failure: Run | None = None
    skipped: str | None = None
    note: str = ""  # shown after the label, e.g. how many pages Hugo wrote

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
              env: Mapping[str, str] | None = None) -> Run:
    """Run `cmd` once; wall time, peak RSS of that child, exit code, first output lines."""
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
        timed_out = elapsed >= timeout and proc.returncode != 0
        if time_bin and rss_path.exists():
            lines = rss_path.read_text(errors="replace").split()
            rss = int(lines[-1]) if lines and lines[-1].isdigit() else None
        code = proc.returncode
        head: list[str] = []
        if code != 0:
            head = _head(err_path.read_bytes()) or _head(out_path.read_bytes())
        return Run(elapsed, rss, code, head, timed_out)


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


def child_env(user_cache: Path) -> dict[str, str]:
    """The environment of every casebook child: its user cache folder is the benchmark's."""
    return {**os.environ, "XDG_CACHE_HOME": str(user_cache)}


def timed(size: int, m: Measure, cmd: list[str], cwd: Path, repeat: int, timeout: float,
          prepare: Callable[[int], None] | None = None,
          env: Mapping[str, str] | None = None) -> Result:
    """One untimed warm-up run, then `repeat` timed runs; `prepare(attempt)` before each."""
    result = Result(size, m)
    for attempt in range(repeat + 1):  # attempt 0 is the untimed warm-up
        if prepare:
            prepare(attempt)
        run = run_child(cmd, cwd, timeout, env)
        if run.code != 0:
            result.failure = run
            result.times.clear()
            return result
        if attempt:
            result.times.append(run.seconds)
            if run.rss_kib is not None:
                result.rss_kib = max(result.rss_kib or 0, run.rss_kib)
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
            _progress(f"[{size:,}] {m.label.replace('`', '')} ...")
            if m.hugo:
                assert hugo_exe is not None
                found = [measure_hugo(hugo_exe, root, work, size, m, args.repeat, args.timeout)]
            elif m.watch:
                assert exe is not None
                found = measure_watch(exe, root, user_cache, size, m, files, args.repeat,
                                      args.timeout)
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
        targets = [("< 0.6 s", 0.6) if n <= 1_000 else ("— (< 0.6 s at 1,000)", None)]
        hugo = by_key.get((n, "hugo"))
        if hugo and hugo.median is not None:
            targets.append((f"≤ 1.0 × hugo = {hugo.median:.3f} s", hugo.median))
            targets.append((f"stretch ≤ 0.7 × hugo = {0.7 * hugo.median:.3f} s",
                            0.7 * hugo.median))
        else:
            targets.append(("≤ 1.0 × hugo (stretch ≤ 0.7 ×)", None))
        return targets
    if key == "build-first":
        cold = by_key.get((n, "build-cold"))
        if cold and cold.median is not None and r.median is not None:
            return [(f"— (`build` cold {r.median - cold.median:+.3f} s)", None)]
        return [("— (compare `build` cold)", None)]
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
    """casebook/hugo, medians, on the `build` cold row."""
    hugo = by_key.get((r.size, "hugo"))
    if r.measure.key != "build-cold" or r.median is None or not hugo or not hugo.median:
        return "—"
    return f"{r.median / hugo.median:.2f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def report(results: list[Result]) -> str:
    by_key = {(r.size, r.measure.key): r for r in results}
    with_hugo = any(r.measure.hugo and r.times for r in results)
    ratio_head, ratio_rule = (" casebook/hugo |", "---:|") if with_hugo else ("", "")
    lines = [
        f"| size | command | best s | median s | peak MiB |{ratio_head} target |",
        f"|---:|---|---:|---:|---:|{ratio_rule}---|",
    ]
    failures: list[str] = []
    for r in results:
        targets = _target(r, by_key)
        target = "; ".join(text for text, _limit in targets)
        size = f"{r.size:,}"
        label = f"{r.measure.label}, {r.note}" if r.note else r.measure.label
        blank = " — |" if with_hugo else ""
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
        ratio = f" {_ratio(r, by_key)} |" if with_hugo else ""
        lines.append(f"| {size} | {label} | {r.best:.3f} | {r.median:.3f} | {mib} |{ratio} "
                     f"{_cell(target)} |")
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
                 "ratio of the medians.")
    if failures:
        lines.append("")
        lines.append("Failures (first lines of stderr, else stdout; of a traceback, the last):")
        lines.append("")
        lines.extend(failures)
    return "\n".join(lines)


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
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    keys = _selected(args.only)

    exe: Path | None = args.casebook or Path(sys.executable).parent / "casebook"
    if not exe.exists():
        found = shutil.which("casebook") if args.casebook is None else None
        exe = Path(found) if found else None
    needs_casebook = any(not m.hugo for m in MEASURES if m.key in keys)
    if exe is None and needs_casebook:
        where = args.casebook or Path(sys.executable).parent / "casebook"
        print(f"run.py: no casebook executable at {where}; install the package or pass "
              "--casebook PATH", file=sys.stderr)
        return 2

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
        Trash.empty()

    hugo_exe = shutil.which("hugo") if "hugo" in keys else None
    hugo_text = f", {hugo_version(hugo_exe)}" if hugo_exe else ""
    print(f"casebook benchmark — {exe or 'no casebook'}; Python {platform.python_version()}"
          f"{hugo_text}, {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
          f"repeat {args.repeat}, seed {args.seed}{', git' if args.git else ''}")
    print()
    print(report(results))
    return 1 if any(r.failure for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
