"""Why an action: the reason as facts, and the sentence that says it to a script or a person.

A rule gives its reason as clauses, each a message key and typed facts (Decimal amounts, dates,
step ids, counts, the user's own words); a sentence is its clauses' texts in a row. The wording
of every key, in English and Italian, is data (`data/reasons.yml`), compiled once per process.
`for_scripts()` says it in English with ISO dates and plain amounts, as `next --json` gives it;
`for_people(locale, currency)` in the casebook's locale, with the dashboard's own formats
(`render.Formats`) and the steps' names. Nothing here decides an action or reads the clock.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

Value = Decimal | date | int | str | None
Format = Callable[[Any], str]
# a compiled sentence: the text with a bare `{}` for each fact, and each fact's name and writer
Compiled = tuple[str, tuple[tuple[str, Format], ...]]


# One key of `reasons.yml` and the facts its sentence names: a plain pair, since every
# action makes one or more of them.
Clause = tuple[str, dict[str, Value]]
Reason = tuple[Clause, ...]


def clause(key: str, **facts: Value) -> Clause:
    return key, facts


def money(amount: Decimal) -> str:
    """An amount as scripts and the terminal read it: "1,220.00"."""
    return f"{amount:,.2f}"


@lru_cache(maxsize=4)
def sentences(locale: str) -> dict[str, str]:
    """The sentences of a locale, English where the locale has none."""
    from casebook.read.datafiles import plain, read_data

    table: dict[str, dict[str, str]] = read_data("reasons.yml", plain)
    own = table.get(locale, {})
    merged = dict(table["en"])
    if any(key.startswith("ordinal.") for key in own):  # ordinals go by the locale's own rule
        merged = {key: text for key, text in merged.items() if not key.startswith("ordinal.")}
    merged.update(own)
    return merged


class Voice:
    """The sentences of one locale, with one way of writing amounts, dates and steps."""

    def __init__(self, locale: str, *, money: Callable[[Decimal], str],
                 day: Callable[[date], str], step: Callable[[str], str],
                 names: Mapping[str, str] | None = None) -> None:
        self._money, self._day = money, day
        self._names = names or {}
        self._formats: dict[str, Format] = {"": self._value, "step": step,
                                            "ordinal": self._ordinal}
        self._compiled = {key: self._compile(text) for key, text in sentences(locale).items()}

    def say(self, reason: Reason) -> str:
        if len(reason) == 1:
            return self.fill(*reason[0])
        return "".join([self.fill(key, facts) for key, facts in reason])

    def fill(self, key: str, facts: Mapping[str, Value]) -> str:
        """The sentence of `key` with `facts` in its braces."""
        text, fields = self._compiled[key]
        return text.format(*[write(facts[name]) for name, write in fields])

    def name(self, prefix: str, value: str) -> str:
        """The interface's name of a value (`name("status.", "overdue")`), or the value itself
        where the labels have none."""
        return self._names.get(prefix + value, value)

    def _compile(self, text: str) -> Compiled:
        """`text` made ready for `str.format`, since a sentence is filled once per case: its
        literal braces doubled, each fact a bare `{}` and its writer chosen once."""
        parts, fields = [], []
        for literal, name, spec, _ in string.Formatter().parse(text):
            parts.append(literal.replace("{", "{{").replace("}", "}}"))
            if name is not None:
                parts.append("{}")
                fields.append((name, self._format(spec or "")))
        return "".join(parts), tuple(fields)

    def _format(self, spec: str) -> Format:
        if "|" in spec:  # "day|days": the count with its noun
            one, other = spec.split("|", 1)
            return lambda n: f"{n or 0} {one if n == 1 else other}"
        return self._formats[spec]

    def _value(self, value: Value) -> str:
        if value.__class__ is Decimal:
            return self._money(value)
        if value.__class__ is date:
            return self._day(value)
        return str(value)

    def _ordinal(self, n: int) -> str:
        key = f"ordinal.{n}"
        return self.fill(key if key in self._compiled else "ordinal.other", {"n": n})


@lru_cache(maxsize=1)
def for_scripts() -> Voice:
    """English with ISO dates, amounts like "1,220.00" and step ids: `next --json`'s reasons."""
    return Voice("en", money=money, day=date.isoformat, step=str)


@lru_cache(maxsize=8)
def for_people(locale: str, currency: str) -> Voice:
    """The casebook's locale, with the amounts and dates of its dashboard and the steps' names
    of its labels (a step without one keeps its id)."""
    from casebook.engine.words import Formats, labels

    formats = Formats(locale, currency)
    names = labels(locale)
    steps: dict[str, str] = {}

    def step(step_id: str) -> str:
        found = steps.get(step_id)
        if found is None:
            found = steps[step_id] = _in_a_sentence(names.get(f"action.{step_id}", step_id))
        return found

    return Voice(locale, money=formats.money, day=formats.date_short, step=step, names=names)


def _in_a_sentence(name: str) -> str:
    """A label as it reads inside a sentence: "Sollecito scritto" → "sollecito scritto", but
    "PEC" stays as it is."""
    if len(name) > 1 and name[0].isupper() and name[1].islower():
        return name[0].lower() + name[1:]
    return name


def message(locale: str, key: str) -> str:
    """A sentence without facts (a banner, a note), in the locale."""
    return sentences(locale)[key]
