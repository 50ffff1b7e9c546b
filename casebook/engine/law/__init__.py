"""The laws casebook computes late-payment interest under, by country code.

A country is one module beside `it.py` that builds a `Law` (`base.py`), its rows in a file of
casebook/data/, and one line in `LAWS`. `InterestSettings.law` picks the law; casebook.yml has no
key for it yet, so every casebook is under Italian law. This package never computes interest:
`casebook.engine.interest` does, under whichever law the context carries.
"""

from __future__ import annotations

from datetime import date

from casebook.engine.law.base import Law, RateTable, Shipped
from casebook.engine.law.it import ITALY
from casebook.engine.law.tables import InterestContext, build_context
from casebook.model import InterestSettings

__all__ = ["LAWS", "InterestContext", "Law", "RateTable", "interest_context", "law_named"]

LAWS: dict[str, Law] = {
    ITALY.code: ITALY,
}


def law_named(code: str) -> Law:
    """The law registered under `code`; KeyError naming the known ones otherwise."""
    try:
        return LAWS[code]
    except KeyError:
        raise KeyError(f"no law {code!r}; known: {', '.join(sorted(LAWS))}") from None


def interest_context(
    settings: InterestSettings, until: date, shipped: Shipped | None = None
) -> InterestContext:
    """The tables every case of one casebook shares at `until`, under the settings' law.

    `shipped` replaces the law's own rows: one tuple per table of the law, in its order.
    """
    return build_context(law_named(settings.law), settings, until, shipped)
