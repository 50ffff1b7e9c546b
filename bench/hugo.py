"""Build the same content with Hugo, as a yardstick for `casebook build`.

    python bench/hugo.py CASEBOOK_DIR [--repeat 3] [--keep] [--hugo PATH]

Creates a Hugo project in a temporary folder: bench/hugo_site/ (a minimal hugo.toml and layouts/)
plus every case file copied unchanged to content/cases/<same sub-path>.md (Hugo reads the YAML
front matter as page params; no top-level key clashes with Hugo's own page variables). The layouts
do comparable work per page: the debtor block, the invoice table (amounts, paid and residual per
invoice from the payments), payments, disputes, promises, plans, totals, and the Markdown contact
log rendered by Goldmark (`.Content`), inside a small base layout; the home page is a dashboard
listing every case in a table. Then times `hugo --quiet --ignoreCache --cacheDir FRESH
--destination OUT` as a whole process, cold (OUT, the cache folder and resources/ removed before
every run): one untimed warm-up run, then --repeat timed runs. Standard library only; Hugo is
not a project dependency.
"""

from __future__ import annotations

import argparse
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
        path.rename(trash / str(sum(1 for _ in trash.iterdir())))


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
    args = parser.parse_args(argv)
    if not args.hugo:
        print("hugo.py: no hugo on PATH (pass --hugo PATH)", file=sys.stderr)
        return 2
    if not (args.casebook / "cases").is_dir():
        print(f"hugo.py: no cases/ folder in {args.casebook}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import run_child  # here, not at the top: run.py imports this module

    work = Path(tempfile.mkdtemp(prefix="casebook-hugo-"))
    project, out, cache = work / "site", work / "public", work / "cache"
    try:
        cases = make_project(args.casebook, project)
        times: list[float] = []
        peak = 0
        for attempt in range(max(args.repeat, 1) + 1):  # attempt 0 is the untimed warm-up
            clean(project, out, cache, partial(put_aside, work / "trash"))
            run = run_child(command(args.hugo, out, cache), project, args.timeout)
            if run.code != 0:
                print(f"hugo.py: hugo FAILED (exit {run.code})", *run.head, sep="\n",
                      file=sys.stderr)
                return 1
            if attempt:
                times.append(run.seconds)
                peak = max(peak, run.rss_kib or 0)
        print(f"{cases:,} cases, {count_pages(out):,} pages: best {min(times):.3f} s, "
              f"median {statistics.median(times):.3f} s, peak {peak / 1024:.1f} MiB")
        return 0
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
