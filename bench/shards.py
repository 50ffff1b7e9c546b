"""A sharded build against the one-machine build: `build --shard I/N` on each, then `--merge`.

    python bench/shards.py --cases 100000 --shards 8 [--repeat 1] [--work DIR] [--keep-site]
    python bench/shards.py --book DIR --shards 8

With `--cases N` a casebook of N cases is generated (bench/generate.py, `--seed`) into the work
folder (`--work`, default a new temp folder); `--book DIR` uses an existing one instead (its
site/ and .casebook-cache/, if any, are set aside and put back at the end). Then, `--repeat`
times:

1. the one-machine cold build, `casebook --today DAY build`: no site/, no .casebook-cache/;
   its site/ is then moved to WORK/site-one;
2. each shard i of N, `casebook --today DAY build --shard i/N --out WORK/shard-i`, as a fresh
   CI machine would run it: no .casebook-cache/ (a shard run loads and checks the whole
   casebook and writes its tables there, as a build does), no earlier shard folder;
3. the merge, `casebook --today DAY build --merge WORK/shard-1 … WORK/shard-N`, with no site/
   and no .casebook-cache/ (a fresh checkout), into the casebook's site/.

Every run is a whole process; the wall time is spawn to exit. Its memory is that of the whole
process tree (the build forks workers): every SAMPLE_INTERVAL s the sampler sums Rss and Pss
of /proc/PID/smaps_rollup over the process and all its descendants; the peaks of those sums are
reported, with the main process's own max RSS (os.wait4). `TreeSampler` is what bench/run.py
uses too.

Every casebook child runs with XDG_CACHE_HOME in the work folder (never the user's own
cache), which an untimed build of a 100-case casebook fills first with the compiled templates,
as run.py's `build-cold` keeps it (a machine that has run casebook before); with `--first` it
is emptied before every run instead (a CI machine that installed casebook just now). What a
run clears is moved into WORK/trash and deleted at the end (see run.Trash for why).

After the last repeat, the merged site is compared with the one-machine site: the same files
(hidden ones included) with the same bytes; mismatches are listed. Output: a Markdown table on
stdout, progress on stderr; exit status 1 when a run failed or the sites differ. Standard
library only.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
sys.modules.setdefault("shards", sys.modules[__name__])  # run.py's `import shards`: this one

TODAY = "2026-11-20"
CACHE_DIR = ".casebook-cache"
SAMPLE_INTERVAL = 0.2  # seconds between two samples of a process tree's memory
TARGET = 1 / 6  # the slowest shard / the one-machine build, at 8 shards
WARM_CASES = 100  # the untimed build that compiles the templates into the user cache
SHOWN = 10  # mismatches listed per kind


# --- the memory of a process tree -----------------------------------------------------------


def _children_files() -> bool:
    """Whether this kernel has /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN)."""
    return os.path.exists(f"/proc/self/task/{os.getpid()}/children")


def _parents() -> dict[int, list[int]]:
    """Every process's children, from the parent pid in each /proc/PID/stat."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        fields = data[data.rfind(b")") + 2:].split()  # after "pid (comm) ": state, ppid, …
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(name))
    return children


def tree_pids(pid: int) -> list[int]:
    """`pid` and all its descendants alive now (a process that ends meanwhile is left out)."""
    found, index = [pid], 0
    table = None if _children_files() else _parents()
    while index < len(found):
        parent = found[index]
        index += 1
        if table is not None:
            found.extend(table.get(parent, ()))
            continue
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children", "rb") as fh:
                    found.extend(int(child) for child in fh.read().split())
            except OSError:
                continue
    return found


