"""The dashboard's totals: what every case adds to them, and their sum.

A case's share is made once, where the case is rendered; the dashboard's totals are the sum of
the shares, and an in-place update takes a changed case's old share away and adds its new one.
Amounts are exact Decimals; counts are how many cases have money in each total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

ZERO = Decimal(0)
BUCKETS = ("not-due", "1-30", "31-60", "61-90", "90+")
TOTAL_KEYS = ("open", "overdue", "disputed", "plan", "interest", "prescribing")


@dataclass(frozen=True, slots=True)
class Totals:
    """The amounts of `TOTAL_KEYS`, how many cases count in each, the cases without an owner,
    and the aging: the amount in each bucket (`BUCKETS`) and how many cases have money in it.
    `prescribing` is the overdue amount of the cases with a claim that prescribes within the
    warning window, and how many they are."""

    amounts: tuple[Decimal, ...] = (ZERO,) * len(TOTAL_KEYS)
    counts: tuple[int, ...] = (0,) * len(TOTAL_KEYS)
    unowned: int = 0
    aging: tuple[Decimal, ...] = (ZERO,) * len(BUCKETS)
    aging_counts: tuple[int, ...] = (0,) * len(BUCKETS)

    @classmethod
    def of(cls, *, balance: Decimal, overdue: Decimal, disputed: Decimal, plan: bool,
           interest: Decimal, owner: str | None, aging: tuple[Decimal, ...],
           prescribing: bool = False) -> Totals:
        """One case's share."""
        amounts = (balance, overdue, disputed, balance if plan else ZERO, interest,
                   overdue if prescribing else ZERO)
        counts = (*(int(a > ZERO) for a in amounts[:-1]), int(prescribing))
        return cls(amounts=amounts, counts=counts,
                   unowned=int(owner is None), aging=aging,
                   aging_counts=tuple(int(a > ZERO) for a in aging))

    @classmethod
    def sum(cls, shares: Iterable[Totals]) -> Totals:
        """The sum of many shares, column by column in one pass."""
        columns: list[list[Any]] = [[] for _ in range(5)]
        for share in shares:
            for column, value in zip(columns, _values(share), strict=True):
                column.append(value)
        if not columns[0]:
            return cls()
        return cls(*(_add_all(column) for column in columns))

    def __add__(self, other: Totals) -> Totals:
        return type(self)(*(_add(a, b, 1) for a, b in zip(_values(self), _values(other),
                                                          strict=True)))

    def __sub__(self, other: Totals) -> Totals:
        return type(self)(*(_add(a, b, -1) for a, b in zip(_values(self), _values(other),
                                                           strict=True)))

    @property
    def by_key(self) -> dict[str, Decimal]:
        return dict(zip(TOTAL_KEYS, self.amounts, strict=True))

    @property
    def counts_by_key(self) -> dict[str, int]:
        """How many cases count towards each total, and how many have no owner."""
        return {**dict(zip(TOTAL_KEYS, self.counts, strict=True)), "unowned": self.unowned}

    @property
    def aging_rows(self) -> tuple[tuple[str, Decimal, int], ...]:
        """(bucket, amount, number of cases with money in it) per bucket."""
        return tuple(zip(BUCKETS, self.aging, self.aging_counts, strict=True))


_NAMES = tuple(f.name for f in fields(Totals))


def _values(totals: Totals) -> tuple[Any, ...]:
    return tuple(getattr(totals, name) for name in _NAMES)


def _add(a: Any, b: Any, sign: int) -> Any:
    if isinstance(a, tuple):
        return tuple(x + sign * y for x, y in zip(a, b, strict=True))
    return a + sign * b


def _add_all(column: list[Any]) -> Any:
    if isinstance(column[0], tuple):
        return tuple(sum(parts, type(parts[0])(0)) for parts in zip(*column, strict=True))
    return sum(column)
