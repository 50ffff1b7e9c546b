"""The values written in a file, read from their text exactly: amounts, rates, dates, days.

Owns the bounds that keep every computation exact and in range, and the words that explain a
value written the way people write it on paper (`1.220,50` for an amount). Each parser takes the
text of one value and returns it, or raises `BadValue` with the message a person reads. It never
sees YAML (the reader adds the line and column) and never reads the clock.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

# Bounds that keep every computation exact and in range: amounts and interest stay within the
# 28 digits of decimal arithmetic, and a date plus any number of days stays a date.
MAX_AMOUNT = Decimal("1e12")
MAX_RATE = Decimal(1000)
MAX_RATE_DECIMALS = 6
MAX_DAYS = 36_500
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
_MONEY = re.compile(r"[+-]?\d+(?:\.(\d+))?")
_RATE = re.compile(r"\d+(?:\.(\d+))?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER = re.compile(r"\d+")

SEPARATORS_HINT = "write amounts without thousands separators, with a dot for decimals"
# 1.220 · 1.220,50 · 1,220.50 · 1'220 · 1 220,50 · 12,50: thousands grouped by a dot, a comma,
# an apostrophe or a space, and a decimal comma or dot after them.
_GROUPED = re.compile(r"[+-]?(?P<int>\d{1,3}(?:(?P<sep>[.,' ])\d{3})(?:(?P=sep)\d{3})*)"
                      r"(?:(?P<dec>[.,])(?P<cents>\d{1,2}))?")
_DECIMAL_COMMA = re.compile(r"[+-]?(?P<int>\d+),(?P<cents>\d{1,2})")


class BadValue(ValueError):
    """The text is not the value it should be; `code` is the diagnostic's code."""

    def __init__(self, message: str, code: str = "type") -> None:
        super().__init__(message)
        self.message, self.code = message, code


def parse_money(text: str) -> Decimal:
    """An amount with at most two decimals, below MAX_AMOUNT, exactly."""
    match = _MONEY.fullmatch(text)
    if match is None or len(match.group(1) or "") > 2:
        meant = separated_amount(text)
        if meant is not None:  # 1.220 is a number to YAML, but no amount has three decimals
            raise BadValue(f"{short(text)} is not an amount: {SEPARATORS_HINT}: {meant}"
                           + _or_fewer_decimals(text), "amount")
    if not match:
        raise BadValue(f"{short(text)!r} is not an amount; write it like 1220.00 "
                       "(a dot for decimals, no thousands separator)", "amount")
    decimals = match.group(1)
    if decimals is not None and len(decimals) > 2:
        raise BadValue(f"{short(text)} has more than two decimals", "amount")
    amount = Decimal(text)
    if abs(amount) >= MAX_AMOUNT:
        raise BadValue(f"{short(text)} is too large: an amount is below "
                       f"{MAX_AMOUNT:,.0f}", "amount")
    return amount


def separated_amount(text: str) -> str | None:
    """The amount a person meant by `text` when it uses thousands separators or a decimal
    comma (`1.220,50` → `1220.50`), as it must be written; None otherwise."""
    grouped = _GROUPED.fullmatch(text)
    if grouped is not None and grouped["dec"] != grouped["sep"]:
        whole = re.sub(r"\D", "", grouped["int"])
        cents = (grouped["cents"] or "").ljust(2, "0")
    else:
        comma = _DECIMAL_COMMA.fullmatch(text)
        if comma is None:
            return None
        whole, cents = comma["int"], comma["cents"].ljust(2, "0")
    sign = "-" if text.startswith("-") else ""
    return f"{sign}{int(whole)}.{cents}"


def _or_fewer_decimals(text: str) -> str:
    """' (or 1.22 …)' for 1.220, which may be 1.22 written with one zero too many."""
    if _MONEY.fullmatch(text) and text.endswith("0"):
        return f" (or {text[:-1]}, if that is what you meant)"
    return ""


def parse_percent(text: str) -> Decimal:
    """A rate in percent per year, below MAX_RATE, with at most MAX_RATE_DECIMALS decimals."""
    match = _RATE.fullmatch(text.strip())
    if not match:
        raise BadValue(f"{text!r} is not a rate; write it in percent, like 10.15")
    rate = Decimal(text.strip())
    if rate >= MAX_RATE or len(match.group(1) or "") > MAX_RATE_DECIMALS:
        raise BadValue(f"{short(text)} is not a plausible rate: a rate is below "
                       f"{MAX_RATE} % with at most {MAX_RATE_DECIMALS} decimals", "value")
    return rate


def parse_days(text: str) -> int:
    """A whole number of days, at most MAX_DAYS."""
    digits = text.strip()
    if not _INTEGER.fullmatch(digits):
        raise BadValue(f"expected a whole number of days, found {short(text)!r}")
    digits = digits.lstrip("0") or "0"
    if len(digits) > len(str(MAX_DAYS)) or int(digits) > MAX_DAYS:
        raise BadValue(f"{short(text)} is too large: at most {MAX_DAYS:,}", "value")
    return int(digits)


def parse_date(text: str) -> date:
    """A real YYYY-MM-DD date between FIRST_DAY and LAST_DAY."""
    if not _ISO_DATE.fullmatch(text):
        raise BadValue(f"{short(text)!r} is not a date; write it as YYYY-MM-DD", "date")
    day = iso_date(text)
    if day is None:
        raise BadValue(f"{text} is not a real date", "date")
    problem = out_of_range(day)
    if problem is not None:
        raise BadValue(problem, "date")
    return day


def iso_date(text: str) -> date | None:
    """The date written as YYYY-MM-DD, or None."""
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def out_of_range(day: date) -> str | None:
    """What is wrong with a date outside FIRST_DAY … LAST_DAY, where day arithmetic is safe."""
    if FIRST_DAY <= day <= LAST_DAY:
        return None
    return f"{day} is out of range: dates run from {FIRST_DAY} to {LAST_DAY}"


def short(text: str, limit: int = 40) -> str:
    """Text quoted in a message, cut to a readable length (a value may be megabytes long)."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"
