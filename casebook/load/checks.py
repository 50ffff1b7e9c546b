"""Checks that look across files or depend on the day, run after every file is loaded.

Checks within one file that hold on any day belong to `casefile` (and are cached with it);
these read only the small per-file summaries, so they stay cheap on a large casebook. Each check
is a plain function yielding diagnostics; `check` runs them in order. Checks only report: they
never change a case and never read the clock (the day is a parameter).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

from casebook.diagnostics import Diagnostic, Severity
from casebook.engine.prescription import add_years
from casebook.load.casebook import Casebook
from casebook.load.files import FileSummary, dated_facts_of
from casebook.read.config import CONFIG_NAME

SummaryCheck = Callable[[FileSummary, date], Iterable[Diagnostic]]
CasebookCheck = Callable[[Casebook[Any], date], Iterable[Diagnostic]]


def unique_invoice_numbers(casebook: Casebook[Any], today: date) -> Iterator[Diagnostic]:
    """An invoice number is used once in the whole casebook; every place is reported."""
    return _unique(casebook, "invoices", "invoice", "duplicate-invoice")


def unique_credit_numbers(casebook: Casebook[Any], today: date) -> Iterator[Diagnostic]:
    """A credit note's number is used once in the whole casebook, like an invoice's."""
    return _unique(casebook, "credits", "credit note", "duplicate-credit")


def _unique(casebook: Casebook[Any], field: str, what: str, code: str) -> Iterator[Diagnostic]:
    places: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for summary in casebook.files:
        for number, line, col in getattr(summary, field):
            places[number].append((summary.path, line, col))
    for number, where in places.items():
        if len(where) < 2:
            continue
        for path, line, col in where:
            others = ", ".join(f"{p}:{q}" for p, q, c in where if (p, q, c) != (path, line, col))
            yield Diagnostic(path, line, col, Severity.ERROR, code,
                             f"{what} number {number!r} is used more than once "
                             f"(also at {others})")


def sources_exist(casebook: Casebook[Any], today: date) -> Iterator[Diagnostic]:
    """An invoice's `source` names a file of the casebook (the case page links to it)."""
    for summary in casebook.files:
        for source, line, col in summary.sources:
            if not (casebook.root / source).is_file():
                yield Diagnostic(summary.path, line, col, Severity.WARNING, "missing-source",
                                 f"the invoice's source {source!r} is not a file of the "
                                 "casebook; the case page cannot link to it")


def rate_coverage(casebook: Casebook[Any], today: date) -> Iterator[Diagnostic]:
    """One warning when some days up to today have no known interest rate, or a provisional
    one (a year with no legal-rate row yet)."""
    from casebook.engine.interest import interest_context

    if not any(summary.valid for summary in casebook.files):
        return
    warning = interest_context(casebook.config.interest, today).warning
    if warning:
        yield Diagnostic(CONFIG_NAME, 1, 1, Severity.WARNING, "rate-missing", warning)


def future_facts(summary: FileSummary, today: date) -> Iterator[Diagnostic]:
    """Facts dated after the day are ignored by every computation; say so."""
    limit = today.toordinal()
    if summary.latest <= limit:
        return
    for ordinal, line, col, what in dated_facts_of(summary):
        if ordinal > limit:
            day = date.fromordinal(ordinal)
            yield Diagnostic(summary.path, line, col, Severity.WARNING, "future",
                             f"{what} on {day}, after today ({today}): "
                             "it is ignored until that day")


def templates_inside(casebook: Casebook[Any], today: date) -> Iterator[Diagnostic]:
    """The casebook's `templates/` folder is used only when it lies inside the casebook."""
    from casebook.read.discover import template_dirs

    folder = casebook.root / "templates"
    if folder.is_dir() and str(folder) not in template_dirs(casebook.root):
        yield Diagnostic("templates", 1, 1, Severity.WARNING, "outside",
                         "the templates folder is a link to a place outside the casebook; it "
                         "is ignored and the shipped templates are used")


def prescribed_consumer(summary: FileSummary, today: date) -> Iterator[Diagnostic]:
    """A consumer's claim prescribed by the day is never demanded (Codice del consumo arts.
    24–25): say so, so that the case is closed or what interrupted it is recorded."""
    if not summary.consumer_claims or (summary.filed is not None
                                       and summary.filed <= today.toordinal()):
        return
    acts = [day for day in summary.interruptions if day <= today.toordinal()]
    for number, line, col, due, years in summary.consumer_claims:
        start, end = date.fromordinal(due), add_years(date.fromordinal(due), years)
        for day in acts:
            if day > end.toordinal():
                break
            if day > start.toordinal():
                start = date.fromordinal(day)
                end = add_years(start, years)
        if today > end:
            yield Diagnostic(summary.path, line, col, Severity.WARNING, "prescribed",
                             f"invoice {number} of this consumer prescribed on {end} ({years} "
                             f"years from {start}): casebook never demands it; close the case, "
                             "or record what interrupted prescription (a delivered formal "
                             "notice, a written acknowledgement)")


SUMMARY_CHECKS: tuple[SummaryCheck, ...] = (future_facts, prescribed_consumer)
CASEBOOK_CHECKS: tuple[CasebookCheck, ...] = (unique_invoice_numbers, unique_credit_numbers,
                                               sources_exist, rate_coverage, templates_inside)


def check_changed(casebook: Casebook[Any], today: date, paths: Iterable[str]) -> list[Diagnostic]:
    """What `check` would find that can differ after the files at `paths` changed: the
    casebook-wide checks and the diagnostics of those files (the others' are as they were)."""
    wanted = set(paths)
    found = list(casebook.config_diagnostics)
    for casebook_check in CASEBOOK_CHECKS:
        found.extend(casebook_check(casebook, today))
    for summary in casebook.files:
        if summary.path in wanted:
            found.extend(summary.diagnostics)
            for summary_check in SUMMARY_CHECKS:
                found.extend(summary_check(summary, today))
    return found


def check(casebook: Casebook[Any], today: date) -> list[Diagnostic]:
    """The diagnostics of loading plus those of every check."""
    found = list(casebook.diagnostics)
    for casebook_check in CASEBOOK_CHECKS:
        found.extend(casebook_check(casebook, today))
    for summary in casebook.files:
        for summary_check in SUMMARY_CHECKS:
            found.extend(summary_check(summary, today))
    return found
