"""The words of a locale and the way it writes money and dates: the interface's labels
(`data/labels.yml`) and Babel's CLDR formats, shared by the reasons people read and the pages.

It formats; it never decides, reads a case or renders a template.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from casebook.read.datafiles import plain, read_data

LOCALES = {"it": "it_IT", "en": "en_GB"}
ELIDED = {"il": "l'", "del": "dell'", "al": "all'", "dal": "dall'"}  # before "8" and "11"
CENT = Decimal("0.01")


@lru_cache(maxsize=4)
def labels(locale: str) -> dict[str, str]:
    """The interface strings of a locale (`data/labels.yml`), English as the fallback."""
    table: dict[str, dict[str, str]] = read_data("labels.yml", plain)
    merged = dict(table.get("en", {}))
    merged.update(table.get(locale, {}))
    return merged


class Labels(dict[str, str]):
    """Interface labels; a missing key shows as itself rather than failing the page."""

    def __missing__(self, key: str) -> str:
        return key


class Memo(dict[Hashable, Any]):
    """Formatted values by input, for filters called with the same few dates and amounts all
    over a build: the bound `__getitem__` of a filled entry costs a template a single lookup."""

    LIMIT = 50_000  # entries; a long build starts afresh rather than growing without end

    def __init__(self, make: Callable[[Any], Any]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: Hashable) -> Any:
        if len(self) >= self.LIMIT:
            self.clear()
        value = self[key] = self.make(key)
        return value


class Formats:
    """Babel formatting for one locale, exposed to templates as filters.

    Babel decides every convention; since a site formats tens of thousands of amounts, the
    separators and currency placement Babel uses are read once from a sample and applied with
    Python's own formatting, after checking that both agree (else Babel formats every amount).
    Dates likewise: Babel's month names in Python's formatting where both agree on a sample of
    dates. Each formatted value is kept, since the same dates and amounts recur across a case.
    """

    SAMPLES = ("0", "0.5", "7", "12.30", "999.99", "1000", "1234.56", "1234567.89",
               "-5.25", "-1234.5")
    DATE_SAMPLES = tuple(date(year, month, day) for year in (2026, 999) for month in range(1, 13)
                         for day in (1, 28))

    def __init__(self, locale: str, currency: str) -> None:
        from babel import Locale

        self.locale = Locale.parse(LOCALES.get(locale, locale))
        self.currency = currency
        self._money_layout = self._learn(lambda v: self._babel_money(v))
        self._number_layout = self._learn(lambda v: self._babel_number(v))
        self._percents: dict[str, str] = {}
        self._fast_dates = self._learn_dates()
        # The filters: memoised where equal inputs always give equal text. Babel's own output
        # is not memoised by value, since it may tell -0 from 0.
        self.date_long = Memo(lambda d: self._date(d, "long")).__getitem__
        self.date_short = Memo(lambda d: self._date(d, "dd/MM/yyyy")).__getitem__
        self.money = Memo(self._money).__getitem__ if self._money_layout else self._money
        self.number = Memo(self._number).__getitem__ if self._number_layout else self._number
        self._words = Memo(lambda key: self._in_words(*key))

    def _babel_money(self, value: Decimal) -> str:
        from babel.numbers import format_currency

        return str(format_currency(value, self.currency, locale=self.locale))

    def _babel_number(self, value: Decimal) -> str:
        from babel.numbers import format_decimal

        return str(format_decimal(value, format="#,##0.00", locale=self.locale))

    def _learn(self, babel: Any) -> tuple[str, str, str, str, str, str] | None:
        positive = re.fullmatch(r"(\D*?)1(\D)234(\D)567(\D)89(\D*)",
                                babel(Decimal("1234567.89")))
        negative = re.fullmatch(r"(\D*?)1(\D)00(\D*)", babel(Decimal("-1.00")))
        if positive is None or negative is None or positive[2] != positive[3]:
            return None
        layout = (positive[1], positive[2], positive[4], positive[5], negative[1], negative[3])
        fast_agrees = all(self._apply(layout, Decimal(v)) == babel(Decimal(v))
                          for v in self.SAMPLES)
        return layout if fast_agrees else None

    @staticmethod
    def _apply(layout: tuple[str, str, str, str, str, str], value: Decimal) -> str:
        prefix, group, point, suffix, neg_prefix, neg_suffix = layout
        digits = f"{abs(value):,.2f}".replace(",", "\0").replace(".", point)
        digits = digits.replace("\0", group)
        if value < 0:
            return neg_prefix + digits + neg_suffix
        return prefix + digits + suffix

    def _money(self, amount: Decimal | None) -> str:
        if amount is None:
            return ""
        value = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
        if self._money_layout is None:
            return self._babel_money(value)
        return self._apply(self._money_layout, value)

    def _number(self, amount: Decimal | None) -> str:
        """An amount without the currency sign, for table columns."""
        if amount is None:
            return ""
        value = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
        if self._number_layout is None:
            return self._babel_number(value)
        return self._apply(self._number_layout, value)

    def percent(self, rate: Decimal) -> str:
        key = str(rate)  # not the value: Babel writes -0 as "-0,00"
        found = self._percents.get(key)
        if found is None:
            from babel.numbers import format_decimal

            found = f"{format_decimal(rate, format='0.00', locale=self.locale)}\u00a0%"
            self._percents[key] = found
        return found

    def _learn_dates(self) -> dict[str, Callable[[date], str]]:
        """Python's formatting of the two date patterns, for each that agrees with Babel."""
        from babel.dates import format_date

        months = self.locale.months["format"]["wide"]
        fast: dict[str, Callable[[date], str]] = {
            "dd/MM/yyyy": lambda d: f"{d.day:02d}/{d.month:02d}/{d.year:04d}",
            "long": lambda d: f"{d.day} {months[d.month]} {d.year}",
        }
        return {pattern: fmt for pattern, fmt in fast.items()
                if all(fmt(d) == format_date(d, pattern, locale=self.locale)
                       for d in self.DATE_SAMPLES)}

    def _date(self, day: date | None, pattern: str) -> str:
        if day is None:
            return ""
        fast = self._fast_dates.get(pattern)
        if fast is not None:
            return fast(day)
        from babel.dates import format_date

        return str(format_date(day, pattern, locale=self.locale))

    def date_words(self, day: date, prep: str | None = None) -> str:
        """A date in words, the Italian way: "1° dicembre 2026" on the first of the month and,
        after a preposition, the elided article before 8 and 11: `d|date_words("del")` gives
        "del 20 novembre 2026" but "dell'8 ottobre 2026". The Italian letters' `dl(d)` and
        `on(prep, d)`; the month names are Babel's, in the casebook's locale."""
        return self._words[day, prep]  # type: ignore[no-any-return]

    def _in_words(self, day: date, prep: str | None) -> str:
        text: str = self.date_long(day)
        if day.day == 1:
            text = f"{text[:1]}°{text[1:]}"
        if prep is None:
            return text
        if day.day in (8, 11) and prep in ELIDED:
            return ELIDED[prep] + text
        return f"{prep} {text}"
