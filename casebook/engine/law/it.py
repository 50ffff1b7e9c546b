"""The interest rate tables (SPEC 6) and how far each one reaches.

This module owns the tables shipped in `casebook/data/rates.yml`, their merge with the rows of
casebook.yml, the last day each method's table covers, the legal rate carried into a year with no
row yet (art. 1284 c.c.), and the warnings that name each missing row and where its value is
published. Each method has its own end: one table ending never stops the other's interest.
It never reads the clock, the environment or any file but the shipped rates.yml, and never uses
binary floating point.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal, get_args

from yaml.nodes import Node

from casebook.model import DebtorKind, InterestMethod, InterestSettings, RateRow
from casebook.read.datafiles import read_data
from casebook.read.yamlread import Reader

RatedMethod = Literal["commercial", "legal"]
Tables = tuple[tuple[RateRow, ...], tuple[RateRow, ...]]
ONE_DAY = timedelta(days=1)
CENT = Decimal("0.01")
PUBLISHED: dict[RatedMethod, str] = {
    "commercial": "the MEF communiqué in the Gazzetta Ufficiale (the ECB main refinancing rate "
                  "on 1 January / 1 July, + 8 points)",
    "legal": "the decree of the Ministry of Economy and Finance (MEF) in the Gazzetta Ufficiale "
             "(published by 15 December; without one the rate stays unchanged, art. 1284 c.c.)",
}


# --- the shipped tables -----------------------------------------------------


@functools.cache
def shipped_rates() -> Tables:
    """The (commercial, legal) tables shipped in casebook/data/rates.yml, sorted by start."""
    return read_data("rates.yml", _tables)


def _tables(reader: Reader, node: Node) -> Tables | None:
    def table(what: str) -> Callable[[Node], tuple[RateRow, ...]]:
        return lambda n: reader.sequence(n, lambda row: _row(reader, row), what=what)

    names = ("commercial_rates", "legal_rates")
    fields = reader.mapping(node, {name: table(name) for name in names}, what="rates.yml",
                            required=names)
    if fields is None:
        return None
    return merge_rates((), fields["commercial_rates"]), merge_rates((), fields["legal_rates"])


def _row(reader: Reader, node: Node) -> RateRow | None:
    keys = ("from", "rate", "source")
    fields = reader.mapping(node, {"from": reader.date, "rate": reader.percent,
                                   "source": reader.text}, what="a rate row", required=keys)
    if fields is None:
        return None
    return RateRow(start=fields["from"], rate=fields["rate"], source=fields["source"])


def merge_rates(shipped: Sequence[RateRow], extra: Sequence[RateRow]) -> tuple[RateRow, ...]:
    """`shipped` with the rows of `extra` on top: the same start replaces, others are added."""
    by_start = {row.start: row for row in shipped}
    by_start.update((row.start, row) for row in extra)
    return tuple(by_start[start] for start in sorted(by_start))


def covered_to(rows: Sequence[RateRow], method: RatedMethod) -> date:
    """The last day with a known rate: the end of the last row's semester or year."""
    last = rows[-1].start
    if method == "commercial" and last.month <= 6:
        return date(last.year, 6, 30)
    return date(last.year, 12, 31)


def row_on(rows: Sequence[RateRow], day: date) -> RateRow | None:
    """The row in force on `day` (rows sorted by start); None before the first row."""
    index = bisect.bisect_right(rows, day, key=lambda row: row.start)
    return rows[index - 1] if index else None


def rate_on(rows: Sequence[RateRow], day: date) -> Decimal | None:
    """The rate in force on `day` (rows sorted by start); None before the first row."""
    row = row_on(rows, day)
    return None if row is None else row.rate


def period_start(day: date, method: RatedMethod) -> date:
    month = 7 if method == "commercial" and day.month > 6 else 1
    return date(day.year, month, 1)


# --- missing and provisional rows -------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RateGap:
    """Days interest would run on but no row of a table covers; `message` says how to add one."""

    method: RatedMethod
    first: date
    last: date | None  # None: every day from `first` on
    message: str


@dataclass(frozen=True, kw_only=True)
class ProvisionalRate:
    """A year with no legal-rate row: the last row's rate is used until a row is added."""

    year: int
    row: RateRow  # the row carried into `year`, marked provisional
    message: str


def add_row_hint(method: RatedMethod, start: date) -> str:
    return (
        f"add a row `{{from: {start}, rate: …, source: …}}` "
        f"under interest: {method}_rates: in casebook.yml with the rate of {PUBLISHED[method]}"
    )


