"""Rate tables under any law (SPEC 6): read, merged with casebook.yml, and where each one ends.

This module owns reading a law's data file of rate rows, the merge with the rows of casebook.yml,
the last day each table covers, the rows carried into periods with no row yet for a table that
carries its last rate, the warnings that name each missing row and how to add it, and the
`InterestContext` one casebook's cases share. Each method has its own end: one table ending never
stops another's interest. What differs by country (periods, carrying, where a rate is published,
the shipped rows) comes from the `Law`; this module names no country and no statute.
It never reads the clock or the environment, reads no file but a law's shipped data file, and
never uses binary floating point.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from yaml.nodes import Node

from casebook.engine.law.base import ONE_DAY, Law, RateTable, Shipped
from casebook.model import (
    DEBTOR_KINDS,
    DebtorKind,
    InterestMethod,
    InterestSettings,
    RatedMethod,
    RateRow,
)
from casebook.read.datafiles import read_data
from casebook.read.yamlread import Reader

CENT = Decimal("0.01")


# --- rows -------------------------------------------------------------------


def read_rate_file(name: str, methods: Sequence[RatedMethod]) -> Shipped:
    """The tables of casebook/data/`name`, one `<method>_rates` key per method, sorted by start."""

    def tables(reader: Reader, node: Node) -> Shipped | None:
        def table(what: str) -> Callable[[Node], tuple[RateRow, ...]]:
            return lambda n: reader.sequence(n, lambda row: _row(reader, row), what=what)

        names = tuple(f"{method}_rates" for method in methods)
        fields = reader.mapping(node, {key: table(key) for key in names}, what=name,
                                required=names)
        if fields is None:
            return None
        return tuple(merge_rates((), fields[key]) for key in names)

    return read_data(name, tables)


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


def row_on(rows: Sequence[RateRow], day: date) -> RateRow | None:
    """The row in force on `day` (rows sorted by start); None before the first row."""
    index = bisect.bisect_right(rows, day, key=lambda row: row.start)
    return rows[index - 1] if index else None


def rate_on(rows: Sequence[RateRow], day: date) -> Decimal | None:
    """The rate in force on `day` (rows sorted by start); None before the first row."""
    row = row_on(rows, day)
    return None if row is None else row.rate


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
    """A period with no row in a carried table: the last row's rate is used until one is added."""

    year: int
    row: RateRow  # the row carried into the period, marked provisional
    message: str


def add_row_hint(table: RateTable, start: date) -> str:
    return (
        f"add a row `{{from: {start}, rate: …, source: …}}` under interest: "
        f"{table.method}_rates: in casebook.yml with the rate of {table.published}"
    )


def end_gap(table: RateTable, first: date, interest_to: date) -> RateGap:
    method = table.method
    message = (
        f"no {method} rate is known from {first}: {method} interest is computed to "
        f"{interest_to}; " + add_row_hint(table, first)
    )
    return RateGap(method=method, first=first, last=None, message=message)


def start_gap(table: RateTable, number: str, first: date, last: date) -> RateGap:
    message = (
        f"no {table.method} rate is known from {first} to {last}: invoice {number} bears no "
        f"interest for those days; " + add_row_hint(table, table.period_start(first))
    )
    return RateGap(method=table.method, first=first, last=last, message=message)


def carried_forward(
    table: RateTable, rows: Sequence[RateRow], until: date
) -> tuple[ProvisionalRate, ...]:
    """One provisional row for each period after the table's last row, up to `until`'s."""
    if not rows or not table.carried:
        return ()
    last = rows[-1]
    was = table.period_name(last.start)
    carried: list[ProvisionalRate] = []
    start = table.next_period(last.start)
    while start <= until:
        now = table.period_name(start)
        message = (
            f"the {table.method} rate for {now} is not in the tables yet: the {was} rate "
            f"({_percent(last.rate)} %) is used, provisional; " + add_row_hint(table, start)
        )
        row = RateRow(start=start, rate=last.rate, source=f"the {was} rate, no row for {now} yet",
                      provisional=True)
        carried.append(ProvisionalRate(year=start.year, row=row, message=message))
        start = table.next_period(start)
    return tuple(carried)


def _percent(rate: Decimal) -> str:
    return f"{rate:.2f}" if rate == rate.quantize(CENT) else str(rate)


# --- one casebook's tables --------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class InterestContext:
    """What every case of one casebook shares: law, settings, merged tables and their ends."""

    law: Law
    settings: InterestSettings
    until: date  # T, the day the computation is made at
    # Both follow from law, settings and until, which the hash covers: dicts cannot be hashed.
    tables: Mapping[RatedMethod, tuple[RateRow, ...]] = field(hash=False)  # carried up to T
    ends: Mapping[RatedMethod, date] = field(hash=False)  # min(T, the last day each covers)
    gaps: tuple[RateGap, ...]  # tables in use that end before T
    provisional: tuple[ProvisionalRate, ...]  # periods up to T with no row, when in use

    def method_for(self, kind: DebtorKind) -> InterestMethod:
        """casebook.yml's method for `kind`, else the law's."""
        return self.settings.chosen(kind) or self.law.method_for(kind)

    def rates(self, method: InterestMethod) -> tuple[RateRow, ...]:
        return () if method == "none" else self.tables[method]

    def interest_to_for(self, method: InterestMethod) -> date:
        """The day interest at `method` is computed to: T, or its table's last day if earlier."""
        return self.until if method == "none" else self.ends[method]

    def table(self, method: RatedMethod) -> RateTable:
        return self.law.table(method)

    def compensation(self, kind: DebtorKind, method: InterestMethod) -> Decimal:
        """What the law adds to each invoice of `kind` overdue or paid late, at `method`."""
        return self.law.compensation(kind, method)

    @property
    def warning(self) -> str | None:
        """One sentence for `validate` when some days up to T have no known or a provisional
        rate."""
        messages = [gap.message for gap in self.gaps]
        messages += [item.message for item in self.provisional]
        return "; ".join(messages) or None


def build_context(
    law: Law, settings: InterestSettings, until: date, shipped: Shipped | None = None
) -> InterestContext:
    """Merge the casebook's rows onto the law's tables (or `shipped`) and find where each ends."""
    rows = law.shipped() if shipped is None else shipped
    kinds: tuple[DebtorKind, ...] = DEBTOR_KINDS
    used = {settings.chosen(kind) or law.method_for(kind) for kind in kinds}
    if not all(law.offers(method) for method in used):
        raise ValueError(f"an interest method in use has no rate table under the law of "
                         f"{law.code!r}")
    merged = {
        table.method: merge_rates(shipped_rows, settings.extra_rates(table.method))
        for table, shipped_rows in zip(law.tables, rows, strict=True)
    }
    if any(method in used and not merged[method] for method in merged):
        raise ValueError("an interest method in use has an empty rate table")
    tables: dict[RatedMethod, tuple[RateRow, ...]] = {}
    ends: dict[RatedMethod, date] = {}
    gaps: list[RateGap] = []
    provisional: list[ProvisionalRate] = []
    for table in law.tables:
        table_rows, in_use = merged[table.method], table.method in used
        carried = carried_forward(table, table_rows, until)
        tables[table.method] = table_rows + tuple(item.row for item in carried)
        end = until if table.carried or not table_rows else table.covered_to(table_rows)
        ends[table.method] = min(until, end)
        if in_use and end < until:
            gaps.append(end_gap(table, end + ONE_DAY, ends[table.method]))
        if in_use:
            provisional += carried
    return InterestContext(law=law, settings=settings, until=until, tables=tables, ends=ends,
                           gaps=tuple(gaps), provisional=tuple(provisional))
