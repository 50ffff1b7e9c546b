"""Time PDF letters: `casebook build --pdf` of the demo casebook, and one `letter --format pdf`.

    python bench/pdf.py [--repeat 3] [--case mobilificio-carrara]

Copies the demo casebook (this repository's `casebook.yml`, `cases/`, `invoices/` and
`templates/`) into a temporary folder and times, as whole processes (spawn to exit,
`time.perf_counter`; peak RSS of the child from `os.wait4`):

  (a) `casebook --today 2026-11-20 build --pdf`, each run in a fresh copy of the demo (no site,
      no `.casebook-cache/`; the copy is made before the clock starts);
  (b) `casebook --today 2026-11-20 letter CASE formal-notice --format pdf --out x.pdf` in the
      copy (a) built.

Each measurement is one untimed warm-up run, then --repeat timed runs; min, median and max are
printed as a Markdown table with the targets, (a) <= 10 s and (b) <= 1.5 s, progress on stderr.
Every casebook child runs with XDG_CACHE_HOME in the temporary folder, kept between runs (a
machine that has run casebook before). The runs are checked too: (a) must write a PDF beside
every letter, and every run of (b) the same bytes. Exit status 1 when a command fails or a
check does not hold. Standard library only; WeasyPrint (the pdf extra) must be installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TODAY = "2026-11-20"
DEMO = Path(__file__).resolve().parent.parent
DEMO_PARTS = ("casebook.yml", "cases", "invoices", "templates")
TARGET_BUILD = 10.0  # seconds, (a)
TARGET_LETTER = 1.5  # seconds, (b)
HEAD_LINES = 8


@dataclass
class Run:
    seconds: float
    rss_mib: float | None
    code: int
    out: str
    err: str


class Failed(Exception):
    pass


def run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float) -> Run:
    """One child, spawn to exit; its output is read from files after it ends."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err)
        rss = None
        try:
            if hasattr(os, "wait4"):
                _pid, status, usage = os.wait4(proc.pid, 0)
                seconds = time.perf_counter() - start
                proc.returncode = os.waitstatus_to_exitcode(status)
                rss = usage.ru_maxrss / 1024
            else:
                proc.wait(timeout)
                seconds = time.perf_counter() - start
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        out.seek(0)
        err.seek(0)
        return Run(seconds, rss, proc.returncode, out.read().decode("utf-8", "replace"),
                   err.read().decode("utf-8", "replace"))


def checked(r: Run, what: str) -> Run:
    if r.code != 0:
        text = (r.err.strip() or r.out.strip()).splitlines()
        raise Failed(f"{what} exited with {r.code}:\n  " + "\n  ".join(text[-HEAD_LINES:]))
    return r


def copy_demo(target: Path) -> Path:
    target.mkdir(parents=True)
    for part in DEMO_PARTS:
        source = DEMO / part
        if source.is_dir():
            shutil.copytree(source, target / part)
        elif source.is_file():
            shutil.copy2(source, target / part)
    return target


def check_pdfs(site: Path) -> int:
    """The number of letters, each with its PDF beside it."""
    letters = sorted((site / "letters").rglob("*.html"))
    missing = [page for page in letters if not is_pdf(page.with_suffix(".pdf"))]
    if not letters or missing:
        raise Failed(f"build --pdf left {len(missing)} of {len(letters)} letters without a PDF")
    return len(letters)


def is_pdf(path: Path) -> bool:
    return path.is_file() and path.read_bytes().startswith(b"%PDF-")


def stats(times: list[float]) -> tuple[float, float, float]:
    return min(times), statistics.median(times), max(times)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def row(what: str, times: list[float], rss: list[float], target: float) -> str:
    low, mid, high = stats(times)
    peak = f"{max(rss):.0f}" if rss else "–"
    verdict = "met" if mid <= target else "NOT met"
    return (f"| {what} | {low:.2f} s | {mid:.2f} s | {high:.2f} s | {peak} MiB "
            f"| ≤ {target:g} s: {verdict} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", "--runs", type=int, default=3,
                        help="timed runs of each measurement (default 3)")
    parser.add_argument("--case", default="mobilificio-carrara",
                        help="the case of the formal notice (default mobilificio-carrara)")
    parser.add_argument("--casebook", type=Path,
                        default=Path(sys.executable).with_name("casebook"),
                        help="the casebook executable (default: beside this Python)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    exe = str(args.casebook)
    if not Path(exe).exists():
        parser.error(f"{exe} not found (use --casebook)")

    work = Path(tempfile.mkdtemp(prefix="casebook-bench-pdf-"))
    env = {**os.environ, "XDG_CACHE_HOME": str(work / "xdg-cache")}
    env.pop("CASEBOOK_TODAY", None)
    try:
        building = [exe, "--today", TODAY, "build", "--pdf"]
        build_times: list[float] = []
        build_rss: list[float] = []
        book = work
        letters = 0
        for attempt in range(args.repeat + 1):  # the first is the untimed warm-up
            book = copy_demo(work / f"run-{attempt}")
            r = checked(run(building, book, env, args.timeout), "build --pdf (a)")
            letters = check_pdfs(book / "site")
            if attempt:
                build_times.append(r.seconds)
                build_rss.extend([r.rss_mib] if r.rss_mib else [])
            progress(f"(a) run {attempt or 'warm-up'}: {r.seconds:.2f} s, {letters} letters")

        writing = [exe, "--today", TODAY, "letter", args.case, "formal-notice", "--format",
                   "pdf", "--out", "x.pdf"]
        letter_times: list[float] = []
        letter_rss: list[float] = []
        first: bytes | None = None
        for attempt in range(args.repeat + 1):
            r = checked(run(writing, book, env, args.timeout), "letter --format pdf (b)")
            data = (book / "x.pdf").read_bytes()
            if first is not None and data != first:
                raise Failed("letter --format pdf (b) wrote different bytes on another run")
            first = data
            if attempt:
                letter_times.append(r.seconds)
                letter_rss.extend([r.rss_mib] if r.rss_mib else [])
            progress(f"(b) run {attempt or 'warm-up'}: {r.seconds:.2f} s, {len(data)} bytes")

        print(f"PDF letters, demo casebook ({letters} letters), {args.repeat} runs each, "
              "whole processes\n")
        print("| command | min | median | max | peak RSS | target |")
        print("|---|---|---|---|---|---|")
        print(row(f"(a) `build --pdf`, {letters} letters", build_times, build_rss,
                  TARGET_BUILD))
        print(row(f"(b) `letter {args.case} formal-notice --format pdf --out x.pdf`",
                  letter_times, letter_rss, TARGET_LETTER))
        return 0
    except Failed as failure:
        progress(f"failed: {failure}")
        return 1
    finally:
        if args.keep:
            progress(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
