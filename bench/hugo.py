"""Build the same content with Hugo and with `casebook build`, cold, in the same run.

    python bench/hugo.py CASEBOOK_DIR [--cases N] [--repeat 3] [--keep] [--hugo PATH]
                         [--no-casebook] [--today 2026-11-20]

With `--cases N` and no cases/ in CASEBOOK_DIR, a casebook of N cases is generated there first
(bench/generate.py, seed 1).

Creates a Hugo project in a temporary folder: bench/hugo_site/ (a minimal hugo.toml and layouts/)
plus every case file copied unchanged to content/cases/<same sub-path>.md (Hugo reads the YAML
front matter as page params; no top-level key clashes with Hugo's own page variables). The layouts
do comparable work per page: the debtor block, the invoice table (amounts, paid and residual per
invoice from the payments), payments, disputes, promises, plans, totals, and the Markdown contact
log rendered by Goldmark (`.Content`), inside a small base layout; the home page is a dashboard
listing every case in a table. Each case also gets two letters, as casebook writes a case's
letters: two more output formats of every page (`reminder` and `notice`, `outputs.page` in
hugo.toml) render letters/<kind>/cases/<sub-path>.html, each the printable letter (the debtor's
address, the residual of each invoice from the payments, the demand) with its plain text in the
page (`layouts/partials/letter-text.html`), as casebook's letter pages carry theirs.

Then times `hugo --quiet --ignoreCache --cacheDir FRESH --destination OUT` as a whole process,
cold (OUT, the cache folder and resources/ removed before every run): one untimed warm-up run,
then --repeat timed runs. Then, unless --no-casebook, times `casebook --today DAY build --out
OUT` in CASEBOOK_DIR the same way, cold as run.py's `build-cold` (OUT and .casebook-cache/ moved
aside before every run; the user cache folder, XDG_CACHE_HOME in the temp folder, kept between
runs), and prints the ratio. Standard library only; Hugo is not a project dependency.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

SITE = Path(__file__).resolve().parent / "hugo_site"  # hugo.toml and layouts/


def make_project(casebook: Path, project: Path) -> int:
    """Write a Hugo project at `project` with the case files of `casebook`; the count of cases."""
    shutil.copytree(SITE, project, dirs_exist_ok=True)
    source, content = casebook / "cases", project / "content" / "cases"
    count = 0
    for case in sorted(source.rglob("*.md")):
        target = content / case.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(case, target)
        count += 1
    return count


def command(hugo: str, out: Path, cache: Path) -> list[str]:
    return [hugo, "--quiet", "--ignoreCache", "--cacheDir", str(cache), "--destination", str(out)]


def delete(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def put_aside(trash: Path, path: Path) -> None:
    """Move `path` into `trash` rather than delete it now (see `run.Trash` for why)."""
    if path.exists():
        trash.mkdir(exist_ok=True)
        try:
            path.rename(trash / str(sum(1 for _ in trash.iterdir())))
        except OSError:  # another file system (a casebook's cache outside the temp folder)
            shutil.rmtree(path)


def clean(project: Path, out: Path, cache: Path,
          remove: Callable[[Path], None] = delete) -> None:
    """Make the next run cold: no output, no cache, no resources/, each taken away by
    `remove` (deleted, or moved aside until the benchmark ends)."""
    for path in (out, cache, project / "resources"):
        remove(path)


def count_pages(out: Path) -> int:
    return sum(1 for _ in out.rglob("*.html"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time Hugo on the same content as a casebook.")
    parser.add_argument("casebook", type=Path, help="a casebook folder (with cases/)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (default 3)")
    parser.add_argument("--hugo", default=shutil.which("hugo"), help="the hugo executable")
    parser.add_argument("--keep", action="store_true", help="keep the Hugo project and output")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--cases", type=int, help="generate N cases first if there is no cases/")
    parser.add_argument("--today", default="2026-11-20", help="casebook's --today")
    parser.add_argument("--no-casebook", action="store_true", help="time Hugo alone")
    args = parser.parse_args(argv)
    if args.cases and not (args.casebook / "cases").is_dir():
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from generate import generate

        generate(args.casebook, args.cases, seed=1)
    if not args.hugo:
        print("hugo.py: no hugo on PATH (pass --hugo PATH)", file=sys.stderr)
        return 2
    if not (args.casebook / "cases").is_dir():
        print(f"hugo.py: no cases/ folder in {args.casebook}", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="casebook-hugo-"))
    project, out, cache = work / "site", work / "public", work / "cache"
    try:
        cases = make_project(args.casebook, project)
        hugo_run = time_cold(command(args.hugo, out, cache), project, args.repeat, args.timeout,
                             lambda: clean(project, out, cache, partial(put_aside, work / "trash")))
        if isinstance(hugo_run, str):
            print(f"hugo.py: hugo FAILED{hugo_run}", file=sys.stderr)
            return 1
        print(f"hugo:     {cases:,} cases, {count_pages(out):,} pages: {summary(hugo_run)}")
        if args.no_casebook:
            return 0
        site = work / "casebook-site"
        env = {**os.environ, "XDG_CACHE_HOME": str(work / "xdg-cache")}

        def clean_casebook() -> None:
            for path in (site, args.casebook / ".casebook-cache"):
                put_aside(work / "trash", path)

        casebook_run = time_cold(casebook_command(args.today, site), args.casebook, args.repeat,
                                 args.timeout, clean_casebook, env)
        if isinstance(casebook_run, str):
            print(f"hugo.py: casebook build FAILED{casebook_run}", file=sys.stderr)
            return 1
        print(f"casebook: {cases:,} cases, {count_pages(site):,} pages: {summary(casebook_run)}")
        ratio = statistics.median(casebook_run[0]) / statistics.median(hugo_run[0])
        print(f"casebook/hugo (median): {ratio:.2f}")
        return 0
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def casebook_command(today: str, site: Path) -> list[str]:
    """`casebook build` from the venv of the Python running this (bench/README.md)."""
    exe = Path(sys.executable).with_name("casebook")
    return [str(exe) if exe.exists() else "casebook", "--today", today, "build", "--out",
            str(site)]


def time_cold(cmd: list[str], cwd: Path, repeat: int, timeout: float,
              before: Callable[[], None], env: dict[str, str] | None = None
              ) -> tuple[list[float], int] | str:
    """(seconds of each timed run, peak KiB) of `cmd`, `before` run ahead of each run: one
    untimed warm-up then `repeat` timed runs; the failure's text if a run fails."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import run_child  # here, not at the top: run.py imports this module

    times: list[float] = []
    peak = 0
    for attempt in range(max(repeat, 1) + 1):  # attempt 0 is the untimed warm-up
        before()
        run = run_child(cmd, cwd, timeout, env)
        if run.code != 0:
            return "\n".join([f" (exit {run.code})", *run.head])
        if attempt:
            times.append(run.seconds)
            peak = max(peak, run.rss_kib or 0)
    return times, peak


def summary(measured: tuple[list[float], int]) -> str:
    times, peak = measured
    return (f"best {min(times):.3f} s, median {statistics.median(times):.3f} s, "
            f"peak {peak / 1024:.1f} MiB")


if __name__ == "__main__":
    sys.exit(main())
