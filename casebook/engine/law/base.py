"""The seam between casebook's interest arithmetic and one country's law of late payment.

A `Law` says what only a statute can say: which method each debtor kind gets, how each method's
rate table reads (the period a row covers, whether the last rate carries into a period with no
row yet, where a missing rate is published), the compensation per invoice, and the rows shipped
for it. This module owns those two shapes and their small lookups; it names no country, never
computes interest, and never reads the clock, the environment or a file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from casebook.model import DebtorKind, InterestMethod, RatedMethod, RateRow

ONE_DAY = timedelta(days=1)
Shipped = tuple[tuple[RateRow, ...], ...]  # one row tuple per table, in the law's order


@dataclass(frozen=True, kw_only=True)
class RateTable:
    """How one method's rate table reads under a law."""

    method: RatedMethod
    months: int  # the period a row covers to the end of: 6 a semester, 12 a calendar year
    carried: bool  # a period with no row yet bears the last rate, marked provisional
    published: str  # where the rate of a missing row is published, for the add-a-row hint

    def __post_init__(self) -> None:
        if self.months not in (1, 2, 3, 4, 6, 12):
            raise ValueError(f"a rate period must divide the year, not {self.months} months")

    def period_start(self, day: date) -> date:
        """The first day of the period `day` falls in."""
        return date(day.year, (day.month - 1) // self.months * self.months + 1, 1)

    def next_period(self, day: date) -> date:
        """The first day of the period after the one `day` falls in."""
        start = self.period_start(day)
        month = start.month + self.months
        return date(start.year + (month > 12), (month - 1) % 12 + 1, 1)

    def covered_to(self, rows: Sequence[RateRow]) -> date:
        """The last day with a known rate: the end of the last row's period."""
        return self.next_period(rows[-1].start) - ONE_DAY

    def period_name(self, day: date) -> str:
        """The period `day` falls in, as a warning names it: `2027`, or `2027-07` when shorter."""
        return str(day.year) if self.months == 12 else f"{day.year}-{day.month:02d}"


@dataclass(frozen=True, kw_only=True)
class Law:
    """One country's late-payment law, as casebook computes it."""

    code: str  # its key in casebook.engine.law.LAWS
    name: str  # the statutes, for people
    methods: tuple[tuple[DebtorKind, InterestMethod], ...]  # each debtor kind's method
    tables: tuple[RateTable, ...]
    compensation: Callable[[DebtorKind, InterestMethod], Decimal]  # per invoice paid late
    shipped: Callable[[], Shipped]  # the rows shipped with casebook, one tuple per table
    #: the method a kind's interest runs at once the claim is in court, where the law changes
    #: it: (kind, method before, method from the filing)
    in_court: tuple[tuple[DebtorKind, InterestMethod, InterestMethod], ...] = ()

    def method_for(self, kind: DebtorKind) -> InterestMethod:
        """The method the law gives `kind` when casebook.yml does not choose one."""
        return dict(self.methods)[kind]

    def table(self, method: RatedMethod) -> RateTable:
        """The table of `method`; KeyError when the law has none."""
        for table in self.tables:
            if table.method == method:
                return table
        raise KeyError(f"the law of {self.code!r} has no {method} rate table")

    def method_in_court(self, kind: DebtorKind, method: InterestMethod) -> InterestMethod:
        """The method from the day the claim is filed in court (the same unless the law says)."""
        for who, before, after in self.in_court:
            if who == kind and before == method:
                return after
        return method

    def offers(self, method: InterestMethod) -> bool:
        """Whether interest can be computed at `method` under this law (`none` always can)."""
        return method == "none" or any(table.method == method for table in self.tables)
