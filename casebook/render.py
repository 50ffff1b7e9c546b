"""Templates: the Jinja2 environment, its filters and the labels of the interface.

The shipped templates live in the package (`casebook/templates/`); a template of the same name
in the casebook's own `templates/` folder overrides it. Autoescape is always on: every string
from a case file is escaped unless it went through `markdown.render_markdown`. Money and dates
are formatted by Babel in the casebook's locale. Nothing here reads the clock.
"""

from __future__ import annotations

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


class Formats:
    """Babel formatting for one locale, exposed to templates as filters."""

    def __init__(self, locale: str, currency: str) -> None:
        self.locale = LOCALES.get(locale, locale)
        self.currency = currency

    def money(self, amount: Decimal | None) -> str:
        from babel.numbers import format_currency

        if amount is None:
            return ""
        value = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
        return str(format_currency(value, self.currency, locale=self.locale))

    def number(self, amount: Decimal | None) -> str:
        """An amount without the currency sign, for table columns."""
        from babel.numbers import format_decimal

        if amount is None:
            return ""
        value = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
        return str(format_decimal(value, format="#,##0.00", locale=self.locale))

    def percent(self, rate: Decimal) -> str:
        from babel.numbers import format_decimal

        return f"{format_decimal(rate, format='0.00', locale=self.locale)}\u00a0%"

    def date_long(self, day: date | None) -> str:
        from babel.dates import format_date

        return "" if day is None else str(format_date(day, "long", locale=self.locale))

    def date_short(self, day: date | None) -> str:
        from babel.dates import format_date

        return "" if day is None else str(format_date(day, "dd/MM/yyyy", locale=self.locale))


def template_dirs(root: Path | None) -> list[str]:
    """The casebook's own templates first, then the shipped ones."""
    shipped = str(resources.files("casebook").joinpath("templates"))
    if root is not None and (root / "templates").is_dir():
        return [str(root / "templates"), shipped]
    return [shipped]


def environment(root: Path | None, locale: str, currency: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dirs(root), followlinks=False),
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
    texts = labels(locale)
    env.globals.update({"t": lambda key: texts.get(key, key), "locale": locale,
                        "currency": currency})
    return env


def render(env: jinja2.Environment, name: str, **context: Any) -> str:
    return env.get_template(name).render(**context)
