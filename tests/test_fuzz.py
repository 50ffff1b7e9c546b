"""Fuzzing: mutated case files and casebook.yml give diagnostics or a result, never a crash.

Each example starts from a file of the demo casebook (a case of `cases/` or `casebook.yml`),
mutates its bytes — truncation, random bytes, odd Unicode, deep nesting, huge numbers, other line
ends, a BOM — and runs validate, next, show, export and build on it in-process. Every command must
exit 0, or 1 with `path:line:col` diagnostics (or a one-line error), quickly and without an
uncaught exception.

CI runs a modest, derandomized number of examples (about 30 s); `CASEBOOK_FUZZ_EXAMPLES=20000`
runs a long search with fresh randomness. Inputs worth keeping live in `tests/fuzz_corpus/`,
replayed by `test_corpus`: `NAME.md` is a case file, `NAME.yml` a casebook.yml used with the
demo's cases. Most of them crashed a command before the limits of `yamlread` (huge amounts,
rates and numbers of days, dates past 9999); the others are hostile shapes worth replaying
(deep nesting, an alias bomb, a megabyte-long word, bidi controls with CRLF and a BOM).
"""

from __future__ import annotations

import json
import os
import random
import re
import resource
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casebook.cli.main import main

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "fuzz_corpus"
SEED_CASES = sorted(REPO.glob("cases/**/*.md"))
SEED_CONFIG = (REPO / "casebook.yml").read_bytes()
DAY = "2026-11-20"
EXAMPLES = int(os.environ.get("CASEBOOK_FUZZ_EXAMPLES", "0") or 0)
LONG_RUN = EXAMPLES > 0
SECONDS_PER_COMMAND = 5.0
MEMORY_HEADROOM = 2 << 30  # bytes of address space an example may add to the process

DIAGNOSTIC = re.compile(r"^[^\s:][^:]*:\d+:\d+: (error|warning): .+$", re.MULTILINE)
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES or 80,
    derandomize=not LONG_RUN,
    deadline=None,  # our own bound is SECONDS_PER_COMMAND, checked per command
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
)

# -- what the mutations insert -----------------------------------------------------------------

TOKENS: tuple[bytes, ...] = (
    "\u202e".encode(), "\u2066".encode(), "\u200b".encode(), "\ufeff".encode(),
    b"\x00", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xff", b"\xc3", b"\xf4\x90\x80\x80",
    b"\r\n", b"\r", b"\t", b"\x0b", b"\x1b[31m", b"\xc2\x85", "\u2028".encode(),
    b"1e400", b"1" + b"0" * 5000, b"1." + b"1" * 500, b"-0.00", b"0x1F", b"1_000", b".inf",
    b"99999-01-01", b"0000-00-00", b"9999-12-31", b"0001-01-01", b"2026-02-29", b"2026-7-1",
    b"[" * 120, b"{a: " * 60, b"&a ", b"*a", b"<<: *a", b"!!python/object:os.system ",
    b"!!binary ", b"!local ", b"? ", b"- ", b": ", b"|", b">-", b"'", b'"', b"#",
    b'"\\0"', b'"\\ud800"', b'"\\U0010FFFF"', b'"\\x85"', b"%YAML 1.1\n", b"%TAG ! !x\n",
    b"---\n", b"...\n", b"\n---\n", b"\n## 2026-13-45 phone\n", b"\n## 2026-10-01 sms legal - x\n",
    b"\n## 0000-01-01 x\n", b"\n## 2026-10-01\n", b"\n```\n", b"\n~~~\n", b"<script>x</script>",
    b"{% include '/etc/passwd' %}", b"{{ ''.__class__ }}", b"null", b"~", b"true", b"NO",
    b"[]", b"{}", b"x" * 3000,
)
VALUES: tuple[bytes, ...] = (
    b"1e400", b"1" + b"0" * 5000, b"1." + b"1" * 500, b"99999-01-01", b"9999-12-31",
    b"0001-01-01", b"-1", b"0", b"0.001", b"null", b"~", b"[]", b"{}", b"true", b"no",
    b'"\\0"', b'"\\ud800"', b'"\\t\\r\\n"', "\u202e\u2066\u200b\ufeff".encode(),
    b"&a x", b"*a", b"!!str 1", b"!!int 1", b"!!timestamp 2026-01-01", b"|\n  x\n",
    b"[" * 99 + b"]" * 99, b"{a: " * 50 + b"1" + b"}" * 50, b"- - - - - x", b"x" * 20000,
    b"2026-07-01T10:00:00", b"2026-07-01 # a comment", b"'2026-07-01'", b'"1220.00"',
    b"[2026-07-01, 2026-07-02]", b"{until: 2026-12-01}", b"reminder", b"gentle", b"legal",
)


