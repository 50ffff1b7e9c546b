"""Templates: the Jinja2 environment, its filters and the labels of the interface.

The shipped templates live in the package (`casebook/templates/`); a template of the same name
in the casebook's own `templates/` folder overrides it. Autoescape is always on: every string
from a case file is escaped unless it went through `markdown.render_markdown`. Money and dates
are formatted by Babel in the casebook's locale. Nothing here reads the clock.
"""

from __future__ import annotations

import re
import textwrap
from bisect import bisect_right
from collections.abc import Callable, Hashable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from itertools import accumulate
from operator import methodcaller
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from casebook.read.datafiles import plain, read_data
from casebook.read.discover import template_dirs
from casebook.site.sandbox import ContainedLoader, Sandbox, bytecode_cache, own_templates

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
        self.date_tag = Memo(self._date_tag).__getitem__
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

    def _date_tag(self, day: date) -> Markup:
        """A day as a page shows it: `<time datetime="2026-11-20">20/11/2026</time>`, for
        `{{ d|date_tag }}`. A filter, not a macro: a case page shows dozens of days, and a
        macro call costs many times its output."""
        return Markup('<time datetime="{}">{}</time>').format(day.isoformat(),
                                                              self.date_short(day))

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


def iban(code: str) -> str:
    """An IBAN in groups of four: "IT60 X054 2811 1010 0000 0123 456"."""
    code = str(code).replace(" ", "").upper()
    return " ".join([code[i:i + 4] for i in range(0, len(code), 4)])


def _nonblank_lines(text: str | None) -> tuple[str, ...]:
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


# -- wrapping plain text ---------------------------------------------------------------------

_split_simple = textwrap.TextWrapper.wordsep_simple_re.split
_split_hyphens = textwrap.TextWrapper.wordsep_re.split


def _wrap_line(line: str, width: int, break_on_hyphens: bool) -> list[str]:
    """`textwrap.wrap(line, width, expand_tabs=False, replace_whitespace=False,
    break_long_words=False, break_on_hyphens=…)`, line for line: the same chunks and the same
    greedy filling, with a line's end found by bisection rather than chunk by chunk."""
    if not line:
        return []
    if len(line) <= width and not line[-1].isspace():
        return [line]  # fits whole; its last chunk is no whitespace, which wrap would drop
    if (not break_on_hyphens and line.isprintable() and "  " not in line
            and line[0] != " " and line[-1] != " "):
        # Words between single spaces: isprintable() rules out every other whitespace.
        return _wrap_words(line.split(" "), width)
    chunks = list(filter(None, (_split_hyphens if break_on_hyphens else _split_simple)(line)))
    ends = list(accumulate(map(len, chunks), initial=0))  # ends[i]: length of chunks[:i]
    count = len(chunks)
    lines: list[str] = []
    start = 0
    while start < count:
        if lines and not chunks[start].strip():
            start += 1  # whitespace opening a line after the first is dropped
            if start == count:
                break
        stop = bisect_right(ends, ends[start] + width, start) - 1  # chunks[start:stop] fit
        if stop == start and stop < count:
            stop += 1  # a chunk longer than the line, alone on its line
        end = stop - 1 if not chunks[stop - 1].strip() else stop  # no trailing whitespace
        if end > start:
            lines.append("".join(chunks[start:end]))
        start = stop
    return lines


def _wrap_words(words: list[str], width: int) -> list[str]:
    """`_wrap_line` for words separated by single spaces, as in a paragraph of a letter: a line
    takes the words whose length, with the spaces between them, fits the width; a longer word
    stands alone."""
    # ends[i]: the length of words[:i], each word with the space after it
    ends = list(accumulate(map((1).__add__, map(len, words)), initial=0))
    lines = []
    start, count = 0, len(words)
    while start < count:
        stop = bisect_right(ends, ends[start] + width + 1, start) - 1
        stop = max(stop, start + 1)
        lines.append(" ".join(words[start:stop]))
        start = stop
    return lines


