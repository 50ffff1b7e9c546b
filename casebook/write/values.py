"""The values a person types on the command line, checked before any file is touched.

Owns `Refused`, the one way an edit says no, and the checks of `log`, `pay`, `promise` and
`dispute` on their words: dates not after today, exact amounts, known channels, steps and
invoices, one-line texts, a payment no larger than the case owes. It never touches a file, the
clock or the environment: `today` is a parameter.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal

from casebook.diagnostics import did_you_mean
from casebook.engine.interest import interest_context, interest_for_case
from casebook.model import CHANNELS, Case, Config, Payment, Policy
from casebook.read.contactlog import resolve_channel
from casebook.read.scalars import SEPARATORS_HINT, separated_amount

BOM = "\ufeff"
_AMOUNT = re.compile(r"[+-]?\d+(?:\.\d{1,2})?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Refused(Exception):
    """The edit cannot be made; the message says why. The file must be left untouched."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_day(text: str | None, today: date, what: str = "the date") -> date:
    """A YYYY-MM-DD date, not after `today`; None means today."""
    if text is None:
        return today
    day = parse_any_day(text, what)
    if day > today:
        raise Refused(f"{what} {day} is after today ({today}): record facts once they have "
                      "happened")
    return day


def parse_any_day(text: str, what: str = "the date") -> date:
    value = text.strip()
    try:
        if _ISO_DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        raise Refused(f"{what} {value!r} is not a real date") from None
    raise Refused(f"{what} {value!r} is not a date in the form YYYY-MM-DD")


def parse_amount(text: str) -> Decimal:
    """A positive amount with at most two decimals, exactly."""
    value = text.strip()
    meant = separated_amount(value)
    if meant is not None:
        raise Refused(f"{text!r} is not an amount: {SEPARATORS_HINT}: {meant}")
    if not _AMOUNT.fullmatch(value):
        raise Refused(f"{text!r} is not an amount: write it like 1220.00 (digits, a dot for "
                      "decimals, at most two decimals, no thousands separator)")
    amount = Decimal(value)
    if amount <= 0:
        raise Refused(f"the amount must be more than zero, found {value}")
    return amount


def refuse_overpayment(case: Case, payment: Payment, config: Config) -> None:
    """Refuse a payment larger than all the case owes on its day (a slip: 5000 for 500):
    every residual capital, the interest accrued and unpaid, and the compensation, less what
    earlier payments left unapplied."""
    owed = interest_for_case(case, interest_context(config.interest, payment.date))
    capital = sum((i.capital for i in owed.invoices), Decimal(0))
    limit = max(capital + owed.interest + owed.compensation - owed.unapplied, Decimal(0))
    if payment.amount > limit:
        raise Refused(f"a payment of {payment.amount:.2f} is more than the case owes on "
                      f"{payment.date}: {limit:.2f} (capital {capital:.2f}, interest "
                      f"{owed.interest:.2f}, compensation {owed.compensation:.2f}"
                      + (f", less {owed.unapplied:.2f} paid beyond them" if owed.unapplied
                         else "")
                      + "); check the amount, or record it anyway with --overpayment")


def channel_id(word: str) -> str:
    channel = resolve_channel(word)
    if channel is None:
        raise Refused(f"unknown channel {word!r}{did_you_mean(word, CHANNELS)}; "
                      f"use one of {', '.join(CHANNELS)}")
    return channel


def step_id(word: str, policy: Policy) -> str:
    step = policy.resolve(word.rstrip(":"))
    if step is None:
        raise Refused(f"unknown step {word!r}{did_you_mean(word, policy.words())}; the steps "
                      f"of this case's policy: {', '.join(s.id for s in policy.steps)}")
    return step


def invoice_of(case: Case, number: str) -> str:
    """`number` when it is an invoice of the case."""
    numbers = [i.number for i in case.invoices]
    if number not in numbers:
        known = ", ".join(numbers) or "it has none"
        raise Refused(f"{number!r} is not an invoice of this case"
                      f"{did_you_mean(number, numbers)}; its invoices: {known}")
    return number


def one_line(text: str | None, what: str) -> str | None:
    """Free text for one line (a method, a reason, a title); None when absent or blank."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    if any(_is_break_or_control(char) for char in value):
        raise Refused(f"{what} must be one line of text without control characters")
    return value


def clean_note(text: str) -> str:
    """The note as it will read back: line ends normalised, blank lines around it removed."""
    value = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in value.split("\n")]
    value = "\n".join(lines).strip("\n")
    if any(_is_break_or_control(char) for char in value if char not in "\n\t"):
        raise Refused("the message contains control characters")
    return value


def strip_comments(text: str) -> str:
    """An editor's message without its `#` lines, as `git commit` does."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("#"))


def _is_break_or_control(char: str) -> bool:
    return char == BOM or unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp")