# Hypothesis draws the first items of a list more often: the most dangerous stand first.
NUMBERS: tuple[bytes, ...] = (
    b"99999999999999999999999999999.99", b"1" + b"0" * 5000, b"999999999999.99",
    b"1000000000000", b"1e400", b"1." + b"1" * 500, b"0.01", b"-0.00", b"0x1F", b"1_000",
    b".inf", b".nan", b'"1220.00"', b"1,220.00", b"0", b"-1",
)
DATES: tuple[bytes, ...] = (
    b"9999-12-31", b"0001-01-01", b"2999-12-31", b"1900-01-01", b"99999-01-01", b"1899-12-31",
    b"3000-01-01", b"2026-02-29", b"2024-02-29", b"2026-7-1", b"2026-07-01T10:00:00",
    b"'2026-07-01'", b"2026-12-31", b"2026-11-20", b"2026-11-21",
)
DAYS: tuple[bytes, ...] = (b"9" * 5000, b"999999999", b"36500", b"36501", b"0", b"-1", b"1e3")
KEY_VALUES: dict[str, tuple[bytes, ...]] = {
    **dict.fromkeys(("amount", "rate"), NUMBERS),
    **dict.fromkeys(("date", "due", "made", "by", "opened", "resolved", "agreed", "confirmed",
                     "until", "from"), DATES),
    **dict.fromkeys(("after", "wait", "min_gap", "promise_grace", "stalling"), DAYS),
}
_KEY_VALUE = re.compile(rb"([A-Za-z_]+):[ \t]+([^\n#]*)")

MUTATIONS = ("value",) * 6 + ("truncate", "insert", "overwrite", "token", "delete", "repeat",
                              "nest")


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """`seed` under one to four mutations, then perhaps another line end, a BOM or tabs.

    Half the mutations put an extreme value in place of one `key: value`, leaving the rest of
    the file valid so that the value reaches the rules, interest and rendering. Choices come
    from a seeded `Random`, uniformly: Hypothesis' own draws favour the first items of a list.
    """
    rnd = draw(st.randoms(use_true_random=False))
    data = seed
    for _ in range(rnd.choice([1, 1, 1, 2, 3, 4])):
        data = _mutate(rnd, data, rnd.choice(MUTATIONS))
    ending = rnd.choice([None, None, None, b"\r\n", b"\r"])
    if ending is not None:
        data = data.replace(b"\n", ending)
    if rnd.random() < 0.1:
        data = b"\xef\xbb\xbf" + data
    if rnd.random() < 0.1:
        data = data.replace(b"\n  ", b"\n\t")
    return data


def _mutate(rnd: random.Random, data: bytes, kind: str) -> bytes:
    at = rnd.randint(0, len(data))
    if kind == "value":
        found = [(m.group(1).decode(), m.span(2)) for m in _KEY_VALUE.finditer(data)]
        typed = [item for item in found if item[0] in KEY_VALUES]
        if typed and rnd.random() < 0.75:  # mostly: an amount, a date or days, at extremes
            key, (first, last) = rnd.choice(typed)
            return data[:first] + rnd.choice(KEY_VALUES[key]) + data[last:]
        if found:
            _, (first, last) = rnd.choice(found)
            return data[:first] + rnd.choice(VALUES) + data[last:]
        kind = "token"
    if kind == "truncate":
        return data[:at]
    if kind in ("insert", "overwrite"):
        raw = rnd.randbytes(rnd.randint(1, 16))
        return data[:at] + raw + data[at + (len(raw) if kind == "overwrite" else 0):]
    if kind == "token":
        return data[:at] + rnd.choice(TOKENS) + data[at:]
    if kind in ("delete", "repeat"):
        size = rnd.randint(1, 200)
        return data[:at] + data[at + size:] if kind == "delete" else data[:at + size] + data[at:]
    return data.replace(b"\ninvoices:", _deep_nesting(rnd) + b"\ninvoices:", 1)


def _deep_nesting(rnd: random.Random) -> bytes:
    n = rnd.choice([50, 99, 100, 101, 999, 1000, 10_000, 100_000])
    return rnd.choice([
        lambda: b"\ntags: " + b"[" * n + b"x" + b"]" * n,
        lambda: b"\ntags: " + b"{a: " * n + b"x" + b"}" * n,
        lambda: b"\ntags: " + b"[" * n,  # never closed
        lambda: b"\ntags:\n" + b"- " * n + b"x",
        lambda: b"\ntags:\n" + b"".join(b" " * i + b"- x\n" + b" " * i + b"-"
                                         for i in range(min(n, 1200))),
    ])()


