"""One case file on its way into the casebook: read, parsed, and summed up for the checks.

`parse_file` turns a file's bytes into a `Case` and its diagnostics; `summarize` keeps what the
casebook-wide and day-dependent checks need from it, as plain values that cache and travel
between processes cheaply. It reads only the file it is given and never reads the clock.
"""

from __future__ import annotations

import hashlib
import marshal
import zlib
from datetime import date
from typing import Any, NamedTuple

from casebook.diagnostics import Diagnostic, Severity
from casebook.engine.prescription import acts, claim_terms
from casebook.model import Case, Config, Pos
from casebook.read.casefile import Parsed, read_case, too_large
from casebook.read.discover import case_id, id_problem


class FileSummary(NamedTuple):
    """What the casebook-wide and day-dependent checks need from one file: plain values only
    (a tuple, so that thousands of them load from the cache quickly)."""

    path: str
    key: str  # digest of the file's bytes
    diagnostics: tuple[Diagnostic, ...]
    invoices: tuple[tuple[str, int, int], ...]  # number, line, column
    #: every dated fact as (date ordinal, line, column, what), packed (`dated_facts_of`): a
    #: casebook holds a summary of every file, and most never need them unpacked
    dated: bytes
    valid: bool  # the file parsed into a case
    credits: tuple[tuple[str, int, int], ...] = ()  # credit-note number, line, column
    sources: tuple[tuple[str, int, int], ...] = ()  # an invoice's source file, line, column
    #: a consumer's open claims (number, line, column, due ordinal, years), the ordinals of the
    #: acts that interrupt prescription, and the court filing's: `checks.prescribed_consumer`
    consumer_claims: tuple[tuple[str, int, int, int, int], ...] = ()
    interruptions: tuple[int, ...] = ()
    filed: int | None = None
    latest: int = 0  # the ordinal of the last date among `dated` (0: none)


def parse_file(relative: str, data: bytes | int, config: Config) -> Parsed:
    """`data` is the file's bytes, or its size when it is too large to read."""
    cid = case_id(relative)
    parsed = (read_case(cid, relative, data, config) if isinstance(data, bytes)
              else too_large(relative, data))
    problem = id_problem(relative)
    if problem is None:
        return parsed
    kept = parsed.case if problem.severity is Severity.WARNING else None
    return Parsed(kept, (problem, *parsed.diagnostics))


NOTHING_DATED = zlib.compress(marshal.dumps(()))


def dated_facts_of(summary: FileSummary) -> tuple[tuple[int, int, int, str], ...]:
    """The file's dated facts, unpacked: (date ordinal, line, column, what)."""
    return marshal.loads(zlib.decompress(summary.dated))  # type: ignore[no-any-return]


def clean(parsed: Parsed) -> Case | None:
    """The case, when its file has no error of its own."""
    if parsed.case is None or any(d.severity is Severity.ERROR for d in parsed.diagnostics):
        return None
    return parsed.case


def summarize(relative: str, key: str, parsed: Parsed) -> FileSummary:
    case = parsed.case
    if case is None:
        return FileSummary(relative, key, parsed.diagnostics, (), NOTHING_DATED, False)
    dated = tuple((day.toordinal(), pos.line, pos.col, what)
                  for what, day, pos in dated_facts(case))
    return FileSummary(
        relative, key, parsed.diagnostics,
        invoices=tuple((i.number, i.pos.line, i.pos.col) for i in case.invoices),
        dated=zlib.compress(marshal.dumps(dated)), latest=max((d[0] for d in dated), default=0),
        valid=True,
        credits=tuple((c.number, c.pos.line, c.pos.col) for c in case.credits),
        sources=tuple((i.source, i.pos.line, i.pos.col) for i in case.invoices if i.source),
        **(_consumer_claims(case) if case.debtor.kind == "consumer" else {}),
    )


_EVER = date(9000, 1, 1)  # every fact of the file counts: the check picks the day's acts


def _consumer_claims(case: Case) -> dict[str, Any]:
    """What the day's check needs to tell a consumer's prescribed claim (part payments are not
    counted as acknowledgements here: the policy may say otherwise, and a warning errs early)."""
    claims = claim_terms(case, _EVER)
    return {
        "consumer_claims": tuple((c.invoice.number, c.invoice.pos.line, c.invoice.pos.col,
                                  c.invoice.due.toordinal(), c.years) for c in claims),
        "interruptions": tuple(a.day.toordinal() for a in acts(case, _EVER, False)),
        "filed": case.court.filed.toordinal() if case.court is not None else None,
    }


def dated_facts(case: Case) -> list[tuple[str, date, Pos]]:
    """(what, date, position) of every fact that a later day must not see yet."""
    facts: list[tuple[str, date, Pos]] = [
        *((f"invoice {i.number} issued", i.date, i.pos) for i in case.invoices),
        *(("payment", p.date, p.pos) for p in case.payments),
        *((f"credit note {c.number} issued", c.date, c.pos) for c in case.credits),
        *(("dispute opened", d.opened, d.pos) for d in case.disputes),
        *(("dispute resolved", d.resolved, d.pos) for d in case.disputes if d.resolved),
        *(("promise made", p.made, p.pos) for p in case.promises),
        *(("plan agreed", p.agreed, p.pos) for p in case.plans),
        *((f"log entry ({e.channel})", e.date, e.pos) for e in case.log),
    ]
    if case.closed is not None:
        facts.append(("case closed", case.closed.date, case.closed.pos))
    return facts


def unreadable(relative: str, exc: OSError) -> FileSummary:
    message = f"cannot read the file: {exc.strerror or exc}"
    diagnostic = Diagnostic(relative, 1, 1, Severity.ERROR, "io", message)
    return FileSummary(relative, "", (diagnostic,), (), NOTHING_DATED, False)


def refused(diagnostic: Diagnostic) -> FileSummary:
    """An entry of cases/ that is not read, with the diagnostic that says why."""
    return FileSummary(diagnostic.path, "", (diagnostic,), (), NOTHING_DATED, False)


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def file_key(data: bytes | int) -> str:
    """The cache key of what `read_limited` gave: the bytes, or the size of a file too large."""
    return digest(data if isinstance(data, bytes) else b"\0too-large %d" % data)