def process_memory(pid: int) -> tuple[int, int | None] | None:
    """Rss and Pss in KiB of one process (/proc/PID/smaps_rollup; without it, VmRSS of
    /proc/PID/status and no Pss); None when it is gone or a zombie."""
    rss: int | None = None
    pss: int | None = None
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith(b"Pss:"):
                    pss = int(line.split()[1])
    except FileNotFoundError:
        try:
            with open(f"/proc/{pid}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"VmRSS:"):
                        rss = int(line.split()[1])
        except OSError:
            return None
    except (OSError, ValueError, IndexError):
        return None
    return None if rss is None else (rss, pss)


def tree_memory(pid: int) -> tuple[int, int | None, int]:
    """One sample of the tree of `pid`: summed Rss KiB, summed Pss KiB (None where the kernel
    gives none), and how many processes it holds."""
    rss, pss, count = 0, 0, 0
    has_pss = True
    for member in tree_pids(pid):
        found = process_memory(member)
        if found is None:
            continue
        count += 1
        rss += found[0]
        if found[1] is None:
            has_pss = False
        else:
            pss += found[1]
    return rss, (pss if has_pss else None), count


class TreeSampler:
    """Samples the memory of `pid`'s process tree every `interval` s in a thread, from
    start() (or `with`) to stop(): the peaks of the summed Rss and Pss, in KiB. A peak
    shorter than the interval can be missed; pages shared between the processes (a forked
    worker's, until written) count once per process in Rss, in parts in Pss."""

    def __init__(self, pid: int, interval: float = SAMPLE_INTERVAL) -> None:
        self.pid, self.interval = pid, interval
        self.peak_rss_kib: int | None = None
        self.peak_pss_kib: int | None = None
        self.peak_processes = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> TreeSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def __enter__(self) -> TreeSampler:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def sample(self) -> None:
        rss, pss, count = tree_memory(self.pid)
        if not count:
            return
        self.samples += 1
        self.peak_rss_kib = max(self.peak_rss_kib or 0, rss)
        if pss is not None:
            self.peak_pss_kib = max(self.peak_pss_kib or 0, pss)
        self.peak_processes = max(self.peak_processes, count)

    def _loop(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return


# --- the code measured ---------------------------------------------------------------------


def snapshot_code(dest: Path) -> tuple[dict[str, str], str]:
    """Copy the casebook package this Python imports into `dest`: the environment entries
    that make a child run it (PYTHONPATH first), and what was copied, in words. A benchmark
    that runs for minutes then measures one version of the code throughout, even while
    someone edits the working tree (a shard built from other code is refused by the merge)."""
    import hashlib
    import importlib.util

    spec = importlib.util.find_spec("casebook")
    if spec is None or spec.origin is None:
        raise SystemExit("no casebook package importable by this Python to copy")
    package = Path(spec.origin).parent
    shutil.copytree(package, dest / "casebook", ignore=shutil.ignore_patterns("__pycache__"))
    digest = hashlib.blake2b(digest_size=6)
    for path in sorted((dest / "casebook").rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(dest).as_posix().encode() + b"\0" + path.read_bytes())
    described = (f"a copy of {package} taken at {time.strftime('%H:%M:%S')}, digest "
                 f"{digest.hexdigest()}")
    try:  # read-only git commands: which commit, how many files changed since
        def git(*args: str) -> str:
            return subprocess.run(["git", "--no-optional-locks", *args], cwd=package.parent,
                                  capture_output=True, text=True, check=True,
                                  timeout=30).stdout.strip()

        head = git("rev-parse", "--short", "HEAD")
        changed = git("diff", "--name-only", "HEAD", "--", package.name).splitlines()
        described += f" (HEAD {head}" + (f" + {len(changed)} changed files)" if changed else ")")
    except (OSError, subprocess.SubprocessError):
        pass
    search = os.pathsep.join(filter(None, [str(dest), os.environ.get("PYTHONPATH", "")]))
    return {"PYTHONPATH": search}, described


# --- clearing what a run must start without -------------------------------------------------


class Trash:
    """Folders a run must start without, moved into WORK/trash (or, on another file system,
    a `.shards-bench-trash` beside them) and deleted at the end: see run.Trash."""

    def __init__(self, work: Path) -> None:
        self.folders = [work / "trash"]
        self.count = 0

    def put(self, path: Path) -> None:
        if not path.exists() and not path.is_symlink():
            return
        trash = self.folders[0]
        if os.stat(path.parent).st_dev != os.stat(trash.parent).st_dev:
            trash = path.parent / ".shards-bench-trash"
            if trash not in self.folders:
                self.folders.append(trash)
        trash.mkdir(exist_ok=True)
        self.count += 1
        path.rename(trash / str(self.count))

    def empty(self) -> None:
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)


# --- the runs -------------------------------------------------------------------------------


@dataclass
class Step:
    label: str
    runs: list[float] = field(default_factory=list)
    rss_kib: int | None = None  # the main process's own max RSS (wait4), peak over the runs
    tree_rss_kib: int | None = None
    tree_pss_kib: int | None = None
    processes: int = 0
    line: str = ""  # the last line of the last run's output ("built shard 1/8 in …")
    failure: str = ""

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def run_step(step: Step, cmd: Sequence[str], cwd: Path, env: Mapping[str, str],
             timeout: float) -> bool:
    """One timed run of `cmd`, with its process tree sampled; False when it failed."""
    import run  # bench/run.py: one way of running a child for both scripts

    result = run.run_child(cmd, cwd, timeout, env, tree=True)
    if result.code != 0:
        why = "timed out" if result.timed_out else f"exit {result.code}"
        step.failure = "; ".join([why, *result.head])
        _progress(f"  {step.label}: FAILED ({step.failure})")
        return False
    step.runs.append(result.seconds)
    step.rss_kib = _max(step.rss_kib, result.rss_kib)
    step.tree_rss_kib = _max(step.tree_rss_kib, result.tree_rss_kib)
    step.tree_pss_kib = _max(step.tree_pss_kib, result.tree_pss_kib)
    step.processes = max(step.processes, result.tree_processes)
    step.line = result.last_line
    mib = "—" if result.tree_rss_kib is None else f"{result.tree_rss_kib / 1024:,.0f}"
    _progress(f"  {step.label}: {result.seconds:.2f} s, tree peak RSS {mib} MiB "
              f"({result.last_line})")
    return True


# --- comparing two sites --------------------------------------------------------------------


@dataclass
class Comparison:
    files: int = 0
    size: int = 0
    only_one: list[str] = field(default_factory=list)  # in the one-machine site alone
    only_merged: list[str] = field(default_factory=list)
    differ: list[str] = field(default_factory=list)
    linked: int = 0  # merged files that are hard links to a shard's file

    @property
    def identical(self) -> bool:
        return not (self.only_one or self.only_merged or self.differ)


def _listing(folder: Path) -> dict[str, str]:
    """Every entry under `folder`, hidden ones included, by relative path: its kind."""
    found: dict[str, str] = {}
    for top, dirs, files in os.walk(folder):
        base = Path(top).relative_to(folder)
        for name in dirs:
            path = Path(top, name)
            found[(base / name).as_posix()] = "link" if path.is_symlink() else "dir"
        for name in files:
            path = Path(top, name)
            found[(base / name).as_posix()] = "link" if path.is_symlink() else "file"
    return found


def _same_bytes(a: Path, b: Path) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            chunk = fa.read(1 << 20)
            if chunk != fb.read(1 << 20):
                return False
            if not chunk:
                return True


def compare_sites(one: Path, merged: Path) -> Comparison:
    result = Comparison()
    left, right = _listing(one), _listing(merged)
    result.only_one = sorted(set(left) - set(right))
    result.only_merged = sorted(set(right) - set(left))
    for relative in sorted(set(left) & set(right)):
        a, b = one / relative, merged / relative
        if left[relative] != right[relative]:
            result.differ.append(f"{relative} ({left[relative]} / {right[relative]})")
            continue
        if left[relative] == "link":
            if os.readlink(a) != os.readlink(b):
                result.differ.append(f"{relative} (links to different targets)")
            continue
        if left[relative] != "file":
            continue
        result.files += 1
        sa, sb = a.stat(), b.stat()
        result.size += sa.st_size
        result.linked += sb.st_nlink > 1
        if sa.st_size != sb.st_size:
            result.differ.append(f"{relative} ({sa.st_size:,} / {sb.st_size:,} bytes)")
        elif not _same_bytes(a, b):
            result.differ.append(f"{relative} (same size, other bytes)")
    return result


# --- the benchmark --------------------------------------------------------------------------


def _casebook(given: Path | None) -> Path | None:
    exe = given or Path(sys.executable).parent / "casebook"
    if exe.exists():
        return exe.absolute()  # the children run in the casebook's folder
    found = shutil.which("casebook") if given is None else None
    return Path(found).absolute() if found else None


def _generate(folder: Path, cases: int, seed: int) -> None:
    from generate import generate  # bench/generate.py

    started = time.perf_counter()
    generate(folder, cases, seed)
    _progress(f"generated {cases:,} cases in {time.perf_counter() - started:.1f} s ({folder})")


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


@dataclass
class Outcome:
    one: Step
    shards: list[Step]
    merge: Step
    comparison: Comparison | None = None
    cases: int | None = None

    @property
    def steps(self) -> list[Step]:
        return [self.one, *self.shards, self.merge]


def bench(exe: Path, book: Path, work: Path, trash: Trash, args: argparse.Namespace,
          code_env: Mapping[str, str]) -> Outcome:
    n, day = args.shards, args.today
    user_cache = work / "xdg-cache"
    env = {**os.environ, **code_env, "XDG_CACHE_HOME": str(user_cache)}
    site_one, site = work / "site-one", book / "site"
    shard_dirs = [work / f"shard-{i}" for i in range(1, n + 1)]
    outcome = Outcome(Step("one machine: `build`"),
                      [Step(f"shard {i}/{n}: `build --shard {i}/{n}`") for i in range(1, n + 1)],
                      Step(f"merge: `build --merge` of {n} folders"))
    if not args.first:  # compiled templates and the seal key, as run.py's build-cold has them
        warm = work / "warm-up"
        _generate(warm, WARM_CASES, args.seed)
        subprocess.run([str(exe), "--today", day, "build"], cwd=warm, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=args.timeout)
        trash.put(warm)

    def fresh(*paths: Path) -> None:
        for path in paths:
            trash.put(path)
        if args.first:
            trash.put(user_cache)

    for attempt in range(1, args.repeat + 1):
        _progress(f"run {attempt} of {args.repeat} (load average {_load()})")
        fresh(site, book / CACHE_DIR, site_one)
        if not run_step(outcome.one, [str(exe), "--today", day, "build"], book, env,
                        args.timeout):
            return outcome
        shutil.move(site, site_one)  # a rename, unless the casebook is on another disk
        for i, (step, out) in enumerate(zip(outcome.shards, shard_dirs, strict=True), 1):
            fresh(book / CACHE_DIR, out)
            if not run_step(step, [str(exe), "--today", day, "build", "--shard", f"{i}/{n}",
                                   "--out", str(out)], book, env, args.timeout):
                return outcome
        fresh(site, book / CACHE_DIR)
        if not run_step(outcome.merge, [str(exe), "--today", day, "build", "--merge",
                                        *map(str, shard_dirs)], book, env, args.timeout):
            return outcome
    _progress("comparing the merged site with the one-machine site ...")
    started = time.perf_counter()
    outcome.comparison = compare_sites(site_one, site)
    _progress(f"  compared {outcome.comparison.files:,} files in "
              f"{time.perf_counter() - started:.1f} s")
    return outcome


def _mib(kib: int | None) -> str:
    return "—" if kib is None else f"{kib / 1024:,.0f}"


def report(outcome: Outcome, args: argparse.Namespace) -> str:
    one = outcome.one
    lines = ["| step | best s | median s | tree peak RSS MiB | tree peak PSS MiB | processes | "
             "main max RSS MiB | / one machine |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    failures: list[str] = []
    for step in outcome.steps:
        if step.failure:
            lines.append(f"| {step.label} | FAILED | — | — | — | — | — | — |")
            failures.append(f"- {step.label}: {step.failure}")
            continue
        if not step.runs:
            lines.append(f"| {step.label} | not run | — | — | — | — | — | — |")
            continue
        ratio = (f"{step.median / one.median:.3f}" if one.runs and step is not one else "—")
        lines.append(f"| {step.label} | {step.best:.2f} | {step.median:.2f} | "
                     f"{_mib(step.tree_rss_kib)} | {_mib(step.tree_pss_kib)} | "
                     f"{step.processes} | {_mib(step.rss_kib)} | {ratio} |")
    lines.append("")
    done = [s for s in outcome.shards if s.runs and not s.failure]
    if one.runs and len(done) == len(outcome.shards):
        slowest = max(done, key=lambda s: s.median)
        share = slowest.median / one.median
        mark = "✓" if share <= TARGET else "✗"
        lines.append(f"- slowest shard / one machine: {slowest.median:.2f} / {one.median:.2f} s "
                     f"= **{share:.3f}** ({slowest.label.split(':')[0]}); target ≤ 1/6 = "
                     f"{TARGET:.3f} {mark}")
        fastest = min(done, key=lambda s: s.median)
        lines.append(f"- shards: fastest {fastest.median:.2f} s, slowest {slowest.median:.2f} s; "
                     f"all {args.shards} together {sum(s.median for s in done):.2f} s of "
                     f"machine time ({sum(s.median for s in done) / one.median:.2f} × one "
                     "machine)")
        if outcome.merge.runs:
            path = slowest.median + outcome.merge.median
            lines.append(f"- slowest shard + merge (the pipeline's critical path, without "
                         f"checkout, install and artifact transfer): {path:.2f} s = "
                         f"{path / one.median:.3f} × one machine")
    comparison = outcome.comparison
    if comparison is not None:
        if comparison.identical:
            lines.append(f"- merged site = one-machine site: identical, {comparison.files:,} "
                         f"files, {comparison.size / 2**20:,.0f} MiB, the same file list "
                         f"(hidden files included); {comparison.linked:,} of the merged files "
                         "are hard links (to the shards' pages)")
        else:
            lines.append(f"- merged site ≠ one-machine site: {len(comparison.only_one):,} "
                         f"files only in the one-machine site, {len(comparison.only_merged):,}"
                         f" only in the merged one, {len(comparison.differ):,} differ "
                         f"(of {comparison.files:,} in both)")
            for title, items in (("only in the one-machine site", comparison.only_one),
                                 ("only in the merged site", comparison.only_merged),
                                 ("different", comparison.differ)):
                if items:
                    more = f" (first {SHOWN})" if len(items) > SHOWN else ""
                    lines.append(f"  - {title}{more}: " + ", ".join(items[:SHOWN]))
    lines.append("")
    cache = ("emptied before every run (`--first`)" if args.first else
             f"holding the compiled templates (an untimed build of {WARM_CASES} cases first)")
    lines.append(f"Each run a whole process, `casebook --today {args.today} …` in the casebook, "
                 f"best and median of {args.repeat}: the one-machine build with no `site/` "
                 f"and no `{CACHE_DIR}/`; each shard with no `{CACHE_DIR}/` and no shard "
                 f"folder, as on a fresh CI machine; the merge with no `site/` and no "
                 f"`{CACHE_DIR}/`. User cache (XDG_CACHE_HOME in the work folder) "
                 f"{cache}. Tree peak: the largest sum over the process and its descendants "
                 f"of /proc/PID/smaps_rollup Rss (Pss), sampled every {SAMPLE_INTERVAL:g} s; "
                 "processes: the most seen at once; main max RSS: the main process alone "
                 "(wait4). One machine runs the shards one after another here: a shard's "
                 "time is what one CI machine of this kind would take.")
    if failures:
        lines.append("")
        lines.append("Failures:")
        lines.append("")
        lines.extend(failures)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time a sharded build against one machine.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--cases", type=int, help="generate a casebook of N cases")
    source.add_argument("--book", type=Path, help="an existing casebook folder instead")
    parser.add_argument("--shards", type=int, default=8, help="N (default 8)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs of each (default 1)")
    parser.add_argument("--today", default=TODAY, help=f"the day built for (default {TODAY})")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--work", type=Path,
                        help="work folder, new or empty (default: a new temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the whole work folder")
    parser.add_argument("--keep-site", action="store_true",
                        help="keep WORK/site-one, the one-machine site, and remove the rest")
    parser.add_argument("--first", action="store_true",
                        help="empty the user cache before every run (first run after install)")
    parser.add_argument("--snapshot", action="store_true",
                        help="run every child on a copy of the casebook package taken at the "
                        "start (PYTHONPATH), not on files someone may be editing meanwhile")
    parser.add_argument("--casebook", type=Path, help="the casebook executable")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="seconds before one run is killed (default 3600)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.shards < 1 or (args.cases is not None and args.cases < 1):
        parser.error("--repeat, --shards and --cases must be at least 1")
    exe = _casebook(args.casebook)
    if exe is None:
        parser.error("no casebook executable next to this Python: pass --casebook PATH")
    if args.work is not None:
        if args.work.exists() and any(args.work.iterdir()):
            parser.error(f"{args.work} is not empty")
        args.work.mkdir(parents=True, exist_ok=True)
        work = args.work.resolve()
    else:
        work = Path(tempfile.mkdtemp(prefix="casebook-shards-"))
    trash = Trash(work)
    saved: list[tuple[Path, Path]] = []  # (where, set aside at) of an existing book's outputs
    load_before, load_after = _load(), "?"
    code_text = ""
    outcome: Outcome | None = None
    try:
        if args.book is not None:
            book = args.book.resolve()
            if not (book / "cases").is_dir():
                parser.error(f"no cases/ folder in {book}")
            aside = book / f".shards-bench-saved-{os.getpid()}"
            for name in ("site", CACHE_DIR):
                if (book / name).exists():
                    aside.mkdir(exist_ok=True)
                    (book / name).rename(aside / name)
                    saved.append((book / name, aside / name))
        else:
            book = work / "book"
            _generate(book, args.cases, args.seed)
        code_env: dict[str, str] = {}
        if args.snapshot:
            code_env, described = snapshot_code(work / "code")
            code_text = f"; code: {described}"
        outcome = bench(exe, book, work, trash, args, code_env)
        load_after = _load()
        for name in ("site", CACHE_DIR):
            trash.put(book / name)
    except KeyboardInterrupt:
        print("shards.py: interrupted", file=sys.stderr)
        return 130
    finally:
        for where, aside in saved:
            trash.put(where)
            aside.rename(where)
            if aside.parent.exists() and not any(aside.parent.iterdir()):
                aside.parent.rmdir()
        if args.keep:
            _progress(f"kept {work}")
        else:
            _progress("deleting what the benchmark wrote ...")
            trash.empty()
            for entry in work.iterdir():
                if args.keep_site and entry.name == "site-one":
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink()
            if args.keep_site and (work / "site-one").exists():
                _progress(f"kept {work / 'site-one'}")
            else:
                work.rmdir()
    cases = f"{args.cases:,} generated cases (seed {args.seed})" if args.cases else str(book)
    print(f"casebook shards benchmark — {exe}; {cases}, {args.shards} shards, --today "
          f"{args.today}, repeat {args.repeat}; Python {platform.python_version()}, "
          f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs{code_text}; load "
          f"average before {load_before}, after {load_after}")
    print()
    assert outcome is not None
    print(report(outcome, args))
    failed = any(step.failure for step in outcome.steps)
    return 1 if failed or (outcome.comparison and not outcome.comparison.identical) else 0


if __name__ == "__main__":
    sys.exit(main())