# -- running the commands ----------------------------------------------------------------------


class Hung(Exception):
    """A command ran past its time bound."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hung(f"a command ran longer than {SECONDS_PER_COMMAND * 4} s")


@pytest.fixture(scope="module")
def workspace() -> Iterator[Path]:
    """One casebook reused by every example, so the template cache stays warm."""
    folder = Path(tempfile.mkdtemp(prefix="casebook-fuzz-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _fill(root: Path, config: bytes | None, cases: dict[str, bytes]) -> None:
    shutil.rmtree(root / "cases", ignore_errors=True)
    (root / "cases").mkdir(parents=True)
    (root / "casebook.yml").unlink(missing_ok=True)
    if config is not None:
        (root / "casebook.yml").write_bytes(config)
    for name, data in cases.items():
        path = root / "cases" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _case_ids(cases: dict[str, bytes]) -> list[str]:
    return [name.removesuffix(".md") for name in cases]


def run_everything(root: Path, case_ids: list[str]) -> None:
    """Every command on the casebook; each must end in success or diagnostics."""
    commands = [["validate"], ["validate", "--json"], ["next"], ["next", "--json", "--all"],
                *(["show", cid] for cid in case_ids[:2]),
                ["export", "--format", "json"], ["export", "--format", "csv"],
                ["export", "--format", "ics"], ["build", "--keep-going"], ["build"]]
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    usage = _address_space()
    if usage:
        limit = usage + MEMORY_HEADROOM
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard < 0 else min(limit, hard), hard))
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for command in commands:
            _run_one(root, command)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _run_one(root: Path, command: list[str]) -> None:
    signal.setitimer(signal.ITIMER_REAL, SECONDS_PER_COMMAND * 4)
    started = time.monotonic()
    result = CliRunner().invoke(main, ["-C", str(root), "--today", DAY, *command])
    elapsed = time.monotonic() - started
    signal.setitimer(signal.ITIMER_REAL, 0)
    shown = " ".join(command)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"`casebook {shown}` crashed") from result.exception
    assert elapsed < SECONDS_PER_COMMAND, f"`casebook {shown}` took {elapsed:.1f} s"
    assert result.exit_code in (0, 1), (shown, result.exit_code, result.output[-2000:])
    if result.exit_code == 1 and command[:2] == ["validate", "--json"]:
        report = json.loads(result.stdout)
        assert report["errors"] > 0 and all(
            d["line"] >= 1 and d["col"] >= 1 for d in report["diagnostics"]), report
    elif result.exit_code == 1:
        said = result.stdout + result.stderr
        assert DIAGNOSTIC.search(said) or said.startswith("Error: "), (shown, said[-2000:])


def _address_space() -> int:
    try:
        fields = Path("/proc/self/statm").read_text().split()
    except OSError:
        return 0
    return int(fields[0]) * resource.getpagesize()


# -- the fuzzers -------------------------------------------------------------------------------

CASE_SEEDS = st.sampled_from(SEED_CASES)


@FUZZ_SETTINGS
@given(data=st.data())
def test_mutated_case_files(workspace: Path, data: st.DataObject) -> None:
    seed = data.draw(CASE_SEEDS, label="seed")
    text = data.draw(mutated(seed.read_bytes()), label="case file")
    others = {p.relative_to(REPO / "cases").as_posix(): p.read_bytes() for p in SEED_CASES[:2]
              if p != seed}
    cases = {**others, "fuzz/case.md": text}
    _fill(workspace, SEED_CONFIG, cases)
    run_everything(workspace, ["fuzz/case", *_case_ids(others)])


@FUZZ_SETTINGS
@given(data=st.data())
def test_mutated_config(workspace: Path, data: st.DataObject) -> None:
    config = data.draw(mutated(SEED_CONFIG), label="casebook.yml")
    cases = {p.relative_to(REPO / "cases").as_posix(): p.read_bytes() for p in SEED_CASES[:3]}
    _fill(workspace, config, cases)
    run_everything(workspace, _case_ids(cases))


# -- the corpus --------------------------------------------------------------------------------

CORPUS_FILES = sorted(CORPUS.glob("*.md")) + sorted(CORPUS.glob("*.yml"))


@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.name for p in CORPUS_FILES])
def test_corpus(workspace: Path, path: Path) -> None:
    data = path.read_bytes()
    if path.suffix == ".yml":
        cases = {p.relative_to(REPO / "cases").as_posix(): p.read_bytes() for p in SEED_CASES}
        _fill(workspace, data, cases)
        run_everything(workspace, _case_ids(cases)[:2])
    else:
        _fill(workspace, SEED_CONFIG, {"corpus.md": data})
        run_everything(workspace, ["corpus"])
