"""Time casebook commands as whole processes on generated casebooks.

    python bench/run.py [--cases 1000,10000] [--repeat 3] [--only validate,next,...]

For each size a casebook is generated once (bench/generate.py) in a temporary folder; each
measurement then runs the `casebook` executable as a child process: one untimed warm-up run, then
--repeat timed runs (time.perf_counter around spawn and exit; peak RSS of that child alone from
os.wait4, or /usr/bin/time -f %M where wait4 is missing). A Markdown table goes to stdout,
progress to stderr. A command that fails is reported as FAILED with its exit code and the first
lines it wrote. When `hugo` is on PATH, "hugo build (same content)" times Hugo on a Hugo project
with the same case files (bench/hugo.py) right before `build` cold, and the table gives the ratio
casebook/hugo. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TODAY = "2026-11-20"  # the generator dates nothing after this day
CACHE_DIR = ".casebook-cache"
SITE_DIR = "site"
SMALL_SET = 100  # files named on the command line for the pre-commit style run
HEAD_LINES = 5


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    args: tuple[str, ...]  # after the executable; "{files}" expands to SMALL_SET case paths
    remove: tuple[str, ...] = ()  # folders of the casebook removed before every run (cold runs)
    needs_build: bool = False
    edit_one: bool = False  # append a log entry to one case file before every run
    hugo: bool = False  # not casebook: Hugo on the same content (bench/hugo.py)


MEASURES: tuple[Measure, ...] = (
    Measure("help", "`--help`", ("--help",)),
    Measure("validate-cold", "`validate` cold", ("validate",), remove=(CACHE_DIR,)),
    Measure("validate-warm", "`validate` warm", ("validate",)),
    Measure("next", f"`--today {TODAY} next`", ("--today", TODAY, "next")),
    Measure("validate-100", f"`validate` {SMALL_SET} files", ("validate", "{files}")),
    Measure("hugo", "hugo build (same content)", (), hugo=True),
    Measure("build-cold", "`build` cold", ("--today", TODAY, "build"),
            remove=(SITE_DIR, CACHE_DIR), needs_build=True),
    Measure("build-warm", "`build` unchanged", ("--today", TODAY, "build"), needs_build=True),
    Measure("build-one", "`build`, one case changed", ("--today", TODAY, "build"),
            needs_build=True, edit_one=True),
)
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


def run_child(cmd: Sequence[str], cwd: Path, timeout: float) -> Run:
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
                proc = subprocess.Popen(full, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=err)
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


# --- the benchmark ------------------------------------------------------------------------


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _generator() -> Callable[[Path, int, int], None]:
    sys.path.insert(0, str(HERE))
    from generate import generate

    return generate


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _git_commit(root: Path) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "generated casebook"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def timed(size: int, m: Measure, cmd: list[str], cwd: Path, repeat: int, timeout: float,
          prepare: Callable[[int], None] | None = None) -> Result:
    """One untimed warm-up run, then `repeat` timed runs; `prepare(attempt)` before each."""
    result = Result(size, m)
    for attempt in range(repeat + 1):  # attempt 0 is the untimed warm-up
        if prepare:
            prepare(attempt)
        run = run_child(cmd, cwd, timeout)
        if run.code != 0:
            result.failure = run
            result.times.clear()
            return result
        if attempt:
            result.times.append(run.seconds)
            if run.rss_kib is not None:
                result.rss_kib = max(result.rss_kib or 0, run.rss_kib)
    return result


def measure(exe: Path, root: Path, size: int, m: Measure, files: list[str], repeat: int,
            timeout: float) -> Result:
    args: list[str] = []
    for arg in m.args:
        args.extend(files if arg == "{files}" else [arg])
    edited = root / files[0]
    original = edited.read_bytes() if m.edit_one else b""

    def prepare(attempt: int) -> None:
        for name in m.remove:
            _remove(root / name)
        if m.edit_one:  # a different text each run, so every run sees one changed case
            text = original if original.endswith(b"\n") else original + b"\n"
            entry = f"\n{EDIT_HEADING}\nBench edit {attempt + 1}: one case changed.\n"
            edited.write_bytes(text + entry.encode("utf-8"))

    try:
        return timed(size, m, [str(exe), *args], root, repeat, timeout, prepare)
    finally:
        if m.edit_one:
            edited.write_bytes(original)


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
                   lambda _attempt: hugo.clean(project, out, cache))
    if not result.failure:
        result.note = f"{hugo.count_pages(out):,} pages"
    hugo.clean(project, out, cache)
    return result


def has_build(exe: Path, cwd: Path, timeout: float) -> bool:
    try:
        proc = subprocess.run([str(exe), "--help"], cwd=cwd, capture_output=True, text=True,
                              errors="replace", timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return False
    text = proc.stdout + proc.stderr
    _before, found, commands = text.partition("Commands:")
    return re.search(r"^\s+build\b", commands if found else text, re.MULTILINE) is not None


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
        build = exe is not None and has_build(exe, root, args.timeout)
        hugo_exe = shutil.which("hugo")
        results: list[Result] = []
        for m in MEASURES:
            if m.key not in keys:
                continue
            if m.hugo and not hugo_exe:
                results.append(Result(size, m, skipped="no `hugo` on PATH"))
                continue
            if m.needs_build and not build:
                results.append(Result(size, m, skipped="no `build` in `casebook --help`"))
                continue
            _progress(f"[{size:,}] {m.label.replace('`', '')} ...")
            if m.hugo:
                assert hugo_exe is not None
                result = measure_hugo(hugo_exe, root, work, size, m, args.repeat, args.timeout)
            else:
                assert exe is not None
                result = measure(exe, root, size, m, files, args.repeat, args.timeout)
            if result.failure:
                why = "timed out" if result.failure.timed_out else f"exit {result.failure.code}"
                _progress(f"[{size:,}]   FAILED ({why})")
            else:
                note = f" ({result.note})" if result.note else ""
                _progress(f"[{size:,}]   best {result.best:.3f} s{note}")
            results.append(result)
        return results
    finally:
        if args.keep:
            _progress(f"[{size:,}] kept {root}")
        else:
            shutil.rmtree(work, ignore_errors=True)


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
    if key in ("build-warm", "build-one"):
        return [("< 1 s", 1.0)]
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
                 "timed runs; cold runs remove `.casebook-cache/` (validate) or `site/` and "
                 "`.casebook-cache/` (build) before every run; \"one case changed\" appends a "
                 f"`{EDIT_HEADING}` entry (a new text each run) to one case file first. "
                 "hugo: `hugo --quiet --ignoreCache` into a removed output folder with a fresh "
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
    unknown = [w for w in wanted if not any(k == w or k.startswith(w + "-") for k in keys)]
    if unknown:
        raise SystemExit(f"run.py: unknown --only {', '.join(unknown)}; choose from "
                         f"{', '.join(keys)} (or a prefix such as validate, build)")
    return [k for k in keys if any(k == w or k.startswith(w + "-") for w in wanted)]


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
