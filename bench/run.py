"""Time casebook commands as whole processes on generated casebooks.

    python bench/run.py [--cases 1000,10000] [--repeat 3] [--only validate,next,...]

For each size a casebook is generated once (bench/generate.py) in a temporary folder; each
measurement then runs the `casebook` executable as a child process: one untimed warm-up run, then
--repeat timed runs (time.perf_counter around spawn and exit; peak RSS of that child alone from
os.wait4, or /usr/bin/time -f %M where wait4 is missing). A Markdown table goes to stdout,
progress to stderr. A command that fails is reported as FAILED with its exit code and the first
lines it wrote. Standard library only.
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
    remove: str | None = None  # a folder of the casebook removed before every run (cold runs)
    needs_build: bool = False


MEASURES: tuple[Measure, ...] = (
    Measure("help", "`--help`", ("--help",)),
    Measure("validate-cold", "`validate` cold", ("validate",), remove=CACHE_DIR),
    Measure("validate-warm", "`validate` warm", ("validate",)),
    Measure("next", f"`--today {TODAY} next`", ("--today", TODAY, "next")),
    Measure("validate-100", f"`validate` {SMALL_SET} files", ("validate", "{files}")),
    Measure("build-cold", "`build` cold", ("--today", TODAY, "build"), remove=SITE_DIR,
            needs_build=True),
    Measure("build-warm", "`build` unchanged", ("--today", TODAY, "build"), needs_build=True),
)


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

    @property
    def best(self) -> float | None:
        return min(self.times) if self.times else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None


# --- running one child --------------------------------------------------------------------


def _head(data: bytes, lines: int = HEAD_LINES) -> list[str]:
    text = data.decode("utf-8", errors="replace")
    return [line.rstrip() for line in text.splitlines() if line.strip()][:lines]


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


def measure(exe: Path, root: Path, size: int, m: Measure, files: list[str], repeat: int,
            timeout: float) -> Result:
    result = Result(size, m)
    args: list[str] = []
    for arg in m.args:
        args.extend(files if arg == "{files}" else [arg])
    cmd = [str(exe), *args]
    for attempt in range(repeat + 1):  # attempt 0 is the untimed warm-up
        if m.remove:
            _remove(root / m.remove)
        run = run_child(cmd, root, timeout)
        if run.code != 0:
            result.failure = run
            result.times.clear()
            return result
        if attempt:
            result.times.append(run.seconds)
            if run.rss_kib is not None:
                result.rss_kib = max(result.rss_kib or 0, run.rss_kib)
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


def bench_size(exe: Path, size: int, keys: list[str], args: argparse.Namespace) -> list[Result]:
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
        build = has_build(exe, root, args.timeout)
        results: list[Result] = []
        for m in MEASURES:
            if m.key not in keys:
                continue
            if m.needs_build and not build:
                results.append(Result(size, m, skipped="no `build` in `casebook --help`"))
                continue
            _progress(f"[{size:,}] {m.label.replace('`', '')} ...")
            result = measure(exe, root, size, m, files, args.repeat, args.timeout)
            if result.failure:
                why = "timed out" if result.failure.timed_out else f"exit {result.failure.code}"
                _progress(f"[{size:,}]   FAILED ({why})")
            else:
                _progress(f"[{size:,}]   best {result.best:.3f} s")
            results.append(result)
        return results
    finally:
        if args.keep:
            _progress(f"[{size:,}] kept {root}")
        else:
            shutil.rmtree(work, ignore_errors=True)


# --- the report ---------------------------------------------------------------------------


def _target(r: Result, by_key: dict[tuple[int, str], Result]) -> tuple[str, float | None]:
    """The target's text and its limit in seconds (None: no verdict)."""
    key, n = r.measure.key, r.size
    if key == "help":
        return "< 0.15 s", 0.15
    if key == "validate-cold":
        return ("< 2.5 s", 2.5) if n <= 10_000 else ("— (< 2.5 s at 10,000)", None)
    if key == "validate-warm":
        return ("< 0.5 s", 0.5) if n <= 10_000 else ("— (< 0.5 s at 10,000)", None)
    if key == "validate-100":
        return "< 0.3 s", 0.3
    if key == "next":
        for base, name in (("validate-warm", "validate warm"), ("validate-cold", "validate cold")):
            other = by_key.get((n, base))
            if other and other.median is not None:
                limit = 1.5 * other.median
                return f"≤ 1.5 × {name} = {limit:.3f} s", limit
        return "≤ 1.5 × validate", None
    if key == "build-cold":
        return ("< 0.6 s", 0.6) if n <= 1_000 else ("— (< 0.6 s at 1,000)", None)
    if key == "build-warm":
        return "< 1 s", 1.0
    return "—", None


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def report(results: list[Result]) -> str:
    by_key = {(r.size, r.measure.key): r for r in results}
    lines = [
        "| size | command | best s | median s | peak MiB | target |",
        "|---:|---|---:|---:|---:|---|",
    ]
    failures: list[str] = []
    for r in results:
        target, limit = _target(r, by_key)
        size = f"{r.size:,}"
        if r.skipped:
            lines.append(f"| {size} | {r.measure.label} | skipped | — | — | {_cell(r.skipped)} |")
            continue
        if r.failure:
            why = "timed out" if r.failure.timed_out else f"exit {r.failure.code}"
            lines.append(f"| {size} | {r.measure.label} | FAILED ({why}) | — | — | {target} |")
            failures.append(f"- {size} {r.measure.label}: FAILED ({why})")
            failures.extend(f"      {line}" for line in r.failure.head or ["(no output)"])
            continue
        assert r.best is not None and r.median is not None
        verdict = "" if limit is None else (" ✓" if r.median <= limit else " ✗")
        mib = "—" if r.rss_kib is None else f"{r.rss_kib / 1024:.1f}"
        lines.append(f"| {size} | {r.measure.label} | {r.best:.3f} | {r.median:.3f} | {mib} "
                     f"| {target}{verdict} |")
    lines.append("")
    lines.append("✓/✗: the median against the target. Each row: 1 untimed warm-up run, then the "
                 "timed runs; cold runs remove `.casebook-cache/` (validate) or `site/` (build) "
                 "before every run.")
    if failures:
        lines.append("")
        lines.append("Failures (first lines of stderr, else stdout):")
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
    if exe is None:
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

    print(f"casebook benchmark — {exe}; Python {platform.python_version()}, "
          f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
          f"repeat {args.repeat}, seed {args.seed}{', git' if args.git else ''}")
    print()
    print(report(results))
    return 1 if any(r.failure for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