def wrap(text: str, width: int = 76, break_on_hyphens: bool = True) -> str:
    """Jinja's `wordwrap(width, break_long_words=false, break_on_hyphens=…)`, byte for byte
    (a word longer than the line stays whole), without `textwrap`'s chunk-by-chunk loop."""
    if width < 1:  # textwrap's own error
        return "\n".join(textwrap.fill(line, width) for line in str(text).splitlines())
    return "\n".join(["\n".join(_wrap_line(line, width, break_on_hyphens))
                      for line in str(text).splitlines()])


def para(text: str) -> str:
    """A paragraph of a plain-text letter: its lines joined, wrapped at 76 columns without
    breaking words or hyphens, and ended by a newline. For `{% filter para %}`."""
    return wrap(str(text).strip().replace("\n", " "), 76, False) + "\n"


def bullet(text: str) -> str:
    """An item of a plain-text list: "- " and the text as one paragraph, the lines after the
    first indented by two spaces, and a newline. For `{% filter bullet %}`."""
    lines = wrap("- " + str(text).strip().replace("\n", " "), 76, False).split("\n")
    return "\n".join([lines[0]] + ["  " + line if line else line for line in lines[1:]]) + "\n"


def environment(root: Path | None, locale: str, currency: str, *, text: bool = False
                ) -> jinja2.Environment:
    """The templates' environment: HTML-escaping, or for the plain-text letters (`text`)
    with each value made plain (`plain_value`) instead.

    Jinja's sandbox when the casebook has a `templates/` folder of its own, whose templates
    someone else may have written; without one, every template is casebook's own, and Jinja's
    plain environment renders them without the sandbox's inspection of each value."""
    folders = template_dirs(root)
    shipped = template_dirs(None)[0]
    loader = jinja2.ChoiceLoader([
        ContainedLoader(folders),
        # `shipped/NAME` always names the packaged template, so an override can extend it.
        jinja2.PrefixLoader({"shipped": ContainedLoader(shipped)}),
    ])
    kind = Sandbox if own_templates(folders) else jinja2.Environment
    env = kind(
        loader=loader,
        auto_reload=False,  # one environment serves one build
        autoescape=not text,
        finalize=plain_value if text else None,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.bytecode_cache = bytecode_cache(env)
    formats = Formats(locale, currency)
    texts = Labels(labels(locale))

    def label(value: str, prefix: str) -> str:
        """The label of a value, or the value itself when the labels have none (custom steps
        and channels): `entry.channel|label("channel.")`."""
        key = f"{prefix}{value}"
        text = texts.get(key)
        return value if text is None or text == key else text

    env.filters.update({
        "money": formats.money,
        "number": formats.number,
        "percent": formats.percent,
        "date_long": formats.date_long,
        "date_short": formats.date_short,
        "date_tag": formats.date_tag,
        "date_words": formats.date_words,
        "iso": methodcaller("isoformat"),  # `d|iso` is `d.isoformat()`, without a call in Jinja
        "iban": iban,
        # the lines of an address, stripped, without the blank ones
        "nonblank_lines": Memo(_nonblank_lines).__getitem__,
        "label": label,
        "wrap": wrap,
        "para": para,
        "bullet": bullet,
    })
    # `T[key]` is a plain lookup, far cheaper in a template than calling a function;
    # `t(key)` stays for user templates written against it.
    env.globals.update({"T": texts, "t": texts.__getitem__, "locale": locale,
                        "currency": currency})
    return env


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain_value(value: Any) -> Any:
    """A value as a plain-text letter may show it: line ends made `\\n`, and every other
    control character (an ESC that would recolour a terminal, a CR that would overwrite a
    line) shown as U+FFFD. Text without such characters passes as it is."""
    if value.__class__ is not str or value.isprintable():
        return value
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("\ufffd", text)


def render(env: jinja2.Environment, name: str, **context: Any) -> str:
    return env.get_template(name).render(**context)