def _end_gap(method: RatedMethod, first: date, interest_to: date) -> RateGap:
    message = (
        f"no {method} rate is known from {first}: {method} interest is computed to "
        f"{interest_to}; " + add_row_hint(method, first)
    )
    return RateGap(method=method, first=first, last=None, message=message)


def start_gap(method: RatedMethod, number: str, first: date, last: date) -> RateGap:
    message = (
        f"no {method} rate is known from {first} to {last}: invoice {number} bears no interest "
        f"for those days; " + add_row_hint(method, period_start(first, method))
    )
    return RateGap(method=method, first=first, last=last, message=message)


def carried_forward(rows: tuple[RateRow, ...], until: date) -> tuple[ProvisionalRate, ...]:
    """One provisional row for each year after the legal table's last, up to `until`'s year.

    Art. 1284 c.c.: the legal rate stays unchanged unless a decree changes it by 15 December,
    so the last known rate is the best value until the year's row is added.
    """
    if not rows:
        return ()
    last = rows[-1]
    carried: list[ProvisionalRate] = []
    for year in range(last.start.year + 1, until.year + 1):
        start = date(year, 1, 1)
        source = f"the {last.start.year} rate, no row for {year} yet"
        message = (
            f"the legal rate for {year} is not in the tables yet: the {last.start.year} rate "
            f"({_percent(last.rate)} %) is used, provisional; " + add_row_hint("legal", start)
        )
        row = RateRow(start=start, rate=last.rate, source=source, provisional=True)
        carried.append(ProvisionalRate(year=year, row=row, message=message))
    return tuple(carried)


def _percent(rate: Decimal) -> str:
    return f"{rate:.2f}" if rate == rate.quantize(CENT) else str(rate)


# --- one casebook's tables --------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class InterestContext:
    """What every case of one casebook shares: settings, merged tables and each table's end."""

    settings: InterestSettings
    until: date  # T, the day the computation is made at
    commercial_rates: tuple[RateRow, ...]
    legal_rates: tuple[RateRow, ...]  # with the provisional rows carried up to T's year
    commercial_to: date  # min(T, the last day the commercial table covers)
    legal_to: date  # T: the legal table is carried forward, never ends
    gaps: tuple[RateGap, ...]  # tables in use that end before T
    provisional: tuple[ProvisionalRate, ...]  # years up to T with no legal row, when in use

    def rates(self, method: InterestMethod) -> tuple[RateRow, ...]:
        if method == "none":
            return ()
        return self.commercial_rates if method == "commercial" else self.legal_rates

    def interest_to_for(self, method: InterestMethod) -> date:
        """The day interest at `method` is computed to: T, or its table's last day if earlier."""
        if method == "none":
            return self.until
        return self.commercial_to if method == "commercial" else self.legal_to

    @property
    def warning(self) -> str | None:
        """One sentence for `validate` when some days up to T have no known or a provisional
        rate."""
        messages = [gap.message for gap in self.gaps]
        messages += [item.message for item in self.provisional]
        return "; ".join(messages) or None


def interest_context(
    settings: InterestSettings, until: date, shipped: Tables | None = None
) -> InterestContext:
    """Merge the casebook's rows onto the shipped tables and find where each table ends."""
    shipped_commercial, shipped_legal = shipped_rates() if shipped is None else shipped
    commercial = merge_rates(shipped_commercial, settings.commercial_rates)
    legal = merge_rates(shipped_legal, settings.legal_rates)
    used = _methods_in_use(settings)
    if ("commercial" in used and not commercial) or ("legal" in used and not legal):
        raise ValueError("an interest method in use has an empty rate table")
    commercial_end = covered_to(commercial, "commercial") if commercial else until
    commercial_to = min(until, commercial_end)
    gaps: tuple[RateGap, ...] = ()
    if "commercial" in used and commercial_end < until:
        gaps = (_end_gap("commercial", commercial_end + ONE_DAY, commercial_to),)
    carried = carried_forward(legal, until)
    return InterestContext(
        settings=settings,
        until=until,
        commercial_rates=commercial,
        legal_rates=legal + tuple(item.row for item in carried),
        commercial_to=commercial_to,
        legal_to=until,
        gaps=gaps,
        provisional=carried if "legal" in used else (),
    )


def _methods_in_use(settings: InterestSettings) -> set[InterestMethod]:
    kinds: tuple[DebtorKind, ...] = get_args(DebtorKind)
    return {settings.method_for(kind) for kind in kinds}
