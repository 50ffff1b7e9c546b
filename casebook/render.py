"""Templates: the Jinja2 environment, its filters and the labels of the interface.

The shipped templates live in the package (`casebook/templates/`); a template of the same name
in the casebook's own `templates/` folder overrides it. Autoescape is always on: every string
from a case file is escaped unless it went through `markdown.render_markdown`. Money and dates
are formatted by Babel in the casebook's locale. Nothing here reads the clock.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import yaml

LOCALES = {"it": "it_IT", "en": "en_GB"}
CENT = Decimal("0.01")


@lru_cache(maxsize=4)
def labels(locale: str) -> dict[str, str]:
    """The interface strings of a locale (`data/labels.yml`), English as the fallback."""
    text = resources.files("casebook").joinpath("data/labels.yml").read_text("utf-8")
    table: dict[str, dict[str, str]] = yaml.load(text, Loader=yaml.CSafeLoader)
    merged = dict(table.get("en", {}))
    merged.update(table.get(locale, {}))
    return merged


class Labels(dict[str, str]):
    """Interface labels; a missing key shows as itself rather than failing the page."""

    def __missing__(self, key: str) -> str:
        return key


class Formats:
    """Babel formatting for one locale, exposed to templates as filters.

    Babel decides every convention; since a site formats tens of thousands of amounts, the
    separators and currency placement Babel uses are read once from a sample and applied with
    Python's own formatting, after checking that both agree (else Babel formats every amount).
    """

    SAMPLES = ("0", "0.5", "7", "12.30", "999.99", "1000", "1234.56", "1234567.89",
               "-5.25", "-1234.5")

    def __init__(self, locale: str, currency: str) -> None:
        from babel import Locale

        self.locale = Locale.parse(LOCALES.get(locale, locale))
        self.currency = currency
        self._dates: dict[tuple[date, str], str] = {}
        self._money_layout = self._learn(lambda v: self._babel_money(v))
        self._number_layout = self._learn(lambda v: self._babel_number(v))

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

    def money(self, amount: Decimal | None) -> str:
        if amount is None:
            return ""
        value = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
        if self._money_layout is None:
            return self._babel_money(value)
        return self._apply(self._money_layout, value)

    def number(self, amount: Decimal | None) -> str:
        """An amount without the currency sign, for table columns."""
        if amount is None:
            return ""
        value = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
        if self._number_layout is None:
            return self._babel_number(value)
        return self._apply(self._number_layout, value)

    def percent(self, rate: Decimal) -> str:
        from babel.numbers import format_decimal

        return f"{format_decimal(rate, format='0.00', locale=self.locale)}\u00a0%"

    def _date(self, day: date, pattern: str) -> str:
        key = (day, pattern)
        found = self._dates.get(key)
        if found is None:
            from babel.dates import format_date

            found = self._dates[key] = str(format_date(day, pattern, locale=self.locale))
        return found

    def date_long(self, day: date | None) -> str:
        return "" if day is None else self._date(day, "long")

    def date_short(self, day: date | None) -> str:
        return "" if day is None else self._date(day, "dd/MM/yyyy")


def template_dirs(root: Path | None) -> list[str]:
    """The casebook's own templates first, then the shipped ones."""
    shipped = str(resources.files("casebook").joinpath("templates"))
    if root is not None and (root / "templates").is_dir():
        return [str(root / "templates"), shipped]
    return [shipped]


def environment(root: Path | None, locale: str, currency: str) -> jinja2.Environment:
    shipped = template_dirs(None)[0]
    loader = jinja2.ChoiceLoader([
        jinja2.FileSystemLoader(template_dirs(root)),
        # `shipped/NAME` always names the packaged template, so an override can extend it.
        jinja2.PrefixLoader({"shipped": jinja2.FileSystemLoader(shipped)}),
    ])
    env = jinja2.Environment(
        loader=loader,
        auto_reload=False,  # one environment serves one build
        bytecode_cache=_bytecode_cache(root),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    formats = Formats(locale, currency)
    env.filters.update({
        "money": formats.money,
        "number": formats.number,
        "percent": formats.percent,
        "date_long": formats.date_long,
        "date_short": formats.date_short,
    })
    texts = Labels(labels(locale))
    # `T[key]` is a plain lookup, far cheaper in a template than calling a function;
    # `t(key)` stays for user templates written against it.
    env.globals.update({"T": texts, "t": texts.__getitem__, "locale": locale,
                        "currency": currency})
    return env


def _bytecode_cache(root: Path | None) -> jinja2.BytecodeCache | None:
    """Compiled templates kept in the casebook's cache folder, so a build compiles only what
    changed (the cache is keyed by each template's source)."""
    if root is None:
        return None
    folder = root / ".casebook-cache" / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


def render(env: jinja2.Environment, name: str, **context: Any) -> str:
    return env.get_template(name).render(**context)
