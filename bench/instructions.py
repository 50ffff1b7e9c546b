"""Count the machine instructions casebook spends per case, with valgrind: a measure that,
unlike seconds, does not move with the machine's load.

    python bench/instructions.py [--cases 100] [--casebook DIR] [--parse-only]

Runs, under `valgrind --tool=callgrind`, one process that parses and renders 20 cases (the
warm-up: caches filled; the templates were compiled by a run before) and one that goes on to
N more, each as a build
worker does (`read_case`, then `Renderer.render_case`: page, letters, dashboard pieces, exports;
nothing is written). The difference, divided by N, is the cost of one more case. With
`--parse-only`, the cases are parsed and not rendered. Without `--casebook`, a 1,000-case
casebook is generated (bench/generate.py, seed 1) in a temporary folder. Needs valgrind
(Debian's package); about a minute for 100 cases. The same code and cases give the same count
to a few parts in ten thousand, so a change of 1% shows.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WARM_UP = 20
DAY = "2026-11-20"


def child(root: Path, count: int, parse_only: bool) -> None:
    """What runs under valgrind: WARM_UP cases, then `count` more."""
    import gc
    from datetime import date

    from casebook.load.loader import case_id, load_config
    from casebook.read.casefile import read_case
    from casebook.site.pages import Renderer

    config, _, _ = load_config(root)
    paths = sorted((root / "cases").rglob("*.md"))[:WARM_UP + count]
    files = [(p.relative_to(root).as_posix(), p.read_bytes()) for p in paths]
    renderer = Renderer(root, config, date.fromisoformat(DAY), {})
    renderer.prepare()
    gc.freeze()  # as a worker: what came before is never rescanned
    for relative, data in files:
        case = read_case(case_id(relative), relative, data, config).case
        if case is not None and not parse_only:
            renderer.render_case(case)


def instructions(root: Path, count: int, parse_only: bool) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
               sys.executable, __file__, "--child", str(count), "--casebook", str(root)]
    if parse_only:
        command.append("--parse-only")
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or found is None:
        raise SystemExit(f"instructions.py: valgrind failed:\n{run.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Instructions per case, counted by valgrind.")
    parser.add_argument("--cases", type=int, default=100, help="cases measured (default 100)")
    parser.add_argument("--casebook", type=Path, help="a casebook (default: generate 1,000)")
    parser.add_argument("--parse-only", action="store_true", help="parse, do not render")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        child(args.casebook, args.child, args.parse_only)
        return 0
    if shutil.which("valgrind") is None:
        print("instructions.py: no valgrind on PATH (apt-get install valgrind)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="casebook-instructions-") as scratch:
        root = args.casebook
        if root is None:
            sys.path.insert(0, str(HERE))
            from generate import generate

            root = Path(scratch) / "book"
            generate(root, 1000, 1)
        # once without valgrind, so that both counted runs find the templates compiled
        subprocess.run([sys.executable, __file__, "--child", "0", "--casebook", str(root)],
                       check=True)
        base = instructions(root, 0, args.parse_only)
        more = instructions(root, args.cases, args.parse_only)
    what = "parsed" if args.parse_only else "parsed and rendered"
    print(f"{(more - base) / args.cases / 1e6:.2f} M instructions per case {what} "
          f"({args.cases} cases after {WARM_UP} to warm up)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
